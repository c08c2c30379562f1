// facepost/kernels/neon/simd.hpp - AArch64 NEON: eight rows per step (two de-interleaving loads).
#pragma once

#include <arm_neon.h>

#include <cmath>
#include <cstdint>
#include <limits>

#include "facepost/detail/exact.hpp"
#include "facepost/detail/expf.hpp"
#include "facepost/kernels/generic/decode.hpp"
#include "facepost/kernels/generic/filter.hpp"
#include "facepost/kernels/generic/kernels.hpp"
#include "facepost/kernels/generic/suppress.hpp"

namespace facepost {
namespace kernels {
namespace neon {

/// exp_f32 (detail/expf.hpp) on two lanes of doubles, the same operations in the same order.
inline float64x2_t exp_f64x2(float64x2_t x) noexcept {
  using detail::ExpConstants;
  using detail::opaque;
  const float64x2_t xc = vmaxq_f64(vminq_f64(x, vdupq_n_f64(ExpConstants::hi)), vdupq_n_f64(ExpConstants::lo));
  const float64x2_t z = opaque(vmulq_f64(xc, vdupq_n_f64(ExpConstants::inv_ln2)));
  const float64x2_t k = vrndnq_f64(z);
  const float64x2_t r = vsubq_f64(z, k);
  float64x2_t p = vdupq_n_f64(ExpConstants::c[11]);
  for (int i = 10; i >= 0; --i) p = vaddq_f64(opaque(vmulq_f64(p, r)), vdupq_n_f64(ExpConstants::c[i]));
  const int64x2_t ki = vcvtq_s64_f64(k);
  const float64x2_t scale = vreinterpretq_f64_s64(vshlq_n_s64(vaddq_s64(ki, vdupq_n_s64(1023)), 52));
  const float64x2_t y = vmulq_f64(p, scale);
  return vbslq_f64(vceqq_f64(x, x), y, x);  // NaN stays NaN
}

struct Simd {
  static constexpr std::size_t rows = 8;
  /// NMS grid cells per smallest box (nms.hpp); not measured on hardware for NEON, so the
  /// scalar kernels' choice.
  static constexpr double nms_cell_scale = 1.0;
  static constexpr std::size_t exp_lanes = 4;
  static void exp_block(const float* in, float* out) noexcept {
    const float32x4_t x = vld1q_f32(in);
    const float32x2_t lo = vcvt_f32_f64(exp_f64x2(vcvt_f64_f32(vget_low_f32(x))));
    const float32x2_t hi = vcvt_f32_f64(exp_f64x2(vcvt_high_f64_f32(x)));
    vst1q_f32(out, vcombine_f32(lo, hi));
  }
  static float32x4_t xy4(float x, float y) noexcept {
    const float v[4] = {x, y, x, y};
    return vld1q_f32(v);
  }
  static std::uint32_t bits(uint32x4_t lo, uint32x4_t hi) noexcept {
    const uint32x4_t w_lo = {1, 2, 4, 8}, w_hi = {16, 32, 64, 128};
    return vaddvq_u32(vandq_u32(lo, w_lo)) | vaddvq_u32(vandq_u32(hi, w_hi));
  }
  static std::uint32_t face_mask(const float* conf, float t) noexcept {
    const float32x4x2_t a = vld2q_f32(conf), b = vld2q_f32(conf + 8);  // val[1]: face scores
    const float32x4_t vt = vdupq_n_f32(t), inf = vdupq_n_f32(std::numeric_limits<float>::infinity());
    const uint32x4_t lo = vandq_u32(vcgtq_f32(a.val[1], vt), vcltq_f32(a.val[1], inf));
    const uint32x4_t hi = vandq_u32(vcgtq_f32(b.val[1], vt), vcltq_f32(b.val[1], inf));
    return bits(lo, hi);
  }
  static std::uint32_t logit_mask(const float* conf, float cut) noexcept {
    const float32x4x2_t a = vld2q_f32(conf), b = vld2q_f32(conf + 8);
    const float32x4_t vc = vdupq_n_f32(cut);
    return bits(vcgtq_f32(vsubq_f32(a.val[1], a.val[0]), vc), vcgtq_f32(vsubq_f32(b.val[1], b.val[0]), vc));
  }
  static std::size_t compress(const float* conf, std::uint32_t m, std::size_t first_row, std::uint32_t* index,
                              float* score) noexcept {
    return generic::compress_bits(conf, m, first_row, index, score);
  }
  /// x*size - pad, then / scale, on (x, y, x, y) lanes.
  static float32x4_t map(float32x4_t v, const DecodeContext& ctx) noexcept {
    return vdivq_f32(vsubq_f32(detail::opaque(vmulq_f32(v, xy4(ctx.input_width, ctx.input_height))),
                               xy4(ctx.mapping.pad_x, ctx.mapping.pad_y)),
                     xy4(ctx.mapping.scale_x, ctx.mapping.scale_y));
  }
  static void box(const float* prior, const float* loc, float ew, float eh, const DecodeContext& ctx,
                  float* out) noexcept {
    using detail::opaque;
    const float32x4_t p = vld1q_f32(prior), l = vld1q_f32(loc);
    const float32x4_t pwh = vcombine_f32(vget_high_f32(p), vget_high_f32(p));  // w h w h
    const float32x4_t c = vaddq_f32(p, opaque(vmulq_f32(opaque(vmulq_n_f32(l, ctx.variance.center)), pwh)));
    const float32x4_t wh = opaque(vmulq_f32(pwh, xy4(ew, eh)));
    const float32x4_t xy1 = vsubq_f32(c, opaque(vdivq_f32(wh, vdupq_n_f32(2.f))));
    const float32x4_t xy2 = vaddq_f32(wh, xy1);
    vst1q_f32(out, map(vcombine_f32(vget_low_f32(xy1), vget_low_f32(xy2)), ctx));
  }
  static void landmarks(const float* prior, const float* lm, const DecodeContext& ctx, float* out) noexcept {
    using detail::opaque;
    const float32x4_t pc = xy4(prior[0], prior[1]), pw = xy4(prior[2], prior[3]);
    const float v0 = ctx.variance.center;
    for (int k = 0; k < 8; k += 4) {
      const float32x4_t c = vaddq_f32(pc, opaque(vmulq_f32(opaque(vmulq_n_f32(vld1q_f32(lm + k), v0)), pw)));
      vst1q_f32(out + k, map(c, ctx));
    }
    const float32x2_t c = vadd_f32(vget_low_f32(pc),
                                   opaque(vmul_f32(opaque(vmul_n_f32(vld1_f32(lm + 8), v0)), vget_low_f32(pw))));
    vst1_f32(out + 8, vget_low_f32(map(vcombine_f32(c, c), ctx)));
  }
  /// Four slots per step, box_iou's operations lane-parallel; only kept slots count. vmaxq/vminq
  /// differ from "a > b ? a : b" on signed zeros, so selects are explicit.
  template <IouConvention C>
  static bool any_suppresses(const float* q, float qa, const generic::SlotBoxes& s, std::size_t begin,
                             std::size_t end, const SuppressionTest& test) noexcept {
    using detail::opaque;
    const float32x4_t qx1 = vdupq_n_f32(q[0]), qy1 = vdupq_n_f32(q[1]), qx2 = vdupq_n_f32(q[2]),
                      qy2 = vdupq_n_f32(q[3]), qarea = vdupq_n_f32(qa), zero = vdupq_n_f32(0.f);
    const float32x4_t one = vdupq_n_f32(C == IouConvention::legacy_pixel ? 1.f : 0.f);
    const float32x4_t t = vdupq_n_f32(C == IouConvention::legacy_pixel ? test.threshold_legacy : test.threshold_continuous);
    auto max_sel = [](float32x4_t a, float32x4_t b) { return vbslq_f32(vcgtq_f32(a, b), a, b); };
    auto min_sel = [](float32x4_t a, float32x4_t b) { return vbslq_f32(vcltq_f32(a, b), a, b); };
    std::size_t j = begin;
    for (; j + 4 <= end; j += 4) {
      const uint32x4_t kept = vreinterpretq_u32_s32(vld1q_s32(s.kept + j));
      if (!vmaxvq_u32(kept)) continue;
      const float32x4_t dw = vaddq_f32(vsubq_f32(min_sel(vld1q_f32(s.x2 + j), qx2), max_sel(vld1q_f32(s.x1 + j), qx1)), one);
      const float32x4_t dh = vaddq_f32(vsubq_f32(min_sel(vld1q_f32(s.y2 + j), qy2), max_sel(vld1q_f32(s.y1 + j), qy1)), one);
      const float32x4_t inter = opaque(vmulq_f32(max_sel(dw, zero), max_sel(dh, zero)));
      const float32x4_t iou = vdivq_f32(inter, vsubq_f32(vaddq_f32(vld1q_f32(s.area + j), qarea), inter));
      const uint32x4_t sup = C == IouConvention::legacy_pixel ? vmvnq_u32(vcleq_f32(iou, t)) : vcgtq_f32(iou, t);
      if (vmaxvq_u32(vandq_u32(sup, kept))) return true;
    }
    return generic::any_suppresses_scalar<C>(q, qa, s, j, end, test);
  }
  static bool all_finite(const float* row) noexcept {
    const float32x4_t inf = vdupq_n_f32(std::numeric_limits<float>::infinity());
    uint32x4_t ok = vcltq_f32(vabsq_f32(vld1q_f32(row)), inf);
    ok = vandq_u32(ok, vcltq_f32(vabsq_f32(vld1q_f32(row + 4)), inf));
    ok = vandq_u32(ok, vcltq_f32(vabsq_f32(vld1q_f32(row + 8)), inf));
    ok = vandq_u32(ok, vcltq_f32(vabsq_f32(vld1q_f32(row + 11)), inf));
    return vminvq_u32(ok) != 0;
  }
};

constexpr const char* name = "neon";
using Kernels = generic::Kernels<Simd>;

}  // namespace neon
}  // namespace kernels
}  // namespace facepost
