// facepost/cuda/nms_kept.cuh - the step both device NMS kernels share (nms.cuh, nms_frame.cuh):
// each thread's candidate against the boxes kept so far, staged through shared memory.
#pragma once

#include <cuda_runtime.h>

#include "facepost/cuda/arithmetic.cuh"
#include "facepost/params.hpp"

namespace facepost {
namespace cuda {
namespace detail {

/// Whether a box kept earlier suppresses this thread's candidate (`removed`: already out of play;
/// returned unchanged then). The block stages kept_boxes / kept_area [0, kept) through tile_box /
/// tile_area, Tile entries at a time; every thread of the block must call it (it has barriers).
template <IouConvention C, unsigned Tile>
__device__ __forceinline__ bool suppressed_by_kept(float4 box, float area, bool removed,
                                                   const float4* __restrict__ kept_boxes,
                                                   const float* __restrict__ kept_area, unsigned kept,
                                                   float4* tile_box, float* tile_area, const Suppression& test) {
  const unsigned t = threadIdx.x;
  for (unsigned k0 = 0; k0 < kept; k0 += Tile) {
    const unsigned kn = min(Tile, kept - k0);
    __syncthreads();  // the previous tile has been read
    if (t < kn) {
      tile_box[t] = kept_boxes[k0 + t];
      tile_area[t] = kept_area[k0 + t];
    }
    __syncthreads();
    if (!removed)
      for (unsigned j = 0; j < kn; ++j)
        if (suppresses<C>(box_iou<C>(tile_box[j], tile_area[j], box, area), test)) {
          removed = true;
          break;
        }
  }
  return removed;
}

}  // namespace detail
}  // namespace cuda
}  // namespace facepost
