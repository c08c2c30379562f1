// facepost_msl/bindings.hpp (tests/metal/shim) - what the translation units written by
// tests/metal/shim/gen_bindings.py use to turn a dispatch's bindings into a kernel's arguments:
// included first (before the .metal file, whose <metal_stdlib> then defines the MSL macros).
//
// buffer_arg<P>: a pointer parameter gets the bound buffer's contents plus its offset, a
// reference parameter (`constant T& p [[buffer(i)]]`) the object there; threadgroup_arg<P> the
// dispatch's threadgroup memory of that index; position_arg<P> the thread's position attribute
// as the parameter's type (uint, ushort, uint2, uint3, ushort2, ushort3 ...). An unbound index is
// a fatal error naming the kernel and the index (the fake metal-cpp checks before it runs).
#pragma once

#include <cstddef>
#include <type_traits>

#include "facepost_msl/registry.hpp"
#include "facepost_msl/types.hpp"

namespace facepost_msl {

template <class P>
P buffer_arg(const Invocation& inv, unsigned index) {
  unsigned char* data = inv.buffer(index).data;
  if constexpr (std::is_reference<P>::value) {
    return *reinterpret_cast<std::remove_reference_t<P>*>(data);
  } else {
    static_assert(std::is_pointer<P>::value, "a [[buffer(i)]] parameter is a pointer or a reference");
    return reinterpret_cast<P>(data);
  }
}

template <class P>
P threadgroup_arg(const Invocation& inv, unsigned index) {
  static_assert(std::is_pointer<P>::value, "a [[threadgroup(i)]] parameter is a pointer");
  return reinterpret_cast<P>(inv.threadgroup_memory(index).data);
}

template <class P>
P position_arg(const ThreadPosition& pos, Attribute a) {
  using T = std::remove_cv_t<std::remove_reference_t<P>>;
  unsigned v[3];
  pos.get(a, v);
  if constexpr (metal::is_vector<T>::value) {
    using C = typename T::value_type;
    T r;
    for (int i = 0; i < T::size; ++i) r[i] = static_cast<C>(v[i]);
    return r;
  } else {
    static_assert(std::is_integral<T>::value, "a position attribute is an integer scalar or vector");
    return static_cast<T>(v[0]);
  }
}

template <class P>
constexpr std::size_t pointee_size() {
  using T = std::remove_pointer_t<std::remove_reference_t<P>>;
  if constexpr (std::is_void<T>::value) {
    return 1;
  } else {
    return sizeof(T);
  }
}
template <class P>
constexpr std::size_t pointee_align() {
  using T = std::remove_pointer_t<std::remove_reference_t<P>>;
  if constexpr (std::is_void<T>::value) {
    return 1;
  } else {
    return alignof(T);
  }
}

}  // namespace facepost_msl
