// facepost/pipeline.hpp - the post-processing pipeline of one frame, stage by stage:
//
//   filter (score > t, finite)      kernels: filter_probabilities / filter_logits   filter.hpp
//   rank (score desc, index asc)    radix sort, top_k                                rank.hpp
//   decode (box, score, landmarks)  kernels: decode_ranked, non-finite rows dropped  decode.hpp
//   NMS (greedy, exact)             kernels: nms_legacy / nms_continuous, keep_top_k nms.hpp
//   compact and clip                kept rows moved up, clamped to the image (optional)
//
// FrameBuffers holds the scratch memory; run_pipeline runs the stages with one kernel set (a
// KernelTable: active_kernels() unless a caller asks for another). Inputs are validated by the
// caller (Postprocessor, BatchPostprocessor).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "facepost/arith/arith.hpp"
#include "facepost/decode.hpp"
#include "facepost/detail/buffer.hpp"
#include "facepost/detections.hpp"
#include "facepost/dispatch.hpp"
#include "facepost/filter.hpp"
#include "facepost/isa.hpp"
#include "facepost/kernels/table.hpp"
#include "facepost/nms.hpp"
#include "facepost/params.hpp"
#include "facepost/rank.hpp"
#include "facepost/tensor.hpp"

namespace facepost {
FACEPOST_ABI_BEGIN

/// Counts of the last run, for logging and the CLI.
struct RunStats {
  std::size_t priors = 0;      ///< rows of the input tensors
  std::size_t candidates = 0;  ///< rows whose score passed the threshold
  std::size_t ranked = 0;      ///< candidates entering NMS (after top_k, non-finite rows dropped)
  std::size_t detections = 0;  ///< rows returned
};

/// The scratch memory of one frame: reserve(n) once for n priors, and every later run with at
/// most n priors allocates nothing.
struct FrameBuffers {
  std::size_t capacity = 0;
  detail::Buffer<std::uint32_t> cand_index, order, out_prior, keep;
  detail::Buffer<float> cand_score, x1, y1, x2, y2, rows;
  NmsWorkspace nms;
  RankWorkspace rank;

  void reserve(std::size_t n) {
    if (capacity >= n) return;
    for (auto* v : {&cand_index, &order, &out_prior, &keep}) v->reserve(n);
    for (auto* v : {&cand_score, &x1, &y1, &x2, &y2}) v->reserve(n);
    rows.reserve(n * kDetectionCols);
    nms.reserve(n);
    rank.reserve(n);
    capacity = n;
  }
};

/// Clamps a detection row's boxes and landmarks to [0, W] x [0, H] (not the score).
inline void clip_detection(float* row, const ImageMapping& m) noexcept {
  static constexpr int kX[7] = {0, 2, 5, 7, 9, 11, 13}, kY[7] = {1, 3, 6, 8, 10, 12, 14};
  for (int k = 0; k < 7; ++k) {
    row[kX[k]] = arith::clamp_to(row[kX[k]], m.image_width);
    row[kY[k]] = arith::clamp_to(row[kY[k]], m.image_height);
  }
}

/// Runs one validated frame against `priors` ([N,4]) with kernel set `k`; `buf` needs
/// reserve(N) first. The detections live in `buf` until its next run.
inline Detections run_pipeline(const kernels::KernelTable& k, const HeadOutputs& heads, const float* priors,
                               const DecodeContext& ctx, const Params& params, FrameBuffers& buf,
                               RunStats& stats) noexcept {
  stats = RunStats{};
  stats.priors = heads.loc.rows;
  const std::size_t nc = filter_scores(k, heads.conf, params.score_threshold, params.score_format,
                                       buf.cand_index.data(), buf.cand_score.data());
  stats.candidates = nc;
  const std::size_t nr = rank_candidates_radix(buf.cand_score.data(), nc, params.top_k, buf.order.data(), buf.rank);

  // Decode the ranked candidates fully (box, score, landmarks) into detection rows; a row with
  // any non-finite value is dropped here, so NaN/Inf never reach NMS or the output.
  const std::size_t m =
      k.decode_ranked(heads, priors, ctx, buf.order.data(), nr, buf.cand_index.data(), buf.cand_score.data(),
                      kernels::DecodedCandidates{buf.rows.data(), buf.x1.data(), buf.y1.data(), buf.x2.data(),
                                                 buf.y2.data(), buf.out_prior.data()});
  stats.ranked = m;

  const BoxesSoA boxes{buf.x1.data(), buf.y1.data(), buf.x2.data(), buf.y2.data(), m};
  // Validated parameters: the threshold is in [0, 1] and buf.nms is reserved, so this never allocates.
  const std::size_t nk =
      nms_greedy(k, boxes, params.nms_threshold, params.iou, params.keep_top_k, buf.keep.data(), buf.nms);

  // Compact kept rows in place: keep is ascending, so row keep[j] >= j is never overwritten
  // before it is read.
  float* rows = buf.rows.data();
  for (std::size_t j = 0; j < nk; ++j) {
    const std::size_t src = buf.keep[j];
    if (src != j) {
      // Distinct rows (src > j): a fixed-size copy the compiler inlines.
      std::memcpy(rows + kDetectionCols * j, rows + kDetectionCols * src, kDetectionCols * sizeof(float));
      buf.out_prior[j] = buf.out_prior[src];
    }
    if (ctx.mapping.clip) clip_detection(rows + kDetectionCols * j, ctx.mapping);
  }
  stats.detections = nk;
  return Detections(rows, buf.out_prior.data(), nk);
}

FACEPOST_ABI_END
}  // namespace facepost
