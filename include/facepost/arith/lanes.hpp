// facepost/arith/lanes.hpp - the op layer every backend computes with, on scalar lanes (float,
// double, bool masks) for the host and for CUDA devices.
//
// facepost's float32 results equal the references' bit for bit because every operation rounds
// where numpy / torch round it. The lane operations below are the only way the arithmetic files
// (arith/*-inl.hpp) compute; each SIMD instruction set defines the same operations on its vector
// types (kernels/<isa>/lanes.hpp), and CUDA device code takes the branches marked
// FACEPOST_DEVICE_CODE (IEEE round-to-nearest intrinsics, which nvcc never contracts).
//   add sub mul div     one IEEE operation each; mul and div are never fused with a following
//                       add (detail::opaque), whatever the host's -ffp-contract
//   max_ref min_ref     the references' a > b ? a : b and a < b ? a : b (x86 maxps/minps order;
//                       NaN and signed-zero cases included)
//   gt lt le ge nle     comparisons giving a mask; nle(a, b) = !(a <= b) (true on NaN)
//   select              mask ? a : b, lane by lane
//   widen               float to the double lane type, exact (here double; Metal: SoftDouble)
//   FACEPOST_F64        a binary64 constant of the arithmetic files (below)
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#include "facepost/detail/exact.hpp"
#include "facepost/isa.hpp"

// True in code compiled for a CUDA device (and in the CPU execution harness of the CUDA kernels).
#if defined(__CUDA_ARCH__) || defined(FACEPOST_CUDA_EMULATION)
#define FACEPOST_DEVICE_CODE 1
#endif

// +inf as a constant expression that host and device code (nvcc included) accept.
#define FACEPOST_DETAIL_INF __builtin_huge_valf()

// FACEPOST_F64(D, bits, value): the binary64 constant `value` (a hex-float literal, for readers)
// whose bit pattern is `bits`, as a D. Lane layers without a double type (Metal: metal/lanes.h)
// build it from `bits`; here it is D(value), the same code as before, and the compiler checks
// that `value` has the bit pattern `bits` (a mismatch names the incomplete F64Literal<false>).
#if defined(__has_builtin)
#if __has_builtin(__builtin_bit_cast)
#define FACEPOST_DETAIL_HAVE_BIT_CAST 1
#endif
#elif defined(_MSC_VER) && _MSC_VER >= 1927
#define FACEPOST_DETAIL_HAVE_BIT_CAST 1
#endif
#if defined(FACEPOST_DETAIL_HAVE_BIT_CAST)
#define FACEPOST_F64(D, bits, value)                                                               \
  D(::facepost::detail::F64Literal<__builtin_bit_cast(std::uint64_t, value) == std::uint64_t(bits)>::get(value))
#else
#define FACEPOST_F64(D, bits, value) D(value)
#endif

