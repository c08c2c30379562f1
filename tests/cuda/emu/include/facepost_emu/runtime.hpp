// facepost_emu/runtime.hpp - a CPU emulation of the parts of the CUDA runtime and device
// language that facepost's CUDA backend uses, so that the real kernels and the backend's host
// code compile with a plain C++17 compiler and run on the host.
//
// Execution model:
//  - one OS thread per CUDA thread: the threads of a block run concurrently (a pool of persistent
//    workers, reused across blocks: the SIMT executor of tests/support/simt/executor.hpp, shared
//    with the Metal shim); blocks run one after another, and one grid at a time in the
//    whole process (kernels of different streams never overlap, so __shared__ variables, which
//    are function-local statics here, belong to one block at a time);
//  - __syncthreads is a real barrier; warp votes and shuffles are real rendezvous between the
//    threads of one warp (width: set_warp_size, default 32); a mask naming an exited lane, or
//    lanes of one warp meeting at different warp operations, abort with a diagnostic; a barrier
//    or warp operation that waits longer than deadlock_timeout aborts too;
//  - every stream has a worker thread executing its operations in order, asynchronously to the
//    host (a missing synchronisation shows as wrong results or a ThreadSanitizer report); the
//    null stream is the legacy default stream (it waits for, and is waited for by, the blocking
//    streams); events record a position in a stream;
//  - memory from cudaMalloc / cudaMallocHost is filled with 0xFF bytes (a NaN in every float
//    lane) when allocated; __shared__ variables are filled with 0xFF before every block
//    (they are found in the program's symbol table: the function-local statics of functions
//    named *_kernel in namespace facepost::cuda::detail); atomics are relaxed, as CUDA's are;
//  - emulated devices: device_count() (default 2); cudaPointerGetAttributes knows which device
//    an allocation was made on; allocation failures can be injected (fail_allocation);
//  - host synchronisations (cudaStreamSynchronize, cudaEventSynchronize, cudaDeviceSynchronize,
//    synchronous cudaMemcpy) are counted (sync_count).
// Float arithmetic intrinsics (__fmul_rn ...) are single IEEE round-to-nearest operations kept
// opaque (facepost::detail::opaque), so no compiler contracts them into FMAs; build the harness
// with -ffp-contract=off as well.
#pragma once

#define FACEPOST_CUDA_EMULATION 1

#include <errno.h>
#include <math.h>  // ::isfinite, ::rint, as CUDA's device code calls them
#include <sched.h>
#include <semaphore.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "facepost/detail/exact.hpp"
#include "simt/executor.hpp"

// ---------------------------------------------------------------------------------------------
// Language: execution-space qualifiers and attributes.

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __noinline__ __attribute__((noinline))
#define __launch_bounds__(...)
#define __shared__ static
#define __constant__ static
#ifndef __CUDACC_VER_MAJOR__
#define __CUDACC_VER_MAJOR__ 13
#endif

// ---------------------------------------------------------------------------------------------
// Types.

enum cudaError {
  cudaSuccess = 0,
  cudaErrorInvalidValue = 1,
  cudaErrorMemoryAllocation = 2,
  cudaErrorInitializationError = 3,
  cudaErrorInvalidConfiguration = 9,
  cudaErrorInvalidDevicePointer = 17,
  cudaErrorInvalidMemcpyDirection = 21,
  cudaErrorNoDevice = 100,
  cudaErrorInvalidDevice = 101,
  cudaErrorInvalidResourceHandle = 400,
  cudaErrorNotReady = 600,
  cudaErrorLaunchFailure = 719,
};
typedef enum cudaError cudaError_t;

enum cudaMemcpyKind {
  cudaMemcpyHostToHost = 0,
  cudaMemcpyHostToDevice = 1,
  cudaMemcpyDeviceToHost = 2,
  cudaMemcpyDeviceToDevice = 3,
  cudaMemcpyDefault = 4,
};

enum cudaMemoryType {
  cudaMemoryTypeUnregistered = 0,
  cudaMemoryTypeHost = 1,
  cudaMemoryTypeDevice = 2,
  cudaMemoryTypeManaged = 3,
};

struct cudaPointerAttributes {
  enum cudaMemoryType type;
  int device;
  void* devicePointer;
  void* hostPointer;
};

#define cudaStreamDefault 0x00u
#define cudaStreamNonBlocking 0x01u
#define cudaEventDefault 0x00u
#define cudaEventBlockingSync 0x01u
#define cudaEventDisableTiming 0x02u
#define cudaHostAllocDefault 0x00u

namespace facepost_emu {
class Stream;
struct EventState;
}  // namespace facepost_emu
typedef facepost_emu::Stream* cudaStream_t;
typedef facepost_emu::EventState* cudaEvent_t;

struct uint3 {
  unsigned x, y, z;
};
struct dim3 {
  unsigned x, y, z;
  constexpr dim3(unsigned vx = 1, unsigned vy = 1, unsigned vz = 1) : x(vx), y(vy), z(vz) {}
  constexpr dim3(uint3 v) : x(v.x), y(v.y), z(v.z) {}
  constexpr operator uint3() const { return uint3{x, y, z}; }
};
struct alignas(16) float4 {
  float x, y, z, w;
};
struct alignas(8) float2 {
  float x, y;
};
inline float4 make_float4(float x, float y, float z, float w) { return float4{x, y, z, w}; }
inline float2 make_float2(float x, float y) { return float2{x, y}; }

