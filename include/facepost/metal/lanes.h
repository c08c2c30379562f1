// facepost/metal/lanes.h - the lane operations of arith/lanes.hpp for Metal (MSL), so that the
// Metal kernels instantiate the same arith/*-inl.hpp files as every other backend.
//
// MSL subset on purpose: no std headers, no exceptions, no double (neither the type nor an
// unsuffixed floating literal), no C++17. It assumes <metal_stdlib> and `using namespace metal;`
// (on Linux: tests/metal/arith/msl_prelude.hpp, later the shim) and uses only the MSL scalar types
// (long/ulong are 64-bit), as_type<T>() and integer operations.
//
// Metal exactness traps and how this file guards against them:
//  - FMA contraction: Metal contracts a*b+c into fma by default. The kernel source is compiled
//    with `#pragma METAL fp contract(off)` and fast math off; in addition every lane operation
//    here is one IEEE operation in its own function (one statement), so no a*b+c appears in one
//    expression. Known (documented compiler behaviour).
//  - Fast math: on by default in newLibraryWithSource (MTLCompileOptions.fastMathEnabled / the
//    newer mathMode). It must be off (precise mode): fast math licenses reassociation and
//    approximate division. The host code must set it; nothing in the source can enforce it.
//  - No double on Apple GPUs, and an unsuffixed literal like 0.5 is silently a float there: the
//    double precision exp runs on SoftDouble (IEEE binary64 in a ulong, integer arithmetic
//    only), its constants come from bit patterns (FACEPOST_F64 below), and the Linux test builds
//    this code with -fsingle-precision-constant so a stray double literal behaves as on Metal.
//  - Subnormal floats: the MSL specification allows float denormals to be flushed to zero
//    (unverified which Apple GPU families/operations do). SoftDouble::to_float produces float
//    subnormals by integer operations, so exp_f32's own result is exact; a following float
//    operation on a subnormal (softmax's add/div) may flush on a device: to be checked on Apple
//    hardware, not covered by the Linux tests.
//  - Division: the MSL specification lists x / y as correctly rounded only with fast math off
//    (fast math: ~2.5 ulp). div() is a plain `/` and relies on precise mode; unverified on
//    hardware here.
//  - NaN payloads: SoftDouble follows x86 (a NaN operand is returned quieted; float<->double
//    conversions keep the payload's top bits and set the quiet bit), so exp_f32(NaN) has the
//    CPU's bits. Float NaN payloads through GPU float operations are not guaranteed (unverified).
#pragma once

