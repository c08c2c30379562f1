// facepost/params.hpp - post-processing parameters and the mapping back to the original image.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>

#include "facepost/anchors.hpp"
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

/// Where a letterboxed image sits in the network input.
enum class LetterboxAnchor {
  centre,    ///< padding split over both sides, the smaller half left/top: left = floor((input - resized) / 2)
             ///< (YOLOv5's round(dw/2 - 0.1)), right = the rest; top and bottom likewise
  top_left,  ///< the image at (0, 0), all padding right and bottom (insightface SCRFD)
};

struct Letterbox;

/// Maps network-input pixels to original-image pixels: out = (in - pad) / scale, per axis.
/// The reference `resize` factor is scale = resize, pad = 0 (bit-identical to `x / resize`).
/// The mapping is applied while decoding, before NMS: NMS runs in original-image pixels, as the
/// reference detect.py (which divides the boxes by `resize` before py_cpu_nms); clip_to after NMS.
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
  /// Exact-scale letterbox of an original of ow x oh into a network input of iw x ih: one scale
  /// s for both axes and fractional padding, as an affine warp makes it (MediaPipe's
  /// keep_aspect_ratio). Arithmetic: the axis that limits the scale is found exactly (iw*oh vs
  /// ih*ow in 64-bit integers; width on a tie); s is that axis' input/original, one float32
  /// division; the pad of the limiting axis is exactly +0, the other one (centre anchor) is
  /// (input - original * s_exact) / 2 with the exact ratio s_exact, as one fraction of integers
  /// divided in double and rounded once to float: never negative, never -0.0 (1920x1080 into
  /// 640x640: +0 and 140). top_left: both pads +0. A pipeline that rounds the resized size to
  /// integers (cv::resize) is Letterbox::fit / letterbox_integer, not this.
  /// Sizes must pass validate_letterbox_sizes; otherwise every field is NaN and validate_mapping
  /// (so every run) refuses the mapping with bad_mapping.
  FACEPOST_ABI_TAG static ImageMapping letterbox_fit(int ow, int oh, int iw, int ih,
                                                     LetterboxAnchor anchor = LetterboxAnchor::centre) noexcept;
  /// Integer letterbox (Letterbox::fit(ow, oh, iw, ih, anchor).mapping()): the mapping of the
  /// resized size rounded to integers and integer padding, exact for an image resized to
  /// Letterbox::fit's resized size. Bad sizes: NaN fields, as letterbox_fit.
  FACEPOST_ABI_TAG static ImageMapping letterbox_integer(int ow, int oh, int iw, int ih,
                                                         LetterboxAnchor anchor = LetterboxAnchor::centre) noexcept;
  /// Clamp detections (boxes and landmarks) to the original image; applied after NMS.
  FACEPOST_ABI_TAG ImageMapping& clip_to(float width, float height) noexcept {
    clip = true;
    image_width = width;
    image_height = height;
    return *this;
  }
};

/// An integer letterbox, as cv::resize pipelines make it: the original (original_width x
/// original_height) resized to resized_width x resized_height, pasted at (pad_left, pad_top)
/// into the network input (input_width x input_height), the rest filled.
///
/// Letterbox::fit computes it as YOLOv5's letterbox (fixed new_shape, auto=False): r =
/// min(iw/ow, ih/oh) in double; resized = round(original * r) per axis in double, ties to even
/// (Python's round(), not std::lround: 721 * 0.5 = 360.5 gives 360), kept in [1, input]; the
/// padding is input - resized per axis, split by the anchor. Give cv::resize that resized size
/// (cv::Size(resized_width, resized_height)). A pipeline that rounds another way (insightface
/// SCRFD truncates with int()) fills the fields itself; mapping() is exact for any of them.
struct Letterbox {
  int original_width = 0, original_height = 0;
  int input_width = 0, input_height = 0;
  int resized_width = 0, resized_height = 0;  ///< the size to resize the original to
  int pad_left = 0, pad_top = 0;              ///< where the resized image starts in the input

  FACEPOST_ABI_TAG int pad_right() const noexcept { return input_width - resized_width - pad_left; }
  FACEPOST_ABI_TAG int pad_bottom() const noexcept { return input_height - resized_height - pad_top; }

  /// The mapping back: scale = resized / original per axis (the scale the resize applied, one
  /// float32 division each), pad = (pad_left, pad_top).
  FACEPOST_ABI_TAG ImageMapping mapping() const noexcept {
    return ImageMapping::letterbox(float(resized_width) / float(original_width),
                                   float(resized_height) / float(original_height), float(pad_left),
                                   float(pad_top));
  }

  /// The integer letterbox of an original of ow x oh into an input of iw x ih (see above).
  /// bad_size / size_overflow for sizes outside [1, kMaxInputSide], bad_argument for an anchor
  /// that names no enumerator; `out` is unchanged then.
  FACEPOST_ABI_TAG static Status try_fit(int ow, int oh, int iw, int ih, LetterboxAnchor anchor,
                                         Letterbox& out) noexcept;
  /// The same; throws facepost::Error.
  FACEPOST_ABI_TAG static Letterbox fit(int ow, int oh, int iw, int ih,
                                        LetterboxAnchor anchor = LetterboxAnchor::centre);
};

