// facepost/tensor.hpp - zero-copy views over the detector's output tensors.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <initializer_list>

#include <Eigen/Core>

#include "facepost/elements.hpp"
#include "facepost/error.hpp"
#include "facepost/isa.hpp"

namespace facepost {

/// A read-only [rows, cols] view over caller memory; strides are in elements, so any row-major,
/// column-major or sliced layout is viewed without a copy. Float32 elements are read through
/// `data`; float16 / int8 / uint8 ones through `raw`, converted to float32 as they are read
/// (value()), inside the filter and decode kernels, never as a copy of the whole tensor.
struct TensorView {
  const float* data = nullptr;  ///< float32 elements (null for the other element types)
  std::size_t rows = 0;
  std::size_t cols = 0;
  std::ptrdiff_t row_stride = 0;  ///< elements between row i and row i+1
  std::ptrdiff_t col_stride = 1;  ///< elements between column c and c+1
  ElementType type = ElementType::float32;
  const void* raw = nullptr;  ///< float16 (IEEE binary16 bits), int8 or uint8 elements
  Dequant dequant{};          ///< int8 / uint8 only

  TensorView() = default;
  /// Contiguous row-major [rows, cols].
  FACEPOST_ABI_TAG TensorView(const float* d, std::size_t r, std::size_t c) noexcept
      : data(d), rows(r), cols(c), row_stride(static_cast<std::ptrdiff_t>(c)), col_stride(1) {}
  FACEPOST_ABI_TAG TensorView(const float* d, std::size_t r, std::size_t c, std::ptrdiff_t rs, std::ptrdiff_t cs) noexcept
      : data(d), rows(r), cols(c), row_stride(rs), col_stride(cs) {}
  /// Elements of any type (float32 included), strides in elements.
  FACEPOST_ABI_TAG TensorView(const void* d, ElementType t, std::size_t r, std::size_t c, std::ptrdiff_t rs,
                              std::ptrdiff_t cs, Dequant q = {}) noexcept
      : data(t == ElementType::float32 ? static_cast<const float*>(d) : nullptr),
        rows(r),
        cols(c),
        row_stride(rs),
        col_stride(cs),
        type(t),
        raw(t == ElementType::float32 ? nullptr : d),
        dequant(q) {}

  /// Contiguous row-major [rows, cols] float16 (binary16 bits, e.g. numpy float16 or _Float16).
  FACEPOST_ABI_TAG static TensorView float16(const std::uint16_t* d, std::size_t r, std::size_t c) noexcept {
    return TensorView(d, ElementType::float16, r, c, static_cast<std::ptrdiff_t>(c), 1);
  }
  /// Contiguous row-major [rows, cols] quantized int8 / uint8, value = float32(q - zero_point) * scale.
  FACEPOST_ABI_TAG static TensorView quantized(const std::int8_t* d, std::size_t r, std::size_t c, Dequant q) noexcept {
    return TensorView(d, ElementType::int8, r, c, static_cast<std::ptrdiff_t>(c), 1, q);
  }
  FACEPOST_ABI_TAG static TensorView quantized(const std::uint8_t* d, std::size_t r, std::size_t c, Dequant q) noexcept {
    return TensorView(d, ElementType::uint8, r, c, static_cast<std::ptrdiff_t>(c), 1, q);
  }

  /// Any Eigen dense float expression with direct access (Matrix, Map, Block, Ref), e.g. an
  /// Eigen::Map over an inference engine's output buffer.
  template <class Derived>
  FACEPOST_ABI_TAG static TensorView from_eigen(const Eigen::DenseBase<Derived>& m) noexcept {
    const Derived& d = m.derived();
    const bool row_major = Derived::IsRowMajor;
    return TensorView(d.data(), std::size_t(d.rows()), std::size_t(d.cols()),
                      row_major ? d.outerStride() : d.innerStride(), row_major ? d.innerStride() : d.outerStride());
  }

