// Metal/Metal.hpp of the fake metal-cpp (tests/metal/shim) - the MTL classes a compute host
// program uses, with metal-cpp's names, signatures and ownership rules, running the kernels of
// the .metal files compiled into the program by the Metal shim (facepost_msl/registry.hpp) on
// the CPU.
//
// Emulates:
//  - MTL::CreateSystemDefaultDevice(); Device::newBuffer(length, options) (contents filled with
//    0xFF: a NaN in every float) and newBuffer(pointer, length, options), StorageModeShared and
//    StorageModePrivate (contents() is nullptr, as on a GPU); newCommandQueue();
//    newLibrary(source, options, error): succeeds only if the source is exactly the text of a
//    .metal file compiled into the program, otherwise nullptr and an NS::Error; the
//    CompileOptions given are recorded (facepost_metal_fake::compile_records(): fast math,
//    math mode, floating-point functions, language version, with Metal's defaults when unset:
//    fast math on); Library::newFunction(name) (nullptr for an unknown name);
//    newComputePipelineState(function, error) with maxTotalThreadsPerThreadgroup() (1024) and
//    threadExecutionWidth() (the shim's SIMD width when the pipeline is made);
//  - CommandQueue::commandBuffer(), CommandBuffer (computeCommandEncoder(), commit(),
//    waitUntilCompleted(), status(), error(), addCompletedHandler(std::function)),
//    ComputeCommandEncoder (setComputePipelineState, setBuffer, setBytes,
//    setThreadgroupMemoryLength, dispatchThreadgroups, dispatchThreads, memoryBarrier,
//    endEncoding); a serial encoder runs its dispatches in order; a concurrent one
//    (computeCommandEncoder(MTL::DispatchTypeConcurrent)) runs the dispatches between two
//    memoryBarrier calls in reverse order, so a missing barrier shows;
//  - execution: committed command buffers run in commit order on one worker thread (the
//    "GPU"), asynchronously to the host: a read of a result before waitUntilCompleted (or a
//    completed handler) is a wrong result or a ThreadSanitizer report; a command buffer retains
//    what it uses until it completes;
//  - Metal's API validation: a threadgroup over the pipeline's maxTotalThreadsPerThreadgroup or
//    the device's maxThreadsPerThreadgroup, threadgroup memory over 32 KiB or not a multiple of
//    16 bytes, setBytes over 4 KiB, encoding after endEncoding or after commit, a dispatch
//    without a pipeline, an unbound buffer or threadgroup index of the kernel, a buffer smaller
//    than a `constant T&` parameter, an empty grid, a second encoder while one is open, a commit
//    with an open encoder, waitUntilCompleted before commit: each a
//    facepost_metal_fake::validation_error (abort, or throw ValidationError in tests);
//  - facepost_metal_fake::fail_next_command_buffers(n): the next n committed command buffers
//    end with CommandBufferStatusError (nothing runs) and an error, for the host's error paths.
// metal-cpp needs MTL_PRIVATE_IMPLEMENTATION in exactly one TU (see Foundation.hpp's gate).
// Does NOT emulate: textures, blit and render encoders, heaps, events, fences, indirect
// dispatch, managed storage, private storage's separate memory (a kernel writing it is visible
// to nothing else anyway), GPU timing, the Objective-C block variants of the handlers, and
// anything about performance.
#pragma once

#include <Foundation/Foundation.hpp>

#include <algorithm>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "facepost_msl/registry.hpp"

extern "C" volatile int facepost_fake_mtl_private_implementation;
#ifdef MTL_PRIVATE_IMPLEMENTATION
extern "C" {
volatile int facepost_fake_mtl_private_implementation = 1;
}
#endif

