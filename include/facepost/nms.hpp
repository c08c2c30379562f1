// facepost/nms.hpp - exact greedy non-maximum suppression that only compares boxes that can
// overlap.
//
// Greedy NMS keeps a box iff no earlier kept box suppresses it. Two boxes that do not intersect
// have IoU 0 (or 0/0 = NaN for two zero-area boxes under the continuous convention, which keeps),
// so they never suppress: skipping them changes nothing. Kept boxes go into a loose multi-level
// grid (level L holds boxes no larger than its cell size c_L, filed by their top-left corner), so
// a query visits only the few cells whose boxes could reach it, and skips every level whose
// largest box is too small to reach IoU > t with the query (IoU <= smaller area / larger area).
// The IoU itself is computed exactly as the reference does (iou.hpp), so decisions are
// bit-identical to the O(n^2) reference on every input.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>

#include "facepost/detail/buffer.hpp"
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

/// Scratch memory of nms_greedy, reused across calls: reserve(n) once and every call with at
/// most n boxes runs without allocating.
struct NmsWorkspace {
  static constexpr int kMaxLevels = 40;
  detail::Buffer<float> area;          ///< per box
  detail::Buffer<float> kept;          ///< kept boxes packed as x1 y1 x2 y2 area
  detail::Buffer<std::int32_t> next;   ///< per kept box: next kept box in the same cell, -1 ends
  detail::Buffer<std::int32_t> heads;  ///< per grid cell: first kept box, -1 empty
  std::size_t capacity = 0;

  /// Level-0 cell budget for n boxes; the whole grid needs at most cell_capacity(n) cells.
  static std::size_t level0_budget(std::size_t n) noexcept { return std::max<std::size_t>(64, n); }
  static std::size_t cell_capacity(std::size_t n) noexcept { return 8 * level0_budget(n) + 8 * kMaxLevels; }

  void reserve(std::size_t n) {
    if (n <= capacity) return;
    area.reserve(n);
    kept.reserve(5 * n);
    next.reserve(n);
    heads.reserve(cell_capacity(n));
    capacity = n;
  }
};

/// Below this many boxes, comparing with every kept box is cheaper than building a grid.
constexpr std::size_t kNmsGridMinBoxes = 48;

namespace detail {

template <IouConvention C>
inline bool suppressed_by(const float* box, float area, const float* kb, SuppressionTest test) noexcept {
  return test.suppresses<C>(box_iou<C>(kb, kb[4], box, area));
}

template <IouConvention C>
std::size_t nms_all_pairs(const BoxesSoA& b, SuppressionTest test, std::size_t max_keep, std::uint32_t* keep,
                          NmsWorkspace& ws) noexcept {
  float* kept = ws.kept.data();
  std::size_t nk = 0;
  for (std::size_t i = 0; i < b.size && nk < max_keep; ++i) {
    const float box[4] = {b.x1[i], b.y1[i], b.x2[i], b.y2[i]};
    const float area = ws.area[i];
    bool suppressed = false;
    for (std::size_t k = 0; k < nk && !suppressed; ++k) suppressed = suppressed_by<C>(box, area, kept + 5 * k, test);
    if (suppressed) continue;
    float* slot = kept + 5 * nk;
    slot[0] = box[0], slot[1] = box[1], slot[2] = box[2], slot[3] = box[3], slot[4] = area;
    keep[nk++] = static_cast<std::uint32_t>(i);
  }
  return nk;
}

/// The loose multi-level grid over the bounding rectangle of all boxes.
struct NmsGrid {
  struct Level {
    double cell = 0, inv_cell = 0;
    std::int64_t gx = 0, gy = 0;
    std::size_t offset = 0;  ///< first cell in the heads array
    std::size_t count = 0;   ///< kept boxes filed here
    float max_area = 0;      ///< largest area (convention's) filed here
  };
  Level level[NmsWorkspace::kMaxLevels];
  int levels = 0;
  double min_x = 0, min_y = 0;

  static double extent(const float* box) noexcept {
    return std::max(double(box[2]) - double(box[0]), double(box[3]) - double(box[1]));
  }
  /// Slack that keeps every pruning decision conservative despite double rounding.
  static double slack(double a, double b, double cell) noexcept {
    return 4.0 + 1e-9 * (std::fabs(a) + std::fabs(b) + cell);
  }

