// facepost/kernels/generic/filter-inl.hpp - the confidence scan, written once over an instruction
// set's lanes. Included inside a kernel namespace (kernels/<isa>/lanes.hpp); no include guard on
// purpose.
//
// The namespace provides, for a contiguous [N,2] conf tensor:
//   F, kFilterRows          float lanes; rows per step (a multiple of F::lanes, at most 32)
//   load_conf(p, bg, face)  F::lanes rows de-interleaved
//   mask_bits(m)            a lane mask as bits, lane 0 lowest
//   compress(conf, bits, first_row, index, score)   the rows of the set bits, in order
// The predicates are arith's (score-inl.hpp); the scalar tail and the per-candidate softmax are
// shared, so every backend writes exactly the same candidates.

FACEPOST_INLINE std::uint32_t face_bits(const float* conf, F threshold) noexcept {
  std::uint32_t bits = 0;
  for (std::size_t v = 0; v < kFilterRows; v += F::lanes) {
    F background, face;
    load_conf(conf + 2 * v, background, face);
    bits |= mask_bits(probability_passes(face, threshold)) << v;
  }
  return bits;
}

FACEPOST_INLINE std::uint32_t logit_bits(const float* conf, F cut) noexcept {
  std::uint32_t bits = 0;
  for (std::size_t v = 0; v < kFilterRows; v += F::lanes) {
    F background, face;
    load_conf(conf + 2 * v, background, face);
    bits |= mask_bits(logit_margin_passes(background, face, cut)) << v;
  }
  return bits;
}

inline std::size_t filter_probabilities(const float* conf, std::size_t rows, float threshold, std::uint32_t* index,
                                        float* score) noexcept {
  std::size_t n = 0, r = 0;
  const F t(threshold);
  for (; r + kFilterRows <= rows; r += kFilterRows) {
    const std::uint32_t bits = face_bits(conf + 2 * r, t);
    if (bits) n += compress(conf + 2 * r, bits, r, index + n, score + n);
  }
  // The tail through a pointer: indexing conf[2 * r + 1] here makes GCC 12 warn (a false
  // -Waggressive-loop-optimizations) when a caller's row count is a constant.
  for (const float* face = conf + 2 * r + 1; r < rows; ++r, face += 2) {
    const float s = *face;
    if (arith::probability_passes(s, threshold)) index[n] = static_cast<std::uint32_t>(r), score[n] = s, ++n;
  }
  return n;
}

/// A contiguous score column (SCRFD's [N,1] outputs): the rows whose score is >= threshold,
/// in row order; NaN never passes.
inline std::size_t filter_column_at_least(const float* column, std::size_t rows, float threshold,
                                          std::uint32_t* index, float* score) noexcept {
  std::size_t n = 0, r = 0;
  const F t(threshold);
  for (; r + kFilterRows <= rows; r += kFilterRows) {
    std::uint32_t bits = 0;
    for (std::size_t v = 0; v < kFilterRows; v += F::lanes) bits |= mask_bits(ge(F::load(column + r + v), t)) << v;
    while (bits) {  // candidates are rare: one scalar store per set bit
      const std::size_t row = r + std::size_t(__builtin_ctz(bits));
      index[n] = static_cast<std::uint32_t>(row), score[n] = column[row], ++n;
      bits &= bits - 1;
    }
  }
  for (const float* v = column + r; r < rows; ++r, ++v)  // a pointer: see filter_probabilities
    if (*v >= threshold) index[n] = static_cast<std::uint32_t>(r), score[n] = *v, ++n;
  return n;
}

inline std::size_t filter_logits(const float* conf, std::size_t rows, float threshold, std::uint32_t* index,
                                 float* score) noexcept {
  if (threshold >= 1.f) return 0;  // a softmax never exceeds 1
  const float cut = logit_prefilter_cut(threshold);
  std::size_t n = 0, r = 0;
  auto take = [&](std::size_t row) {
    const float s = arith::softmax_face(conf[2 * row], conf[2 * row + 1]);
    if (s > threshold) index[n] = static_cast<std::uint32_t>(row), score[n] = s, ++n;  // NaN fails
  };
  const F c(cut);
  for (; r + kFilterRows <= rows; r += kFilterRows) {
    std::uint32_t bits = logit_bits(conf + 2 * r, c);
    while (bits) {
      take(r + std::size_t(__builtin_ctz(bits)));
      bits &= bits - 1;
    }
  }
  for (const float* row = conf + 2 * r; r < rows; ++r, row += 2)  // a pointer: see filter_probabilities
    if (arith::logit_margin_passes(row[0], row[1], cut)) take(r);
  return n;
}
