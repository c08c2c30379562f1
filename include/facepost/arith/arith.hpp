// facepost/arith/arith.hpp - the arithmetic every backend agrees on, on scalar lanes: what the
// CPU's scalar paths and the CUDA kernels call (the SIMD kernels include the same -inl files over
// their vector lanes, kernels/<isa>/lanes.hpp).
//
//   exp-inl.hpp     exp in double precision (Taylor series, one rounding to float)
//   decode-inl.hpp  box centre, corners, mapping to original-image pixels
//   iou-inl.hpp     area, IoU, the suppression test of each convention
//   score-inl.hpp   probability and logit predicates, finite test, clamp
#pragma once

#include <cstdint>
#include <limits>

#include "facepost/arith/lanes.hpp"
#include "facepost/isa.hpp"
#include "facepost/params.hpp"

namespace facepost {
FACEPOST_ABI_BEGIN
namespace arith {
using namespace lanes;

#define FACEPOST_ARITH_FN FACEPOST_HD FACEPOST_INLINE
#include "facepost/arith/all-inl.hpp"
#undef FACEPOST_ARITH_FN

/// exp(x) for float x, the same bits on every backend.
FACEPOST_HD FACEPOST_INLINE float exp_f32(float x) noexcept { return to_float(exp_lanes(double(x))); }

/// Face probability from two-class logits, as a float32 softmax computes it (max subtracted),
/// with facepost's exp.
FACEPOST_HD FACEPOST_INLINE float softmax_face(float l0, float l1) noexcept {
  const float m = max_ref(l0, l1);
  const float e0 = exp_f32(sub(l0, m)), e1 = exp_f32(sub(l1, m));
  return div(e1, add(e0, e1));
}

}  // namespace arith
FACEPOST_ABI_END
}  // namespace facepost
