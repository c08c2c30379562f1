// IoU, ranking and NMS: IoU exactly at the threshold under both conventions, identical, nested,
// zero-area, disjoint and touching boxes, NaN IoU, ties in score, keep_top_k / max_keep.
// Every NMS case runs through nms_greedy (grid), nms_greedy_all_pairs and the reference port.
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <numeric>
#include <random>
#include <vector>

#include "facepost/facepost.hpp"
#include "reference/reference_port.hpp"

namespace {

using facepost::IouConvention;
const IouConvention kLegacy = IouConvention::legacy_pixel;
const IouConvention kContinuous = IouConvention::continuous;

struct Boxes {
  std::vector<float> x1, y1, x2, y2;
  Boxes() = default;
  Boxes(std::initializer_list<std::array<float, 4>> list) {
    for (const auto& b : list) add(b[0], b[1], b[2], b[3]);
  }
  void add(float a, float b, float c, float d) { x1.push_back(a), y1.push_back(b), x2.push_back(c), y2.push_back(d); }
  std::size_t size() const { return x1.size(); }
  facepost::BoxesSoA soa() const { return {x1.data(), y1.data(), x2.data(), y2.data(), size()}; }
  facepost_ref::BoxList list() const {
    facepost_ref::BoxList l;
    l.x1 = x1, l.y1 = y1, l.x2 = x2, l.y2 = y2;
    return l;
  }
};

float iou(IouConvention c, const std::array<float, 4>& a, const std::array<float, 4>& b) {
  if (c == kLegacy) {
    const float aa = facepost::box_area<kLegacy>(a[0], a[1], a[2], a[3]);
    const float ab = facepost::box_area<kLegacy>(b[0], b[1], b[2], b[3]);
    return facepost::box_iou<kLegacy>(a.data(), aa, b.data(), ab);
  }
  const float aa = facepost::box_area<kContinuous>(a[0], a[1], a[2], a[3]);
  const float ab = facepost::box_area<kContinuous>(b[0], b[1], b[2], b[3]);
  return facepost::box_iou<kContinuous>(a.data(), aa, b.data(), ab);
}

std::vector<std::uint32_t> reference_nms(const Boxes& b, double t, IouConvention c, std::size_t max_keep) {
  std::vector<std::uint32_t> keep, order;
  std::vector<float> areas;
  std::vector<std::uint8_t> suppressed;
  if (c == kLegacy) facepost_ref::py_cpu_nms(b.list(), t, keep, order, areas);
  else facepost_ref::torchvision_nms(b.list(), t, keep, suppressed, areas);
  if (max_keep != 0 && keep.size() > max_keep) keep.resize(max_keep);
  return keep;
}

// Kept positions; checks that the grid NMS, the all-pairs NMS and the reference port agree.
std::vector<std::uint32_t> nms(const Boxes& b, double t, IouConvention c, std::size_t max_keep = 0) {
  std::vector<std::uint32_t> grid(b.size() + 1), pairs(b.size() + 1);
  facepost::NmsWorkspace ws1, ws2;
  grid.resize(facepost::nms_greedy(b.soa(), t, c, max_keep, grid.data(), ws1));
  pairs.resize(facepost::nms_greedy_all_pairs(b.soa(), t, c, max_keep, pairs.data(), ws2));
  const std::vector<std::uint32_t> ref = reference_nms(b, t, c, max_keep);
  INFO("threshold " << t << " convention " << (c == kLegacy ? "legacy" : "continuous"));
  CHECK(grid == pairs);
  CHECK(grid == ref);
  return grid;
}

using Keep = std::vector<std::uint32_t>;

}  // namespace