// Built-in variables: per host thread, set by the emulator before each CUDA thread runs.
inline thread_local uint3 threadIdx{0, 0, 0};
inline thread_local uint3 blockIdx{0, 0, 0};
inline thread_local dim3 blockDim{1, 1, 1};
inline thread_local dim3 gridDim{1, 1, 1};
inline thread_local int warpSize = 32;

namespace facepost_emu {

// ---------------------------------------------------------------------------------------------
// Knobs and counters.

namespace state {
inline std::atomic<int> warp_size{32};
inline std::atomic<int> devices{2};
inline std::atomic<long> fail_countdown{0};  // > 0: the countdown-th next allocation fails
inline std::atomic<long> syncs{0};
inline std::atomic<long> allocations{0};
inline std::atomic<long> launches{0};
inline std::atomic<long> blocks{0};
// The executor's knobs (tests/support/simt/executor.hpp), under their former names.
inline std::atomic<int>& deadlock_seconds = facepost_simt::knobs::deadlock_seconds;
inline int& spin_yields = facepost_simt::knobs::spin_yields;  // before a thread sleeps at a barrier or warp operation
inline thread_local int current_device = 0;
inline thread_local cudaError_t last_error = cudaSuccess;
}  // namespace state

/// Threads per warp (1..32; CUDA's is 32). Takes effect at the next block.
inline void set_warp_size(int w) {
  if (w < 1 || w > 32) {
    std::fprintf(stderr, "facepost_emu: warp size %d outside 1..32\n", w);
    std::abort();
  }
  state::warp_size = w;
}
inline int warp_size() { return state::warp_size; }
/// Emulated devices (cudaGetDeviceCount); at least 1.
inline void set_device_count(int n) { state::devices = std::max(1, n); }
/// Makes the n-th next allocation (cudaMalloc or cudaMallocHost; n >= 1) fail with
/// cudaErrorMemoryAllocation; 0 cancels.
inline void fail_allocation(long n) { state::fail_countdown = n; }
/// Host synchronisations so far (stream, event and device synchronize, synchronous cudaMemcpy).
inline long sync_count() { return state::syncs; }
inline long allocation_count() { return state::allocations; }
inline long launch_count() { return state::launches; }
inline long block_count() { return state::blocks; }

[[noreturn]] inline void fatal(const std::string& what) {
  std::fprintf(stderr, "facepost_emu: %s\n", what.c_str());
  std::fflush(stderr);
  std::abort();
}

inline cudaError_t fail(cudaError_t e) {
  if (e != cudaSuccess) state::last_error = e;
  return e;
}


// ---------------------------------------------------------------------------------------------
// Memory registry.

struct Allocation {
  std::size_t bytes;
  cudaMemoryType type;
  int device;
};

class Registry {
 public:
  static Registry& get() {
    static Registry r;
    return r;
  }
  void add(void* p, std::size_t bytes, cudaMemoryType t, int device) {
    std::lock_guard<std::mutex> lk(m_);
    map_[reinterpret_cast<std::uintptr_t>(p)] = Allocation{bytes, t, device};
  }
  bool remove(void* p, cudaMemoryType t, std::size_t* bytes) {
    std::lock_guard<std::mutex> lk(m_);
    auto it = map_.find(reinterpret_cast<std::uintptr_t>(p));
    if (it == map_.end() || it->second.type != t) return false;
    *bytes = it->second.bytes;
    map_.erase(it);
    return true;
  }
  /// The allocation holding [p, p + n), if any; base receives its start.
  bool find(const void* p, std::size_t n, Allocation* out, std::uintptr_t* base = nullptr) const {
    std::lock_guard<std::mutex> lk(m_);
    const std::uintptr_t a = reinterpret_cast<std::uintptr_t>(p);
    auto it = map_.upper_bound(a);
    if (it == map_.begin()) return false;
    --it;
    if (a < it->first || a + n > it->first + it->second.bytes || (n == 0 && a >= it->first + it->second.bytes))
      return false;
    if (out) *out = it->second;
    if (base) *base = it->first;
    return true;
  }
  std::size_t live() const {
    std::lock_guard<std::mutex> lk(m_);
    return map_.size();
  }

 private:
  mutable std::mutex m_;
  std::map<std::uintptr_t, Allocation> map_;
};

using facepost_simt::kPoison;

inline bool take_allocation_failure() {
  long c = state::fail_countdown.load();
  while (c > 0) {
    if (state::fail_countdown.compare_exchange_weak(c, c - 1)) return c == 1;
  }
  return false;
}

inline void* allocate(std::size_t bytes) {
  const std::size_t rounded = (std::max<std::size_t>(bytes, 1) + 255) / 256 * 256;
  void* p = std::aligned_alloc(256, rounded);
  if (p != nullptr) std::memset(p, kPoison, rounded);
  return p;
}

/// Is [p, p + n) memory the device may access (device, managed or pinned host)?
inline bool device_accessible(const void* p, std::size_t n) { return Registry::get().find(p, n, nullptr); }

// ---------------------------------------------------------------------------------------------
// Shared memory: the function-local statics of the kernels, found in the symbol table.

struct SharedRange {
  unsigned char* p;
  std::size_t bytes;
  std::string name;
};
std::vector<SharedRange> find_shared_variables();  // shared_memory.cpp-free: defined in symbols.hpp
}  // namespace facepost_emu

#include "facepost_emu/symbols.hpp"

