// facepost/rank.hpp - candidate ordering: descending score, ties by ascending prior index.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "facepost/isa.hpp"
#include "facepost/detail/buffer.hpp"

namespace facepost {
FACEPOST_ABI_BEGIN

/// Writes into `order` the positions 0..n-1 of the candidates sorted by descending score, ties
/// broken by ascending prior index (deterministic); keeps only the best `top_k` (0 = all).
/// Returns the number written. Comparison sort; any input order.
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

/// Scratch memory of rank_candidates_radix: 3n 32-bit words (grows, never shrinks).
struct RankWorkspace {
  detail::Buffer<std::uint32_t> buffer;
  void reserve(std::size_t n) { buffer.reserve(3 * n); }
};

namespace detail {

/// Stable LSD radix sort of the positions 0..n-1 by key[i] (ascending), kBits per digit;
/// digits shared by every key are skipped. Returns the buffer holding the result (order or
/// scratch).
template <int kBits>
std::uint32_t* radix_sort_positions(std::uint32_t* key_a, std::uint32_t* key_b, std::uint32_t* pos_a,
                                    std::uint32_t* pos_b, std::size_t n) noexcept {
  constexpr unsigned kPasses = (32u + kBits - 1) / kBits;
  constexpr std::uint32_t kMask = (1u << kBits) - 1;
  std::uint32_t hist[kPasses][1u << kBits] = {};
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint32_t key = key_a[i];
    pos_a[i] = static_cast<std::uint32_t>(i);
    for (unsigned p = 0; p < kPasses; ++p) ++hist[p][(key >> (kBits * p)) & kMask];
  }
  for (unsigned p = 0; p < kPasses; ++p) {
    const unsigned shift = kBits * p;
    std::uint32_t* h = hist[p];
    if (h[(key_a[0] >> shift) & kMask] == n) continue;  // every key has this digit
    std::uint32_t sum = 0;
    for (std::uint32_t d = 0; d <= kMask; ++d) {
      const std::uint32_t c = h[d];
      h[d] = sum;
      sum += c;
    }
    for (std::size_t i = 0; i < n; ++i) {
      const std::uint32_t key = key_a[i];
      const std::uint32_t dst = h[(key >> shift) & kMask]++;
      key_b[dst] = key;
      pos_b[dst] = pos_a[i];
    }
    std::swap(key_a, key_b);
    std::swap(pos_a, pos_b);
  }
  return pos_a;
}

}  // namespace detail

/// Same result as rank_candidates for candidates that come in ascending prior-index order with
/// positive finite scores (what filter_scores produces: score > threshold >= 0), in O(n): a
/// stable LSD radix sort on the float bits, which order like the values for positive floats.
/// Stability keeps ties in index order.
inline std::size_t rank_candidates_radix(const float* score, std::size_t n, std::size_t top_k, std::uint32_t* order,
                                         RankWorkspace& ws) {
  const std::size_t k = (top_k == 0 || top_k > n) ? n : top_k;
  if (n < 64) {  // small: insertion sort, stable
    for (std::size_t i = 0; i < n; ++i) {
      std::size_t j = i;
      while (j > 0 && score[order[j - 1]] < score[i]) order[j] = order[j - 1], --j;
      order[j] = static_cast<std::uint32_t>(i);
    }
    return k;
  }
  ws.reserve(n);
  std::uint32_t* key_a = ws.buffer.data();
  std::uint32_t* key_b = key_a + n;
  std::uint32_t* pos_b = key_b + n;
  for (std::size_t i = 0; i < n; ++i) {
    std::uint32_t bits;
    std::memcpy(&bits, score + i, 4);
    key_a[i] = ~bits;  // descending score = ascending key
  }
  // Small n: 8-bit digits (cheap histograms); large n: three 11-bit passes.
  std::uint32_t* sorted = n < 2048 ? detail::radix_sort_positions<8>(key_a, key_b, order, pos_b, n)
                                   : detail::radix_sort_positions<11>(key_a, key_b, order, pos_b, n);
  if (sorted != order) std::memcpy(order, sorted, k * sizeof(std::uint32_t));
  return k;
}

FACEPOST_ABI_END
}  // namespace facepost
