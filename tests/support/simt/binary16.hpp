// simt/binary16.hpp (tests/support) - IEEE binary16 conversions shared by the CPU
// emulations of GPU back ends (CUDA's __half in tests/cuda/emu, Metal's half in
// tests/metal/shim): exact conversion to float, round-to-nearest-even conversion from float (NaN
// stays NaN with the top of its payload, overflow gives infinity). Bits only: no arithmetic and
// no half-precision hardware behaviour (flush-to-zero, fast conversions) is emulated.
#pragma once

#include <cstdint>
#include <cstring>

namespace facepost_simt {

inline float binary16_to_float(std::uint16_t h) {
  const std::uint32_t sign = std::uint32_t(h & 0x8000u) << 16;
  const std::uint32_t exp = (h >> 10) & 0x1Fu, mant = h & 0x3FFu;
  std::uint32_t bits;
  if (exp == 0x1Fu) {
    bits = sign | 0x7F800000u | (mant << 13);  // infinity, NaN with its payload
  } else if (exp != 0) {
    bits = sign | ((exp + 112u) << 23) | (mant << 13);
  } else {
    // Zero or subnormal: mant * 2^-24, exact in float.
    const float v = float(mant) * 5.9604644775390625e-8f;
    std::memcpy(&bits, &v, sizeof bits);
    bits |= sign;
  }
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

inline std::uint16_t binary16_from_float(float f) {
  std::uint32_t x;
  std::memcpy(&x, &f, sizeof x);
  const std::uint16_t sign = static_cast<std::uint16_t>((x >> 16) & 0x8000u);
  x &= 0x7FFFFFFFu;
  if (x > 0x7F800000u) return static_cast<std::uint16_t>(sign | 0x7E00u | ((x >> 13) & 0x3FFu));
  if (x >= 0x477FF000u) return static_cast<std::uint16_t>(sign | 0x7C00u);  // >= 65520: infinity
  if (x >= 0x38800000u) {                                                   // normal: >= 2^-14
    const std::uint32_t r = x + 0xFFFu + ((x >> 13) & 1u) - 0x38000000u;   // round, rebias 127 -> 15
    return static_cast<std::uint16_t>(sign | (r >> 13));
  }
  if (x <= 0x33000000u) return sign;  // <= 2^-25 (the tie rounds to even: zero)
  const std::uint32_t e = x >> 23, m = (x & 0x7FFFFFu) | 0x800000u;
  const std::uint32_t shift = 126u - e;  // result in units of 2^-24
  std::uint32_t r = m >> shift;
  const std::uint32_t rem = m & ((1u << shift) - 1u), halfway = 1u << (shift - 1u);
  if (rem > halfway || (rem == halfway && (r & 1u))) ++r;
  return static_cast<std::uint16_t>(sign | r);
}

}  // namespace facepost_simt