namespace facepost_emu {

inline const std::vector<SharedRange>& shared_variables() {
  static const std::vector<SharedRange> v = find_shared_variables();
  return v;
}

inline void poison_shared_memory() {
  for (const SharedRange& r : shared_variables()) std::memset(r.p, kPoison, r.bytes);
}

// ---------------------------------------------------------------------------------------------
// Blocks: the shared SIMT executor (tests/support/simt/executor.hpp) runs each block: one thread
// per CUDA thread, a real barrier, warps as its lane groups.

/// The calling CUDA thread's warp width (its block's).
inline unsigned current_warp_width() { return facepost_simt::width(); }

inline void syncthreads() { facepost_simt::barrier("__syncthreads"); }

/// Rendezvous of the lanes in `mask` (the caller's warp): every lane contributes v, every lane
/// receives all contributions in out[lane].
inline void warp_exchange(unsigned mask, std::uint64_t v, std::uint64_t (&out)[facepost_simt::kMaxWidth],
                          const char* op) {
  if (mask == 0) fatal(std::string(op) + ": the calling lane " + std::to_string(facepost_simt::self.lane) +
                       " is not in the mask");  // 0 would mean "the active lanes" to the executor
  facepost_simt::exchange(mask, v, out, op);
}

/// One grid at a time in the whole process.
inline std::mutex& device_execution() { return facepost_simt::device_execution(); }

template <class F>
void run_grid(dim3 grid, dim3 block, F&& thread_body) {
  std::lock_guard<std::mutex> exclusive(device_execution());
  facepost_simt::GroupConfig c;
  c.threads = block.x * block.y * block.z;
  c.width = static_cast<unsigned>(state::warp_size.load());
  c.prefix = "facepost_emu";
  c.barrier_name = "__syncthreads";
  for (unsigned bz = 0; bz < grid.z; ++bz)
    for (unsigned by = 0; by < grid.y; ++by)
      for (unsigned bx = 0; bx < grid.x; ++bx) {
        poison_shared_memory();
        const uint3 bid{bx, by, bz};
        facepost_simt::run_group(c, [&](unsigned i) {
          threadIdx = uint3{i % block.x, (i / block.x) % block.y, i / (block.x * block.y)};
          blockIdx = bid;
          blockDim = block;
          gridDim = grid;
          warpSize = static_cast<int>(c.width);
          thread_body();
        });
        ++state::blocks;
      }
}

// ---------------------------------------------------------------------------------------------
// ---------------------------------------------------------------------------------------------
// Streams and events.

class Stream {
 public:
  Stream(unsigned flags, int device, bool legacy) : flags_(flags), device_(device), legacy_(legacy) {
    worker_ = std::thread([this] { work(); });
  }
  ~Stream() {
    wait_idle();
    {
      std::lock_guard<std::mutex> lk(m_);
      stop_ = true;
    }
    cv_.notify_all();
    worker_.join();
  }
  /// Queues op; returns its position (1-based).
  std::uint64_t submit(std::function<void()> op) {
    std::lock_guard<std::mutex> lk(m_);
    queue_.push_back(std::move(op));
    cv_.notify_all();
    return ++submitted_;
  }
  std::uint64_t position() const {
    std::lock_guard<std::mutex> lk(m_);
    return submitted_;
  }
  void wait_for(std::uint64_t pos) const {
    std::unique_lock<std::mutex> lk(m_);
    done_cv_.wait(lk, [&] { return completed_ >= pos; });
  }
  bool reached(std::uint64_t pos) const {
    std::lock_guard<std::mutex> lk(m_);
    return completed_ >= pos;
  }
  void wait_idle() const { wait_for(position()); }
  bool blocking() const { return !legacy_ && !(flags_ & cudaStreamNonBlocking); }
  bool legacy() const { return legacy_; }
  int device() const { return device_; }

 private:
  void work() {
    for (;;) {
      std::function<void()> op;
      {
        std::unique_lock<std::mutex> lk(m_);
        cv_.wait(lk, [&] { return stop_ || !queue_.empty(); });
        if (queue_.empty()) return;
        op = std::move(queue_.front());
        queue_.pop_front();
      }
      op();
      std::lock_guard<std::mutex> lk(m_);
      ++completed_;
      done_cv_.notify_all();
    }
  }
  unsigned flags_;
  int device_;
  bool legacy_;
  mutable std::mutex m_;
  std::condition_variable cv_;
  mutable std::condition_variable done_cv_;
  std::deque<std::function<void()>> queue_;
  std::uint64_t submitted_ = 0, completed_ = 0;
  bool stop_ = false;
  std::thread worker_;
};

/// All streams, for the legacy default stream's implicit synchronisation.
class Streams {
 public:
  static Streams& get() {
    static Streams s;
    return s;
  }
  Stream* legacy() {
    std::lock_guard<std::mutex> lk(m_);
    if (!legacy_) legacy_ = std::make_unique<Stream>(0, 0, true);
    return legacy_.get();
  }
  Stream* create(unsigned flags) {
    std::lock_guard<std::mutex> lk(m_);
    all_.push_back(std::make_unique<Stream>(flags, state::current_device, false));
    return all_.back().get();
  }
  bool destroy(Stream* s) {
    std::unique_ptr<Stream> victim;
    {
      std::lock_guard<std::mutex> lk(m_);
      auto it = std::find_if(all_.begin(), all_.end(), [&](const auto& p) { return p.get() == s; });
      if (it == all_.end()) return false;
      victim = std::move(*it);
      all_.erase(it);
    }
    return true;  // ~Stream finishes its work first
  }
  bool valid(Stream* s) {
    if (s == nullptr) return true;
    std::lock_guard<std::mutex> lk(m_);
    return s == legacy_.get() ||
           std::any_of(all_.begin(), all_.end(), [&](const auto& p) { return p.get() == s; });
  }
  /// Positions to wait for before an operation on s may run (legacy default stream semantics).
  std::vector<std::pair<Stream*, std::uint64_t>> implicit_waits(Stream* s) {
    std::vector<std::pair<Stream*, std::uint64_t>> w;
    std::lock_guard<std::mutex> lk(m_);
    if (s->legacy()) {
      for (const auto& p : all_)
        if (p->blocking()) w.emplace_back(p.get(), p->position());
    } else if (s->blocking() && legacy_) {
      w.emplace_back(legacy_.get(), legacy_->position());
    }
    return w;
  }
  void wait_all() {
    std::vector<Stream*> s;
    {
      std::lock_guard<std::mutex> lk(m_);
      if (legacy_) s.push_back(legacy_.get());
      for (const auto& p : all_) s.push_back(p.get());
    }
    for (Stream* x : s) x->wait_idle();
  }