  /// The first element, whatever the type (null for an empty view).
  FACEPOST_ABI_TAG const void* address() const noexcept {
    return type == ElementType::float32 ? static_cast<const void*>(data) : raw;
  }
  FACEPOST_ABI_TAG bool is_float32() const noexcept { return type == ElementType::float32; }
  FACEPOST_ABI_TAG bool contiguous() const noexcept {
    return col_stride == 1 && (rows <= 1 || row_stride == static_cast<std::ptrdiff_t>(cols));
  }
  /// Element at an offset (in elements) from the first one, as float32.
  FACEPOST_ABI_TAG float value_at(std::ptrdiff_t offset) const noexcept {
    if (__builtin_expect(type == ElementType::float32, 1)) return data[offset];
    if (type == ElementType::float16) return f16_to_f32(static_cast<const std::uint16_t*>(raw)[offset]);
    if (type == ElementType::int8) return dequantize(static_cast<const std::int8_t*>(raw)[offset], dequant);
    return dequantize(static_cast<const std::uint8_t*>(raw)[offset], dequant);
  }
  /// Element (r, c) as float32, whatever the element type.
  FACEPOST_ABI_TAG float operator()(std::size_t r, std::size_t c) const noexcept {
    return value_at(static_cast<std::ptrdiff_t>(r) * row_stride + static_cast<std::ptrdiff_t>(c) * col_stride);
  }
  /// Where element (r, c) is, whatever the type.
  FACEPOST_ABI_TAG const void* element_address(std::size_t r, std::size_t c) const noexcept {
    const std::ptrdiff_t offset = static_cast<std::ptrdiff_t>(r) * row_stride + static_cast<std::ptrdiff_t>(c) * col_stride;
    return static_cast<const char*>(address()) + static_cast<std::ptrdiff_t>(element_size(type)) * offset;
  }
  /// Row r of a float32 view.
  FACEPOST_ABI_TAG const float* row(std::size_t r) const noexcept { return data + static_cast<std::ptrdiff_t>(r) * row_stride; }

