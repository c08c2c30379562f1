// facepost/kernels/generic/suppress.hpp - does any kept box in a run of slots suppress a box?
//
// The inner test of greedy NMS (nms.hpp). Slots hold boxes as arrays plus a kept flag (0 or ~0);
// a run [begin, end) is scanned and only kept slots count. Each ISA evaluates the IoUs
// lane-parallel with the operations of box_iou (iou.hpp) in the same order, so decisions are
// identical on every backend; this portable version is the reference for them.
#pragma once

#include <cstddef>
#include <cstdint>

#include "facepost/iou.hpp"

namespace facepost {
namespace kernels {
namespace generic {

/// Boxes laid out by grid cell, with their kept flags.
struct SlotBoxes {
  const float* x1;
  const float* y1;
  const float* x2;
  const float* y2;
  const float* area;
  const std::int32_t* kept;  ///< ~0 once the box is kept, else 0
};

/// True if a kept slot in [begin, end) suppresses box q (x1 y1 x2 y2) of area qa.
template <IouConvention C>
inline bool any_suppresses_scalar(const float* q, float qa, const SlotBoxes& s, std::size_t begin, std::size_t end,
                                  const SuppressionTest& test) noexcept {
  for (std::size_t j = begin; j < end; ++j) {
    if (!s.kept[j]) continue;
    const float kb[4] = {s.x1[j], s.y1[j], s.x2[j], s.y2[j]};
    if (test.suppresses<C>(box_iou<C>(kb, s.area[j], q, qa))) return true;
  }
  return false;
}

}  // namespace generic
}  // namespace kernels
}  // namespace facepost
