// facepost/kernels/generic/decode-inl.hpp - decode of the ranked candidates, written once over an
// instruction set's lanes. Included inside a kernel namespace; no include guard on purpose.
//
// The namespace provides:
//   F4                      four float lanes: one box (cx cy w h / l0 l1 l2 l3) per vector
//   dup_high(p)             (p2 p3 p2 p3): w h w h from a prior
//   low_pairs(a, b)         (a0 a1 b0 b1): x1 y1 x2 y2 from the corner vectors
//   FL                      float lanes for the ten landmark values (an even number of lanes)
//   V::xy(x, y)             (x y x y ...) for V = F4, FL
//   D, kExpBlock            double lanes for exp; floats per exp block (a multiple of D::lanes)
//   load_widen, store_narrow  float <-> double lanes
// The arithmetic is arith's (decode-inl.hpp, exp-inl.hpp, score-inl.hpp): the lanes compute the
// same IEEE operations in the same order as the scalar decode_box / decode_landmarks, so every
// backend writes the same bits.

/// out[i] = exp_f32(in[i]) for i < kExpBlock.
FACEPOST_INLINE void exp_block(const float* in, float* out) noexcept {
  for (std::size_t i = 0; i < kExpBlock; i += D::lanes) store_narrow(out + i, exp_lanes(load_widen(in + i)));
}

/// out[i] = exp_f32(in[i]) for i < n (in and out may alias).
inline void exp_batch(const float* in, float* out, std::size_t n) noexcept {
  std::size_t i = 0;
  for (; i + kExpBlock <= n; i += kExpBlock) exp_block(in + i, out + i);
  for (; i < n; ++i) out[i] = arith::exp_f32(in[i]);
}

/// x1 y1 x2 y2 of one box in original-image pixels, from its prior, contiguous regression row and
/// size factors ew = exp(l2*v1), eh = exp(l3*v1).
FACEPOST_INLINE void decode_box_row(const float* prior, const float* loc, float ew, float eh, const DecodeContext& ctx,
                                    float* out) noexcept {
  const F4 p = F4::load(prior), l = F4::load(loc);
  const F4 pwh = dup_high(p);
  F4 lo, hi;
  decode_corners(decode_center(p, l, F4(ctx.variance.center), pwh), mul(pwh, F4::xy(ew, eh)), lo, hi);
  const F4 b = low_pairs(lo, hi);
  to_image(b, F4::xy(ctx.input_width, ctx.input_height), F4::xy(ctx.mapping.pad_x, ctx.mapping.pad_y),
           F4::xy(ctx.mapping.scale_x, ctx.mapping.scale_y))
      .store(out);
}

/// lx0 ly0 ... lx4 ly4 in original-image pixels.
FACEPOST_INLINE void decode_landmark_row(const float* prior, const float* lm, const DecodeContext& ctx,
                                         float* out) noexcept {
  const FL pc = FL::xy(prior[0], prior[1]), ps = FL::xy(prior[2], prior[3]), v0(ctx.variance.center);
  const FL size = FL::xy(ctx.input_width, ctx.input_height);
  const FL pad = FL::xy(ctx.mapping.pad_x, ctx.mapping.pad_y);
  const FL scale = FL::xy(ctx.mapping.scale_x, ctx.mapping.scale_y);
  for (std::size_t k = 0; k < 10; k += FL::lanes) {
    const std::size_t n = 10 - k < FL::lanes ? 10 - k : FL::lanes;
    const FL l = n == FL::lanes ? FL::load(lm + k) : FL::load_partial(lm + k, n);
    const FL r = to_image(decode_center(pc, l, v0, ps), size, pad, scale);
    if (n == FL::lanes) r.store(out + k);
    else r.store_partial(out + k, n);
  }
}

/// Every value of a detection row is finite.
FACEPOST_INLINE bool row_is_finite(const float* row) noexcept {
  bool finite = true;
  for (std::size_t k = 0; k < kDetectionCols; k += F::lanes) {
    const std::size_t n = kDetectionCols - k < F::lanes ? kDetectionCols - k : F::lanes;
    const F v = n == F::lanes ? F::load(row + k) : F::load_partial(row + k, n);  // padding lanes are 0
    finite &= all(is_finite(v));
  }
  return finite;
}

/// Copies one head row of `bytes` bytes (4 or 10 elements of 1, 2 or 4 bytes), each size a
/// fixed-size copy the compiler inlines.
FACEPOST_INLINE void copy_row_bytes(unsigned char* dst, const void* src, std::size_t bytes) noexcept {
  switch (bytes) {
    case 4: std::memcpy(dst, src, 4); return;
    case 8: std::memcpy(dst, src, 8); return;
    case 10: std::memcpy(dst, src, 10); return;
    case 16: std::memcpy(dst, src, 16); return;
    case 20: std::memcpy(dst, src, 20); return;
    case 40: std::memcpy(dst, src, 40); return;
    default: std::memcpy(dst, src, bytes); return;
  }
}

