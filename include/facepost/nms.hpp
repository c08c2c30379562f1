// facepost/nms.hpp - exact greedy non-maximum suppression.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "facepost/iou.hpp"
#include "facepost/params.hpp"

namespace facepost {

/// Boxes in priority order (highest score first), structure of arrays.
struct BoxesSoA {
  const float* x1 = nullptr;
  const float* y1 = nullptr;
  const float* x2 = nullptr;
  const float* y2 = nullptr;
  std::size_t size = 0;
};

/// Scratch memory of nms_greedy, reused across calls (grows, never shrinks).
struct NmsWorkspace {
  std::vector<float> area;
  std::vector<float> kept;  ///< kept boxes packed as x1 y1 x2 y2 area
  void reserve(std::size_t n) {
    if (area.size() < n) area.resize(n);
    if (kept.size() < 5 * n) kept.resize(5 * n);
  }
};

namespace detail {

template <IouConvention C>
std::size_t nms_greedy_impl(const BoxesSoA& b, SuppressionTest test, std::size_t max_keep, std::uint32_t* keep,
                            NmsWorkspace& ws) noexcept {
  float* area = ws.area.data();
  float* kept = ws.kept.data();
  for (std::size_t i = 0; i < b.size; ++i) area[i] = box_area<C>(b.x1[i], b.y1[i], b.x2[i], b.y2[i]);
  std::size_t nk = 0;
  for (std::size_t i = 0; i < b.size && nk < max_keep; ++i) {
    const float box[4] = {b.x1[i], b.y1[i], b.x2[i], b.y2[i]};
    bool suppressed = false;
    // A candidate survives greedy NMS iff no earlier kept box suppresses it.
    for (std::size_t k = 0; k < nk; ++k) {
      const float* kb = kept + 5 * k;
      if (test.suppresses<C>(box_iou<C>(kb, kb[4], box, area[i]))) {
        suppressed = true;
        break;
      }
    }
    if (suppressed) continue;
    float* slot = kept + 5 * nk;
    slot[0] = box[0], slot[1] = box[1], slot[2] = box[2], slot[3] = box[3], slot[4] = area[i];
    keep[nk++] = static_cast<std::uint32_t>(i);
  }
  return nk;
}

}  // namespace detail

/// Greedy NMS, exactly py_cpu_nms (legacy) or torchvision.ops.nms (continuous): walking the
/// boxes in the given order, a box is kept unless a kept box overlaps it with IoU > threshold.
/// Writes the positions of kept boxes (ascending) to `keep` and returns their count; stops after
/// `max_keep` (0 = no limit), which is exact since later boxes never affect earlier decisions.
/// Boxes must be finite. `ws` is reserved for b.size boxes here if it is not already.
inline std::size_t nms_greedy(const BoxesSoA& b, double threshold, IouConvention conv, std::size_t max_keep,
                              std::uint32_t* keep, NmsWorkspace& ws) {
  ws.reserve(b.size);
  const std::size_t limit = max_keep == 0 ? b.size : max_keep;
  const SuppressionTest test(threshold);
  return conv == IouConvention::legacy_pixel
             ? detail::nms_greedy_impl<IouConvention::legacy_pixel>(b, test, limit, keep, ws)
             : detail::nms_greedy_impl<IouConvention::continuous>(b, test, limit, keep, ws);
}

}  // namespace facepost
