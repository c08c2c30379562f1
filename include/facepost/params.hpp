// facepost/params.hpp - post-processing parameters and the mapping back to the original image.
#pragma once

#include <cmath>
#include <cstddef>

#include "facepost/error.hpp"
#include "facepost/isa.hpp"

namespace facepost {

/// How IoU is measured (see README "Exactness").
enum class IouConvention {
  legacy_pixel,  ///< py_cpu_nms: widths are x2-x1+1, float32 threshold, NaN IoU suppresses
  continuous,    ///< torchvision.ops.nms: widths are x2-x1, IoU compared in double, NaN keeps
};

/// What the conf tensor holds.
enum class ScoreFormat {
  probabilities,  ///< softmax output; column 1 is the face score
  logits,         ///< raw two-class logits; thresholded in logit space, softmax only for candidates
};

/// Parameters of one post-processing call. Defaults are those of the reference detect.py.
struct Params {
  float score_threshold = 0.02f;  ///< keep scores strictly greater (compared in float32, as numpy)
  ScoreFormat score_format = ScoreFormat::probabilities;
  std::size_t top_k = 5000;       ///< best candidates kept before NMS; 0 = all
  double nms_threshold = 0.4;     ///< suppress when IoU > this
  IouConvention iou = IouConvention::legacy_pixel;
  std::size_t keep_top_k = 750;   ///< detections kept after NMS; 0 = all

  /// Everything unlimited (top_k and keep_top_k off), other values unchanged.
  FACEPOST_ABI_TAG Params& unlimited() noexcept {
    top_k = 0;
    keep_top_k = 0;
    return *this;
  }
};

FACEPOST_ABI_BEGIN
inline Status validate_params(const Params& p) noexcept {
  if (!(p.score_threshold >= 0.f && p.score_threshold <= 1.f))
    return Status::failure(Errc::bad_threshold, "score threshold %g is outside [0, 1]", double(p.score_threshold));
  if (!(p.nms_threshold >= 0.0 && p.nms_threshold <= 1.0))
    return Status::failure(Errc::bad_threshold, "NMS threshold %g is outside [0, 1]", p.nms_threshold);
  if (p.score_format != ScoreFormat::probabilities && p.score_format != ScoreFormat::logits)
    return Status::failure(Errc::bad_argument, "unknown score format %d", int(p.score_format));
  if (p.iou != IouConvention::legacy_pixel && p.iou != IouConvention::continuous)
    return Status::failure(Errc::bad_argument, "unknown IoU convention %d", int(p.iou));
  return Status{};
}
FACEPOST_ABI_END

/// Maps network-input pixels to original-image pixels: out = (in - pad) / scale, per axis.
/// The reference `resize` factor is scale = resize, pad = 0 (bit-identical to `x / resize`).
struct ImageMapping {
  float scale_x = 1.f, scale_y = 1.f;  ///< network pixels per original pixel
  float pad_x = 0.f, pad_y = 0.f;      ///< network pixels of padding before the image
  bool clip = false;                   ///< clamp outputs to [0, image_width] x [0, image_height]
  float image_width = 0.f, image_height = 0.f;

  /// The reference: the input is the original resized by `r` (input = original x r).
  FACEPOST_ABI_TAG static ImageMapping resize(float r) noexcept { return ImageMapping{r, r, 0.f, 0.f}; }
  /// Letterbox: the original scaled by (sx, sy), then padded by (px, py) at the left/top.
  FACEPOST_ABI_TAG static ImageMapping letterbox(float sx, float sy, float px, float py) noexcept {
    return ImageMapping{sx, sy, px, py};
  }
  /// Letterbox of an original of size ow x oh into a network input of iw x ih: one scale that
  /// fits the image, centred padding (pad = (input - scaled) / 2).
  FACEPOST_ABI_TAG static ImageMapping letterbox_fit(int ow, int oh, int iw, int ih) noexcept {
    const float s = std::fmin(float(iw) / float(ow), float(ih) / float(oh));
    return ImageMapping{s, s, (float(iw) - float(ow) * s) * 0.5f, (float(ih) - float(oh) * s) * 0.5f};
  }
  /// Clamp detections (boxes and landmarks) to the original image; applied after NMS.
  FACEPOST_ABI_TAG ImageMapping& clip_to(float width, float height) noexcept {
    clip = true;
    image_width = width;
    image_height = height;
    return *this;
  }
};

FACEPOST_ABI_BEGIN
inline Status validate_mapping(const ImageMapping& m) noexcept {
  if (!(std::isfinite(m.scale_x) && m.scale_x > 0.f && std::isfinite(m.scale_y) && m.scale_y > 0.f))
    return Status::failure(Errc::bad_mapping, "mapping scale (%g, %g) must be finite and positive", double(m.scale_x),
                           double(m.scale_y));
  if (!(std::isfinite(m.pad_x) && std::isfinite(m.pad_y)))
    return Status::failure(Errc::bad_mapping, "mapping padding (%g, %g) must be finite", double(m.pad_x),
                           double(m.pad_y));
  if (m.clip && !(std::isfinite(m.image_width) && m.image_width > 0.f && std::isfinite(m.image_height) &&
                  m.image_height > 0.f))
    return Status::failure(Errc::bad_size, "clip image size %gx%g must be finite and positive",
                           double(m.image_width), double(m.image_height));
  return Status{};
}

FACEPOST_ABI_END
}  // namespace facepost