 private:
  std::mutex m_;
  std::unique_ptr<Stream> legacy_;
  std::vector<std::unique_ptr<Stream>> all_;
};

inline Stream* resolve(cudaStream_t s) { return s == nullptr ? Streams::get().legacy() : s; }

/// Queues op on stream s after the implicit waits of the legacy default stream.
inline void enqueue(cudaStream_t stream, std::function<void()> op) {
  Stream* s = resolve(stream);
  auto waits = Streams::get().implicit_waits(s);
  if (waits.empty()) {
    s->submit(std::move(op));
    return;
  }
  s->submit([waits = std::move(waits), op = std::move(op)] {
    for (const auto& w : waits) w.first->wait_for(w.second);
    op();
  });
}

struct EventState {
  std::mutex m;
  Stream* stream = nullptr;
  std::uint64_t position = 0;
  bool recorded = false;
};

class Events {
 public:
  static Events& get() {
    static Events e;
    return e;
  }
  EventState* create() {
    std::lock_guard<std::mutex> lk(m_);
    all_.push_back(std::make_unique<EventState>());
    return all_.back().get();
  }
  bool destroy(EventState* e) {
    std::lock_guard<std::mutex> lk(m_);
    auto it = std::find_if(all_.begin(), all_.end(), [&](const auto& p) { return p.get() == e; });
    if (it == all_.end()) return false;
    all_.erase(it);
    return true;
  }
  bool valid(EventState* e) {
    std::lock_guard<std::mutex> lk(m_);
    return std::any_of(all_.begin(), all_.end(), [&](const auto& p) { return p.get() == e; });
  }

 private:
  std::mutex m_;
  std::vector<std::unique_ptr<EventState>> all_;
};

// ---------------------------------------------------------------------------------------------
// Kernel launch (facepost/cuda/launch.cuh calls this instead of <<<>>>).

inline cudaError_t check_configuration(dim3 grid, dim3 block) {
  const unsigned long long threads = 1ull * block.x * block.y * block.z;
  if (grid.x == 0 || grid.y == 0 || grid.z == 0 || threads == 0 || threads > 1024 || block.x > 1024 ||
      block.y > 1024 || block.z > 64 || grid.y > 65535 || grid.z > 65535 || grid.x > 0x7FFFFFFFu)
    return cudaErrorInvalidConfiguration;
  return cudaSuccess;
}

template <class... Params, class... Args>
void launch(void (*kernel)(Params...), dim3 grid, dim3 block, std::size_t shared_bytes, cudaStream_t stream,
            Args&&... args) {
  if (shared_bytes != 0) fatal("dynamic shared memory is not emulated");
  if (const cudaError_t e = check_configuration(grid, block)) {
    fail(e);
    return;
  }
  if (!Streams::get().valid(stream)) {
    fail(cudaErrorInvalidResourceHandle);
    return;
  }
  ++state::launches;
  auto params = std::make_shared<std::tuple<std::decay_t<Params>...>>(std::forward<Args>(args)...);
  enqueue(stream, [kernel, grid, block, params] {
    run_grid(grid, block, [&] {
      std::tuple<std::decay_t<Params>...> mine = *params;  // each thread its own parameter copies
      std::apply(kernel, mine);
    });
  });
}

}  // namespace facepost_emu

// ---------------------------------------------------------------------------------------------
// Runtime API.

inline cudaError_t cudaGetLastError() {
  const cudaError_t e = facepost_emu::state::last_error;
  facepost_emu::state::last_error = cudaSuccess;
  return e;
}
inline cudaError_t cudaPeekAtLastError() { return facepost_emu::state::last_error; }

inline const char* cudaGetErrorName(cudaError_t e) {
  switch (e) {
    case cudaSuccess: return "cudaSuccess";
    case cudaErrorInvalidValue: return "cudaErrorInvalidValue";
    case cudaErrorMemoryAllocation: return "cudaErrorMemoryAllocation";
    case cudaErrorInitializationError: return "cudaErrorInitializationError";
    case cudaErrorInvalidConfiguration: return "cudaErrorInvalidConfiguration";
    case cudaErrorInvalidDevicePointer: return "cudaErrorInvalidDevicePointer";
    case cudaErrorInvalidMemcpyDirection: return "cudaErrorInvalidMemcpyDirection";
    case cudaErrorNoDevice: return "cudaErrorNoDevice";
    case cudaErrorInvalidDevice: return "cudaErrorInvalidDevice";
    case cudaErrorInvalidResourceHandle: return "cudaErrorInvalidResourceHandle";
    case cudaErrorNotReady: return "cudaErrorNotReady";
    case cudaErrorLaunchFailure: return "cudaErrorLaunchFailure";
  }
  return "cudaErrorUnknown";
}
inline const char* cudaGetErrorString(cudaError_t e) {
  switch (e) {
    case cudaSuccess: return "no error";
    case cudaErrorInvalidValue: return "invalid argument";
    case cudaErrorMemoryAllocation: return "out of memory";
    case cudaErrorInitializationError: return "initialization error";
    case cudaErrorInvalidConfiguration: return "invalid configuration argument";
    case cudaErrorInvalidDevicePointer: return "invalid device pointer";
    case cudaErrorInvalidMemcpyDirection: return "invalid copy direction for memcpy";
    case cudaErrorNoDevice: return "no CUDA-capable device is detected";
    case cudaErrorInvalidDevice: return "invalid device ordinal";
    case cudaErrorInvalidResourceHandle: return "invalid resource handle";
    case cudaErrorNotReady: return "device not ready";
    case cudaErrorLaunchFailure: return "unspecified launch failure";
  }
  return "unrecognized error code";
}

