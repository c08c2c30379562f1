// facepost/kernels/avx512/simd.hpp - AVX-512: sixteen rows per step, compress-store compaction.
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <cstring>
#include <limits>

#include "facepost/detail/exact.hpp"
#include "facepost/detail/expf.hpp"
#include "facepost/kernels/generic/decode.hpp"
#include "facepost/kernels/avx2/simd.hpp"
#include "facepost/kernels/generic/filter.hpp"
#include "facepost/kernels/generic/kernels.hpp"
#include "facepost/kernels/generic/suppress.hpp"

namespace facepost {
namespace kernels {
namespace avx512 {

/// exp_f32 (detail/expf.hpp) on eight lanes of doubles, the same operations in the same order.
inline __m512d exp_f64x8(__m512d x) noexcept {
  using detail::ExpConstants;
  using detail::opaque;
  const __m512d xc = _mm512_max_pd(_mm512_min_pd(x, _mm512_set1_pd(ExpConstants::hi)), _mm512_set1_pd(ExpConstants::lo));
  const __m512d z = opaque(_mm512_mul_pd(xc, _mm512_set1_pd(ExpConstants::inv_ln2)));
  const __m512d k = _mm512_roundscale_pd(z, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  const __m512d r = _mm512_sub_pd(z, k);
  __m512d p = _mm512_set1_pd(ExpConstants::c[11]);
  for (int i = 10; i >= 0; --i) p = _mm512_add_pd(opaque(_mm512_mul_pd(p, r)), _mm512_set1_pd(ExpConstants::c[i]));
  const __m512d y = _mm512_scalef_pd(p, k);  // p * 2^k, exact like the scalar power-of-two product
  return _mm512_mask_mov_pd(y, _mm512_cmp_pd_mask(x, x, _CMP_UNORD_Q), x);  // NaN stays NaN
}

struct Simd : avx2::BoxDecode128 {
  static constexpr std::size_t rows = 16;
  /// NMS grid cells per smallest box (nms.hpp): sixteen slots per step favour larger cells.
  static constexpr double nms_cell_scale = 2.0;
  static constexpr std::size_t exp_lanes = 16;
  static void exp_block(const float* in, float* out) noexcept {
    const __m256 lo = _mm512_cvtpd_ps(exp_f64x8(_mm512_cvtps_pd(_mm256_loadu_ps(in))));
    const __m256 hi = _mm512_cvtpd_ps(exp_f64x8(_mm512_cvtps_pd(_mm256_loadu_ps(in + 8))));
    _mm256_storeu_ps(out, lo);
    _mm256_storeu_ps(out + 8, hi);
  }
  static __m512 column(const float* conf, int c) noexcept {
    const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    return _mm512_permutex2var_ps(_mm512_loadu_ps(conf), c ? odd : even, _mm512_loadu_ps(conf + 16));
  }
  static __mmask16 face_mask(const float* conf, float t) noexcept {
    const __m512 s = column(conf, 1);
    const __mmask16 gt = _mm512_cmp_ps_mask(s, _mm512_set1_ps(t), _CMP_GT_OQ);
    return _mm512_mask_cmp_ps_mask(gt, s, _mm512_set1_ps(std::numeric_limits<float>::infinity()), _CMP_LT_OQ);
  }
  static __mmask16 logit_mask(const float* conf, float cut) noexcept {
    const __m512 d = _mm512_sub_ps(column(conf, 1), column(conf, 0));
    return _mm512_cmp_ps_mask(d, _mm512_set1_ps(cut), _CMP_GT_OQ);
  }
  static std::size_t compress(const float* conf, __mmask16 m, std::size_t first_row, std::uint32_t* index,
                              float* score) noexcept {
    const __m512i rows_iota =
        _mm512_add_epi32(_mm512_set1_epi32(int(first_row)), _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
    // Compress in registers, then a masked store: compress-to-memory is microcoded (slow) on
    // some cores (AMD Zen 4), and the mask keeps the store inside the caller's buffer.
    const unsigned n = unsigned(__builtin_popcount(unsigned(m)));
    const __mmask16 head = __mmask16((1u << n) - 1u);
    _mm512_mask_storeu_epi32(index, head, _mm512_maskz_compress_epi32(m, rows_iota));
    _mm512_mask_storeu_ps(score, head, _mm512_maskz_compress_ps(m, column(conf, 1)));
    return n;
  }
  /// All five landmarks in one masked 512-bit vector.
  static void landmarks(const float* prior, const float* lm, const DecodeContext& ctx, float* out) noexcept {
    using detail::opaque;
    double cxy, wh;
    std::memcpy(&cxy, prior, 8);
    std::memcpy(&wh, prior + 2, 8);
    const __m512 pc = _mm512_castpd_ps(_mm512_set1_pd(cxy)), pw = _mm512_castpd_ps(_mm512_set1_pd(wh));
    const __m512 v0 = _mm512_set1_ps(ctx.variance.center);
    const __m512 size = _mm512_castpd_ps(_mm512_set1_pd(avx2::Simd::pair(ctx.input_width, ctx.input_height)));
    const __m512 pad = _mm512_castpd_ps(_mm512_set1_pd(avx2::Simd::pair(ctx.mapping.pad_x, ctx.mapping.pad_y)));
    const __m512 scale = _mm512_castpd_ps(_mm512_set1_pd(avx2::Simd::pair(ctx.mapping.scale_x, ctx.mapping.scale_y)));
    const __mmask16 ten = 0x3ff;
    const __m512 a = _mm512_maskz_loadu_ps(ten, lm);
    const __m512 c = _mm512_add_ps(pc, opaque(_mm512_mul_ps(opaque(_mm512_mul_ps(a, v0)), pw)));
    _mm512_mask_storeu_ps(out, ten, _mm512_div_ps(_mm512_sub_ps(opaque(_mm512_mul_ps(c, size)), pad), scale));
  }
  /// Sixteen slots per step (the tail masked), box_iou's operations lane-parallel; only kept
  /// slots count.
  template <IouConvention C>
  static bool any_suppresses(const float* q, float qa, const generic::SlotBoxes& s, std::size_t begin,
                             std::size_t end, const SuppressionTest& test) noexcept {
    using detail::opaque;
    const __m512 qx1 = _mm512_set1_ps(q[0]), qy1 = _mm512_set1_ps(q[1]), qx2 = _mm512_set1_ps(q[2]),
                 qy2 = _mm512_set1_ps(q[3]), qarea = _mm512_set1_ps(qa), zero = _mm512_setzero_ps();
    const __m512 one = _mm512_set1_ps(C == IouConvention::legacy_pixel ? 1.f : 0.f);
    const __m512 t = _mm512_set1_ps(C == IouConvention::legacy_pixel ? test.threshold_legacy : test.threshold_continuous);
    for (std::size_t j = begin; j < end; j += 16) {
      const __mmask16 live = end - j >= 16 ? __mmask16(0xffff) : __mmask16((1u << (end - j)) - 1u);
      const __mmask16 kept = _mm512_mask_test_epi32_mask(live, _mm512_maskz_loadu_epi32(live, s.kept + j), _mm512_set1_epi32(-1));
      const __m512 x1 = _mm512_maskz_loadu_ps(kept, s.x1 + j), y1 = _mm512_maskz_loadu_ps(kept, s.y1 + j);
      const __m512 x2 = _mm512_maskz_loadu_ps(kept, s.x2 + j), y2 = _mm512_maskz_loadu_ps(kept, s.y2 + j);
      const __m512 w = _mm512_max_ps(_mm512_add_ps(_mm512_sub_ps(_mm512_min_ps(x2, qx2), _mm512_max_ps(x1, qx1)), one), zero);
      const __m512 h = _mm512_max_ps(_mm512_add_ps(_mm512_sub_ps(_mm512_min_ps(y2, qy2), _mm512_max_ps(y1, qy1)), one), zero);
      const __m512 inter = opaque(_mm512_mul_ps(w, h));
      const __m512 iou = _mm512_div_ps(inter, _mm512_sub_ps(_mm512_add_ps(_mm512_maskz_loadu_ps(kept, s.area + j), qarea), inter));
      const __mmask16 sup = C == IouConvention::legacy_pixel ? _mm512_mask_cmp_ps_mask(kept, iou, t, _CMP_NLE_UQ)
                                                             : _mm512_mask_cmp_ps_mask(kept, iou, t, _CMP_GT_OQ);
      if (sup) return true;
    }
    return false;
  }
  static bool all_finite(const float* row) noexcept {
    const __m512 v = _mm512_abs_ps(_mm512_maskz_loadu_ps(0x7fff, row));
    return _mm512_cmp_ps_mask(v, _mm512_set1_ps(std::numeric_limits<float>::infinity()), _CMP_LT_OQ) == 0xffff;
  }
};

constexpr const char* name = "avx512";
using Kernels = generic::Kernels<Simd>;

}  // namespace avx512
}  // namespace kernels
}  // namespace facepost
