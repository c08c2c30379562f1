// facepost/filter.hpp - the confidence filter: which priors become candidates.
#pragma once

#include <cfloat>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>

#include "facepost/backend.hpp"
#include "facepost/params.hpp"
#include "facepost/scores.hpp"
#include "facepost/tensor.hpp"

namespace facepost {

/// Writes the indices and face scores of the rows whose face score is strictly greater than
/// `threshold` (compared in float32, as numpy does) and finite, in row order. NaN never passes.
/// `index` and `score` need room for conf.rows entries. Returns the number written.
inline std::size_t filter_scores(const TensorView& conf, float threshold, ScoreFormat format, std::uint32_t* index,
                                 float* score) noexcept {
  if (conf.col_stride == 1 && conf.row_stride == 2) {  // contiguous [N,2]: the SIMD kernels
    return format == ScoreFormat::probabilities
               ? kernels::active::Kernels::filter_probabilities(conf.data, conf.rows, threshold, index, score)
               : kernels::active::Kernels::filter_logits(conf.data, conf.rows, threshold, index, score);
  }
  std::size_t n = 0;
  const float inf = std::numeric_limits<float>::infinity();
  if (format == ScoreFormat::probabilities) {
    const float* p = conf.data + conf.col_stride;  // column 1
    for (std::size_t r = 0; r < conf.rows; ++r, p += conf.row_stride) {
      const float s = *p;
      if (s > threshold && s < inf) {
        index[n] = static_cast<std::uint32_t>(r);
        score[n] = s;
        ++n;
      }
    }
    return n;
  }
  if (threshold >= 1.f) return 0;  // a softmax never exceeds 1
  const float cut = logit_prefilter_cut(threshold);
  for (std::size_t r = 0; r < conf.rows; ++r) {
    const float* row = conf.row(r);
    const float l0 = row[0], l1 = row[conf.col_stride];
    if (!(l1 - l0 > cut)) continue;  // also drops NaN
    const float s = softmax_face(l0, l1);
    if (s > threshold) {  // NaN (from infinite logits) fails here
      index[n] = static_cast<std::uint32_t>(r);
      score[n] = s;
      ++n;
    }
  }
  return n;
}

}  // namespace facepost