inline cudaError_t cudaGetDeviceCount(int* n) {
  *n = facepost_emu::state::devices;
  return cudaSuccess;
}
inline cudaError_t cudaGetDevice(int* d) {
  *d = facepost_emu::state::current_device;
  return cudaSuccess;
}
inline cudaError_t cudaSetDevice(int d) {
  if (d < 0 || d >= facepost_emu::state::devices) return facepost_emu::fail(cudaErrorInvalidDevice);
  facepost_emu::state::current_device = d;
  return cudaSuccess;
}

inline cudaError_t cudaMalloc(void** p, std::size_t bytes) {
  *p = nullptr;
  if (facepost_emu::take_allocation_failure()) return facepost_emu::fail(cudaErrorMemoryAllocation);
  void* q = facepost_emu::allocate(bytes);
  if (q == nullptr) return facepost_emu::fail(cudaErrorMemoryAllocation);
  facepost_emu::Registry::get().add(q, bytes, cudaMemoryTypeDevice, facepost_emu::state::current_device);
  ++facepost_emu::state::allocations;
  *p = q;
  return cudaSuccess;
}
template <class T>
cudaError_t cudaMalloc(T** p, std::size_t bytes) {
  return cudaMalloc(reinterpret_cast<void**>(p), bytes);
}
inline cudaError_t cudaMallocHost(void** p, std::size_t bytes) {
  *p = nullptr;
  if (facepost_emu::take_allocation_failure()) return facepost_emu::fail(cudaErrorMemoryAllocation);
  void* q = facepost_emu::allocate(bytes);
  if (q == nullptr) return facepost_emu::fail(cudaErrorMemoryAllocation);
  facepost_emu::Registry::get().add(q, bytes, cudaMemoryTypeHost, facepost_emu::state::current_device);
  ++facepost_emu::state::allocations;
  *p = q;
  return cudaSuccess;
}
template <class T>
cudaError_t cudaMallocHost(T** p, std::size_t bytes) {
  return cudaMallocHost(reinterpret_cast<void**>(p), bytes);
}

namespace facepost_emu {
inline cudaError_t release(void* p, cudaMemoryType t) {
  if (p == nullptr) return cudaSuccess;
  Streams::get().wait_all();  // cudaFree / cudaFreeHost synchronise the device implicitly
  std::size_t bytes = 0;
  if (!Registry::get().remove(p, t, &bytes)) return fail(cudaErrorInvalidValue);
  std::memset(p, kPoison, bytes);
  std::free(p);
  return cudaSuccess;
}
}  // namespace facepost_emu
inline cudaError_t cudaFree(void* p) { return facepost_emu::release(p, cudaMemoryTypeDevice); }
inline cudaError_t cudaFreeHost(void* p) { return facepost_emu::release(p, cudaMemoryTypeHost); }

inline cudaError_t cudaPointerGetAttributes(cudaPointerAttributes* a, const void* p) {
  facepost_emu::Allocation al{};
  *a = cudaPointerAttributes{cudaMemoryTypeUnregistered, -2, nullptr, nullptr};
  if (!facepost_emu::Registry::get().find(p, 0, &al)) return cudaSuccess;  // CUDA >= 11: unregistered
  a->type = al.type;
  a->device = al.device;
  a->devicePointer = const_cast<void*>(p);
  a->hostPointer = al.type == cudaMemoryTypeDevice ? nullptr : const_cast<void*>(p);
  return cudaSuccess;
}

namespace facepost_emu {
/// Checks the device side(s) of a copy of rows x width bytes with the given pitches.
inline cudaError_t check_copy(void* dst, std::size_t dpitch, const void* src, std::size_t spitch,
                              std::size_t width, std::size_t rows, cudaMemcpyKind kind) {
  if (rows == 0 || width == 0) return cudaSuccess;
  const std::size_t dspan = dpitch * (rows - 1) + width, sspan = spitch * (rows - 1) + width;
  const bool src_dev = kind == cudaMemcpyDeviceToHost || kind == cudaMemcpyDeviceToDevice;
  const bool dst_dev = kind == cudaMemcpyHostToDevice || kind == cudaMemcpyDeviceToDevice;
  if (kind > cudaMemcpyDefault) return cudaErrorInvalidMemcpyDirection;
  if (src_dev && !device_accessible(src, sspan)) return cudaErrorInvalidValue;
  if (dst_dev && !device_accessible(dst, dspan)) return cudaErrorInvalidValue;
  if (dpitch < width || spitch < width) return cudaErrorInvalidValue;
  return cudaSuccess;
}
inline void copy2d(void* dst, std::size_t dpitch, const void* src, std::size_t spitch, std::size_t width,
                   std::size_t rows) {
  for (std::size_t r = 0; r < rows; ++r)
    std::memcpy(static_cast<char*>(dst) + r * dpitch, static_cast<const char*>(src) + r * spitch, width);
}
}  // namespace facepost_emu

