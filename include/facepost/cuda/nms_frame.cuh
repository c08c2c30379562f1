// facepost/cuda/nms_frame.cuh - exact greedy NMS of a single frame spread over the whole GPU
// (nms.cuh runs one thread block per frame: right for batches, but one frame with thousands of
// candidates would then run on one SM, its latency growing with the candidate count).
//
// The ranked candidates are taken in windows of W (<= kFrameWindowMax, a multiple of 64); per
// window, three kernels on the stream:
//   1. window_cross_kernel (W/256 blocks): each candidate against every box kept in earlier
//      windows (what removes most candidates); out of play: suppressed, non-finite, past the end;
//   2. window_mask_kernel (128 blocks over the upper triangle's 64x64 tiles): torchvision's bitmask within the
//      window, bit j of row i set iff candidate i would suppress candidate j > i, rows of
//      candidates still in play only;
//   3. window_resolve_kernel (one warp): the greedy walk over the window in candidate order,
//      visiting only candidates still in play (each kept one ORs its mask row into the "gone"
//      words, one 64-bit word per lane), stopping at keep_top_k; then the kept boxes join the
//      kept list and their detection rows are written.
// The decisions are those of the O(n^2) reference: candidate j is kept iff no kept i < j
// suppresses it - step 1 tests the kept i of earlier windows, steps 2-3 those of its own window.
// The work that grows with the candidate count (steps 1 and 2) runs on every SM; the serial part
// (step 3) costs one coalesced row load per kept box, not per candidate. Windows after the last
// candidate, or after keep_top_k boxes, exit at once (the host does not know the count).
// Memory: W*W/8 bytes of masks (2 MiB at W = 4096) and W/8 bytes of flags.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

#include "facepost/cuda/arithmetic.cuh"
#include "facepost/cuda/decode.cuh"
#include "facepost/cuda/nms_chunk.cuh"
#include "facepost/cuda/nms_kept.cuh"
#include "facepost/params.hpp"

