// facepost/workspace.hpp - FrameWorkspace: one frame's buffers and the pipeline that fills them.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "facepost/backend.hpp"
#include "facepost/decode.hpp"
#include "facepost/detail/buffer.hpp"
#include "facepost/detections.hpp"
#include "facepost/filter.hpp"
#include "facepost/nms.hpp"
#include "facepost/params.hpp"
#include "facepost/rank.hpp"
#include "facepost/tensor.hpp"

namespace facepost {

/// Counts of the last run, for logging and the CLI.
struct RunStats {
  std::size_t priors = 0;      ///< rows of the input tensors
  std::size_t candidates = 0;  ///< rows whose score passed the threshold
  std::size_t ranked = 0;      ///< candidates entering NMS (after top_k, non-finite rows dropped)
  std::size_t detections = 0;  ///< rows returned
};

/// The buffers of one frame and the pipeline over them:
///   filter (score > t) -> rank (score desc, index asc) -> top_k -> decode -> NMS
///   -> keep_top_k -> clip (optional)
/// reserve(n) once for n priors; every later run with at most n priors allocates nothing.
/// Inputs are validated by the caller (Postprocessor, BatchPostprocessor).
class FrameWorkspace {
 public:
  void reserve(std::size_t n) {
    if (capacity_ >= n) return;
    for (auto* v : {&cand_index_, &order_, &out_prior_, &keep_}) v->reserve(n);
    for (auto* v : {&cand_score_, &x1_, &y1_, &x2_, &y2_}) v->reserve(n);
    rows_.reserve(n * kDetectionCols);
    nms_ws_.reserve(n);
    rank_ws_.reserve(n);
    capacity_ = n;
  }
  std::size_t capacity() const noexcept { return capacity_; }

  /// Runs one validated frame against `priors` ([N,4]). Needs reserve(N) first.
  Detections run(const HeadOutputs& heads, const float* priors, const DecodeContext& ctx, const Params& params) noexcept {
    stats_ = RunStats{};
    stats_.priors = heads.loc.rows;
    const std::size_t nc =
        filter_scores(heads.conf, params.score_threshold, params.score_format, cand_index_.data(), cand_score_.data());
    stats_.candidates = nc;
    const std::size_t nr = rank_candidates_radix(cand_score_.data(), nc, params.top_k, order_.data(), rank_ws_);

    // Decode the ranked candidates fully (box, score, landmarks) into detection rows; a row with
    // any non-finite value is dropped here, so NaN/Inf never reach NMS or the output.
    const std::size_t m = kernels::active::Kernels::decode_ranked(
        heads, priors, ctx, order_.data(), nr, cand_index_.data(), cand_score_.data(),
        kernels::generic::DecodedCandidates{rows_.data(), x1_.data(), y1_.data(), x2_.data(), y2_.data(),
                                            out_prior_.data()});
    stats_.ranked = m;

    const BoxesSoA boxes{x1_.data(), y1_.data(), x2_.data(), y2_.data(), m};
    const std::size_t nk = nms_greedy(boxes, params.nms_threshold, params.iou, params.keep_top_k, keep_.data(), nms_ws_);

    // Compact kept rows in place: keep_ is ascending, so row keep_[k] >= k is never overwritten
    // before it is read.
    const ImageMapping& mapping = ctx.mapping;
    for (std::size_t k = 0; k < nk; ++k) {
      const std::size_t src = keep_[k];
      if (src != k) {
        // Distinct rows (src > k): a fixed-size copy the compiler inlines.
        std::memcpy(rows_.data() + kDetectionCols * k, rows_.data() + kDetectionCols * src, kDetectionCols * sizeof(float));
        out_prior_[k] = out_prior_[src];
      }
      if (mapping.clip) clip_row(rows_.data() + kDetectionCols * k, mapping);
    }
    stats_.detections = nk;
    return detections();
  }

  Detections detections() const noexcept { return Detections(rows_.data(), out_prior_.data(), stats_.detections); }
  const RunStats& stats() const noexcept { return stats_; }

 private:
  static void clip_row(float* row, const ImageMapping& m) noexcept {
    static constexpr int kX[7] = {0, 2, 5, 7, 9, 11, 13}, kY[7] = {1, 3, 6, 8, 10, 12, 14};
    for (int k = 0; k < 7; ++k) {
      row[kX[k]] = std::min(std::max(row[kX[k]], 0.f), m.image_width);
      row[kY[k]] = std::min(std::max(row[kY[k]], 0.f), m.image_height);
    }
  }

  std::size_t capacity_ = 0;
  RunStats stats_;
  detail::Buffer<std::uint32_t> cand_index_, order_, out_prior_, keep_;
  detail::Buffer<float> cand_score_, x1_, y1_, x2_, y2_, rows_;
  NmsWorkspace nms_ws_;
  RankWorkspace rank_ws_;
};

}  // namespace facepost
