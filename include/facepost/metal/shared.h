// facepost/metal/shared.h - the argument blocks the Metal host code (postprocess.hpp) passes to
// the kernels (kernels.metal) with setBytes. Included by both sides, so it is valid C++ and MSL:
// 32-bit unsigned and float fields only (the same size and layout in both languages).
#pragma once

namespace facepost {
namespace msl {

/// Everything a batch's kernels need besides the buffers; [[buffer(kArgsIndex)]] of every kernel.
struct PipelineArgs {
  unsigned rows;           ///< priors per frame
  unsigned capacity;       ///< ranked candidates per frame: min(top_k, rows), or rows
  unsigned keep_capacity;  ///< detections per frame: min(keep_top_k, capacity), or capacity
  unsigned filter_stride;  ///< candidate key slots per frame (kKeysBuffer)
  unsigned sort_size;      ///< ranked key slots per frame (kRankedBuffer): capacity rounded up to a
                           ///< power of two (>= 2)
  unsigned sort_block;     ///< keys a threadgroup sorts alone: min(sort_size, kSortBlock)
  unsigned index_bits;     ///< low key bits holding the prior index
  float threshold;         ///< keep score > threshold
  float logit_cut;         ///< logits: facepost::logit_prefilter_cut(threshold)
  float legacy_threshold;  ///< SuppressionTest::threshold_legacy
  float continuous_threshold;
  float input_width, input_height;
  float variance_center, variance_size;
  float scale_x, scale_y, pad_x, pad_y;
  unsigned clip;
  float clip_width, clip_height;
};

/// The [[buffer(i)]] index of each resource, the same in every kernel that takes it.
enum BufferIndex : unsigned {
  kArgsBuffer = 0,       ///< PipelineArgs (setBytes)
  kConfBuffer = 1,       ///< [B, rows, 2] T
  kLocBuffer = 2,        ///< [B, rows, 4] T
  kLandmsBuffer = 3,     ///< [B, rows, 10] T
  kPriorsBuffer = 4,     ///< [rows] float4 (cx, cy, w, h)
  kKeysBuffer = 5,       ///< [B, sort_size] ranking keys
  kCountsBuffer = 6,     ///< [4B] atomic_uint: candidates, ranked (finite rows), detections, selected
  kBoxesBuffer = 7,      ///< [B, capacity] float4 ranked boxes
  kFiniteBuffer = 8,     ///< [B, capacity] uchar: the row is finite
  kKeptBoxesBuffer = 9,  ///< [B, keep_capacity] float4
  kKeptAreaBuffer = 10,  ///< [B, keep_capacity] float
  kOutRowsBuffer = 11,   ///< [B, keep_capacity, 15] float detection rows
  kOutPriorBuffer = 12,  ///< [B, keep_capacity] uint prior indices
  kStepBuffer = 13,      ///< SortStep (setBytes); the selection's digit shift in k
  kRankedBuffer = 14,    ///< [B, sort_size] the keys the sort orders (kKeysBuffer itself without top_k)
  kSelectBuffer = 15,    ///< [B, 4] ulong: the selection's prefix, prefix mask, rank left
  kHistogramBuffer = 16, ///< [B, 256] atomic_uint: the selection's digit counts
};

/// Threads of the filter, decode and NMS threadgroups; keys sorted by one threadgroup.
enum KernelShape : unsigned {
  kThreads = 256,
  kSortBlock = 1024,  ///< 8 KiB of threadgroup memory, kSortBlock / 2 threads
  kRadix = 256,       ///< digit values of the top_k selection (8 bits a pass)
  kNmsWords = kThreads / 64,
  /// Threadgroup bytes of the NMS kernel (kernels.metal's NmsShared: two float4 arrays, the masks,
  /// two float arrays, the taken list, the flags, a count; a multiple of 16 as Metal requires).
  kNmsSharedBytes = (2 * 16 * kThreads + 8 * kThreads * kNmsWords + 2 * 4 * kThreads + 2 * kThreads + kThreads + 4 +
                     15) / 16 * 16,
};

/// One compare-exchange step of the bitonic sort across threadgroups.
struct SortStep {
  unsigned k;  ///< size of the bitonic sequences being merged
  unsigned j;  ///< distance of the compared keys
};

}  // namespace msl
}  // namespace facepost
