// facepost/kernels/avx2/lanes.hpp - AVX2 kernels: eight float lanes (four double lanes for exp),
// eight conf rows per filter step.
//
// Only primitives live here: the lane types and their operations (each one instruction, products
// unfused), loads, masks, de-interleaving. The algorithms are the generic ones
// (kernels/generic/*-inl.hpp) over these lanes, the arithmetic arith's (arith/*-inl.hpp).
#pragma once

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>

#include "facepost/kernels/scalar/lanes.hpp"  // the shared headers, and the reference kernels

namespace facepost {
FACEPOST_ABI_BEGIN
namespace kernels {
FACEPOST_TARGET_AVX2_BEGIN
namespace avx2 {

/// Lane mask: all bits set or clear per lane.
struct M32x8 {
  __m256 m;
};
struct M64x4 {
  __m256d m;
};

FACEPOST_INLINE __m256i head_mask(std::size_t n) noexcept {  // lanes [0, n) set, n <= 8
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(int(n)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

struct F32x8 {
  static constexpr std::size_t lanes = 8;
  __m256 v;
  F32x8() = default;
  FACEPOST_INLINE explicit F32x8(__m256 x) noexcept : v(x) {}
  FACEPOST_INLINE explicit F32x8(float x) noexcept : v(_mm256_set1_ps(x)) {}
  static FACEPOST_INLINE F32x8 load(const float* p) noexcept { return F32x8(_mm256_loadu_ps(p)); }
  /// The first n lanes from p (nothing read past them), the others 0.
  static FACEPOST_INLINE F32x8 load_partial(const float* p, std::size_t n) noexcept {
    return F32x8(_mm256_maskload_ps(p, head_mask(n)));
  }
  static FACEPOST_INLINE F32x8 load_n(const float* p, std::size_t n) noexcept {
    return n == lanes ? load(p) : load_partial(p, n);
  }
  FACEPOST_INLINE void store(float* p) const noexcept { _mm256_storeu_ps(p, v); }
  FACEPOST_INLINE void store_partial(float* p, std::size_t n) const noexcept {
    if (n == 2) {  // a landmark row's last pair: a plain 8-byte store
      _mm_storel_pi(reinterpret_cast<__m64*>(p), _mm256_castps256_ps128(v));
      return;
    }
    _mm256_maskstore_ps(p, head_mask(n), v);
  }
  /// (x y x y ...): two floats as the bit pattern of one double, broadcast.
  static FACEPOST_INLINE F32x8 xy(float x, float y) noexcept {
    const float pair[2] = {x, y};
    double d;
    std::memcpy(&d, pair, 8);
    return F32x8(_mm256_castpd_ps(_mm256_set1_pd(d)));
  }
};

FACEPOST_INLINE F32x8 add(F32x8 a, F32x8 b) noexcept { return F32x8(_mm256_add_ps(a.v, b.v)); }
FACEPOST_INLINE F32x8 sub(F32x8 a, F32x8 b) noexcept { return F32x8(_mm256_sub_ps(a.v, b.v)); }
FACEPOST_INLINE F32x8 mul(F32x8 a, F32x8 b) noexcept {
  __m256 r = _mm256_mul_ps(a.v, b.v);
  FACEPOST_DETAIL_BARRIER(r);
  return F32x8(r);
}
FACEPOST_INLINE F32x8 div(F32x8 a, F32x8 b) noexcept {
  __m256 r = _mm256_div_ps(a.v, b.v);
  FACEPOST_DETAIL_BARRIER(r);
  return F32x8(r);
}
// maxps(a, b) is a > b ? a : b and minps(a, b) a < b ? a : b, NaN and signed zeros included.
FACEPOST_INLINE F32x8 max_ref(F32x8 a, F32x8 b) noexcept { return F32x8(_mm256_max_ps(a.v, b.v)); }
FACEPOST_INLINE F32x8 min_ref(F32x8 a, F32x8 b) noexcept { return F32x8(_mm256_min_ps(a.v, b.v)); }
FACEPOST_INLINE F32x8 abs(F32x8 a) noexcept {
  return F32x8(_mm256_and_ps(a.v, _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff))));
}
FACEPOST_INLINE M32x8 gt(F32x8 a, F32x8 b) noexcept { return {_mm256_cmp_ps(a.v, b.v, _CMP_GT_OQ)}; }
FACEPOST_INLINE M32x8 lt(F32x8 a, F32x8 b) noexcept { return {_mm256_cmp_ps(a.v, b.v, _CMP_LT_OQ)}; }
FACEPOST_INLINE M32x8 ge(F32x8 a, F32x8 b) noexcept { return {_mm256_cmp_ps(a.v, b.v, _CMP_GE_OQ)}; }
FACEPOST_INLINE M32x8 nle(F32x8 a, F32x8 b) noexcept { return {_mm256_cmp_ps(a.v, b.v, _CMP_NLE_UQ)}; }
FACEPOST_INLINE M32x8 is_nan(F32x8 a) noexcept { return {_mm256_cmp_ps(a.v, a.v, _CMP_UNORD_Q)}; }
FACEPOST_INLINE F32x8 select(M32x8 m, F32x8 a, F32x8 b) noexcept { return F32x8(_mm256_blendv_ps(b.v, a.v, m.m)); }
FACEPOST_INLINE M32x8 and_(M32x8 a, M32x8 b) noexcept { return {_mm256_and_ps(a.m, b.m)}; }
FACEPOST_INLINE bool any(M32x8 m) noexcept { return !_mm256_testz_ps(m.m, m.m); }
FACEPOST_INLINE bool all(M32x8 m) noexcept { return _mm256_movemask_ps(m.m) == 0xff; }
FACEPOST_INLINE std::uint32_t mask_bits(M32x8 m) noexcept { return std::uint32_t(_mm256_movemask_ps(m.m)); }

struct F64x4 {
  static constexpr std::size_t lanes = 4;
  __m256d v;
  F64x4() = default;
  FACEPOST_INLINE explicit F64x4(__m256d x) noexcept : v(x) {}
  FACEPOST_INLINE explicit F64x4(double x) noexcept : v(_mm256_set1_pd(x)) {}
};
FACEPOST_INLINE F64x4 add(F64x4 a, F64x4 b) noexcept { return F64x4(_mm256_add_pd(a.v, b.v)); }
FACEPOST_INLINE F64x4 sub(F64x4 a, F64x4 b) noexcept { return F64x4(_mm256_sub_pd(a.v, b.v)); }
FACEPOST_INLINE F64x4 mul(F64x4 a, F64x4 b) noexcept {
  __m256d r = _mm256_mul_pd(a.v, b.v);
  FACEPOST_DETAIL_BARRIER(r);
  return F64x4(r);
}
FACEPOST_INLINE F64x4 max_ref(F64x4 a, F64x4 b) noexcept { return F64x4(_mm256_max_pd(a.v, b.v)); }
FACEPOST_INLINE F64x4 min_ref(F64x4 a, F64x4 b) noexcept { return F64x4(_mm256_min_pd(a.v, b.v)); }
FACEPOST_INLINE F64x4 round_even(F64x4 a) noexcept {
  return F64x4(_mm256_round_pd(a.v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}
/// p * 2^k, 2^k built from the bits of k + 1.5*2^52 (k is a small integer, so the add is exact).
FACEPOST_INLINE F64x4 scale_pow2(F64x4 p, F64x4 k) noexcept {
  const __m256d magic = _mm256_set1_pd(0x1.8p52);
  const __m256i ki = _mm256_sub_epi64(_mm256_castpd_si256(_mm256_add_pd(k.v, magic)), _mm256_castpd_si256(magic));
  const __m256d scale = _mm256_castsi256_pd(_mm256_slli_epi64(_mm256_add_epi64(ki, _mm256_set1_epi64x(1023)), 52));
  return F64x4(_mm256_mul_pd(p.v, scale));
}
FACEPOST_INLINE M64x4 is_nan(F64x4 a) noexcept { return {_mm256_cmp_pd(a.v, a.v, _CMP_UNORD_Q)}; }
FACEPOST_INLINE F64x4 select(M64x4 m, F64x4 a, F64x4 b) noexcept { return F64x4(_mm256_blendv_pd(b.v, a.v, m.m)); }

#include "facepost/kernels/x86/f32x4-inl.hpp"
#include "facepost/arith/all-inl.hpp"

// ---- the lane shapes and primitives the generic algorithms use (kernels/generic/*-inl.hpp)
constexpr const char* kName = "avx2";
using F = F32x8;
using F4 = F32x4;
using FL = F32x8;  // landmarks: 8 + 2
using D = F64x4;
constexpr std::size_t kFilterRows = 8;
constexpr std::size_t kExpBlock = 8;
/// NMS grid cells per smallest box (nms/grid.hpp): eight slots per step favour larger cells.
constexpr double kNmsCellScale = 2.0;
constexpr bool kSkipUnkeptLanes = true;

/// Eight binary16 values, exactly: F16C's vcvtph2ps (every AVX2 CPU has F16C; runtime dispatch
/// checks it), or lane by lane when a compile-time AVX2 target leaves F16C out (-mavx2 alone).
FACEPOST_INLINE F load_f16(const std::uint16_t* p) noexcept {
#if defined(__F16C__) || defined(FACEPOST_DISPATCH_AT_RUNTIME)
  return F(_mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))));
#else
  alignas(32) float f[8];
  for (int i = 0; i < 8; ++i) f[i] = f16_to_f32(p[i]);
  return F(_mm256_load_ps(f));
#endif
}
/// Eight int8 / uint8 values q as float32(q - zero_point).
template <class Q>
FACEPOST_INLINE F load_q8(const Q* p, std::int32_t zero_point) noexcept {
  const __m128i b = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p));
  const __m256i q = std::is_signed<Q>::value ? _mm256_cvtepi8_epi32(b) : _mm256_cvtepu8_epi32(b);
  return F(_mm256_cvtepi32_ps(_mm256_sub_epi32(q, _mm256_set1_epi32(zero_point))));
}
/// Lanes [r0 r1 r4 r5 | r2 r3 r6 r7] (a shuffle of two row vectors) back in row order.
FACEPOST_INLINE __m256 row_order(__m256 s) noexcept {
  return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(s), _MM_SHUFFLE(3, 1, 2, 0)));
}
/// Eight [., 2] rows de-interleaved into their two columns, in row order.
FACEPOST_INLINE void load_conf(const float* conf, F& background, F& face) noexcept {
  const __m256 a = _mm256_loadu_ps(conf), b = _mm256_loadu_ps(conf + 8);
  background = F(row_order(_mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0))));
  face = F(row_order(_mm256_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1))));
}
FACEPOST_INLINE std::size_t compress(const float* conf, std::uint32_t bits, std::size_t first_row,
                                     std::uint32_t* index, float* score) noexcept {
  return scalar::compress(conf, bits, first_row, index, score);
}
FACEPOST_INLINE M32x8 kept_lanes(const std::int32_t* kept, std::size_t n) noexcept {
  const __m256i k = n == 8 ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kept)) : _mm256_maskload_epi32(kept, head_mask(n));
  return {_mm256_castsi256_ps(k)};
}
FACEPOST_INLINE D load_widen(const float* p) noexcept { return D(_mm256_cvtps_pd(_mm_loadu_ps(p))); }
FACEPOST_INLINE void store_narrow(float* p, D d) noexcept { _mm_storeu_ps(p, _mm256_cvtpd_ps(d.v)); }

#include "facepost/kernels/generic/table-inl.hpp"

}  // namespace avx2
FACEPOST_TARGET_END
}  // namespace kernels
FACEPOST_ABI_END
}  // namespace facepost