TEST_CASE("iou: exactly 0.5 is not above a 0.5 threshold", "[iou][nms]") {
  // Continuous: [0,0,2,1] (area 2) and [0,0,1,1] (area 1) overlap by 1: IoU 1/2.
  const Boxes c{{0, 0, 2, 1}, {0, 0, 1, 1}};
  CHECK(iou(kContinuous, {0, 0, 2, 1}, {0, 0, 1, 1}) == 0.5f);
  CHECK(nms(c, 0.5, kContinuous) == Keep{0, 1});
  CHECK(nms(c, std::nextafter(0.5, 0.0), kContinuous) == Keep{0});
  // Legacy (+1): [0,0,1,0] is 2x1 px, [0,0,0,0] 1x1 px, overlapping by 1 px: IoU 1/2.
  const Boxes l{{0, 0, 1, 0}, {0, 0, 0, 0}};
  CHECK(iou(kLegacy, {0, 0, 1, 0}, {0, 0, 0, 0}) == 0.5f);
  CHECK(nms(l, 0.5, kLegacy) == Keep{0, 1});
  CHECK(nms(l, 0.49, kLegacy) == Keep{0});
}

TEST_CASE("iou: exactly float(0.4): float32 threshold (legacy) against double threshold (continuous)", "[iou][nms]") {
  // IoU 2/5 rounds to float(0.4) = 0.4000000059604645 in float32.
  const float f04 = 0.4f;
  // Legacy: 2x1 px inside 5x1 px: inter 2, union 5. numpy keeps `ovr <= float32(0.4)`: kept.
  const Boxes l{{0, 0, 1, 0}, {0, 0, 4, 0}};
  CHECK(iou(kLegacy, {0, 0, 1, 0}, {0, 0, 4, 0}) == f04);
  CHECK(nms(l, 0.4, kLegacy) == Keep{0, 1});
  CHECK(nms(l, 0.39, kLegacy) == Keep{0});
  // Continuous: [0,0,2,1] inside [0,0,5,1]: IoU float(0.4). torchvision compares double(ovr) >
  // 0.4, and float(0.4) is above the double 0.4: suppressed. With the threshold double(0.4f) it
  // is exactly at the threshold: kept.
  const Boxes c{{0, 0, 2, 1}, {0, 0, 5, 1}};
  CHECK(iou(kContinuous, {0, 0, 2, 1}, {0, 0, 5, 1}) == f04);
  CHECK(double(f04) > 0.4);
  CHECK(nms(c, 0.4, kContinuous) == Keep{0});
  CHECK(nms(c, double(f04), kContinuous) == Keep{0, 1});
  // The suppression test itself, at and around the threshold.
  const facepost::SuppressionTest t(0.4);
  CHECK_FALSE(t.legacy(f04));
  CHECK(t.legacy(std::nextafter(f04, 1.f)));
  CHECK(t.continuous(f04));
  CHECK_FALSE(t.continuous(std::nextafter(f04, 0.f)));
  const facepost::SuppressionTest t05(0.5);
  CHECK_FALSE(t05.legacy(0.5f));
  CHECK_FALSE(t05.continuous(0.5f));
  CHECK(t05.legacy(std::nextafter(0.5f, 1.f)));
  CHECK(t05.continuous(std::nextafter(0.5f, 1.f)));
}

TEST_CASE("iou: identical boxes", "[iou][nms]") {
  const Boxes b{{10, 20, 30, 50}, {10, 20, 30, 50}, {10, 20, 30, 50}};
  for (IouConvention c : {kLegacy, kContinuous}) {
    CHECK(iou(c, {10, 20, 30, 50}, {10, 20, 30, 50}) == 1.f);
    CHECK(nms(b, 0.4, c) == Keep{0});
    CHECK(nms(b, 0.0, c) == Keep{0});
    CHECK(nms(b, 1.0, c) == Keep{0, 1, 2});  // IoU 1 is not above 1
  }
}

