// facepost_msl/atomic.hpp (tests/metal/shim) - Metal's atomics (<metal_atomic>) for the shim.
//
// Emulates: metal::atomic<T> (atomic_int, atomic_uint, atomic_bool, atomic_float, atomic_ulong),
// each exactly the size of T so that a buffer of uint can be bound where a kernel takes
// `device atomic_uint*`; atomic_load/store/exchange/compare_exchange_weak and
// atomic_fetch_add/sub/and/or/xor/min/max _explicit with memory_order_relaxed (the only order of
// MSL before 3.2), on device and threadgroup memory alike (the address spaces are empty macros),
// as real host atomics (__atomic builtins: ThreadSanitizer knows them). The float fetch_add is a
// compare-exchange loop (one rounding per addition, in whatever order the threads get there).
// Does NOT emulate: other memory orders, atomic_thread_fence scopes, the GPU's weaker ordering of
// relaxed atomics (x86 orders more), spurious failures of compare_exchange_weak.
#pragma once

#include <cstdint>
#include <cstring>
#include <type_traits>

#include "facepost_msl/types.hpp"

namespace metal {

enum memory_order { memory_order_relaxed = 0 };

template <class T>
struct atomic {
  static_assert(std::is_same<T, int>::value || std::is_same<T, uint>::value || std::is_same<T, bool>::value ||
                    std::is_same<T, float>::value || std::is_same<T, ulong>::value,
                "metal::atomic<T>: T must be int, uint, bool, float or ulong");
  T value_;
};
typedef atomic<int> atomic_int;
typedef atomic<uint> atomic_uint;
typedef atomic<bool> atomic_bool;
typedef atomic<float> atomic_float;
typedef atomic<ulong> atomic_ulong;
static_assert(sizeof(atomic_uint) == 4 && alignof(atomic_uint) == 4, "atomic_uint is a uint");

namespace detail {
template <class T>
using bits_t = std::conditional_t<sizeof(T) == 8, std::uint64_t,
                                  std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint8_t>>;
template <class T>
volatile bits_t<T>* bits(volatile atomic<T>* o) {
  return reinterpret_cast<volatile bits_t<T>*>(&o->value_);
}
template <class T>
bits_t<T> to_bits(T v) {
  bits_t<T> b = 0;
  std::memcpy(&b, &v, sizeof v);
  return b;
}
template <class T>
T from_bits(bits_t<T> b) {
  T v;
  std::memcpy(&v, &b, sizeof v);
  return v;
}
/// old = *o; *o = f(old), atomically; returns old.
template <class T, class F>
T update(volatile atomic<T>* o, F f) {
  volatile bits_t<T>* p = bits(o);
  bits_t<T> old = __atomic_load_n(p, __ATOMIC_RELAXED);
  for (;;) {
    const T v = from_bits<T>(old);
    if (__atomic_compare_exchange_n(p, &old, to_bits<T>(f(v)), true, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) return v;
  }
}
}  // namespace detail

template <class T>
void atomic_store_explicit(volatile atomic<T>* o, scalar_t<T> v, memory_order) {
  __atomic_store_n(detail::bits(o), detail::to_bits<T>(v), __ATOMIC_RELAXED);
}
template <class T>
T atomic_load_explicit(const volatile atomic<T>* o, memory_order) {
  return detail::from_bits<T>(__atomic_load_n(detail::bits(const_cast<volatile atomic<T>*>(o)), __ATOMIC_RELAXED));
}
template <class T>
T atomic_exchange_explicit(volatile atomic<T>* o, scalar_t<T> v, memory_order) {
  return detail::from_bits<T>(__atomic_exchange_n(detail::bits(o), detail::to_bits<T>(v), __ATOMIC_RELAXED));
}
template <class T>
bool atomic_compare_exchange_weak_explicit(volatile atomic<T>* o, T* expected, scalar_t<T> desired, memory_order,
                                           memory_order) {
  detail::bits_t<T> e = detail::to_bits<T>(*expected);
  const bool ok = __atomic_compare_exchange_n(detail::bits(o), &e, detail::to_bits<T>(desired), false,
                                              __ATOMIC_RELAXED, __ATOMIC_RELAXED);
  if (!ok) *expected = detail::from_bits<T>(e);
  return ok;
}

#define FACEPOST_MSL_ATOMIC_FETCH(name, builtin)                                                   \
  template <class T, class = std::enable_if_t<std::is_integral<T>::value>>                         \
  T atomic_fetch_##name##_explicit(volatile atomic<T>* o, scalar_t<T> v, memory_order) {           \
    return builtin(&o->value_, v, __ATOMIC_RELAXED);                                               \
  }
FACEPOST_MSL_ATOMIC_FETCH(add, __atomic_fetch_add)
FACEPOST_MSL_ATOMIC_FETCH(sub, __atomic_fetch_sub)
FACEPOST_MSL_ATOMIC_FETCH(and, __atomic_fetch_and)
FACEPOST_MSL_ATOMIC_FETCH(or, __atomic_fetch_or)
FACEPOST_MSL_ATOMIC_FETCH(xor, __atomic_fetch_xor)
#undef FACEPOST_MSL_ATOMIC_FETCH
inline float atomic_fetch_add_explicit(volatile atomic<float>* o, float v, memory_order) {
  return detail::update(o, [v](float x) { return x + v; });
}
inline float atomic_fetch_sub_explicit(volatile atomic<float>* o, float v, memory_order) {
  return detail::update(o, [v](float x) { return x - v; });
}
template <class T, class = std::enable_if_t<std::is_integral<T>::value>>
T atomic_fetch_min_explicit(volatile atomic<T>* o, scalar_t<T> v, memory_order) {
  return detail::update(o, [v](T x) { return v < x ? v : x; });
}
template <class T, class = std::enable_if_t<std::is_integral<T>::value>>
T atomic_fetch_max_explicit(volatile atomic<T>* o, scalar_t<T> v, memory_order) {
  return detail::update(o, [v](T x) { return v > x ? v : x; });
}

}  // namespace metal
