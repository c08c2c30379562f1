// facepost/cuda/sort.cuh - sort of the candidates' ranking keys, without the host ever waiting
// for the candidate counts:
//  - batches: CUB's segmented radix sort, one segment per frame, segment ends from the
//    device-side counts (CUB sorts a segment within one thread block, so the frames of a batch
//    spread over the GPU);
//  - one frame: CUB's device-wide radix sort (all blocks on one frame) of all `rows` keys, the
//    slots past the frame's count holding kPaddingKey, which sorts after every candidate.
#pragma once

#include <cuda_runtime.h>

#include <cub/device/device_radix_sort.cuh>
#include <cub/device/device_segmented_radix_sort.cuh>
#include <cub/util_type.cuh>

#include <cstddef>
#include <cstdint>

#include "facepost/cuda/arithmetic.cuh"
#include "facepost/cuda/error.cuh"

namespace facepost {
namespace cuda {
namespace detail {

/// Frame f's keys live in [f*rows, f*rows + counts[f]). (A template only so that the header can
/// be included by several translation units.)
template <class Unused = void>
__global__ void segment_bounds_kernel(const unsigned* __restrict__ counts, unsigned batch, unsigned rows,
                                      int* __restrict__ begin, int* __restrict__ end) {
  const unsigned f = blockIdx.x * blockDim.x + threadIdx.x;
  if (f >= batch) return;
  begin[f] = static_cast<int>(f * rows);
  end[f] = static_cast<int>(f * rows + counts[f]);
}

/// Only the low kScoreKeyBits + index_bits bits of a key differ between candidates.
inline int key_end_bit(int index_bits) noexcept { return kScoreKeyBits + index_bits; }

/// CUB temporary storage needed to sort `batch` segments within batch*rows keys.
inline std::size_t sort_temp_bytes(std::size_t batch, std::size_t rows, int index_bits) {
  cub::DoubleBuffer<std::uint64_t> keys(nullptr, nullptr);
  std::size_t bytes = 0;
  FACEPOST_CUDA_CHECK(cub::DeviceSegmentedRadixSort::SortKeys(
      nullptr, bytes, keys, static_cast<int>(batch * rows), static_cast<int>(batch), static_cast<const int*>(nullptr),
      static_cast<const int*>(nullptr), 0, key_end_bit(index_bits)));
  return bytes;
}

/// Sorts each frame's keys ascending; `keys.Current()` names the sorted buffer afterwards.
inline void sort_keys(void* temp, std::size_t temp_bytes, cub::DoubleBuffer<std::uint64_t>& keys, std::size_t batch,
                      std::size_t rows, const int* begin, const int* end, int index_bits, cudaStream_t stream) {
  FACEPOST_CUDA_CHECK(cub::DeviceSegmentedRadixSort::SortKeys(temp, temp_bytes, keys, static_cast<int>(batch * rows),
                                                              static_cast<int>(batch), begin, end, 0,
                                                              key_end_bit(index_bits), stream));
}

/// Fills the key slots no candidate was written to (memset byte): every key bit set, above any
/// candidate's key in the sorted bits (a candidate's score part is at most kMaxFiniteBits - 1 <
/// 2^31 - 1).
constexpr int kPaddingKeyByte = 0xFF;

/// CUB temporary storage needed to sort the `rows` keys of one frame device-wide.
inline std::size_t frame_sort_temp_bytes(std::size_t rows, int index_bits) {
  cub::DoubleBuffer<std::uint64_t> keys(nullptr, nullptr);
  std::size_t bytes = 0;
  FACEPOST_CUDA_CHECK(
      cub::DeviceRadixSort::SortKeys(nullptr, bytes, keys, static_cast<int>(rows), 0, key_end_bit(index_bits)));
  return bytes;
}

/// Sorts the `rows` keys of one frame (candidates, then padding) ascending, device-wide.
inline void sort_frame_keys(void* temp, std::size_t temp_bytes, cub::DoubleBuffer<std::uint64_t>& keys,
                            std::size_t rows, int index_bits, cudaStream_t stream) {
  FACEPOST_CUDA_CHECK(cub::DeviceRadixSort::SortKeys(temp, temp_bytes, keys, static_cast<int>(rows), 0,
                                                     key_end_bit(index_bits), stream));
}

}  // namespace detail
}  // namespace cuda
}  // namespace facepost
