// facepost/kernels/scalar/lanes.hpp - the portable kernels: lanes of one (and small lane arrays
// for a box or a pair of coordinates), each lane operation one scalar operation of
// arith/lanes.hpp. The reference the SIMD kernels are tested against, and the kernels of every
// target without SIMD ones.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>

#include "facepost/arith/arith.hpp"
#include "facepost/decode.hpp"
#include "facepost/detections.hpp"
#include "facepost/isa.hpp"
#include "facepost/kernels/table.hpp"
#include "facepost/nms/all_pairs.hpp"
#include "facepost/nms/bounds.hpp"
#include "facepost/nms/grid.hpp"
#include "facepost/nms/workspace.hpp"
#include "facepost/scores.hpp"
#include "facepost/tensor.hpp"

namespace facepost {
FACEPOST_ABI_BEGIN
namespace kernels {
namespace scalar {

/// N lanes of T, every operation lane by lane.
template <class T, std::size_t N>
struct Lanes {
  static constexpr std::size_t lanes = N;
  T v[N];
  Lanes() = default;
  FACEPOST_INLINE explicit Lanes(T x) noexcept {
    for (std::size_t i = 0; i < N; ++i) v[i] = x;
  }
  static FACEPOST_INLINE Lanes load(const T* p) noexcept {
    Lanes r;
    for (std::size_t i = 0; i < N; ++i) r.v[i] = p[i];
    return r;
  }
  /// The first n lanes from p, the others 0.
  static FACEPOST_INLINE Lanes load_partial(const T* p, std::size_t n) noexcept {
    Lanes r(T(0));
    for (std::size_t i = 0; i < n; ++i) r.v[i] = p[i];
    return r;
  }
  /// The first n <= N lanes from p, the others 0.
  static FACEPOST_INLINE Lanes load_n(const T* p, std::size_t n) noexcept {
    return n == N ? load(p) : load_partial(p, n);
  }
  FACEPOST_INLINE void store(T* p) const noexcept {
    for (std::size_t i = 0; i < N; ++i) p[i] = v[i];
  }
  FACEPOST_INLINE void store_partial(T* p, std::size_t n) const noexcept {
    for (std::size_t i = 0; i < n; ++i) p[i] = v[i];
  }
  /// (x, y, x, y, ...)
  static FACEPOST_INLINE Lanes xy(T x, T y) noexcept {
    Lanes r;
    for (std::size_t i = 0; i < N; ++i) r.v[i] = i % 2 ? y : x;
    return r;
  }
};
template <std::size_t N>
using Mask = Lanes<bool, N>;

#define FACEPOST_DETAIL_LANEWISE(name, R)                                                  \
  template <class T, std::size_t N>                                                        \
  FACEPOST_INLINE Lanes<R, N> name(Lanes<T, N> a, Lanes<T, N> b) noexcept {                \
    Lanes<R, N> r;                                                                         \
    for (std::size_t i = 0; i < N; ++i) r.v[i] = lanes::name(a.v[i], b.v[i]);              \
    return r;                                                                              \
  }
FACEPOST_DETAIL_LANEWISE(add, T)
FACEPOST_DETAIL_LANEWISE(sub, T)
FACEPOST_DETAIL_LANEWISE(mul, T)
FACEPOST_DETAIL_LANEWISE(div, T)
FACEPOST_DETAIL_LANEWISE(max_ref, T)
FACEPOST_DETAIL_LANEWISE(min_ref, T)
FACEPOST_DETAIL_LANEWISE(gt, bool)
FACEPOST_DETAIL_LANEWISE(lt, bool)
FACEPOST_DETAIL_LANEWISE(ge, bool)
FACEPOST_DETAIL_LANEWISE(nle, bool)
FACEPOST_DETAIL_LANEWISE(and_, bool)
#undef FACEPOST_DETAIL_LANEWISE

template <class T, std::size_t N>
FACEPOST_INLINE Mask<N> is_nan(Lanes<T, N> a) noexcept {
  Mask<N> r;
  for (std::size_t i = 0; i < N; ++i) r.v[i] = lanes::is_nan(a.v[i]);
  return r;
}
template <std::size_t N>
FACEPOST_INLINE Lanes<float, N> abs(Lanes<float, N> a) noexcept {
  for (std::size_t i = 0; i < N; ++i) a.v[i] = lanes::abs(a.v[i]);
  return a;
}
template <class T, std::size_t N>
FACEPOST_INLINE Lanes<T, N> select(Mask<N> m, Lanes<T, N> a, Lanes<T, N> b) noexcept {
  for (std::size_t i = 0; i < N; ++i) b.v[i] = m.v[i] ? a.v[i] : b.v[i];
  return b;
}
template <std::size_t N>
FACEPOST_INLINE Lanes<double, N> round_even(Lanes<double, N> a) noexcept {
  for (std::size_t i = 0; i < N; ++i) a.v[i] = lanes::round_even(a.v[i]);
  return a;
}
template <std::size_t N>
FACEPOST_INLINE Lanes<double, N> scale_pow2(Lanes<double, N> p, Lanes<double, N> k) noexcept {
  for (std::size_t i = 0; i < N; ++i) p.v[i] = lanes::scale_pow2(p.v[i], k.v[i]);
  return p;
}
template <std::size_t N>
FACEPOST_INLINE bool any(Mask<N> m) noexcept {
  bool r = false;
  for (std::size_t i = 0; i < N; ++i) r |= m.v[i];
  return r;
}
template <std::size_t N>
FACEPOST_INLINE bool all(Mask<N> m) noexcept {
  bool r = true;
  for (std::size_t i = 0; i < N; ++i) r &= m.v[i];
  return r;
}

#include "facepost/arith/all-inl.hpp"

// ---- the lane shapes and primitives the generic algorithms use (kernels/generic/*-inl.hpp)
constexpr const char* kName = "scalar";
using F = Lanes<float, 1>;
using F4 = Lanes<float, 4>;
using FL = Lanes<float, 2>;  // landmarks: one (x, y) pair per step
using D = Lanes<double, 1>;
constexpr std::size_t kFilterRows = 8;  // eight rows per step, one bit mask
constexpr std::size_t kExpBlock = 1;
/// NMS grid cells per smallest box (nms/grid.hpp): one slot per step favours small cells.
constexpr double kNmsCellScale = 1.0;
constexpr bool kSkipUnkeptLanes = true;

FACEPOST_INLINE F load_f16(const std::uint16_t* p) noexcept { return F(f16_to_f32(p[0])); }
template <class Q>
FACEPOST_INLINE F load_q8(const Q* p, std::int32_t zero_point) noexcept {
  return F(static_cast<float>(std::int32_t(p[0]) - zero_point));
}
FACEPOST_INLINE void load_conf(const float* conf, F& background, F& face) noexcept {
  background = F(conf[0]);
  face = F(conf[1]);
}
FACEPOST_INLINE std::uint32_t mask_bits(Mask<1> m) noexcept { return std::uint32_t(m.v[0]); }
/// The rows of the set bits of `bits`, lowest first.
FACEPOST_INLINE std::size_t compress(const float* conf, std::uint32_t bits, std::size_t first_row,
                                     std::uint32_t* index, float* score) noexcept {
  std::size_t n = 0;
  while (bits) {
    const int b = __builtin_ctz(bits);
    index[n] = static_cast<std::uint32_t>(first_row + std::size_t(b));
    score[n] = conf[2 * b + 1];
    ++n;
    bits &= bits - 1;
  }
  return n;
}
FACEPOST_INLINE Mask<1> kept_lanes(const std::int32_t* kept, std::size_t) noexcept {
  Mask<1> m;
  m.v[0] = kept[0] != 0;
  return m;
}
FACEPOST_INLINE F4 dup_high(F4 p) noexcept { return F4::xy(p.v[2], p.v[3]); }
FACEPOST_INLINE F4 low_pairs(F4 a, F4 b) noexcept {
  F4 r;
  r.v[0] = a.v[0], r.v[1] = a.v[1], r.v[2] = b.v[0], r.v[3] = b.v[1];
  return r;
}
FACEPOST_INLINE D load_widen(const float* p) noexcept { return D(double(p[0])); }
FACEPOST_INLINE void store_narrow(float* p, D d) noexcept { p[0] = lanes::to_float(d.v[0]); }

#include "facepost/kernels/generic/table-inl.hpp"

}  // namespace scalar
}  // namespace kernels
FACEPOST_ABI_END
}  // namespace facepost
