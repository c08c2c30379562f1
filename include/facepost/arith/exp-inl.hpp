// facepost/arith/exp-inl.hpp - exp for float32, one algorithm for every backend (scalar, each SIMD
// instruction set, CUDA). Included inside a lane namespace (arith.hpp, kernels/<isa>/lanes.hpp);
// no include guard on purpose.
//
// The C library's expf differs between libraries and even between CPU variants of one library,
// and no vector version of it exists. facepost computes exp(x) in double precision:
// 2^(x/ln2) = 2^k * 2^r, k = round(x/ln2), |r| <= 1/2, 2^r by its Taylor series to degree 11
// (truncation < 1e-14 relative), then one rounding to float. The result is the correctly rounded
// float except when exp(x) lies within ~1e-14 of a rounding midpoint, i.e. it differs from a
// correctly rounded expf by at most one ulp, and only rarely (tests/test_expf.cpp measures it).
// Every step is one lane operation (arith/lanes.hpp), products unfused, so every backend
// produces identical bits.

/// exp of each lane of D (double lanes). NaN stays NaN, large x gives +inf after to_float, very
/// negative x gives 0.
// The binary64 constants are FACEPOST_F64(D, bits, value) (the lane layer's): a lane type without
// doubles (Metal) is built from the bit pattern, which the CPU build checks against the value.
template <class D>
FACEPOST_ARITH_FN D exp_lanes(D x) noexcept {
  // Clamped so that 2^k stays a normal double: exp(-110) is far below the smallest float
  // subnormal, exp(90) far above FLT_MAX. A NaN lane clamps to 90 here and is restored below.
  const D xc = max_ref(min_ref(x, FACEPOST_F64(D, 0x4056800000000000, 0x1.68p+6)),  // 90
                       FACEPOST_F64(D, 0xC05B800000000000, -0x1.b8p+6));          // -110
  const D z = mul(xc, FACEPOST_F64(D, 0x3FF71547652B82FE, 0x1.71547652b82fep+0));  // x / ln 2
  const D k = round_even(z);
  const D r = sub(z, k);
  // (ln 2)^n / n!, n = 11 down to 0, by Horner's rule.
  D p = FACEPOST_F64(D, 0x3DFE8CAC7351BB25, 0x1.e8cac7351bb25p-32);
  p = add(mul(p, r), FACEPOST_F64(D, 0x3E3E4CF5158B8ECA, 0x1.e4cf5158b8ecap-28));
  p = add(mul(p, r), FACEPOST_F64(D, 0x3E7B5253D395E7C4, 0x1.b5253d395e7c4p-24));
  p = add(mul(p, r), FACEPOST_F64(D, 0x3EB62C0223A5C824, 0x1.62c0223a5c824p-20));
  p = add(mul(p, r), FACEPOST_F64(D, 0x3EEFFCBFC588B0C7, 0x1.ffcbfc588b0c7p-17));
  p = add(mul(p, r), FACEPOST_F64(D, 0x3F2430912F86C787, 0x1.430912f86c787p-13));
  p = add(mul(p, r), FACEPOST_F64(D, 0x3F55D87FE78A6731, 0x1.5d87fe78a6731p-10));
  p = add(mul(p, r), FACEPOST_F64(D, 0x3F83B2AB6FBA4E77, 0x1.3b2ab6fba4e77p-7));
  p = add(mul(p, r), FACEPOST_F64(D, 0x3FAC6B08D704A0C0, 0x1.c6b08d704a0c0p-5));
  p = add(mul(p, r), FACEPOST_F64(D, 0x3FCEBFBDFF82C58F, 0x1.ebfbdff82c58fp-3));
  p = add(mul(p, r), FACEPOST_F64(D, 0x3FE62E42FEFA39EF, 0x1.62e42fefa39efp-1));
  p = add(mul(p, r), FACEPOST_F64(D, 0x3FF0000000000000, 0x1.0000000000000p+0));
  return select(is_nan(x), x, scale_pow2(p, k));
}
