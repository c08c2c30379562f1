// facepost/nms/workspace.hpp - the boxes NMS takes and the scratch memory it reuses.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "facepost/detail/buffer.hpp"
#include "facepost/isa.hpp"

namespace facepost {
FACEPOST_ABI_BEGIN

/// Boxes in priority order (highest score first), structure of arrays.
struct BoxesSoA {
  const float* x1 = nullptr;
  const float* y1 = nullptr;
  const float* x2 = nullptr;
  const float* y2 = nullptr;
  std::size_t size = 0;
};

/// Boxes laid out by slot (grid cell order, or kept order), with their kept flags.
struct SlotBoxes {
  const float* x1;
  const float* y1;
  const float* x2;
  const float* y2;
  const float* area;
  const std::int32_t* kept;  ///< ~0 once the box is kept, else 0
};

/// Scratch memory of nms_greedy, reused across calls: reserve(n) once and every call with at
/// most n boxes runs without allocating.
struct NmsWorkspace {
  static constexpr int kMaxLevels = 40;
  detail::Buffer<float> area;              ///< per box, in priority order
  detail::Buffer<float> slots;             ///< boxes by slot: five arrays of n (x1, y1, x2, y2, area)
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

  SlotBoxes slot_boxes() const noexcept {
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

FACEPOST_ABI_END
}  // namespace facepost
