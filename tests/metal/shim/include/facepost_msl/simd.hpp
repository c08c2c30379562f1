// facepost_msl/simd.hpp (tests/metal/shim) - Metal's barriers and SIMD-group functions for the
// shim, on the shared SIMT executor (tests/support/simt/executor.hpp).
//
// Emulates: threadgroup_barrier(mem_flags) (a real barrier of the threadgroup; every thread must
// reach it: a barrier reached after a thread of the threadgroup returned aborts);
// simdgroup_barrier(mem_flags); simd_ballot (a simd_vote: explicit conversion to the 64-bit
// simd_vote::vote_t, all() / any() over the active lanes), simd_all, simd_any, simd_is_first,
// simd_shuffle, simd_broadcast, simd_shuffle_down, simd_shuffle_up, simd_shuffle_xor, simd_sum,
// simd_prefix_exclusive_sum, simd_prefix_inclusive_sum, simd_min, simd_max, simd_and, simd_or,
// simd_xor: each a real rendezvous of the active lanes of the caller's simdgroup (the SIMD width
// is the dispatch's: facepost_msl::set_simd_width, 1..64), for scalars and, component by
// component, vectors. "Active" is every lane of the simdgroup that has not returned; a lane that
// reaches a different SIMD-group function first, or reads (shuffle) a lane that returned or does
// not exist, aborts with a diagnostic.
// Float simd_sum / simd_prefix_*_sum add in lane order; Apple GPUs do not promise an order, so
// they are a compile error unless FACEPOST_MSL_ALLOW_FLOAT_SIMD_REDUCTIONS is defined (facepost's
// results must not depend on a reduction order).
// Does NOT emulate: divergent control flow inside a simdgroup (lanes of one simdgroup that call
// SIMD-group functions in different branches abort instead of running as two sub-groups),
// quad-group functions, simd_shuffle_rotate_*, the memory-ordering scope of mem_flags (every
// barrier orders all memory), and the cost of anything.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>

#include "facepost_msl/types.hpp"
#include "simt/executor.hpp"

namespace metal {

enum class mem_flags : unsigned {
  mem_none = 0,
  mem_device = 1,
  mem_threadgroup = 2,
  mem_texture = 4,
  mem_threadgroup_imageblock = 8,
  mem_object_data = 16,
};
constexpr mem_flags operator|(mem_flags a, mem_flags b) {
  return static_cast<mem_flags>(static_cast<unsigned>(a) | static_cast<unsigned>(b));
}

// The executor's handoff (a mutex and a semaphore) orders all memory: no fence needed (and
// ThreadSanitizer does not model fences).
inline void threadgroup_barrier(mem_flags) { facepost_simt::barrier("threadgroup_barrier"); }

namespace detail {
struct Lanes {
  std::uint64_t value[facepost_simt::kMaxWidth];
  facepost_simt::LaneMask active;  // the participants
  unsigned lane;
  unsigned width;
  bool has(unsigned l) const { return l < width && ((active >> l) & 1u); }
};
template <class T>
std::uint64_t lane_bits(T v) {
  static_assert(sizeof(T) <= 8 && std::is_trivially_copyable<T>::value, "SIMD-group function of an unsupported type");
  std::uint64_t u = 0;
  std::memcpy(&u, &v, sizeof v);
  return u;
}
template <class T>
T from_lane_bits(std::uint64_t u) {
  T v;
  std::memcpy(&v, &u, sizeof v);
  return v;
}
template <class T>
Lanes exchange(T v, const char* op) {
  Lanes l;
  l.active = facepost_simt::exchange(facepost_simt::kActiveLanes, lane_bits(v), l.value, op);
  l.lane = facepost_simt::self.lane;
  l.width = facepost_simt::width();
  return l;
}
template <class T>
T read(const Lanes& l, unsigned from, const char* op) {
  if (!l.has(from))
    facepost_simt::fatal(std::string(op) + ": lane " + std::to_string(l.lane) + " reads lane " + std::to_string(from) +
                         (from >= l.width ? ", which does not exist (SIMD width " + std::to_string(l.width) + ")"
                                          : ", which is not active (returned or absent)"));
  return from_lane_bits<T>(l.value[from]);
}
template <class T>
constexpr bool is_float() {
  return std::is_floating_point<T>::value || std::is_same<T, half>::value;
}
template <class T>
void check_reduction_order() {
#ifndef FACEPOST_MSL_ALLOW_FLOAT_SIMD_REDUCTIONS
  static_assert(!is_float<T>(),
                "simd_sum / simd_prefix_*_sum of a float: the GPU's reduction order is unspecified, so the result "
                "is not bit-exact (define FACEPOST_MSL_ALLOW_FLOAT_SIMD_REDUCTIONS to allow it in the shim)");
#endif
}
}  // namespace detail

inline void simdgroup_barrier(mem_flags) { detail::exchange(0, "simdgroup_barrier"); }

class simd_vote {
 public:
  typedef std::uint64_t vote_t;
  constexpr explicit simd_vote(vote_t v = 0) : v_(v), active_(~vote_t{0}) {}
  constexpr simd_vote(vote_t v, vote_t active) : v_(v), active_(active) {}
  explicit constexpr operator vote_t() const { return v_; }
  /// Every active lane voted true.
  constexpr bool all() const { return (v_ & active_) == active_; }
  /// Some active lane voted true.
  constexpr bool any() const { return v_ != 0; }