/// Decodes the candidates `order[0..n)` (positions into cand_index / cand_score) and keeps the
/// rows whose 15 values are all finite. Returns the number kept. float16 / int8 / uint8 heads
/// are converted block by block, only the candidates' rows, into float32 tiles that the same
/// row decoders read.
inline std::size_t decode_ranked(const HeadOutputs& heads, const float* priors, const DecodeContext& ctx,
                                 const std::uint32_t* order, std::size_t n, const std::uint32_t* cand_index,
                                 const float* cand_score, const DecodedCandidates& out) noexcept {
  const bool converted = !heads.loc.is_float32() || !heads.landms.is_float32();
  const bool contiguous = converted || (heads.loc.contiguous() && heads.landms.contiguous());
  std::size_t m = 0;
  // Candidates come in score order, scattered over the tensors: fetch a few rows ahead so the
  // loads overlap instead of each waiting on memory.
  constexpr std::size_t kAhead = 16;
  auto prefetch = [&](std::size_t r) {
    const std::size_t p = cand_index[order[r]];
    __builtin_prefetch(priors + 4 * p);
    __builtin_prefetch(heads.loc.element_address(p, 0));
    __builtin_prefetch(heads.landms.element_address(p, 0));
    __builtin_prefetch(heads.landms.element_address(p, 9));
  };
  for (std::size_t r = 0; r < n && r < kAhead; ++r) prefetch(r);
  // Blocks of candidates small enough that their rows stay in L1 from the first pass (the size
  // factors exp(l2*v1), exp(l3*v1), vectorised) to the second (everything else): each scattered
  // row is fetched from memory once.
  constexpr std::size_t kBlock = 64;
  alignas(64) float e[2 * kBlock];
  // Converted heads: the block's rows as float32 tiles. Contiguous ones are gathered in their
  // own type first (a small memcpy per row), then converted in one vectorised pass.
  alignas(64) float loc_tile[4 * kBlock], lm_tile[10 * kBlock];
  alignas(64) unsigned char loc_raw[4 * kBlock * sizeof(float)], lm_raw[10 * kBlock * sizeof(float)];
  const bool staged = converted && heads.loc.contiguous() && heads.landms.contiguous();
  const std::size_t loc_bytes = 4 * element_size(heads.loc.type), lm_bytes = 10 * element_size(heads.landms.type);
  const float v1 = ctx.variance.size;
  for (std::size_t r0 = 0; r0 < n; r0 += kBlock) {
    const std::size_t nb = n - r0 < kBlock ? n - r0 : kBlock;
    for (std::size_t j = 0; j < nb; ++j) {
      if (r0 + j + kAhead < n) prefetch(r0 + j + kAhead);
      const std::size_t p = cand_index[order[r0 + j]];
      if (staged) {
        copy_row_bytes(loc_raw + j * loc_bytes, heads.loc.element_address(p, 0), loc_bytes);
        copy_row_bytes(lm_raw + j * lm_bytes, heads.landms.element_address(p, 0), lm_bytes);
      } else if (converted) {
        for (std::size_t c = 0; c < 4; ++c) loc_tile[4 * j + c] = heads.loc(p, c);
        for (std::size_t c = 0; c < 10; ++c) lm_tile[10 * j + c] = heads.landms(p, c);
      } else {
        const RowRef loc = row_ref(heads.loc, p);
        e[2 * j] = arith::mul(loc(2), v1);
        e[2 * j + 1] = arith::mul(loc(3), v1);
      }
    }
    if (staged) {
      convert_to_f32(loc_raw, heads.loc.type, heads.loc.dequant, 4 * nb, loc_tile);
      convert_to_f32(lm_raw, heads.landms.type, heads.landms.dequant, 10 * nb, lm_tile);
    }
    if (converted)
      for (std::size_t j = 0; j < nb; ++j) {
        e[2 * j] = arith::mul(loc_tile[4 * j + 2], v1);
        e[2 * j + 1] = arith::mul(loc_tile[4 * j + 3], v1);
      }
    exp_batch(e, e, 2 * nb);
    for (std::size_t j = 0; j < nb; ++j) {
      const std::uint32_t c = order[r0 + j];
      const std::uint32_t p = cand_index[c];
      const float* prior = priors + 4 * std::size_t(p);
      float* row = out.rows + kDetectionCols * m;
      if (contiguous) {
        const float* loc = converted ? loc_tile + 4 * j : heads.loc.data + 4 * std::size_t(p);
        const float* lm = converted ? lm_tile + 10 * j : heads.landms.data + 10 * std::size_t(p);
        decode_box_row(prior, loc, e[2 * j], e[2 * j + 1], ctx, row);
        decode_landmark_row(prior, lm, ctx, row + 5);
      } else {
        decode_box_scaled(prior, row_ref(heads.loc, p), e[2 * j], e[2 * j + 1], ctx, row);
        decode_landmarks(prior, row_ref(heads.landms, p), ctx, row + 5);
      }
      row[4] = cand_score[c];
      if (!row_is_finite(row)) continue;
      out.x1[m] = row[0], out.y1[m] = row[1], out.x2[m] = row[2], out.y2[m] = row[3];
      out.prior[m] = p;
      ++m;
    }
  }
  return m;
}
