// facepost/kernels/avx2/simd.hpp - AVX2: eight rows per step, movemask + bit walk compaction.
#pragma once

#include <immintrin.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#include "facepost/detail/exact.hpp"
#include "facepost/detail/expf.hpp"
#include "facepost/kernels/generic/decode.hpp"
#include "facepost/kernels/generic/filter.hpp"
#include "facepost/kernels/generic/kernels.hpp"
#include "facepost/kernels/generic/suppress.hpp"

namespace facepost {
namespace kernels {
namespace avx2 {

/// SSE box decode (x86-64 baseline plus AVX's VEX encoding), shared by the AVX-512 kernels.
struct BoxDecode128 {
  static void box(const float* prior, const float* loc, float ew, float eh, const DecodeContext& ctx,
                  float* out) noexcept {
    using detail::opaque;
    const __m128 p = _mm_loadu_ps(prior);  // cx cy w h
    const __m128 l = _mm_loadu_ps(loc);    // l0 l1 l2 l3
    const __m128 pwh = _mm_movehl_ps(p, p);  // w h w h
    const __m128 v0 = _mm_set1_ps(ctx.variance.center);
    const __m128 c = _mm_add_ps(p, opaque(_mm_mul_ps(opaque(_mm_mul_ps(l, v0)), pwh)));  // cx' cy'
    const __m128 wh = opaque(_mm_mul_ps(pwh, _mm_setr_ps(ew, eh, ew, eh)));
    const __m128 xy1 = _mm_sub_ps(c, opaque(_mm_div_ps(wh, _mm_set1_ps(2.f))));
    const __m128 xy2 = _mm_add_ps(wh, xy1);
    const __m128 b = _mm_movelh_ps(xy1, xy2);  // x1 y1 x2 y2
    const __m128 size = _mm_setr_ps(ctx.input_width, ctx.input_height, ctx.input_width, ctx.input_height);
    const __m128 pad = _mm_setr_ps(ctx.mapping.pad_x, ctx.mapping.pad_y, ctx.mapping.pad_x, ctx.mapping.pad_y);
    const __m128 scale = _mm_setr_ps(ctx.mapping.scale_x, ctx.mapping.scale_y, ctx.mapping.scale_x, ctx.mapping.scale_y);
    _mm_storeu_ps(out, _mm_div_ps(_mm_sub_ps(opaque(_mm_mul_ps(b, size)), pad), scale));
  }
};

/// exp_f32 (detail/expf.hpp) on four lanes of doubles, the same operations in the same order.
inline __m256d exp_f64x4(__m256d x) noexcept {
  using detail::ExpConstants;
  using detail::opaque;
  const __m256d xc = _mm256_max_pd(_mm256_min_pd(x, _mm256_set1_pd(ExpConstants::hi)), _mm256_set1_pd(ExpConstants::lo));
  const __m256d z = opaque(_mm256_mul_pd(xc, _mm256_set1_pd(ExpConstants::inv_ln2)));
  const __m256d k = _mm256_round_pd(z, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  const __m256d r = _mm256_sub_pd(z, k);
  __m256d p = _mm256_set1_pd(ExpConstants::c[11]);
  for (int i = 10; i >= 0; --i) p = _mm256_add_pd(opaque(_mm256_mul_pd(p, r)), _mm256_set1_pd(ExpConstants::c[i]));
  // 2^k from the bits of k + 1.5*2^52 (k is a small integer, so the add is exact).
  const __m256d magic = _mm256_set1_pd(0x1.8p52);
  const __m256i ki = _mm256_sub_epi64(_mm256_castpd_si256(_mm256_add_pd(k, magic)), _mm256_castpd_si256(magic));
  const __m256d scale = _mm256_castsi256_pd(_mm256_slli_epi64(_mm256_add_epi64(ki, _mm256_set1_epi64x(1023)), 52));
  const __m256d y = _mm256_mul_pd(p, scale);
  return _mm256_blendv_pd(y, x, _mm256_cmp_pd(x, x, _CMP_UNORD_Q));  // NaN stays NaN
}

struct Simd : BoxDecode128 {
  static constexpr std::size_t rows = 8;
  /// NMS grid cells per smallest box (nms.hpp): eight slots per step favour larger cells.
  static constexpr double nms_cell_scale = 2.0;
  static constexpr std::size_t exp_lanes = 8;
  static void exp_block(const float* in, float* out) noexcept {
    const __m128 lo = _mm256_cvtpd_ps(exp_f64x4(_mm256_cvtps_pd(_mm_loadu_ps(in))));
    const __m128 hi = _mm256_cvtpd_ps(exp_f64x4(_mm256_cvtps_pd(_mm_loadu_ps(in + 4))));
    _mm_storeu_ps(out, lo);
    _mm_storeu_ps(out + 4, hi);
  }
  /// The face column of eight [.,2] rows, in row order.
  static __m256 column(const float* conf, int c) noexcept {
    const __m256 a = _mm256_loadu_ps(conf), b = _mm256_loadu_ps(conf + 8);
    const __m256 s = c ? _mm256_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1)) : _mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0));
    // lanes are [r0 r1 r4 r5 | r2 r3 r6 r7]: restore row order
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(s), _MM_SHUFFLE(3, 1, 2, 0)));
  }
  static std::uint32_t face_mask(const float* conf, float t) noexcept {
    const __m256 s = column(conf, 1);
    const __m256 gt = _mm256_cmp_ps(s, _mm256_set1_ps(t), _CMP_GT_OQ);
    const __m256 fin = _mm256_cmp_ps(s, _mm256_set1_ps(std::numeric_limits<float>::infinity()), _CMP_LT_OQ);
    return std::uint32_t(_mm256_movemask_ps(_mm256_and_ps(gt, fin)));
  }
  static std::uint32_t logit_mask(const float* conf, float cut) noexcept {
    const __m256 d = _mm256_sub_ps(column(conf, 1), column(conf, 0));
    return std::uint32_t(_mm256_movemask_ps(_mm256_cmp_ps(d, _mm256_set1_ps(cut), _CMP_GT_OQ)));
  }
  static std::size_t compress(const float* conf, std::uint32_t m, std::size_t first_row, std::uint32_t* index,
                              float* score) noexcept {
    return generic::compress_bits(conf, m, first_row, index, score);
  }
  /// Landmarks 0-3 in one 256-bit vector, landmark 4 in the low half of a 128-bit one.
  static void landmarks(const float* prior, const float* lm, const DecodeContext& ctx, float* out) noexcept {
    using detail::opaque;
    double cxy, wh;
    std::memcpy(&cxy, prior, 8);
    std::memcpy(&wh, prior + 2, 8);
    const __m256 pc = _mm256_castpd_ps(_mm256_set1_pd(cxy)), pw = _mm256_castpd_ps(_mm256_set1_pd(wh));
    const __m256 v0 = _mm256_set1_ps(ctx.variance.center);
    const __m256 size = _mm256_castpd_ps(_mm256_set1_pd(pair(ctx.input_width, ctx.input_height)));
    const __m256 pad = _mm256_castpd_ps(_mm256_set1_pd(pair(ctx.mapping.pad_x, ctx.mapping.pad_y)));
    const __m256 scale = _mm256_castpd_ps(_mm256_set1_pd(pair(ctx.mapping.scale_x, ctx.mapping.scale_y)));
    const __m256 a = _mm256_loadu_ps(lm);
    const __m256 ca = _mm256_add_ps(pc, opaque(_mm256_mul_ps(opaque(_mm256_mul_ps(a, v0)), pw)));
    _mm256_storeu_ps(out, _mm256_div_ps(_mm256_sub_ps(opaque(_mm256_mul_ps(ca, size)), pad), scale));
    // loadl/storel_epi64 move 8 bytes at any alignment; GCC's _mm_load_sd/_mm_store_sd access a
    // `double`, which needs 8-byte alignment (UBSan: misaligned store into a 15-float row).
    const __m128 b = _mm_castsi128_ps(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(lm + 8)));
    const __m128 cb = _mm_add_ps(_mm256_castps256_ps128(pc),
                                 opaque(_mm_mul_ps(opaque(_mm_mul_ps(b, _mm256_castps256_ps128(v0))), _mm256_castps256_ps128(pw))));
    const __m128 ob = _mm_div_ps(_mm_sub_ps(opaque(_mm_mul_ps(cb, _mm256_castps256_ps128(size))), _mm256_castps256_ps128(pad)),
                                 _mm256_castps256_ps128(scale));
    _mm_storel_epi64(reinterpret_cast<__m128i*>(out + 8), _mm_castps_si128(ob));
  }
  static bool all_finite(const float* row) noexcept {
    const __m256 inf = _mm256_set1_ps(std::numeric_limits<float>::infinity());
    const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    const __m256 a = _mm256_and_ps(_mm256_loadu_ps(row), abs_mask), b = _mm256_and_ps(_mm256_loadu_ps(row + 7), abs_mask);
    const __m256 ok = _mm256_and_ps(_mm256_cmp_ps(a, inf, _CMP_LT_OQ), _mm256_cmp_ps(b, inf, _CMP_LT_OQ));
    return _mm256_movemask_ps(ok) == 0xff;
  }
  /// Eight slots per step, box_iou's operations lane-parallel; only kept slots count.
  template <IouConvention C>
  static bool any_suppresses(const float* q, float qa, const generic::SlotBoxes& s, std::size_t begin,
                             std::size_t end, const SuppressionTest& test) noexcept {
    using detail::opaque;
    const __m256 qx1 = _mm256_set1_ps(q[0]), qy1 = _mm256_set1_ps(q[1]), qx2 = _mm256_set1_ps(q[2]),
                 qy2 = _mm256_set1_ps(q[3]), qarea = _mm256_set1_ps(qa), zero = _mm256_setzero_ps();
    const __m256 one = _mm256_set1_ps(C == IouConvention::legacy_pixel ? 1.f : 0.f);
    const __m256 t = _mm256_set1_ps(C == IouConvention::legacy_pixel ? test.threshold_legacy : test.threshold_continuous);
    std::size_t j = begin;
    for (; j + 8 <= end; j += 8) {
      const __m256 kept = _mm256_castsi256_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(s.kept + j)));
      if (_mm256_testz_ps(kept, kept)) continue;  // no kept box in these lanes
      const __m256 w = _mm256_max_ps(
          _mm256_add_ps(_mm256_sub_ps(_mm256_min_ps(_mm256_loadu_ps(s.x2 + j), qx2), _mm256_max_ps(_mm256_loadu_ps(s.x1 + j), qx1)), one), zero);
      const __m256 h = _mm256_max_ps(
          _mm256_add_ps(_mm256_sub_ps(_mm256_min_ps(_mm256_loadu_ps(s.y2 + j), qy2), _mm256_max_ps(_mm256_loadu_ps(s.y1 + j), qy1)), one), zero);
      const __m256 inter = opaque(_mm256_mul_ps(w, h));
      const __m256 iou = _mm256_div_ps(inter, _mm256_sub_ps(_mm256_add_ps(_mm256_loadu_ps(s.area + j), qarea), inter));
      const __m256 sup = C == IouConvention::legacy_pixel ? _mm256_cmp_ps(iou, t, _CMP_NLE_UQ) : _mm256_cmp_ps(iou, t, _CMP_GT_OQ);
      if (!_mm256_testz_ps(sup, kept)) return true;
    }
    return generic::any_suppresses_scalar<C>(q, qa, s, j, end, test);
  }
  /// Two floats as the bit pattern of one double, for (x, y) broadcasts.
  static double pair(float x, float y) noexcept {
    const float xy[2] = {x, y};
    double d;
    std::memcpy(&d, xy, 8);
    return d;
  }
};

constexpr const char* name = "avx2";
using Kernels = generic::Kernels<Simd>;

}  // namespace avx2
}  // namespace kernels
}  // namespace facepost
