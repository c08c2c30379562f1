// facepost_msl/types.hpp (tests/metal/shim) - the Metal Shading Language's scalar and vector
// types for the shim that compiles .metal files as C++ on the host (see <metal_stdlib>).
//
// Emulates: uint ushort uchar ulong (64-bit); half (IEEE binary16 storage with the exact
// conversions of tests/support/simt/binary16.hpp; half arithmetic is done in float and rounded
// to half, which is correctly rounded for + - * /); metal::vec<T, N> for N = 2, 3, 4 with
// .x .y .z .w (and operator[]), the typedefs bool2 ... float4 half4, component-wise arithmetic,
// bitwise and comparison operators (comparisons give boolN), scalar broadcast, explicit
// conversion between vector types, all()/any(); as_type<T>(x) (a bit copy between types of one
// size), the implicit scalar-to-vector broadcast. Vector sizes and alignments are MSL's (a 3-vector takes the room of a 4-vector).
// Does NOT emulate: swizzles (.xy, .zyx), packed_* types, matrices, half hardware behaviour
// (subnormal flushing), implicit vector conversions that MSL rejects but C++ would allow, and
// MSL's rules for which scalar conversions are implicit.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "simt/binary16.hpp"

// Scalar names (glibc's <sys/types.h> declares uint, ushort and ulong with the same types).
typedef unsigned int uint;
typedef unsigned short ushort;
typedef unsigned char uchar;
typedef unsigned long ulong;
static_assert(sizeof(ulong) == 8, "MSL's ulong is 64-bit");

// half: IEEE binary16.
struct half {
  std::uint16_t bits_;
  half() = default;
  constexpr half(std::uint16_t b, int /*raw tag*/) : bits_(b) {}
  half(float f) : bits_(facepost_simt::binary16_from_float(f)) {}  // NOLINT: implicit, as in MSL
  explicit half(int i) : half(static_cast<float>(i)) {}
  explicit half(unsigned i) : half(static_cast<float>(i)) {}
  operator float() const { return facepost_simt::binary16_to_float(bits_); }  // NOLINT
  half& operator+=(half o) { return *this = half(float(*this) + float(o)); }
  half& operator-=(half o) { return *this = half(float(*this) - float(o)); }
  half& operator*=(half o) { return *this = half(float(*this) * float(o)); }
  half& operator/=(half o) { return *this = half(float(*this) / float(o)); }
  half operator-() const { return half(static_cast<std::uint16_t>(bits_ ^ 0x8000u), 0); }
  half operator+() const { return *this; }
};
static_assert(sizeof(half) == 2, "half is 2 bytes");
// half op half -> half; half op float -> float (the usual arithmetic conversions of MSL).
#define FACEPOST_MSL_HALF_OP(op)                                                             \
  inline half operator op(half a, half b) { return half(float(a) op float(b)); }           \
  inline float operator op(half a, float b) { return float(a) op b; }                      \
  inline float operator op(float a, half b) { return a op float(b); }
FACEPOST_MSL_HALF_OP(+)
FACEPOST_MSL_HALF_OP(-)
FACEPOST_MSL_HALF_OP(*)
FACEPOST_MSL_HALF_OP(/)
#undef FACEPOST_MSL_HALF_OP
#define FACEPOST_MSL_HALF_CMP(op)                                                           \
  inline bool operator op(half a, half b) { return float(a) op float(b); }                 \
  inline bool operator op(half a, float b) { return float(a) op b; }                       \
  inline bool operator op(float a, half b) { return a op float(b); }
FACEPOST_MSL_HALF_CMP(==)
FACEPOST_MSL_HALF_CMP(!=)
FACEPOST_MSL_HALF_CMP(<)
FACEPOST_MSL_HALF_CMP(<=)
FACEPOST_MSL_HALF_CMP(>)
FACEPOST_MSL_HALF_CMP(>=)
#undef FACEPOST_MSL_HALF_CMP

