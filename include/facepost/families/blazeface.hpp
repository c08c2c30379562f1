// facepost/families/blazeface.hpp - MediaPipe BlazeFace, short range ("front", 128x128) and full
// range ("back", 256x256), post-processed as hollance/BlazeFace-PyTorch does: 896 SSD anchors
// (MediaPipe's SsdAnchorsCalculator), decode relative to the anchor centre, sigmoid of the
// clamped logit, `score >= threshold`, then weighted NMS (each cluster's coordinates averaged by
// score, its score the members' mean). Written from tests/data/families/README.md "BlazeFace".
#pragma once

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>

#include "facepost/anchors.hpp"
#include "facepost/arith/arith.hpp"
#include "facepost/error.hpp"
#include "facepost/families/family.hpp"
#include "facepost/isa.hpp"
#include "facepost/params.hpp"
#include "facepost/tensor.hpp"

namespace facepost {

/// The two BlazeFace models: front = short range, 128x128 input; back = full range, 256x256.
enum class BlazefaceModel { front, back };

constexpr std::size_t kBlazefaceAnchors = 896;            ///< 512 (16x16 cells x 2) + 384 (8x8 x 6)
constexpr std::size_t kBlazefaceGroupRows[2] = {512, 384};  ///< rows of the two output groups
constexpr std::size_t kBlazefaceRegressorCols = 16;       ///< dx dy w h, then 6 keypoints (x, y)
constexpr std::size_t kBlazefaceKeypoints = 6;  ///< right eye, left eye, nose, mouth, right ear, left ear
constexpr std::size_t kBlazefaceCols = 5 + 2 * kBlazefaceKeypoints;  ///< x1 y1 x2 y2 score, 12 keypoint values

/// The network input side: 128 (front) or 256 (back).
constexpr int blazeface_input_size(BlazefaceModel m) noexcept { return m == BlazefaceModel::back ? 256 : 128; }
/// The reference's score threshold for the model: 0.75 (front), 0.65 (back).
constexpr float blazeface_default_threshold(BlazefaceModel m) noexcept {
  return m == BlazefaceModel::back ? 0.65f : 0.75f;
}

/// BlazeFace's parameters. The score threshold's default depends on the model: leave
/// `threshold` empty for it (hollance's 0.75 front, 0.65 back).
struct BlazefaceParams {
  std::optional<float> threshold;  ///< keep sigmoid(logit) >= this (float32); empty: the model's default
  float nms_threshold = 0.3f;      ///< merge boxes whose IoU with the seed is > this (float32); 1: none merge

  /// The threshold in force for `m`.
  FACEPOST_ABI_TAG float threshold_for(BlazefaceModel m) const noexcept {
    return threshold.has_value() ? *threshold : blazeface_default_threshold(m);
  }
};

/// The two heads of one frame: regressors (per anchor dx dy w h and 6 keypoints, network-input
/// pixels relative to the anchor centre) and score logits. Each head is either one [896,C] tensor
/// (the groups concatenated, the 512 rows of the 16x16 cells first) in [0], [1] left empty, or the
/// ONNX models' two groups ([512,C] in [0], [384,C] in [1]) viewed where they lie: no copy.
struct BlazefaceHeads {
  TensorView regressors[2];  ///< [896,16], or [512,16] + [384,16]
  TensorView scores[2];      ///< [896,1], or [512,1] + [384,1]: raw logits (the models end without sigmoid)

