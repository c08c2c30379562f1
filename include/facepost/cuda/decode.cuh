// facepost/cuda/decode.cuh - decode of the ranked candidates (the first min(count, top_k) sorted
// keys of each frame) into boxes for NMS, with the CPU's non-finite-row check.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

#include "facepost/cuda/arithmetic.cuh"
#include "facepost/cuda/load.cuh"
#include "facepost/detections.hpp"

namespace facepost {
namespace cuda {
namespace detail {

constexpr int kDecodeThreads = 256;

/// Shapes shared by the decode and NMS kernels.
struct RankedLayout {
  unsigned rows;           ///< priors per frame (stride of the key buffer and the heads)
  unsigned capacity;       ///< ranked candidates per frame: min(top_k, rows), or rows
  unsigned keep_capacity;  ///< detections per frame: min(keep_top_k, capacity), or capacity
  int index_bits;
};

template <class T, int N>
__device__ __forceinline__ void load_row(const T* __restrict__ p, float (&out)[N]) {
#pragma unroll
  for (int i = 0; i < N; ++i) out[i] = load_f32(p + i);
}

/// Landmarks of prior p of a frame, in original-image pixels.
template <class T>
__device__ __forceinline__ void decode_prior_landmarks(const T* __restrict__ landms, const float4* __restrict__ priors,
                                                       std::size_t frame_row0, std::uint32_t p,
                                                       const DecodeConstants& k, float (&out)[10]) {
  float d[10];
  load_row(landms + (frame_row0 + p) * 10, d);
  decode_landmarks(priors[p], d, k, out);
}

/// Writes a kept candidate (its decoded box b and sorted key) as detection row `slot` of
/// out_rows (x1 y1 x2 y2 score, landmarks; clipped as the mapping says) and its prior index.
template <class T>
__device__ __forceinline__ void write_detection(const T* __restrict__ landms, const float4* __restrict__ priors,
                                                std::size_t frame_row0, std::uint64_t key, float4 b, int index_bits,
                                                const DecodeConstants& k, float* __restrict__ out_rows,
                                                std::uint32_t* __restrict__ out_prior, std::size_t slot) {
  const std::uint32_t p = key_prior(key, index_bits);
  float lm[10];
  decode_prior_landmarks(landms, priors, frame_row0, p, k, lm);
  const float row[kDetectionCols] = {b.x,   b.y,   b.z,   b.w,   key_score(key, index_bits),
                                     lm[0], lm[1], lm[2], lm[3], lm[4],
                                     lm[5], lm[6], lm[7], lm[8], lm[9]};
  float* out = out_rows + slot * kDetectionCols;
#pragma unroll
  for (int c = 0; c < static_cast<int>(kDetectionCols); ++c) out[c] = clip_column(row[c], c, k);
  out_prior[slot] = p;
}

/// Grid (x, batch), any x: for i < min(counts[f], capacity), decodes sorted candidate i of frame
/// f into boxes[f*capacity + i] and flags whether its whole detection row (box, score,
/// landmarks) is finite; ranked[f] (zero on entry) counts the finite rows, as RunStats::ranked.
template <class T>
__global__ void __launch_bounds__(kDecodeThreads)
    decode_kernel(const T* __restrict__ loc, const T* __restrict__ landms, const float4* __restrict__ priors,
                  const std::uint64_t* __restrict__ sorted_keys, const unsigned* __restrict__ counts,
                  RankedLayout layout, DecodeConstants k, float4* __restrict__ boxes,
                  unsigned char* __restrict__ finite, unsigned* __restrict__ ranked) {
  const unsigned frame = blockIdx.y;
  const unsigned m = min(counts[frame], layout.capacity);
  const std::size_t row0 = static_cast<std::size_t>(frame) * layout.rows;
  const std::size_t out0 = static_cast<std::size_t>(frame) * layout.capacity;
  unsigned finite_rows = 0;
  for (unsigned i = blockIdx.x * blockDim.x + threadIdx.x; i < m; i += gridDim.x * blockDim.x) {
    const std::uint64_t key = sorted_keys[row0 + i];
    const std::uint32_t p = key_prior(key, layout.index_bits);
    const float4 prior = priors[p];
    float l[4], box[4], lm[10];
    load_row(loc + (row0 + p) * 4, l);
    decode_box(prior, l, k, box);
    decode_prior_landmarks(landms, priors, row0, p, k, lm);
    bool ok = is_finite(key_score(key, layout.index_bits));
#pragma unroll
    for (int c = 0; c < 4; ++c) ok &= is_finite(box[c]);
#pragma unroll
    for (int c = 0; c < 10; ++c) ok &= is_finite(lm[c]);
    boxes[out0 + i] = make_float4(box[0], box[1], box[2], box[3]);
    finite[out0 + i] = ok ? 1 : 0;
    finite_rows += ok ? 1u : 0u;
  }
  for (int offset = 16; offset > 0; offset >>= 1) finite_rows += __shfl_down_sync(0xFFFFFFFFu, finite_rows, offset);
  if ((threadIdx.x & 31u) == 0 && finite_rows > 0) atomicAdd(ranked + frame, finite_rows);
}

}  // namespace detail
}  // namespace cuda
}  // namespace facepost