inline cudaError_t cudaMemcpy2DAsync(void* dst, std::size_t dpitch, const void* src, std::size_t spitch,
                                     std::size_t width, std::size_t rows, cudaMemcpyKind kind,
                                     cudaStream_t stream = nullptr) {
  if (const cudaError_t e = facepost_emu::check_copy(dst, dpitch, src, spitch, width, rows, kind))
    return facepost_emu::fail(e);
  if (!facepost_emu::Streams::get().valid(stream)) return facepost_emu::fail(cudaErrorInvalidResourceHandle);
  facepost_emu::enqueue(stream, [=] { facepost_emu::copy2d(dst, dpitch, src, spitch, width, rows); });
  return cudaSuccess;
}
inline cudaError_t cudaMemcpyAsync(void* dst, const void* src, std::size_t bytes, cudaMemcpyKind kind,
                                   cudaStream_t stream = nullptr) {
  return cudaMemcpy2DAsync(dst, bytes, src, bytes, bytes, 1, kind, stream);
}
inline cudaError_t cudaMemcpy(void* dst, const void* src, std::size_t bytes, cudaMemcpyKind kind) {
  const cudaError_t e = cudaMemcpyAsync(dst, src, bytes, kind, nullptr);
  if (e != cudaSuccess) return e;
  ++facepost_emu::state::syncs;
  facepost_emu::Streams::get().legacy()->wait_idle();
  return cudaSuccess;
}
inline cudaError_t cudaMemsetAsync(void* p, int value, std::size_t bytes, cudaStream_t stream = nullptr) {
  if (bytes == 0) return cudaSuccess;
  if (!facepost_emu::device_accessible(p, bytes)) return facepost_emu::fail(cudaErrorInvalidValue);
  if (!facepost_emu::Streams::get().valid(stream)) return facepost_emu::fail(cudaErrorInvalidResourceHandle);
  facepost_emu::enqueue(stream, [=] { std::memset(p, value, bytes); });
  return cudaSuccess;
}
inline cudaError_t cudaMemset(void* p, int value, std::size_t bytes) {
  const cudaError_t e = cudaMemsetAsync(p, value, bytes, nullptr);
  if (e == cudaSuccess) facepost_emu::Streams::get().legacy()->wait_idle();
  return e;
}

inline cudaError_t cudaStreamCreateWithFlags(cudaStream_t* s, unsigned flags) {
  *s = facepost_emu::Streams::get().create(flags);
  return cudaSuccess;
}
inline cudaError_t cudaStreamCreate(cudaStream_t* s) { return cudaStreamCreateWithFlags(s, cudaStreamDefault); }
inline cudaError_t cudaStreamDestroy(cudaStream_t s) {
  if (s == nullptr || !facepost_emu::Streams::get().destroy(s))
    return facepost_emu::fail(cudaErrorInvalidResourceHandle);
  return cudaSuccess;
}
inline cudaError_t cudaStreamSynchronize(cudaStream_t s) {
  if (!facepost_emu::Streams::get().valid(s)) return facepost_emu::fail(cudaErrorInvalidResourceHandle);
  ++facepost_emu::state::syncs;
  facepost_emu::resolve(s)->wait_idle();
  return cudaSuccess;
}
inline cudaError_t cudaDeviceSynchronize() {
  ++facepost_emu::state::syncs;
  facepost_emu::Streams::get().wait_all();
  return cudaSuccess;
}

inline cudaError_t cudaEventCreateWithFlags(cudaEvent_t* e, unsigned /*flags*/) {
  *e = facepost_emu::Events::get().create();
  return cudaSuccess;
}
inline cudaError_t cudaEventCreate(cudaEvent_t* e) { return cudaEventCreateWithFlags(e, cudaEventDefault); }
inline cudaError_t cudaEventDestroy(cudaEvent_t e) {
  if (!facepost_emu::Events::get().destroy(e)) return facepost_emu::fail(cudaErrorInvalidResourceHandle);
  return cudaSuccess;
}
inline cudaError_t cudaEventRecord(cudaEvent_t e, cudaStream_t stream = nullptr) {
  if (!facepost_emu::Events::get().valid(e) || !facepost_emu::Streams::get().valid(stream))
    return facepost_emu::fail(cudaErrorInvalidResourceHandle);
  facepost_emu::Stream* s = facepost_emu::resolve(stream);
  // The implicit waits of the legacy stream apply to a record too: queue a no-op and record it.
  facepost_emu::enqueue(stream, [] {});
  std::lock_guard<std::mutex> lk(e->m);
  e->stream = s;
  e->position = s->position();
  e->recorded = true;
  return cudaSuccess;
}
inline cudaError_t cudaEventSynchronize(cudaEvent_t e) {
  if (!facepost_emu::Events::get().valid(e)) return facepost_emu::fail(cudaErrorInvalidResourceHandle);
  ++facepost_emu::state::syncs;
  facepost_emu::Stream* s;
  std::uint64_t pos;
  {
    std::lock_guard<std::mutex> lk(e->m);
    if (!e->recorded) return cudaSuccess;
    s = e->stream;
    pos = e->position;
  }
  s->wait_for(pos);
  return cudaSuccess;
}
inline cudaError_t cudaEventQuery(cudaEvent_t e) {
  if (!facepost_emu::Events::get().valid(e)) return facepost_emu::fail(cudaErrorInvalidResourceHandle);
  std::lock_guard<std::mutex> lk(e->m);
  if (!e->recorded || e->stream->reached(e->position)) return cudaSuccess;
  return cudaErrorNotReady;  // not an error: does not set the last error
}
inline cudaError_t cudaStreamWaitEvent(cudaStream_t stream, cudaEvent_t e, unsigned /*flags*/ = 0) {
  if (!facepost_emu::Events::get().valid(e) || !facepost_emu::Streams::get().valid(stream))
    return facepost_emu::fail(cudaErrorInvalidResourceHandle);
  facepost_emu::Stream* s;
  std::uint64_t pos;
  {
    std::lock_guard<std::mutex> lk(e->m);
    if (!e->recorded) return cudaSuccess;
    s = e->stream;
    pos = e->position;
  }
  facepost_emu::enqueue(stream, [s, pos] { s->wait_for(pos); });
  return cudaSuccess;
}