TEST_CASE("iou: nested boxes", "[iou][nms]") {
  const Boxes b{{0, 0, 10, 10}, {2, 2, 4, 4}};
  CHECK(iou(kContinuous, {0, 0, 10, 10}, {2, 2, 4, 4}) == 4.f / 100.f);  // inner area / outer area
  CHECK(iou(kLegacy, {0, 0, 10, 10}, {2, 2, 4, 4}) == 9.f / 121.f);      // 3x3 px in 11x11 px
  CHECK(nms(b, 0.03, kContinuous) == Keep{0});
  CHECK(nms(b, 0.05, kContinuous) == Keep{0, 1});
  CHECK(nms(b, 0.07, kLegacy) == Keep{0});
  CHECK(nms(b, 0.08, kLegacy) == Keep{0, 1});
  // The small box first: same IoU, same decisions.
  const Boxes r{{2, 2, 4, 4}, {0, 0, 10, 10}};
  CHECK(nms(r, 0.03, kContinuous) == Keep{0});
  CHECK(nms(r, 0.08, kLegacy) == Keep{0, 1});
}

TEST_CASE("iou: zero-area boxes: NaN IoU keeps (continuous), +1 areas (legacy)", "[iou][nms]") {
  // Two identical points: continuous 0/0 = NaN, torchvision keeps; legacy 1x1 px each, IoU 1.
  const Boxes points{{5, 5, 5, 5}, {5, 5, 5, 5}};
  CHECK(std::isnan(iou(kContinuous, {5, 5, 5, 5}, {5, 5, 5, 5})));
  CHECK(nms(points, 0.4, kContinuous) == Keep{0, 1});
  CHECK(nms(points, 0.0, kContinuous) == Keep{0, 1});
  CHECK(iou(kLegacy, {5, 5, 5, 5}, {5, 5, 5, 5}) == 1.f);
  CHECK(nms(points, 0.4, kLegacy) == Keep{0});
  // A zero-width line inside a box: continuous IoU 0; legacy a 1 px wide column.
  const Boxes line{{0, 0, 10, 10}, {3, 0, 3, 10}};
  CHECK(iou(kContinuous, {0, 0, 10, 10}, {3, 0, 3, 10}) == 0.f);
  CHECK(iou(kLegacy, {0, 0, 10, 10}, {3, 0, 3, 10}) == 11.f / 121.f);
  CHECK(nms(line, 0.0, kContinuous) == Keep{0, 1});
  CHECK(nms(line, 0.05, kLegacy) == Keep{0});
  // Mixed with normal boxes, many of them (grid NMS path: >= 48 boxes).
  Boxes many;
  for (int i = 0; i < 60; ++i) {
    const float x = float(i % 6) * 3.f, y = float(i / 6) * 2.f;
    if (i % 3 == 0) many.add(x, y, x, y);
    else if (i % 3 == 1) many.add(x, y, x + 2.5f, y);
    else many.add(x, y, x + 2.f, y + 1.5f);
  }
  for (double t : {0.0, 0.3, 0.7}) {
    nms(many, t, kContinuous);
    nms(many, t, kLegacy);
  }
}

TEST_CASE("iou: NaN IoU of overflowing areas: legacy suppresses, continuous keeps", "[iou][nms]") {
  // Finite boxes whose area overflows to inf: inter / (inf + inf - inf) = NaN.
  const Boxes b{{-3e38f, -3e38f, 3e38f, 3e38f}, {-3e38f, -3e38f, 3e38f, 3e38f}};
  CHECK(std::isnan(iou(kLegacy, {-3e38f, -3e38f, 3e38f, 3e38f}, {-3e38f, -3e38f, 3e38f, 3e38f})));
  CHECK(nms(b, 1.0, kLegacy) == Keep{0});  // numpy: NaN <= thresh is false, so suppressed
  CHECK(nms(b, 1.0, kContinuous) == Keep{0, 1});
}

