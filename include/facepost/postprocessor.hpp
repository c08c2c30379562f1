// facepost/postprocessor.hpp - the whole pipeline in one reusable object.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <new>
#include <vector>

#include "facepost/anchors.hpp"
#include "facepost/decode.hpp"
#include "facepost/detections.hpp"
#include "facepost/error.hpp"
#include "facepost/filter.hpp"
#include "facepost/nms.hpp"
#include "facepost/params.hpp"
#include "facepost/priors.hpp"
#include "facepost/rank.hpp"
#include "facepost/tensor.hpp"

namespace facepost {

/// Counts of the last run, for logging and the CLI.
struct RunStats {
  std::size_t priors = 0;      ///< rows of the input tensors
  std::size_t candidates = 0;  ///< rows whose score passed the threshold
  std::size_t ranked = 0;      ///< candidates entering NMS after top_k and dropping non-finite boxes
  std::size_t detections = 0;  ///< rows returned
};

/// Post-processes frames: priors cached per input size, every buffer reused, so a stream of
/// frames of one size allocates nothing after the first. Not thread-safe; use one per thread.
///
///   filter (score > t) -> rank (score desc, index asc) -> top_k -> decode -> NMS
///   -> keep_top_k -> clip (optional)
template <class Spec = AnchorConfig>
class BasicPostprocessor {
 public:
  explicit BasicPostprocessor(Spec spec = {}, Params params = {}) : grid_(std::move(spec)), params_(params) {}

  const Params& params() const noexcept { return params_; }
  void set_params(const Params& p) noexcept { params_ = p; }
  const PriorGrid<Spec>& priors() const noexcept { return grid_; }
  const RunStats& stats() const noexcept { return stats_; }

  /// Runs the pipeline; throws facepost::Error on bad input.
  Detections run(const HeadOutputs& heads, InputSize input, const ImageMapping& mapping = {}) {
    Detections d;
    throw_if_error(try_run(heads, input, mapping, d));
    return d;
  }

  /// No-throw variant: returns a Status naming the problem (out-of-memory included).
  Status try_run(const HeadOutputs& heads, InputSize input, const ImageMapping& mapping, Detections& out) noexcept {
    out = Detections{};
    stats_ = RunStats{};
    Status s = validate_params(params_);
    if (s.ok()) s = validate_mapping(mapping);
    if (!s.ok()) return s;
    try {
      s = grid_.try_build(input);
      if (!s.ok()) return s;
      s = validate_heads(heads, grid_.size());
      if (!s.ok()) return s;
      reserve(grid_.size());
    } catch (const std::bad_alloc&) {
      return Status::failure(Errc::size_overflow, "out of memory for %zu priors", grid_.size());
    }
    execute(heads, DecodeContext(input, grid_.spec().variance, mapping), mapping);
    out = Detections(rows_.data(), out_prior_.data(), stats_.detections);
    return s;
  }

 private:
  void reserve(std::size_t n) {
    if (cand_index_.size() >= n) return;
    cand_index_.resize(n);
    cand_score_.resize(n);
    order_.resize(n);
    for (auto* v : {&x1_, &y1_, &x2_, &y2_}) v->resize(n);
    rows_.resize(n * kDetectionCols);
    out_prior_.resize(n);
    keep_.resize(n);
    nms_ws_.reserve(n);
    rank_ws_.reserve(n);
  }

  void execute(const HeadOutputs& heads, const DecodeContext& ctx, const ImageMapping& mapping) noexcept {
    stats_.priors = heads.loc.rows;
    const std::size_t nc = filter_scores(heads.conf, params_.score_threshold, params_.score_format,
                                         cand_index_.data(), cand_score_.data());
    stats_.candidates = nc;
    const std::size_t nr = rank_candidates_radix(cand_score_.data(), nc, params_.top_k, order_.data(), rank_ws_);

    // Decode the ranked candidates fully (box, score, landmarks) into detection rows; a row with
    // any non-finite value is dropped here, so NaN/Inf never reach NMS or the output.
    const float* priors = grid_.data();
    std::size_t m = 0;
    for (std::size_t r = 0; r < nr; ++r) {
      const std::uint32_t c = order_[r];
      const std::uint32_t p = cand_index_[c];
      float* row = rows_.data() + kDetectionCols * m;
      decode_box(priors + 4 * std::size_t(p), row_ref(heads.loc, p), ctx, row);
      row[4] = cand_score_[c];
      decode_landmarks(priors + 4 * std::size_t(p), row_ref(heads.landms, p), ctx, row + 5);
      bool finite = true;
      for (std::size_t k = 0; k < kDetectionCols; ++k) finite &= std::isfinite(row[k]);
      if (!finite) continue;
      x1_[m] = row[0], y1_[m] = row[1], x2_[m] = row[2], y2_[m] = row[3];
      out_prior_[m] = p;
      ++m;
    }
    stats_.ranked = m;

    const BoxesSoA boxes{x1_.data(), y1_.data(), x2_.data(), y2_.data(), m};
    const std::size_t nk =
        nms_greedy(boxes, params_.nms_threshold, params_.iou, params_.keep_top_k, keep_.data(), nms_ws_);

    // Compact kept rows in place: keep_ is ascending, so row keep_[k] >= k is never overwritten
    // before it is read.
    for (std::size_t k = 0; k < nk; ++k) {
      const std::size_t src = keep_[k];
      if (src != k) {
        std::copy_n(rows_.data() + kDetectionCols * src, kDetectionCols, rows_.data() + kDetectionCols * k);
        out_prior_[k] = out_prior_[src];
      }
      if (mapping.clip) clip_row(rows_.data() + kDetectionCols * k, mapping);
    }
    stats_.detections = nk;
  }

  static void clip_row(float* row, const ImageMapping& m) noexcept {
    auto clamp = [](float v, float hi) { return std::min(std::max(v, 0.f), hi); };
    row[0] = clamp(row[0], m.image_width);
    row[1] = clamp(row[1], m.image_height);
    row[2] = clamp(row[2], m.image_width);
    row[3] = clamp(row[3], m.image_height);
    for (int k = 0; k < 5; ++k) {
      row[5 + 2 * k] = clamp(row[5 + 2 * k], m.image_width);
      row[6 + 2 * k] = clamp(row[6 + 2 * k], m.image_height);
    }
  }

  PriorGrid<Spec> grid_;
  Params params_;
  RunStats stats_;
  std::vector<std::uint32_t> cand_index_, order_, out_prior_, keep_;
  std::vector<float> cand_score_, x1_, y1_, x2_, y2_, rows_;
  NmsWorkspace nms_ws_;
  RankWorkspace rank_ws_;
};

/// Post-processor for a runtime anchor configuration.
using Postprocessor = BasicPostprocessor<AnchorConfig>;

}  // namespace facepost