// ---------------------------------------------------------------------------------------------
// Device functions.

inline void __syncthreads() { facepost_emu::syncthreads(); }
inline void __syncwarp(unsigned mask = 0xFFFFFFFFu) {
  std::uint64_t all[facepost_simt::kMaxWidth];
  facepost_emu::warp_exchange(mask, 0, all, "__syncwarp");
}
inline void __threadfence() { std::atomic_thread_fence(std::memory_order_seq_cst); }
inline void __threadfence_block() { std::atomic_thread_fence(std::memory_order_seq_cst); }

inline unsigned __ballot_sync(unsigned mask, int predicate) {
  std::uint64_t all[facepost_simt::kMaxWidth];
  facepost_emu::warp_exchange(mask, predicate != 0, all, "__ballot_sync");
  const unsigned width = facepost_emu::current_warp_width();
  unsigned m = width < 32 ? mask & ((1u << width) - 1u) : mask, r = 0;
  for (unsigned l = 0; l < 32; ++l)
    if (((m >> l) & 1u) && all[l]) r |= 1u << l;
  return r;
}
inline int __any_sync(unsigned mask, int predicate) { return __ballot_sync(mask, predicate) != 0; }
inline int __all_sync(unsigned mask, int predicate) {
  const unsigned width = facepost_simt::self.group ? facepost_emu::current_warp_width() : 32;
  const unsigned m = width < 32 ? mask & ((1u << width) - 1u) : mask;
  return __ballot_sync(mask, predicate) == m;
}

namespace facepost_emu {
template <class T>
std::uint64_t to_bits(T v) {
  static_assert(sizeof(T) <= 8 && std::is_trivially_copyable<T>::value, "shuffle of an unsupported type");
  std::uint64_t u = 0;
  std::memcpy(&u, &v, sizeof v);
  return u;
}
template <class T>
T from_bits(std::uint64_t u) {
  T v;
  std::memcpy(&v, &u, sizeof v);
  return v;
}
/// Shuffle: src_of(lane_in_segment) gives the source lane within the segment, or -1 for "own".
template <class T, class F>
T shuffle(unsigned mask, T var, int width, F src_of, const char* op) {
  std::uint64_t all[facepost_simt::kMaxWidth];
  warp_exchange(mask, to_bits(var), all, op);
  const unsigned lane = facepost_simt::self.lane;
  if (width <= 0 || width > warpSize || (width & (width - 1)) != 0)
    fatal(std::string(op) + ": width must be a power of 2 no larger than warpSize");
  const int base = static_cast<int>(lane) & ~(width - 1);
  const int src = src_of(static_cast<int>(lane) - base);
  if (src < 0) return var;
  const unsigned from = static_cast<unsigned>(base + src);
  if (from >= 32 || !((mask >> from) & 1u))
    fatal(std::string(op) + ": reads lane " + std::to_string(from) + ", which is not in the mask");
  return from_bits<T>(all[from]);
}
}  // namespace facepost_emu

template <class T>
T __shfl_sync(unsigned mask, T var, int src_lane, int width = warpSize) {
  return facepost_emu::shuffle(mask, var, width, [&](int) { return ((src_lane % width) + width) % width; },
                               "__shfl_sync");
}
template <class T>
T __shfl_down_sync(unsigned mask, T var, unsigned delta, int width = warpSize) {
  return facepost_emu::shuffle(
      mask, var, width, [&](int l) { return l + static_cast<int>(delta) < width ? l + static_cast<int>(delta) : -1; },
      "__shfl_down_sync");
}
template <class T>
T __shfl_up_sync(unsigned mask, T var, unsigned delta, int width = warpSize) {
  return facepost_emu::shuffle(
      mask, var, width, [&](int l) { return l >= static_cast<int>(delta) ? l - static_cast<int>(delta) : -1; },
      "__shfl_up_sync");
}
template <class T>
T __shfl_xor_sync(unsigned mask, T var, int lane_mask, int width = warpSize) {
  return facepost_emu::shuffle(
      mask, var, width, [&](int l) { return (l ^ lane_mask) < width ? (l ^ lane_mask) : -1; }, "__shfl_xor_sync");
}

inline int __popc(unsigned x) { return __builtin_popcount(x); }
inline int __popcll(unsigned long long x) { return __builtin_popcountll(x); }
inline int __ffs(int x) { return __builtin_ffs(x); }
inline int __ffsll(long long x) { return __builtin_ffsll(x); }
inline int __clz(int x) { return x == 0 ? 32 : __builtin_clz(static_cast<unsigned>(x)); }
inline int __clzll(long long x) { return x == 0 ? 64 : __builtin_clzll(static_cast<unsigned long long>(x)); }
inline unsigned __brev(unsigned x) {
  unsigned r = 0;
  for (int i = 0; i < 32; ++i) r |= ((x >> i) & 1u) << (31 - i);
  return r;
}

