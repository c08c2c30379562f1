// facepost_msl/registry.hpp (tests/metal/shim) - the kernels of the .metal files compiled into a
// program by the shim, and the dispatch of one of them on the SIMT executor. Host-side: it
// includes no MSL type, so the fake metal-cpp (tests/metal/shim/include/Metal) uses it too.
//
// tests/metal/shim/gen_bindings.py writes, for a .metal file, a translation unit that includes
// the file and registers a Library: its source text and, for every non-template
// `kernel void name(...)`, an adapter that builds the kernel's arguments from an Invocation
// (bound buffers, setBytes data, threadgroup memory) and a ThreadPosition, and the table of its
// parameters (what the host must bind, checked before a dispatch runs).
//
// Execution model of dispatch(): threadgroups run one after another (the order of the grid,
// x fastest), the threads of one threadgroup concurrently (one OS thread each, see
// tests/support/simt/executor.hpp), cut into simdgroups of the dispatch's SIMD width; the
// threadgroup memory is allocated per dispatch and filled with 0xFF before every threadgroup.
// Does NOT emulate: threadgroups running concurrently, indirect dispatch, function constants,
// argument buffers, textures and samplers, stage-in.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "simt/executor.hpp"

namespace facepost_msl {

inline constexpr unsigned kMaxBufferBindings = 31;       // Metal's buffer argument table
inline constexpr unsigned kMaxThreadgroupBindings = 31;  // threadgroup memory indices
inline constexpr std::size_t kMaxThreadgroupMemory = 32768;

[[noreturn]] inline void fatal(const std::string& what) {
  std::fprintf(stderr, "facepost_msl: %s\n", what.c_str());
  std::fflush(stderr);
  std::abort();
}

namespace state {
inline std::atomic<int> simd_width{32};
inline std::atomic<long> dispatches{0};
inline std::atomic<long> threadgroups{0};
}  // namespace state

/// Threads per simdgroup of the next dispatches (1..32, or 64; Apple GPUs: 32).
inline void set_simd_width(int w) {
  if (w < 1 || (w > 32 && w != 64)) fatal("SIMD width " + std::to_string(w) + " outside 1..32 and not 64");
  state::simd_width = w;
}
inline int simd_width() { return state::simd_width; }
inline long dispatch_count() { return state::dispatches; }
inline long threadgroup_count() { return state::threadgroups; }

/// The position attributes a kernel parameter may take.
enum class Attribute {
  thread_position_in_grid,
  thread_position_in_threadgroup,
  threadgroup_position_in_grid,
  threads_per_threadgroup,
  threadgroups_per_grid,
  threads_per_grid,
  thread_index_in_threadgroup,
  thread_index_in_simdgroup,
  simdgroup_index_in_threadgroup,
  threads_per_simdgroup,
  thread_execution_width,
  simdgroups_per_threadgroup,
};

/// The position of one thread (every attribute; 3-component ones as x, y, z).
struct ThreadPosition {
  unsigned thread_position_in_grid[3];
  unsigned thread_position_in_threadgroup[3];
  unsigned threadgroup_position_in_grid[3];
  unsigned threads_per_threadgroup[3];
  unsigned threadgroups_per_grid[3];
  unsigned threads_per_grid[3];
  unsigned thread_index_in_threadgroup;
  unsigned thread_index_in_simdgroup;
  unsigned simdgroup_index_in_threadgroup;
  unsigned threads_per_simdgroup;
  unsigned simdgroups_per_threadgroup;
  /// The attribute as 3 components (a scalar one in [0], the others 0).
  void get(Attribute a, unsigned (&out)[3]) const {
    const unsigned* v = nullptr;
    unsigned s = 0;
    switch (a) {
      case Attribute::thread_position_in_grid: v = thread_position_in_grid; break;
      case Attribute::thread_position_in_threadgroup: v = thread_position_in_threadgroup; break;
      case Attribute::threadgroup_position_in_grid: v = threadgroup_position_in_grid; break;
      case Attribute::threads_per_threadgroup: v = threads_per_threadgroup; break;
      case Attribute::threadgroups_per_grid: v = threadgroups_per_grid; break;
      case Attribute::threads_per_grid: v = threads_per_grid; break;
      case Attribute::thread_index_in_threadgroup: s = thread_index_in_threadgroup; break;
      case Attribute::thread_index_in_simdgroup: s = thread_index_in_simdgroup; break;
      case Attribute::simdgroup_index_in_threadgroup: s = simdgroup_index_in_threadgroup; break;
      case Attribute::threads_per_simdgroup:
      case Attribute::thread_execution_width: s = threads_per_simdgroup; break;
      case Attribute::simdgroups_per_threadgroup: s = simdgroups_per_threadgroup; break;
    }
    if (v != nullptr) {
      out[0] = v[0], out[1] = v[1], out[2] = v[2];
    } else {
      out[0] = s, out[1] = 0, out[2] = 0;
    }
  }
};

/// What a dispatch binds: shared (read-only) by all the threads of the dispatch.
struct Invocation {
  const char* kernel = "";
  struct Buffer {
    unsigned char* data = nullptr;  // the buffer's contents plus the offset (setBytes: a copy)
    std::size_t length = 0;         // bytes from data to the end of the buffer
    bool bound = false;
  };
  Buffer buffers[kMaxBufferBindings];
  Buffer threadgroup[kMaxThreadgroupBindings];  // this dispatch's threadgroup memory

