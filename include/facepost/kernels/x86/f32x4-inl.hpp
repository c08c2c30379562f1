// facepost/kernels/x86/f32x4-inl.hpp - four float lanes in an SSE register (VEX-encoded inside
// AVX targets): one box per vector for the decoders of the AVX2 and AVX-512 kernels. Included
// inside their kernel namespaces; no include guard on purpose.

struct F32x4 {
  static constexpr std::size_t lanes = 4;
  __m128 v;
  F32x4() = default;
  FACEPOST_INLINE explicit F32x4(__m128 x) noexcept : v(x) {}
  FACEPOST_INLINE explicit F32x4(float x) noexcept : v(_mm_set1_ps(x)) {}
  static FACEPOST_INLINE F32x4 load(const float* p) noexcept { return F32x4(_mm_loadu_ps(p)); }
  FACEPOST_INLINE void store(float* p) const noexcept { _mm_storeu_ps(p, v); }
  static FACEPOST_INLINE F32x4 xy(float x, float y) noexcept { return F32x4(_mm_setr_ps(x, y, x, y)); }
};
FACEPOST_INLINE F32x4 add(F32x4 a, F32x4 b) noexcept { return F32x4(_mm_add_ps(a.v, b.v)); }
FACEPOST_INLINE F32x4 sub(F32x4 a, F32x4 b) noexcept { return F32x4(_mm_sub_ps(a.v, b.v)); }
FACEPOST_INLINE F32x4 mul(F32x4 a, F32x4 b) noexcept {
  __m128 r = _mm_mul_ps(a.v, b.v);
  FACEPOST_DETAIL_BARRIER(r);
  return F32x4(r);
}
FACEPOST_INLINE F32x4 div(F32x4 a, F32x4 b) noexcept {
  __m128 r = _mm_div_ps(a.v, b.v);
  FACEPOST_DETAIL_BARRIER(r);
  return F32x4(r);
}
/// (p2 p3 p2 p3): w h w h of a prior.
FACEPOST_INLINE F32x4 dup_high(F32x4 p) noexcept { return F32x4(_mm_movehl_ps(p.v, p.v)); }
/// (a0 a1 b0 b1)
FACEPOST_INLINE F32x4 low_pairs(F32x4 a, F32x4 b) noexcept { return F32x4(_mm_movelh_ps(a.v, b.v)); }
