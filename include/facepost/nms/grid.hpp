// facepost/nms/grid.hpp - the loose multi-level grid the exact NMS files its boxes in.
//
// Level L has square cells of side c_L = c_0 * 2^L and holds the boxes whose longer side (plus 2,
// and a relative 1e-9) fits in a cell, each filed by its top-left corner: a box then spans at most
// its own cell and the next one in x and in y, so the boxes that can overlap a query lie in a
// small window of rows of cells. The top level holds every box.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>

#include "facepost/isa.hpp"
#include "facepost/nms/workspace.hpp"

namespace facepost {
FACEPOST_ABI_BEGIN
namespace detail {

struct NmsGrid {
  struct Level {
    double cell = 0, inv_cell = 0;
    std::int64_t gx = 0, gy = 0;
    std::size_t offset = 0;  ///< first cell of the level
    std::size_t count = 0;   ///< kept boxes filed here
    float min_area = 0;      ///< smallest and largest area (convention's) of the kept boxes
    float max_area = 0;

    void add_kept(float area) noexcept {
      min_area = count == 0 ? area : std::min(min_area, area);
      max_area = count == 0 ? area : std::max(max_area, area);
      ++count;
    }
  };
  Level level[NmsWorkspace::kMaxLevels];
  int levels = 0;
  double min_x = 0, min_y = 0;

  static double extent(const float* box) noexcept {
    return std::max(double(box[2]) - double(box[0]), double(box[3]) - double(box[1]));
  }

  /// Sets up the levels for finite boxes; returns the number of cells used (at most
  /// NmsWorkspace::cell_capacity(n)). `cell_scale`: level-0 cells per smallest box (each kernel
  /// set's kNmsCellScale: wide SIMD lanes favour fewer, longer slot runs per query).
  std::size_t setup(const BoxesSoA& b, double cell_scale) noexcept {
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
    // Level 0 cells: no smaller than the smallest box (times cell_scale), few enough for the
    // budget on each axis and in total.
    double c0 = cell_scale * std::max({emin + 2.0, std::sqrt(w * h / budget), std::max(w, h) / budget, 1.0});
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

  /// Files every box into its cell by a counting sort, so each cell's boxes are contiguous and, in
  /// a row of cells, so are the rows'. Fills the workspace's slots (kept flags cleared), slot_of,
  /// level_of and cell_start. Needs setup(b) first.
  void file(const BoxesSoA& b, std::size_t cells, NmsWorkspace& ws) const noexcept {
    std::int32_t* start = ws.cell_start.data();
    std::int32_t* cell_of = ws.cell_of.data();
    std::int32_t* level_of_box = ws.level_of.data();
    std::fill(start, start + cells + 1, 0);
    for (std::size_t i = 0; i < b.size; ++i) {
      const float box[4] = {b.x1[i], b.y1[i], b.x2[i], b.y2[i]};
      level_of_box[i] = level_of(box);
      const Level& l = level[level_of_box[i]];
      const std::size_t c = l.offset + std::size_t(cell_y(l, box[1]) * l.gx + cell_x(l, box[0]));
      cell_of[i] = std::int32_t(c);
      ++start[c + 1];
    }
    for (std::size_t c = 0; c < cells; ++c) start[c + 1] += start[c];
    for (std::size_t i = 0; i < b.size; ++i) {
      const std::int32_t s = start[cell_of[i]]++;
      ws.slot_of[i] = s;
      const float box[4] = {b.x1[i], b.y1[i], b.x2[i], b.y2[i]};
      ws.store_slot(std::size_t(s), box, ws.area[i]);
      ws.kept[std::size_t(s)] = 0;
    }
    // The increments moved each start to the next cell's start: shift back.
    for (std::size_t c = cells; c > 0; --c) start[c] = start[c - 1];
    start[0] = 0;
  }
};

}  // namespace detail
FACEPOST_ABI_END
}  // namespace facepost
