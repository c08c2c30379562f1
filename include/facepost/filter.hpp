// facepost/filter.hpp - the confidence filter: which priors become candidates.
#pragma once

#include <cfloat>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>

#include "facepost/params.hpp"
#include "facepost/tensor.hpp"

namespace facepost {

/// Face probability from two-class logits, as a float32 softmax computes it (max subtracted).
inline float softmax_face(float l0, float l1) noexcept {
  const float m = l0 > l1 ? l0 : l1;
  const float e0 = std::exp(l0 - m), e1 = std::exp(l1 - m);
  return e1 / (e0 + e1);
}

/// Logit-space cut below which no row can pass `p > t`, with a margin that covers the float32
/// rounding of exp and the division; rows above it get their softmax computed exactly.
inline float logit_prefilter_cut(float t) noexcept {
  if (t <= 0.f) return -std::numeric_limits<float>::infinity();
  if (t >= 1.f) return std::numeric_limits<float>::infinity();
  const double td = t;
  const double logit = std::log(td / (1.0 - td));
  const double margin = 1e-3 * (1.0 + std::fabs(logit)) + 64.0 * FLT_EPSILON / (1.0 - td);
  return static_cast<float>(logit - margin);
}

/// Writes the indices and face scores of the rows whose face score is strictly greater than
/// `threshold` (compared in float32, as numpy does) and finite, in row order. NaN never passes.
/// `index` and `score` need room for conf.rows entries. Returns the number written.
inline std::size_t filter_scores(const TensorView& conf, float threshold, ScoreFormat format, std::uint32_t* index,
                                 float* score) noexcept {
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
