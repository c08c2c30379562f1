// tests/metal/arith/msl_prelude.hpp - a minimal stand-in for <metal_stdlib> + `using namespace
// metal;`, just enough to compile include/facepost/metal/*.h with g++ on Linux. Temporary: it is
// replaced by the MSL-to-C++ shim (tests/metal/shim/) once that exists. It defines types and
// as_type only, no macro a standard header could trip on (INFINITY is the C library's value).
#pragma once

// MSL's scalar types (long and ulong are 64-bit in MSL and on LP64 Linux).
typedef unsigned char uchar;
typedef unsigned short ushort;
typedef unsigned int uint;
typedef unsigned long ulong;
static_assert(sizeof(ulong) == 8 && sizeof(long) == 8 && sizeof(uint) == 4, "MSL integer sizes");

/// MSL's bit cast between types of one size.
template <class T, class U>
inline T as_type(U u) {
  static_assert(sizeof(T) == sizeof(U), "as_type: sizes differ");
  T t;
  __builtin_memcpy(&t, &u, sizeof t);
  return t;
}

#if !defined(INFINITY)
#define INFINITY (__builtin_inff())
#endif
