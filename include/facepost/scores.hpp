// facepost/scores.hpp - face scores from two-class logits.
#pragma once

#include <cfloat>
#include <cmath>
#include <limits>

#include "facepost/arith/arith.hpp"
#include "facepost/isa.hpp"

namespace facepost {
FACEPOST_ABI_BEGIN

/// Face probability from two-class logits, as a float32 softmax computes it (max subtracted),
/// with facepost's exp so that every backend (CUDA included) gives the same bits.
using arith::softmax_face;

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

FACEPOST_ABI_END
}  // namespace facepost
