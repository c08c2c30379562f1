// facepost/cuda/nms_chunk.cuh - the serial step of the device NMS (host-callable, so tests can
// replay the kernel's algorithm on the CPU).
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "facepost/cuda/arithmetic.cuh"

namespace facepost {
namespace cuda {
namespace detail {

constexpr int kNmsThreads = 256;             ///< candidates per chunk, one per thread
constexpr int kNmsWords = kNmsThreads / 64;  ///< 64-bit mask words per chunk row

FACEPOST_CUDA_HD int lowest_set_bit(unsigned long long x) {  // x != 0
#if defined(__CUDA_ARCH__)
  return __ffsll(static_cast<long long>(x)) - 1;
#else
  return __builtin_ctzll(x);
#endif
}

/// Greedy resolution of one chunk. `gone` has a bit set for every candidate of the chunk already
/// out of play (past the end, non-finite, or suppressed by a box kept in an earlier chunk);
/// mask[i] has bit j set iff candidate i would suppress candidate j > i of the chunk (rows are
/// read only for candidates still in play). Walking the candidates in order, the first one in
/// play is kept and removes what its mask says; stops after `room` kept. Writes the kept
/// positions, ascending, to `taken` and returns their count.
FACEPOST_CUDA_HD unsigned resolve_chunk(unsigned long long (&gone)[kNmsWords],
                                        const unsigned long long (*mask)[kNmsWords], unsigned room,
                                        unsigned short* taken) {
  unsigned n = 0;
  for (int w = 0; w < kNmsWords && n < room; ++w) {
    unsigned long long open = ~gone[w];
    while (open != 0 && n < room) {
      const int b = lowest_set_bit(open);
      const unsigned i = 64u * static_cast<unsigned>(w) + static_cast<unsigned>(b);
      taken[n++] = static_cast<unsigned short>(i);
      for (int v = w; v < kNmsWords; ++v) gone[v] |= mask[i][v];
      open = ~gone[w] & ~((2ull << b) - 1ull);  // only candidates after i (none when b = 63)
    }
  }
  return n;
}

}  // namespace detail
}  // namespace cuda
}  // namespace facepost
