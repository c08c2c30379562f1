// The bounds that let the grid NMS skip boxes (facepost/nms/bounds.hpp): each one holds for the
// computed IoU (no pair it excludes has IoU > t), and its margin is needed (the computed IoU does
// exceed the exact-arithmetic bound on some pairs).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

#include "facepost/iou.hpp"
#include "facepost/nms/bounds.hpp"

namespace {

using facepost::IouConvention;

// Under an emulator (the AArch64 build runs in qemu) fewer pairs.
#if defined(FACEPOST_TEST_PROPERTY_TRIALS)
constexpr int kPairs = 40000;
#else
constexpr int kPairs = 400000;
#endif
namespace d = facepost::detail;

struct Pair {
  float k[4], q[4];  // kept box, query
  float ka, qa;      // their areas (convention's)
  float iou;
};

/// A kept box nested in, or overlapping, the query: the pairs whose IoU sits near the bounds.
template <IouConvention C>
Pair random_pair(std::mt19937& rng) {
  std::uniform_real_distribution<double> u(0.0, 1.0);
  const double mag = std::pow(10.0, 6.0 * u(rng)) * (rng() % 2 ? 1 : -1);
  const double w = 4.0 * std::pow(2.0, 10.0 * u(rng)), h = w * (0.3 + 1.4 * u(rng));
  const double kw = w * (0.2 + 0.8 * u(rng)), kh = rng() % 2 ? h : h * (0.2 + 0.8 * u(rng));
  const double kx = mag + (w - kw) * (rng() % 3 == 0 ? 1.2 * u(rng) : u(rng)), ky = mag + (h - kh) * u(rng);
  Pair p{{float(kx), float(ky), float(kx + kw), float(ky + kh)}, {float(mag), float(mag), float(mag + w), float(mag + h)}, 0, 0, 0};
  p.ka = facepost::box_area<C>(p.k[0], p.k[1], p.k[2], p.k[3]);
  p.qa = facepost::box_area<C>(p.q[0], p.q[1], p.q[2], p.q[3]);
  p.iou = facepost::box_iou<C>(p.k, p.ka, p.q, p.qa);
  return p;
}

template <IouConvention C>
void check_bounds(std::uint32_t seed) {
  std::mt19937 rng(seed);
  const double one = C == IouConvention::legacy_pixel ? 1.0 : 0.0;
  std::size_t suppressing = 0, above_ratio = 0, above_overlap = 0;
  for (int i = 0; i < kPairs; ++i) {
    const Pair p = random_pair<C>(rng);
    const float t = float(std::uniform_real_distribution<double>(0.1, 0.9)(rng));
    // Place t right at the pair's IoU half of the time: the decisions at the threshold.
    const float tt = rng() % 2 ? t : std::nextafter(p.iou, 0.f);
    const facepost::SuppressionTest test(tt);
    if (!test.suppresses<C>(p.iou)) continue;
    ++suppressing;
    const float thr = test.threshold<C>();
    const double t_low = d::nms_bound_threshold(thr);
    // Area ratio.
    REQUIRE(d::size_can_suppress(p.ka, p.ka, p.qa, thr));
    const float ratio = std::min(p.ka, p.qa) / std::max(p.ka, p.qa);
    above_ratio += p.iou > ratio ? 1 : 0;
    // Overlap along each axis.
    const double wq = double(p.q[2]) - double(p.q[0]) + one, hq = double(p.q[3]) - double(p.q[1]) + one;
    const double ox = std::min(double(p.k[2]), double(p.q[2])) - std::max(double(p.k[0]), double(p.q[0])) + one;
    const double oy = std::min(double(p.k[3]), double(p.q[3])) - std::max(double(p.k[1]), double(p.q[1])) + one;
    REQUIRE(d::side_bounds_apply(wq, hq, p.qa));
    INFO("iou " << p.iou << " t " << thr << " ox " << ox << " wq " << wq);
    REQUIRE(ox > d::overlap_needed(t_low, wq, p.q[0], p.q[2]));
    REQUIRE(oy > d::overlap_needed(t_low, hq, p.q[1], p.q[3]));
    above_overlap += double(p.iou) > std::min(ox / wq, oy / hq) ? 1 : 0;
    // Longer sides: a level holding exactly the kept box's longer side is neither too small nor
    // too large for the query.
    const double uk = std::max(double(p.k[2]) - double(p.k[0]), double(p.k[3]) - double(p.k[1])) + one;
    const double uq = std::max(wq, hq);
    REQUIRE_FALSE(d::level_too_small(uk, t_low, uq));
    REQUIRE_FALSE(d::level_too_large(uk, t_low, uq));
  }
  CHECK(suppressing > std::size_t(kPairs) / 4);
  // Rounding makes the computed IoU exceed the exact bounds on some pairs: without the margins
  // those suppressions would be pruned.
  CHECK(above_ratio > 0);
  CHECK(above_overlap > 0);
  WARN("pairs with IoU > t: " << suppressing << "; computed IoU above the area ratio: " << above_ratio
                              << ", above the overlap ratio: " << above_overlap);
}

}  // namespace

TEST_CASE("nms bounds: no pair a bound excludes has IoU > t, and the margins are needed (legacy)", "[nms]") {
  check_bounds<IouConvention::legacy_pixel>(7);
}

TEST_CASE("nms bounds: no pair a bound excludes has IoU > t, and the margins are needed (continuous)", "[nms]") {
  check_bounds<IouConvention::continuous>(8);
}

TEST_CASE("nms bounds: the area ratio prunes what it can and nothing near underflow", "[nms]") {
  CHECK_FALSE(d::size_can_suppress(10.f, 30.f, 100.f, 0.4f));   // smaller boxes: ratio 0.3
  CHECK_FALSE(d::size_can_suppress(300.f, 900.f, 100.f, 0.4f));  // larger boxes: ratio 1/3
  CHECK(d::size_can_suppress(40.f, 50.f, 100.f, 0.4f));          // ratio 0.4: the margin keeps it
  CHECK(d::size_can_suppress(50.f, 200.f, 100.f, 0.4f));         // the range spans the area
  CHECK(d::size_can_suppress(1e-31f, 1e-31f, 100.f, 0.4f));      // below kNmsMinBoundedArea
  CHECK(d::size_can_suppress(10.f, 10.f, 0.f, 0.4f));
}

TEST_CASE("nms bounds: the side bounds are off for degenerate and infinite queries", "[nms]") {
  CHECK_FALSE(d::side_bounds_apply(0.0, 5.0, 10.f));
  CHECK_FALSE(d::side_bounds_apply(5.0, -1.0, 10.f));
  CHECK_FALSE(d::side_bounds_apply(5.0, 5.0, 1e-31f));
  CHECK_FALSE(d::side_bounds_apply(5.0, 5.0, std::numeric_limits<float>::infinity()));
  CHECK(d::side_bounds_apply(5.0, 5.0, 25.f));
  CHECK(d::overlap_needed(0.4, 10.0, 0.0, 10.0) < 4.0);
  CHECK(d::overlap_needed(0.4, 10.0, 0.0, 10.0) > 3.99);
  CHECK(d::overlap_needed(0.0, 10.0, 0.0, 10.0) == 0.0);
  CHECK(d::cell_window_slack(0.0, 1.0, 8.0) >= 4.0);
  CHECK(d::cell_window_slack(1e8, 1e8 + 10, 8.0) > d::cell_window_slack(0.0, 10.0, 8.0));
}