namespace metal {

template <class T>
struct identity {
  using type = T;
};
template <class T>
using scalar_t = typename identity<T>::type;  // a non-deduced scalar parameter

template <class T, int N>
struct vec;

namespace detail {
template <class T, int N>
constexpr std::size_t vec_align() {
  return sizeof(T) * (N == 3 ? 4 : N);
}
}  // namespace detail

template <class T>
struct alignas(detail::vec_align<T, 2>()) vec<T, 2> {
  T x, y;
  static constexpr int size = 2;
  using value_type = T;
  vec() = default;
  constexpr vec(T s) : x(s), y(s) {}
  constexpr vec(T a, T b) : x(a), y(b) {}
  template <class U, class = std::enable_if_t<!std::is_same<U, T>::value>>
  constexpr explicit vec(const vec<U, 2>& o) : x(static_cast<T>(o.x)), y(static_cast<T>(o.y)) {}
  constexpr T& operator[](int i) { return i == 0 ? x : y; }
  constexpr const T& operator[](int i) const { return i == 0 ? x : y; }
};

template <class T>
struct alignas(detail::vec_align<T, 3>()) vec<T, 3> {
  T x, y, z;
  static constexpr int size = 3;
  using value_type = T;
  vec() = default;
  constexpr vec(T s) : x(s), y(s), z(s) {}
  constexpr vec(T a, T b, T c) : x(a), y(b), z(c) {}
  constexpr vec(const vec<T, 2>& ab, T c) : x(ab.x), y(ab.y), z(c) {}
  constexpr vec(T a, const vec<T, 2>& bc) : x(a), y(bc.x), z(bc.y) {}
  template <class U, class = std::enable_if_t<!std::is_same<U, T>::value>>
  constexpr explicit vec(const vec<U, 3>& o)
      : x(static_cast<T>(o.x)), y(static_cast<T>(o.y)), z(static_cast<T>(o.z)) {}
  constexpr T& operator[](int i) { return i == 0 ? x : i == 1 ? y : z; }
  constexpr const T& operator[](int i) const { return i == 0 ? x : i == 1 ? y : z; }
};

template <class T>
struct alignas(detail::vec_align<T, 4>()) vec<T, 4> {
  T x, y, z, w;
  static constexpr int size = 4;
  using value_type = T;
  vec() = default;
  constexpr vec(T s) : x(s), y(s), z(s), w(s) {}
  constexpr vec(T a, T b, T c, T d) : x(a), y(b), z(c), w(d) {}
  constexpr vec(const vec<T, 2>& ab, const vec<T, 2>& cd) : x(ab.x), y(ab.y), z(cd.x), w(cd.y) {}
  constexpr vec(const vec<T, 2>& ab, T c, T d) : x(ab.x), y(ab.y), z(c), w(d) {}
  constexpr vec(const vec<T, 3>& abc, T d) : x(abc.x), y(abc.y), z(abc.z), w(d) {}
  template <class U, class = std::enable_if_t<!std::is_same<U, T>::value>>
  constexpr explicit vec(const vec<U, 4>& o)
      : x(static_cast<T>(o.x)), y(static_cast<T>(o.y)), z(static_cast<T>(o.z)), w(static_cast<T>(o.w)) {}
  constexpr T& operator[](int i) { return i == 0 ? x : i == 1 ? y : i == 2 ? z : w; }
  constexpr const T& operator[](int i) const { return i == 0 ? x : i == 1 ? y : i == 2 ? z : w; }
};

template <class T>
struct is_vector : std::false_type {};
template <class T, int N>
struct is_vector<vec<T, N>> : std::true_type {};

/// Component-wise f over vectors of one size (an inline loop; N is at most 4).
template <class R, class T, int N, class F>
vec<R, N> map(const vec<T, N>& a, F f) {
  vec<R, N> r;
  for (int i = 0; i < N; ++i) r[i] = f(a[i]);
  return r;
}
template <class R, class T, class U, int N, class F>
vec<R, N> map2(const vec<T, N>& a, const vec<U, N>& b, F f) {
  vec<R, N> r;
  for (int i = 0; i < N; ++i) r[i] = f(a[i], b[i]);
  return r;
}

#define FACEPOST_MSL_VEC_BINARY(op)                                                                   \
  template <class T, int N>                                                                          \
  vec<T, N> operator op(const vec<T, N>& a, const vec<T, N>& b) {                                    \
    return map2<T>(a, b, [](T u, T v) { return static_cast<T>(u op v); });                           \
  }                                                                                                  \
  template <class T, int N>                                                                          \
  vec<T, N> operator op(const vec<T, N>& a, scalar_t<T> s) {                                         \
    return map<T>(a, [s](T u) { return static_cast<T>(u op s); });                                   \
  }                                                                                                  \
  template <class T, int N>                                                                          \
  vec<T, N> operator op(scalar_t<T> s, const vec<T, N>& b) {                                         \
    return map<T>(b, [s](T v) { return static_cast<T>(s op v); });                                   \
  }                                                                                                  \
  template <class T, int N>                                                                          \
  vec<T, N>& operator op##=(vec<T, N>& a, const vec<T, N>& b) {                                      \
    return a = a op b;                                                                               \
  }                                                                                                  \
  template <class T, int N>                                                                          \
  vec<T, N>& operator op##=(vec<T, N>& a, scalar_t<T> s) {                                           \
    return a = a op s;                                                                               \
  }