// Atomics: relaxed, like CUDA's.
#define FACEPOST_EMU_ATOMICS(T)                                                                         \
  inline T atomicAdd(T* p, T v) { return __atomic_fetch_add(p, v, __ATOMIC_RELAXED); }                \
  inline T atomicSub(T* p, T v) { return __atomic_fetch_sub(p, v, __ATOMIC_RELAXED); }                \
  inline T atomicExch(T* p, T v) { return __atomic_exchange_n(p, v, __ATOMIC_RELAXED); }              \
  inline T atomicAnd(T* p, T v) { return __atomic_fetch_and(p, v, __ATOMIC_RELAXED); }                \
  inline T atomicOr(T* p, T v) { return __atomic_fetch_or(p, v, __ATOMIC_RELAXED); }                  \
  inline T atomicXor(T* p, T v) { return __atomic_fetch_xor(p, v, __ATOMIC_RELAXED); }                \
  inline T atomicCAS(T* p, T expected, T desired) {                                                    \
    __atomic_compare_exchange_n(p, &expected, desired, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED);     \
    return expected;                                                                                   \
  }                                                                                                    \
  inline T atomicMin(T* p, T v) {                                                                      \
    T old = __atomic_load_n(p, __ATOMIC_RELAXED);                                                     \
    while (v < old && !__atomic_compare_exchange_n(p, &old, v, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) { \
    }                                                                                                  \
    return old;                                                                                        \
  }                                                                                                    \
  inline T atomicMax(T* p, T v) {                                                                      \
    T old = __atomic_load_n(p, __ATOMIC_RELAXED);                                                     \
    while (v > old && !__atomic_compare_exchange_n(p, &old, v, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) { \
    }                                                                                                  \
    return old;                                                                                        \
  }
FACEPOST_EMU_ATOMICS(int)
FACEPOST_EMU_ATOMICS(unsigned)
FACEPOST_EMU_ATOMICS(unsigned long long)
FACEPOST_EMU_ATOMICS(long long)
#undef FACEPOST_EMU_ATOMICS
inline float atomicAdd(float* p, float v) {
  unsigned* u = reinterpret_cast<unsigned*>(p);
  unsigned old = __atomic_load_n(u, __ATOMIC_RELAXED);
  for (;;) {
    float f;
    std::memcpy(&f, &old, sizeof f);
    const float n = f + v;
    unsigned nu;
    std::memcpy(&nu, &n, sizeof nu);
    if (__atomic_compare_exchange_n(u, &old, nu, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) return f;
  }
}

template <class T>
T __ldg(const T* p) {
  return *p;
}

// min / max as CUDA declares them for device code.
inline int min(int a, int b) { return a < b ? a : b; }
inline unsigned min(unsigned a, unsigned b) { return a < b ? a : b; }
inline long long min(long long a, long long b) { return a < b ? a : b; }
inline unsigned long long min(unsigned long long a, unsigned long long b) { return a < b ? a : b; }
inline float min(float a, float b) { return fminf(a, b); }
inline double min(double a, double b) { return fmin(a, b); }
inline int max(int a, int b) { return a > b ? a : b; }
inline unsigned max(unsigned a, unsigned b) { return a > b ? a : b; }
inline long long max(long long a, long long b) { return a > b ? a : b; }
inline unsigned long long max(unsigned long long a, unsigned long long b) { return a > b ? a : b; }
inline float max(float a, float b) { return fmaxf(a, b); }
inline double max(double a, double b) { return fmax(a, b); }

// IEEE round-to-nearest single operations, never contracted (opaque results).
inline float __fmul_rn(float a, float b) { return facepost::detail::opaque(a * b); }
inline float __fadd_rn(float a, float b) { return facepost::detail::opaque(a + b); }
inline float __fsub_rn(float a, float b) { return facepost::detail::opaque(a - b); }
inline float __fdiv_rn(float a, float b) { return facepost::detail::opaque(a / b); }
inline float __fsqrt_rn(float a) { return facepost::detail::opaque(std::sqrt(a)); }
inline double __dmul_rn(double a, double b) { return facepost::detail::opaque(a * b); }
inline double __dadd_rn(double a, double b) { return facepost::detail::opaque(a + b); }
inline double __dsub_rn(double a, double b) { return facepost::detail::opaque(a - b); }
inline double __ddiv_rn(double a, double b) { return facepost::detail::opaque(a / b); }
inline float __double2float_rn(double d) { return static_cast<float>(d); }
inline unsigned __float_as_uint(float x) {
  unsigned u;
  std::memcpy(&u, &x, sizeof u);
  return u;
}
inline float __uint_as_float(unsigned u) {
  float x;
  std::memcpy(&x, &u, sizeof x);
  return x;
}
inline int __float_as_int(float x) {
  int u;
  std::memcpy(&u, &x, sizeof u);
  return u;
}
inline float __int_as_float(int u) {
  float x;
  std::memcpy(&x, &u, sizeof x);
  return x;
}
inline double __longlong_as_double(long long u) {
  double x;
  std::memcpy(&x, &u, sizeof x);
  return x;
}
inline long long __double_as_longlong(double x) {
  long long u;
  std::memcpy(&u, &x, sizeof u);
  return u;
}
using std::isfinite;
using std::isinf;
using std::isnan;

// Device code follows: facepost's CUDA headers take their device paths (arithmetic.cuh,
// nms_chunk.cuh) when __CUDA_ARCH__ is defined. Defined here, after every standard header this
// file needs; Eigen ignores it because facepost's CUDA translation units define EIGEN_NO_CUDA.
#ifndef __CUDA_ARCH__
#define __CUDA_ARCH__ 700
#endif
