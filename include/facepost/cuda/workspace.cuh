// facepost/cuda/workspace.cuh - the device memory of the CUDA pipeline, reused across batches.
#pragma once

#include <cuda_runtime.h>

#include <cub/util_type.cuh>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "facepost/anchors.hpp"
#include "facepost/cuda/buffer.cuh"
#include "facepost/cuda/error.cuh"
#include "facepost/cuda/sort.cuh"
#include "facepost/detections.hpp"
#include "facepost/priors.hpp"

namespace facepost {
namespace cuda {

/// Sizes of one batch, as the buffers see them.
struct BatchShape {
  std::size_t batch = 0;          ///< frames
  std::size_t rows = 0;           ///< priors per frame
  std::size_t capacity = 0;       ///< ranked candidates per frame: min(top_k, rows), or rows
  std::size_t keep_capacity = 0;  ///< detections per frame: min(keep_top_k, capacity), or capacity
  int index_bits = 1;             ///< key bits of a prior index
  std::size_t window = 0;         ///< single frame: NMS window (nms_frame.cuh); 0 for batches
};

/// Every device buffer of the pipeline, plus the priors of the last input size. Buffers grow to
/// the largest batch seen and are never freed or reallocated for a batch that fits, so a stream of
/// batches allocates on the first one only; CUB's temporary storage is sized once per shape.
/// Memory for B frames of N priors, ranked capacity K and keep capacity D: 16*B*N (sort keys)
/// + 17*B*K (ranked boxes, finite flags) + 84*B*D (kept boxes, detection rows) + 16*N (priors)
/// bytes, plus CUB's temporary storage, plus for a single frame the NMS window's W*W/8 + W/8
/// bytes (2 MiB for W = 4096).
///
/// Owned by a CudaPostprocessor; one workspace serves one batch at a time.
class Workspace {
 public:
  Workspace() = default;
  Workspace(const Workspace&) = delete;
  Workspace& operator=(const Workspace&) = delete;
  Workspace(Workspace&&) = default;
  Workspace& operator=(Workspace&&) = default;

  /// Grows the buffers for `s`. `in_flight` is the last batch that may still use them: it is
  /// waited for before anything is freed (growth only).
  void reserve(const BatchShape& s, const Event& in_flight) {
    const bool grow = !fits(s);
    const bool new_sort_shape = !(sort_batch_ == s.batch && sort_rows_ == s.rows && sort_index_bits_ == s.index_bits);
    std::size_t temp = sort_temp_bytes_;
    if (new_sort_shape)
      temp = s.batch == 1 ? detail::frame_sort_temp_bytes(s.rows, s.index_bits)
                          : detail::sort_temp_bytes(s.batch, s.rows, s.index_bits);
    if (!grow && temp <= sort_temp_.capacity()) {
      record_sort_shape(s, temp);
      return;
    }
    in_flight.synchronize();
    counts_.reserve(3 * s.batch, "per-frame counts");
    segments_.reserve(2 * s.batch, "sort segment offsets");
    keys_[0].reserve(s.batch * s.rows, "ranking keys");
    keys_[1].reserve(s.batch * s.rows, "ranking keys (sort buffer)");
    boxes_.reserve(s.batch * s.capacity, "ranked boxes");
    finite_.reserve(s.batch * s.capacity, "finite-row flags");
    kept_boxes_.reserve(s.batch * s.keep_capacity, "kept boxes");
    kept_area_.reserve(s.batch * s.keep_capacity, "kept box areas");
    out_rows_.reserve(s.batch * s.keep_capacity * kDetectionCols, "detection rows");
    out_prior_.reserve(s.batch * s.keep_capacity, "detection prior indices");
    window_mask_.reserve(s.window * s.window / 64, "single-frame NMS masks");
    window_gone_.reserve(s.window / 32, "single-frame NMS flags");
    sort_temp_.reserve(std::max<std::size_t>(temp, 1), "CUB sort temporary storage");
    host_counts_.reserve(3 * s.batch, "per-frame counts (host)");
    record_sort_shape(s, temp);
  }

  /// Makes the device priors those of `grid` (built for its current input size). Uploads only
  /// when the size changed, through pinned memory, so the copy is asynchronous on `stream`.
  template <class Spec>
  void upload_priors(const PriorGrid<Spec>& grid, cudaStream_t stream, const Event& in_flight) {
    if (priors_valid_ && priors_size_ == grid.input_size() && priors_count_ == grid.size()) return;
    priors_valid_ = false;
    priors_copied_.synchronize();  // the staging buffer is free again
    if (priors_.capacity() < grid.size()) in_flight.synchronize();
    priors_.reserve(grid.size(), "priors");
    priors_staging_.reserve(4 * grid.size(), "priors (pinned staging)");
    std::memcpy(priors_staging_.data(), grid.data(), grid.size() * 4 * sizeof(float));
    FACEPOST_CUDA_CHECK(cudaMemcpyAsync(priors_.data(), priors_staging_.data(), grid.size() * sizeof(float4),
                                        cudaMemcpyHostToDevice, stream));
    priors_copied_.record(stream);
    priors_size_ = grid.input_size();
    priors_count_ = grid.size();
    priors_valid_ = true;
  }

