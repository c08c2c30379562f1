// facepost/families/scrfd.hpp - insightface's SCRFD: per-stride outputs (8, 16, 32), two anchors
// a cell, distance decode, `score >= threshold`, greedy +1 NMS in original-image pixels, max_num.
// Exactly `SCRFD.forward` + `SCRFD.detect` of insightface's scrfd.py (tests/data/families/README.md).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>

#include "facepost/anchors.hpp"
#include "facepost/dispatch.hpp"
#include "facepost/arith/arith.hpp"
#include "facepost/error.hpp"
#include "facepost/families/family.hpp"
#include "facepost/filter.hpp"
#include "facepost/isa.hpp"
#include "facepost/params.hpp"
#include "facepost/tensor.hpp"

namespace facepost {

/// SCRFD's three strides, in the order of its outputs.
constexpr int kScrfdStrides[3] = {8, 16, 32};
constexpr std::size_t kScrfdAnchors = 2;  ///< anchors per cell, sharing its centre

/// The outputs of one frame, per stride 8, 16, 32: scores [N_s,1] (probabilities), box
/// distances [N_s,4] (left, top, right, bottom, in strides) and keypoints [N_s,10]. A model
/// without keypoints leaves every `kps` empty.
struct ScrfdHeads {
  TensorView score[3];
  TensorView bbox[3];
  TensorView kps[3];
};

/// Defaults are insightface's (`det_thresh` 0.5, `nms_thresh` 0.4, `max_num` 0).
struct ScrfdParams {
  float threshold = 0.5f;      ///< keep scores >= this (float32, as numpy)
  double nms_threshold = 0.4;  ///< suppress when the +1 IoU > float32(this)
  std::size_t max_num = 0;     ///< keep the max_num largest, most central faces; 0 = no limit
};

/// How SCRFD.detect resizes an image into the network input: aspect kept, placed top-left.
struct ScrfdResize {
  int width = 0, height = 0;  ///< the resized image (cv::resize to this), at the input's top left
  double scale = 0.0;         ///< det_scale: resized height / image height
  /// The mapping back to the image (numpy divides by float32(det_scale)).
  FACEPOST_ABI_TAG ImageMapping mapping() const noexcept { return ImageMapping::resize(float(scale)); }
};

FACEPOST_ABI_BEGIN

/// SCRFD.detect's resize of an `image` into `input`, in its double arithmetic; sizes must be
/// positive (validate first: an empty size gives an all-zero result).
inline ScrfdResize scrfd_resize(InputSize image, InputSize input) noexcept {
  ScrfdResize r;
  if (image.width <= 0 || image.height <= 0 || input.width <= 0 || input.height <= 0) return r;
  const double im_ratio = double(image.height) / double(image.width);
  const double model_ratio = double(input.height) / double(input.width);
  if (im_ratio > model_ratio) {
    r.height = input.height;
    r.width = int(double(r.height) / im_ratio);
  } else {
    r.width = input.width;
    r.height = int(double(r.width) * im_ratio);
  }
  r.scale = double(r.height) / double(image.height);
  return r;
}

namespace detail {

/// Rows of one stride's outputs: (H/s) * (W/s) cells, two anchors each.
inline std::size_t scrfd_rows(InputSize input, int stride) noexcept {
  return std::size_t(input.height / stride) * std::size_t(input.width / stride) * kScrfdAnchors;
}

inline Status validate_scrfd(const ScrfdHeads& h, InputSize input, const ScrfdParams& p, bool& with_kps) noexcept {
  Status s = check_unit_threshold(double(p.threshold), "SCRFD threshold");
  if (s.ok()) s = check_unit_threshold(p.nms_threshold, "SCRFD NMS threshold");
  if (s.ok()) s = check_input_multiple_of_32(input, "SCRFD", "its maps are input/stride");
  if (!s.ok()) return s;
  const bool any_kps = h.kps[0].address() || h.kps[1].address() || h.kps[2].address();
  with_kps = any_kps;
  for (int l = 0; l < 3; ++l) {
    const int stride = kScrfdStrides[l];
    const std::size_t rows = scrfd_rows(input, stride);
    struct Named {
      const TensorView* t;
      const char* name;
      std::size_t cols;
    };
    const Named heads[3] = {{&h.score[l], "score", 1}, {&h.bbox[l], "bbox", 4}, {&h.kps[l], "kps", 10}};
    for (const Named& n : heads) {
      if (n.cols == 10 && !any_kps) continue;
      if (n.t->address() == nullptr)
        return Status::failure(Errc::empty_tensor, "%s_%d tensor is missing%s", n.name, stride,
                               n.cols == 10 ? " (give every stride's kps, or none for a model without keypoints)"
                                            : "");
      char label[16];
      std::snprintf(label, sizeof label, "%s_%d", n.name, stride);
      if (Status e = validate_elements(*n.t, label); !e.ok()) return e;
      if (n.t->cols != n.cols)
        return Status::failure(Errc::bad_shape, "%s_%d tensor has %zu columns, expected %zu", n.name, stride,
                               n.t->cols, n.cols);
      if (n.t->rows != rows)
        return Status::failure(Errc::prior_count_mismatch,
                               "%s_%d tensor has %zu rows but input size %dx%d gives %zu anchors at stride %d "
                               "(are the strides in the order 8, 16, 32?)",
                               n.name, stride, n.t->rows, input.width, input.height, rows, stride);
    }
  }
  return Status{};
}

/// Candidate decode: the anchor centre (x*s, y*s), box corners centre -+ distance*s, keypoints
/// centre + offset*s, each product rounded (arith), then the mapping. False if a value is not finite.
inline bool scrfd_decode(const ScrfdHeads& h, int level, std::size_t r, InputSize input, bool with_kps,
                         const ImageMapping& m, float* row) noexcept {
  const int stride = kScrfdStrides[level];
  const std::size_t cells_x = std::size_t(input.width / stride), cell = r / kScrfdAnchors;
  const float s = float(stride);
  const float cx = float(std::size_t(stride) * (cell % cells_x)), cy = float(std::size_t(stride) * (cell / cells_x));
  float tmp[10];
  std::ptrdiff_t dc = 1;
  const float* d = row_values(h.bbox[level], r, tmp, dc);
  row[0] = arith::sub(cx, arith::mul(d[0], s));
  row[1] = arith::sub(cy, arith::mul(d[dc], s));
  row[2] = arith::add(cx, arith::mul(d[2 * dc], s));
  row[3] = arith::add(cy, arith::mul(d[3 * dc], s));
  row[4] = h.score[level](r, 0);
  const std::size_t cols = with_kps ? 15 : 5;
  if (with_kps) {
    std::ptrdiff_t kc = 1;
    const float* k = row_values(h.kps[level], r, tmp, kc);
    for (int j = 0; j < 5; ++j) {
      row[5 + 2 * j] = arith::add(cx, arith::mul(k[(2 * j) * kc], s));
      row[6 + 2 * j] = arith::add(cy, arith::mul(k[(2 * j + 1) * kc], s));
    }
  }
  map_row(row, cols, m);
  for (std::size_t c = 0; c < cols; ++c)
    if (!std::isfinite(row[c])) return false;
  return true;
}

/// max_num: the rows ordered by area - 2 * (squared distance of the box centre from the image
/// centre (W//2, H//2)), descending (ties: kept order; NaN first, as numpy), cut to max_num;
/// float32 as numpy.
inline void scrfd_select(FamilyBuffers& buf, std::size_t nk, std::size_t cols, InputSize image,
                         std::size_t max_num) noexcept {
  float* value = buf.x1.data();
  std::uint32_t* idx = buf.order.data();
  const float half_w = float(image.width / 2), half_h = float(image.height / 2);
  for (std::size_t j = 0; j < nk; ++j) {
    const float* row = buf.out_rows.data() + cols * j;
    const float area = arith::mul(arith::sub(row[2], row[0]), arith::sub(row[3], row[1]));
    const float ox = arith::sub(arith::div(arith::add(row[0], row[2]), 2.f), half_w);
    const float oy = arith::sub(arith::div(arith::add(row[1], row[3]), 2.f), half_h);
    const float dist2 = arith::add(arith::mul(ox, ox), arith::mul(oy, oy));
    value[j] = arith::sub(area, arith::mul(dist2, 2.f));
    idx[j] = static_cast<std::uint32_t>(j);
  }
  // numpy's argsort()[::-1] puts NaN values (inf - inf: boxes of infinite area) first.
  std::sort(idx, idx + nk, [&](std::uint32_t a, std::uint32_t b) {
    const bool nan_a = std::isnan(value[a]), nan_b = std::isnan(value[b]);
    if (nan_a != nan_b) return nan_a;
    return (!nan_a && value[a] > value[b]) || ((nan_a || value[a] == value[b]) && a < b);
  });
  for (std::size_t j = 0; j < max_num; ++j) {
    std::memcpy(buf.rows.data() + cols * j, buf.out_rows.data() + cols * idx[j], cols * sizeof(float));
    buf.keep[j] = buf.out_source[idx[j]];
  }
}

}  // namespace detail

/// SCRFD post-processing with reusable buffers: after the first frame of a size, no allocation.
class ScrfdPostprocessor {
 public:
  explicit ScrfdPostprocessor(ScrfdParams params = {}) : params_(params) {}
  const ScrfdParams& params() const noexcept { return params_; }
  void set_params(const ScrfdParams& p) noexcept { params_ = p; }
  const RunStats& stats() const noexcept { return buf_.stats; }