 private:
  vote_t v_, active_;
};

inline simd_vote simd_ballot(bool predicate) {
  const detail::Lanes l = detail::exchange(predicate, "simd_ballot");
  simd_vote::vote_t v = 0;
  for (unsigned i = 0; i < l.width; ++i)
    if (l.has(i) && l.value[i]) v |= simd_vote::vote_t{1} << i;
  return simd_vote(v, l.active);
}
inline bool simd_all(bool predicate) {
  const detail::Lanes l = detail::exchange(predicate, "simd_all");
  for (unsigned i = 0; i < l.width; ++i)
    if (l.has(i) && !l.value[i]) return false;
  return true;
}
inline bool simd_any(bool predicate) {
  const detail::Lanes l = detail::exchange(predicate, "simd_any");
  for (unsigned i = 0; i < l.width; ++i)
    if (l.has(i) && l.value[i]) return true;
  return false;
}
/// True in the lowest active lane.
inline bool simd_is_first() {
  const detail::Lanes l = detail::exchange(0, "simd_is_first");
  return (l.active & ((facepost_simt::LaneMask{1} << l.lane) - 1u)) == 0;
}

// Shuffles: scalars, and vectors component by component.
#define FACEPOST_MSL_SHUFFLE(name, source)                                                          \
  template <class T, class = std::enable_if_t<!is_vector<T>::value>>                               \
  T name(T data, ushort arg) {                                                                     \
    const detail::Lanes l = detail::exchange(data, #name);                                         \
    const int from = (source);                                                                     \
    return from < 0 ? data : detail::read<T>(l, static_cast<unsigned>(from), #name);               \
  }                                                                                                \
  template <class T, int N>                                                                        \
  vec<T, N> name(const vec<T, N>& data, ushort arg) {                                              \
    vec<T, N> r;                                                                                   \
    for (int i = 0; i < N; ++i) r[i] = name(data[i], arg);                                         \
    return r;                                                                                      \
  }
// source: the lane to read, or -1 for the caller's own value (MSL: "unchanged").
FACEPOST_MSL_SHUFFLE(simd_shuffle, static_cast<int>(arg))
FACEPOST_MSL_SHUFFLE(simd_broadcast, static_cast<int>(arg))
FACEPOST_MSL_SHUFFLE(simd_shuffle_down, l.lane + arg < l.width ? static_cast<int>(l.lane + arg) : -1)
FACEPOST_MSL_SHUFFLE(simd_shuffle_up, l.lane >= arg ? static_cast<int>(l.lane - arg) : -1)
FACEPOST_MSL_SHUFFLE(simd_shuffle_xor, (l.lane ^ arg) < l.width ? static_cast<int>(l.lane ^ arg) : -1)
#undef FACEPOST_MSL_SHUFFLE

// Reductions and scans over the active lanes, in lane order.
#define FACEPOST_MSL_REDUCE(name, init_expr, combine, check)                                        \
  template <class T, class = std::enable_if_t<!is_vector<T>::value>>                               \
  T name(T data) {                                                                                 \
    check;                                                                                         \
    const detail::Lanes l = detail::exchange(data, #name);                                         \
    bool first = true;                                                                             \
    T acc = init_expr;                                                                             \
    for (unsigned i = 0; i < l.width; ++i) {                                                       \
      if (!l.has(i)) continue;                                                                     \
      const T v = detail::from_lane_bits<T>(l.value[i]);                                                \
      acc = first ? v : static_cast<T>(combine);                                                   \
      first = false;                                                                               \
    }                                                                                              \
    return acc;                                                                                    \
  }                                                                                                \
  template <class T, int N>                                                                        \
  vec<T, N> name(const vec<T, N>& data) {                                                          \
    vec<T, N> r;                                                                                   \
    for (int i = 0; i < N; ++i) r[i] = name(data[i]);                                              \
    return r;                                                                                      \
  }
FACEPOST_MSL_REDUCE(simd_sum, T(0), acc + v, detail::check_reduction_order<T>())
FACEPOST_MSL_REDUCE(simd_min, data, v < acc ? v : acc, (void)0)
FACEPOST_MSL_REDUCE(simd_max, data, v > acc ? v : acc, (void)0)
FACEPOST_MSL_REDUCE(simd_and, data, acc & v, (void)0)
FACEPOST_MSL_REDUCE(simd_or, data, acc | v, (void)0)
FACEPOST_MSL_REDUCE(simd_xor, data, acc ^ v, (void)0)
#undef FACEPOST_MSL_REDUCE

#define FACEPOST_MSL_SCAN(name, inclusive)                                                          \
  template <class T, class = std::enable_if_t<!is_vector<T>::value>>                               \
  T name(T data) {                                                                                 \
    detail::check_reduction_order<T>();                                                            \
    const detail::Lanes l = detail::exchange(data, #name);                                         \
    T acc = T(0);                                                                                  \
    for (unsigned i = 0; i < l.lane; ++i)                                                          \
      if (l.has(i)) acc = static_cast<T>(acc + detail::from_lane_bits<T>(l.value[i]));                  \
    return inclusive ? static_cast<T>(acc + data) : acc;                                           \
  }                                                                                                \
  template <class T, int N>                                                                        \
  vec<T, N> name(const vec<T, N>& data) {                                                          \
    vec<T, N> r;                                                                                   \
    for (int i = 0; i < N; ++i) r[i] = name(data[i]);                                              \
    return r;                                                                                      \
  }
FACEPOST_MSL_SCAN(simd_prefix_exclusive_sum, false)
FACEPOST_MSL_SCAN(simd_prefix_inclusive_sum, true)
#undef FACEPOST_MSL_SCAN

}  // namespace metal
