// facepost/cuda/filter.cuh - confidence filter fused with ranking-key encoding and stream
// compaction: one thread per prior, one atomic per block.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "facepost/cuda/arithmetic.cuh"
#include "facepost/cuda/load.cuh"
#include "facepost/params.hpp"

namespace facepost {
namespace cuda {
namespace detail {

constexpr int kFilterThreads = 256;

struct FilterArgs {
  unsigned rows;     ///< priors per frame
  float threshold;   ///< keep score > threshold
  float logit_cut;   ///< logits only: facepost::logit_prefilter_cut(threshold)
  int index_bits;    ///< low key bits holding the prior index
};

/// Grid (ceil(rows / 256), batch). Frame f's passing priors get keys (rank_key) in
/// keys[f*rows .. f*rows + counts[f]), in no particular order: the key itself carries the prior
/// index, so the sort restores the CPU order. counts[] must be zero on entry.
template <class T, ScoreFormat Format>
__global__ void __launch_bounds__(kFilterThreads)
    filter_kernel(const T* __restrict__ conf, FilterArgs args, std::uint64_t* __restrict__ keys,
                  unsigned* __restrict__ counts) {
  constexpr int kWarps = kFilterThreads / 32;
  __shared__ unsigned warp_offset[kWarps];
  __shared__ unsigned block_base;

  const unsigned frame = blockIdx.y;
  const unsigned row = blockIdx.x * kFilterThreads + threadIdx.x;
  bool pass = false;
  float score = 0.f;
  if (row < args.rows) {
    const T* c = conf + (static_cast<std::size_t>(frame) * args.rows + row) * 2;
    if (Format == ScoreFormat::probabilities) {
      score = load_f32(c + 1);
      pass = probability_passes(score, args.threshold);
    } else {
      pass = logits_pass(load_f32(c), load_f32(c + 1), args.logit_cut, args.threshold, score);
    }
  }

  // Slot of this thread among the block's passing rows: warp ballots, then a scan of the
  // (at most 8) warp counts, then one atomicAdd on the frame's counter.
  const unsigned lane = threadIdx.x & 31u, warp = threadIdx.x >> 5;
  const unsigned ballot = __ballot_sync(0xFFFFFFFFu, pass);
  if (lane == 0) warp_offset[warp] = __popc(ballot);
  __syncthreads();
  if (threadIdx.x == 0) {
    unsigned total = 0;
    for (int w = 0; w < kWarps; ++w) {
      const unsigned n = warp_offset[w];
      warp_offset[w] = total;
      total += n;
    }
    block_base = total > 0 ? atomicAdd(counts + frame, total) : 0u;
  }
  __syncthreads();
  if (pass) {
    const unsigned slot = block_base + warp_offset[warp] + __popc(ballot & ((1u << lane) - 1u));
    keys[static_cast<std::size_t>(frame) * args.rows + slot] = rank_key(score, row, args.index_bits);
  }
}

}  // namespace detail
}  // namespace cuda
}  // namespace facepost
