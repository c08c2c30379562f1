// facepost/nms.hpp - exact greedy non-maximum suppression.
//
// nms_greedy takes exactly the decisions of the O(n^2) loop (nms/all_pairs.hpp) while comparing
// only boxes that can overlap: the algorithm is kernels/generic/nms-inl.hpp (run by the active
// kernel set), its grid nms/grid.hpp, the bounds that prune it nms/bounds.hpp.
#pragma once

#include <cstddef>
#include <cstdint>

#include "facepost/dispatch.hpp"
#include "facepost/iou.hpp"
#include "facepost/isa.hpp"
#include "facepost/nms/all_pairs.hpp"
#include "facepost/nms/workspace.hpp"
#include "facepost/params.hpp"

namespace facepost {
FACEPOST_ABI_BEGIN

/// The O(n^2) formulation (every kept box against every later box), kept as the plain peer that
/// tests and benchmarks compare nms_greedy with.
inline std::size_t nms_greedy_all_pairs(const BoxesSoA& b, double threshold, IouConvention conv,
                                        std::size_t max_keep, std::uint32_t* keep, NmsWorkspace& ws) {
  ws.reserve(b.size);
  const std::size_t limit = max_keep == 0 ? b.size : max_keep;
  const SuppressionTest test(threshold);
  const bool legacy = conv == IouConvention::legacy_pixel;
  for (std::size_t i = 0; i < b.size; ++i)
    ws.area[i] = legacy ? box_area<IouConvention::legacy_pixel>(b.x1[i], b.y1[i], b.x2[i], b.y2[i])
                        : box_area<IouConvention::continuous>(b.x1[i], b.y1[i], b.x2[i], b.y2[i]);
  return legacy ? detail::nms_all_pairs<IouConvention::legacy_pixel>(b, test, limit, keep, ws)
                : detail::nms_all_pairs<IouConvention::continuous>(b, test, limit, keep, ws);
}

/// Greedy NMS, exactly py_cpu_nms (legacy) or torchvision.ops.nms (continuous): walking the
/// boxes in the given order, a box is kept unless a kept box overlaps it with IoU > threshold.
/// Writes the positions of kept boxes (ascending) to `keep` and returns their count; stops after
/// `max_keep` (0 = no limit), which is exact since later boxes never affect earlier decisions.
/// Any float coordinates and thresholds are accepted; with a non-finite coordinate, or a threshold
/// below 0 or NaN, the whole call runs the O(n^2) loop.
/// Allocates only if `ws` was not reserved for b.size boxes. Runs with the kernel set `k`.
inline std::size_t nms_greedy(const kernels::KernelTable& k, const BoxesSoA& b, double threshold, IouConvention conv,
                              std::size_t max_keep, std::uint32_t* keep, NmsWorkspace& ws) {
  // Below 0 (or NaN) even disjoint boxes, of IoU 0, suppress: only the all-pairs loop is exact.
  if (!(threshold >= 0.0)) return nms_greedy_all_pairs(b, threshold, conv, max_keep, keep, ws);
  ws.reserve(b.size);
  const std::size_t limit = max_keep == 0 ? b.size : max_keep;
  const SuppressionTest test(threshold);
  return conv == IouConvention::legacy_pixel ? k.nms_legacy(b, test, limit, keep, ws)
                                             : k.nms_continuous(b, test, limit, keep, ws);
}

/// nms_greedy with the active kernels (dispatch.hpp).
inline std::size_t nms_greedy(const BoxesSoA& b, double threshold, IouConvention conv, std::size_t max_keep,
                              std::uint32_t* keep, NmsWorkspace& ws) {
  return nms_greedy(active_kernels(), b, threshold, conv, max_keep, keep, ws);
}

FACEPOST_ABI_END
}  // namespace facepost
