// Test support: float32 -> float16 / int8 / uint8 encoders (the library only decodes), so a test
// can give facepost low-precision heads and the float32 pipeline the same values.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>
#include <vector>

#include "facepost/tensor.hpp"

namespace lowp {

/// binary16 by its definition, (-1)^s * 2^(e-15) * 1.m or 2^-14 * 0.m for e = 0 (not facepost's
/// bit manipulation): the reference the conversions are checked against.
inline float f16_by_definition(std::uint16_t h) {
  const int e = (h >> 10) & 0x1f, m = h & 0x3ff;
  const double sign = (h & 0x8000) ? -1.0 : 1.0;
  if (e == 0x1f) return m ? std::numeric_limits<float>::quiet_NaN() : float(sign * HUGE_VAL);
  if (e == 0) return float(sign * std::ldexp(double(m), -24));
  return float(sign * std::ldexp(double(1024 + m), e - 25));
}

/// float32 to IEEE binary16, round to nearest, ties to even (NaN stays a quiet NaN).
inline std::uint16_t to_f16(float f) {
  std::uint32_t x;
  std::memcpy(&x, &f, 4);
  const std::uint16_t sign = std::uint16_t((x >> 16) & 0x8000u);
  x &= 0x7fffffffu;
  if (x >= 0x7f800000u) return std::uint16_t(sign | 0x7c00u | (x > 0x7f800000u ? 0x200u : 0u));
  if (x >= 0x477ff000u) return std::uint16_t(sign | 0x7c00u);  // >= 65520 rounds to infinity
  if (x < 0x38800000u) {                                        // below 2^-14: a subnormal (or zero)
    float v;
    std::memcpy(&v, &x, 4);
    return std::uint16_t(sign | std::uint16_t(std::nearbyint(v * 16777216.0f)));  // v * 2^24 is exact
  }
  std::uint32_t h = (((x >> 23) - 112u) << 10) | ((x & 0x7fffffu) >> 13);
  const std::uint32_t rest = x & 0x1fffu;
  if (rest > 0x1000u || (rest == 0x1000u && (h & 1u))) ++h;  // a carry moves into the exponent
  return std::uint16_t(sign | h);
}

/// A float32 tensor as float16, and the float32 values it holds.
struct Half {
  std::vector<std::uint16_t> bits;
  std::vector<float> values;
  explicit Half(const std::vector<float>& v) : bits(v.size()), values(v.size()) {
    for (std::size_t i = 0; i < v.size(); ++i) {
      bits[i] = to_f16(v[i]);
      values[i] = facepost::f16_to_f32(bits[i]);
    }
  }
};

/// A float32 tensor quantized as q = clamp(round(v / scale) + zero_point), and the float32
/// values the int tensor holds (facepost::dequantize).
template <class Q>
struct Quantized {
  std::vector<Q> q;
  std::vector<float> values;
  facepost::Dequant dequant;
  Quantized(const std::vector<float>& v, facepost::Dequant d) : q(v.size()), values(v.size()), dequant(d) {
    const double lo = std::is_signed<Q>::value ? -128 : 0, hi = std::is_signed<Q>::value ? 127 : 255;
    for (std::size_t i = 0; i < v.size(); ++i) {
      double r = std::nearbyint(double(v[i]) / double(d.scale)) + d.zero_point;
      if (!(r >= lo)) r = lo;  // NaN too
      if (r > hi) r = hi;
      q[i] = Q(r);
      values[i] = facepost::dequantize(std::int32_t(q[i]), d);
    }
  }
};

}  // namespace lowp
