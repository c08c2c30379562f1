// tests/reference/reference_port.hpp - a plain scalar port of the Python reference
// post-processing (Pytorch_Retinaface detect.py: PriorBox, decode, decode_landm, py_cpu_nms; and
// torchvision.ops.nms), written from tests/data/README.md and NOT from facepost's code.
//
// It is the independent check of facepost's tests (row for row, bit for bit) and the "scalar
// port" peer of the benchmarks. It uses facepost's plain types (AnchorConfig, Params, ImageMapping,
// TensorView, HeadOutputs) for convenience, and facepost::detail::opaque to keep products
// rounded, but none of facepost's algorithms.
//
// What it does, in the reference's order and float32 rounding:
//   1. priors: per level, rows i, columns j, min sizes m; values in double, stored as float32;
//      clamped to [0,1] when the configuration says clip;
//   2. decode EVERY row (as the reference does): cx = p.cx + l0*v0*p.w, w = p.w*exp(l2*v1),
//      x1 = cx - w/2, x2 = w + x1, then (x*W - pad) / scale (the reference: x*W / resize);
//      landmarks p.cx + d*v0*p.w, likewise mapped;
//   3. face score: conf column 1 (probabilities), or a float32 softmax of the two logits;
//      candidates: score > threshold (float32) and finite;
//   4. argsort by descending score, ties by ascending prior index (a stable sort), top_k;
//   5. rows with a non-finite value are dropped (facepost's documented contract; the Python
//      reference would carry NaN into NMS);
//   6. NMS: py_cpu_nms as numpy runs it (shrinking `order`, keep `ovr <= float32(thresh)`, NaN
//      suppresses) or torchvision's CPU kernel (suppressed flags, `double(ovr) > thresh`);
//   7. keep_top_k, then the optional clamp of every coordinate to the original image.
//
// exp (decode and the logit softmax): the Exp policy; the default is exp computed in double and
// rounded once to float32, i.e. the correctly rounded float exp (numpy and torch differ from it
// by at most one ulp; facepost's own exp agrees with it on every input tried).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include "facepost/anchors.hpp"
#include "facepost/detail/exact.hpp"
#include "facepost/params.hpp"
#include "facepost/tensor.hpp"

