// facepost/nms/bounds.hpp - the bounds that let the grid NMS skip boxes, each with the margin that
// keeps it conservative under float rounding.
//
// In exact arithmetic a box k can suppress a query q only if IoU(k, q) > t, and
//   IoU <= smaller area / larger area            (inter <= both areas, union >= both)
//   IoU <= overlap_x / W_q, overlap_y / H_q      (inter <= overlap_x * H_q, union >= W_q * H_q)
//   IoU <= shorter / longer of the longer sides  (follows from the two above)
// The computed IoU can exceed these by a few ulps (the union fl(fl(a + b) - inter) can fall an ulp
// below the larger area: a nested box at an area ratio of 0.4 has a computed IoU of 0.40000004),
// so each bound is compared with a threshold lowered by a relative margin, and only where relative
// rounding bounds hold (finite areas far from underflow). tests/test_nms_bounds.cpp shows each
// margin needed and sufficient at its edge; tests/fuzz/fuzz_nms.cpp compares the grid with the
// all-pairs loop on arbitrary boxes.
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>

#include "facepost/isa.hpp"

namespace facepost {
FACEPOST_ABI_BEGIN
namespace detail {

/// Areas at least this far from underflow keep the relative rounding bounds of the pruning.
constexpr float kNmsMinBoundedArea = 1e-30f;
/// Relative margin by which every bound's threshold is lowered (covers a few ulps of float IoU).
constexpr double kNmsThresholdMargin = 1e-5;
/// Margin on overlaps, relative to the magnitudes of the coordinates (their rounding in float).
constexpr double kNmsOverlapMargin = 1e-6;
/// Relative margin on the longer sides compared between grid levels.
constexpr double kNmsLevelMargin = 1e-6;

/// The threshold the bounds compare with: t lowered by kNmsThresholdMargin.
inline double nms_bound_threshold(double t) noexcept { return t * (1.0 - kNmsThresholdMargin); }

/// False when no box with an area in [lo, hi] can suppress a box of area `a` at threshold t
/// (area-ratio bound).
inline bool size_can_suppress(float lo, float hi, float a, float t) noexcept {
  if (!(lo >= kNmsMinBoundedArea && a >= kNmsMinBoundedArea)) return true;
  const float t_low = t * (1.f - float(kNmsThresholdMargin));
  if (hi < a) return !(hi / a <= t_low);
  if (lo > a) return !(a / lo <= t_low);
  return true;
}

/// Whether the side bounds may be used for a query of (convention) width wq, height hq and area.
/// An infinite area can make the union inf - inf, a NaN that legacy counts as suppression.
inline bool side_bounds_apply(double wq, double hq, float area) noexcept {
  return wq > 0 && hq > 0 && area >= kNmsMinBoundedArea && area < std::numeric_limits<float>::infinity();
}

/// A suppressing box overlaps the query by more than this along an axis where the query spans
/// [lo, hi] with (convention) side `side` (overlap bound). t_low from nms_bound_threshold.
inline double overlap_needed(double t_low, double side, double lo, double hi) noexcept {
  return std::max(0.0, t_low * side - kNmsOverlapMargin * (std::fabs(lo) + std::fabs(hi) + side));
}

/// True when every box of a level whose longer sides (plus `one`) are at most `longest` is too
/// small to suppress a query whose longer side is uq (side-ratio bound).
inline bool level_too_small(double longest, double t_low, double uq) noexcept {
  return longest < t_low * uq * (1.0 - kNmsLevelMargin);
}

/// True when every box of a level whose longer sides (plus `one`) exceed `shortest` is too large
/// to suppress a query whose longer side is uq.
inline bool level_too_large(double shortest, double t_low, double uq) noexcept {
  return t_low * shortest > uq * (1.0 + kNmsLevelMargin);
}

/// Slack on a cell window along an axis where the query spans [lo, hi]: cell indices come from
/// double arithmetic on float coordinates.
inline double cell_window_slack(double lo, double hi, double cell) noexcept {
  return 4.0 + 1e-9 * (std::fabs(lo) + std::fabs(hi) + cell) + kNmsOverlapMargin * cell;
}

}  // namespace detail
FACEPOST_ABI_END
}  // namespace facepost
