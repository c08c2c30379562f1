// facepost_msl/math.hpp (tests/metal/shim) - the Metal Shading Language functions of <metal_stdlib>
// that the shim provides, in namespace metal, for scalars and component-wise for vectors.
//
// Emulates, bit for bit where MSL pins the result (IEEE operations with fast math off):
// select, isnan, isinf, isfinite, signbit, fabs, abs, copysign, fmin/fmax and min/max (float:
// a NaN argument gives the other one; equal arguments (+0/-0) give x, where a GPU may give
// either), clamp, floor, ceil, trunc, rint, round, sqrt, fma (single roundings); integer min,
// max, abs, clamp, clz, ctz, popcount (of 0: the bit width), mulhi, rotate.
// Does NOT provide, on purpose: exp, log, pow, sin, cos, tanh ... (the GPU's results are not
// correctly rounded and differ from glibc's, so a kernel that needs bit-exact results must
// compute them itself), and fast:: / precise:: namespaces.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "facepost_msl/types.hpp"

namespace metal {

// select(a, b, c): c ? b : a, component-wise for vectors.
template <class T, class = std::enable_if_t<!is_vector<T>::value>>
T select(T a, T b, bool c) {
  return c ? b : a;
}
template <class T, int N>
vec<T, N> select(const vec<T, N>& a, const vec<T, N>& b, const vec<bool, N>& c) {
  vec<T, N> r;
  for (int i = 0; i < N; ++i) r[i] = c[i] ? b[i] : a[i];
  return r;
}
template <class T, int N>
vec<T, N> select(const vec<T, N>& a, const vec<T, N>& b, bool c) {
  return c ? b : a;
}

#define FACEPOST_MSL_FLOAT_PREDICATE(name, expr)                             \
  inline bool name(float x) { return expr; }                                \
  inline bool name(half h) {                                                \
    const float x = h;                                                      \
    return expr;                                                            \
  }                                                                         \
  template <class T, int N>                                                 \
  vec<bool, N> name(const vec<T, N>& v) {                                   \
    return map<bool>(v, [](T x) { return name(x); });                       \
  }
FACEPOST_MSL_FLOAT_PREDICATE(isnan, std::isnan(x))
FACEPOST_MSL_FLOAT_PREDICATE(isinf, std::isinf(x))
FACEPOST_MSL_FLOAT_PREDICATE(isfinite, std::isfinite(x))
FACEPOST_MSL_FLOAT_PREDICATE(signbit, std::signbit(x))
#undef FACEPOST_MSL_FLOAT_PREDICATE

#define FACEPOST_MSL_FLOAT_UNARY(name, expr)                                 \
  inline float name(float x) { return expr; }                               \
  inline half name(half h) {                                                \
    const float x = h;                                                      \
    return half(expr);                                                      \
  }                                                                         \
  template <class T, int N>                                                 \
  vec<T, N> name(const vec<T, N>& v) {                                      \
    return map<T>(v, [](T x) { return name(x); });                          \
  }
FACEPOST_MSL_FLOAT_UNARY(fabs, std::fabs(x))
FACEPOST_MSL_FLOAT_UNARY(floor, std::floor(x))
FACEPOST_MSL_FLOAT_UNARY(ceil, std::ceil(x))
FACEPOST_MSL_FLOAT_UNARY(trunc, std::trunc(x))
FACEPOST_MSL_FLOAT_UNARY(rint, std::nearbyint(x))  // round half to even (the default rounding mode)
FACEPOST_MSL_FLOAT_UNARY(round, std::round(x))      // round half away from zero
FACEPOST_MSL_FLOAT_UNARY(sqrt, std::sqrt(x))
#undef FACEPOST_MSL_FLOAT_UNARY

inline float fmin(float x, float y) {
  if (std::isnan(x)) return y;
  if (std::isnan(y)) return x;
  return y < x ? y : x;
}
inline float fmax(float x, float y) {
  if (std::isnan(x)) return y;
  if (std::isnan(y)) return x;
  return y > x ? y : x;
}
inline half fmin(half x, half y) { return half(fmin(float(x), float(y))); }
inline half fmax(half x, half y) { return half(fmax(float(x), float(y))); }
inline float copysign(float x, float y) { return std::copysign(x, y); }
/// One rounding: x * y + z exactly, then rounded.
inline float fma(float x, float y, float z) { return std::fma(x, y, z); }

// min / max / clamp: floats as fmin / fmax, integers as usual.
inline float min(float x, float y) { return fmin(x, y); }
inline float max(float x, float y) { return fmax(x, y); }
inline half min(half x, half y) { return fmin(x, y); }
inline half max(half x, half y) { return fmax(x, y); }
template <class T, class = std::enable_if_t<std::is_integral<T>::value>>
T min(T x, T y) {
  return y < x ? y : x;
}
template <class T, class = std::enable_if_t<std::is_integral<T>::value>>
T max(T x, T y) {
  return y > x ? y : x;
}
template <class T, class = std::enable_if_t<!is_vector<T>::value>>
T clamp(T x, T lo, T hi) {
  return min(max(x, lo), hi);
}
template <class T, int N>
vec<T, N> min(const vec<T, N>& a, const vec<T, N>& b) {
  return map2<T>(a, b, [](T x, T y) { return min(x, y); });
}
template <class T, int N>
vec<T, N> max(const vec<T, N>& a, const vec<T, N>& b) {
  return map2<T>(a, b, [](T x, T y) { return max(x, y); });
}
template <class T, int N>
vec<T, N> fmin(const vec<T, N>& a, const vec<T, N>& b) {
  return map2<T>(a, b, [](T x, T y) { return fmin(x, y); });
}
template <class T, int N>
vec<T, N> fmax(const vec<T, N>& a, const vec<T, N>& b) {
  return map2<T>(a, b, [](T x, T y) { return fmax(x, y); });
}
template <class T, int N>
vec<T, N> clamp(const vec<T, N>& x, const vec<T, N>& lo, const vec<T, N>& hi) {
  return min(max(x, lo), hi);
}

template <class T, class = std::enable_if_t<std::is_integral<T>::value>>
T abs(T x) {
  return x < 0 ? static_cast<T>(0 - x) : x;
}
inline float abs(float x) { return std::fabs(x); }

namespace detail {
__extension__ typedef __int128 int128;
__extension__ typedef unsigned __int128 uint128;
template <class T>
using bits_of = std::make_unsigned_t<T>;
template <class T>
constexpr int bit_width() {
  return static_cast<int>(sizeof(T) * 8);
}
}  // namespace detail

/// Leading zero bits (the bit width for 0).
template <class T, class = std::enable_if_t<std::is_integral<T>::value>>
T clz(T x) {
  using U = detail::bits_of<T>;
  const U u = static_cast<U>(x);
  if (u == 0) return static_cast<T>(detail::bit_width<T>());
  return static_cast<T>(__builtin_clzll(static_cast<unsigned long long>(u)) - (64 - detail::bit_width<T>()));
}
/// Trailing zero bits (the bit width for 0).
template <class T, class = std::enable_if_t<std::is_integral<T>::value>>
T ctz(T x) {
  using U = detail::bits_of<T>;
  const U u = static_cast<U>(x);
  if (u == 0) return static_cast<T>(detail::bit_width<T>());
  return static_cast<T>(__builtin_ctzll(static_cast<unsigned long long>(u)));
}
template <class T, class = std::enable_if_t<std::is_integral<T>::value>>
T popcount(T x) {
  return static_cast<T>(__builtin_popcountll(static_cast<unsigned long long>(static_cast<detail::bits_of<T>>(x))));
}
/// The high half of the full product x * y.
template <class T, class = std::enable_if_t<std::is_integral<T>::value>>
T mulhi(T x, T y) {
  if constexpr (sizeof(T) == 8) {
    using W = std::conditional_t<std::is_signed<T>::value, detail::int128, detail::uint128>;
    return static_cast<T>((static_cast<W>(x) * static_cast<W>(y)) >> 64);
  } else {
    using W = std::conditional_t<std::is_signed<T>::value, std::int64_t, std::uint64_t>;
    return static_cast<T>((static_cast<W>(x) * static_cast<W>(y)) >> detail::bit_width<T>());
  }
}
template <class T, class = std::enable_if_t<std::is_integral<T>::value>>
T rotate(T v, T i) {
  using U = detail::bits_of<T>;
  const int w = detail::bit_width<T>();
  const int s = static_cast<int>(static_cast<U>(i) % static_cast<U>(w));
  const U u = static_cast<U>(v);
  return static_cast<T>(s == 0 ? u : static_cast<U>((u << s) | (u >> (w - s))));
}
#define FACEPOST_MSL_INT_VEC(name)                                   \
  template <class T, int N>                                         \
  vec<T, N> name(const vec<T, N>& v) {                              \
    return map<T>(v, [](T x) { return name(x); });                  \
  }
FACEPOST_MSL_INT_VEC(clz)
FACEPOST_MSL_INT_VEC(ctz)
FACEPOST_MSL_INT_VEC(popcount)
#undef FACEPOST_MSL_INT_VEC
template <class T, int N>
vec<T, N> mulhi(const vec<T, N>& a, const vec<T, N>& b) {
  return map2<T>(a, b, [](T x, T y) { return mulhi(x, y); });
}

}  // namespace metal