  /// The device this workspace's memory lives on (-1 before the first batch).
  int device() const noexcept { return device_; }
  void set_device(int d) noexcept { device_ = d; }

  /// Device bytes currently held.
  std::size_t device_bytes() const noexcept {
    return priors_.capacity() * sizeof(float4) + counts_.capacity() * sizeof(unsigned) +
           segments_.capacity() * sizeof(int) + (keys_[0].capacity() + keys_[1].capacity()) * sizeof(std::uint64_t) +
           sort_temp_.capacity() + boxes_.capacity() * sizeof(float4) + finite_.capacity() +
           kept_boxes_.capacity() * sizeof(float4) + kept_area_.capacity() * sizeof(float) +
           out_rows_.capacity() * sizeof(float) + out_prior_.capacity() * sizeof(std::uint32_t) +
           window_mask_.capacity() * sizeof(unsigned long long) + window_gone_.capacity() * sizeof(unsigned);
  }

  const float4* priors() const noexcept { return priors_.data(); }
  unsigned* counts() const noexcept { return counts_.data(); }  ///< [3B]: candidates, ranked, detections
  int* segments() const noexcept { return segments_.data(); }   ///< [2B]: begin, end
  std::uint64_t* keys(int i) const noexcept { return keys_[i].data(); }
  void* sort_temp() const noexcept { return sort_temp_.data(); }
  std::size_t sort_temp_bytes() const noexcept { return sort_temp_bytes_; }
  float4* boxes() const noexcept { return boxes_.data(); }
  unsigned char* finite() const noexcept { return finite_.data(); }
  float4* kept_boxes() const noexcept { return kept_boxes_.data(); }
  float* kept_area() const noexcept { return kept_area_.data(); }
  float* out_rows() const noexcept { return out_rows_.data(); }
  std::uint32_t* out_prior() const noexcept { return out_prior_.data(); }
  unsigned* host_counts() const noexcept { return host_counts_.data(); }
  unsigned long long* window_mask() const noexcept { return window_mask_.data(); }
  unsigned* window_gone() const noexcept { return window_gone_.data(); }

 private:
  /// Every buffer holds `s` (after a failed growth, any of them may have been freed).
  bool fits(const BatchShape& s) const noexcept {
    const std::size_t fr = s.batch * s.rows, fc = s.batch * s.capacity, fk = s.batch * s.keep_capacity;
    return counts_.capacity() >= 3 * s.batch && segments_.capacity() >= 2 * s.batch && keys_[0].capacity() >= fr &&
           keys_[1].capacity() >= fr && boxes_.capacity() >= fc && finite_.capacity() >= fc &&
           kept_boxes_.capacity() >= fk && kept_area_.capacity() >= fk && out_rows_.capacity() >= fk * kDetectionCols &&
           out_prior_.capacity() >= fk && host_counts_.capacity() >= 3 * s.batch &&
           window_mask_.capacity() >= s.window * s.window / 64 && window_gone_.capacity() >= s.window / 32;
  }

  void record_sort_shape(const BatchShape& s, std::size_t temp) noexcept {
    sort_batch_ = s.batch;
    sort_rows_ = s.rows;
    sort_index_bits_ = s.index_bits;
    sort_temp_bytes_ = temp;
  }

  int device_ = -1;
  DeviceBuffer<float4> priors_;
  PinnedBuffer<float> priors_staging_;
  Event priors_copied_;
  InputSize priors_size_{};
  std::size_t priors_count_ = 0;
  bool priors_valid_ = false;

  DeviceBuffer<unsigned> counts_;
  DeviceBuffer<int> segments_;
  DeviceBuffer<std::uint64_t> keys_[2];
  DeviceBuffer<unsigned char> sort_temp_;
  std::size_t sort_temp_bytes_ = 0, sort_batch_ = 0, sort_rows_ = 0;
  int sort_index_bits_ = 0;
  DeviceBuffer<float4> boxes_;
  DeviceBuffer<unsigned char> finite_;
  DeviceBuffer<float4> kept_boxes_;
  DeviceBuffer<float> kept_area_;
  DeviceBuffer<float> out_rows_;
  DeviceBuffer<std::uint32_t> out_prior_;
  PinnedBuffer<unsigned> host_counts_;
  DeviceBuffer<unsigned long long> window_mask_;
  DeviceBuffer<unsigned> window_gone_;
};

}  // namespace cuda
}  // namespace facepost
