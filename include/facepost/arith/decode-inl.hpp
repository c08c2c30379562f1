// facepost/arith/decode-inl.hpp - box and landmark decoding, rounded exactly as the reference.
// Included inside a lane namespace; no include guard on purpose.
//
// Reference (float32 throughout; each product rounded before the next add):
//   cx = p.cx + l0*v0*p.w      w = p.w * exp(l2*v1)      x1 = cx - w/2    x2 = w + x1
//   then x * W (input width), then (x - pad) / scale (the reference: x / resize).
// Each function works lane-wise, so a lane can hold an x or a y coordinate alike.

/// Centre shifted by its regression: p_c + l*v0*p_s.
template <class F>
FACEPOST_ARITH_FN F decode_center(F p_c, F l, F v0, F p_s) noexcept {
  return add(p_c, mul(mul(l, v0), p_s));
}

/// Corners of a box of centre c and size s: lo = c - s/2, hi = s + lo.
template <class F>
FACEPOST_ARITH_FN void decode_corners(F c, F s, F& lo, F& hi) noexcept {
  lo = sub(c, div(s, F(2.f)));
  hi = add(s, lo);
}

/// Normalised coordinate to original-image pixels: (v*size - pad) / scale.
template <class F>
FACEPOST_ARITH_FN F to_image(F v, F size, F pad, F scale) noexcept {
  return div(sub(mul(v, size), pad), scale);
}