FACEPOST_MSL_VEC_BINARY(+)
FACEPOST_MSL_VEC_BINARY(-)
FACEPOST_MSL_VEC_BINARY(*)
FACEPOST_MSL_VEC_BINARY(/)
FACEPOST_MSL_VEC_BINARY(%)
FACEPOST_MSL_VEC_BINARY(&)
FACEPOST_MSL_VEC_BINARY(|)
FACEPOST_MSL_VEC_BINARY(^)
FACEPOST_MSL_VEC_BINARY(<<)
FACEPOST_MSL_VEC_BINARY(>>)
#undef FACEPOST_MSL_VEC_BINARY

#define FACEPOST_MSL_VEC_COMPARE(op)                                                                  \
  template <class T, int N>                                                                          \
  vec<bool, N> operator op(const vec<T, N>& a, const vec<T, N>& b) {                                 \
    return map2<bool>(a, b, [](T u, T v) { return u op v; });                                        \
  }                                                                                                  \
  template <class T, int N>                                                                          \
  vec<bool, N> operator op(const vec<T, N>& a, scalar_t<T> s) {                                      \
    return map<bool>(a, [s](T u) { return u op s; });                                                \
  }                                                                                                  \
  template <class T, int N>                                                                          \
  vec<bool, N> operator op(scalar_t<T> s, const vec<T, N>& b) {                                      \
    return map<bool>(b, [s](T v) { return s op v; });                                                \
  }
FACEPOST_MSL_VEC_COMPARE(==)
FACEPOST_MSL_VEC_COMPARE(!=)
FACEPOST_MSL_VEC_COMPARE(<)
FACEPOST_MSL_VEC_COMPARE(<=)
FACEPOST_MSL_VEC_COMPARE(>)
FACEPOST_MSL_VEC_COMPARE(>=)
FACEPOST_MSL_VEC_COMPARE(&&)
FACEPOST_MSL_VEC_COMPARE(||)
#undef FACEPOST_MSL_VEC_COMPARE

template <class T, int N>
vec<T, N> operator-(const vec<T, N>& a) {
  return map<T>(a, [](T u) { return static_cast<T>(-u); });
}
template <class T, int N>
vec<T, N> operator~(const vec<T, N>& a) {
  return map<T>(a, [](T u) { return static_cast<T>(~u); });
}
template <int N>
vec<bool, N> operator!(const vec<bool, N>& a) {
  return map<bool>(a, [](bool u) { return !u; });
}

template <int N>
bool all(const vec<bool, N>& a) {
  for (int i = 0; i < N; ++i)
    if (!a[i]) return false;
  return true;
}
template <int N>
bool any(const vec<bool, N>& a) {
  for (int i = 0; i < N; ++i)
    if (a[i]) return true;
  return false;
}
inline bool all(bool b) { return b; }
inline bool any(bool b) { return b; }

/// The bits of x as a T of the same size.
template <class To, class From>
To as_type(const From& x) {
  static_assert(sizeof(To) == sizeof(From), "as_type: the types differ in size");
  static_assert(std::is_trivially_copyable<From>::value && std::is_trivially_copyable<To>::value,
                "as_type: not a bit-copyable type");
  To t;
  std::memcpy(&t, &x, sizeof t);
  return t;
}

}  // namespace metal

#define FACEPOST_MSL_VEC_TYPEDEFS(T, name)  \
  typedef metal::vec<T, 2> name##2;         \
  typedef metal::vec<T, 3> name##3;         \
  typedef metal::vec<T, 4> name##4;
FACEPOST_MSL_VEC_TYPEDEFS(bool, bool)
FACEPOST_MSL_VEC_TYPEDEFS(char, char)
FACEPOST_MSL_VEC_TYPEDEFS(uchar, uchar)
FACEPOST_MSL_VEC_TYPEDEFS(short, short)
FACEPOST_MSL_VEC_TYPEDEFS(ushort, ushort)
FACEPOST_MSL_VEC_TYPEDEFS(int, int)
FACEPOST_MSL_VEC_TYPEDEFS(uint, uint)
FACEPOST_MSL_VEC_TYPEDEFS(long, long)
FACEPOST_MSL_VEC_TYPEDEFS(ulong, ulong)
FACEPOST_MSL_VEC_TYPEDEFS(float, float)
FACEPOST_MSL_VEC_TYPEDEFS(half, half)
#undef FACEPOST_MSL_VEC_TYPEDEFS
static_assert(sizeof(float3) == 16 && alignof(float3) == 16, "MSL's float3 takes 16 bytes");
static_assert(sizeof(uint2) == 8 && alignof(uint2) == 8, "MSL's uint2 takes 8 bytes");
