// facepost/kernels/avx512/simd.hpp - AVX-512: sixteen rows per step, compress-store compaction.
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <limits>

#include "facepost/kernels/generic/filter.hpp"

namespace facepost {
namespace kernels {
namespace avx512 {

struct Simd {
  static constexpr std::size_t rows = 16;
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
    _mm512_mask_compressstoreu_epi32(index, m, rows_iota);
    _mm512_mask_compressstoreu_ps(score, m, column(conf, 1));
    return std::size_t(__builtin_popcount(unsigned(m)));
  }
};

constexpr const char* name = "avx512";
inline std::size_t filter_probabilities(const float* conf, std::size_t rows, float t, std::uint32_t* index,
                                        float* score) noexcept {
  return generic::filter_probabilities<Simd>(conf, rows, t, index, score);
}
inline std::size_t filter_logits(const float* conf, std::size_t rows, float t, std::uint32_t* index,
                                 float* score) noexcept {
  return generic::filter_logits<Simd>(conf, rows, t, index, score);
}

}  // namespace avx512
}  // namespace kernels
}  // namespace facepost
