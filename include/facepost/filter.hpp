// facepost/filter.hpp - the confidence filter: which priors become candidates.
#pragma once

#include <cstddef>
#include <cstdint>

#include "facepost/arith/arith.hpp"
#include "facepost/dispatch.hpp"
#include "facepost/isa.hpp"
#include "facepost/params.hpp"
#include "facepost/scores.hpp"
#include "facepost/tensor.hpp"

namespace facepost {
FACEPOST_ABI_BEGIN

/// Writes the indices and face scores of the rows whose face score is strictly greater than
/// `threshold` (compared in float32, as numpy does) and finite, in row order. NaN never passes.
/// `index` and `score` need room for conf.rows entries. Returns the number written. A contiguous
/// [N,2] tensor is scanned by the kernel set `k`, any other layout row by row.
inline std::size_t filter_scores(const kernels::KernelTable& k, const TensorView& conf, float threshold,
                                 ScoreFormat format, std::uint32_t* index, float* score) noexcept {
  if (conf.col_stride == 1 && conf.row_stride == 2) {  // contiguous [N,2]: the SIMD kernels
    return format == ScoreFormat::probabilities ? k.filter_probabilities(conf.data, conf.rows, threshold, index, score)
                                                : k.filter_logits(conf.data, conf.rows, threshold, index, score);
  }
  std::size_t n = 0;
  if (format == ScoreFormat::probabilities) {
    const float* p = conf.data + conf.col_stride;  // column 1
    for (std::size_t r = 0; r < conf.rows; ++r, p += conf.row_stride)
      if (arith::probability_passes(*p, threshold)) index[n] = static_cast<std::uint32_t>(r), score[n] = *p, ++n;
    return n;
  }
  if (threshold >= 1.f) return 0;  // a softmax never exceeds 1
  const float cut = logit_prefilter_cut(threshold);
  for (std::size_t r = 0; r < conf.rows; ++r) {
    const float* row = conf.row(r);
    const float l0 = row[0], l1 = row[conf.col_stride];
    if (!arith::logit_margin_passes(l0, l1, cut)) continue;  // also drops NaN
    const float s = arith::softmax_face(l0, l1);
    if (s > threshold) index[n] = static_cast<std::uint32_t>(r), score[n] = s, ++n;  // NaN fails here
  }
  return n;
}

/// filter_scores with the active kernels (dispatch.hpp).
inline std::size_t filter_scores(const TensorView& conf, float threshold, ScoreFormat format, std::uint32_t* index,
                                 float* score) noexcept {
  return filter_scores(active_kernels(), conf, threshold, format, index, score);
}

FACEPOST_ABI_END
}  // namespace facepost
