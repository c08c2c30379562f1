// facepost/nms.hpp - exact greedy non-maximum suppression that only compares boxes that can
// overlap.
//
// Greedy NMS keeps a box iff no earlier kept box suppresses it. Two boxes that do not intersect
// have IoU 0 (or 0/0 = NaN for two zero-area boxes under the continuous convention, which keeps),
// so they never suppress: skipping them changes nothing. Before the greedy pass every box is
// filed, by a counting sort, into a cell of a loose multi-level grid (level L holds boxes no
// larger than its cell size c_L, filed by their top-left corner), so the boxes of a row of cells
// lie contiguously. A query then scans, level by level, only the rows of cells whose boxes could
// reach it -- contiguous runs, tested lane-parallel by the SIMD kernel, counting only boxes
// already kept -- and skips every level whose kept boxes are all too small or too large to
// reach IoU > t (IoU <= smaller area / larger area), and shrinks the window to boxes that
// overlap the query by more than t times its width and height (IoU <= overlap / query side).
// Both bounds carry margins for float rounding. The IoU itself is computed exactly as the
// reference does (iou.hpp), so decisions are those of the O(n^2) loop on every input.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>

#include "facepost/backend.hpp"
#include "facepost/detail/buffer.hpp"
#include "facepost/iou.hpp"
#include "facepost/kernels/generic/suppress.hpp"
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
  detail::Buffer<float> area;              ///< per box, in priority order
  detail::Buffer<float> slots;             ///< boxes by cell: five arrays of n (x1, y1, x2, y2, area)
  detail::Buffer<std::int32_t> kept;       ///< per slot: ~0 once kept
  detail::Buffer<std::int32_t> slot_of;    ///< per box: its slot
  detail::Buffer<std::int32_t> cell_of;    ///< per box: its cell
  detail::Buffer<std::int32_t> level_of;   ///< per box: its grid level
  detail::Buffer<std::int32_t> cell_start; ///< per cell: first slot (counting sort), one extra at the end
  std::size_t capacity = 0;

  /// Level-0 cell budget for n boxes; the whole grid needs at most cell_capacity(n) cells.
  static std::size_t level0_budget(std::size_t n) noexcept { return std::max<std::size_t>(64, n); }
  static std::size_t cell_capacity(std::size_t n) noexcept { return 8 * level0_budget(n) + 8 * kMaxLevels; }

  void reserve(std::size_t n) {
    if (n <= capacity) return;
    area.reserve(n);
    slots.reserve(5 * n);
    kept.reserve(n);
    slot_of.reserve(n);
    cell_of.reserve(n);
    level_of.reserve(n);
    cell_start.reserve(cell_capacity(n) + 1);
    capacity = n;
  }

  kernels::generic::SlotBoxes slot_boxes() const noexcept {
    const float* s = slots.data();
    return {s, s + capacity, s + 2 * capacity, s + 3 * capacity, s + 4 * capacity, kept.data()};
  }
  void store_slot(std::size_t at, const float* box, float a) noexcept {
    float* s = slots.data();
    s[at] = box[0], s[capacity + at] = box[1], s[2 * capacity + at] = box[2], s[3 * capacity + at] = box[3];
    s[4 * capacity + at] = a;
  }
};

/// While fewer boxes than this are kept, testing a candidate against every kept box (contiguous,
/// lane-parallel) is cheaper than building the grid; past it the grid takes over.
constexpr std::size_t kNmsGridMinKept = 256;

