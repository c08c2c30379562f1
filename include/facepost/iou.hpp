// facepost/iou.hpp - IoU of two boxes and the suppression test of each convention, bit-exact (the
// formulas: arith/iou-inl.hpp, shared by every backend).
#pragma once

#include <cmath>
#include <limits>

#include "facepost/arith/arith.hpp"
#include "facepost/isa.hpp"
#include "facepost/params.hpp"

namespace facepost {
FACEPOST_ABI_BEGIN

/// Box area as the convention computes it: legacy (x2-x1+1)*(y2-y1+1), continuous (x2-x1)*(y2-y1).
template <IouConvention C>
inline float box_area(float x1, float y1, float x2, float y2) noexcept {
  return arith::box_area<C>(x1, y1, x2, y2);
}

/// IoU of boxes a (the earlier one) and b (x1 y1 x2 y2) given their areas, in float32 exactly as
/// numpy / torchvision round it.
template <IouConvention C>
inline float box_iou(const float* a, float area_a, const float* b, float area_b) noexcept {
  return arith::box_iou<C>(a[0], a[1], a[2], a[3], area_a, b[0], b[1], b[2], b[3], area_b);
}

/// The suppression thresholds of a call, as each reference applies them. Both tests are
/// float-only (arith::suppresses), so every backend takes exactly the same decisions:
///  - legacy: numpy keeps `ovr <= float32(thresh)`;
///  - continuous: torchvision suppresses `double(ovr) > thresh`. For a float x, x > t (double)
///    iff x > F, F the largest float <= t; that F is `threshold_continuous`.
struct SuppressionTest {
  float threshold_legacy;
  float threshold_continuous;

  explicit SuppressionTest(double t) noexcept
      : threshold_legacy(static_cast<float>(t)), threshold_continuous(round_down_to_float(t)) {}

  static float round_down_to_float(double t) noexcept {
    float f = static_cast<float>(t);
    if (static_cast<double>(f) > t) f = std::nextafter(f, -std::numeric_limits<float>::infinity());
    return f;
  }

  template <IouConvention C>
  float threshold() const noexcept {
    return C == IouConvention::legacy_pixel ? threshold_legacy : threshold_continuous;
  }
  bool legacy(float iou) const noexcept { return arith::suppresses<IouConvention::legacy_pixel>(iou, threshold_legacy); }
  bool continuous(float iou) const noexcept {
    return arith::suppresses<IouConvention::continuous>(iou, threshold_continuous);
  }
  template <IouConvention C>
  bool suppresses(float iou) const noexcept {
    return arith::suppresses<C>(iou, threshold<C>());
  }
};

FACEPOST_ABI_END
}  // namespace facepost
