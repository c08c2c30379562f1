// The grid NMS equals the all-pairs formulation on every input, including adversarial geometry.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "facepost/nms.hpp"

namespace {

struct Boxes {
  std::vector<float> x1, y1, x2, y2;
  facepost::BoxesSoA soa() const { return {x1.data(), y1.data(), x2.data(), y2.data(), x1.size()}; }
  void add(float a, float b, float c, float d) { x1.push_back(a), y1.push_back(b), x2.push_back(c), y2.push_back(d); }
};

// Clusters of jittered boxes at scale `scale` around `offset`, with sizes spread over
// `size_octaves` octaves; `degenerate` adds zero-width/height boxes.
Boxes random_boxes(std::mt19937& rng, std::size_t n, double offset, double scale, int size_octaves, bool degenerate) {
  std::uniform_real_distribution<double> u(0.0, 1.0);
  Boxes b;
  const std::size_t clusters = 1 + n / 8;
  std::vector<double> cx(clusters), cy(clusters), sz(clusters);
  for (std::size_t c = 0; c < clusters; ++c) {
    cx[c] = offset + u(rng) * scale;
    cy[c] = offset + u(rng) * scale * 0.6;
    sz[c] = scale * 0.01 * std::pow(2.0, u(rng) * size_octaves);
  }
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t c = rng() % clusters;
    const double w = sz[c] * (0.7 + 0.6 * u(rng)), h = sz[c] * (0.7 + 0.6 * u(rng));
    const double x = cx[c] + (u(rng) - 0.5) * 0.4 * w, y = cy[c] + (u(rng) - 0.5) * 0.4 * h;
    const bool flat = degenerate && rng() % 5 == 0;
    b.add(float(x), float(y), float(x + (flat ? 0.0 : w)), float(y + (rng() % 7 == 0 && degenerate ? 0.0 : h)));
  }
  return b;
}

void check_same(const Boxes& b, double t, facepost::IouConvention conv, std::size_t max_keep) {
  const std::size_t n = b.x1.size();
  std::vector<std::uint32_t> k1(n + 1), k2(n + 1);
  facepost::NmsWorkspace w1, w2;
  const std::size_t n1 = facepost::nms_greedy(b.soa(), t, conv, max_keep, k1.data(), w1);
  const std::size_t n2 = facepost::nms_greedy_all_pairs(b.soa(), t, conv, max_keep, k2.data(), w2);
  REQUIRE(n1 == n2);
  for (std::size_t i = 0; i < n1; ++i) REQUIRE(k1[i] == k2[i]);
}

}  // namespace

TEST_CASE("nms grid: equals all-pairs on clustered boxes at many scales", "[nms]") {
  std::mt19937 rng(12345);
  const double offsets[] = {0.0, -500.0, 1e6, -3e7};
  const double scales[] = {1.0, 100.0, 2000.0, 1e5, 1e9};
  for (int trial = 0; trial < 120; ++trial) {
    // Odd trials are large enough to keep more than kNmsGridMinKept boxes: the grid phase.
    const std::size_t n = 40 + rng() % (trial % 2 ? 4000 : 600);
    const double offset = offsets[trial % 4], scale = scales[(trial / 4) % 5];
    const int octaves = 1 + trial % 6;
    const bool degenerate = trial % 3 == 0;
    const Boxes b = random_boxes(rng, n, offset, scale, octaves, degenerate);
    const double thresholds[] = {0.0, 0.1, 0.4, 0.7, 1.0};
    const double t = thresholds[trial % 5];
    INFO("trial " << trial << " n " << n << " offset " << offset << " scale " << scale << " t " << t);
    check_same(b, t, facepost::IouConvention::legacy_pixel, 0);
    check_same(b, t, facepost::IouConvention::continuous, 0);
    check_same(b, t, facepost::IouConvention::legacy_pixel, 1 + rng() % 400);
  }
}

TEST_CASE("nms grid: the grid phase is reached and agrees", "[nms]") {
  // 2000 disjoint boxes of mixed sizes all survive: far past kNmsGridMinKept.
  Boxes b;
  std::mt19937 rng(99);
  for (int i = 0; i < 2000; ++i) {
    const float x = float(i % 50) * 40.f, y = float(i / 50) * 40.f, s = 5.f + float(rng() % 30);
    b.add(x, y, x + s, y + s);
  }
  for (int i = 0; i < 500; ++i) b.add(b.x1[i] + 1.f, b.y1[i] + 1.f, b.x2[i] + 1.f, b.y2[i] + 1.f);  // near-duplicates
  REQUIRE(b.x1.size() > 2 * facepost::kNmsGridMinKept);
  for (double t : {0.0, 0.4, 0.9}) {
    check_same(b, t, facepost::IouConvention::legacy_pixel, 0);
    check_same(b, t, facepost::IouConvention::continuous, 0);
  }
}

TEST_CASE("nms grid: extreme magnitudes and spreads", "[nms]") {
  Boxes b;
  // Boxes near float max, tiny boxes, one giant box, identical boxes, huge spread on one axis.
  for (int i = 0; i < 30; ++i) b.add(1e37f + float(i) * 1e31f, 0.f, 1e37f + float(i) * 1e31f + 5e31f, 1.f);
  for (int i = 0; i < 30; ++i) b.add(float(i) * 1e-3f, float(i) * 1e-3f, float(i) * 1e-3f + 2e-3f, float(i) * 1e-3f + 2e-3f);
  b.add(-3e38f, -3e38f, 3e38f, 3e38f);
  for (int i = 0; i < 10; ++i) b.add(5.f, 5.f, 15.f, 15.f);
  for (int i = 0; i < 20; ++i) b.add(-2e38f + float(i) * 1e37f, 10.f, -2e38f + float(i) * 1e37f + 1.5e37f, 20.f);
  for (double t : {0.0, 0.3, 0.5, 1.0}) {
    check_same(b, t, facepost::IouConvention::legacy_pixel, 0);
    check_same(b, t, facepost::IouConvention::continuous, 0);
  }
}

