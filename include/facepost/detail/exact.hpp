// facepost/detail/exact.hpp - keep float32 arithmetic exactly as the reference rounds it.
//
// The reference (numpy / torch) rounds every product to float32 before the next add. A compiler
// allowed to contract `a*b + c` into one fused multiply-add rounds once instead of twice, which
// moves a coordinate by an ulp and can flip an NMS decision taken at the threshold. GCC contracts
// by default in GNU mode (-ffp-contract=fast), clang within expressions, and both do it to SIMD
// intrinsics too. FACEPOST_DETAIL_BARRIER(v) hides a value from the optimizer at zero cost (no
// instruction is emitted), so the product is rounded to float32 and the add cannot be fused with
// it, whatever flags the host project uses. Every lane type's mul and div end with it
// (arith/lanes.hpp, kernels/<isa>/lanes.hpp).
#pragma once

#include "facepost/isa.hpp"

#if defined(__GNUC__) || defined(__clang__)
#if defined(__x86_64__) || defined(__i386__)
// "x": an SSE/AVX register (xmm0-15, or their ymm/zmm halves). Valid for scalars and vectors in
// every x86 target, also inside target regions of a baseline translation unit.
#define FACEPOST_DETAIL_BARRIER(v) __asm__("" : "+x"(v))
#elif defined(__aarch64__) || defined(__arm__)
#define FACEPOST_DETAIL_BARRIER(v) __asm__("" : "+w"(v))
#else
#define FACEPOST_DETAIL_BARRIER(v) __asm__("" : "+m"(v))  // unknown architecture: a memory round trip
#endif
#else
// MSVC and others do not contract floating-point expressions by default.
#define FACEPOST_DETAIL_BARRIER(v) ((void)0)
#endif

namespace facepost {
FACEPOST_ABI_BEGIN
namespace detail {

/// Returns v unchanged; the compiler must materialise v (already rounded) before using it.
template <class T>
FACEPOST_INLINE T opaque(T v) noexcept {
  FACEPOST_DETAIL_BARRIER(v);
  return v;
}

}  // namespace detail
FACEPOST_ABI_END
}  // namespace facepost
