// facepost/kernels/generic/filter.hpp - the confidence scan, written once over a SIMD type V.
//
// V (see kernels/<isa>/simd.hpp) provides, for `V::rows` consecutive rows of a contiguous
// [N,2] conf tensor:
//   V::face_mask(conf_rows, threshold) -> bitmask of rows whose face score s has t < s < inf
//   V::logit_mask(conf_rows, cut)      -> bitmask of rows whose l1 - l0 > cut
//   V::compress(conf_rows, mask, first_row, index_out, score_out) -> entries written
// The scalar tail and the per-candidate softmax are shared by every instruction set, so every
// backend writes exactly the same candidates.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>

#include "facepost/scores.hpp"

namespace facepost {
namespace kernels {
namespace generic {

/// Iterates the set bits of a mask, lowest first.
template <class Mask, class F>
inline void for_each_bit(Mask m, F&& f) noexcept {
  while (m) {
    const int b = __builtin_ctzll(static_cast<unsigned long long>(m));
    f(b);
    m &= m - 1;
  }
}

/// Default compaction: scalar walk over the set bits (used where the ISA has no compress-store).
template <class Mask>
inline std::size_t compress_bits(const float* conf, Mask m, std::size_t first_row, std::uint32_t* index,
                                 float* score) noexcept {
  std::size_t n = 0;
  for_each_bit(m, [&](int b) {
    index[n] = static_cast<std::uint32_t>(first_row + std::size_t(b));
    score[n] = conf[2 * b + 1];
    ++n;
  });
  return n;
}

template <class V>
std::size_t filter_probabilities(const float* conf, std::size_t rows, float threshold, std::uint32_t* index,
                                 float* score) noexcept {
  std::size_t n = 0, r = 0;
  for (; r + V::rows <= rows; r += V::rows) {
    const auto m = V::face_mask(conf + 2 * r, threshold);
    if (m) n += V::compress(conf + 2 * r, m, r, index + n, score + n);
  }
  const float inf = std::numeric_limits<float>::infinity();
  for (; r < rows; ++r) {
    const float s = conf[2 * r + 1];
    if (s > threshold && s < inf) index[n] = static_cast<std::uint32_t>(r), score[n] = s, ++n;
  }
  return n;
}

template <class V>
std::size_t filter_logits(const float* conf, std::size_t rows, float threshold, std::uint32_t* index,
                          float* score) noexcept {
  if (threshold >= 1.f) return 0;  // a softmax never exceeds 1
  const float cut = logit_prefilter_cut(threshold);
  std::size_t n = 0, r = 0;
  auto take = [&](std::size_t row) {
    const float s = softmax_face(conf[2 * row], conf[2 * row + 1]);
    if (s > threshold) index[n] = static_cast<std::uint32_t>(row), score[n] = s, ++n;
  };
  for (; r + V::rows <= rows; r += V::rows) {
    const auto m = V::logit_mask(conf + 2 * r, cut);
    if (m) for_each_bit(m, [&](int b) { take(r + std::size_t(b)); });
  }
  for (; r < rows; ++r)
    if (conf[2 * r + 1] - conf[2 * r] > cut) take(r);
  return n;
}

}  // namespace generic
}  // namespace kernels
}  // namespace facepost
