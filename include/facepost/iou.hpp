// facepost/iou.hpp - IoU and the suppression test of each convention, bit-exact.
#pragma once

#include <cmath>
#include <limits>

#include "facepost/detail/exact.hpp"
#include "facepost/params.hpp"

namespace facepost {

/// Box area as the convention computes it: legacy (x2-x1+1)*(y2-y1+1), continuous (x2-x1)*(y2-y1).
template <IouConvention C>
inline float box_area(float x1, float y1, float x2, float y2) noexcept {
  constexpr float one = C == IouConvention::legacy_pixel ? 1.f : 0.f;
  return ((x2 - x1) + one) * ((y2 - y1) + one);
}

/// IoU of boxes a and b given their areas, in float32 exactly as numpy / torchvision round it:
/// inter = max(0, min(x2) - max(x1) [+1]) * max(0, ...); iou = inter / (area_a + area_b - inter).
template <IouConvention C>
inline float box_iou(const float* a, float area_a, const float* b, float area_b) noexcept {
  constexpr float one = C == IouConvention::legacy_pixel ? 1.f : 0.f;
  const float xx1 = a[0] > b[0] ? a[0] : b[0];
  const float yy1 = a[1] > b[1] ? a[1] : b[1];
  const float xx2 = a[2] < b[2] ? a[2] : b[2];
  const float yy2 = a[3] < b[3] ? a[3] : b[3];
  const float dw = (xx2 - xx1) + one, dh = (yy2 - yy1) + one;
  const float w = dw > 0.f ? dw : 0.f;
  const float h = dh > 0.f ? dh : 0.f;
  const float inter = detail::mul(w, h);
  return inter / ((area_a + area_b) - inter);
}

/// The suppression decision, threshold included, as each reference takes it. Both tests are
/// float-only, so SIMD kernels take exactly the same decisions:
///  - legacy: numpy keeps `ovr <= float32(thresh)`, so a NaN IoU suppresses;
///  - continuous: torchvision suppresses `double(ovr) > thresh`, so NaN keeps. For a float x,
///    x > t (double) iff x > F, F the largest float <= t; that F is `threshold_continuous`.
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

  bool legacy(float iou) const noexcept { return !(iou <= threshold_legacy); }
  bool continuous(float iou) const noexcept { return iou > threshold_continuous; }

  template <IouConvention C>
  bool suppresses(float iou) const noexcept {
    return C == IouConvention::legacy_pixel ? legacy(iou) : continuous(iou);
  }
};

}  // namespace facepost
