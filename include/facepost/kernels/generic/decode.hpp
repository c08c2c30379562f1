// facepost/kernels/generic/decode.hpp - decode of the ranked candidates, written once over V.
//
// V provides, for contiguous rows:
//   V::exp_block(in, out)                      exp_f32 of V::exp_lanes values
//   V::box(prior, loc_row, ew, eh, ctx, out4)  x1 y1 x2 y2 in original-image pixels
//   V::landmarks(prior, lm_row, ctx, out10)    lx0 ly0 ... lx4 ly4
//   V::all_finite(row15)                       every value of a detection row is finite
// with exactly the operations (and roundings) of decode_box / decode_landmarks in decode.hpp:
// SIMD lanes compute the same IEEE operations in the same order, so every backend writes the
// same bits (exp included: facepost's own, detail/expf.hpp).
#pragma once

#include <cstddef>
#include <cstdint>

#include "facepost/decode.hpp"
#include "facepost/detail/expf.hpp"
#include "facepost/detections.hpp"
#include "facepost/tensor.hpp"

namespace facepost {
namespace kernels {
namespace generic {

/// Where decode_ranked writes: detection rows plus the boxes again as arrays for NMS.
struct DecodedCandidates {
  float* rows;  ///< [n, 15]
  float *x1, *y1, *x2, *y2;
  std::uint32_t* prior;  ///< prior index of each row
};

/// out[i] = exp_f32(in[i]) for i < n, in blocks of V::exp_lanes (in and out may alias).
template <class V>
void exp_batch(const float* in, float* out, std::size_t n) noexcept {
  std::size_t i = 0;
  for (; i + V::exp_lanes <= n; i += V::exp_lanes) V::exp_block(in + i, out + i);
  for (; i < n; ++i) out[i] = detail::exp_f32(in[i]);
}

/// Decodes the candidates `order[0..n)` (positions into cand_index / cand_score) and keeps the
/// rows whose 15 values are all finite. Returns the number kept.
template <class V>
std::size_t decode_ranked(const HeadOutputs& heads, const float* priors, const DecodeContext& ctx,
                          const std::uint32_t* order, std::size_t n, const std::uint32_t* cand_index,
                          const float* cand_score, const DecodedCandidates& out) noexcept {
  const bool contiguous = heads.loc.contiguous() && heads.landms.contiguous();
  std::size_t m = 0;
  // Candidates come in score order, scattered over the tensors: fetch a few rows ahead so the
  // loads overlap instead of each waiting on memory.
  constexpr std::size_t kAhead = 16;
  auto prefetch = [&](std::size_t r) {
    const std::size_t p = cand_index[order[r]];
    __builtin_prefetch(priors + 4 * p);
    __builtin_prefetch(heads.loc.row(p));
    __builtin_prefetch(heads.landms.row(p));
    __builtin_prefetch(heads.landms.row(p) + 9 * heads.landms.col_stride);
  };
  for (std::size_t r = 0; r < n && r < kAhead; ++r) prefetch(r);
  // Blocks of candidates small enough that their rows stay in L1 from the first pass (the size
  // factors exp(l2*v1), exp(l3*v1), vectorised) to the second (everything else): each scattered
  // row is fetched from memory once.
  constexpr std::size_t kBlock = 64;
  alignas(64) float e[2 * kBlock];
  const float v1 = ctx.variance.size;
  for (std::size_t r0 = 0; r0 < n; r0 += kBlock) {
    const std::size_t nb = n - r0 < kBlock ? n - r0 : kBlock;
    for (std::size_t j = 0; j < nb; ++j) {
      if (r0 + j + kAhead < n) prefetch(r0 + j + kAhead);
      const RowRef loc = row_ref(heads.loc, cand_index[order[r0 + j]]);
      e[2 * j] = loc(2) * v1;
      e[2 * j + 1] = loc(3) * v1;
    }
    exp_batch<V>(e, e, 2 * nb);
    for (std::size_t j = 0; j < nb; ++j) {
      const std::uint32_t c = order[r0 + j];
      const std::uint32_t p = cand_index[c];
      const float* prior = priors + 4 * std::size_t(p);
      float* row = out.rows + kDetectionCols * m;
      if (contiguous) {
        V::box(prior, heads.loc.data + 4 * std::size_t(p), e[2 * j], e[2 * j + 1], ctx, row);
        V::landmarks(prior, heads.landms.data + 10 * std::size_t(p), ctx, row + 5);
      } else {
        decode_box_scaled(prior, row_ref(heads.loc, p), e[2 * j], e[2 * j + 1], ctx, row);
        decode_landmarks(prior, row_ref(heads.landms, p), ctx, row + 5);
      }
      row[4] = cand_score[c];
      if (!V::all_finite(row)) continue;
      out.x1[m] = row[0], out.y1[m] = row[1], out.x2[m] = row[2], out.y2[m] = row[3];
      out.prior[m] = p;
      ++m;
    }
  }
  return m;
}

/// Portable pieces every V can use.
struct ScalarDecode {
  static constexpr std::size_t exp_lanes = 1;
  static void exp_block(const float* in, float* out) noexcept { *out = detail::exp_f32(*in); }
  static void box(const float* prior, const float* loc, float ew, float eh, const DecodeContext& ctx,
                  float* out) noexcept {
    decode_box_scaled(prior, RowRef{loc, 1}, ew, eh, ctx, out);
  }
  static void landmarks(const float* prior, const float* lm, const DecodeContext& ctx, float* out) noexcept {
    decode_landmarks(prior, RowRef{lm, 1}, ctx, out);
  }
  static bool all_finite(const float* row) noexcept {
    bool finite = true;
    for (std::size_t k = 0; k < kDetectionCols; ++k) finite &= std::isfinite(row[k]);
    return finite;
  }
};

}  // namespace generic
}  // namespace kernels
}  // namespace facepost
