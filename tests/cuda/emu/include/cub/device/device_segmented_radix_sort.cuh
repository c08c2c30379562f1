// Emulated cub/device/device_segmented_radix_sort.cuh (tests/cuda/emu): SortKeys on a
// DoubleBuffer as a host operation on the stream, with CUB's semantics:
//  - segment i is [begin[i], end[i]) (offsets read from device memory when the operation runs,
//    so they may come from an earlier kernel on the stream); an empty segment (end <= begin) is
//    skipped; items outside every segment are left as they are;
//  - only key bits [begin_bit, end_bit) are compared; the sort is stable and ascending;
//  - like a radix sort with kPassBits-bit digits, it ping-pongs between the buffers: after an
//    odd number of passes the result is in the alternate buffer and d_keys.selector is flipped
//    (the caller must use Current()); the other buffer's segments are overwritten with poison
//    (CUB uses it as scratch);
//  - a null d_temp_storage only reports the temporary storage size; a smaller storage than
//    reported, or storage that is not device memory, fails with cudaErrorInvalidValue.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "cub/util_type.cuh"
#include "facepost_emu/runtime.hpp"

namespace cub {

struct DeviceSegmentedRadixSort {
  static constexpr int kPassBits = 6;

  static std::size_t temp_bytes(int num_segments) { return 256 + 16 * static_cast<std::size_t>(num_segments); }

  template <class KeyT, class BeginOffsetIteratorT, class EndOffsetIteratorT>
  static cudaError_t SortKeys(void* d_temp_storage, std::size_t& temp_storage_bytes, DoubleBuffer<KeyT>& d_keys,
                              int num_items, int num_segments, BeginOffsetIteratorT d_begin_offsets,
                              EndOffsetIteratorT d_end_offsets, int begin_bit = 0,
                              int end_bit = static_cast<int>(sizeof(KeyT) * 8), cudaStream_t stream = nullptr) {
    if (num_items < 0 || num_segments < 0 || begin_bit < 0 || end_bit > int(sizeof(KeyT) * 8) || begin_bit > end_bit)
      return facepost_emu::fail(cudaErrorInvalidValue);
    if (d_temp_storage == nullptr) {
      temp_storage_bytes = temp_bytes(num_segments);
      return cudaSuccess;
    }
    if (temp_storage_bytes < temp_bytes(num_segments) ||
        !facepost_emu::device_accessible(d_temp_storage, temp_bytes(num_segments)))
      return facepost_emu::fail(cudaErrorInvalidValue);
    if (num_items == 0 || num_segments == 0) return cudaSuccess;
    if (!facepost_emu::device_accessible(d_keys.Current(), sizeof(KeyT) * std::size_t(num_items)) ||
        !facepost_emu::device_accessible(d_keys.Alternate(), sizeof(KeyT) * std::size_t(num_items)))
      return facepost_emu::fail(cudaErrorInvalidValue);
    const int passes = (end_bit - begin_bit + kPassBits - 1) / kPassBits;
    KeyT* in = d_keys.Current();
    KeyT* scratch = d_keys.Alternate();
    KeyT* out = passes % 2 == 1 ? scratch : in;
    KeyT* other = out == in ? scratch : in;
    if (out != in) d_keys.selector ^= 1;
    facepost_emu::enqueue(stream, [=] {
      const KeyT mask = end_bit - begin_bit >= int(sizeof(KeyT) * 8)
                            ? ~KeyT(0)
                            : static_cast<KeyT>(((KeyT(1) << (end_bit - begin_bit)) - 1) << begin_bit);
      std::vector<KeyT> seg;
      for (int s = 0; s < num_segments; ++s) {
        const auto b = d_begin_offsets[s], e = d_end_offsets[s];
        if (!(e > b)) continue;
        if (b < 0 || e > num_items) facepost_emu::fatal("SortKeys: segment outside the key range");
        seg.assign(in + b, in + e);
        std::stable_sort(seg.begin(), seg.end(), [mask](KeyT x, KeyT y) { return (x & mask) < (y & mask); });
        std::memset(other + b, facepost_emu::kPoison, sizeof(KeyT) * std::size_t(e - b));
        std::copy(seg.begin(), seg.end(), out + b);
      }
    });
    return cudaSuccess;
  }
};

}  // namespace cub
