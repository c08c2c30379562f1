// simt/executor.hpp (tests/support) - the SIMT group executor shared by the CPU
// emulations of GPU back ends: the CUDA emulator (tests/cuda/emu) runs a CUDA block with it, the
// Metal shim (tests/metal/shim) a Metal threadgroup.
//
// Execution model:
//  - one OS thread per GPU thread: the threads of a group (CUDA block, Metal threadgroup) run
//    concurrently on a pool of persistent workers reused across groups; groups run one after
//    another, and one grid at a time in the whole process (device_execution()), whichever
//    emulator launches it;
//  - barrier() is a real barrier of the group; the group is cut into lane groups (warps,
//    simdgroups) of a width chosen per group (1..64); exchange() is a real rendezvous of the
//    lanes of one lane group: every participant contributes a 64-bit value and receives all
//    contributions. Participants are either an explicit lane mask (CUDA's *_sync mask) or
//    kActiveLanes: every lane of the group that has not returned (Metal's simdgroup functions);
//    lanes meeting at different operations, or a mask naming a returned lane, abort with a
//    diagnostic; a thread waiting longer than knobs::deadlock_seconds at a barrier or exchange
//    aborts (a deadlock);
//  - a returned thread no longer counts at barriers (CUDA's behaviour since Volta), unless the
//    group is created with barrier_after_return_is_error (Metal: a threadgroup_barrier must be
//    reached by every thread of the threadgroup), which makes that an error.
// What it does NOT emulate: independent forward progress between groups (never two groups at
// once), the GPU's memory model (the handoffs at barriers and exchanges go through a mutex and
// a semaphore, so they order more than a GPU barrier does; races between barriers are found by
// ThreadSanitizer, not by wrong results), lanes diverging into different branches that each
// execute a lane-group operation (that aborts), and anything about performance.
#pragma once

#include <errno.h>
#include <sched.h>
#include <semaphore.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace facepost_simt {

/// The byte fresh device memory, shared and threadgroup memory are filled with (a NaN in every
/// float lane, 0xFFFFFFFF in every uint).
inline constexpr unsigned char kPoison = 0xFF;
/// The widest lane group (Metal allows 64; CUDA's warps are 32).
inline constexpr unsigned kMaxWidth = 64;
using LaneMask = std::uint64_t;
/// exchange() participants: every lane of the caller's lane group that has not returned.
inline constexpr LaneMask kActiveLanes = 0;

namespace knobs {
inline std::atomic<int> deadlock_seconds{120};
inline int spin_yields = 8;  // before a thread sleeps at a barrier or exchange (speed only)
}  // namespace knobs

/// The prefix of diagnostics ("facepost_emu", "facepost_msl"), set per group.
inline thread_local const char* diagnostic_prefix = "facepost_simt";

[[noreturn]] inline void fatal(const std::string& what) {
  std::fprintf(stderr, "%s: %s\n", diagnostic_prefix, what.c_str());
  std::fflush(stderr);
  std::abort();
}

inline LaneMask lanes_below(unsigned n) { return n >= 64 ? ~LaneMask{0} : (LaneMask{1} << n) - 1u; }

// Every emulated GPU thread sleeps on a semaphore of its own; whoever completes a barrier or an
// exchange wakes exactly the threads waiting there (no mutex convoy, no spurious wakes).
inline void sleep_on(sem_t* s, const char* what) {
  // A few yields first: the threads of a group usually meet soon, and a post to a semaphore
  // nobody sleeps on costs no system call.
  for (int i = 0; i < knobs::spin_yields; ++i) {
    if (sem_trywait(s) == 0) return;
    sched_yield();
  }
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_sec += knobs::deadlock_seconds.load();
  while (sem_timedwait(s, &ts) != 0) {
    if (errno == EINTR) continue;
    fatal(std::string(what) + ": deadlock (no progress for " + std::to_string(knobs::deadlock_seconds.load()) +
          " s)");
  }
}

struct LaneGroupState {
  std::mutex m;
  unsigned arrived = 0;
  LaneMask op_mask = 0;   // participants of the pending operation (kActiveLanes: resolved at completion)
  bool op_active = false;  // the pending operation takes the active lanes
  const char* op = nullptr;
  LaneMask present = 0;  // lanes that exist
  LaneMask exited = 0;   // lanes whose thread returned
  LaneMask arrived_mask = 0;
  LaneMask result_mask = 0;  // participants of the last completed operation
  std::uint64_t value[kMaxWidth] = {};
  std::uint64_t result[kMaxWidth] = {};
  std::vector<sem_t*> waiting;
};

struct GroupConfig {
  unsigned threads = 1;
  unsigned width = 32;  // lanes per lane group, 1..64
  bool barrier_after_return_is_error = false;
  const char* prefix = "facepost_simt";
  const char* barrier_name = "barrier";
};

