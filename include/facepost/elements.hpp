// facepost/elements.hpp - the element types a head tensor may hold, and their exact conversion
// to float32 (the scalar reference; the kernels' vector conversions equal it bit for bit).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "facepost/arith/lanes.hpp"
#include "facepost/isa.hpp"

namespace facepost {

/// The element type of a head tensor. float32 is the native one; float16 is converted exactly
/// to float32 as it is read, int8 / uint8 are dequantized as float32(q - zero_point) * scale.
/// float64 is deliberately absent: a silent narrowing would hide a float64 pipeline.
enum class ElementType : std::uint8_t { float32, float16, int8, uint8 };

/// Quantization of an int8 / uint8 head (per tensor): value = float32(q - zero_point) * scale,
/// one float32 multiplication. Float tensors keep the default (scale 1, zero point 0).
struct Dequant {
  float scale = 1.f;
  std::int32_t zero_point = 0;
};

FACEPOST_ABI_BEGIN
inline const char* element_type_name(ElementType t) noexcept {
  switch (t) {
    case ElementType::float32: return "float32";
    case ElementType::float16: return "float16";
    case ElementType::int8: return "int8";
    case ElementType::uint8: return "uint8";
  }
  return "unknown";
}

inline std::size_t element_size(ElementType t) noexcept {
  return t == ElementType::float32 ? 4 : t == ElementType::float16 ? 2 : 1;
}

/// IEEE binary16 bits to float32, exactly (subnormals, infinities; a NaN stays a NaN, quieted,
/// as F16C and NEON's conversions do).
FACEPOST_INLINE float f16_to_f32(std::uint16_t h) noexcept {
  const std::uint32_t sign = std::uint32_t(h & 0x8000u) << 16;
  const std::uint32_t exp = (h >> 10) & 0x1fu, man = h & 0x3ffu;
  std::uint32_t bits;
  if (exp == 0x1fu) {
    bits = sign | 0x7f800000u | (man << 13) | (man ? 0x00400000u : 0u);
  } else if (exp != 0) {
    bits = sign | ((exp + 112u) << 23) | (man << 13);
  } else if (man == 0) {
    bits = sign;
  } else {  // subnormal: man * 2^-24, normalised (exact in float32)
    int e = -1;
    std::uint32_t m = man;
    do {
      m <<= 1;
      ++e;
    } while ((m & 0x400u) == 0);
    bits = sign | (std::uint32_t(112 - e) << 23) | ((m & 0x3ffu) << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

/// float32(q - zero_point) * scale: the integer difference is exact, its conversion to float32
/// exact (|q - zp| < 2^24), so the product is the only rounding.
FACEPOST_INLINE float dequantize(std::int32_t q, const Dequant& d) noexcept {
  return lanes::mul(static_cast<float>(q - d.zero_point), d.scale);
}
FACEPOST_ABI_END
}  // namespace facepost