  /// Sets up the levels; returns the number of cells used (<= NmsWorkspace::cell_capacity(n)).
  std::size_t setup(const BoxesSoA& b) noexcept {
    double x0 = std::numeric_limits<double>::infinity(), y0 = x0, x1 = -x0, y1 = -x0, emin = x0, emax = 0;
    for (std::size_t i = 0; i < b.size; ++i) {
      x0 = std::min(x0, double(b.x1[i]));
      y0 = std::min(y0, double(b.y1[i]));
      x1 = std::max(x1, double(b.x2[i]));
      y1 = std::max(y1, double(b.y2[i]));
      const float box[4] = {b.x1[i], b.y1[i], b.x2[i], b.y2[i]};
      const double e = extent(box);
      emin = std::min(emin, e);
      emax = std::max(emax, e);
    }
    min_x = x0, min_y = y0;
    const double w = x1 - x0, h = y1 - y0;
    const double budget = double(NmsWorkspace::level0_budget(b.size));
    // Level 0 cells: no smaller than the smallest box, few enough for the budget on each axis
    // and in total.
    double c0 = std::max({emin + 2.0, std::sqrt(w * h / budget), std::max(w, h) / budget, 1.0});
    levels = 0;
    std::size_t cells = 0;
    for (double c = c0;; c *= 2.0) {
      Level& l = level[levels++];
      const bool top = levels == NmsWorkspace::kMaxLevels || c >= emax + 2.0;
      if (top) c = std::max(c, emax * (1.0 + 1e-9) + 2.0);  // the top level fits every box
      l = Level{};
      l.cell = c;
      l.inv_cell = 1.0 / c;
      l.gx = std::int64_t(w * l.inv_cell) + 1;
      l.gy = std::int64_t(h * l.inv_cell) + 1;
      l.offset = cells;
      cells += std::size_t(l.gx * l.gy);
      if (top) break;
    }
    return cells;
  }

  int level_of(const float* box) const noexcept {
    const double e = extent(box) * (1.0 + 1e-9) + 2.0;
    int L = 0;
    while (L + 1 < levels && level[L].cell < e) ++L;
    return L;
  }
  std::int64_t cell_x(const Level& l, double x) const noexcept {
    const double v = std::floor((x - min_x) * l.inv_cell);
    return v < 0 ? 0 : (v >= double(l.gx) ? l.gx - 1 : std::int64_t(v));
  }
  std::int64_t cell_y(const Level& l, double y) const noexcept {
    const double v = std::floor((y - min_y) * l.inv_cell);
    return v < 0 ? 0 : (v >= double(l.gy) ? l.gy - 1 : std::int64_t(v));
  }
};

template <IouConvention C>
std::size_t nms_grid(const BoxesSoA& b, SuppressionTest test, double threshold, std::size_t max_keep,
                     std::uint32_t* keep, NmsWorkspace& ws) noexcept {
  NmsGrid g;
  const std::size_t cells = g.setup(b);
  std::int32_t* heads = ws.heads.data();
  std::fill(heads, heads + cells, -1);
  std::int32_t* next = ws.next.data();
  float* kept = ws.kept.data();
  std::size_t nk = 0;
  for (std::size_t i = 0; i < b.size && nk < max_keep; ++i) {
    const float box[4] = {b.x1[i], b.y1[i], b.x2[i], b.y2[i]};
    const float area = ws.area[i];
    // Visit the box's own level first, then outwards: the kept box that suppresses a candidate
    // is almost always of similar size, so suppressed candidates stop after one level.
    const int own = g.level_of(box);
    bool suppressed = false;
    for (int step = 0; step < 2 * g.levels && !suppressed; ++step) {
      const int L = own + ((step & 1) ? -(step + 1) / 2 : step / 2);
      if (L < 0 || L >= g.levels) continue;
      const NmsGrid::Level& l = g.level[L];
      if (l.count == 0) continue;
      // IoU <= max_area / area: a level of much smaller boxes cannot reach the threshold.
      if (threshold > 0 && std::isfinite(area) && 2.0 * double(l.max_area) < threshold * double(area)) continue;
      // A box filed at (x1, y1) spans at most one cell: it can reach the query only if its x1
      // lies in [q.x1 - cell, q.x2] (plus slack), likewise y.
      const double sx = NmsGrid::slack(box[0], box[2], l.cell), sy = NmsGrid::slack(box[1], box[3], l.cell);
      const std::int64_t cx0 = g.cell_x(l, double(box[0]) - l.cell - sx), cx1 = g.cell_x(l, double(box[2]) + sx);
      const std::int64_t cy0 = g.cell_y(l, double(box[1]) - l.cell - sy), cy1 = g.cell_y(l, double(box[3]) + sy);
      for (std::int64_t cy = cy0; cy <= cy1 && !suppressed; ++cy) {
        const std::int32_t* row = heads + l.offset + std::size_t(cy * l.gx);
        for (std::int64_t cx = cx0; cx <= cx1 && !suppressed; ++cx)
          for (std::int32_t k = row[cx]; k >= 0 && !suppressed; k = next[k])
            suppressed = suppressed_by<C>(box, area, kept + 5 * std::size_t(k), test);
      }
    }
    if (suppressed) continue;
    float* slot = kept + 5 * nk;
    slot[0] = box[0], slot[1] = box[1], slot[2] = box[2], slot[3] = box[3], slot[4] = area;
    NmsGrid::Level& l = g.level[own];
    std::int32_t& head = heads[l.offset + std::size_t(g.cell_y(l, box[1]) * l.gx + g.cell_x(l, box[0]))];
    next[nk] = head;
    head = std::int32_t(nk);
    ++l.count;
    l.max_area = std::max(l.max_area, area);
    keep[nk++] = static_cast<std::uint32_t>(i);
  }
  return nk;
}

template <IouConvention C>
std::size_t nms_greedy_impl(const BoxesSoA& b, SuppressionTest test, double threshold, std::size_t max_keep,
                            std::uint32_t* keep, NmsWorkspace& ws) noexcept {
  for (std::size_t i = 0; i < b.size; ++i) ws.area[i] = box_area<C>(b.x1[i], b.y1[i], b.x2[i], b.y2[i]);
  if (b.size < kNmsGridMinBoxes) return nms_all_pairs<C>(b, test, max_keep, keep, ws);
  return nms_grid<C>(b, test, threshold, max_keep, keep, ws);
}

}  // namespace detail

