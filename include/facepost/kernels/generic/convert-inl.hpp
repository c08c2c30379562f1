// facepost/kernels/generic/convert-inl.hpp - float16 / int8 / uint8 elements to float32, written
// once over an instruction set's lanes. Included inside a kernel namespace; no include guard on
// purpose.
//
// The namespace provides:
//   load_f16(p)      F::lanes binary16 values as float32, exactly (F16C, NEON fcvtl, scalar)
//   load_q8(p, zp)   F::lanes int8 or uint8 values q as float32(q - zp) (exact: |q - zp| <= 255)
// The scale is one mul, as in the scalar dequantize() (tensor.hpp), so every backend gives the
// same bits.

/// out[i] = float32(p[i] - zero_point) * scale for i < n (Q: int8 or uint8).
template <class Q>
FACEPOST_INLINE void dequantize_run(const Q* p, Dequant dq, std::size_t n, float* out) noexcept {
  std::size_t i = 0;
  const F scale(dq.scale);
  for (; i + F::lanes <= n; i += F::lanes) mul(load_q8(p + i, dq.zero_point), scale).store(out + i);
  // Tails through pointers: GCC 12 warns falsely (-Waggressive-loop-optimizations) on indexed ones.
  for (const Q* q = p + i; i < n; ++i, ++q) out[i] = dequantize(*q, dq);
}

/// out[i] = element i of `src` (contiguous, type `type`) as float32, for i < n.
inline void convert_to_f32(const void* src, ElementType type, Dequant dq, std::size_t n, float* out) noexcept {
  switch (type) {
    case ElementType::float32:
      if (n) std::memcpy(out, src, n * sizeof(float));
      return;
    case ElementType::float16: {
      const auto* p = static_cast<const std::uint16_t*>(src);
      std::size_t i = 0;
      for (; i + F::lanes <= n; i += F::lanes) load_f16(p + i).store(out + i);
      for (const std::uint16_t* h = p + i; i < n; ++i, ++h) out[i] = f16_to_f32(*h);
      return;
    }
    case ElementType::int8: dequantize_run(static_cast<const std::int8_t*>(src), dq, n, out); return;
    case ElementType::uint8: dequantize_run(static_cast<const std::uint8_t*>(src), dq, n, out); return;
  }
}
