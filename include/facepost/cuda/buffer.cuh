// facepost/cuda/buffer.cuh - owning device / pinned-host buffers that only ever grow, and events.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <limits>
#include <string>
#include <utility>

#include "facepost/cuda/error.cuh"

namespace facepost {
namespace cuda {

namespace detail {

inline std::size_t checked_bytes(std::size_t count, std::size_t elem, const char* what) {
  if (count > std::numeric_limits<std::size_t>::max() / elem)
    throw Error(Errc::size_overflow, std::string(what) + ": buffer size overflows");
  return count * elem;
}

}  // namespace detail

/// Device memory for `capacity()` elements of T. reserve() reallocates only to grow, so a
/// workspace that has seen its largest batch never allocates again. Not copyable.
template <class T>
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  DeviceBuffer(DeviceBuffer&& o) noexcept : ptr_(std::exchange(o.ptr_, nullptr)), cap_(std::exchange(o.cap_, 0)) {}
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
    if (this != &o) {
      release();
      ptr_ = std::exchange(o.ptr_, nullptr);
      cap_ = std::exchange(o.cap_, 0);
    }
    return *this;
  }
  ~DeviceBuffer() { release(); }

  /// Makes room for n elements; the old contents are not kept. Returns true if it reallocated.
  bool reserve(std::size_t n, const char* what) {
    if (n <= cap_) return false;
    const std::size_t bytes = detail::checked_bytes(n, sizeof(T), what);
    release();
    void* p = nullptr;
    check(cudaMalloc(&p, bytes), (std::string("cudaMalloc(") + std::to_string(bytes) + " bytes for " + what + ")").c_str());
    ptr_ = static_cast<T*>(p);
    cap_ = n;
    return true;
  }

  T* data() const noexcept { return ptr_; }
  std::size_t capacity() const noexcept { return cap_; }

 private:
  void release() noexcept {
    if (ptr_ != nullptr) cudaFree(ptr_);  // cannot fail usefully in a destructor path
    ptr_ = nullptr;
    cap_ = 0;
  }
  T* ptr_ = nullptr;
  std::size_t cap_ = 0;
};

/// Page-locked host memory: asynchronous copies from or to it never block the host.
template <class T>
class PinnedBuffer {
 public:
  PinnedBuffer() = default;
  PinnedBuffer(const PinnedBuffer&) = delete;
  PinnedBuffer& operator=(const PinnedBuffer&) = delete;
  PinnedBuffer(PinnedBuffer&& o) noexcept : ptr_(std::exchange(o.ptr_, nullptr)), cap_(std::exchange(o.cap_, 0)) {}
  PinnedBuffer& operator=(PinnedBuffer&& o) noexcept {
    if (this != &o) {
      release();
      ptr_ = std::exchange(o.ptr_, nullptr);
      cap_ = std::exchange(o.cap_, 0);
    }
    return *this;
  }
  ~PinnedBuffer() { release(); }

  bool reserve(std::size_t n, const char* what) {
    if (n <= cap_) return false;
    const std::size_t bytes = detail::checked_bytes(n, sizeof(T), what);
    release();
    void* p = nullptr;
    check(cudaMallocHost(&p, bytes),
          (std::string("cudaMallocHost(") + std::to_string(bytes) + " bytes for " + what + ")").c_str());
    ptr_ = static_cast<T*>(p);
    cap_ = n;
    return true;
  }

  T* data() const noexcept { return ptr_; }
  std::size_t capacity() const noexcept { return cap_; }

 private:
  void release() noexcept {
    if (ptr_ != nullptr) cudaFreeHost(ptr_);
    ptr_ = nullptr;
    cap_ = 0;
  }
  T* ptr_ = nullptr;
  std::size_t cap_ = 0;
};

/// A CUDA event without timing (cheapest kind), created on first use.
class Event {
 public:
  Event() = default;
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;
  Event(Event&& o) noexcept : ev_(std::exchange(o.ev_, nullptr)), recorded_(std::exchange(o.recorded_, false)) {}
  Event& operator=(Event&& o) noexcept {
    if (this != &o) {
      release();
      ev_ = std::exchange(o.ev_, nullptr);
      recorded_ = std::exchange(o.recorded_, false);
    }
    return *this;
  }
  ~Event() { release(); }

  void record(cudaStream_t stream) {
    if (ev_ == nullptr) FACEPOST_CUDA_CHECK(cudaEventCreateWithFlags(&ev_, cudaEventDisableTiming));
    FACEPOST_CUDA_CHECK(cudaEventRecord(ev_, stream));
    recorded_ = true;
  }
  /// Blocks the host until the recorded work is done (no-op if never recorded).
  void synchronize() const {
    if (recorded_) FACEPOST_CUDA_CHECK(cudaEventSynchronize(ev_));
  }
  /// Makes `stream` wait for the recorded work, without blocking the host.
  void make_wait(cudaStream_t stream) const {
    if (recorded_) FACEPOST_CUDA_CHECK(cudaStreamWaitEvent(stream, ev_, 0));
  }
  bool recorded() const noexcept { return recorded_; }

 private:
  void release() noexcept {
    if (ev_ != nullptr) cudaEventDestroy(ev_);
    ev_ = nullptr;
    recorded_ = false;
  }
  cudaEvent_t ev_ = nullptr;
  bool recorded_ = false;
};

}  // namespace cuda
}  // namespace facepost