/// Greedy NMS, exactly py_cpu_nms (legacy) or torchvision.ops.nms (continuous): walking the
/// boxes in the given order, a box is kept unless a kept box overlaps it with IoU > threshold.
/// Writes the positions of kept boxes (ascending) to `keep` and returns their count; stops after
/// `max_keep` (0 = no limit), which is exact since later boxes never affect earlier decisions.
/// Boxes must be finite. Allocates only if `ws` was not reserved for b.size boxes.
inline std::size_t nms_greedy(const BoxesSoA& b, double threshold, IouConvention conv, std::size_t max_keep,
                              std::uint32_t* keep, NmsWorkspace& ws) {
  ws.reserve(b.size);
  const std::size_t limit = max_keep == 0 ? b.size : max_keep;
  const SuppressionTest test(threshold);
  return conv == IouConvention::legacy_pixel
             ? detail::nms_greedy_impl<IouConvention::legacy_pixel>(b, test, threshold, limit, keep, ws)
             : detail::nms_greedy_impl<IouConvention::continuous>(b, test, threshold, limit, keep, ws);
}

/// The O(n^2) formulation (every kept box against every later box), kept as the plain peer that
/// tests and benchmarks compare nms_greedy with.
inline std::size_t nms_greedy_all_pairs(const BoxesSoA& b, double threshold, IouConvention conv,
                                        std::size_t max_keep, std::uint32_t* keep, NmsWorkspace& ws) {
  ws.reserve(b.size);
  const std::size_t limit = max_keep == 0 ? b.size : max_keep;
  const SuppressionTest test(threshold);
  for (std::size_t i = 0; i < b.size; ++i)
    ws.area[i] = conv == IouConvention::legacy_pixel
                     ? box_area<IouConvention::legacy_pixel>(b.x1[i], b.y1[i], b.x2[i], b.y2[i])
                     : box_area<IouConvention::continuous>(b.x1[i], b.y1[i], b.x2[i], b.y2[i]);
  return conv == IouConvention::legacy_pixel
             ? detail::nms_all_pairs<IouConvention::legacy_pixel>(b, test, limit, keep, ws)
             : detail::nms_all_pairs<IouConvention::continuous>(b, test, limit, keep, ws);
}

}  // namespace facepost