FACEPOST_ABI_BEGIN
namespace detail {

/// x rounded to the nearest integer, ties to even (Python's round()), for 0 <= x < 2^31.
inline int round_half_even(double x) noexcept {
  const double f = std::floor(x);
  const double frac = x - f;  // exact
  int n = static_cast<int>(f);
  if (frac > 0.5 || (frac == 0.5 && n % 2 != 0)) ++n;
  return n;
}

inline Status validate_letterbox_side(const char* what, int w, int h) noexcept {
  if (w <= 0 || h <= 0)
    return Status::failure(Errc::bad_size, "letterbox %s size %dx%d: width and height must be positive", what, w, h);
  if (w > kMaxInputSide || h > kMaxInputSide)
    return Status::failure(Errc::size_overflow, "letterbox %s size %dx%d: each side must be at most %d", what, w, h,
                           kMaxInputSide);
  return Status{};
}

inline ImageMapping nan_mapping() noexcept {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  return ImageMapping{nan, nan, nan, nan};
}

}  // namespace detail

/// Checks the sizes of a letterbox: original ow x oh and input iw x ih, every side in
/// [1, kMaxInputSide] (bad_size below, size_overflow above).
inline Status validate_letterbox_sizes(int ow, int oh, int iw, int ih) noexcept {
  Status s = detail::validate_letterbox_side("original", ow, oh);
  if (s.ok()) s = detail::validate_letterbox_side("input", iw, ih);
  return s;
}

/// Checks a Letterbox filled by hand: its sizes, and the resized image inside the input.
inline Status validate_letterbox(const Letterbox& lb) noexcept {
  Status s = validate_letterbox_sizes(lb.original_width, lb.original_height, lb.input_width, lb.input_height);
  if (!s.ok()) return s;
  if (lb.resized_width < 1 || lb.resized_height < 1 || lb.pad_left < 0 || lb.pad_top < 0 ||
      lb.resized_width > lb.input_width - lb.pad_left || lb.resized_height > lb.input_height - lb.pad_top)
    return Status::failure(Errc::bad_size, "letterbox: a %dx%d image at (%d, %d) does not fit the %dx%d input",
                           lb.resized_width, lb.resized_height, lb.pad_left, lb.pad_top, lb.input_width,
                           lb.input_height);
  return s;
}
FACEPOST_ABI_END

inline Status Letterbox::try_fit(int ow, int oh, int iw, int ih, LetterboxAnchor anchor, Letterbox& out) noexcept {
  Status s = validate_letterbox_sizes(ow, oh, iw, ih);
  if (!s.ok()) return s;
  if (anchor != LetterboxAnchor::centre && anchor != LetterboxAnchor::top_left)
    return Status::failure(Errc::bad_argument, "unknown letterbox anchor %d", int(anchor));
  const double r = std::min(double(iw) / double(ow), double(ih) / double(oh));
  Letterbox lb;
  lb.original_width = ow;
  lb.original_height = oh;
  lb.input_width = iw;
  lb.input_height = ih;
  // original * r <= input (up to one rounding of r); at least 1 px for extreme aspect ratios.
  lb.resized_width = std::min(std::max(detail::round_half_even(double(ow) * r), 1), iw);
  lb.resized_height = std::min(std::max(detail::round_half_even(double(oh) * r), 1), ih);
  if (anchor == LetterboxAnchor::centre) {
    lb.pad_left = (iw - lb.resized_width) / 2;
    lb.pad_top = (ih - lb.resized_height) / 2;
  }
  out = lb;
  return s;
}

inline Letterbox Letterbox::fit(int ow, int oh, int iw, int ih, LetterboxAnchor anchor) {
  Letterbox lb;
  throw_if_error(try_fit(ow, oh, iw, ih, anchor, lb));
  return lb;
}

inline ImageMapping ImageMapping::letterbox_fit(int ow, int oh, int iw, int ih, LetterboxAnchor anchor) noexcept {
  if (!validate_letterbox_sizes(ow, oh, iw, ih).ok() ||
      (anchor != LetterboxAnchor::centre && anchor != LetterboxAnchor::top_left))
    return detail::nan_mapping();
  // iw/ow <= ih/oh exactly <=> iw*oh <= ih*ow (every side < 2^21: the products fit easily).
  const std::int64_t wide = std::int64_t(iw) * oh, tall = std::int64_t(ih) * ow;
  const bool width_limits = wide <= tall;
  const float s = width_limits ? float(iw) / float(ow) : float(ih) / float(oh);
  ImageMapping m{s, s, 0.f, 0.f};
  if (anchor == LetterboxAnchor::centre) {
    // The other axis: (input - original * input'/original') / 2, as one exact fraction.
    if (width_limits) m.pad_y = float(double(tall - wide) / (2.0 * double(ow)));
    else m.pad_x = float(double(wide - tall) / (2.0 * double(oh)));
  }
  return m;
}

inline ImageMapping ImageMapping::letterbox_integer(int ow, int oh, int iw, int ih, LetterboxAnchor anchor) noexcept {
  Letterbox lb;
  if (!Letterbox::try_fit(ow, oh, iw, ih, anchor, lb).ok()) return detail::nan_mapping();
  return lb.mapping();
}

FACEPOST_ABI_BEGIN
inline Status validate_mapping(const ImageMapping& m) noexcept {
  if (!(std::isfinite(m.scale_x) && m.scale_x > 0.f && std::isfinite(m.scale_y) && m.scale_y > 0.f))
    return Status::failure(Errc::bad_mapping, "mapping scale (%g, %g) must be finite and positive%s",
                           double(m.scale_x), double(m.scale_y),
                           std::isnan(m.scale_x) || std::isnan(m.scale_y)
                               ? " (letterbox_fit and letterbox_integer give NaN for sizes outside [1, kMaxInputSide])"
                               : "");
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
