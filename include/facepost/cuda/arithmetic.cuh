// facepost/cuda/arithmetic.cuh - the pipeline's float32 arithmetic, one definition for host and
// device.
//
// Device: every product, sum and quotient is an IEEE round-to-nearest intrinsic (__fmul_rn,
// __fadd_rn, __fsub_rn, __fdiv_rn, and __dmul_rn / __dadd_rn in exp), which nvcc never contracts
// into an FMA, so each operation rounds exactly where decode.hpp, expf.hpp and iou.hpp round.
// Host: the CPU's own functions and expressions (products through facepost::detail::mul, never
// fused), so a test can recompute on the CPU, bit for bit, what a kernel computes.
//
// exp is facepost's own (detail/expf.hpp: double precision, Taylor series, one final rounding):
// the device runs the same operations on the same constants, so the kernels decode exactly what
// the CPU Postprocessor decodes. The one CPU function not shared is the softmax of logit inputs
// (scores.hpp), which calls the C library's expf; here it uses facepost's exp.
#pragma once

#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>
#include <cstring>

#include "facepost/detail/exact.hpp"
#include "facepost/detail/expf.hpp"
#include "facepost/params.hpp"

#define FACEPOST_CUDA_HD __host__ __device__ __forceinline__

namespace facepost {
namespace cuda {
namespace detail {

FACEPOST_CUDA_HD float mul(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fmul_rn(a, b);
#else
  return facepost::detail::mul(a, b);
#endif
}
FACEPOST_CUDA_HD float add(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fadd_rn(a, b);
#else
  return a + b;
#endif
}
FACEPOST_CUDA_HD float sub(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fsub_rn(a, b);
#else
  return a - b;
#endif
}
FACEPOST_CUDA_HD float div(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fdiv_rn(a, b);
#else
  return a / b;
#endif
}

// Double-precision steps of exp, unfused on both sides.
FACEPOST_CUDA_HD double dmul(double a, double b) {
#if defined(__CUDA_ARCH__)
  return __dmul_rn(a, b);
#else
  return facepost::detail::opaque(a * b);
#endif
}
FACEPOST_CUDA_HD double dadd(double a, double b) {
#if defined(__CUDA_ARCH__)
  return __dadd_rn(a, b);
#else
  return a + b;
#endif
}
FACEPOST_CUDA_HD double dsub(double a, double b) {
#if defined(__CUDA_ARCH__)
  return __dsub_rn(a, b);
#else
  return a - b;
#endif
}
/// Round half to even (std::nearbyint in the default rounding mode).
FACEPOST_CUDA_HD double round_even(double z) {
#if defined(__CUDA_ARCH__)
  return rint(z);
#else
  return std::nearbyint(z);
#endif
}
FACEPOST_CUDA_HD double double_from_bits(std::uint64_t u) {
#if defined(__CUDA_ARCH__)
  return __longlong_as_double(static_cast<long long>(u));
#else
  double d;
  std::memcpy(&d, &u, sizeof d);
  return d;
#endif
}
FACEPOST_CUDA_HD float to_float(double d) {
#if defined(__CUDA_ARCH__)
  return __double2float_rn(d);
#else
  return static_cast<float>(d);
#endif
}

/// facepost::detail::exp_f32 (expf.hpp), operation for operation: 2^k * 2^r in double, 2^r by
/// its degree-11 Taylor series (Horner, products unfused), one rounding to float. Same constants,
/// same operations, same bits (tests/cuda checks the host side against exp_f32).
FACEPOST_CUDA_HD float exp_f32(float x) {
  using E = facepost::detail::ExpConstants;
  if (x != x) return x;
  double xd = static_cast<double>(x);
  xd = xd < E::lo ? E::lo : (xd > E::hi ? E::hi : xd);
  const double z = dmul(xd, E::inv_ln2);
  const double k = round_even(z);
  const double r = dsub(z, k);
  constexpr double c[12] = {E::c[0], E::c[1], E::c[2], E::c[3], E::c[4],  E::c[5],
                            E::c[6], E::c[7], E::c[8], E::c[9], E::c[10], E::c[11]};
  double p = c[11];
  for (int i = 10; i >= 0; --i) p = dadd(dmul(p, r), c[i]);
  const std::uint64_t bits = static_cast<std::uint64_t>(static_cast<std::int64_t>(k) + 1023) << 52;  // 2^k
  return to_float(dmul(p, double_from_bits(bits)));
}

FACEPOST_CUDA_HD bool is_finite(float x) {
#if defined(__CUDA_ARCH__)
  return isfinite(x);
#else
  return std::isfinite(x);
#endif
}

FACEPOST_CUDA_HD std::uint32_t float_bits(float x) {
#if defined(__CUDA_ARCH__)
  return __float_as_uint(x);
#else
  std::uint32_t u;
  std::memcpy(&u, &x, sizeof u);
  return u;
#endif
}
FACEPOST_CUDA_HD float bits_float(std::uint32_t u) {
#if defined(__CUDA_ARCH__)
  return __uint_as_float(u);
#else
  float x;
  std::memcpy(&x, &u, sizeof x);
  return x;
#endif
}

// ---------------------------------------------------------------------------------------------
// Scores (filter.hpp / scores.hpp)

/// Probability input: keep s with threshold < s < inf (NaN fails both).
FACEPOST_CUDA_HD bool probability_passes(float s, float threshold) {
  return s > threshold && s < INFINITY;
}

/// Face probability from two-class logits: max-subtracted float32 softmax.
FACEPOST_CUDA_HD float softmax_face(float l0, float l1) {
  const float m = l0 > l1 ? l0 : l1;
  const float e0 = exp_f32(sub(l0, m)), e1 = exp_f32(sub(l1, m));
  return div(e1, add(e0, e1));
}

/// Logit input: rows with l1 - l0 <= cut (facepost::logit_prefilter_cut) cannot pass; the others
/// pass if their softmax is > threshold. Writes the score of a passing row.
FACEPOST_CUDA_HD bool logits_pass(float l0, float l1, float cut, float threshold, float& score) {
  if (!(sub(l1, l0) > cut)) return false;  // also drops NaN
  score = softmax_face(l0, l1);
  return score > threshold;  // NaN (from infinite logits) fails here
}

// ---------------------------------------------------------------------------------------------
// Ranking keys: ascending key order = descending score, ties by ascending prior index.

/// Bits needed to store prior indices 0 .. rows-1 (at least 1).
inline int index_bits_for(std::uint64_t rows) noexcept {
  int bits = 1;
  while (bits < 63 && (std::uint64_t{1} << bits) < rows) ++bits;
  return bits;
}

/// Scores that pass the filter are finite and > threshold >= 0, so their bits lie in
/// [1, 0x7F7FFFFF] and order like the values; 0x7F7FFFFF - bits (31 bits) reverses the order.
constexpr std::uint32_t kMaxFiniteBits = 0x7F7FFFFFu;
constexpr int kScoreKeyBits = 31;

FACEPOST_CUDA_HD std::uint64_t rank_key(float score, std::uint32_t prior, int index_bits) {
  return (std::uint64_t(kMaxFiniteBits - float_bits(score)) << index_bits) | prior;
}
FACEPOST_CUDA_HD std::uint32_t key_prior(std::uint64_t key, int index_bits) {
  return static_cast<std::uint32_t>(key & ((std::uint64_t{1} << index_bits) - 1));
}
FACEPOST_CUDA_HD float key_score(std::uint64_t key, int index_bits) {
  return bits_float(kMaxFiniteBits - static_cast<std::uint32_t>(key >> index_bits));
}

// ---------------------------------------------------------------------------------------------
// Decode (decode.hpp)

/// Everything decode needs besides the prior and the regressions; a trivially copyable kernel
/// argument built from facepost::DecodeContext.
struct DecodeConstants {
  float input_width, input_height;
  float variance_center, variance_size;
  float scale_x, scale_y, pad_x, pad_y;
  bool clip;
  float clip_width, clip_height;
};

inline DecodeConstants make_decode_constants(InputSize input, Variance v, const ImageMapping& m) noexcept {
  return DecodeConstants{float(input.width), float(input.height), v.center, v.size, m.scale_x, m.scale_y,
                         m.pad_x,           m.pad_y,             m.clip,   m.image_width, m.image_height};
}

/// Normalised coordinate to original-image pixels: (v*size - pad) / scale.
FACEPOST_CUDA_HD float map_coord(float v, float size, float pad, float scale) {
  return div(sub(mul(v, size), pad), scale);
}

/// prior = (cx, cy, w, h); l = the loc row; out = x1 y1 x2 y2 in original-image pixels.
FACEPOST_CUDA_HD void decode_box(float4 prior, const float l[4], const DecodeConstants& k, float out[4]) {
  const float v0 = k.variance_center, v1 = k.variance_size;
  const float cx = add(prior.x, mul(mul(l[0], v0), prior.z));
  const float cy = add(prior.y, mul(mul(l[1], v0), prior.w));
  const float w = mul(prior.z, exp_f32(mul(l[2], v1)));
  const float h = mul(prior.w, exp_f32(mul(l[3], v1)));
  const float x1 = sub(cx, div(w, 2.f));
  const float y1 = sub(cy, div(h, 2.f));
  out[0] = map_coord(x1, k.input_width, k.pad_x, k.scale_x);
  out[1] = map_coord(y1, k.input_height, k.pad_y, k.scale_y);
  out[2] = map_coord(add(w, x1), k.input_width, k.pad_x, k.scale_x);
  out[3] = map_coord(add(h, y1), k.input_height, k.pad_y, k.scale_y);
}

/// d = the landms row; out = lx0 ly0 ... lx4 ly4 in original-image pixels.
FACEPOST_CUDA_HD void decode_landmarks(float4 prior, const float d[10], const DecodeConstants& k, float out[10]) {
  const float v0 = k.variance_center;
  for (int i = 0; i < 5; ++i) {
    out[2 * i] = map_coord(add(prior.x, mul(mul(d[2 * i], v0), prior.z)), k.input_width, k.pad_x, k.scale_x);
    out[2 * i + 1] = map_coord(add(prior.y, mul(mul(d[2 * i + 1], v0), prior.w)), k.input_height, k.pad_y, k.scale_y);
  }
}

/// std::min(std::max(v, 0.f), hi), with the same choice of operand on ties and signed zeros.
FACEPOST_CUDA_HD float clamp_to(float v, float hi) {
  const float lo = v < 0.f ? 0.f : v;
  return hi < lo ? hi : lo;
}

/// Clamps column c of a detection row (x columns to [0, W], y columns to [0, H]; not the score).
FACEPOST_CUDA_HD float clip_column(float v, int c, const DecodeConstants& k) {
  if (!k.clip || c == 4) return v;
  const bool is_x = c < 4 ? (c % 2 == 0) : (c % 2 == 1);  // 0 2 | 5 7 9 11 13 are x
  return clamp_to(v, is_x ? k.clip_width : k.clip_height);
}

// ---------------------------------------------------------------------------------------------
// IoU and suppression (iou.hpp)

template <IouConvention C>
FACEPOST_CUDA_HD float box_area(float4 b) {
  constexpr float one = C == IouConvention::legacy_pixel ? 1.f : 0.f;
  return mul(add(sub(b.z, b.x), one), add(sub(b.w, b.y), one));
}

/// IoU of a (the earlier, kept box) and b, rounded as box_iou in iou.hpp.
template <IouConvention C>
FACEPOST_CUDA_HD float box_iou(float4 a, float area_a, float4 b, float area_b) {
  constexpr float one = C == IouConvention::legacy_pixel ? 1.f : 0.f;
  const float xx1 = a.x > b.x ? a.x : b.x;
  const float yy1 = a.y > b.y ? a.y : b.y;
  const float xx2 = a.z < b.z ? a.z : b.z;
  const float yy2 = a.w < b.w ? a.w : b.w;
  const float dw = add(sub(xx2, xx1), one), dh = add(sub(yy2, yy1), one);
  const float w = dw > 0.f ? dw : 0.f;
  const float h = dh > 0.f ? dh : 0.f;
  const float inter = mul(w, h);
  return div(inter, sub(add(area_a, area_b), inter));
}

/// The suppression decision of each reference: py_cpu_nms keeps `iou <= float32(t)` (NaN
/// suppresses); torchvision suppresses `double(iou) > t` (NaN keeps).
struct Suppression {
  float legacy_threshold;
  double continuous_threshold;
};

inline Suppression make_suppression(double t) noexcept { return Suppression{static_cast<float>(t), t}; }

template <IouConvention C>
FACEPOST_CUDA_HD bool suppresses(float iou, const Suppression& s) {
  if (C == IouConvention::legacy_pixel) return !(iou <= s.legacy_threshold);
  return static_cast<double>(iou) > s.continuous_threshold;
}

}  // namespace detail
}  // namespace cuda
}  // namespace facepost
