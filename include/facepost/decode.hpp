// facepost/decode.hpp - box and landmark decoding of single rows (the formulas: arith/decode-inl.hpp;
// the pipeline decodes its candidates with the SIMD kernels, kernels/generic/decode-inl.hpp).
#pragma once

#include <cstddef>

#include "facepost/anchors.hpp"
#include "facepost/arith/arith.hpp"
#include "facepost/isa.hpp"
#include "facepost/params.hpp"
#include "facepost/tensor.hpp"

namespace facepost {
FACEPOST_ABI_BEGIN

/// Everything decode needs besides the prior and the regression row.
struct DecodeContext {
  float input_width = 0.f, input_height = 0.f;
  Variance variance{};
  ImageMapping mapping{};

  DecodeContext() = default;
  DecodeContext(InputSize in, Variance v, const ImageMapping& m)
      : input_width(float(in.width)), input_height(float(in.height)), variance(v), mapping(m) {}

  /// Normalised x (y) to original-image pixels: (x*W - pad) / scale.
  float map_x(float x) const noexcept {
    return arith::to_image(x, input_width, mapping.pad_x, mapping.scale_x);
  }
  float map_y(float y) const noexcept {
    return arith::to_image(y, input_height, mapping.pad_y, mapping.scale_y);
  }
};

/// Decodes one box whose size factors ew = exp(l2*v1), eh = exp(l3*v1) are already computed.
/// `prior` is (cx, cy, w, h); loc(c) reads column c of the regression row. out = x1, y1, x2, y2
/// in original-image pixels.
template <class Row>
inline void decode_box_scaled(const float* prior, const Row& loc, float ew, float eh, const DecodeContext& ctx,
                              float* out) noexcept {
  const float v0 = ctx.variance.center;
  float x1, x2, y1, y2;
  arith::decode_corners(arith::decode_center(prior[0], loc(0), v0, prior[2]), arith::mul(prior[2], ew), x1, x2);
  arith::decode_corners(arith::decode_center(prior[1], loc(1), v0, prior[3]), arith::mul(prior[3], eh), y1, y2);
  out[0] = ctx.map_x(x1);
  out[1] = ctx.map_y(y1);
  out[2] = ctx.map_x(x2);
  out[3] = ctx.map_y(y2);
}

/// Decodes one box: cx = p.cx + l0*v0*p.w, w = p.w * exp(l2*v1), x1 = cx - w/2, x2 = w + x1,
/// then mapped to original-image pixels.
template <class Row>
inline void decode_box(const float* prior, const Row& loc, const DecodeContext& ctx, float* out) noexcept {
  const float v1 = ctx.variance.size;
  decode_box_scaled(prior, loc, arith::exp_f32(arith::mul(loc(2), v1)), arith::exp_f32(arith::mul(loc(3), v1)), ctx,
                    out);
}

/// Decodes five landmarks: out = lx0, ly0, ..., lx4, ly4 in original-image pixels.
template <class Row>
inline void decode_landmarks(const float* prior, const Row& lm, const DecodeContext& ctx, float* out) noexcept {
  const float v0 = ctx.variance.center;
  for (int k = 0; k < 5; ++k) {
    out[2 * k] = ctx.map_x(arith::decode_center(prior[0], lm(2 * k), v0, prior[2]));
    out[2 * k + 1] = ctx.map_y(arith::decode_center(prior[1], lm(2 * k + 1), v0, prior[3]));
  }
}

/// Column accessor of one strided tensor row.
struct RowRef {
  const float* p;
  std::ptrdiff_t stride;
  float operator()(int c) const noexcept { return p[c * stride]; }
};

inline RowRef row_ref(const TensorView& t, std::size_t r) noexcept { return RowRef{t.row(r), t.col_stride}; }

/// Decodes every row of `loc` into out[N*4] (x1 y1 x2 y2 per row). Stage usable alone;
/// the Postprocessor decodes only the candidates.
inline void decode_boxes(const TensorView& loc, const float* priors, const DecodeContext& ctx, float* out) noexcept {
  for (std::size_t r = 0; r < loc.rows; ++r) decode_box(priors + 4 * r, row_ref(loc, r), ctx, out + 4 * r);
}

/// Decodes every row of `landms` into out[N*10].
inline void decode_all_landmarks(const TensorView& landms, const float* priors, const DecodeContext& ctx,
                                 float* out) noexcept {
  for (std::size_t r = 0; r < landms.rows; ++r)
    decode_landmarks(priors + 4 * r, row_ref(landms, r), ctx, out + 10 * r);
}

FACEPOST_ABI_END
}  // namespace facepost
