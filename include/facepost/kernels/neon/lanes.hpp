// facepost/kernels/neon/lanes.hpp - AArch64 NEON kernels: four float lanes (two double lanes for
// exp), eight conf rows per filter step (two de-interleaving loads).
//
// Only primitives live here: the lane types and their operations (each one instruction, products
// unfused), loads, masks, de-interleaving. The algorithms are the generic ones
// (kernels/generic/*-inl.hpp) over these lanes, the arithmetic arith's (arith/*-inl.hpp).
#pragma once

#include <arm_neon.h>

#include <cstddef>
#include <cstdint>
#include <limits>

#include "facepost/kernels/scalar/lanes.hpp"  // the shared headers, and the reference kernels

namespace facepost {
FACEPOST_ABI_BEGIN
namespace kernels {
namespace neon {

struct M32x4 {
  uint32x4_t m;
};
struct M64x2 {
  uint64x2_t m;
};

struct F32x4 {
  static constexpr std::size_t lanes = 4;
  float32x4_t v;
  F32x4() = default;
  FACEPOST_INLINE explicit F32x4(float32x4_t x) noexcept : v(x) {}
  FACEPOST_INLINE explicit F32x4(float x) noexcept : v(vdupq_n_f32(x)) {}
  static FACEPOST_INLINE F32x4 load(const float* p) noexcept { return F32x4(vld1q_f32(p)); }
  /// The first n lanes from p (nothing read past them), the others 0.
  static FACEPOST_INLINE F32x4 load_partial(const float* p, std::size_t n) noexcept {
    float t[4] = {0.f, 0.f, 0.f, 0.f};
    for (std::size_t i = 0; i < n; ++i) t[i] = p[i];
    return F32x4(vld1q_f32(t));
  }
  static FACEPOST_INLINE F32x4 load_n(const float* p, std::size_t n) noexcept {
    return n == lanes ? load(p) : load_partial(p, n);
  }
  FACEPOST_INLINE void store(float* p) const noexcept { vst1q_f32(p, v); }
  FACEPOST_INLINE void store_partial(float* p, std::size_t n) const noexcept {
    float t[4];
    vst1q_f32(t, v);
    for (std::size_t i = 0; i < n; ++i) p[i] = t[i];
  }
  static FACEPOST_INLINE F32x4 xy(float x, float y) noexcept {
    const float t[4] = {x, y, x, y};
    return F32x4(vld1q_f32(t));
  }
};

FACEPOST_INLINE F32x4 add(F32x4 a, F32x4 b) noexcept { return F32x4(vaddq_f32(a.v, b.v)); }
FACEPOST_INLINE F32x4 sub(F32x4 a, F32x4 b) noexcept { return F32x4(vsubq_f32(a.v, b.v)); }
FACEPOST_INLINE F32x4 mul(F32x4 a, F32x4 b) noexcept {
  float32x4_t r = vmulq_f32(a.v, b.v);
  FACEPOST_DETAIL_BARRIER(r);
  return F32x4(r);
}
FACEPOST_INLINE F32x4 div(F32x4 a, F32x4 b) noexcept {
  float32x4_t r = vdivq_f32(a.v, b.v);
  FACEPOST_DETAIL_BARRIER(r);
  return F32x4(r);
}
FACEPOST_INLINE M32x4 gt(F32x4 a, F32x4 b) noexcept { return {vcgtq_f32(a.v, b.v)}; }
FACEPOST_INLINE M32x4 lt(F32x4 a, F32x4 b) noexcept { return {vcltq_f32(a.v, b.v)}; }
FACEPOST_INLINE M32x4 ge(F32x4 a, F32x4 b) noexcept { return {vcgeq_f32(a.v, b.v)}; }
FACEPOST_INLINE M32x4 nle(F32x4 a, F32x4 b) noexcept { return {vmvnq_u32(vcleq_f32(a.v, b.v))}; }
FACEPOST_INLINE M32x4 is_nan(F32x4 a) noexcept { return {vmvnq_u32(vceqq_f32(a.v, a.v))}; }
FACEPOST_INLINE F32x4 select(M32x4 m, F32x4 a, F32x4 b) noexcept { return F32x4(vbslq_f32(m.m, a.v, b.v)); }
// vmaxq/vminq differ from a > b ? a : b on NaN and signed zeros: explicit selects.
FACEPOST_INLINE F32x4 max_ref(F32x4 a, F32x4 b) noexcept { return select(gt(a, b), a, b); }
FACEPOST_INLINE F32x4 min_ref(F32x4 a, F32x4 b) noexcept { return select(lt(a, b), a, b); }
FACEPOST_INLINE F32x4 abs(F32x4 a) noexcept { return F32x4(vabsq_f32(a.v)); }
FACEPOST_INLINE M32x4 and_(M32x4 a, M32x4 b) noexcept { return {vandq_u32(a.m, b.m)}; }
FACEPOST_INLINE bool any(M32x4 m) noexcept { return vmaxvq_u32(m.m) != 0; }
FACEPOST_INLINE bool all(M32x4 m) noexcept { return vminvq_u32(m.m) != 0; }
FACEPOST_INLINE std::uint32_t mask_bits(M32x4 m) noexcept {
  const uint32x4_t weights = {1, 2, 4, 8};
  return vaddvq_u32(vandq_u32(m.m, weights));
}

struct F64x2 {
  static constexpr std::size_t lanes = 2;
  float64x2_t v;
  F64x2() = default;
  FACEPOST_INLINE explicit F64x2(float64x2_t x) noexcept : v(x) {}
  FACEPOST_INLINE explicit F64x2(double x) noexcept : v(vdupq_n_f64(x)) {}
};
FACEPOST_INLINE F64x2 add(F64x2 a, F64x2 b) noexcept { return F64x2(vaddq_f64(a.v, b.v)); }
FACEPOST_INLINE F64x2 sub(F64x2 a, F64x2 b) noexcept { return F64x2(vsubq_f64(a.v, b.v)); }
FACEPOST_INLINE F64x2 mul(F64x2 a, F64x2 b) noexcept {
  float64x2_t r = vmulq_f64(a.v, b.v);
  FACEPOST_DETAIL_BARRIER(r);
  return F64x2(r);
}
FACEPOST_INLINE M64x2 is_nan(F64x2 a) noexcept {
  return {vreinterpretq_u64_u32(vmvnq_u32(vreinterpretq_u32_u64(vceqq_f64(a.v, a.v))))};
}
FACEPOST_INLINE F64x2 select(M64x2 m, F64x2 a, F64x2 b) noexcept { return F64x2(vbslq_f64(m.m, a.v, b.v)); }
FACEPOST_INLINE F64x2 max_ref(F64x2 a, F64x2 b) noexcept { return select({vcgtq_f64(a.v, b.v)}, a, b); }
FACEPOST_INLINE F64x2 min_ref(F64x2 a, F64x2 b) noexcept { return select({vcltq_f64(a.v, b.v)}, a, b); }
FACEPOST_INLINE F64x2 round_even(F64x2 a) noexcept { return F64x2(vrndnq_f64(a.v)); }
FACEPOST_INLINE F64x2 scale_pow2(F64x2 p, F64x2 k) noexcept {
  const int64x2_t ki = vcvtq_s64_f64(k.v);
  return F64x2(vmulq_f64(p.v, vreinterpretq_f64_s64(vshlq_n_s64(vaddq_s64(ki, vdupq_n_s64(1023)), 52))));
}

#include "facepost/arith/all-inl.hpp"

// ---- the lane shapes and primitives the generic algorithms use (kernels/generic/*-inl.hpp)
constexpr const char* kName = "neon";
using F = F32x4;
using F4 = F32x4;
using FL = F32x4;  // landmarks: 4 + 4 + 2
using D = F64x2;
constexpr std::size_t kFilterRows = 8;
constexpr std::size_t kExpBlock = 4;
/// NMS grid cells per smallest box (nms/grid.hpp); not measured on hardware for NEON, so the
/// scalar kernels' choice.
constexpr double kNmsCellScale = 1.0;
constexpr bool kSkipUnkeptLanes = true;

/// Four binary16 values, exactly (fcvtl).
FACEPOST_INLINE F load_f16(const std::uint16_t* p) noexcept {
  return F(vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(p))));
}
/// Four int8 / uint8 values q as float32(q - zero_point).
FACEPOST_INLINE F load_q8(const std::int8_t* p, std::int32_t zero_point) noexcept {
  std::int32_t four;
  std::memcpy(&four, p, 4);
  const int16x8_t w = vmovl_s8(vreinterpret_s8_s32(vdup_n_s32(four)));
  return F(vcvtq_f32_s32(vsubq_s32(vmovl_s16(vget_low_s16(w)), vdupq_n_s32(zero_point))));
}
FACEPOST_INLINE F load_q8(const std::uint8_t* p, std::int32_t zero_point) noexcept {
  std::uint32_t four;
  std::memcpy(&four, p, 4);
  const uint16x8_t w = vmovl_u8(vreinterpret_u8_u32(vdup_n_u32(four)));
  const int32x4_t q = vreinterpretq_s32_u32(vmovl_u16(vget_low_u16(w)));
  return F(vcvtq_f32_s32(vsubq_s32(q, vdupq_n_s32(zero_point))));
}
/// Four [., 2] rows de-interleaved into their two columns.
FACEPOST_INLINE void load_conf(const float* conf, F& background, F& face) noexcept {
  const float32x4x2_t r = vld2q_f32(conf);
  background = F(r.val[0]);
  face = F(r.val[1]);
}
FACEPOST_INLINE std::size_t compress(const float* conf, std::uint32_t bits, std::size_t first_row,
                                     std::uint32_t* index, float* score) noexcept {
  return scalar::compress(conf, bits, first_row, index, score);
}
FACEPOST_INLINE M32x4 kept_lanes(const std::int32_t* kept, std::size_t n) noexcept {
  if (n == 4) return {vreinterpretq_u32_s32(vld1q_s32(kept))};
  std::int32_t t[4] = {0, 0, 0, 0};
  for (std::size_t i = 0; i < n; ++i) t[i] = kept[i];
  return {vreinterpretq_u32_s32(vld1q_s32(t))};
}
FACEPOST_INLINE F4 dup_high(F4 p) noexcept { return F4(vcombine_f32(vget_high_f32(p.v), vget_high_f32(p.v))); }
FACEPOST_INLINE F4 low_pairs(F4 a, F4 b) noexcept { return F4(vcombine_f32(vget_low_f32(a.v), vget_low_f32(b.v))); }
FACEPOST_INLINE D load_widen(const float* p) noexcept { return D(vcvt_f64_f32(vld1_f32(p))); }
FACEPOST_INLINE void store_narrow(float* p, D d) noexcept { vst1_f32(p, vcvt_f32_f64(d.v)); }

#include "facepost/kernels/generic/table-inl.hpp"

}  // namespace neon
}  // namespace kernels
FACEPOST_ABI_END
}  // namespace facepost