namespace facepost_ref {

/// exp in double, rounded once to float32: the correctly rounded float exp but for
/// double-rounding cases (probability ~2^-29).
struct CorrectlyRoundedExp {
  float operator()(float x) const noexcept { return static_cast<float>(std::exp(static_cast<double>(x))); }
};

/// The C library's float exp (what a straightforward C++ port would call).
struct LibmExp {
  float operator()(float x) const noexcept { return std::exp(x); }
};

/// a*b rounded to float32 before whatever comes next (no fused multiply-add).
inline float mul(float a, float b) noexcept { return facepost::detail::opaque(a * b); }

/// Number of priors of `anchors` for input `in` (64-bit; no validation).
inline std::uint64_t prior_count(const facepost::AnchorConfig& anchors, facepost::InputSize in) {
  std::uint64_t n = 0;
  for (const facepost::AnchorLevel& level : anchors.levels) {
    const auto fh = static_cast<std::uint64_t>(std::ceil(double(in.height) / double(level.step)));
    const auto fw = static_cast<std::uint64_t>(std::ceil(double(in.width) / double(level.step)));
    n += fh * fw * level.min_sizes.size();
  }
  return n;
}

/// PriorBox.forward: [N,4] cx cy w h, each value computed in double and stored as float32.
inline void build_priors(const facepost::AnchorConfig& anchors, facepost::InputSize in, std::vector<float>& out) {
  out.clear();
  out.reserve(static_cast<std::size_t>(4 * prior_count(anchors, in)));
  const double W = in.width, H = in.height;
  for (const facepost::AnchorLevel& level : anchors.levels) {
    const int fh = static_cast<int>(std::ceil(H / level.step));
    const int fw = static_cast<int>(std::ceil(W / level.step));
    for (int i = 0; i < fh; ++i)
      for (int j = 0; j < fw; ++j)
        for (int m : level.min_sizes) {
          const double s_kx = m / W, s_ky = m / H;
          const double cx = (j + 0.5) * level.step / W, cy = (i + 0.5) * level.step / H;
          for (double v : {cx, cy, s_kx, s_ky}) out.push_back(static_cast<float>(v));
        }
  }
  if (anchors.clip)
    for (float& v : out) v = v < 0.f ? 0.f : (v > 1.f ? 1.f : v);  // torch clamp_(max=1, min=0)
}

/// Network-input -> original-image pixels: (v * size - pad) / scale.
inline float map_coord(float normalised, float size, float pad, float scale) noexcept {
  return (mul(normalised, size) - pad) / scale;
}

/// decode + decode_landm of one row. box: x1 y1 x2 y2, lm: 5 x (x, y); original-image pixels.
template <class Exp>
void decode_row(const float* prior, const facepost::TensorView& loc, const facepost::TensorView& landms,
                std::size_t r, facepost::InputSize in, facepost::Variance var, const facepost::ImageMapping& map,
                const Exp& exp, float* box, float* lm) noexcept {
  const float W = float(in.width), H = float(in.height);
  const float pcx = prior[0], pcy = prior[1], pw = prior[2], ph = prior[3];
  const float cx = pcx + mul(mul(loc(r, 0), var.center), pw);
  const float cy = pcy + mul(mul(loc(r, 1), var.center), ph);
  const float w = mul(pw, exp(mul(loc(r, 2), var.size)));
  const float h = mul(ph, exp(mul(loc(r, 3), var.size)));
  // boxes[:, :2] -= boxes[:, 2:] / 2 ; boxes[:, 2:] += boxes[:, :2]
  const float x1 = cx - facepost::detail::opaque(w / 2.f);
  const float y1 = cy - facepost::detail::opaque(h / 2.f);
  const float x2 = w + x1, y2 = h + y1;
  box[0] = map_coord(x1, W, map.pad_x, map.scale_x);
  box[1] = map_coord(y1, H, map.pad_y, map.scale_y);
  box[2] = map_coord(x2, W, map.pad_x, map.scale_x);
  box[3] = map_coord(y2, H, map.pad_y, map.scale_y);
  for (int k = 0; k < 5; ++k) {
    const float x = pcx + mul(mul(landms(r, std::size_t(2 * k)), var.center), pw);
    const float y = pcy + mul(mul(landms(r, std::size_t(2 * k + 1)), var.center), ph);
    lm[2 * k] = map_coord(x, W, map.pad_x, map.scale_x);
    lm[2 * k + 1] = map_coord(y, H, map.pad_y, map.scale_y);
  }
}

/// Face probability of one conf row: column 1, or softmax(l0, l1)[1] in float32 (max subtracted,
/// as torch.softmax and scipy do) with the port's exp.
template <class Exp = CorrectlyRoundedExp>
float face_score(const facepost::TensorView& conf, std::size_t r, facepost::ScoreFormat format,
                 const Exp& exp = {}) noexcept {
  const float a = conf(r, 0), b = conf(r, 1);
  if (format == facepost::ScoreFormat::probabilities) return b;
  const float m = std::max(a, b);
  const float ea = exp(a - m), eb = exp(b - m);
  return eb / (ea + eb);
}

/// np.maximum / np.minimum: NaN if either operand is NaN.
inline float np_maximum(float a, float b) noexcept {
  if (a != a || b != b) return std::numeric_limits<float>::quiet_NaN();
  return a > b ? a : b;
}
inline float np_minimum(float a, float b) noexcept {
  if (a != a || b != b) return std::numeric_limits<float>::quiet_NaN();
  return a < b ? a : b;
}

/// Boxes of the NMS stage, rows in processing order (descending score).
struct BoxList {
  std::vector<float> x1, y1, x2, y2;
  std::size_t size() const noexcept { return x1.size(); }
  void clear() {
    x1.clear(), y1.clear(), x2.clear(), y2.clear();
  }
  void push_back(const float* b) {
    x1.push_back(b[0]), y1.push_back(b[1]), x2.push_back(b[2]), y2.push_back(b[3]);
  }
};

/// py_cpu_nms as numpy executes it, on boxes already in descending score order; `keep` gets the
/// kept positions in order. `order`, `areas` are scratch.
///   areas = (x2 - x1 + 1) * (y2 - y1 + 1)
///   while order.size > 0: i = order[0]; keep i; ovr = inter / (areas[i] + areas[rest] - inter);
///                         order = rest[ovr <= thresh]   (thresh as float32)
inline void py_cpu_nms(const BoxList& b, double thresh, std::vector<std::uint32_t>& keep,
                       std::vector<std::uint32_t>& order, std::vector<float>& areas) {
  const std::size_t n = b.size();
  const float t = static_cast<float>(thresh);
  areas.resize(n);
  for (std::size_t i = 0; i < n; ++i) areas[i] = ((b.x2[i] - b.x1[i]) + 1.f) * ((b.y2[i] - b.y1[i]) + 1.f);
  order.resize(n);
  std::iota(order.begin(), order.end(), 0u);
  keep.clear();
  std::size_t len = n;
  while (len > 0) {
    const std::uint32_t i = order[0];
    keep.push_back(i);
    std::size_t kept = 0;
    for (std::size_t r = 1; r < len; ++r) {
      const std::uint32_t j = order[r];
      const float xx1 = np_maximum(b.x1[i], b.x1[j]);
      const float yy1 = np_maximum(b.y1[i], b.y1[j]);
      const float xx2 = np_minimum(b.x2[i], b.x2[j]);
      const float yy2 = np_minimum(b.y2[i], b.y2[j]);
      const float w = np_maximum(0.f, (xx2 - xx1) + 1.f);
      const float h = np_maximum(0.f, (yy2 - yy1) + 1.f);
      const float inter = mul(w, h);
      const float ovr = inter / ((areas[i] + areas[j]) - inter);
      if (ovr <= t) order[kept++] = j;  // np.where(ovr <= thresh): NaN is suppressed
    }
    len = kept;
  }
}

/// torchvision.ops.nms CPU kernel (nms_kernel_impl), on boxes already in descending score order.
///   areas = (x2 - x1) * (y2 - y1); suppress j when double(ovr) > iou_threshold; NaN keeps.
inline void torchvision_nms(const BoxList& b, double iou_threshold, std::vector<std::uint32_t>& keep,
                            std::vector<std::uint8_t>& suppressed, std::vector<float>& areas) {
  const std::size_t n = b.size();
  areas.resize(n);
  for (std::size_t i = 0; i < n; ++i) areas[i] = (b.x2[i] - b.x1[i]) * (b.y2[i] - b.y1[i]);
  suppressed.assign(n, 0);
  keep.clear();
  for (std::size_t i = 0; i < n; ++i) {
    if (suppressed[i]) continue;
    keep.push_back(static_cast<std::uint32_t>(i));
    for (std::size_t j = i + 1; j < n; ++j) {
      if (suppressed[j]) continue;
      const float xx1 = std::max(b.x1[i], b.x1[j]);
      const float yy1 = std::max(b.y1[i], b.y1[j]);
      const float xx2 = std::min(b.x2[i], b.x2[j]);
      const float yy2 = std::min(b.y2[i], b.y2[j]);
      const float w = std::max(0.f, xx2 - xx1);
      const float h = std::max(0.f, yy2 - yy1);
      const float inter = mul(w, h);
      const float ovr = inter / ((areas[i] + areas[j]) - inter);
      if (static_cast<double>(ovr) > iou_threshold) suppressed[j] = 1;
    }
  }
}

/// The port's output: [K,15] rows (x1 y1 x2 y2 score lx0 ly0 ... lx4 ly4) and each row's prior.
struct Result {
  std::vector<float> rows;
  std::vector<std::uint32_t> prior;
  std::size_t candidates = 0;  ///< rows whose score passed the threshold
  std::size_t ranked = 0;      ///< after top_k, finite rows only (what enters NMS)
  std::size_t size() const noexcept { return prior.size(); }
  const float* row(std::size_t k) const noexcept { return rows.data() + 15 * k; }
};

/// The whole reference pipeline; priors cached per input size and every buffer reused, so a
/// stream of same-size frames costs only the reference's own work.
template <class Exp = CorrectlyRoundedExp>
class Port {
 public:
  explicit Port(facepost::AnchorConfig anchors, Exp exp = {}) : anchors_(std::move(anchors)), exp_(exp) {}