struct GroupState {
  std::mutex m;
  unsigned arrived = 0;
  unsigned live = 0;
  GroupConfig config;
  std::vector<sem_t*> waiting;
  std::vector<std::unique_ptr<LaneGroupState>> lane_groups;
};

struct ThreadContext {
  GroupState* group = nullptr;
  unsigned linear = 0, lane_group = 0, lane = 0;
  sem_t* wake = nullptr;
};
inline thread_local ThreadContext self;

inline ThreadContext& context(const char* what) {
  if (self.group == nullptr) fatal(std::string(what) + " called outside a kernel");
  return self;
}
/// The caller's lane-group width (its group's configuration).
inline unsigned width() { return context("a lane-group function").group->config.width; }
/// Lanes that exist in the caller's lane group (the last one of a group may be partial).
inline LaneMask present_lanes() {
  ThreadContext& t = context("a lane-group function");
  return t.group->lane_groups[t.lane_group]->present;
}

/// Releases the threads waiting at the group barrier (g.m held by the caller, who unlocks).
inline std::vector<sem_t*> take_barrier_waiters(GroupState& g) {
  std::vector<sem_t*> w;
  w.swap(g.waiting);
  g.waiting.reserve(w.size());
  g.arrived = 0;
  return w;
}

/// A barrier of every (live) thread of the caller's group.
inline void barrier(const char* op) {
  ThreadContext& t = context(op);
  GroupState& g = *t.group;
  std::unique_lock<std::mutex> lk(g.m);
  if (g.config.barrier_after_return_is_error && g.live != g.config.threads)
    fatal(std::string(op) + ": reached after " + std::to_string(g.config.threads - g.live) +
          " thread(s) of the group returned (every thread must reach it)");
  if (++g.arrived == g.live) {
    const std::vector<sem_t*> w = take_barrier_waiters(g);
    lk.unlock();
    for (sem_t* s : w) sem_post(s);
    return;
  }
  g.waiting.push_back(t.wake);
  lk.unlock();
  sleep_on(t.wake, op);
}

namespace detail {
/// Completes the pending operation of w if every participant is there (w.m held); returns the
/// threads to wake (the caller posts them after unlocking).
inline bool try_complete(LaneGroupState& w, std::vector<sem_t*>* waiters) {
  const LaneMask need = w.op_active ? (w.present & ~w.exited) | w.arrived_mask : w.op_mask;
  if (w.arrived_mask != need) return false;
  // The next operation of this lane group cannot complete before every participant has read the
  // result: they all take part in it (or, for kActiveLanes, return first).
  std::memcpy(w.result, w.value, sizeof w.result);
  w.result_mask = w.arrived_mask;
  w.arrived = 0;
  w.arrived_mask = 0;
  waiters->swap(w.waiting);
  w.waiting.reserve(kMaxWidth);
  return true;
}
}  // namespace detail

/// Rendezvous of the participants (`mask`, or kActiveLanes) of the caller's lane group: every
/// participant contributes v and receives all contributions in out[lane]; returns the mask of
/// the participants.
inline LaneMask exchange(LaneMask mask, std::uint64_t v, std::uint64_t (&out)[kMaxWidth], const char* op) {
  ThreadContext& t = context(op);
  const bool active = mask == kActiveLanes;
  mask &= lanes_below(t.group->config.width);
  LaneGroupState& w = *t.group->lane_groups[t.lane_group];
  const LaneMask me = LaneMask{1} << t.lane;
  if (!active) {
    if (!(mask & me))
      fatal(std::string(op) + ": the calling lane " + std::to_string(t.lane) + " is not in the mask");
    if (mask & ~w.present) fatal(std::string(op) + ": the mask names lanes that do not exist in this warp");
  }
  std::unique_lock<std::mutex> lk(w.m);
  if (w.arrived == 0) {
    w.op_mask = mask;
    w.op_active = active;
    w.op = op;
  } else if (w.op_active != active || (!active && w.op_mask != mask) || std::strcmp(w.op, op) != 0) {
    fatal(std::string("lane group ") + std::to_string(t.lane_group) + ": lanes meet at different operations (" +
          w.op + (w.op_active ? " of the active lanes" : " mask " + std::to_string(w.op_mask)) + ", " + op +
          (active ? " of the active lanes" : " mask " + std::to_string(mask)) + ")");
  }
  if (!active && (mask & w.exited)) fatal(std::string(op) + ": the mask names a lane that has exited");
  w.value[t.lane] = v;
  ++w.arrived;
  w.arrived_mask |= me;
  std::vector<sem_t*> waiters;
  if (detail::try_complete(w, &waiters)) {
    std::memcpy(out, w.result, sizeof out);
    const LaneMask participants = w.result_mask;
    lk.unlock();
    for (sem_t* s : waiters) sem_post(s);
    return participants;
  }
  w.waiting.push_back(t.wake);
  lk.unlock();
  sleep_on(t.wake, op);
  lk.lock();
  std::memcpy(out, w.result, sizeof out);
  return w.result_mask;
}

