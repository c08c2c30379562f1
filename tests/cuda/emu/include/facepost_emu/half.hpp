// facepost_emu/half.hpp - __half for the emulation: IEEE binary16 storage, exact conversion to
// float, round-to-nearest-even conversion from float (NaN stays NaN, overflow gives infinity).
// The conversions are tests/support/simt/binary16.hpp's, shared with the Metal shim.
#pragma once

#include <cstdint>
#include <cstring>

#include "simt/binary16.hpp"

struct __half {
  unsigned short __x;
};
typedef __half half;

inline unsigned short __half_as_ushort(__half h) { return h.__x; }
inline __half __ushort_as_half(unsigned short u) { return __half{u}; }

inline float __half2float(__half h) { return facepost_simt::binary16_to_float(h.__x); }
inline __half __float2half_rn(float f) { return __half{facepost_simt::binary16_from_float(f)}; }
inline __half __float2half(float f) { return __float2half_rn(f); }