namespace MTL {

struct Size {
  Size() = default;
  Size(NS::UInteger w, NS::UInteger h, NS::UInteger d) : width(w), height(h), depth(d) {}
  static Size Make(NS::UInteger w, NS::UInteger h, NS::UInteger d) { return Size(w, h, d); }
  NS::UInteger width = 0, height = 0, depth = 0;
};

enum ResourceOptions : NS::UInteger {
  ResourceCPUCacheModeDefaultCache = 0,
  ResourceCPUCacheModeWriteCombined = 1,
  ResourceStorageModeShared = 0,
  ResourceStorageModeManaged = 16,
  ResourceStorageModePrivate = 32,
  ResourceStorageModeMemoryless = 48,
  ResourceHazardTrackingModeDefault = 0,
  ResourceHazardTrackingModeUntracked = 256,
  ResourceHazardTrackingModeTracked = 512,
};
inline ResourceOptions operator|(ResourceOptions a, ResourceOptions b) {
  return static_cast<ResourceOptions>(static_cast<NS::UInteger>(a) | static_cast<NS::UInteger>(b));
}
enum StorageMode : NS::UInteger { StorageModeShared = 0, StorageModeManaged = 1, StorageModePrivate = 2, StorageModeMemoryless = 3 };

enum LanguageVersion : NS::UInteger {
  LanguageVersion1_0 = 65536,
  LanguageVersion1_1 = 65537,
  LanguageVersion1_2 = 65538,
  LanguageVersion2_0 = 131072,
  LanguageVersion2_1 = 131073,
  LanguageVersion2_2 = 131074,
  LanguageVersion2_3 = 131075,
  LanguageVersion2_4 = 131076,
  LanguageVersion3_0 = 196608,
  LanguageVersion3_1 = 196609,
  LanguageVersion3_2 = 196610,
};
enum MathMode : NS::Integer { MathModeSafe = 0, MathModeRelaxed = 1, MathModeFast = 2 };
enum MathFloatingPointFunctions : NS::Integer {
  MathFloatingPointFunctionsFast = 0,
  MathFloatingPointFunctionsPrecise = 1,
};
enum LibraryError : NS::UInteger {
  LibraryErrorUnsupported = 1,
  LibraryErrorInternal = 2,
  LibraryErrorCompileFailure = 3,
  LibraryErrorCompileWarning = 4,
  LibraryErrorFunctionNotFound = 5,
  LibraryErrorFileNotFound = 6,
};
enum CommandBufferStatus : NS::UInteger {
  CommandBufferStatusNotEnqueued = 0,
  CommandBufferStatusEnqueued = 1,
  CommandBufferStatusCommitted = 2,
  CommandBufferStatusScheduled = 3,
  CommandBufferStatusCompleted = 4,
  CommandBufferStatusError = 5,
};
enum CommandBufferError : NS::UInteger { CommandBufferErrorNone = 0, CommandBufferErrorInternal = 1 };
enum BarrierScope : NS::UInteger { BarrierScopeBuffers = 1, BarrierScopeTextures = 2, BarrierScopeRenderTargets = 4 };
enum DispatchType : NS::UInteger { DispatchTypeSerial = 0, DispatchTypeConcurrent = 1 };
enum GPUFamily : NS::Integer {
  GPUFamilyApple7 = 1007,
  GPUFamilyApple8 = 1008,
  GPUFamilyApple9 = 1009,
  GPUFamilyMac2 = 2002,
  GPUFamilyCommon3 = 3003,
  GPUFamilyMetal3 = 5001,
};

class Device;
class CommandBuffer;
using HandlerFunction = std::function<void(CommandBuffer*)>;

}  // namespace MTL

