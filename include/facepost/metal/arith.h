// facepost/metal/arith.h - the arithmetic of arith/*-inl.hpp (exp, decode, IoU, scores, softmax)
// instantiated for Metal over metal/lanes.h: msl::arith::exp_f32, softmax_face, decode_center,
// box_iou, suppresses, ... compute the CPU's bits (tests/metal/arith).
//
// MSL subset (see metal/lanes.h); only quoted "facepost/..." includes, so the Metal source can be
// flattened into one string for newLibraryWithSource.
#pragma once

#include "facepost/metal/lanes.h"

// +inf for score-inl.hpp (MSL's INFINITY is a float constant expression).
#define FACEPOST_DETAIL_INF INFINITY

namespace facepost {
namespace msl {

/// The same values as facepost::IouConvention (params.hpp); the arithmetic files name it
/// unqualified.
enum class IouConvention : int {
  legacy_pixel = 0,
  continuous = 1,
};

namespace arith {
using namespace lanes;

#define FACEPOST_ARITH_FN inline
#include "facepost/arith/all-inl.hpp"
#include "facepost/arith/softmax-inl.hpp"
#undef FACEPOST_ARITH_FN

}  // namespace arith
}  // namespace msl
}  // namespace facepost
