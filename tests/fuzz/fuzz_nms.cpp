// fuzz_nms: facepost::nms_greedy (the grid NMS) against nms_greedy_all_pairs (the O(n^2) loop)
// on arbitrary finite boxes, both IoU conventions, many thresholds and keep limits.
//
// Invariant: the same kept positions, in the same order. The pipeline only hands NMS decoded
// boxes (x2 >= x1); this target also feeds inverted, zero-area, huge and tiny boxes, which the
// public nms_greedy accepts.
//
// Input layout (little-endian; missing bytes read as zero):
//   u8 flags: bit 0 continuous IoU; bit 1 prepend 300 disjoint boxes (so more than
//             kNmsGridMinKept are kept and the grid decides the rest); bit 2 boxes as raw f32
//   u8 threshold: index into kThresholds, or (>= its size) value / 255
//   u8 max_keep: 0 = no limit
//   f32 scale, f32 offset (for quantised boxes; a non-finite or zero scale reads as 1)
//   boxes: 4 x i16 each (x = offset + scale * q), or 4 x f32 each (taken as they are: NaN and
//          infinities make nms_greedy fall back to the all-pairs loop, which must then agree)
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "facepost/nms.hpp"
#include "fuzz_check.hpp"

namespace {

constexpr double kThresholds[] = {0.0, 0.1, 0.3, 0.4, 0.5, 0.7, 1.0, 0.4000000059604645, 0.39999998,
                                  -0.25, 1.5, std::numeric_limits<double>::quiet_NaN()};
constexpr std::size_t kPrefix = 300;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::ByteReader in(data, size);
  const std::uint8_t flags = in.u8();
  const std::uint8_t t_byte = in.u8();
  const std::size_t max_keep = in.u8();
  float scale = in.f32(), offset = in.f32();
  if (!std::isfinite(scale) || scale == 0.f) scale = 1.f;
  if (!std::isfinite(offset)) offset = 0.f;
  const std::size_t n_thresholds = sizeof(kThresholds) / sizeof(kThresholds[0]);
  const double t = t_byte < n_thresholds ? kThresholds[t_byte] : double(t_byte) / 255.0;
  const auto conv = flags & 1 ? facepost::IouConvention::continuous : facepost::IouConvention::legacy_pixel;

  std::vector<float> x1, y1, x2, y2;
  auto add = [&](float a, float b, float c, float d) {
    x1.push_back(a), y1.push_back(b), x2.push_back(c), y2.push_back(d);
  };
  if (flags & 2)  // a row of disjoint boxes, offset and scaled like the rest
    for (std::size_t i = 0; i < kPrefix; ++i) {
      const float x = offset + scale * float(3 * i);
      if (std::isfinite(x + scale)) add(x, offset, x + scale, offset + scale);
    }
  const bool raw = flags & 4;
  const std::size_t box_bytes = raw ? 16 : 8;
  while (in.rest_size() >= box_bytes) {
    float v[4];
    for (float& x : v) {
      if (raw) {
        x = in.f32();
      } else {
        x = offset + scale * float(std::int16_t(in.u16()));
        if (!std::isfinite(x)) x = offset;
      }
    }
    add(v[0], v[1], v[2], v[3]);
  }
  const std::size_t n = x1.size();
  const facepost::BoxesSoA boxes{x1.data(), y1.data(), x2.data(), y2.data(), n};
  std::vector<std::uint32_t> grid(n + 1), pairs(n + 1);
  facepost::NmsWorkspace w1, w2;
  const std::size_t a = facepost::nms_greedy(boxes, t, conv, max_keep, grid.data(), w1);
  const std::size_t b = facepost::nms_greedy_all_pairs(boxes, t, conv, max_keep, pairs.data(), w2);
  FUZZ_CHECK(a == b, "grid NMS keeps %zu of %zu boxes, all pairs %zu (t %g, %s)", a, n, b, t,
             conv == facepost::IouConvention::legacy_pixel ? "legacy" : "continuous");
  for (std::size_t i = 0; i < a; ++i)
    FUZZ_CHECK(grid[i] == pairs[i], "kept box %zu: grid %u, all pairs %u", i, grid[i], pairs[i]);
  FUZZ_CHECK(max_keep == 0 || a <= max_keep, "%zu kept past max_keep %zu", a, max_keep);
  return 0;
}
