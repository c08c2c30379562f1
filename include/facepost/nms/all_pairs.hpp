// facepost/nms/all_pairs.hpp - greedy NMS in its plain O(n^2) formulation, one box pair at a time:
// the peer that tests and benchmarks compare nms_greedy with, and what nms_greedy runs on inputs
// the grid does not take (non-finite coordinates, thresholds below 0 or NaN).
#pragma once

#include <cstddef>
#include <cstdint>

#include "facepost/iou.hpp"
#include "facepost/isa.hpp"
#include "facepost/nms/workspace.hpp"

namespace facepost {
FACEPOST_ABI_BEGIN
namespace detail {

/// ws.area holds the boxes' areas; ws.slots is scratch.
template <IouConvention C>
std::size_t nms_all_pairs(const BoxesSoA& b, const SuppressionTest& test, std::size_t max_keep, std::uint32_t* keep,
                          NmsWorkspace& ws) noexcept {
  float* kept = ws.slots.data();  // packed x1 y1 x2 y2 area per kept box
  std::size_t nk = 0;
  for (std::size_t i = 0; i < b.size && nk < max_keep; ++i) {
    const float box[4] = {b.x1[i], b.y1[i], b.x2[i], b.y2[i]};
    const float area = ws.area[i];
    bool suppressed = false;
    for (std::size_t k = 0; k < nk && !suppressed; ++k)
      suppressed = test.suppresses<C>(box_iou<C>(kept + 5 * k, kept[5 * k + 4], box, area));
    if (suppressed) continue;
    float* slot = kept + 5 * nk;
    slot[0] = box[0], slot[1] = box[1], slot[2] = box[2], slot[3] = box[3], slot[4] = area;
    keep[nk++] = static_cast<std::uint32_t>(i);
  }
  return nk;
}

}  // namespace detail
FACEPOST_ABI_END
}  // namespace facepost