namespace facepost {
namespace cuda {
namespace detail {

constexpr unsigned kFrameWindowMax = 4096;  ///< candidates per window
constexpr unsigned kCrossThreads = 256;
constexpr unsigned kMaskThreads = 64;       ///< one mask word (64 columns) per row of a tile
constexpr unsigned kMaskBlocks = 128;       ///< each takes tiles in turn (2,080 at most)
constexpr unsigned kResolveThreads = 32;    ///< one warp: lane v holds gone words v and v + 32
constexpr unsigned kResolveWordsPerLane = kFrameWindowMax / 64 / kResolveThreads;

/// One window of the single-frame NMS: candidates [start, start + n) of the frame's ranking.
struct FrameWindow {
  unsigned start;   ///< first candidate
  unsigned n;       ///< candidates in the window (0: nothing left to do)
  unsigned words;   ///< 64-bit mask words per row: ceil(n / 64)
  unsigned kept;    ///< boxes kept before this window
};

/// The window `index` of width `width`, from the device-side counts (m = min(count, capacity)
/// candidates, `kept` boxes so far); n = 0 when the candidates or keep_top_k are exhausted.
FACEPOST_CUDA_HD FrameWindow frame_window(unsigned index, unsigned width, unsigned candidates, unsigned kept,
                                          const RankedLayout& layout) {
  const unsigned m = candidates < layout.capacity ? candidates : layout.capacity;
  const unsigned start = index * width;
  FrameWindow w{start, 0u, 0u, kept};
  if (start < m && kept < layout.keep_capacity) {
    w.n = m - start < width ? m - start : width;
    w.words = (w.n + 63u) / 64u;
  }
  return w;
}

/// Grid (ceil(width / 256)), block 256. gone[local / 32] bit local % 32 is set for every
/// candidate of the window out of play before the window's own decisions: past the end,
/// non-finite, or suppressed by a box kept in an earlier window.
template <IouConvention C>
__global__ void __launch_bounds__(kCrossThreads)
    window_cross_kernel(const float4* __restrict__ boxes, const unsigned char* __restrict__ finite,
                        const unsigned* __restrict__ counts, RankedLayout layout, unsigned index, unsigned width,
                        Suppression test, const float4* __restrict__ kept_boxes, const float* __restrict__ kept_area,
                        const unsigned* __restrict__ kept_count, unsigned* __restrict__ gone) {
  __shared__ float4 tile_box[kCrossThreads];
  __shared__ float tile_area[kCrossThreads];
  const FrameWindow win = frame_window(index, width, counts[0], *kept_count, layout);
  if (win.n == 0) return;  // the same in every thread of the grid
  const unsigned t = threadIdx.x;
  const unsigned local = blockIdx.x * kCrossThreads + t;
  bool removed = local >= win.n || finite[win.start + local] == 0;
  float4 box = make_float4(0.f, 0.f, 0.f, 0.f);
  float area = 0.f;
  if (!removed) {
    box = boxes[win.start + local];
    area = box_area<C>(box);
  }
  removed = suppressed_by_kept<C, kCrossThreads>(box, area, removed, kept_boxes, kept_area, win.kept, tile_box,
                                                 tile_area, test);
  const unsigned ballot = __ballot_sync(0xFFFFFFFFu, removed);
  if ((t & 31u) == 0 && local < width) gone[local / 32u] = ballot;
}

/// Grid kMaskBlocks, block 64. The window's upper-triangle tiles (row word y, column word x >=
/// y) are shared out over the blocks; tile (y, x) writes mask[i * words + x] for the 64 rows i of
/// row word y still in play. A fixed grid: the host does not know the window's size.
template <IouConvention C>
__global__ void __launch_bounds__(kMaskThreads)
    window_mask_kernel(const float4* __restrict__ boxes, const unsigned* __restrict__ counts, RankedLayout layout,
                       unsigned index, unsigned width, Suppression test, const unsigned* __restrict__ kept_count,
                       const unsigned* __restrict__ gone, unsigned long long* __restrict__ mask) {
  __shared__ float4 col_box[kMaskThreads];
  __shared__ float col_area[kMaskThreads];
  const FrameWindow win = frame_window(index, width, counts[0], *kept_count, layout);
  const unsigned t = threadIdx.x;
  for (unsigned tile = blockIdx.x; tile < win.words * win.words; tile += gridDim.x) {
    const unsigned y = tile / win.words, x = tile % win.words;
    if (x < y) continue;  // the same in every thread of the block
    const unsigned col0 = 64u * x, row = 64u * y + t;
    __syncthreads();  // the previous tile's columns have been read
    if (col0 + t < win.n) {
      col_box[t] = boxes[win.start + col0 + t];
      col_area[t] = box_area<C>(col_box[t]);
    }
    __syncthreads();
    if (row >= win.n || ((gone[row / 32u] >> (row % 32u)) & 1u)) continue;
    const float4 box = boxes[win.start + row];
    const float area = box_area<C>(box);
    unsigned long long word = 0;
    const unsigned first = row + 1 > col0 ? row + 1 - col0 : 0u, last = min(64u, win.n - col0);
    for (unsigned j = first; j < last; ++j)
      if (suppresses<C>(box_iou<C>(box, area, col_box[j], col_area[j]), test)) word |= 1ull << j;
    mask[static_cast<std::size_t>(row) * win.words + x] = word;
  }
}

/// Grid 1, block 32 (one warp). The greedy walk over the window, then the kept boxes' list
/// entries and detection rows; *kept_count grows by the boxes kept.
template <class T, IouConvention C>
__global__ void __launch_bounds__(kResolveThreads)
    window_resolve_kernel(const float4* __restrict__ boxes, const std::uint64_t* __restrict__ sorted_keys,
                          const unsigned* __restrict__ counts, const T* __restrict__ landms,
                          const float4* __restrict__ priors, RankedLayout layout, DecodeConstants k, unsigned index,
                          unsigned width, const unsigned* __restrict__ gone,
                          const unsigned long long* __restrict__ mask, float4* __restrict__ kept_boxes,
                          float* __restrict__ kept_area, float* __restrict__ out_rows,
                          std::uint32_t* __restrict__ out_prior, unsigned* __restrict__ kept_count) {
  __shared__ unsigned short taken_list[kFrameWindowMax];
  const FrameWindow win = frame_window(index, width, counts[0], *kept_count, layout);
  if (win.n == 0) return;
  const unsigned lane = threadIdx.x;
  const unsigned room = layout.keep_capacity - win.kept;

  // Lane v holds gone words v and v + 32 (words past the window: everything gone).
  unsigned long long g[kResolveWordsPerLane];
#pragma unroll
  for (unsigned s = 0; s < kResolveWordsPerLane; ++s) {
    const unsigned v = lane + kResolveThreads * s;
    g[s] = v < win.words ? static_cast<unsigned long long>(gone[2 * v]) |
                               (static_cast<unsigned long long>(gone[2 * v + 1]) << 32)
                         : ~0ull;
  }
  unsigned taken = 0;  // the same in every lane
  for (unsigned w = 0; w < win.words && taken < room; ++w) {
    const unsigned owner = w % kResolveThreads, slot = w / kResolveThreads;
    unsigned long long open = ~__shfl_sync(0xFFFFFFFFu, g[slot], static_cast<int>(owner));
    while (open != 0 && taken < room) {
      const int b = lowest_set_bit(open);
      const unsigned i = 64u * w + static_cast<unsigned>(b);
      if (lane == 0) taken_list[taken] = static_cast<unsigned short>(i);
      ++taken;
      const unsigned long long* row = mask + static_cast<std::size_t>(i) * win.words;
#pragma unroll
      for (unsigned s = 0; s < kResolveWordsPerLane; ++s) {
        const unsigned v = lane + kResolveThreads * s;
        if (v >= w && v < win.words) g[s] |= row[v];
      }
      open = ~__shfl_sync(0xFFFFFFFFu, g[slot], static_cast<int>(owner)) & ~((2ull << b) - 1ull);
    }
  }
  __syncwarp();  // taken_list complete
  for (unsigned u = lane; u < taken; u += kResolveThreads) {
    const unsigned c = win.start + taken_list[u];
    const std::size_t slot = win.kept + u;
    const float4 box = boxes[c];
    kept_boxes[slot] = box;
    kept_area[slot] = box_area<C>(box);
    write_detection(landms, priors, 0, sorted_keys[c], box, layout.index_bits, k, out_rows, out_prior, slot);
  }
  if (lane == 0) *kept_count = win.kept + taken;
}

}  // namespace detail
}  // namespace cuda
}  // namespace facepost