TEST_CASE("nms grid: legacy zero and negative areas suppress at any distance, as py_cpu_nms", "[nms]") {
  // Past kNmsGridMinKept kept boxes the grid decides. Legacy areas are (x2-x1+1)*(y2-y1+1): a box
  // with x2 = x1 - 1 has area 0, two of them have IoU 0/0 = NaN, and py_cpu_nms suppresses on NaN
  // (`ovr <= t` is false) however far apart they are; an area of -A against one of A likewise.
  for (const bool negative : {false, true}) {
    Boxes b;
    for (int i = 0; i < 300; ++i) b.add(10.f * float(i), 0.f, 10.f * float(i) + 5.f, 5.f);
    if (negative) {
      b.add(5000.f, 5000.f, 5005.f, 5015.f);      // (5+1) * (15+1) = 96
      b.add(90000.f, 90000.f, 89993.f, 90015.f);  // (-7+1) * (15+1) = -96
    } else {
      b.add(5000.f, 5000.f, 4999.f, 4999.f);      // 0 * 0
      b.add(90000.f, 90000.f, 89999.f, 89999.f);
    }
    for (const auto conv : {facepost::IouConvention::legacy_pixel, facepost::IouConvention::continuous}) {
      std::vector<std::uint32_t> keep(b.x1.size());
      facepost::NmsWorkspace ws;
      const std::size_t nk = facepost::nms_greedy(b.soa(), 0.4, conv, 0, keep.data(), ws);
      // Legacy: the last box is suppressed by the one before it; continuous: both kept.
      CHECK(nk == (conv == facepost::IouConvention::legacy_pixel ? 301u : 302u));
      check_same(b, 0.4, conv, 0);
    }
  }
}

TEST_CASE("nms grid: non-finite coordinates fall back to the all-pairs loop", "[nms]") {
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  for (const float bad : {inf, -inf, nan}) {
    Boxes b;
    for (int i = 0; i < 400; ++i) b.add(10.f * float(i), 0.f, 10.f * float(i) + 5.f, 5.f);
    b.add(0.f, 0.f, bad, 5.f);
    b.add(1.f, 0.f, 6.f, 5.f);  // overlaps box 0
    for (const auto conv : {facepost::IouConvention::legacy_pixel, facepost::IouConvention::continuous})
      check_same(b, 0.4, conv, 0);
  }
}

TEST_CASE("nms grid: IoU at the edge of the search window (nested boxes, overlap = t * width)", "[nms]") {
  // A kept box k of the query's height nested in it in x has IoU = W_k / W_q exactly: the case
  // where the grid's window bound (overlap_x > t * W_q) is tight. Widths straddle t * W_q by a
  // few ulps, at magnitudes from pixels to 1e8, after 300 disjoint boxes so the grid decides.
  std::mt19937 rng(99);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  for (const double t : {0.3, 0.4, 0.5, 0.7}) {
    for (const double mag : {0.0, 1e3, 1e6, 1e8}) {
      Boxes b;
      for (int i = 0; i < 300; ++i) {
        const float x = float(mag + 1e4 * i);
        b.add(x, float(-1e5), x + 5.f, float(-1e5) + 5.f);
      }
      for (int k = 0; k < 200; ++k) {
        const double w = 8.0 * std::pow(2.0, 10.0 * u(rng)), h = w * (0.5 + u(rng));
        const double x = mag + 3e4 * k, y = mag;
        float wk = float(t * w);
        for (int ulps = rng() % 7; ulps > 0; --ulps) wk = std::nextafter(wk, rng() % 2 ? 1e30f : 0.f);
        const double kx = x + u(rng) * (w - double(wk));
        b.add(float(kx), float(y), float(kx + wk), float(y + h));  // kept first
        b.add(float(x), float(y), float(x + w), float(y + h));     // then the query
      }
      for (const auto conv : {facepost::IouConvention::legacy_pixel, facepost::IouConvention::continuous}) {
        INFO("t " << t << ", magnitude " << mag << (conv == facepost::IouConvention::legacy_pixel ? ", legacy" : ", continuous"));
        check_same(b, t, conv, 0);
      }
    }
  }
}

TEST_CASE("nms grid: thresholds below 0 or NaN run the all-pairs loop", "[nms]") {
  // IoU 0 > -0.25, and legacy's !(iou <= NaN) holds for every pair: disjoint boxes suppress.
  Boxes b;
  for (int i = 0; i < 400; ++i) b.add(10.f * float(i), 0.f, 10.f * float(i) + 5.f, 5.f);
  for (const double t : {-0.25, std::numeric_limits<double>::quiet_NaN()})
    for (const auto conv : {facepost::IouConvention::legacy_pixel, facepost::IouConvention::continuous})
      check_same(b, t, conv, 0);
  std::vector<std::uint32_t> keep(b.x1.size());
  facepost::NmsWorkspace ws;
  CHECK(facepost::nms_greedy(b.soa(), -0.25, facepost::IouConvention::continuous, 0, keep.data(), ws) == 1);
}
