// facepost/detail/exact.hpp - keep float32 arithmetic exactly as the reference rounds it.
//
// The reference (numpy / torch) rounds every product to float32 before the next add. A compiler
// allowed to contract `a*b + c` into one fused multiply-add rounds once instead of twice, which
// moves a coordinate by an ulp and can flip an NMS decision taken at the threshold. GCC contracts
// by default in GNU mode (-ffp-contract=fast), clang within expressions, and both do it to SIMD
// intrinsics too. `opaque` hides a value from the optimizer at zero cost (no instruction is
// emitted), so the product is rounded to float32 and the add cannot be fused with it, whatever
// flags the host project uses.
#pragma once

namespace facepost {
namespace detail {

#if defined(__GNUC__) || defined(__clang__)
#if defined(__x86_64__) || defined(__i386__)
#if defined(__AVX512F__)
#define FACEPOST_DETAIL_FP_CONSTRAINT "+v"
#else
#define FACEPOST_DETAIL_FP_CONSTRAINT "+x"
#endif
#elif defined(__aarch64__) || defined(__arm__)
#define FACEPOST_DETAIL_FP_CONSTRAINT "+w"
#endif
#endif

/// Returns v unchanged; the compiler must materialise v (already rounded) before using it.
template <class T>
inline T opaque(T v) noexcept {
#if defined(FACEPOST_DETAIL_FP_CONSTRAINT)
  __asm__("" : FACEPOST_DETAIL_FP_CONSTRAINT(v));
#elif defined(__GNUC__) || defined(__clang__)
  __asm__("" : "+m"(v));  // unknown architecture: force a round trip through memory
#else
  // MSVC and others do not contract floating-point expressions by default.
  volatile T keep = v;
  v = keep;
#endif
  return v;
}

/// a*b rounded to float32, never fused with a following add.
inline float mul(float a, float b) noexcept { return opaque(a * b); }

}  // namespace detail
}  // namespace facepost
