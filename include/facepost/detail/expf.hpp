// facepost/detail/expf.hpp - exp for float32 that every backend computes to the same bits.
//
// The C library's expf differs between libraries and even between CPU variants of one library,
// and a vector version of it does not exist. facepost computes exp(x) in double precision:
// 2^(x/ln2) = 2^k * 2^r, k = round(x/ln2), |r| <= 1/2, 2^r by its Taylor series to degree 11
// (truncation < 1e-14 relative), then one rounding to float. The result is the correctly rounded
// float except when exp(x) lies within ~1e-14 of a rounding midpoint, i.e. it differs from a
// correctly rounded expf by at most one ulp, and only rarely (tests/test_expf.cpp measures it).
// Every operation is a plain IEEE double operation with products kept unfused (opaque), so the
// scalar code and the SIMD kernels produce identical bits.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

#include "facepost/detail/exact.hpp"

namespace facepost {
namespace detail {

struct ExpConstants {
  static constexpr double inv_ln2 = 0x1.71547652b82fep+0;
  static constexpr double lo = -110.0;  // exp(-110) is far below the smallest float subnormal
  static constexpr double hi = 90.0;    // exp(90) is far above FLT_MAX
  /// (ln 2)^n / n!, n = 0..11
  static constexpr double c[12] = {0x1.0000000000000p+0,  0x1.62e42fefa39efp-1, 0x1.ebfbdff82c58fp-3,
                                   0x1.c6b08d704a0c0p-5,  0x1.3b2ab6fba4e77p-7, 0x1.5d87fe78a6731p-10,
                                   0x1.430912f86c787p-13, 0x1.ffcbfc588b0c7p-17, 0x1.62c0223a5c824p-20,
                                   0x1.b5253d395e7c4p-24, 0x1.e4cf5158b8ecap-28, 0x1.e8cac7351bb25p-32};
};

/// exp(x) for float x; NaN stays NaN, overflow gives +inf, underflow 0.
inline float exp_f32(float x) noexcept {
  if (x != x) return x;
  double xd = double(x);
  xd = xd < ExpConstants::lo ? ExpConstants::lo : (xd > ExpConstants::hi ? ExpConstants::hi : xd);
  const double z = opaque(xd * ExpConstants::inv_ln2);
  const double k = std::nearbyint(z);  // round half to even, like the SIMD round instructions
  const double r = z - k;
  double p = ExpConstants::c[11];
  for (int i = 10; i >= 0; --i) p = opaque(p * r) + ExpConstants::c[i];
  const std::uint64_t bits = std::uint64_t(std::int64_t(k) + 1023) << 52;  // 2^k, k in [-159, 130]
  double scale;
  std::memcpy(&scale, &bits, 8);
  return float(p * scale);
}

}  // namespace detail
}  // namespace facepost