namespace facepost {
FACEPOST_ABI_BEGIN
namespace detail {
/// Defined for true only: FACEPOST_F64's compile-time check of a constant against its bits.
template <bool BitsMatch>
struct F64Literal;
template <>
struct F64Literal<true> {
  FACEPOST_HD static constexpr double get(double v) noexcept { return v; }
};
}  // namespace detail

namespace lanes {

FACEPOST_HD FACEPOST_INLINE float add(float a, float b) noexcept {
#if defined(FACEPOST_DEVICE_CODE)
  return __fadd_rn(a, b);
#else
  return a + b;
#endif
}
FACEPOST_HD FACEPOST_INLINE float sub(float a, float b) noexcept {
#if defined(FACEPOST_DEVICE_CODE)
  return __fsub_rn(a, b);
#else
  return a - b;
#endif
}
FACEPOST_HD FACEPOST_INLINE float mul(float a, float b) noexcept {
#if defined(FACEPOST_DEVICE_CODE)
  return __fmul_rn(a, b);
#else
  return detail::opaque(a * b);
#endif
}
FACEPOST_HD FACEPOST_INLINE float div(float a, float b) noexcept {
#if defined(FACEPOST_DEVICE_CODE)
  return __fdiv_rn(a, b);
#else
  return detail::opaque(a / b);  // x / 2 may become x * 0.5: keep it from fusing with an add
#endif
}
FACEPOST_HD FACEPOST_INLINE double add(double a, double b) noexcept {
#if defined(FACEPOST_DEVICE_CODE)
  return __dadd_rn(a, b);
#else
  return a + b;
#endif
}
FACEPOST_HD FACEPOST_INLINE double sub(double a, double b) noexcept {
#if defined(FACEPOST_DEVICE_CODE)
  return __dsub_rn(a, b);
#else
  return a - b;
#endif
}
FACEPOST_HD FACEPOST_INLINE double mul(double a, double b) noexcept {
#if defined(FACEPOST_DEVICE_CODE)
  return __dmul_rn(a, b);
#else
  return detail::opaque(a * b);
#endif
}

template <class T>
FACEPOST_HD FACEPOST_INLINE T max_ref(T a, T b) noexcept {
  return a > b ? a : b;
}
template <class T>
FACEPOST_HD FACEPOST_INLINE T min_ref(T a, T b) noexcept {
  return a < b ? a : b;
}
template <class T>
FACEPOST_HD FACEPOST_INLINE bool gt(T a, T b) noexcept {
  return a > b;
}
template <class T>
FACEPOST_HD FACEPOST_INLINE bool lt(T a, T b) noexcept {
  return a < b;
}
template <class T>
FACEPOST_HD FACEPOST_INLINE bool le(T a, T b) noexcept {
  return a <= b;
}
template <class T>
FACEPOST_HD FACEPOST_INLINE bool ge(T a, T b) noexcept {
  return a >= b;
}
template <class T>
FACEPOST_HD FACEPOST_INLINE bool nle(T a, T b) noexcept {
  return !(a <= b);
}
template <class T>
FACEPOST_HD FACEPOST_INLINE bool is_nan(T a) noexcept {
  return a != a;
}
template <class T>
FACEPOST_HD FACEPOST_INLINE T select(bool m, T a, T b) noexcept {
  return m ? a : b;
}
FACEPOST_HD FACEPOST_INLINE bool and_(bool a, bool b) noexcept { return a && b; }
FACEPOST_HD FACEPOST_INLINE bool any(bool m) noexcept { return m; }

FACEPOST_HD FACEPOST_INLINE float abs(float x) noexcept {
#if defined(FACEPOST_DEVICE_CODE)
  return fabsf(x);
#else
  return std::fabs(x);
#endif
}

/// float to the double lane type (exact).
FACEPOST_HD FACEPOST_INLINE double widen(float x) noexcept { return double(x); }

/// Round to nearest, ties to even (std::nearbyint in the default rounding mode, which facepost
/// assumes; the SIMD round instructions are told so explicitly).
FACEPOST_HD FACEPOST_INLINE double round_even(double z) noexcept {
#if defined(FACEPOST_DEVICE_CODE)
  return rint(z);
#else
  return std::nearbyint(z);
#endif
}

/// p * 2^k for an integral k whose power of two is a normal double (|k| < 1022): exact.
FACEPOST_HD FACEPOST_INLINE double scale_pow2(double p, double k) noexcept {
  const std::uint64_t bits = std::uint64_t(std::int64_t(k) + 1023) << 52;
#if defined(FACEPOST_DEVICE_CODE)
  return __dmul_rn(p, __longlong_as_double(static_cast<long long>(bits)));
#else
  double scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return p * scale;
#endif
}

FACEPOST_HD FACEPOST_INLINE float to_float(double d) noexcept {
#if defined(FACEPOST_DEVICE_CODE)
  return __double2float_rn(d);
#else
  return static_cast<float>(d);
#endif
}

}  // namespace lanes
FACEPOST_ABI_END
}  // namespace facepost
