// facepost/kernels/avx2/simd.hpp - AVX2: eight rows per step, movemask + bit walk compaction.
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <limits>

#include "facepost/kernels/generic/filter.hpp"

namespace facepost {
namespace kernels {
namespace avx2 {

struct Simd {
  static constexpr std::size_t rows = 8;
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
};

constexpr const char* name = "avx2";
inline std::size_t filter_probabilities(const float* conf, std::size_t rows, float t, std::uint32_t* index,
                                        float* score) noexcept {
  return generic::filter_probabilities<Simd>(conf, rows, t, index, score);
}
inline std::size_t filter_logits(const float* conf, std::size_t rows, float t, std::uint32_t* index,
                                 float* score) noexcept {
  return generic::filter_logits<Simd>(conf, rows, t, index, score);
}

}  // namespace avx2
}  // namespace kernels
}  // namespace facepost