  /// The same memory as an Eigen map (no copy; float32 views only).
  FACEPOST_ABI_TAG Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>, 0,
             Eigen::Stride<Eigen::Dynamic, Eigen::Dynamic>>
  eigen() const noexcept {
    return {data, Eigen::Index(rows), Eigen::Index(cols), Eigen::Stride<Eigen::Dynamic, Eigen::Dynamic>(row_stride, col_stride)};
  }
};

FACEPOST_ABI_BEGIN
/// Checks a view's element type and quantization: int8 / uint8 need a finite scale > 0 and a
/// zero point their type can hold; float views take no quantization. `name` labels the message.
inline Status validate_elements(const TensorView& t, const char* name) noexcept {
  const bool quantized = t.type == ElementType::int8 || t.type == ElementType::uint8;
  if (!quantized && t.type != ElementType::float32 && t.type != ElementType::float16)
    return Status::failure(Errc::bad_element_type, "%s: unknown element type %d", name, int(t.type));
  if (!quantized) {
    if (t.dequant.scale != 1.f || t.dequant.zero_point != 0)
      return Status::failure(Errc::bad_dequant,
                             "%s: dequantization (scale %g, zero point %d) given for a %s tensor; only int8 and uint8 "
                             "tensors are quantized",
                             name, double(t.dequant.scale), int(t.dequant.zero_point), element_type_name(t.type));
    return Status{};
  }
  if (!std::isfinite(t.dequant.scale) || !(t.dequant.scale > 0.f))
    return Status::failure(Errc::bad_dequant, "%s: dequantization scale must be finite and > 0, got %g", name,
                           double(t.dequant.scale));
  const int lo = t.type == ElementType::int8 ? -128 : 0, hi = t.type == ElementType::int8 ? 127 : 255;
  if (t.dequant.zero_point < lo || t.dequant.zero_point > hi)
    return Status::failure(Errc::bad_dequant, "%s: zero point %d is outside the %s range [%d, %d]", name,
                           int(t.dequant.zero_point), element_type_name(t.type), lo, hi);
  return Status{};
}
FACEPOST_ABI_END

FACEPOST_ABI_BEGIN
/// Views a contiguous C-order tensor of shape [N, C] or [1, N, C] (what RetinaFace exports
/// produce) as [N, C], elements of type `type`. Fails on any other rank or a batch dimension
/// other than 1.
inline Status view_tensor(const void* data, ElementType type, std::initializer_list<std::int64_t> shape,
                          const char* name, TensorView& out, Dequant dequant = {}) noexcept {
  out = TensorView{};
  const std::size_t rank = shape.size();
  const std::int64_t* d = shape.begin();
  if (rank != 2 && rank != 3)
    return Status::failure(Errc::bad_shape, "%s: expected shape [N,C] or [1,N,C], got rank %zu", name, rank);
  if (rank == 3 && d[0] != 1)
    return Status::failure(Errc::bad_shape,
                           "%s: expected shape [1,N,C], got batch dimension %lld (use BatchPostprocessor for batches)",
                           name, static_cast<long long>(d[0]));
  const std::int64_t n = d[rank - 2], c = d[rank - 1];
  if (n < 0 || c < 0) return Status::failure(Errc::bad_shape, "%s: negative dimension in shape", name);
  out = TensorView(data, type, std::size_t(n), std::size_t(c), static_cast<std::ptrdiff_t>(c), 1, dequant);
  return validate_elements(out, name);
}

/// float32 [N, C] or [1, N, C].
inline Status view_tensor(const float* data, std::initializer_list<std::int64_t> shape, const char* name,
                          TensorView& out) noexcept {
  return view_tensor(data, ElementType::float32, shape, name, out);
}
FACEPOST_ABI_END

/// The three heads of a RetinaFace-family detector for one frame.
struct HeadOutputs {
  TensorView loc;     ///< [N,4]  box regressions (dx, dy, dw, dh)
  TensorView conf;    ///< [N,2]  background / face (probabilities or logits)
  TensorView landms;  ///< [N,10] landmark regressions (5 x (dx, dy))
};

FACEPOST_ABI_BEGIN
/// Checks that the three heads are non-empty, have 4 / 2 / 10 columns, agree on the row count,
/// and that this count equals the number of priors.
inline Status validate_heads(const HeadOutputs& h, std::size_t num_priors) noexcept {
  struct Named {
    const TensorView* t;
    const char* name;
    std::size_t cols;
  };
  const Named all[3] = {{&h.loc, "loc", 4}, {&h.conf, "conf", 2}, {&h.landms, "landms", 10}};
  for (const Named& n : all) {
    if (n.t->address() == nullptr || n.t->rows == 0)
      return Status::failure(Errc::empty_tensor, "%s tensor is empty", n.name);
    if (Status s = validate_elements(*n.t, n.name); !s.ok()) return s;
    if (n.t->cols != n.cols)
      return Status::failure(Errc::bad_shape, "%s tensor has %zu columns, expected %zu", n.name, n.t->cols, n.cols);
  }
  if (h.conf.rows != h.loc.rows || h.landms.rows != h.loc.rows)
    return Status::failure(Errc::row_mismatch, "tensors disagree on the number of rows: loc %zu, conf %zu, landms %zu",
                           h.loc.rows, h.conf.rows, h.landms.rows);
  if (h.loc.rows != num_priors)
    return Status::failure(Errc::prior_count_mismatch,
                           "tensors have %zu rows but the anchor configuration gives %zu priors for this input size "
                           "(were the priors built for the original image instead of the network input?)",
                           h.loc.rows, num_priors);
  return Status{};
}

FACEPOST_ABI_END
}  // namespace facepost
