// facepost/arith/softmax-inl.hpp - exp_f32 and softmax_face on scalar float lanes: included by
// arith/arith.hpp (host and CUDA) and metal/arith.h (Metal), not by the SIMD lane namespaces
// (they call arith::). Needs exp-inl.hpp first and a lane layer with widen(float) (double on
// the host, SoftDouble on Metal). No include guard on purpose.

/// exp(x) for float x, the same bits on every backend.
FACEPOST_ARITH_FN float exp_f32(float x) noexcept { return to_float(exp_lanes(widen(x))); }

/// Face probability from two-class logits, as a float32 softmax computes it (max subtracted),
/// with facepost's exp.
FACEPOST_ARITH_FN float softmax_face(float l0, float l1) noexcept {
  const float m = max_ref(l0, l1);
  const float e0 = exp_f32(sub(l0, m));
  const float e1 = exp_f32(sub(l1, m));
  return div(e1, add(e0, e1));
}