  const facepost::AnchorConfig& anchors() const noexcept { return anchors_; }

  /// The priors for `in` ([N,4] floats), built once per size.
  const std::vector<float>& priors(facepost::InputSize in) {
    if (!have_priors_ || !(in == prior_size_)) {
      build_priors(anchors_, in, priors_);
      prior_size_ = in;
      have_priors_ = true;
    }
    return priors_;
  }

  /// Decoded boxes [N,4] and landmarks [N,10] of every row of the last run.
  const std::vector<float>& boxes() const noexcept { return boxes_; }
  const std::vector<float>& landmarks() const noexcept { return landmarks_; }
  /// Face score of every row of the last run.
  const std::vector<float>& scores() const noexcept { return scores_; }

  /// Runs the reference. Throws std::invalid_argument if the tensors do not have one row per
  /// prior (the port does not validate anything else; give it what facepost accepts).
  const Result& run(const facepost::HeadOutputs& heads, facepost::InputSize in, const facepost::Params& params,
                    const facepost::ImageMapping& mapping = {}) {
    const std::vector<float>& pri = priors(in);
    const std::size_t n = pri.size() / 4;
    if (heads.loc.rows != n || heads.conf.rows != n || heads.landms.rows != n)
      throw std::invalid_argument("reference port: tensors have " + std::to_string(heads.loc.rows) +
                                  " rows, priors " + std::to_string(n));
    // Decode and score every row, as the reference does.
    boxes_.resize(4 * n);
    landmarks_.resize(10 * n);
    scores_.resize(n);
    for (std::size_t r = 0; r < n; ++r) {
      decode_row(pri.data() + 4 * r, heads.loc, heads.landms, r, in, anchors_.variance, mapping, exp_,
                 boxes_.data() + 4 * r, landmarks_.data() + 10 * r);
      scores_[r] = face_score(heads.conf, r, params.score_format, exp_);
    }
    // inds = np.where(scores > threshold)
    cand_.clear();
    const float inf = std::numeric_limits<float>::infinity();
    for (std::size_t r = 0; r < n; ++r)
      if (scores_[r] > params.score_threshold && scores_[r] < inf) cand_.push_back(static_cast<std::uint32_t>(r));
    result_.candidates = cand_.size();
    // order = scores.argsort()[::-1][:top_k], ties by ascending index.
    std::stable_sort(cand_.begin(), cand_.end(), [&](std::uint32_t a, std::uint32_t b) { return scores_[a] > scores_[b]; });
    if (params.top_k != 0 && cand_.size() > params.top_k) cand_.resize(params.top_k);
    // Detection rows in that order; non-finite rows dropped.
    ranked_rows_.clear();
    ranked_prior_.clear();
    nms_boxes_.clear();
    for (std::uint32_t p : cand_) {
      float row[15];
      std::copy_n(boxes_.data() + 4 * std::size_t(p), 4, row);
      row[4] = scores_[p];
      std::copy_n(landmarks_.data() + 10 * std::size_t(p), 10, row + 5);
      bool finite = true;
      for (float v : row) finite = finite && std::isfinite(v);
      if (!finite) continue;
      ranked_rows_.insert(ranked_rows_.end(), row, row + 15);
      ranked_prior_.push_back(p);
      nms_boxes_.push_back(row);
    }
    result_.ranked = ranked_prior_.size();
    if (params.iou == facepost::IouConvention::legacy_pixel)
      py_cpu_nms(nms_boxes_, params.nms_threshold, keep_, order_, areas_);
    else
      torchvision_nms(nms_boxes_, params.nms_threshold, keep_, suppressed_, areas_);
    // dets[:keep_top_k]
    std::size_t k = keep_.size();
    if (params.keep_top_k != 0 && k > params.keep_top_k) k = params.keep_top_k;
    result_.rows.resize(15 * k);
    result_.prior.resize(k);
    for (std::size_t i = 0; i < k; ++i) {
      float* out = result_.rows.data() + 15 * i;
      std::copy_n(ranked_rows_.data() + 15 * std::size_t(keep_[i]), 15, out);
      result_.prior[i] = ranked_prior_[keep_[i]];
      if (mapping.clip) {
        for (int c : {0, 2, 5, 7, 9, 11, 13}) out[c] = clamp(out[c], mapping.image_width);
        for (int c : {1, 3, 6, 8, 10, 12, 14}) out[c] = clamp(out[c], mapping.image_height);
      }
    }
    return result_;
  }

 private:
  static float clamp(float v, float hi) noexcept { return v < 0.f ? 0.f : (v > hi ? hi : v); }

  facepost::AnchorConfig anchors_;
  Exp exp_;
  std::vector<float> priors_;
  facepost::InputSize prior_size_{};
  bool have_priors_ = false;
  std::vector<float> boxes_, landmarks_, scores_, ranked_rows_, areas_;
  std::vector<std::uint32_t> cand_, ranked_prior_, keep_, order_;
  std::vector<std::uint8_t> suppressed_;
  BoxList nms_boxes_;
  Result result_;
};

}  // namespace facepost_ref
