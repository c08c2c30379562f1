// facepost/kernels/neon/simd.hpp - AArch64 NEON: eight rows per step (two de-interleaving loads).
#pragma once

#include <arm_neon.h>

#include <cstdint>
#include <limits>

#include "facepost/kernels/generic/filter.hpp"

namespace facepost {
namespace kernels {
namespace neon {

struct Simd {
  static constexpr std::size_t rows = 8;
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
};

constexpr const char* name = "neon";
inline std::size_t filter_probabilities(const float* conf, std::size_t rows, float t, std::uint32_t* index,
                                        float* score) noexcept {
  return generic::filter_probabilities<Simd>(conf, rows, t, index, score);
}
inline std::size_t filter_logits(const float* conf, std::size_t rows, float t, std::uint32_t* index,
                                 float* score) noexcept {
  return generic::filter_logits<Simd>(conf, rows, t, index, score);
}

}  // namespace neon
}  // namespace kernels
}  // namespace facepost