  BlazefaceHeads() = default;
  /// Concatenated outputs: regressors [896,16], scores [896,1].
  FACEPOST_ABI_TAG BlazefaceHeads(const TensorView& all_regressors, const TensorView& all_scores) noexcept
      : regressors{all_regressors, TensorView{}}, scores{all_scores, TensorView{}} {}
  /// The two groups as the ONNX models emit them: regressors [512,16] and [384,16]
  /// (Identity_2:0, Identity_3:0), scores [512,1] and [384,1] (Identity:0, Identity_1:0).
  FACEPOST_ABI_TAG BlazefaceHeads(const TensorView& regressors_16x16, const TensorView& regressors_8x8,
                                  const TensorView& scores_16x16, const TensorView& scores_8x8) noexcept
      : regressors{regressors_16x16, regressors_8x8}, scores{scores_16x16, scores_8x8} {}
};

/// MediaPipe SsdAnchorsCalculator's options, for `fixed_anchor_size: true` (every anchor is
/// 1 x 1, so min/max scale and the aspect ratios' values do not matter, only how many anchors
/// each layer puts in a cell).
struct SsdAnchorOptions {
  static constexpr int kMaxLayers = 8;
  int input_width = 0, input_height = 0;
  int num_layers = 0;
  int strides[kMaxLayers] = {};
  float anchor_offset_x = 0.5f, anchor_offset_y = 0.5f;
  int anchors_per_layer = 2;  ///< aspect_ratios.size(), +1 when interpolated_scale_aspect_ratio > 0
};

FACEPOST_ABI_BEGIN

/// The options of MediaPipe's face detection graphs: 4 layers, strides 8 16 16 16 (front, 128)
/// or 16 32 32 32 (back, 256), offsets 0.5, aspect_ratios [1.0] + the interpolated one.
inline SsdAnchorOptions blazeface_anchor_options(BlazefaceModel m) noexcept {
  SsdAnchorOptions o;
  const int s = blazeface_input_size(m), s0 = s / 16;
  o.input_width = o.input_height = s;
  o.num_layers = 4;
  o.strides[0] = s0;
  o.strides[1] = o.strides[2] = o.strides[3] = 2 * s0;
  return o;
}

namespace detail {
inline bool ssd_options_valid(const SsdAnchorOptions& o) noexcept {
  if (o.num_layers < 1 || o.num_layers > SsdAnchorOptions::kMaxLayers) return false;
  if (o.input_width <= 0 || o.input_height <= 0 || o.input_width > kMaxInputSide || o.input_height > kMaxInputSide)
    return false;
  if (o.anchors_per_layer < 1 || o.anchors_per_layer > 64) return false;
  for (int l = 0; l < o.num_layers; ++l)
    if (o.strides[l] <= 0) return false;
  return std::isfinite(o.anchor_offset_x) && std::isfinite(o.anchor_offset_y);
}
/// ceil(size / stride) as MediaPipe computes it: std::ceil(1.0f * size / stride), in float32.
inline std::size_t ssd_feature_map(int size, int stride) noexcept {
  return std::size_t(std::ceil(arith::div(float(size), float(stride))));
}
}  // namespace detail

/// The number of anchors `o` makes (0 if the options are invalid: no layers or more than
/// kMaxLayers, a size or stride <= 0, anchors_per_layer outside [1, 64], a non-finite offset).
inline std::size_t ssd_anchor_count(const SsdAnchorOptions& o) noexcept {
  if (!detail::ssd_options_valid(o)) return 0;
  std::size_t n = 0;
  for (int l = 0; l < o.num_layers; ++l)
    n += detail::ssd_feature_map(o.input_height, o.strides[l]) * detail::ssd_feature_map(o.input_width, o.strides[l]) *
         std::size_t(o.anchors_per_layer);
  return n;
}

/// MediaPipe SsdAnchorsCalculator (fixed anchor size): consecutive layers with the same stride
/// are merged into one group whose cells hold all their anchors; per group, for each cell row y,
/// cell column x, each anchor of the cell: `x_center = (x + offset_x) / fm_w`, `y_center =
/// (y + offset_y) / fm_h` (float32), `w = h = 1`. Writes ssd_anchor_count(o) rows of
/// `x_center y_center w h` to `out`; returns that count (0: invalid options, nothing written).
inline std::size_t ssd_anchors(const SsdAnchorOptions& o, float* out) noexcept {
  const std::size_t n = ssd_anchor_count(o);
  if (n == 0) return 0;
  int layer = 0;
  while (layer < o.num_layers) {
    int last = layer;
    while (last < o.num_layers && o.strides[last] == o.strides[layer]) ++last;
    const std::size_t per_cell = std::size_t(last - layer) * std::size_t(o.anchors_per_layer);
    const std::size_t fm_h = detail::ssd_feature_map(o.input_height, o.strides[layer]);
    const std::size_t fm_w = detail::ssd_feature_map(o.input_width, o.strides[layer]);
    for (std::size_t y = 0; y < fm_h; ++y)
      for (std::size_t x = 0; x < fm_w; ++x) {
        const float xc = arith::div(arith::add(float(x), o.anchor_offset_x), float(fm_w));
        const float yc = arith::div(arith::add(float(y), o.anchor_offset_y), float(fm_h));
        for (std::size_t k = 0; k < per_cell; ++k, out += 4) out[0] = xc, out[1] = yc, out[2] = 1.f, out[3] = 1.f;
      }
    layer = last;
  }
  return n;
}

/// BlazeFace's 896 anchors (both models get the same normalised values): 896 rows of
/// `x_center y_center w h` written to `out`.
inline void blazeface_anchors(BlazefaceModel m, float* out) noexcept { ssd_anchors(blazeface_anchor_options(m), out); }

namespace detail {

inline Status validate_blazeface_head(const TensorView (&v)[2], const char* name, std::size_t cols,
                                      const char* what) noexcept {
  if (Status s = check_family_head(v[0], "BlazeFace", name); !s.ok()) return s;
  if (v[1].address() == nullptr) {
    if (v[0].cols != cols)
      return Status::failure(Errc::bad_shape, "BlazeFace %s tensor has %zu columns, expected %zu (%s)", name,
                             v[0].cols, cols, what);
    if (v[0].rows != kBlazefaceAnchors)
      return Status::failure(Errc::prior_count_mismatch,
                             "BlazeFace %s tensor has %zu rows, expected 896 (the 512 anchors of the 16x16 cells, "
                             "then the 384 of the 8x8 cells; or give the two groups as separate tensors)",
                             name, v[0].rows);
    return Status{};
  }
  for (std::size_t g = 0; g < 2; ++g) {
    const std::size_t cells = g == 0 ? 16 : 8;
    if (Status s = validate_elements(v[g], name); !s.ok()) return s;
    if (v[g].cols != cols)
      return Status::failure(Errc::bad_shape, "BlazeFace %s group %zu (%zux%zu cells) has %zu columns, expected %zu (%s)",
                             name, g + 1, cells, cells, v[g].cols, cols, what);
    if (v[g].rows != kBlazefaceGroupRows[g])
      return Status::failure(Errc::prior_count_mismatch,
                             "BlazeFace %s group %zu (%zux%zu cells) has %zu rows, expected %zu (896 anchors: the 512 "
                             "of the 16x16 cells first, then the 384 of the 8x8 cells)",
                             name, g + 1, cells, cells, v[g].rows, kBlazefaceGroupRows[g]);
  }
  return Status{};
}

inline Status validate_blazeface(BlazefaceModel model, const BlazefaceHeads& h, const BlazefaceParams& p) noexcept {
  if (model != BlazefaceModel::front && model != BlazefaceModel::back)
    return Status::failure(Errc::bad_argument, "unknown BlazeFace model %d", int(model));
  Status s = check_unit_threshold(double(p.threshold_for(model)), "BlazeFace threshold");
  if (s.ok()) s = check_unit_threshold(double(p.nms_threshold), "BlazeFace NMS threshold");
  if (s.ok())
    s = validate_blazeface_head(h.regressors, "regressors", kBlazefaceRegressorCols, "dx dy w h, then 6 keypoints");
  if (s.ok()) s = validate_blazeface_head(h.scores, "scores", 1, "one face logit per anchor");
  return s;
}

/// Row r (0..895) of a head given as one tensor or two groups, as float32 values (row_values:
/// converted into `tmp`, 16 floats, unless float32), and its column stride.
inline const float* blazeface_row(const TensorView (&v)[2], std::size_t r, float* tmp,
                                  std::ptrdiff_t& col_stride) noexcept {
  const TensorView& t = r < v[0].rows ? v[0] : v[1];
  return row_values(t, r < v[0].rows ? r : r - v[0].rows, tmp, col_stride);
}

/// The reference's score: the logit clamped to [-100, 100] (NaN stays NaN), then 1 / (1 + exp(-x)).
inline float blazeface_score(float logit) noexcept {
  const float x = logit < -100.f ? -100.f : (logit > 100.f ? 100.f : logit);
  return arith::div(1.f, arith::add(1.f, arith::exp_f32(-x)));
}

/// Decodes regressor row `r` against anchor `a` (x y w h, normalised) into `row`, facepost's
/// column order, still normalised (the reference's arithmetic: value / S * anchor size + anchor
/// centre). False if a value is not finite.
inline bool blazeface_decode(const float* r, std::ptrdiff_t c, const float* a, float S, float score,
                             float* row) noexcept {
  using arith::add;
  using arith::div;
  using arith::mul;
  using arith::sub;
  const float xc = add(mul(div(r[0], S), a[2]), a[0]);
  const float yc = add(mul(div(r[c], S), a[3]), a[1]);
  const float half_w = div(mul(div(r[2 * c], S), a[2]), 2.f);
  const float half_h = div(mul(div(r[3 * c], S), a[3]), 2.f);
  row[0] = sub(xc, half_w);
  row[1] = sub(yc, half_h);
  row[2] = add(xc, half_w);
  row[3] = add(yc, half_h);
  row[4] = score;
  for (std::size_t k = 0; k < kBlazefaceKeypoints; ++k) {
    row[5 + 2 * k] = add(mul(div(r[std::ptrdiff_t(4 + 2 * k) * c], S), a[2]), a[0]);
    row[6 + 2 * k] = add(mul(div(r[std::ptrdiff_t(5 + 2 * k) * c], S), a[3]), a[1]);
  }
  for (std::size_t k = 0; k < kBlazefaceCols; ++k)
    if (!std::isfinite(row[k])) return false;
  return true;
}

/// hollance's weighted NMS over the nr candidates of buf in `buf.order` (descending score):
/// the seed is the best remaining candidate; its cluster is the seed and every other remaining
/// candidate whose IoU with it is > t (float32, strict), in remaining order; the others stay,
/// in order. A cluster of one gives the seed's row; a larger one the score-weighted average of
/// the 16 coordinates (running float32 sums in cluster order) and the mean score. The seed
/// always leaves `remaining`, even when its IoU with itself is not > t (zero-area, inverted or
/// overflowing boxes; t = 1): the reference loops forever there. Rows are scaled by S, mapped,
/// and written to buf.out_rows in seed order; a row with a non-finite value is dropped.
/// Returns the number of rows.
inline std::size_t blazeface_weighted_nms(FamilyBuffers& buf, std::size_t nr, float t, float S,
                                          const ImageMapping& mapping) noexcept {
  constexpr std::size_t cols = kBlazefaceCols;
  constexpr IouConvention C = IouConvention::continuous;
  std::uint32_t* remaining = buf.order.data();
  std::uint32_t* cluster = buf.keep.data();
  const float* rows = buf.rows.data();
  std::size_t m = nr, nk = 0;
  while (m > 0) {
    const std::uint32_t seed = remaining[0];
    const float* a = rows + cols * seed;
    const float area_a = arith::box_area<C>(a[0], a[1], a[2], a[3]);
    std::size_t c = 0, w = 0;
    cluster[c++] = seed;
    for (std::size_t j = 1; j < m; ++j) {
      const float* b = rows + cols * remaining[j];
      const float area_b = arith::box_area<C>(b[0], b[1], b[2], b[3]);
      const float iou = arith::box_iou<C>(a[0], a[1], a[2], a[3], area_a, b[0], b[1], b[2], b[3], area_b);
      if (iou > t) cluster[c++] = remaining[j];
      else remaining[w++] = remaining[j];
    }
    m = w;

    float* o = buf.out_rows.data() + cols * nk;
    if (c == 1) {
      std::memcpy(o, a, cols * sizeof(float));
    } else {
      float total = 0.f;
      for (std::size_t i = 0; i < c; ++i) total = arith::add(total, buf.score[cluster[i]]);
      for (std::size_t col = 0; col < cols; ++col) {
        if (col == 4) continue;
        float sum = 0.f;
        for (std::size_t i = 0; i < c; ++i)
          sum = arith::add(sum, arith::mul(rows[cols * cluster[i] + col], buf.score[cluster[i]]));
        o[col] = arith::div(sum, total);
      }
      o[4] = arith::div(total, float(c));
    }
    for (std::size_t col = 0; col < cols; ++col)
      if (col != 4) o[col] = arith::mul(o[col], S);  // exact: S is a power of two
    map_row(o, cols, mapping);
    bool finite = true;
    for (std::size_t col = 0; col < cols; ++col) finite = finite && std::isfinite(o[col]);
    if (!finite) continue;  // every output value is finite
    buf.out_source[nk++] = buf.source[seed];
  }
  return nk;
}

}  // namespace detail

/// BlazeFace post-processing with its anchors and reusable buffers: after the first frame, no
/// allocation. Detections are `x1 y1 x2 y2 score` and 6 keypoints (x, y), in network-input
/// pixels (then `mapping`), in the order of the clusters' seeds (descending seed score; the
/// averaged scores need not be sorted); source_index is the seed's anchor (0..895).
class BlazefacePostprocessor {
 public:
  explicit BlazefacePostprocessor(BlazefaceModel model = BlazefaceModel::front, BlazefaceParams params = {}) noexcept
      : model_(model), params_(params) {
    blazeface_anchors(model == BlazefaceModel::back ? BlazefaceModel::back : BlazefaceModel::front, anchors_.data());
  }
  BlazefaceModel model() const noexcept { return model_; }
  int input_size() const noexcept { return blazeface_input_size(model_); }
  const BlazefaceParams& params() const noexcept { return params_; }
  void set_params(const BlazefaceParams& p) noexcept { params_ = p; }
  const RunStats& stats() const noexcept { return buf_.stats; }
  /// The 896 anchors, rows of `x_center y_center w h` (normalised).
  const float* anchors() const noexcept { return anchors_.data(); }

