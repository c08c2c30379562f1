// facepost/cuda/nms.cuh - exact greedy NMS on the device, one thread block per frame, writing
// the detection rows (with keep_top_k and clipping).
//
// Greedy NMS keeps candidate j iff no kept candidate i < j has IoU(i, j) > t. The block walks the
// ranked candidates in chunks of 256 (four 64-box column blocks):
//   1. each thread takes one candidate of the chunk and tests it against every box kept so far
//      (staged through shared memory 256 at a time), stopping at the first that suppresses it;
//   2. each surviving candidate i computes its 64-bit suppression masks over the later
//      candidates of the chunk (torchvision's bitmask, restricted to the diagonal blocks);
//   3. one thread resolves the chunk serially over the masks, visiting only candidates that are
//      still unsuppressed (__ffsll), and stops at keep_top_k;
//   4. the newly kept boxes are appended to the frame's kept list and their rows written.
// This takes exactly the decisions of the O(n^2) reference (the full mask's off-diagonal rows
// are needed only for kept boxes, and step 1 evaluates exactly those), in O(n) memory instead of
// torchvision's n^2/64 words - which for an unlimited top_k at 1080p (85k priors) would be 0.9 GB
// per frame - and O(n * kept) work instead of O(n^2). IoU and the threshold test are those of
// iou.hpp (arithmetic.cuh), so a decision at the threshold is taken on the same float32 value.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

#include "facepost/cuda/arithmetic.cuh"
#include "facepost/cuda/decode.cuh"
#include "facepost/cuda/nms_chunk.cuh"
#include "facepost/cuda/nms_kept.cuh"
#include "facepost/detections.hpp"
#include "facepost/params.hpp"

namespace facepost {
namespace cuda {
namespace detail {

constexpr int kNmsWarps = kNmsThreads / 32;

/// Grid (batch), block kNmsThreads. For frame f: NMS over the first m = min(counts[f], capacity)
/// ranked candidates (boxes/finite from decode_kernel, keys sorted); writes out_count[f] rows of
/// 15 floats to out_rows[f*keep_capacity ...] and their prior indices to out_prior. kept_boxes /
/// kept_area are scratch of keep_capacity entries per frame.
template <class T, IouConvention C>
__global__ void __launch_bounds__(kNmsThreads)
    nms_kernel(const float4* __restrict__ boxes, const unsigned char* __restrict__ finite,
               const std::uint64_t* __restrict__ sorted_keys, const unsigned* __restrict__ counts,
               const T* __restrict__ landms, const float4* __restrict__ priors, RankedLayout layout,
               DecodeConstants k, Suppression test, float4* __restrict__ kept_boxes, float* __restrict__ kept_area,
               float* __restrict__ out_rows, std::uint32_t* __restrict__ out_prior, unsigned* __restrict__ out_count) {
  __shared__ float4 chunk_box[kNmsThreads];
  __shared__ float chunk_area[kNmsThreads];
  __shared__ float4 tile_box[kNmsThreads];
  __shared__ float tile_area[kNmsThreads];
  __shared__ unsigned long long mask[kNmsThreads][kNmsWords];
  __shared__ unsigned removed_bits[kNmsWarps];
  __shared__ unsigned short taken_list[kNmsThreads];
  __shared__ unsigned taken_count;

  const unsigned frame = blockIdx.x;
  const unsigned t = threadIdx.x;
  const unsigned m = min(counts[frame], layout.capacity);
  const unsigned limit = layout.keep_capacity;
  const std::size_t in0 = static_cast<std::size_t>(frame) * layout.capacity;
  const std::size_t keep0 = static_cast<std::size_t>(frame) * layout.keep_capacity;
  const std::size_t row0 = static_cast<std::size_t>(frame) * layout.rows;

  unsigned kept = 0;  // same value in every thread
  for (unsigned start = 0; start < m && kept < limit; start += kNmsThreads) {
    const unsigned n = min(static_cast<unsigned>(kNmsThreads), m - start);
    bool removed = true;  // rows past the end and non-finite rows never take part
    float4 box = make_float4(0.f, 0.f, 0.f, 0.f);
    float area = 0.f;
    if (t < n) {
      box = boxes[in0 + start + t];
      area = box_area<C>(box);
      removed = finite[in0 + start + t] == 0;
      chunk_box[t] = box;
      chunk_area[t] = area;
    }

    // 1. Against the boxes kept in earlier chunks.
    removed = suppressed_by_kept<C, kNmsThreads>(box, area, removed, kept_boxes + keep0, kept_area + keep0, kept,
                                                 tile_box, tile_area, test);
    const unsigned ballot = __ballot_sync(0xFFFFFFFFu, removed);
    if ((t & 31u) == 0) removed_bits[t >> 5] = ballot;
    __syncthreads();  // chunk_box, chunk_area and removed_bits complete

    // 2. Masks over the later candidates of the chunk that are still in play.
    if (!removed) {
#pragma unroll
      for (int w = 0; w < kNmsWords; ++w) {
        unsigned long long word = 0;
        const unsigned first = 64u * w, lo = max(t + 1, first), hi = min(n, first + 64u);
        for (unsigned j = lo; j < hi; ++j) {
          if ((removed_bits[j >> 5] >> (j & 31u)) & 1u) continue;
          if (suppresses<C>(box_iou<C>(box, area, chunk_box[j], chunk_area[j]), test)) word |= 1ull << (j - first);
        }
        mask[t][w] = word;
      }
    }
    __syncthreads();

    // 3. Serial resolve, in candidate order, only over unsuppressed candidates.
    if (t == 0) {
      unsigned long long gone[kNmsWords];
#pragma unroll
      for (int w = 0; w < kNmsWords; ++w)
        gone[w] = static_cast<unsigned long long>(removed_bits[2 * w]) |
                  (static_cast<unsigned long long>(removed_bits[2 * w + 1]) << 32);
      taken_count = resolve_chunk(gone, mask, limit - kept, taken_list);
    }
    __syncthreads();

    // 4. Append the kept boxes and write their detection rows.
    const unsigned taken = taken_count;
    if (t < taken) {
      const unsigned i = taken_list[t];
      const std::size_t slot = keep0 + kept + t;
      kept_boxes[slot] = chunk_box[i];
      kept_area[slot] = chunk_area[i];
      write_detection(landms, priors, row0, sorted_keys[row0 + start + i], chunk_box[i], layout.index_bits, k, out_rows,
                      out_prior, slot);
    }
    kept += taken;
    __syncthreads();  // kept boxes visible to the whole block; shared arrays free for reuse
  }
  if (t == 0) out_count[frame] = kept;
}

}  // namespace detail
}  // namespace cuda
}  // namespace facepost
