// facepost/families/yunet.hpp - YuNet as OpenCV 4.6's cv::FaceDetectorYN post-processes it: SSD
// priors on four levels (no padding: each halving truncates), score sqrt(cls * clamped iou),
// variance decode with exp, `score > threshold`, dnn::NMSBoxes on the int rects Rect2i(int(x),
// int(y), int(w), int(h)) (stable descending order, top_k before NMS, overlap <= nms_threshold
// keeps). Written from tests/data/families/README.md "YuNet (OpenCV 4.6 FaceDetectorYN)".
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>

#include "facepost/anchors.hpp"
#include "facepost/arith/arith.hpp"
#include "facepost/detail/buffer.hpp"
#include "facepost/error.hpp"
#include "facepost/families/family.hpp"
#include "facepost/isa.hpp"
#include "facepost/params.hpp"
#include "facepost/pipeline.hpp"
#include "facepost/rank.hpp"
#include "facepost/tensor.hpp"

namespace facepost {

constexpr std::size_t kYunetLocCols = 14;  ///< dx dy dw dh, then 5 landmarks (dx, dy)
constexpr std::size_t kYunetConfCols = 2;  ///< background, face (softmax probabilities)
constexpr std::size_t kYunetIouCols = 1;   ///< predicted IoU (clamped to [0, 1])
constexpr std::size_t kYunetCols = 15;     ///< x1 y1 x2 y2 score, 5 landmarks (x, y)
constexpr std::size_t kYunetLevels = 4;    ///< prior levels: steps 8, 16, 32, 64

/// Defaults are cv::FaceDetectorYN::create's (score 0.9, NMS 0.3, top_k 5000).
struct YunetParams {
  float threshold = 0.9f;      ///< keep score > this (strict, float32, as NMSBoxes)
  float nms_threshold = 0.3f;  ///< keep a box whose Rect2i overlap with every kept box is <= this (float32)
  std::size_t top_k = 5000;    ///< at most top_k best candidates enter NMS; 0 = no limit
};

/// The three outputs of one frame, one row per prior (yunet_prior_count(input) rows): `loc`
/// [N,14], `conf` [N,2], `iou` [N,1]. A [1,N,C] export is viewed as [N,C] (view_tensor).
struct YunetHeads {
  TensorView loc, conf, iou;
};

FACEPOST_ABI_BEGIN
namespace detail {

struct YunetLevel {
  int step;
  int min_sizes[3];
  int count;
};
constexpr YunetLevel kYunetLevelTable[kYunetLevels] = {
    {8, {10, 16, 24}, 3}, {16, {32, 48, 0}, 2}, {32, {64, 96, 0}, 2}, {64, {128, 192, 256}, 3}};

/// Cells (width, height) of level l (0..3 = f3..f6) for a positive input size: C++ int
/// division, f2 = ((W+1)/2)/2, then each level halves the previous one (truncating).
inline void yunet_feature_map(InputSize input, std::size_t level, std::size_t& fw, std::size_t& fh) noexcept {
  std::size_t w = std::size_t(input.width + 1) / 2 / 2, h = std::size_t(input.height + 1) / 2 / 2;
  for (std::size_t l = 0; l <= level; ++l) w /= 2, h /= 2;
  fw = w, fh = h;
}

}  // namespace detail

/// The number of YuNet priors of an input size (FaceDetectorYN 4.6's generatePriors); 0 for a
/// size that is not positive or above kMaxInputSide, or too small to have a cell (a side < 7).
inline std::size_t yunet_prior_count(InputSize input) noexcept {
  if (!validate_input_size(input).ok()) return 0;
  std::size_t n = 0;
  for (std::size_t l = 0; l < kYunetLevels; ++l) {
    std::size_t fw = 0, fh = 0;
    detail::yunet_feature_map(input, l, fw, fh);
    n += fw * fh * std::size_t(detail::kYunetLevelTable[l].count);
  }
  return n;
}

/// Writes the yunet_prior_count(input) priors, rows of `cx cy sx sy` (normalised), to `out` in
/// the reference's order (level, cell row, cell column, min size): `cx = (col + 0.5f) * step / W`,
/// `cy = (row + 0.5f) * step / H`, `sx = m / W`, `sy = m / H`, float32 left to right. Returns
/// the count (0: invalid size, nothing written).
inline std::size_t yunet_priors(InputSize input, float* out) noexcept {
  const std::size_t n = yunet_prior_count(input);
  if (n == 0) return 0;
  const float W = float(input.width), H = float(input.height);
  for (std::size_t l = 0; l < kYunetLevels; ++l) {
    const detail::YunetLevel& lv = detail::kYunetLevelTable[l];
    std::size_t fw = 0, fh = 0;
    detail::yunet_feature_map(input, l, fw, fh);
    const float step = float(lv.step);
    for (std::size_t r = 0; r < fh; ++r)
      for (std::size_t c = 0; c < fw; ++c) {
        const float cx = arith::div(arith::mul(arith::add(float(c), 0.5f), step), W);
        const float cy = arith::div(arith::mul(arith::add(float(r), 0.5f), step), H);
        for (int k = 0; k < lv.count; ++k, out += 4) {
          const float m = float(lv.min_sizes[k]);
          out[0] = cx, out[1] = cy, out[2] = arith::div(m, W), out[3] = arith::div(m, H);
        }
      }
  }
  return n;
}

/// OpenCV's Rect2i of a decoded box: x, y, width, height.
struct YunetRect {
  std::int32_t x = 0, y = 0, w = 0, h = 0;
};

namespace detail {

/// int(v) of a finite float: truncation toward zero, saturated to the int32 range (C++ leaves an
/// out-of-range conversion undefined; OpenCV's result there is the compiler's).
inline std::int32_t yunet_trunc(float v) noexcept {
  if (v >= 2147483648.f) return std::numeric_limits<std::int32_t>::max();
  if (v <= -2147483648.f) return std::numeric_limits<std::int32_t>::min();
  return static_cast<std::int32_t>(v);
}

}  // namespace detail

/// OpenCV's rectOverlap for Rect2i: `1.f - (float)jaccardDistance(a, b)`, i.e.
/// `1.f - (float)(1.0 - I / (Aa + Ab - I))` with the int areas Aa, Ab and the int intersection
/// I as a double; 1 when Aa + Ab <= 0. Intersection (Rect::operator&): 0 when either rect is
/// empty (w <= 0 or h <= 0), else the continuous overlap (right edge x + w, no +1), 0 unless
/// both sides are positive. 64-bit integers: the same as OpenCV's int wherever that does not
/// overflow.
inline float yunet_rect_overlap(const YunetRect& a, const YunetRect& b) noexcept {
  const std::int64_t area_a = std::int64_t(a.w) * a.h, area_b = std::int64_t(b.w) * b.h;
  const std::int64_t sum = area_a + area_b;
  if (sum <= 0) return 1.f;
  std::int64_t inter = 0;
  if (a.w > 0 && a.h > 0 && b.w > 0 && b.h > 0) {
    const std::int64_t x1 = a.x > b.x ? a.x : b.x, y1 = a.y > b.y ? a.y : b.y;
    const std::int64_t ra = std::int64_t(a.x) + a.w, rb = std::int64_t(b.x) + b.w;
    const std::int64_t ba = std::int64_t(a.y) + a.h, bb = std::int64_t(b.y) + b.h;
    const std::int64_t iw = (ra < rb ? ra : rb) - x1, ih = (ba < bb ? ba : bb) - y1;
    if (iw > 0 && ih > 0) inter = iw * ih;
  }
  const double i = double(inter);
  const double distance = 1.0 - i / (double(sum) - i);
  return 1.f - static_cast<float>(distance);
}

/// NMSBoxes' greedy pass (eta = 1) over `n` rects already in rank order: rect j is kept when
/// its overlap with every kept rect is <= nms_threshold. Writes the kept positions (ascending)
/// to `keep`; returns their count. O(n * kept).
inline std::size_t yunet_nms(const YunetRect* rects, std::size_t n, float nms_threshold, std::uint32_t* keep) noexcept {
  std::size_t nk = 0;
  for (std::size_t j = 0; j < n; ++j) {
    bool kept = true;
    for (std::size_t k = 0; k < nk && kept; ++k) kept = yunet_rect_overlap(rects[j], rects[keep[k]]) <= nms_threshold;
    if (kept) keep[nk++] = static_cast<std::uint32_t>(j);
  }
  return nk;
}

namespace detail {

inline Status validate_yunet(const YunetHeads& h, InputSize input, const YunetParams& p, std::size_t& priors) noexcept {
  priors = 0;
  Status s = check_unit_threshold(double(p.threshold), "YuNet threshold");
  if (s.ok()) s = check_unit_threshold(double(p.nms_threshold), "YuNet NMS threshold");
  if (s.ok()) s = validate_input_size(input);
  if (!s.ok()) return s;
  const std::size_t n = yunet_prior_count(input);
  if (n == 0)
    return Status::failure(Errc::bad_size, "input size %dx%d is too small for YuNet: no prior (each side must be at least 7)",
                           input.width, input.height);
  if (n > std::size_t(std::numeric_limits<std::uint32_t>::max()))
    return Status::failure(Errc::size_overflow, "input size %dx%d gives %zu YuNet priors, more than 2^32 - 1",
                           input.width, input.height, n);
  struct Named {
    const TensorView* t;
    const char* name;
    std::size_t cols;
    const char* what;
  };
  const Named all[3] = {{&h.loc, "loc", kYunetLocCols, "dx dy dw dh, then 5 landmarks (dx, dy)"},
                        {&h.conf, "conf", kYunetConfCols, "background, face"},
                        {&h.iou, "iou", kYunetIouCols, "one predicted IoU per prior"}};
  for (const Named& t : all) {
    if (Status e = check_family_head(*t.t, "YuNet", t.name); !e.ok()) return e;
    if (t.t->cols != t.cols)
      return Status::failure(Errc::bad_shape, "YuNet %s tensor has %zu columns, expected %zu (%s)", t.name, t.t->cols,
                             t.cols, t.what);
  }
  if (h.conf.rows != h.loc.rows || h.iou.rows != h.loc.rows)
    return Status::failure(Errc::row_mismatch, "YuNet tensors disagree on the number of rows: loc %zu, conf %zu, iou %zu",
                           h.loc.rows, h.conf.rows, h.iou.rows);
  if (h.loc.rows != n)
    return Status::failure(Errc::prior_count_mismatch,
                           "YuNet tensors have %zu rows but input size %dx%d gives %zu priors (is input_size "
                           "FaceDetectorYN's input size, width then height?)",
                           h.loc.rows, input.width, input.height, n);
  priors = n;
  return Status{};
}

/// The reference's score of prior i: sqrtf(cls * iou), cls = conf[i,1] as given, iou clamped to
/// [0, 1] (NaN stays NaN); float product, float square root.
inline float yunet_score(const YunetHeads& h, std::size_t i) noexcept {
  const float cls = h.conf(i, 1);
  float iou = h.iou(i, 0);
  if (iou < 0.f) iou = 0.f;
  else if (iou > 1.f) iou = 1.f;
  return std::sqrt(arith::mul(cls, iou));
}

/// Decodes prior i (`p` = cx cy sx sy) into a facepost row and its Rect2i, in network-input
/// pixels: `cx = (p.cx + l0*v0*p.sx)*W`, `w = p.sx*exp(l2*v0)*W` (v0 for the width, as the
/// reference), `h = p.sy*exp(l3*v1)*H`, `x = cx - w/2`; landmarks like the centre; each
/// operation one float32 rounding, exp = facepost's exp_f32. False if a value is not finite.
inline bool yunet_decode(const YunetHeads& heads, std::size_t i, const float* p, float W, float H, float score,
                         float* row, YunetRect& rect) noexcept {
  using arith::add;
  using arith::div;
  using arith::mul;
  using arith::sub;
  constexpr float v0 = 0.1f, v1 = 0.2f;
  float tmp[kYunetLocCols];
  std::ptrdiff_t c = 1;
  const float* l = row_values(heads.loc, i, tmp, c);
  const float cx = mul(add(p[0], mul(mul(l[0], v0), p[2])), W);
  const float cy = mul(add(p[1], mul(mul(l[c], v0), p[3])), H);
  const float w = mul(mul(p[2], arith::exp_f32(mul(l[2 * c], v0))), W);
  const float h = mul(mul(p[3], arith::exp_f32(mul(l[3 * c], v1))), H);
  const float x = sub(cx, div(w, 2.f)), y = sub(cy, div(h, 2.f));
  row[0] = x;
  row[1] = y;
  row[2] = add(x, w);
  row[3] = add(y, h);
  row[4] = score;
  for (std::size_t k = 0; k < 5; ++k) {
    row[5 + 2 * k] = mul(add(p[0], mul(mul(l[std::ptrdiff_t(4 + 2 * k) * c], v0), p[2])), W);
    row[6 + 2 * k] = mul(add(p[1], mul(mul(l[std::ptrdiff_t(5 + 2 * k) * c], v0), p[3])), H);
  }
  for (std::size_t k = 0; k < kYunetCols; ++k)
    if (!std::isfinite(row[k])) return false;
  if (!std::isfinite(w) || !std::isfinite(h)) return false;
  rect = YunetRect{yunet_trunc(x), yunet_trunc(y), yunet_trunc(w), yunet_trunc(h)};
  return true;
}

}  // namespace detail

/// YuNet post-processing (OpenCV 4.6 FaceDetectorYN) with the priors of the last input size and
/// reusable buffers: after the first frame of a size, no allocation. Detections are `x1 y1 x2 y2
/// score` and 5 landmarks (right eye, left eye, nose tip, right and left mouth corner), in
/// NMSBoxes' order (descending score, ties by ascending prior); source_index is the prior.
class YunetPostprocessor {
 public:
  explicit YunetPostprocessor(YunetParams params = {}) noexcept : params_(params) {}
  const YunetParams& params() const noexcept { return params_; }
  void set_params(const YunetParams& p) noexcept { params_ = p; }
  /// Counts of the last run: priors = rows, candidates = scores above the threshold, ranked =
  /// rows entering NMS (after top_k, rows with a non-finite value dropped), detections = rows returned.
  const RunStats& stats() const noexcept { return stats_; }
  /// The priors of the last input size run (rows of `cx cy sx sy`, normalised), prior_rows() of them.
  const float* priors() const noexcept { return priors_.data(); }
  std::size_t prior_rows() const noexcept { return prior_rows_; }