namespace detail {

/// The plain formulation, one box pair at a time: the peer for tests and benchmarks.
template <IouConvention C>
std::size_t nms_all_pairs(const BoxesSoA& b, SuppressionTest test, std::size_t max_keep, std::uint32_t* keep,
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

/// The loose multi-level grid over the bounding rectangle of all boxes.
struct NmsGrid {
  struct Level {
    double cell = 0, inv_cell = 0;
    std::int64_t gx = 0, gy = 0;
    std::size_t offset = 0;  ///< first cell of the level
    std::size_t count = 0;   ///< kept boxes filed here
    float min_area = 0;      ///< smallest and largest area (convention's) of the kept boxes
    float max_area = 0;
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
    // Level 0 cells: no smaller than the smallest box times the backend's nms_cell_scale, few
    // enough for the budget on each axis and in total. Wide SIMD kernels test 8 or 16 slots per
    // step, so cells twice the box size (fewer, longer runs per query) cost AVX-512 4% (1920x1080
    // crowd) to 20% (crowd_rfb_long640) less NMS time; the scalar kernels pay per slot and
    // measured up to 30% more with them.
    double c0 = kernels::active::Simd::nms_cell_scale *
                std::max({emin + 2.0, std::sqrt(w * h / budget), std::max(w, h) / budget, 1.0});
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

  /// The smallest level whose cell holds the box: a log2 estimate, then exact comparisons.
  int level_of(const float* box) const noexcept {
    const double e = extent(box) * (1.0 + 1e-9) + 2.0;
    int k = 0;
    std::frexp(e * level[0].inv_cell, &k);
    int L = k < 0 ? 0 : (k >= levels ? levels - 1 : k);
    while (L > 0 && level[L - 1].cell >= e) --L;
    while (L + 1 < levels && level[L].cell < e) ++L;
    return L;
  }
  static std::int64_t cell_index(double v, std::int64_t n) noexcept {
    return v < 1.0 ? 0 : (v >= double(n) ? n - 1 : std::int64_t(v));  // floor, clamped to [0, n)
  }
  std::int64_t cell_x(const Level& l, double x) const noexcept { return cell_index((x - min_x) * l.inv_cell, l.gx); }
  std::int64_t cell_y(const Level& l, double y) const noexcept { return cell_index((y - min_y) * l.inv_cell, l.gy); }
};

/// Areas at least this far from underflow keep the relative rounding bounds of the pruning.
constexpr float kNmsMinBoundedArea = 1e-30f;

/// False when no box with an area in [lo, hi] can suppress a box of area `a`. In exact
/// arithmetic IoU <= smaller area / larger area (inter <= both areas, union >= both); computed,
/// the union fl(fl(a + b) - inter) can fall an ulp below the larger area, so the computed IoU
/// may exceed the ratio by a few ulps (a nested box of IoU 0.40000004 at a ratio of 0.4). The
/// ratio is compared with the threshold lowered by 1e-5 relative, and only for areas far from
/// underflow, where relative rounding bounds hold.
inline bool size_can_suppress(float lo, float hi, float a, float t) noexcept {
  if (!(lo >= kNmsMinBoundedArea && a >= kNmsMinBoundedArea)) return true;
  const float t_low = t * (1.f - 1e-5f);
  if (hi < a) return !(hi / a <= t_low);
  if (lo > a) return !(a / lo <= t_low);
  return true;
}

template <IouConvention C>
std::size_t nms_grid(const BoxesSoA& b, SuppressionTest test, std::size_t max_keep, std::uint32_t* keep,
                     NmsWorkspace& ws, std::size_t first, std::size_t nk) noexcept {
  NmsGrid g;
  const std::size_t cells = g.setup(b);
  // File every box into its cell: a counting sort, so each cell's boxes are contiguous and, in a
  // row of cells, so are the rows'.
  std::int32_t* start = ws.cell_start.data();
  std::int32_t* cell_of = ws.cell_of.data();
  std::int32_t* level_of = ws.level_of.data();
  std::int32_t* slot_of = ws.slot_of.data();
  std::fill(start, start + cells + 1, 0);
  for (std::size_t i = 0; i < b.size; ++i) {
    const float box[4] = {b.x1[i], b.y1[i], b.x2[i], b.y2[i]};
    level_of[i] = g.level_of(box);
    const NmsGrid::Level& l = g.level[level_of[i]];
    const std::size_t c = l.offset + std::size_t(g.cell_y(l, box[1]) * l.gx + g.cell_x(l, box[0]));
    cell_of[i] = std::int32_t(c);
    ++start[c + 1];
  }
  for (std::size_t c = 0; c < cells; ++c) start[c + 1] += start[c];
  for (std::size_t i = 0; i < b.size; ++i) {
    const std::int32_t s = start[cell_of[i]]++;
    slot_of[i] = s;
    const float box[4] = {b.x1[i], b.y1[i], b.x2[i], b.y2[i]};
    ws.store_slot(std::size_t(s), box, ws.area[i]);
    ws.kept[std::size_t(s)] = 0;
  }
  // The increments moved each start to the next cell's start: shift back.
  for (std::size_t c = cells; c > 0; --c) start[c] = start[c - 1];
  start[0] = 0;

  // The boxes kept before the grid was built.
  for (std::size_t k = 0; k < nk; ++k) {
    const std::size_t i = keep[k];
    ws.kept[std::size_t(slot_of[i])] = ~0;
    NmsGrid::Level& l = g.level[level_of[i]];
    l.min_area = l.count == 0 ? ws.area[i] : std::min(l.min_area, ws.area[i]);
    l.max_area = l.count == 0 ? ws.area[i] : std::max(l.max_area, ws.area[i]);
    ++l.count;
  }

  // Legacy only: a box whose +1 width or height is <= 0 has an area <= 0, and two areas that
  // sum to 0 make 0/0, a NaN IoU, which py_cpu_nms counts as suppression at any distance. Decode
  // never makes such boxes; when one is the query or has been kept, every kept box is tested.
  auto irregular = [](float area) { return C == IouConvention::legacy_pixel && !(area > 0.f); };
  std::size_t irregular_kept = 0;
  for (std::size_t k = 0; k < nk; ++k) irregular_kept += irregular(ws.area[keep[k]]) ? 1 : 0;

  const kernels::generic::SlotBoxes slots = ws.slot_boxes();
  const float t_size = C == IouConvention::legacy_pixel ? test.threshold_legacy : test.threshold_continuous;
  for (std::size_t i = first; i < b.size && nk < max_keep; ++i) {
    const float box[4] = {b.x1[i], b.y1[i], b.x2[i], b.y2[i]};
    const float area = ws.area[i];
    const int own = level_of[i];
    const bool brute_force = irregular_kept > 0 || irregular(area);
    bool suppressed = brute_force && kernels::active::Simd::any_suppresses<C>(box, area, slots, 0, b.size, test);
    // The computed IoU never exceeds overlap_x / W_q (the overlap's height is at most the query's
    // H_q, the union at least its area), so a kept box that suppresses overlaps the query by more
    // than t * W_q in x, likewise in y: the search window shrinks by that on both sides. The
    // margins (1e-5 relative, 1e-6 of the magnitudes) cover the float rounding of the IoU. It
    // needs a finite query area far from underflow, where relative rounding bounds hold.
    double shrink_x = 0, shrink_y = 0;
    // Likewise IoU <= min(U_q / U_k, U_k / U_q), U a box's longer side: only levels whose boxes'
    // longer sides lie within a factor t of the query's can hold a box that suppresses it.
    int lo = 0, hi = g.levels - 1;
    {
      const double one = C == IouConvention::legacy_pixel ? 1.0 : 0.0;
      const double wq = double(box[2]) - double(box[0]) + one, hq = double(box[3]) - double(box[1]) + one;
      // An infinite area can make the union inf - inf: NaN, which legacy counts as suppression.
      if (!brute_force && wq > 0 && hq > 0 && area >= kNmsMinBoundedArea && area < std::numeric_limits<float>::infinity()) {
        const double t_low = double(t_size) * (1.0 - 1e-5);
        const double mx = std::fabs(double(box[0])) + std::fabs(double(box[2])) + wq;
        const double my = std::fabs(double(box[1])) + std::fabs(double(box[3])) + hq;
        shrink_x = std::max(0.0, t_low * wq - 1e-6 * mx);
        shrink_y = std::max(0.0, t_low * hq - 1e-6 * my);
        // Level L files boxes whose longer side (plus `one`) is at most c_L - 2 + one and, above
        // level 0, more than (c_{L-1} - 2) / (1 + 1e-9) + one (NmsGrid::level_of).
        const double uq = std::max(wq, hq);
        auto too_small = [&](int L) { return g.level[L].cell - 2.0 + one < t_low * uq * (1.0 - 1e-6); };
        auto too_large = [&](int L) {
          return t_low * ((g.level[L - 1].cell - 2.0) / (1.0 + 1e-9) + one) > uq * (1.0 + 1e-6);
        };
        lo = own, hi = own;
        while (lo > 0 && !too_small(lo - 1)) --lo;
        while (hi + 1 < g.levels && !too_large(hi + 1)) ++hi;
      }
    }
    // Visit the box's own level first, then outwards: the kept box that suppresses a candidate
    // is almost always of similar size, so suppressed candidates stop after one level.
    const int steps = 2 * std::max(own - lo, hi - own) + 1;
    for (int step = 0; step < steps && !suppressed && !brute_force; ++step) {
      const int L = own + ((step & 1) ? -(step + 1) / 2 : step / 2);
      if (L < lo || L > hi) continue;
      const NmsGrid::Level& l = g.level[L];
      if (l.count == 0) continue;
      if (!size_can_suppress(l.min_area, l.max_area, area, t_size)) continue;
      // A box filed at (x1, y1) spans at most one cell: it overlaps the query by more than
      // shrink_x only if its x1 lies in [q.x1 + shrink_x - cell, q.x2 - shrink_x] (plus slack,
      // and 1e-6 of the cell for the overlap's rounding), likewise y.
      const double sx = NmsGrid::slack(box[0], box[2], l.cell) + 1e-6 * l.cell;
      const double sy = NmsGrid::slack(box[1], box[3], l.cell) + 1e-6 * l.cell;
      const std::int64_t cx0 = g.cell_x(l, double(box[0]) + shrink_x - l.cell - sx);
      const std::int64_t cx1 = g.cell_x(l, double(box[2]) - shrink_x + sx);
      const std::int64_t cy0 = g.cell_y(l, double(box[1]) + shrink_y - l.cell - sy);
      const std::int64_t cy1 = g.cell_y(l, double(box[3]) - shrink_y + sy);
      if (cx0 > cx1 || cy0 > cy1) continue;  // a level of cells smaller than the overlap needed
      for (std::int64_t cy = cy0; cy <= cy1 && !suppressed; ++cy) {
        const std::size_t row = l.offset + std::size_t(cy * l.gx);
        suppressed = kernels::active::Simd::any_suppresses<C>(box, area, slots, std::size_t(start[row + std::size_t(cx0)]),
                                                               std::size_t(start[row + std::size_t(cx1) + 1]), test);
      }
    }
    if (suppressed) continue;
    irregular_kept += irregular(area) ? 1 : 0;
    ws.kept[std::size_t(slot_of[i])] = ~0;
    NmsGrid::Level& l = g.level[own];
    l.min_area = l.count == 0 ? area : std::min(l.min_area, area);
    l.max_area = l.count == 0 ? area : std::max(l.max_area, area);
    ++l.count;
    keep[nk++] = static_cast<std::uint32_t>(i);
  }
  return nk;
}

template <IouConvention C>
std::size_t nms_greedy_impl(const BoxesSoA& b, SuppressionTest test, std::size_t max_keep,
                            std::uint32_t* keep, NmsWorkspace& ws) noexcept {
  bool finite = true;
  for (std::size_t i = 0; i < b.size; ++i) {
    ws.area[i] = box_area<C>(b.x1[i], b.y1[i], b.x2[i], b.y2[i]);
    // x - x is 0 for a finite x and NaN for an infinite or NaN one.
    finite &= ((b.x1[i] - b.x1[i]) + (b.y1[i] - b.y1[i])) + ((b.x2[i] - b.x2[i]) + (b.y2[i] - b.y2[i])) == 0.f;
  }
  // The grid needs finite coordinates; the pipeline never passes others, a direct caller may.
  if (!finite) return nms_all_pairs<C>(b, test, max_keep, keep, ws);
  // Few kept boxes: each candidate against all of them, kept boxes in slots [0, nk).
  const kernels::generic::SlotBoxes slots = ws.slot_boxes();
  std::size_t nk = 0, i = 0;
  for (; i < b.size && nk < max_keep && nk < kNmsGridMinKept; ++i) {
    const float box[4] = {b.x1[i], b.y1[i], b.x2[i], b.y2[i]};
    if (kernels::active::Simd::any_suppresses<C>(box, ws.area[i], slots, 0, nk, test)) continue;
    ws.store_slot(nk, box, ws.area[i]);
    ws.kept[nk] = ~0;
    keep[nk++] = static_cast<std::uint32_t>(i);
  }
  if (i == b.size || nk == max_keep) return nk;
  return nms_grid<C>(b, test, max_keep, keep, ws, i, nk);  // many kept: the grid, from box i on
}

}  // namespace detail

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

/// Greedy NMS, exactly py_cpu_nms (legacy) or torchvision.ops.nms (continuous): walking the
/// boxes in the given order, a box is kept unless a kept box overlaps it with IoU > threshold.
/// Writes the positions of kept boxes (ascending) to `keep` and returns their count; stops after
/// `max_keep` (0 = no limit), which is exact since later boxes never affect earlier decisions.
/// Any float coordinates and thresholds are accepted; with a non-finite coordinate, or a threshold
/// below 0 or NaN, the whole call runs the O(n^2) loop.
/// Allocates only if `ws` was not reserved for b.size boxes.
inline std::size_t nms_greedy(const BoxesSoA& b, double threshold, IouConvention conv, std::size_t max_keep,
                              std::uint32_t* keep, NmsWorkspace& ws) {
  // Below 0 (or NaN) even disjoint boxes, of IoU 0, suppress: only the all-pairs loop is exact.
  if (!(threshold >= 0.0)) return nms_greedy_all_pairs(b, threshold, conv, max_keep, keep, ws);
  ws.reserve(b.size);
  const std::size_t limit = max_keep == 0 ? b.size : max_keep;
  const SuppressionTest test(threshold);
  return conv == IouConvention::legacy_pixel
             ? detail::nms_greedy_impl<IouConvention::legacy_pixel>(b, test, limit, keep, ws)
             : detail::nms_greedy_impl<IouConvention::continuous>(b, test, limit, keep, ws);
}

}  // namespace facepost