/// Called when a GPU thread returns: it leaves its lane group and the group's barrier.
inline void thread_exit() {
  ThreadContext& t = self;
  GroupState& g = *t.group;
  std::vector<sem_t*> release;
  {
    LaneGroupState& w = *g.lane_groups[t.lane_group];
    std::lock_guard<std::mutex> lk(w.m);
    w.exited |= LaneMask{1} << t.lane;
    if (w.arrived > 0 && !w.op_active && (w.op_mask & w.exited))
      fatal(std::string(w.op) + ": lane " + std::to_string(t.lane) + " exited while its warp waits for it");
    if (w.arrived > 0 && w.op_active) detail::try_complete(w, &release);  // it no longer takes part
  }
  for (sem_t* s : release) sem_post(s);
  release.clear();
  {
    std::lock_guard<std::mutex> lk(g.m);
    --g.live;
    if (g.arrived > 0) {
      if (g.config.barrier_after_return_is_error)
        fatal(std::string(g.config.barrier_name) + ": a thread returned while " + std::to_string(g.arrived) +
              " thread(s) of its group wait at a barrier (every thread must reach it)");
      if (g.arrived == g.live) release = take_barrier_waiters(g);  // exited threads no longer count
    }
  }
  for (sem_t* s : release) sem_post(s);
  self = ThreadContext{};
}

// ---------------------------------------------------------------------------------------------
// The thread pool running one group at a time.

class GroupPool {
 public:
  static GroupPool& get() {
    static GroupPool p;
    return p;
  }
  ~GroupPool() {
    stop_ = true;
    for (auto& w : workers_) sem_post(&w->start);
    for (auto& w : workers_) w->thread.join();
    sem_destroy(&done_);
  }
  /// Runs body(i, wake) for i in [0, n) on n distinct threads (wake: the thread's semaphore),
  /// concurrently; returns when all are done. One caller at a time (device_execution()).
  void run(unsigned n, const std::function<void(unsigned, sem_t*)>& body) {
    while (workers_.size() < n) {
      workers_.push_back(std::make_unique<Worker>());
      Worker* w = workers_.back().get();
      const unsigned index = static_cast<unsigned>(workers_.size() - 1);
      sem_init(&w->wake, 0, 0);
      sem_init(&w->start, 0, 0);
      w->thread = std::thread([this, w, index] { work(w, index); });
    }
    body_ = &body;
    remaining_.store(n, std::memory_order_relaxed);
    for (unsigned i = 0; i < n; ++i) sem_post(&workers_[i]->start);
    sleep_on(&done_, "group");
    body_ = nullptr;
  }

 private:
  struct Worker {
    sem_t start, wake;
    std::thread thread;
  };
  GroupPool() { sem_init(&done_, 0, 0); }
  void work(Worker* w, unsigned index) {
    for (;;) {
      while (sem_wait(&w->start) != 0) {
      }
      if (stop_) return;
      (*body_)(index, &w->wake);
      if (remaining_.fetch_sub(1, std::memory_order_acq_rel) == 1) sem_post(&done_);
    }
  }
  std::vector<std::unique_ptr<Worker>> workers_;
  const std::function<void(unsigned, sem_t*)>* body_ = nullptr;
  std::atomic<unsigned> remaining_{0};
  sem_t done_;
  std::atomic<bool> stop_{false};
};

/// One grid at a time in the whole process (hold it around a grid's run_group calls).
inline std::mutex& device_execution() {
  static std::mutex m;
  return m;
}

/// Runs one group: thread_body(linear index) on c.threads concurrent threads, each with its
/// ThreadContext set (linear, lane group = linear / width, lane = linear % width), then
/// thread_exit(). The caller holds device_execution().
template <class F>
void run_group(const GroupConfig& c, F&& thread_body) {
  if (c.width < 1 || c.width > kMaxWidth) fatal("lane-group width " + std::to_string(c.width) + " outside 1..64");
  GroupState g;
  g.config = c;
  g.live = c.threads;
  g.waiting.reserve(c.threads);
  const unsigned groups = (c.threads + c.width - 1) / c.width;
  for (unsigned w = 0; w < groups; ++w) {
    g.lane_groups.push_back(std::make_unique<LaneGroupState>());
    g.lane_groups.back()->present = lanes_below(std::min(c.width, c.threads - w * c.width));
    g.lane_groups.back()->waiting.reserve(kMaxWidth);
  }
  GroupPool::get().run(c.threads, [&](unsigned i, sem_t* wake) {
    diagnostic_prefix = c.prefix;
    self = ThreadContext{&g, i, i / c.width, i % c.width, wake};
    thread_body(i);
    thread_exit();
  });
}

}  // namespace facepost_simt