namespace facepost_metal_fake {

/// What one newLibrary call was given (Metal's defaults where the host set nothing).
struct CompileRecord {
  std::string library;  // the .metal file's name ("" when the source matched none)
  bool succeeded = false;
  bool options_given = false;
  bool fast_math_enabled = true;  // Metal's default
  bool math_mode_set = false;
  MTL::MathMode math_mode = MTL::MathModeFast;
  bool fp_functions_set = false;
  MTL::MathFloatingPointFunctions fp_functions = MTL::MathFloatingPointFunctionsFast;
  bool language_version_set = false;
  MTL::LanguageVersion language_version = MTL::LanguageVersion3_1;
};
namespace state {
inline std::mutex compile_mutex;
inline std::vector<CompileRecord> compiles;
inline std::atomic<long> fail_command_buffers{0};
inline std::atomic<long> committed{0};
inline constexpr NS::UInteger max_threads_per_threadgroup = 1024;
}  // namespace state
inline std::vector<CompileRecord> compile_records() {
  std::lock_guard<std::mutex> lk(state::compile_mutex);
  return state::compiles;
}
inline void clear_compile_records() {
  std::lock_guard<std::mutex> lk(state::compile_mutex);
  state::compiles.clear();
}
/// The next n committed command buffers fail (CommandBufferStatusError, nothing runs).
inline void fail_next_command_buffers(long n) { state::fail_command_buffers = n; }
inline long committed_command_buffers() { return state::committed; }

/// The "GPU": runs committed work in commit order on one thread.
class Gpu {
 public:
  static Gpu& get() {
    static Gpu g;
    return g;
  }
  void submit(std::function<void()> work) {
    std::lock_guard<std::mutex> lk(m_);
    queue_.push_back(std::move(work));
    cv_.notify_all();
  }
  ~Gpu() {
    {
      std::lock_guard<std::mutex> lk(m_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

 private:
  Gpu() : thread_([this] { run(); }) {}
  void run() {
    for (;;) {
      std::function<void()> w;
      {
        std::unique_lock<std::mutex> lk(m_);
        cv_.wait(lk, [&] { return stop_ || !queue_.empty(); });
        if (queue_.empty()) return;
        w = std::move(queue_.front());
        queue_.pop_front();
      }
      w();
    }
  }
  std::mutex m_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace facepost_metal_fake

namespace MTL {

class Resource : public NS::Referencing<Resource> {
 public:
  Device* device() const { return device_; }
  StorageMode storageMode() const { return storage_; }

 protected:
  Resource(const char* cls, Device* d, StorageMode s) : Referencing(cls), device_(d), storage_(s) {}
  Device* device_;
  StorageMode storage_;
};

class Buffer : public NS::Referencing<Buffer, Resource> {
 public:
  /// The CPU's view: nullptr for private storage.
  void* contents() { return storage_ == StorageModePrivate ? nullptr : data_; }
  NS::UInteger length() const { return length_; }
  /// The fake's accessor to the memory the GPU sees (not metal-cpp).
  unsigned char* gpuMemory() const { return data_; }

 protected:
  void dispose() override {
    std::memset(data_, facepost_simt::kPoison, length_);
    std::free(data_);
    data_ = nullptr;
  }

 private:
  friend class Device;
  Buffer(Device* d, StorageMode s, NS::UInteger length) : Referencing("MTL::Buffer", d, s), length_(length) {
    const std::size_t rounded = (length + 255) / 256 * 256;
    data_ = static_cast<unsigned char*>(std::aligned_alloc(256, rounded));
    if (data_ == nullptr) facepost_metal_fake::validation_error("out of memory");
    std::memset(data_, facepost_simt::kPoison, rounded);
  }
  unsigned char* data_ = nullptr;
  NS::UInteger length_;
};

class CompileOptions : public NS::Referencing<CompileOptions> {
 public:
  static CompileOptions* alloc() { return new CompileOptions(); }
  CompileOptions* init() { return this; }
  void setFastMathEnabled(bool b) { r_.fast_math_enabled = b; }
  bool fastMathEnabled() const { return r_.fast_math_enabled; }
  void setMathMode(MathMode m) {
    r_.math_mode = m;
    r_.math_mode_set = true;
  }
  MathMode mathMode() const { return r_.math_mode; }
  void setMathFloatingPointFunctions(MathFloatingPointFunctions f) {
    r_.fp_functions = f;
    r_.fp_functions_set = true;
  }
  MathFloatingPointFunctions mathFloatingPointFunctions() const { return r_.fp_functions; }
  void setLanguageVersion(LanguageVersion v) {
    r_.language_version = v;
    r_.language_version_set = true;
  }
  LanguageVersion languageVersion() const { return r_.language_version; }
  const facepost_metal_fake::CompileRecord& record() const { return r_; }

 private:
  CompileOptions() : Referencing("MTL::CompileOptions") {}
  facepost_metal_fake::CompileRecord r_;
};

class Function : public NS::Referencing<Function> {
 public:
  NS::String* name() const { return name_; }
  Device* device() const { return device_; }
  const facepost_msl::Kernel* kernel() const { return kernel_; }

 protected:
  void dispose() override { name_->release(); }

 private:
  friend class Library;
  Function(Device* d, const facepost_msl::Kernel* k)
      : Referencing("MTL::Function"), device_(d), kernel_(k),
        name_(NS::String::alloc()->init(k->name, NS::UTF8StringEncoding)) {}
  Device* device_;
  const facepost_msl::Kernel* kernel_;
  NS::String* name_;
};

class Library : public NS::Referencing<Library> {
 public:
  /// A new function (+1), or nullptr when the library has no kernel of that name.
  Function* newFunction(const NS::String* name) {
    if (name == nullptr) return nullptr;
    const facepost_msl::Kernel* k = lib_->find(name->str());
    return k == nullptr ? nullptr : new Function(device_, k);
  }
  Device* device() const { return device_; }
  const facepost_msl::Library* shimLibrary() const { return lib_; }

 private:
  friend class Device;
  Library(Device* d, const facepost_msl::Library* l) : Referencing("MTL::Library"), device_(d), lib_(l) {}
  Device* device_;
  const facepost_msl::Library* lib_;
};

class ComputePipelineState : public NS::Referencing<ComputePipelineState> {
 public:
  NS::UInteger maxTotalThreadsPerThreadgroup() const { return facepost_metal_fake::state::max_threads_per_threadgroup; }
  NS::UInteger threadExecutionWidth() const { return width_; }
  NS::UInteger staticThreadgroupMemoryLength() const { return 0; }
  Device* device() const { return device_; }
  const facepost_msl::Kernel* kernel() const { return kernel_; }

 private:
  friend class Device;
  ComputePipelineState(Device* d, const facepost_msl::Kernel* k, unsigned width)
      : Referencing("MTL::ComputePipelineState"), device_(d), kernel_(k), width_(width) {}
  Device* device_;
  const facepost_msl::Kernel* kernel_;
  unsigned width_;
};

namespace detail {
/// One recorded command of a compute encoder.
struct Command {
  bool barrier = false;  // memoryBarrier (concurrent encoders)
  ComputePipelineState* pipeline = nullptr;
  struct Binding {
    Buffer* buffer = nullptr;
    NS::UInteger offset = 0;
    std::shared_ptr<std::vector<unsigned char>> bytes;  // setBytes data
    bool bound = false;
  };
  Binding buffers[facepost_msl::kMaxBufferBindings];
  NS::UInteger threadgroup_length[facepost_msl::kMaxThreadgroupBindings] = {};
  bool threadgroup_bound[facepost_msl::kMaxThreadgroupBindings] = {};
  facepost_msl::Size3 groups, per_group, threads;
  bool by_threads = false;
};
}  // namespace detail

class CommandEncoder : public NS::Referencing<CommandEncoder> {
 public:
  virtual void endEncoding() = 0;
  Device* device() const { return device_; }

 protected:
  CommandEncoder(const char* cls, Device* d) : Referencing(cls), device_(d) {}
  Device* device_;
};

class CommandQueue : public NS::Referencing<CommandQueue> {
 public:
  /// An autoreleased command buffer.
  CommandBuffer* commandBuffer();
  Device* device() const { return device_; }

 private:
  friend class Device;
  explicit CommandQueue(Device* d) : Referencing("MTL::CommandQueue"), device_(d) {}
  Device* device_;
};

class ComputeCommandEncoder;

class CommandBuffer : public NS::Referencing<CommandBuffer> {
 public:
  ComputeCommandEncoder* computeCommandEncoder() { return computeCommandEncoder(DispatchTypeSerial); }
  ComputeCommandEncoder* computeCommandEncoder(DispatchType type);
  void addCompletedHandler(const HandlerFunction& f) {
    if (status() != CommandBufferStatusNotEnqueued)
      facepost_metal_fake::validation_error("addCompletedHandler after commit");
    handlers_.push_back(f);
  }
  void enqueue() {}
  void commit();
  void waitUntilCompleted() {
    if (status() == CommandBufferStatusNotEnqueued)
      facepost_metal_fake::validation_error("waitUntilCompleted on a command buffer that was not committed");
    std::unique_lock<std::mutex> lk(m_);
    cv_.wait(lk, [&] { return done_; });
  }
  void waitUntilScheduled() { waitUntilCompleted(); }
  CommandBufferStatus status() const { return status_.load(std::memory_order_acquire); }
  /// The error of a failed command buffer (owned by it), or nullptr.
  NS::Error* error() const { return status() == CommandBufferStatusError ? error_ : nullptr; }
  CommandQueue* commandQueue() const { return queue_; }
  Device* device() const { return queue_->device(); }

 protected:
  void dispose() override {
    if (error_) error_->release();
    release_commands();
    queue_->release();
  }

 private:
  friend class CommandQueue;
  friend class ComputeCommandEncoder;
  explicit CommandBuffer(CommandQueue* q) : Referencing("MTL::CommandBuffer"), queue_(q->retain()) {}
  void release_commands() {
    for (detail::Command& c : commands_) {
      if (c.pipeline) c.pipeline->release();
      for (auto& b : c.buffers)
        if (b.buffer) b.buffer->release();
    }
    commands_.clear();
  }
  void execute();
  CommandQueue* queue_;
  std::vector<detail::Command> commands_;
  std::vector<std::pair<std::size_t, std::size_t>> concurrent_ranges_;  // [begin, end) of concurrent encoders
  std::vector<HandlerFunction> handlers_;
  ComputeCommandEncoder* open_encoder_ = nullptr;
  std::atomic<CommandBufferStatus> status_{CommandBufferStatusNotEnqueued};
  NS::Error* error_ = nullptr;
  std::mutex m_;
  std::condition_variable cv_;
  bool done_ = false;
};

class ComputeCommandEncoder : public NS::Referencing<ComputeCommandEncoder, CommandEncoder> {
 public:
  DispatchType dispatchType() const { return type_; }
  void setComputePipelineState(const ComputePipelineState* p) {
    check_open("setComputePipelineState");
    pipeline_ = const_cast<ComputePipelineState*>(p);
  }
  void setBuffer(const Buffer* b, NS::UInteger offset, NS::UInteger index) {
    check_open("setBuffer");
    check_index(index, "setBuffer");
    if (b != nullptr && offset > b->length())
      facepost_metal_fake::validation_error("setBuffer: offset " + std::to_string(offset) + " beyond the buffer's " +
                                            std::to_string(b->length()) + " bytes (index " + std::to_string(index) +
                                            ")");
    detail::Command::Binding& x = state_.buffers[index];
    x = detail::Command::Binding{};
    x.buffer = const_cast<Buffer*>(b);
    x.offset = offset;
    x.bound = b != nullptr;
  }
  void setBufferOffset(NS::UInteger offset, NS::UInteger index) {
    check_open("setBufferOffset");
    check_index(index, "setBufferOffset");
    if (!state_.buffers[index].buffer) facepost_metal_fake::validation_error("setBufferOffset of an unbound index");
    state_.buffers[index].offset = offset;
  }
  void setBytes(const void* bytes, NS::UInteger length, NS::UInteger index) {
    check_open("setBytes");
    check_index(index, "setBytes");
    if (length > 4096)
      facepost_metal_fake::validation_error("setBytes: " + std::to_string(length) +
                                            " bytes (more than 4 KiB: use a buffer)");
    detail::Command::Binding& x = state_.buffers[index];
    x = detail::Command::Binding{};
    x.bytes = std::make_shared<std::vector<unsigned char>>(static_cast<const unsigned char*>(bytes),
                                                           static_cast<const unsigned char*>(bytes) + length);
    x.bound = true;
  }
  void setThreadgroupMemoryLength(NS::UInteger length, NS::UInteger index) {
    check_open("setThreadgroupMemoryLength");
    if (index >= facepost_msl::kMaxThreadgroupBindings)
      facepost_metal_fake::validation_error("setThreadgroupMemoryLength: index " + std::to_string(index) +
                                            " out of range");
    if (length % 16 != 0)
      facepost_metal_fake::validation_error("setThreadgroupMemoryLength: " + std::to_string(length) +
                                            " bytes is not a multiple of 16 (index " + std::to_string(index) + ")");
    state_.threadgroup_length[index] = length;
    state_.threadgroup_bound[index] = true;
  }
  void dispatchThreadgroups(Size threadgroupsPerGrid, Size threadsPerThreadgroup) {
    dispatch("dispatchThreadgroups", threadgroupsPerGrid, threadsPerThreadgroup, nullptr);
  }
  void dispatchThreads(Size threadsPerGrid, Size threadsPerThreadgroup) {
    auto up = [](NS::UInteger n, NS::UInteger d) { return d == 0 ? 0 : (n + d - 1) / d; };
    const Size groups(up(threadsPerGrid.width, threadsPerThreadgroup.width),
                      up(threadsPerGrid.height, threadsPerThreadgroup.height),
                      up(threadsPerGrid.depth, threadsPerThreadgroup.depth));
    dispatch("dispatchThreads", groups, threadsPerThreadgroup, &threadsPerGrid);
  }
  void memoryBarrier(BarrierScope) {
    check_open("memoryBarrier");
    detail::Command c;
    c.barrier = true;
    cb_->commands_.push_back(c);
  }
  void endEncoding() override {
    check_open("endEncoding");
    ended_ = true;
    if (type_ == DispatchTypeConcurrent) cb_->concurrent_ranges_.emplace_back(begin_, cb_->commands_.size());
    cb_->open_encoder_ = nullptr;
  }

 protected:
  void dispose() override { cb_->release(); }

 private:
  friend class CommandBuffer;
  ComputeCommandEncoder(CommandBuffer* cb, DispatchType t)
      : Referencing("MTL::ComputeCommandEncoder", cb->device()), cb_(cb->retain()), type_(t),
        begin_(cb->commands_.size()) {}
  void check_open(const char* op) const {
    if (ended_) facepost_metal_fake::validation_error(std::string(op) + " after endEncoding");
    if (cb_->status() != CommandBufferStatusNotEnqueued)
      facepost_metal_fake::validation_error(std::string(op) + " on a committed command buffer");
  }
  static void check_index(NS::UInteger index, const char* op) {
    if (index >= facepost_msl::kMaxBufferBindings)
      facepost_metal_fake::validation_error(std::string(op) + ": index " + std::to_string(index) + " out of range");
  }
  void dispatch(const char* op, Size groups, Size per_group, const Size* threads) {
    check_open(op);
    if (pipeline_ == nullptr) facepost_metal_fake::validation_error(std::string(op) + " without a pipeline state");
    const NS::UInteger n = per_group.width * per_group.height * per_group.depth;
    if (n == 0 || groups.width * groups.height * groups.depth == 0)
      facepost_metal_fake::validation_error(std::string(op) + ": an empty grid or threadgroup");
    if (n > pipeline_->maxTotalThreadsPerThreadgroup() || per_group.width > 1024 || per_group.height > 1024 ||
        per_group.depth > 1024)
      facepost_metal_fake::validation_error(std::string(op) + ": " + std::to_string(n) +
                                            " threads per threadgroup, more than the pipeline's " +
                                            std::to_string(pipeline_->maxTotalThreadsPerThreadgroup()));
    NS::UInteger tg_total = 0;
    for (unsigned i = 0; i < facepost_msl::kMaxThreadgroupBindings; ++i) tg_total += state_.threadgroup_length[i];
    if (tg_total > facepost_msl::kMaxThreadgroupMemory)
      facepost_metal_fake::validation_error(std::string(op) + ": " + std::to_string(tg_total) +
                                            " bytes of threadgroup memory, more than 32 KiB");
    // The kernel's parameter table against the bindings (no memory yet for threadgroup memory).
    facepost_msl::Invocation inv;
    inv.kernel = pipeline_->kernel()->name;
    for (unsigned i = 0; i < facepost_msl::kMaxBufferBindings; ++i) {
      const detail::Command::Binding& b = state_.buffers[i];
      if (!b.bound) continue;
      inv.buffers[i].bound = true;
      if (b.bytes) {
        inv.buffers[i].data = b.bytes->data();
        inv.buffers[i].length = b.bytes->size();
      } else {
        inv.buffers[i].data = b.buffer->gpuMemory() + b.offset;
        inv.buffers[i].length = b.buffer->length() - b.offset;
      }
    }
    for (unsigned i = 0; i < facepost_msl::kMaxThreadgroupBindings; ++i) {
      inv.threadgroup[i].bound = state_.threadgroup_bound[i];
      inv.threadgroup[i].length = state_.threadgroup_length[i];
    }
    const std::string problem = facepost_msl::check_bindings(*pipeline_->kernel(), inv);
    if (!problem.empty()) facepost_metal_fake::validation_error(std::string(op) + ": " + problem);

    detail::Command c = state_;
    c.pipeline = pipeline_->retain();
    for (auto& b : c.buffers)
      if (b.buffer) b.buffer->retain();
    c.groups = facepost_msl::Size3{groups.width, groups.height, groups.depth};
    c.per_group = facepost_msl::Size3{per_group.width, per_group.height, per_group.depth};
    if (threads != nullptr) {
      c.by_threads = true;
      c.threads = facepost_msl::Size3{threads->width, threads->height, threads->depth};
    }
    cb_->commands_.push_back(std::move(c));
  }
  CommandBuffer* cb_;
  DispatchType type_;
  std::size_t begin_;
  bool ended_ = false;
  ComputePipelineState* pipeline_ = nullptr;
  detail::Command state_;  // the current bindings
};

inline ComputeCommandEncoder* CommandBuffer::computeCommandEncoder(DispatchType type) {
  if (status() != CommandBufferStatusNotEnqueued)
    facepost_metal_fake::validation_error("computeCommandEncoder on a committed command buffer");
  if (open_encoder_ != nullptr)
    facepost_metal_fake::validation_error("computeCommandEncoder while another encoder has not ended");
  open_encoder_ = new ComputeCommandEncoder(this, type);
  return open_encoder_->autorelease();
}

inline void CommandBuffer::commit() {
  if (status() != CommandBufferStatusNotEnqueued) facepost_metal_fake::validation_error("commit: committed twice");
  if (open_encoder_ != nullptr) facepost_metal_fake::validation_error("commit with an encoder that has not ended");
  ++facepost_metal_fake::state::committed;
  status_.store(CommandBufferStatusCommitted, std::memory_order_release);
  retain();  // the GPU holds the command buffer until it completes
  facepost_metal_fake::Gpu::get().submit([this] { execute(); });
}

inline void CommandBuffer::execute() {
  status_.store(CommandBufferStatusScheduled, std::memory_order_release);
  long f = facepost_metal_fake::state::fail_command_buffers.load();
  bool fail = false;
  while (f > 0 && !(fail = facepost_metal_fake::state::fail_command_buffers.compare_exchange_weak(f, f - 1))) {
  }
  if (fail) {
    error_ = NS::Error::alloc()->init("MTLCommandBufferErrorDomain", CommandBufferErrorInternal,
                                      "facepost_metal_fake: injected command buffer failure");
  } else {
    // The order of execution: serial encoders in order; concurrent ones reversed between barriers.
    std::vector<std::size_t> order(commands_.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    for (const auto& r : concurrent_ranges_) {
      std::size_t s = r.first;
      for (std::size_t i = r.first; i <= r.second; ++i)
        if (i == r.second || commands_[i].barrier) {
          std::reverse(order.begin() + static_cast<std::ptrdiff_t>(s), order.begin() + static_cast<std::ptrdiff_t>(i));
          s = i + 1;
        }
    }
    for (std::size_t i : order) {
      const detail::Command& c = commands_[i];
      if (c.barrier) continue;
      facepost_msl::Invocation inv;
      inv.kernel = c.pipeline->kernel()->name;
      for (unsigned j = 0; j < facepost_msl::kMaxBufferBindings; ++j) {
        const detail::Command::Binding& b = c.buffers[j];
        if (!b.bound) continue;
        inv.buffers[j].bound = true;
        if (b.bytes) {
          inv.buffers[j].data = b.bytes->data();
          inv.buffers[j].length = b.bytes->size();
        } else {
          inv.buffers[j].data = b.buffer->gpuMemory() + b.offset;
          inv.buffers[j].length = b.buffer->length() - b.offset;
        }
      }
      for (unsigned j = 0; j < facepost_msl::kMaxThreadgroupBindings; ++j) {
        inv.threadgroup[j].bound = c.threadgroup_bound[j];
        inv.threadgroup[j].length = c.threadgroup_length[j];
      }
      facepost_msl::dispatch(*c.pipeline->kernel(), inv, c.groups, c.per_group, c.by_threads ? &c.threads : nullptr,
                             static_cast<unsigned>(c.pipeline->threadExecutionWidth()));
    }
  }
  release_commands();  // what the command buffer retained
  status_.store(fail ? CommandBufferStatusError : CommandBufferStatusCompleted, std::memory_order_release);
  for (const HandlerFunction& h : handlers_) h(this);
  // The GPU's reference goes before waitUntilCompleted returns, so that a host that has released
  // everything after the wait sees no live object. (Shells are never freed: touching m_ and cv_
  // after a last release is safe.)
  release();
  {
    std::lock_guard<std::mutex> lk(m_);
    done_ = true;
  }
  cv_.notify_all();
}

inline CommandBuffer* CommandQueue::commandBuffer() { return (new CommandBuffer(this))->autorelease(); }

class Device : public NS::Referencing<Device> {
 public:
  NS::String* name() const { return name_; }
  Size maxThreadsPerThreadgroup() const { return Size(1024, 1024, 1024); }
  NS::UInteger maxThreadgroupMemoryLength() const { return facepost_msl::kMaxThreadgroupMemory; }
  bool hasUnifiedMemory() const { return true; }
  bool supportsFamily(GPUFamily) const { return true; }

  Buffer* newBuffer(NS::UInteger length, ResourceOptions options) {
    const StorageMode mode = storage_mode(options, length);
    return new Buffer(this, mode, length);
  }
  Buffer* newBuffer(const void* pointer, NS::UInteger length, ResourceOptions options) {
    Buffer* b = new Buffer(this, storage_mode(options, length), length);
    std::memcpy(b->gpuMemory(), pointer, length);
    return b;
  }
  CommandQueue* newCommandQueue() { return new CommandQueue(this); }
  CommandQueue* newCommandQueue(NS::UInteger) { return newCommandQueue(); }

  /// A library (+1) if source is exactly the text of a .metal file compiled into the program;
  /// otherwise nullptr and *error an autoreleased NS::Error.
  Library* newLibrary(const NS::String* source, const CompileOptions* options, NS::Error** error) {
    facepost_metal_fake::CompileRecord r;
    if (options != nullptr) r = options->record();
    r.options_given = options != nullptr;
    const facepost_msl::Library* lib =
        source == nullptr ? nullptr : facepost_msl::find_library(source->str().data(), source->str().size());
    r.succeeded = lib != nullptr;
    r.library = lib != nullptr ? lib->name : "";
    {
      std::lock_guard<std::mutex> lk(facepost_metal_fake::state::compile_mutex);
      facepost_metal_fake::state::compiles.push_back(r);
    }
    if (lib == nullptr) {
      if (error != nullptr)
        *error = NS::Error::alloc()
                     ->init("MTLLibraryErrorDomain", LibraryErrorCompileFailure,
                            "facepost_metal_fake: the source is not the text of any .metal file compiled into this "
                            "program (the shim runs only what it compiled)")
                     ->autorelease();
      return nullptr;
    }
    if (error != nullptr) *error = nullptr;
    return new Library(this, lib);
  }
  ComputePipelineState* newComputePipelineState(const Function* f, NS::Error** error) {
    if (f == nullptr) facepost_metal_fake::validation_error("newComputePipelineState with a null function");
    if (error != nullptr) *error = nullptr;
    return new ComputePipelineState(this, f->kernel(), static_cast<unsigned>(facepost_msl::simd_width()));
  }

 protected:
  void dispose() override { name_->release(); }

 private:
  friend Device* CreateSystemDefaultDevice();
  Device()
      : Referencing("MTL::Device"),
        name_(NS::String::alloc()->init("facepost Metal shim (CPU)", NS::UTF8StringEncoding)) {}
  static StorageMode storage_mode(ResourceOptions options, NS::UInteger length) {
    if (length == 0) facepost_metal_fake::validation_error("newBuffer of length 0");
    switch (static_cast<NS::UInteger>(options) & 0xF0u) {
      case ResourceStorageModeShared: return StorageModeShared;
      case ResourceStorageModePrivate: return StorageModePrivate;
      default: facepost_metal_fake::validation_error("newBuffer: only shared and private storage are emulated");
    }
  }
  NS::String* name_;
};

/// A new device (+1).
inline Device* CreateSystemDefaultDevice() {
  (void)facepost_fake_mtl_private_implementation;  // the implementation gate
  return new Device();
}

}  // namespace MTL