  [[noreturn]] void missing(const char* what, unsigned index) const {
    fatal(std::string("kernel ") + kernel + ": " + what + " index " + std::to_string(index) + " is not bound");
  }
  const Buffer& buffer(unsigned index) const {
    if (index >= kMaxBufferBindings || !buffers[index].bound) missing("buffer", index);
    return buffers[index];
  }
  const Buffer& threadgroup_memory(unsigned index) const {
    if (index >= kMaxThreadgroupBindings || !threadgroup[index].bound) missing("threadgroup memory", index);
    return threadgroup[index];
  }
};

using Adapter = void (*)(const Invocation&, const ThreadPosition&);

// (Not `threadgroup`: the generated code that names these follows the MSL macros.)
enum class ParamKind { buffer_binding, threadgroup_binding, position_attribute };
struct Param {
  ParamKind kind;
  unsigned index;  // buffer or threadgroup index
  Attribute attribute;
  const char* name;
  const char* type;          // as written in the .metal file
  std::size_t pointee_size;  // of the pointed-to or referenced type (void: 1)
  std::size_t pointee_align;
  bool reference;  // `constant T& p [[buffer(i)]]`: the buffer must hold a T
};

struct Kernel {
  const char* name;
  Adapter adapter;
  std::vector<Param> params;
};

struct Library {
  const char* name;  // the .metal file's name
  const char* source;
  std::size_t source_length;
  std::vector<Kernel> kernels;
  const Kernel* find(const std::string& kernel_name) const {
    for (const Kernel& k : kernels)
      if (kernel_name == k.name) return &k;
    return nullptr;
  }
  bool source_equals(const char* text, std::size_t n) const {
    return n == source_length && std::memcmp(text, source, n) == 0;
  }
};

inline std::vector<const Library*>& libraries() {
  static std::vector<const Library*> all;
  return all;
}
/// The library whose source text is exactly text[0, n), or nullptr.
inline const Library* find_library(const char* text, std::size_t n) {
  for (const Library* l : libraries())
    if (l->source_equals(text, n)) return l;
  return nullptr;
}
inline const Library* find_library_by_name(const std::string& name) {
  for (const Library* l : libraries())
    if (name == l->name) return l;
  return nullptr;
}
struct LibraryRegistrar {
  explicit LibraryRegistrar(const Library* l) { libraries().push_back(l); }
};

/// Checks inv against k's parameter table; returns an empty string or what is wrong (the
/// kernel and the index named).
inline std::string check_bindings(const Kernel& k, const Invocation& inv) {
  for (const Param& p : k.params) {
    if (p.kind == ParamKind::position_attribute) continue;
    const bool tg = p.kind == ParamKind::threadgroup_binding;
    const Invocation::Buffer& b = tg ? inv.threadgroup[p.index] : inv.buffers[p.index];
    const std::string where = std::string("kernel ") + k.name + ": " + (tg ? "threadgroup memory" : "buffer") +
                              " index " + std::to_string(p.index) + " (parameter " + p.name + ")";
    if (!b.bound) return where + " is not bound";
    if (p.reference && b.length < p.pointee_size)
      return where + " holds " + std::to_string(b.length) + " bytes, less than its type " + p.type + " (" +
             std::to_string(p.pointee_size) + " bytes)";
    if (b.data != nullptr && reinterpret_cast<std::uintptr_t>(b.data) % p.pointee_align != 0)
      return where + " is not aligned to " + std::to_string(p.pointee_align) + " bytes (offset?)";
  }
  return {};
}

struct Size3 {
  unsigned long x = 1, y = 1, z = 1;
  unsigned long count() const { return x * y * z; }
};

/// Runs kernel k over the grid: `groups` threadgroups of `per_group` threads each; with
/// threads_per_grid (dispatchThreads) the threadgroups at the grid's upper edges are partial.
/// threadgroup_lengths: the threadgroup memory of each bound index (inv.threadgroup's lengths).
/// width: the SIMD width (the pipeline's threadExecutionWidth).
inline void dispatch(const Kernel& k, Invocation inv, Size3 groups, Size3 per_group, const Size3* threads_per_grid,
                     unsigned width) {
  // Threadgroup memory: one block per dispatch, 16-byte aligned pieces, poisoned per threadgroup.
  std::size_t total = 0;
  std::size_t offsets[kMaxThreadgroupBindings] = {};
  for (unsigned i = 0; i < kMaxThreadgroupBindings; ++i)
    if (inv.threadgroup[i].bound) {
      offsets[i] = total;
      total += (inv.threadgroup[i].length + 15) / 16 * 16;
    }
  std::vector<unsigned char> tg_memory_storage(total + 64);
  unsigned char* tg_memory = tg_memory_storage.data();
  tg_memory += (64 - reinterpret_cast<std::uintptr_t>(tg_memory) % 64) % 64;
  for (unsigned i = 0; i < kMaxThreadgroupBindings; ++i)
    if (inv.threadgroup[i].bound) inv.threadgroup[i].data = tg_memory + offsets[i];
  const std::string problem = check_bindings(k, inv);
  if (!problem.empty()) fatal(problem);

  std::lock_guard<std::mutex> exclusive(facepost_simt::device_execution());
  ++state::dispatches;
  Size3 grid_threads{groups.x * per_group.x, groups.y * per_group.y, groups.z * per_group.z};
  if (threads_per_grid != nullptr) grid_threads = *threads_per_grid;
  for (unsigned long gz = 0; gz < groups.z; ++gz)
    for (unsigned long gy = 0; gy < groups.y; ++gy)
      for (unsigned long gx = 0; gx < groups.x; ++gx) {
        // The threads of this threadgroup (partial at the grid's edges with dispatchThreads).
        const Size3 tg{std::min(per_group.x, grid_threads.x - gx * per_group.x),
                       std::min(per_group.y, grid_threads.y - gy * per_group.y),
                       std::min(per_group.z, grid_threads.z - gz * per_group.z)};
        std::memset(tg_memory, facepost_simt::kPoison, total);
        facepost_simt::GroupConfig c;
        c.threads = static_cast<unsigned>(tg.count());
        c.width = width;
        c.barrier_after_return_is_error = true;
        c.prefix = "facepost_msl";
        c.barrier_name = "threadgroup_barrier";
        const unsigned simdgroups = (c.threads + width - 1) / width;
        facepost_simt::run_group(c, [&](unsigned i) {
          ThreadPosition p{};
          const unsigned tx = static_cast<unsigned>(i % tg.x), ty = static_cast<unsigned>((i / tg.x) % tg.y),
                         tz = static_cast<unsigned>(i / (tg.x * tg.y));
          const unsigned g[3] = {static_cast<unsigned>(gx), static_cast<unsigned>(gy), static_cast<unsigned>(gz)};
          const unsigned t[3] = {tx, ty, tz};
          const unsigned long pg[3] = {per_group.x, per_group.y, per_group.z};
          const unsigned long tgd[3] = {tg.x, tg.y, tg.z};
          const unsigned long ng[3] = {groups.x, groups.y, groups.z};
          const unsigned long nt[3] = {grid_threads.x, grid_threads.y, grid_threads.z};
          for (int d = 0; d < 3; ++d) {
            p.thread_position_in_threadgroup[d] = t[d];
            p.threadgroup_position_in_grid[d] = g[d];
            p.thread_position_in_grid[d] = static_cast<unsigned>(g[d] * pg[d] + t[d]);
            p.threads_per_threadgroup[d] = static_cast<unsigned>(tgd[d]);
            p.threadgroups_per_grid[d] = static_cast<unsigned>(ng[d]);
            p.threads_per_grid[d] = static_cast<unsigned>(nt[d]);
          }
          p.thread_index_in_threadgroup = i;
          p.thread_index_in_simdgroup = i % width;
          p.simdgroup_index_in_threadgroup = i / width;
          p.threads_per_simdgroup = width;
          p.simdgroups_per_threadgroup = simdgroups;
          k.adapter(inv, p);
        });
        ++state::threadgroups;
      }
}

}  // namespace facepost_msl
