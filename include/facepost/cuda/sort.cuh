// facepost/cuda/sort.cuh - per-frame sort of the candidates' ranking keys (CUB segmented radix
// sort; segment ends come from the device-side counts, so the host never waits for them).
#pragma once

#include <cuda_runtime.h>

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

}  // namespace detail
}  // namespace cuda
}  // namespace facepost