  /// `input`: FaceDetectorYN's input size (width, height). NMS runs in network-input pixels, as
  /// the reference; `mapping` (letterbox, resize, clip) is applied to the kept rows.
  FamilyDetections run(const YunetHeads& heads, InputSize input, const ImageMapping& mapping = {}) {
    FamilyDetections d;
    throw_if_error(try_run(heads, input, mapping, d));
    return d;
  }

  Status try_run(const YunetHeads& heads, InputSize input, const ImageMapping& mapping,
                 FamilyDetections& out) noexcept {
    out = FamilyDetections{};
    stats_ = RunStats{};
    std::size_t n_priors = 0;
    Status s = detail::validate_yunet(heads, input, params_, n_priors);
    if (s.ok()) s = validate_mapping(mapping);
    constexpr std::size_t cols = kYunetCols;
    if (s.ok()) s = detail::reserve_family(buf_, n_priors, cols, "YuNet");
    if (s.ok()) s = reserve_own(n_priors);
    if (!s.ok()) return s;
    if (!(prior_size_ == input)) {
      prior_rows_ = yunet_priors(input, priors_.data());
      prior_size_ = input;
    }
    stats_.priors = n_priors;

    // 1. Scores, strictly above the threshold (NaN never passes), in prior order.
    const float t = params_.threshold;
    std::size_t n = 0;
    for (std::size_t i = 0; i < n_priors; ++i) {
      const float score = detail::yunet_score(heads, i);
      if (!(score > t)) continue;
      buf_.score[n] = score;
      buf_.source[n] = static_cast<std::uint32_t>(i);
      ++n;
    }
    stats_.candidates = n;

    // 2. Descending score, ties by ascending prior (std::stable_sort), cut to top_k.
    const std::size_t nr = rank_candidates_radix(buf_.score.data(), n, params_.top_k, buf_.order.data(), buf_.rank);

    // 3. Decode the ranked rows (a row with a non-finite value is dropped); order[m] becomes the
    // prior of decoded row m (m <= j: order[j] is read before).
    const float W = float(input.width), H = float(input.height);
    std::size_t m = 0;
    for (std::size_t j = 0; j < nr; ++j) {
      const std::uint32_t c = buf_.order[j];
      const std::uint32_t prior = buf_.source[c];
      if (!detail::yunet_decode(heads, prior, priors_.data() + 4 * std::size_t(prior), W, H, buf_.score[c],
                                buf_.rows.data() + cols * m, rects_[m]))
        continue;
      buf_.order[m++] = prior;
    }
    stats_.ranked = m;

    // 4. NMSBoxes on the int rects, then the kept rows in order, mapped.
    const std::size_t nk = yunet_nms(rects_.data(), m, params_.nms_threshold, buf_.keep.data());
    std::size_t k_out = 0;
    for (std::size_t j = 0; j < nk; ++j) {
      float* o = buf_.out_rows.data() + cols * k_out;
      std::memcpy(o, buf_.rows.data() + cols * buf_.keep[j], cols * sizeof(float));
      detail::map_row(o, cols, mapping);
      bool finite = true;
      for (std::size_t col = 0; col < cols; ++col) finite = finite && std::isfinite(o[col]);
      if (!finite) continue;  // a mapping that overflows: every output value is finite
      buf_.out_source[k_out++] = buf_.order[buf_.keep[j]];
    }
    stats_.detections = k_out;
    out = FamilyDetections(buf_.out_rows.data(), buf_.out_source.data(), k_out, cols);
    return s;
  }

 private:
  Status reserve_own(std::size_t n) noexcept {
    return detail::guard_allocation(
        [&] {
          priors_.reserve(4 * n);
          rects_.reserve(n);
          return Status{};
        },
        [&] { return Status::failure(Errc::size_overflow, "YuNet: out of memory for %zu priors", n); });
  }

  YunetParams params_;
  FamilyBuffers buf_;
  detail::Buffer<float> priors_;
  detail::Buffer<YunetRect> rects_;
  InputSize prior_size_{};
  std::size_t prior_rows_ = 0;
  RunStats stats_;
};

FACEPOST_ABI_END
}  // namespace facepost
