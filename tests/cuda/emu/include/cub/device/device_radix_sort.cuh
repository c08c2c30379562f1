// Emulated cub/device/device_radix_sort.cuh (tests/cuda/emu): the device-wide SortKeys, as the
// emulated segmented sort with one segment [0, num_items) (same key-bit, stability, ping-pong,
// poison and temporary-storage semantics; see device_segmented_radix_sort.cuh).
#pragma once

#include <cstddef>

#include "cub/device/device_segmented_radix_sort.cuh"

namespace cub {

struct DeviceRadixSort {
  template <class KeyT>
  static cudaError_t SortKeys(void* d_temp_storage, std::size_t& temp_storage_bytes, DoubleBuffer<KeyT>& d_keys,
                              int num_items, int begin_bit = 0, int end_bit = static_cast<int>(sizeof(KeyT) * 8),
                              cudaStream_t stream = nullptr) {
    struct Offset {  // a host value standing in for a device offset array of one segment
      int value;
      int operator[](int) const { return value; }
    };
    return DeviceSegmentedRadixSort::SortKeys(d_temp_storage, temp_storage_bytes, d_keys, num_items, 1, Offset{0},
                                              Offset{num_items}, begin_bit, end_bit, stream);
  }
};

}  // namespace cub
