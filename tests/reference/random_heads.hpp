// tests/reference/random_heads.hpp - head outputs for tests: owned tensors in any layout, and
// random frames that give NMS work (clustered boxes), scores on and around the threshold, exact
// ties, logits or probabilities, and optionally non-finite values.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "facepost/anchors.hpp"
#include "facepost/params.hpp"
#include "facepost/tensor.hpp"

namespace facepost_test {

/// memcmp that accepts empty ranges (whose pointers may be null).
inline bool same_bytes(const void* a, const void* b, std::size_t bytes) noexcept {
  return bytes == 0 || std::memcmp(a, b, bytes) == 0;
}

/// How a [N,C] tensor is laid out in memory.
enum class Layout { row_major, padded_rows, column_major };

/// One [N,C] tensor stored in a given layout; set(r, c, v) writes element (r, c).
struct OwnedTensor {
  std::vector<float> storage;
  std::size_t rows = 0, cols = 0;
  Layout layout = Layout::row_major;

  OwnedTensor() = default;
  OwnedTensor(std::size_t r, std::size_t c, Layout l = Layout::row_major, float fill = 0.f)
      : storage(r * stride_of(c, l) + (l == Layout::padded_rows ? 1 : 0), fill), rows(r), cols(c), layout(l) {}

  static std::size_t stride_of(std::size_t c, Layout l) noexcept { return l == Layout::padded_rows ? c + 3 : c; }
  std::size_t offset(std::size_t r, std::size_t c) const noexcept {
    switch (layout) {
      case Layout::row_major: return r * cols + c;
      case Layout::padded_rows: return 1 + r * (cols + 3) + c;  // also starts one float in
      case Layout::column_major: return c * rows + r;
    }
    return 0;
  }
  void set(std::size_t r, std::size_t c, float v) noexcept { storage[offset(r, c)] = v; }
  float get(std::size_t r, std::size_t c) const noexcept { return storage[offset(r, c)]; }
  facepost::TensorView view() const noexcept {
    switch (layout) {
      case Layout::row_major: return facepost::TensorView(storage.data(), rows, cols);
      case Layout::padded_rows:
        return facepost::TensorView(storage.data() + 1, rows, cols, std::ptrdiff_t(cols + 3), 1);
      case Layout::column_major:
        return facepost::TensorView(storage.data(), rows, cols, 1, std::ptrdiff_t(rows));
    }
    return {};
  }
};

/// loc [N,4], conf [N,2], landms [N,10], each in its own layout.
struct OwnedHeads {
  OwnedTensor loc, conf, landms;
  OwnedHeads() = default;
  OwnedHeads(std::size_t n, Layout l_loc = Layout::row_major, Layout l_conf = Layout::row_major,
             Layout l_landms = Layout::row_major)
      : loc(n, 4, l_loc), conf(n, 2, l_conf), landms(n, 10, l_landms) {}
  std::size_t rows() const noexcept { return loc.rows; }
  facepost::HeadOutputs view() const noexcept { return {loc.view(), conf.view(), landms.view()}; }
  /// Probability face score s on row r (column 0 = 1 - s).
  void set_score(std::size_t r, float s) noexcept { conf.set(r, 0, 1.f - s), conf.set(r, 1, s); }
};

/// What random_heads puts in a frame.
struct RandomOptions {
  facepost::ScoreFormat format = facepost::ScoreFormat::probabilities;
  float threshold = 0.02f;     ///< scores are placed on, just above and just below it
  std::size_t faces = 4;       ///< clusters of overlapping boxes
  std::size_t max_per_face = 40;
  std::size_t noise = 200;     ///< isolated candidates with random boxes
  std::size_t near_threshold = 64;
  bool non_finite = false;     ///< NaN / Inf / huge values in some rows
  Layout layout_loc = Layout::row_major, layout_conf = Layout::row_major, layout_landms = Layout::row_major;
};

/// Uniform double in [0, 1) from two mt19937 draws (53 random bits). Written here rather than
/// with <random>'s distributions, whose algorithms differ between standard libraries (and are slow
/// under some compilers), so a seed gives the same frame everywhere.
inline double uniform01(std::mt19937& rng) {
  const double hi = double(rng() >> 5), lo = double(rng() >> 6);
  return (hi * 67108864.0 + lo) * (1.0 / 9007199254740992.0);
}

/// A fast generator for bulk filler values (splitmix64), seeded from std::mt19937.
struct SplitMix64 {
  std::uint64_t state;
  explicit SplitMix64(std::uint64_t seed) : state(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  float unit() { return static_cast<float>(next() >> 40) * 0x1p-24f; }  // [0, 1)
  float symmetric(float r) { return (2.f * unit() - 1.f) * r; }         // [-r, r)
};

/// Standard normal (Box-Muller).
inline double normal01(std::mt19937& rng) {
  const double u1 = 1.0 - uniform01(rng), u2 = uniform01(rng);  // u1 in (0, 1]
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

namespace detail {

inline float logit_of(double p) {
  if (p <= 0.0) return -120.f;  // softmax underflows to exactly 0
  if (p >= 1.0) return 120.f;
  return static_cast<float>(std::log(p / (1.0 - p)));
}

}  // namespace detail

/// A random frame for `priors` ([N,4] cx cy w h, as facepost/the port build them). Background rows
/// score below the threshold (exactly 0 when the threshold is 0), so the candidate count stays
/// near faces*max_per_face + noise + near_threshold whatever N is.
inline OwnedHeads random_heads(std::mt19937& rng, const std::vector<float>& priors, facepost::Variance var,
                               const RandomOptions& o) {
  const std::size_t n = priors.size() / 4;
  OwnedHeads h(n, o.layout_loc, o.layout_conf, o.layout_landms);
  auto unit = [](std::mt19937& g) { return uniform01(g); };
  auto normal = [](std::mt19937& g) { return normal01(g); };
  const double t = o.threshold;
  std::vector<double> face_score(n, -1.0);  // < 0: background

  auto set_score = [&](std::size_t r, double p) {
    if (o.format == facepost::ScoreFormat::probabilities) {
      h.set_score(r, static_cast<float>(p));
    } else {
      const float l0 = static_cast<float>(normal(rng) * 2.0);
      h.conf.set(r, 0, l0);
      h.conf.set(r, 1, l0 + detail::logit_of(p));
    }
  };
  // Background: small regressions, scores at or below the threshold. Most of a frame's values, so
  // drawn from a cheap generator seeded by `rng` (a 700x700 frame has ~10^6 of them).
  SplitMix64 bulk(rng());
  const float tf_bg = static_cast<float>(t);
  for (std::size_t r = 0; r < n; ++r) {
    for (std::size_t c = 0; c < 4; ++c) h.loc.set(r, c, bulk.symmetric(1.f));
    for (std::size_t c = 0; c < 10; ++c) h.landms.set(r, c, bulk.symmetric(2.f));
    const float u = bulk.unit();
    const float s = tf_bg * u * u;  // <= t; exactly 0 when t is 0
    if (o.format == facepost::ScoreFormat::probabilities) {
      h.set_score(r, s);
    } else {
      const float l0 = bulk.symmetric(4.f);
      h.conf.set(r, 0, l0);
      h.conf.set(r, 1, l0 + detail::logit_of(s));
    }
  }
  if (n == 0) return h;
  auto pick = [&]() { return static_cast<std::size_t>(rng() % n); };

  // Faces: priors near a face regress onto it (with jitter), so NMS sees overlapping boxes.
  std::vector<std::size_t> members;
  for (std::size_t f = 0; f < o.faces; ++f) {
    const double fs = std::exp(std::log(0.01) + unit(rng) * (std::log(0.6) - std::log(0.01)));  // 1%..60% of input
    const double fw = fs * (0.7 + 0.6 * unit(rng)), fh = fs * (0.7 + 0.6 * unit(rng));
    const double fcx = unit(rng), fcy = unit(rng);
    const double peak = t + (1.0 - t) * (0.3 + 0.7 * unit(rng));
    members.clear();
    for (std::size_t r = 0; r < n; ++r) {
      const float* p = priors.data() + 4 * r;
      if (std::fabs(p[0] - fcx) < 0.75 * fw + 0.5 * p[2] && std::fabs(p[1] - fcy) < 0.75 * fh + 0.5 * p[3] &&
          p[2] > 0.25 * fw && p[2] < 4.0 * fw)
        members.push_back(r);
    }
    for (std::size_t i = members.size(); i > 1; --i) std::swap(members[i - 1], members[rng() % i]);  // Fisher-Yates
    if (members.size() > o.max_per_face) members.resize(o.max_per_face);
    for (std::size_t r : members) {
      const float* p = priors.data() + 4 * r;
      const double jx = 0.08 * normal(rng), jy = 0.08 * normal(rng), js = 0.1 * normal(rng);
      h.loc.set(r, 0, static_cast<float>((fcx + jx * fw - p[0]) / (var.center * p[2])));
      h.loc.set(r, 1, static_cast<float>((fcy + jy * fh - p[1]) / (var.center * p[3])));
      h.loc.set(r, 2, static_cast<float>((std::log(fw / p[2]) + js) / var.size));
      h.loc.set(r, 3, static_cast<float>((std::log(fh / p[3]) + js) / var.size));
      for (int k = 0; k < 5; ++k) {
        h.landms.set(r, std::size_t(2 * k), static_cast<float>((fcx + (0.3 * normal(rng)) * fw - p[0]) / (var.center * p[2])));
        h.landms.set(r, std::size_t(2 * k + 1), static_cast<float>((fcy + (0.3 * normal(rng)) * fh - p[1]) / (var.center * p[3])));
      }
      face_score[r] = std::min(1.0, t + (peak - t) * (0.2 + 0.8 * unit(rng)));
      set_score(r, face_score[r]);
    }
  }
  // Noise: isolated candidates anywhere, random regressions.
  for (std::size_t k = 0; k < o.noise; ++k) {
    const std::size_t r = pick();
    for (std::size_t c = 0; c < 4; ++c) h.loc.set(r, c, static_cast<float>(normal(rng) * 1.5));
    set_score(r, t + (1.0 - t) * unit(rng) * unit(rng));
  }
  // Scores on the threshold, one ulp around it, and exact ties (also among face members).
  const float tf = o.threshold;
  const float inf = std::numeric_limits<float>::infinity();
  const float ties[] = {0.5f, 0.75f, std::nextafter(tf, inf), 0.9f};
  for (std::size_t k = 0; k < o.near_threshold; ++k) {
    const std::size_t r = pick();
    if (o.format == facepost::ScoreFormat::probabilities) {
      float s;
      switch (k % 4) {
        case 0: s = tf; break;
        case 1: s = std::nextafter(tf, inf); break;
        case 2: s = std::nextafter(tf, -inf); break;
        default: s = std::max(ties[rng() % 4], tf); break;
      }
      h.set_score(r, s);
    } else {
      // The threshold's logit, perturbed by a few ulps: softmax lands on and around the threshold.
      float d = detail::logit_of(t);
      for (int u = int(rng() % 7) - 3; u != 0; u += u > 0 ? -1 : 1) d = std::nextafter(d, u > 0 ? inf : -inf);
      const float l0 = static_cast<float>(normal(rng));
      h.conf.set(r, 0, l0);
      h.conf.set(r, 1, k % 4 == 3 ? l0 + detail::logit_of(ties[rng() % 4]) : l0 + d);
    }
  }
  if (o.non_finite) {
    const float nan = std::numeric_limits<float>::quiet_NaN();
    const float specials[] = {nan, inf, -inf, 3e38f, -3e38f, 1e30f, -1e30f, 1e20f, 88.f, -200.f};
    const std::size_t count = 1 + n / 50;
    for (std::size_t k = 0; k < count; ++k) {
      const std::size_t r = pick();
      const float v = specials[rng() % 10];
      switch (rng() % 4) {
        case 0: h.loc.set(r, rng() % 4, v); break;
        case 1: h.landms.set(r, rng() % 10, v); break;
        case 2: h.conf.set(r, rng() % 2, v); break;
        default:
          for (std::size_t c = 0; c < 4; ++c) h.loc.set(r, c, v);
          break;
      }
      if (rng() % 2) set_score(r, 0.5 + 0.5 * unit(rng));  // make it a candidate more often than not
    }
  }
  return h;
}

}  // namespace facepost_test