TEST_CASE("iou: disjoint boxes are never suppressed, touching ones differ by convention", "[iou][nms]") {
  // More than one pixel apart: the legacy +1 makes boxes closer than that overlap.
  const Boxes disjoint{{0, 0, 10, 10}, {20, 0, 30, 10}, {0, 20, 10, 30}, {11.5f, 11.5f, 19, 19}};
  for (IouConvention c : {kLegacy, kContinuous}) CHECK(nms(disjoint, 0.0, c) == Keep{0, 1, 2, 3});
  // [0,0,1,1] and [1,0,2,1] share an edge: continuous IoU 0; legacy: 1x2 px of 2x2 px boxes, 2/6.
  const Boxes touching{{0, 0, 1, 1}, {1, 0, 2, 1}};
  CHECK(iou(kContinuous, {0, 0, 1, 1}, {1, 0, 2, 1}) == 0.f);
  CHECK(iou(kLegacy, {0, 0, 1, 1}, {1, 0, 2, 1}) == 2.f / 6.f);
  CHECK(nms(touching, 0.0, kContinuous) == Keep{0, 1});
  CHECK(nms(touching, 0.0, kLegacy) == Keep{0});
  CHECK(nms(touching, 0.3, kLegacy) == Keep{0});
  CHECK(nms(touching, 0.34, kLegacy) == Keep{0, 1});
}

TEST_CASE("nms: greedy order: a suppressed box does not suppress others", "[nms]") {
  // B overlaps A and C strongly, A and C do not overlap: A kept, B suppressed, C kept.
  const Boxes b{{0, 0, 10, 10}, {5, 0, 15, 10}, {10.5f, 0, 20.5f, 10}};
  for (IouConvention c : {kLegacy, kContinuous}) CHECK(nms(b, 0.3, c) == Keep{0, 2});
}

TEST_CASE("rank: ties in score are broken by ascending prior index", "[rank]") {
  // Documented: candidates are ordered by descending score, equal scores by ascending prior
  // index, so results never depend on the sort's stability or on the input order.
  const float score[] = {0.5f, 0.5f, 0.9f, 0.5f, 0.7f, 0.9f};
  const std::uint32_t prior[] = {9, 2, 7, 5, 1, 3};
  std::uint32_t order[6];
  REQUIRE(facepost::rank_candidates(score, prior, 6, 0, order) == 6);
  CHECK(Keep(order, order + 6) == Keep{5, 2, 4, 1, 3, 0});  // priors 3, 7, 1, 2, 5, 9
  REQUIRE(facepost::rank_candidates(score, prior, 6, 4, order) == 4);
  CHECK(Keep(order, order + 4) == Keep{5, 2, 4, 1});

  // The radix ranker (used by the pipeline) on candidates in ascending prior order, with many
  // ties, at every size class (insertion sort, 8-bit and 11-bit digits).
  std::mt19937 rng(5);
  for (std::size_t n : {1u, 5u, 63u, 64u, 65u, 500u, 2047u, 2048u, 9000u}) {
    std::vector<float> s(n);
    std::vector<std::uint32_t> idx(n);
    const float pool[] = {0.25f, 0.5f, 0.75f, 0.0625f};
    for (std::size_t i = 0; i < n; ++i) {
      s[i] = rng() % 2 ? pool[rng() % 4] : float(rng() % 1000 + 1) / 1000.f;
      idx[i] = std::uint32_t(3 * i + rng() % 3);  // ascending
    }
    std::vector<std::uint32_t> want(n);
    std::iota(want.begin(), want.end(), 0u);
    std::stable_sort(want.begin(), want.end(), [&](std::uint32_t a, std::uint32_t b) { return s[a] > s[b]; });
    for (std::size_t top_k : {std::size_t(0), std::size_t(1), n / 2 + 1, n + 5}) {
      INFO("n " << n << " top_k " << top_k);
      const std::size_t k = top_k == 0 || top_k > n ? n : top_k;
      std::vector<std::uint32_t> got(n), cmp(n);
      facepost::RankWorkspace ws;
      REQUIRE(facepost::rank_candidates_radix(s.data(), n, top_k, got.data(), ws) == k);
      REQUIRE(facepost::rank_candidates(s.data(), idx.data(), n, top_k, cmp.data()) == k);
      CHECK(Keep(got.begin(), got.begin() + std::ptrdiff_t(k)) == Keep(want.begin(), want.begin() + std::ptrdiff_t(k)));
      CHECK(Keep(cmp.begin(), cmp.begin() + std::ptrdiff_t(k)) == Keep(want.begin(), want.begin() + std::ptrdiff_t(k)));
    }
  }
}