namespace facepost {
namespace msl {
namespace lanes {

// ---- float lanes: one IEEE operation each (round to nearest even in precise mode)
inline float add(float a, float b) { return a + b; }
inline float sub(float a, float b) { return a - b; }
inline float mul(float a, float b) { return a * b; }
inline float div(float a, float b) { return a / b; }
/// The references' a > b ? a : b and a < b ? a : b (NaN and signed-zero cases included).
inline float max_ref(float a, float b) { return a > b ? a : b; }
inline float min_ref(float a, float b) { return a < b ? a : b; }
inline bool gt(float a, float b) { return a > b; }
inline bool lt(float a, float b) { return a < b; }
inline bool le(float a, float b) { return a <= b; }
inline bool nle(float a, float b) { return !(a <= b); }
inline bool is_nan(float a) { return a != a; }
inline float select(bool m, float a, float b) { return m ? a : b; }
inline bool select(bool m, bool a, bool b) { return m ? a : b; }
inline bool and_(bool a, bool b) { return a && b; }
inline bool any(bool m) { return m; }
/// |x| by clearing the sign bit (no library call; NaN payloads kept).
inline float abs(float x) { return as_type<float>(as_type<uint>(x) & 0x7FFFFFFFu); }

// ---- SoftDouble: IEEE binary64, round to nearest even, integer arithmetic only.
//
// Scope: add, sub, mul, round_even, scale_pow2, to_float are correctly rounded (RNE) for all
// finite operands, subnormal doubles included (the tests compare them with hardware doubles on
// normal and subnormal operands), with IEEE zeros, infinities and overflow. NaNs: one NaN
// operand is returned quieted, as x86 does; of two NaNs the first (x86 returns the first of its
// instruction's operands, which the compiler may swap: not a stable CPU result either); invalid
// operations (inf - inf, 0 * inf) give x86's default NaN 0xFFF8000000000000. exp_lanes itself only sees finite normal doubles
// and zeros after its clamp (|x| <= 110, products >= 2^-182): the rest is defined for safety,
// not needed by exp.
struct SoftDouble {
  ulong bits;
  static SoftDouble from_bits(ulong b) {
    SoftDouble d;
    d.bits = b;
    return d;
  }
};

namespace soft {
// Enumerators, not variables: MSL wants program-scope variables in the constant address space.
enum : ulong {
  kSign = 0x8000000000000000ul,
  kExpMask = 0x7FF0000000000000ul,
  kFracMask = 0x000FFFFFFFFFFFFFul,
  kDefaultNaN = 0xFFF8000000000000ul,
  kQuiet = 0x0008000000000000ul,
};

inline bool nan_bits(ulong b) { return (b & ~kSign) > kExpMask; }
inline bool inf_bits(ulong b) { return (b & ~kSign) == kExpMask; }
inline bool zero_bits(ulong b) { return (b & ~kSign) == 0; }

/// Leading zeros of a nonzero 64-bit value (binary search: clz on 64-bit types is not in every
/// MSL version).
inline int clz64(ulong v) {
  int n = 0;
  if ((v >> 32) == 0) { n += 32; v <<= 32; }
  if ((v >> 48) == 0) { n += 16; v <<= 16; }
  if ((v >> 56) == 0) { n += 8; v <<= 8; }
  if ((v >> 60) == 0) { n += 4; v <<= 4; }
  if ((v >> 62) == 0) { n += 2; v <<= 2; }
  if ((v >> 63) == 0) { n += 1; }
  return n;
}

/// v >> n with every shifted-out bit ORed into bit 0 ("sticky"), for n >= 0.
inline ulong shift_right_jam(ulong v, int n) {
  if (n == 0) return v;
  if (n >= 64) return v != 0 ? 1ul : 0ul;
  const ulong lost = v << (64 - n);
  return (v >> n) | (lost != 0 ? 1ul : 0ul);
}

/// A finite nonzero magnitude as sig * 2^(e - 1085), sig in [2^62, 2^63): e is the biased
/// exponent of a normal double (subnormals get e <= 0).
struct Unpacked {
  ulong sig;
  int e;
};
inline Unpacked unpack(ulong b) {
  Unpacked u;
  const int ef = int((b & kExpMask) >> 52);
  const ulong frac = b & kFracMask;
  if (ef != 0) {
    u.sig = (frac | 0x0010000000000000ul) << 10;
    u.e = ef;
  } else {
    const int z = clz64(frac);
    u.sig = frac << (z - 1);
    u.e = 12 - z;
  }
  return u;
}

/// The double nearest (ties to even) to (-1)^sign * sig * 2^(e - 1085), sig in [2^62, 2^63)
/// with sticky bits ORed into bit 0: overflow to inf, gradual underflow to subnormals and 0.
inline ulong round_pack(ulong sign, int e, ulong sig) {
  if (e >= 2047) return sign | kExpMask;
  if (e < 1) {
    sig = shift_right_jam(sig, 1 - e);
    e = 1;
  }
  const ulong low = sig & 0x3FFul;  // the 10 bits below the 53-bit significand
  ulong q = sig >> 10;
  if (low > 0x200ul || (low == 0x200ul && (q & 1ul) != 0)) q += 1ul;
  // The implicit bit (2^52) adds one to the exponent field; a carry out of the significand
  // moves to the next binade by itself; a subnormal q < 2^52 leaves the field at 0.
  const ulong mag = (ulong(e - 1) << 52) + q;
  if (mag >= kExpMask) return sign | kExpMask;
  return sign | mag;
}

inline ulong quiet(ulong b) { return b | kQuiet; }

inline ulong add_bits(ulong a, ulong b) {
  if (nan_bits(a)) return quiet(a);
  if (nan_bits(b)) return quiet(b);
  const ulong sa = a & kSign, sb = b & kSign;
  if (inf_bits(a)) return (inf_bits(b) && sa != sb) ? kDefaultNaN : a;
  if (inf_bits(b)) return b;
  if (zero_bits(a)) return zero_bits(b) ? (a & b) : b;  // +0 + -0 = +0 (ties to even)
  if (zero_bits(b)) return a;
  Unpacked x = unpack(a), y = unpack(b);
  ulong sign = sa;
  // x is the larger magnitude.
  if (y.e > x.e || (y.e == x.e && y.sig > x.sig)) {
    const Unpacked t = x;
    x = y;
    y = t;
    sign = sb;
  }
  const ulong ysig = shift_right_jam(y.sig, x.e - y.e);
  ulong sig;
  int e = x.e;
  if (sa == sb) {
    sig = x.sig + ysig;  // < 2^64
    if ((sig >> 63) != 0) {
      sig = shift_right_jam(sig, 1);
      e += 1;
    }
  } else {
    sig = x.sig - ysig;
    if (sig == 0) return 0ul;  // x - x = +0
    const int z = clz64(sig) - 1;
    sig <<= z;  // exact: a shift of more than one bit happens only when ysig lost no bits
    e -= z;
  }
  return round_pack(sign, e, sig);
}

inline ulong mul_bits(ulong a, ulong b) {
  if (nan_bits(a)) return quiet(a);
  if (nan_bits(b)) return quiet(b);
  const ulong sign = (a ^ b) & kSign;
  if (inf_bits(a) || inf_bits(b)) {
    if (zero_bits(a) || zero_bits(b)) return kDefaultNaN;
    return sign | kExpMask;
  }
  if (zero_bits(a) || zero_bits(b)) return sign;
  const Unpacked x = unpack(a), y = unpack(b);
  // 53-bit significands, their 106-bit product from 32-bit halves.
  const ulong ma = x.sig >> 10, mb = y.sig >> 10;
  const ulong a0 = ma & 0xFFFFFFFFul, a1 = ma >> 32;
  const ulong b0 = mb & 0xFFFFFFFFul, b1 = mb >> 32;
  const ulong p00 = a0 * b0;
  const ulong p01 = a0 * b1;
  const ulong p10 = a1 * b0;
  const ulong p11 = a1 * b1;
  const ulong mid = (p00 >> 32) + (p01 & 0xFFFFFFFFul) + (p10 & 0xFFFFFFFFul);
  const ulong lo = (mid << 32) | (p00 & 0xFFFFFFFFul);
  const ulong hi = p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
  // product in [2^104, 2^106): its leading bit to bit 62, the rest sticky.
  int e = x.e + y.e - 1023;
  ulong sig;
  if ((hi >> 41) != 0) {  // >= 2^105
    sig = (hi << 21) | (lo >> 43) | ((lo & 0x7FFFFFFFFFFul) != 0 ? 1ul : 0ul);
    e += 1;
  } else {
    sig = (hi << 22) | (lo >> 42) | ((lo & 0x3FFFFFFFFFFul) != 0 ? 1ul : 0ul);
  }
  return round_pack(sign, e, sig);
}

/// Less-than of two non-NaN values in the IEEE order (-0 == +0).
inline bool less_bits(ulong a, ulong b) {
  if (nan_bits(a) || nan_bits(b)) return false;
  if (zero_bits(a) && zero_bits(b)) return false;
  // Sign-magnitude to an unsigned order: negatives reversed below positives.
  const ulong ka = (a & kSign) != 0 ? ~a : (a | kSign);
  const ulong kb = (b & kSign) != 0 ? ~b : (b | kSign);
  return ka < kb;
}
}  // namespace soft

inline SoftDouble add(SoftDouble a, SoftDouble b) { return SoftDouble::from_bits(soft::add_bits(a.bits, b.bits)); }
inline SoftDouble sub(SoftDouble a, SoftDouble b) {
  // a - b = a + (-b); a NaN b is returned as it is (x86), not negated.
  if (soft::nan_bits(b.bits) && !soft::nan_bits(a.bits)) return SoftDouble::from_bits(soft::quiet(b.bits));
  return SoftDouble::from_bits(soft::add_bits(a.bits, b.bits ^ soft::kSign));
}
inline SoftDouble mul(SoftDouble a, SoftDouble b) { return SoftDouble::from_bits(soft::mul_bits(a.bits, b.bits)); }
inline bool gt(SoftDouble a, SoftDouble b) { return soft::less_bits(b.bits, a.bits); }
inline bool lt(SoftDouble a, SoftDouble b) { return soft::less_bits(a.bits, b.bits); }
inline bool is_nan(SoftDouble a) { return soft::nan_bits(a.bits); }
inline SoftDouble max_ref(SoftDouble a, SoftDouble b) { return gt(a, b) ? a : b; }
inline SoftDouble min_ref(SoftDouble a, SoftDouble b) { return lt(a, b) ? a : b; }
inline SoftDouble select(bool m, SoftDouble a, SoftDouble b) { return m ? a : b; }

/// float to SoftDouble, exact (subnormal floats become normal doubles; a NaN is quieted with its
/// payload kept, as x86 cvtss2sd does).
inline SoftDouble widen(float x) {
  const uint f = as_type<uint>(x);
  const ulong sign = ulong(f & 0x80000000u) << 32;
  const uint ef = (f >> 23) & 0xFFu;
  const ulong frac = ulong(f & 0x007FFFFFu);
  if (ef == 0xFFu) {
    if (frac == 0) return SoftDouble::from_bits(sign | soft::kExpMask);
    return SoftDouble::from_bits(sign | soft::kExpMask | soft::kQuiet | (frac << 29));
  }
  if (ef != 0) return SoftDouble::from_bits(sign | (ulong(ef + 896u) << 52) | (frac << 29));
  if (frac == 0) return SoftDouble::from_bits(sign);
  // subnormal: frac * 2^-149, normalised
  const int z = soft::clz64(frac);  // 41..63
  const ulong sig = frac << (z - 11);  // leading bit at 52
  return SoftDouble::from_bits(sign | (ulong(1023 - 149 + 63 - z) << 52) | (sig & soft::kFracMask));
}

/// Round to nearest integer, ties to even (nearbyint in the default mode; the sign of a zero
/// result is the operand's).
inline SoftDouble round_even(SoftDouble z) {
  const ulong b = z.bits;
  const ulong sign = b & soft::kSign;
  const int e = int((b & soft::kExpMask) >> 52) - 1023;
  if (soft::nan_bits(b)) return SoftDouble::from_bits(soft::quiet(b));
  if (e >= 52) return z;  // integral already; inf too
  if (e < -1) return SoftDouble::from_bits(sign);  // |z| < 0.5
  if (e == -1) {                                   // 0.5 <= |z| < 1: 1 unless exactly 0.5
    const bool half = (b & soft::kFracMask) == 0;
    return SoftDouble::from_bits(half ? sign : (sign | 0x3FF0000000000000ul));
  }
  const int shift = 52 - e;  // 1..52 fraction bits
  const ulong mag = b & ~soft::kSign;
  const ulong mask = (1ul << shift) - 1ul;
  const ulong half = 1ul << (shift - 1);
  const ulong rem = mag & mask;
  ulong r = mag & ~mask;
  // The lowest integer bit is bit `shift` of the pattern (for shift = 52 the exponent's lowest
  // bit, 1 for 1023 = 2^0's biased exponent: the integer 1 is odd, as it should be).
  if (rem > half || (rem == half && ((r >> shift) & 1ul) != 0)) r += 1ul << shift;  // a carry
  return SoftDouble::from_bits(sign | r);  // into the exponent is the next binade, exactly
}

/// p * 2^k for an integral k, correctly rounded (exact unless the result is subnormal or
/// overflows). Equals the CPU's scale_pow2 wherever that is defined (|k| < 1022, 2^k normal);
/// a non-integral k is truncated toward zero, |k| beyond 2^20 saturates.
inline SoftDouble scale_pow2(SoftDouble p, SoftDouble k) {
  const ulong pb = p.bits;
  if (soft::nan_bits(pb) || soft::inf_bits(pb) || soft::zero_bits(pb)) return p;
  const ulong kb = k.bits;
  const int ke = int((kb & soft::kExpMask) >> 52) - 1023;
  int n = 0;
  if (ke >= 20) {
    n = 1 << 20;
  } else if (ke >= 0) {
    n = int(((kb & soft::kFracMask) | 0x0010000000000000ul) >> (52 - ke));
  }
  if ((kb & soft::kSign) != 0) n = -n;
  const soft::Unpacked u = soft::unpack(pb);
  return SoftDouble::from_bits(soft::round_pack(pb & soft::kSign, u.e + n, u.sig));
}

/// To float, round to nearest even: float subnormals, underflow to a signed 0, overflow to inf;
/// a NaN keeps its sign and payload's top bits, quieted (as x86 cvtsd2ss).
inline float to_float(SoftDouble d) {
  const ulong b = d.bits;
  const uint sign = uint(b >> 32) & 0x80000000u;
  if (soft::nan_bits(b)) return as_type<float>(sign | 0x7FC00000u | uint((b & soft::kFracMask) >> 29));
  if (soft::inf_bits(b)) return as_type<float>(sign | 0x7F800000u);
  if (soft::zero_bits(b)) return as_type<float>(sign);
  const soft::Unpacked u = soft::unpack(b);
  int ef = u.e - 896;  // float biased exponent
  ulong sig = u.sig;   // leading bit at 62: 24 significand bits, then 39 rounding bits
  if (ef >= 255) return as_type<float>(sign | 0x7F800000u);
  if (ef < 1) {
    sig = soft::shift_right_jam(sig, 1 - ef);
    ef = 1;
  }
  const ulong low = sig & 0x7FFFFFFFFFul;
  ulong q = sig >> 39;
  if (low > 0x4000000000ul || (low == 0x4000000000ul && (q & 1ul) != 0)) q += 1ul;
  const uint mag = (uint(ef - 1) << 23) + uint(q);
  if (mag >= 0x7F800000u) return as_type<float>(sign | 0x7F800000u);
  return as_type<float>(sign | mag);
}

}  // namespace lanes
}  // namespace msl
}  // namespace facepost

// The binary64 constants of the arithmetic files, from their bit patterns (arith/lanes.hpp has
// the CPU's definition; its hex-float `value` is checked there and unused here).
#if defined(FACEPOST_F64)
#error "facepost/metal/lanes.h and facepost/arith/lanes.hpp cannot share a translation unit"
#endif
#define FACEPOST_F64(D, bits, value) D::from_bits(ulong(bits))
