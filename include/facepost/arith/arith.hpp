// facepost/arith/arith.hpp - the arithmetic every backend agrees on, on scalar lanes: what the
// CPU's scalar paths and the CUDA kernels call (the SIMD kernels include the same -inl files over
// their vector lanes, kernels/<isa>/lanes.hpp).
//
//   exp-inl.hpp     exp in double precision (Taylor series, one rounding to float)
//   decode-inl.hpp  box centre, corners, mapping to original-image pixels
//   iou-inl.hpp     area, IoU, the suppression test of each convention
//   score-inl.hpp   probability and logit predicates, finite test, clamp
//   softmax-inl.hpp exp_f32 and softmax_face (scalar lanes only)
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
#include "facepost/arith/softmax-inl.hpp"
#undef FACEPOST_ARITH_FN

}  // namespace arith
FACEPOST_ABI_END
}  // namespace facepost
