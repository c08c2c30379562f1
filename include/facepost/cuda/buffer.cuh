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

/// Where a GrowingBuffer lives: device memory, or page-locked host memory (asynchronous copies
/// from or to it never block the host).
struct DeviceMemory {
  static constexpr const char* allocator = "cudaMalloc";
  static cudaError_t allocate(void** p, std::size_t bytes) noexcept { return cudaMalloc(p, bytes); }
  static void release(void* p) noexcept { cudaFree(p); }  // cannot fail usefully on a release path
};
struct PinnedHostMemory {
  static constexpr const char* allocator = "cudaMallocHost";
  static cudaError_t allocate(void** p, std::size_t bytes) noexcept { return cudaMallocHost(p, bytes); }
  static void release(void* p) noexcept { cudaFreeHost(p); }
};

/// Memory for `capacity()` elements of T. reserve() reallocates only to grow, so a workspace that
/// has seen its largest batch never allocates again. Not copyable.
template <class T, class Memory>
class GrowingBuffer {
 public:
  GrowingBuffer() = default;
  GrowingBuffer(const GrowingBuffer&) = delete;
  GrowingBuffer& operator=(const GrowingBuffer&) = delete;
  GrowingBuffer(GrowingBuffer&& o) noexcept : ptr_(std::exchange(o.ptr_, nullptr)), cap_(std::exchange(o.cap_, 0)) {}
  GrowingBuffer& operator=(GrowingBuffer&& o) noexcept {
    if (this != &o) {
      release();
      ptr_ = std::exchange(o.ptr_, nullptr);
      cap_ = std::exchange(o.cap_, 0);
    }
    return *this;
  }
  ~GrowingBuffer() { release(); }

  /// Makes room for n elements; the old contents are not kept. Returns true if it reallocated.
  bool reserve(std::size_t n, const char* what) {
    if (n <= cap_) return false;
    const std::size_t bytes = detail::checked_bytes(n, sizeof(T), what);
    release();
    void* p = nullptr;
    check(Memory::allocate(&p, bytes),
          (std::string(Memory::allocator) + "(" + std::to_string(bytes) + " bytes for " + what + ")").c_str());
    ptr_ = static_cast<T*>(p);
    cap_ = n;
    return true;
  }

  T* data() const noexcept { return ptr_; }
  std::size_t capacity() const noexcept { return cap_; }

 private:
  void release() noexcept {
    if (ptr_ != nullptr) Memory::release(ptr_);
    ptr_ = nullptr;
    cap_ = 0;
  }
  T* ptr_ = nullptr;
  std::size_t cap_ = 0;
};

template <class T>
using DeviceBuffer = GrowingBuffer<T, DeviceMemory>;
template <class T>
using PinnedBuffer = GrowingBuffer<T, PinnedHostMemory>;

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
  /// The CUDA event, or nullptr if never recorded.
  cudaEvent_t get() const noexcept { return recorded_ ? ev_ : nullptr; }

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
