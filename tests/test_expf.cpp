// facepost's exp: the same bits from the scalar code and the active SIMD kernel, and within one
// ulp of the correctly rounded value.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "facepost/dispatch.hpp"
#include "facepost/arith/arith.hpp"

namespace {

float ulp_distance(float a, float b) {
  if (a == b) return 0.f;
  std::int32_t ia, ib;
  std::memcpy(&ia, &a, 4);
  std::memcpy(&ib, &b, 4);
  return float(std::abs(std::int64_t(ia) - std::int64_t(ib)));
}

}  // namespace

TEST_CASE("expf: scalar and SIMD give the same bits", "[expf]") {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> wide(-120.f, 100.f), narrow(-2.f, 2.f);
  std::vector<float> in(4099);
  for (std::size_t i = 0; i < in.size(); ++i) in[i] = (i % 3 == 0) ? wide(rng) : narrow(rng);
  const float specials[] = {0.f, -0.f, 88.72283f, 88.72284f, 89.f, -87.33655f, -103.97208f, -104.f, -150.f,
                            1e-30f, -1e-30f, std::numeric_limits<float>::infinity(),
                            -std::numeric_limits<float>::infinity(), std::numeric_limits<float>::quiet_NaN(),
                            std::numeric_limits<float>::denorm_min(), 3e38f, -3e38f};
  for (std::size_t i = 0; i < sizeof specials / sizeof *specials; ++i) in[i * 5] = specials[i];
  std::vector<float> simd(in.size());
  facepost::active_kernels().exp_batch(in.data(), simd.data(), in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    const float scalar = facepost::arith::exp_f32(in[i]);
    INFO("x = " << in[i] << " (" << facepost::backend_name() << ")");
    if (std::isnan(scalar)) {
      CHECK(std::isnan(simd[i]));
    } else {
      std::uint32_t a, b;
      std::memcpy(&a, &scalar, 4);
      std::memcpy(&b, &simd[i], 4);
      CHECK(a == b);
    }
  }
}

TEST_CASE("expf: within one ulp of exp computed in double", "[expf]") {
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> u(-103.f, 88.f);
  std::size_t off_by_one = 0;
  for (int i = 0; i < 200000; ++i) {
    const float x = i < 100000 ? u(rng) : std::ldexp(u(rng), -20);
    const float got = facepost::arith::exp_f32(x), want = float(std::exp(double(x)));
    const float d = ulp_distance(got, want);
    REQUIRE(d <= 1.f);
    off_by_one += d > 0.f;
  }
  CHECK(off_by_one < 20);  // essentially correctly rounded
  CHECK(facepost::arith::exp_f32(0.f) == 1.f);
  CHECK(std::isinf(facepost::arith::exp_f32(89.f)));
  CHECK(facepost::arith::exp_f32(-110.f) == 0.f);
  CHECK(std::isnan(facepost::arith::exp_f32(std::numeric_limits<float>::quiet_NaN())));
}
