// facepost/cuda/arithmetic.cuh - what the CUDA kernels compute with: facepost's one arithmetic
// (arith/arith.hpp, the same functions the CPU backends run), on the kernels' float4 boxes, plus
// the device pipeline's ranking keys and constants.
//
// Device code takes arith's FACEPOST_DEVICE_CODE branches: every product, sum and quotient is an
// IEEE round-to-nearest intrinsic (__fmul_rn, __fadd_rn, __fsub_rn, __fdiv_rn, and __dmul_rn /
// __dadd_rn in exp), which nvcc never contracts into an FMA, so each operation rounds exactly
// where the CPU rounds it (tests/cuda/check_ptx.cmake checks the PTX). Host code of the same
// functions is the CPU's, so a test can recompute on the CPU, bit for bit, what a kernel computes.
//
// Kernel signatures use only types outside facepost's instruction-set namespace (isa.hpp): the
// host and device compilations of a .cu file may see different instruction-set levels.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>
#include <cstring>

#include "facepost/anchors.hpp"
#include "facepost/arith/arith.hpp"
#include "facepost/iou.hpp"
#include "facepost/params.hpp"

#define FACEPOST_CUDA_HD FACEPOST_HD FACEPOST_INLINE

namespace facepost {
namespace cuda {
namespace detail {

FACEPOST_CUDA_HD float exp_f32(float x) { return arith::exp_f32(x); }

FACEPOST_CUDA_HD std::uint32_t float_bits(float x) {
#if defined(FACEPOST_DEVICE_CODE)
  return __float_as_uint(x);
#else
  std::uint32_t u;
  std::memcpy(&u, &x, sizeof u);
  return u;
#endif
}
FACEPOST_CUDA_HD float bits_float(std::uint32_t u) {
#if defined(FACEPOST_DEVICE_CODE)
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
FACEPOST_CUDA_HD bool probability_passes(float s, float threshold) { return arith::probability_passes(s, threshold); }

/// Logit input: rows with l1 - l0 <= cut (facepost::logit_prefilter_cut) cannot pass; the others
/// pass if their softmax is > threshold. Writes the score of a passing row.
FACEPOST_CUDA_HD bool logits_pass(float l0, float l1, float cut, float threshold, float& score) {
  if (!arith::logit_margin_passes(l0, l1, cut)) return false;  // also drops NaN
  score = arith::softmax_face(l0, l1);
  return score > threshold;  // NaN (from infinite logits) fails here
}

FACEPOST_CUDA_HD bool is_finite(float x) { return arith::is_finite(x); }

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
// Decode (arith/decode-inl.hpp)

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

/// prior = (cx, cy, w, h); l = the loc row; out = x1 y1 x2 y2 in original-image pixels.
FACEPOST_CUDA_HD void decode_box(float4 prior, const float l[4], const DecodeConstants& k, float out[4]) {
  float x1, x2, y1, y2;
  arith::decode_corners(arith::decode_center(prior.x, l[0], k.variance_center, prior.z),
                        arith::mul(prior.z, exp_f32(arith::mul(l[2], k.variance_size))), x1, x2);
  arith::decode_corners(arith::decode_center(prior.y, l[1], k.variance_center, prior.w),
                        arith::mul(prior.w, exp_f32(arith::mul(l[3], k.variance_size))), y1, y2);
  out[0] = arith::to_image(x1, k.input_width, k.pad_x, k.scale_x);
  out[1] = arith::to_image(y1, k.input_height, k.pad_y, k.scale_y);
  out[2] = arith::to_image(x2, k.input_width, k.pad_x, k.scale_x);
  out[3] = arith::to_image(y2, k.input_height, k.pad_y, k.scale_y);
}

/// d = the landms row; out = lx0 ly0 ... lx4 ly4 in original-image pixels.
FACEPOST_CUDA_HD void decode_landmarks(float4 prior, const float d[10], const DecodeConstants& k, float out[10]) {
  for (int i = 0; i < 5; ++i) {
    out[2 * i] = arith::to_image(arith::decode_center(prior.x, d[2 * i], k.variance_center, prior.z), k.input_width,
                                 k.pad_x, k.scale_x);
    out[2 * i + 1] = arith::to_image(arith::decode_center(prior.y, d[2 * i + 1], k.variance_center, prior.w),
                                     k.input_height, k.pad_y, k.scale_y);
  }
}

/// Clamps column c of a detection row (x columns to [0, W], y columns to [0, H]; not the score),
/// as the CPU's clip_detection (pipeline.hpp).
FACEPOST_CUDA_HD float clip_column(float v, int c, const DecodeConstants& k) {
  if (!k.clip || c == 4) return v;
  const bool is_x = c < 4 ? (c % 2 == 0) : (c % 2 == 1);  // 0 2 | 5 7 9 11 13 are x
  return arith::clamp_to(v, is_x ? k.clip_width : k.clip_height);
}

// ---------------------------------------------------------------------------------------------
// IoU and suppression (arith/iou-inl.hpp)

template <IouConvention C>
FACEPOST_CUDA_HD float box_area(float4 b) {
  return arith::box_area<C>(b.x, b.y, b.z, b.w);
}

/// IoU of a (the earlier, kept box) and b.
template <IouConvention C>
FACEPOST_CUDA_HD float box_iou(float4 a, float area_a, float4 b, float area_b) {
  return arith::box_iou<C>(a.x, a.y, a.z, a.w, area_a, b.x, b.y, b.z, b.w, area_b);
}

/// The thresholds of facepost::SuppressionTest, as a kernel argument.
struct Suppression {
  float legacy_threshold;
  float continuous_threshold;
};

inline Suppression make_suppression(double t) noexcept {
  const SuppressionTest s(t);
  return Suppression{s.threshold_legacy, s.threshold_continuous};
}

template <IouConvention C>
FACEPOST_CUDA_HD bool suppresses(float iou, const Suppression& s) {
  return arith::suppresses<C>(iou, C == IouConvention::legacy_pixel ? s.legacy_threshold : s.continuous_threshold);
}

}  // namespace detail
}  // namespace cuda
}  // namespace facepost
