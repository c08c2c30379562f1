// facepost/kernels/avx512/lanes.hpp - AVX-512 kernels: sixteen float lanes with mask registers
// (eight double lanes for exp), sixteen conf rows per filter step, compress-store compaction.
//
// Only primitives live here: the lane types and their operations (each one instruction, products
// unfused), loads, masks, de-interleaving, compaction. The algorithms are the generic ones
// (kernels/generic/*-inl.hpp) over these lanes, the arithmetic arith's (arith/*-inl.hpp).
#pragma once

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <limits>

#include "facepost/kernels/scalar/lanes.hpp"  // the shared headers, and the reference kernels

namespace facepost {
FACEPOST_ABI_BEGIN
namespace kernels {
FACEPOST_TARGET_AVX512_BEGIN
namespace avx512 {

struct M16 {
  __mmask16 m;
};
struct M8 {
  __mmask8 m;
};
FACEPOST_INLINE __mmask16 head16(std::size_t n) noexcept { return __mmask16((1u << n) - 1u); }  // n <= 16

struct F32x16 {
  static constexpr std::size_t lanes = 16;
  __m512 v;
  F32x16() = default;
  FACEPOST_INLINE explicit F32x16(__m512 x) noexcept : v(x) {}
  FACEPOST_INLINE explicit F32x16(float x) noexcept : v(_mm512_set1_ps(x)) {}
  static FACEPOST_INLINE F32x16 load(const float* p) noexcept { return F32x16(_mm512_loadu_ps(p)); }
  /// The first n lanes from p (masked: nothing read past them), the others 0.
  static FACEPOST_INLINE F32x16 load_partial(const float* p, std::size_t n) noexcept {
    return F32x16(_mm512_maskz_loadu_ps(head16(n), p));
  }
  /// Always masked: no branch between full and partial steps.
  static FACEPOST_INLINE F32x16 load_n(const float* p, std::size_t n) noexcept { return load_partial(p, n); }
  FACEPOST_INLINE void store(float* p) const noexcept { _mm512_storeu_ps(p, v); }
  FACEPOST_INLINE void store_partial(float* p, std::size_t n) const noexcept { _mm512_mask_storeu_ps(p, head16(n), v); }
  /// (x y x y ...)
  static FACEPOST_INLINE F32x16 xy(float x, float y) noexcept {
    return F32x16(_mm512_unpacklo_ps(_mm512_set1_ps(x), _mm512_set1_ps(y)));
  }
};

FACEPOST_INLINE F32x16 add(F32x16 a, F32x16 b) noexcept { return F32x16(_mm512_add_ps(a.v, b.v)); }
FACEPOST_INLINE F32x16 sub(F32x16 a, F32x16 b) noexcept { return F32x16(_mm512_sub_ps(a.v, b.v)); }
FACEPOST_INLINE F32x16 mul(F32x16 a, F32x16 b) noexcept {
  __m512 r = _mm512_mul_ps(a.v, b.v);
  FACEPOST_DETAIL_BARRIER(r);
  return F32x16(r);
}
FACEPOST_INLINE F32x16 div(F32x16 a, F32x16 b) noexcept {
  __m512 r = _mm512_div_ps(a.v, b.v);
  FACEPOST_DETAIL_BARRIER(r);
  return F32x16(r);
}
// vmaxps(a, b) is a > b ? a : b and vminps(a, b) a < b ? a : b, NaN and signed zeros included.
FACEPOST_INLINE F32x16 max_ref(F32x16 a, F32x16 b) noexcept { return F32x16(_mm512_max_ps(a.v, b.v)); }
FACEPOST_INLINE F32x16 min_ref(F32x16 a, F32x16 b) noexcept { return F32x16(_mm512_min_ps(a.v, b.v)); }
FACEPOST_INLINE F32x16 abs(F32x16 a) noexcept { return F32x16(_mm512_abs_ps(a.v)); }
FACEPOST_INLINE M16 gt(F32x16 a, F32x16 b) noexcept { return {_mm512_cmp_ps_mask(a.v, b.v, _CMP_GT_OQ)}; }
FACEPOST_INLINE M16 lt(F32x16 a, F32x16 b) noexcept { return {_mm512_cmp_ps_mask(a.v, b.v, _CMP_LT_OQ)}; }
FACEPOST_INLINE M16 ge(F32x16 a, F32x16 b) noexcept { return {_mm512_cmp_ps_mask(a.v, b.v, _CMP_GE_OQ)}; }
FACEPOST_INLINE M16 nle(F32x16 a, F32x16 b) noexcept { return {_mm512_cmp_ps_mask(a.v, b.v, _CMP_NLE_UQ)}; }
FACEPOST_INLINE M16 is_nan(F32x16 a) noexcept { return {_mm512_cmp_ps_mask(a.v, a.v, _CMP_UNORD_Q)}; }
FACEPOST_INLINE F32x16 select(M16 m, F32x16 a, F32x16 b) noexcept { return F32x16(_mm512_mask_mov_ps(b.v, m.m, a.v)); }
FACEPOST_INLINE M16 and_(M16 a, M16 b) noexcept { return {__mmask16(a.m & b.m)}; }
FACEPOST_INLINE bool any(M16 m) noexcept { return m.m != 0; }
FACEPOST_INLINE bool all(M16 m) noexcept { return m.m == 0xffff; }
FACEPOST_INLINE std::uint32_t mask_bits(M16 m) noexcept { return std::uint32_t(m.m); }

struct F64x8 {
  static constexpr std::size_t lanes = 8;
  __m512d v;
  F64x8() = default;
  FACEPOST_INLINE explicit F64x8(__m512d x) noexcept : v(x) {}
  FACEPOST_INLINE explicit F64x8(double x) noexcept : v(_mm512_set1_pd(x)) {}
};
FACEPOST_INLINE F64x8 add(F64x8 a, F64x8 b) noexcept { return F64x8(_mm512_add_pd(a.v, b.v)); }
FACEPOST_INLINE F64x8 sub(F64x8 a, F64x8 b) noexcept { return F64x8(_mm512_sub_pd(a.v, b.v)); }
FACEPOST_INLINE F64x8 mul(F64x8 a, F64x8 b) noexcept {
  __m512d r = _mm512_mul_pd(a.v, b.v);
  FACEPOST_DETAIL_BARRIER(r);
  return F64x8(r);
}
FACEPOST_INLINE F64x8 max_ref(F64x8 a, F64x8 b) noexcept { return F64x8(_mm512_max_pd(a.v, b.v)); }
FACEPOST_INLINE F64x8 min_ref(F64x8 a, F64x8 b) noexcept { return F64x8(_mm512_min_pd(a.v, b.v)); }
FACEPOST_INLINE F64x8 round_even(F64x8 a) noexcept {
  return F64x8(_mm512_roundscale_pd(a.v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}
/// p * 2^k, exact like the scalar power-of-two product.
FACEPOST_INLINE F64x8 scale_pow2(F64x8 p, F64x8 k) noexcept { return F64x8(_mm512_scalef_pd(p.v, k.v)); }
FACEPOST_INLINE M8 is_nan(F64x8 a) noexcept { return {_mm512_cmp_pd_mask(a.v, a.v, _CMP_UNORD_Q)}; }
FACEPOST_INLINE F64x8 select(M8 m, F64x8 a, F64x8 b) noexcept { return F64x8(_mm512_mask_mov_pd(b.v, m.m, a.v)); }

#include "facepost/kernels/x86/f32x4-inl.hpp"
#include "facepost/arith/all-inl.hpp"

// ---- the lane shapes and primitives the generic algorithms use (kernels/generic/*-inl.hpp)
constexpr const char* kName = "avx512";
using F = F32x16;
using F4 = F32x4;
using FL = F32x16;  // landmarks: all ten values in one masked vector
using D = F64x8;
constexpr std::size_t kFilterRows = 16;
constexpr std::size_t kExpBlock = 16;
/// NMS grid cells per smallest box (nms/grid.hpp): sixteen slots per step favour larger cells.
constexpr double kNmsCellScale = 2.0;
constexpr bool kSkipUnkeptLanes = false;

/// Sixteen binary16 values, exactly (vcvtph2ps).
FACEPOST_INLINE F load_f16(const std::uint16_t* p) noexcept {
  return F(_mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))));
}
/// Sixteen int8 / uint8 values q as float32(q - zero_point).
template <class Q>
FACEPOST_INLINE F load_q8(const Q* p, std::int32_t zero_point) noexcept {
  const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const __m512i q = std::is_signed<Q>::value ? _mm512_cvtepi8_epi32(b) : _mm512_cvtepu8_epi32(b);
  return F(_mm512_cvtepi32_ps(_mm512_sub_epi32(q, _mm512_set1_epi32(zero_point))));
}
/// Sixteen [., 2] rows de-interleaved into their two columns.
FACEPOST_INLINE void load_conf(const float* conf, F& background, F& face) noexcept {
  const __m512 a = _mm512_loadu_ps(conf), b = _mm512_loadu_ps(conf + 16);
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
  background = F(_mm512_permutex2var_ps(a, even, b));
  face = F(_mm512_permutex2var_ps(a, odd, b));
}
/// Compress in registers, then a masked store: compress-to-memory is microcoded (slow) on some
/// cores (AMD Zen 4), and the mask keeps the store inside the caller's buffer.
FACEPOST_INLINE std::size_t compress(const float* conf, std::uint32_t bits, std::size_t first_row,
                                     std::uint32_t* index, float* score) noexcept {
  const __mmask16 m = __mmask16(bits);
  const __m512i rows = _mm512_add_epi32(_mm512_set1_epi32(int(first_row)),
                                        _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
  F background, face;
  load_conf(conf, background, face);
  const unsigned n = unsigned(__builtin_popcount(bits));
  _mm512_mask_storeu_epi32(index, head16(n), _mm512_maskz_compress_epi32(m, rows));
  _mm512_mask_storeu_ps(score, head16(n), _mm512_maskz_compress_ps(m, face.v));
  return n;
}
FACEPOST_INLINE M16 kept_lanes(const std::int32_t* kept, std::size_t n) noexcept {
  const __mmask16 live = head16(n);
  return {_mm512_mask_test_epi32_mask(live, _mm512_maskz_loadu_epi32(live, kept), _mm512_set1_epi32(-1))};
}
FACEPOST_INLINE D load_widen(const float* p) noexcept { return D(_mm512_cvtps_pd(_mm256_loadu_ps(p))); }
FACEPOST_INLINE void store_narrow(float* p, D d) noexcept { _mm256_storeu_ps(p, _mm512_cvtpd_ps(d.v)); }

#include "facepost/kernels/generic/table-inl.hpp"

}  // namespace avx512
FACEPOST_TARGET_END
}  // namespace kernels
FACEPOST_ABI_END
}  // namespace facepost