  /// `mapping`: network-input pixels to the original image (the letterbox: ImageMapping::
  /// letterbox(scale_x, scale_y, pad_x, pad_y)), applied to the output rows after NMS.
  FamilyDetections run(const BlazefaceHeads& heads, const ImageMapping& mapping = {}) {
    FamilyDetections d;
    throw_if_error(try_run(heads, mapping, d));
    return d;
  }

  Status try_run(const BlazefaceHeads& heads, const ImageMapping& mapping, FamilyDetections& out) noexcept {
    out = FamilyDetections{};
    buf_.stats = RunStats{};
    Status s = detail::validate_blazeface(model_, heads, params_);
    if (s.ok()) s = validate_mapping(mapping);
    constexpr std::size_t cols = kBlazefaceCols;
    if (s.ok()) s = detail::reserve_family(buf_, kBlazefaceAnchors, cols, "BlazeFace");
    if (!s.ok()) return s;

    const float t = params_.threshold_for(model_);
    const float S = float(blazeface_input_size(model_));
    std::size_t n = 0;
    for (std::size_t r = 0; r < kBlazefaceAnchors; ++r) {
      std::ptrdiff_t sc = 1, rc = 1;
      float tmp[kBlazefaceRegressorCols];
      const float score = detail::blazeface_score(detail::blazeface_row(heads.scores, r, tmp, sc)[0]);
      if (!(score >= t)) continue;  // NaN never passes
      const float* reg = detail::blazeface_row(heads.regressors, r, tmp, rc);
      float* row = buf_.rows.data() + cols * n;
      if (!detail::blazeface_decode(reg, rc, anchors_.data() + 4 * r, S, score, row)) continue;
      buf_.score[n] = score;
      buf_.source[n] = static_cast<std::uint32_t>(r);
      ++n;
    }
    // Descending score, ties in anchor order (torch's argsort leaves ties undefined).
    const std::size_t nr = rank_candidates_radix(buf_.score.data(), n, 0, buf_.order.data(), buf_.rank);
    const std::size_t nk = detail::blazeface_weighted_nms(buf_, nr, params_.nms_threshold, S, mapping);
    buf_.stats = RunStats{kBlazefaceAnchors, n, nr, nk};
    out = FamilyDetections(buf_.out_rows.data(), buf_.out_source.data(), nk, cols);
    return s;
  }

 private:
  BlazefaceModel model_;
  BlazefaceParams params_;
  std::array<float, kBlazefaceAnchors * 4> anchors_;
  FamilyBuffers buf_;
};

FACEPOST_ABI_END
}  // namespace facepost
