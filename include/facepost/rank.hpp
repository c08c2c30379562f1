// facepost/rank.hpp - candidate ordering: descending score, ties by ascending prior index.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

namespace facepost {

/// Writes into `order` the positions 0..n-1 of the candidates sorted by descending score, ties
/// broken by ascending prior index (deterministic); keeps only the best `top_k` (0 = all).
/// Returns the number written. Scores are finite (the filter drops the rest).
inline std::size_t rank_candidates(const float* score, const std::uint32_t* prior_index, std::size_t n,
                                   std::size_t top_k, std::uint32_t* order) noexcept {
  for (std::size_t i = 0; i < n; ++i) order[i] = static_cast<std::uint32_t>(i);
  auto before = [&](std::uint32_t a, std::uint32_t b) {
    return score[a] > score[b] || (score[a] == score[b] && prior_index[a] < prior_index[b]);
  };
  const std::size_t k = (top_k == 0 || top_k > n) ? n : top_k;
  if (k < n) std::partial_sort(order, order + k, order + n, before);
  else std::sort(order, order + n, before);
  return k;
}

}  // namespace facepost
