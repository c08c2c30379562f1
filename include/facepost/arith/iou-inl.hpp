// facepost/arith/iou-inl.hpp - box area, IoU and the suppression test of each convention,
// bit-exact. Included inside a lane namespace; no include guard on purpose. C++14 (Metal).
//
// IoU in float32 exactly as numpy / torchvision round it:
//   inter = max(0, min(x2) - max(x1) [+1]) * max(0, ...);  iou = inter / (area_a + area_b - inter)
// a is the earlier (kept) box: max_ref / min_ref pick the same operand as the references on ties.

/// Area as the convention computes it: legacy (x2-x1+1)*(y2-y1+1), continuous (x2-x1)*(y2-y1).
template <IouConvention C, class F>
FACEPOST_ARITH_FN F box_area(F x1, F y1, F x2, F y2) noexcept {
  const F one(C == IouConvention::legacy_pixel ? 1.f : 0.f);
  return mul(add(sub(x2, x1), one), add(sub(y2, y1), one));
}

template <IouConvention C, class F>
FACEPOST_ARITH_FN F box_iou(F ax1, F ay1, F ax2, F ay2, F area_a, F bx1, F by1, F bx2, F by2,
                                      F area_b) noexcept {
  const F one(C == IouConvention::legacy_pixel ? 1.f : 0.f), zero(0.f);
  const F w = max_ref(add(sub(min_ref(ax2, bx2), max_ref(ax1, bx1)), one), zero);
  const F h = max_ref(add(sub(min_ref(ay2, by2), max_ref(ay1, by1)), one), zero);
  const F inter = mul(w, h);
  return div(inter, sub(add(area_a, area_b), inter));
}

/// The suppression decision, threshold included (`t` from SuppressionTest::threshold<C>()):
///  - legacy: numpy keeps `ovr <= float32(thresh)`, so a NaN IoU suppresses;
///  - continuous: torchvision suppresses `double(ovr) > thresh`, i.e. ovr > F for F the largest
///    float <= thresh, and a NaN IoU keeps.
template <IouConvention C, class F>
FACEPOST_ARITH_FN auto suppresses(F iou, F t) noexcept {
  // A plain if (C++14, for Metal): both branches compile for every lane type.
  if (C == IouConvention::legacy_pixel) return nle(iou, t);
  return gt(iou, t);
}