TEST_CASE("pipeline: equal scores on identical boxes keep the lowest prior index", "[rank][nms]") {
  // 42 priors (retinaface_mnet at 32x32); zero regressions, so each box is its prior.
  facepost::Postprocessor post(facepost::to_anchor_config(facepost::presets::retinaface_mnet{}),
                               facepost::Params{}.unlimited());
  const std::size_t n = 42;
  std::vector<float> loc(4 * n, 0.f), landms(10 * n, 0.f), conf(2 * n, 0.f);
  // Priors 0 and 2 (cells (0,0), (0,1) of level 0 at min size 16) differ by one step; give
  // priors 2, 0 and 8 equal scores and make 0 and 2 the same box through their regressions.
  auto set_score = [&](std::size_t p, float s) { conf[2 * p] = 1.f - s, conf[2 * p + 1] = s; };
  set_score(2, 0.8f);
  set_score(0, 0.8f);
  set_score(8, 0.8f);
  set_score(40, 0.9f);
  loc[4 * 2 + 0] = -5.f;  // cx = 0.375 + (-5*0.1)*0.5 = 0.125: prior 2 moved onto prior 0
  const facepost::HeadOutputs heads{facepost::TensorView(loc.data(), n, 4), facepost::TensorView(conf.data(), n, 2),
                                    facepost::TensorView(landms.data(), n, 10)};
  const facepost::Detections d = post.run(heads, {32, 32});
  REQUIRE(d.size() == 3);
  CHECK(d.prior_index(0) == 40);
  CHECK(d.prior_index(1) == 0);  // ties: 0 before 2 before 8; 2 is suppressed by 0
  CHECK(d.prior_index(2) == 8);
  facepost_ref::Port<> port(post.priors().spec());
  const facepost_ref::Result& r = port.run(heads, {32, 32}, post.params());
  CHECK(r.prior == Keep{40, 0, 8});
}

TEST_CASE("nms: max_keep stops early with exactly the first survivors", "[nms]") {
  std::mt19937 rng(77);
  std::uniform_real_distribution<float> u(0.f, 1.f);
  for (int trial = 0; trial < 12; ++trial) {
    Boxes b;
    const std::size_t count = trial % 2 ? 30 : 300;  // all-pairs and grid paths
    for (std::size_t i = 0; i < count; ++i) {
      const float cx = float(rng() % 8) * 40.f + u(rng) * 10.f, cy = float(rng() % 5) * 40.f + u(rng) * 10.f;
      const float w = 20.f + u(rng) * 20.f;
      b.add(cx - w / 2, cy - w / 2, cx + w / 2, cy + w / 2);
    }
    for (IouConvention c : {kLegacy, kContinuous}) {
      const double t = trial % 3 == 0 ? 0.4 : 0.2 * (trial % 5);
      const Keep all = nms(b, t, c);
      REQUIRE(all.size() > 1);
      for (std::size_t k : {std::size_t(1), std::size_t(2), all.size() / 2, all.size() - 1, all.size(), all.size() + 3}) {
        INFO("trial " << trial << " max_keep " << k);
        const Keep some = nms(b, t, c, k);
        CHECK(some == Keep(all.begin(), all.begin() + std::ptrdiff_t(std::min(k, all.size()))));
      }
    }
  }
}