  /// `mapping`: network pixels to the original image (SCRFD's det_scale: scrfd_resize(...).mapping()
  /// or ImageMapping::resize(scale)); NMS runs on the mapped boxes, as the reference. `image`:
  /// the original image's size, whose centre max_num ranks by; {0, 0}: the input size.
  FamilyDetections run(const ScrfdHeads& heads, InputSize input, const ImageMapping& mapping = {},
                       InputSize image = {}) {
    FamilyDetections d;
    throw_if_error(try_run(heads, input, mapping, image, d));
    return d;
  }

  Status try_run(const ScrfdHeads& heads, InputSize input, const ImageMapping& mapping, InputSize image,
                 FamilyDetections& out) noexcept {
    out = FamilyDetections{};
    buf_.stats = RunStats{};
    bool with_kps = false;
    Status s = detail::validate_scrfd(heads, input, params_, with_kps);
    if (s.ok()) s = validate_mapping(mapping);
    if (s.ok() && params_.max_num > 0 && image.width == 0 && image.height == 0) image = input;
    if (s.ok() && params_.max_num > 0 && (image.width <= 0 || image.height <= 0))
      s = Status::failure(Errc::bad_size, "SCRFD image size %dx%d (for max_num): width and height must be positive",
                          image.width, image.height);
    const std::size_t cols = with_kps ? 15 : 5;
    std::size_t total = 0;
    for (int l = 0; l < 3; ++l) total += detail::scrfd_rows(input, kScrfdStrides[l]);
    if (s.ok()) s = detail::reserve_family(buf_, total, cols, "SCRFD");
    if (!s.ok()) return s;

    // Filter and decode, stride 8 then 16 then 32, rows in order (the reference's concatenation).
    const kernels::KernelTable& k = active_kernels();
    std::size_t n = 0, offset = 0;
    for (int l = 0; l < 3; ++l) {
      const TensorView& score = heads.score[l];
      std::uint32_t* index = buf_.source.data() + n;
      const std::size_t found = filter_column_at_least(k, score, params_.threshold, index, buf_.score.data() + n);
      // Decode the candidates in place of their indices (a row with a non-finite value is dropped).
      for (std::size_t i = 0; i < found; ++i) {
        const std::size_t r = index[i];
        float* row = buf_.rows.data() + cols * n;
        if (!detail::scrfd_decode(heads, l, r, input, with_kps, mapping, row)) continue;
        buf_.score[n] = row[4];
        buf_.source[n] = static_cast<std::uint32_t>(offset + r);
        ++n;
      }
      offset += score.rows;
    }
    std::size_t nk =
        detail::rank_and_suppress(buf_, n, cols, params_.nms_threshold, IouConvention::legacy_pixel, 0);
    buf_.stats = RunStats{total, n, n, nk};
    if (params_.max_num > 0 && nk > params_.max_num) {
      detail::scrfd_select(buf_, nk, cols, image, params_.max_num);
      nk = params_.max_num;
      buf_.stats.detections = nk;
      out = FamilyDetections(buf_.rows.data(), buf_.keep.data(), nk, cols);
      return s;
    }
    out = FamilyDetections(buf_.out_rows.data(), buf_.out_source.data(), nk, cols);
    return s;
  }

 private:
  ScrfdParams params_;
  FamilyBuffers buf_;
};

FACEPOST_ABI_END
}  // namespace facepost
