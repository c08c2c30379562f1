// facepost/tensor.hpp - zero-copy views over the detector's output tensors.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>

#include <Eigen/Core>

#include "facepost/error.hpp"
#include "facepost/isa.hpp"

namespace facepost {

/// A read-only [rows, cols] float32 view over caller memory; strides are in elements, so any
/// row-major, column-major or sliced layout is viewed without a copy.
struct TensorView {
  const float* data = nullptr;
  std::size_t rows = 0;
  std::size_t cols = 0;
  std::ptrdiff_t row_stride = 0;  ///< elements between row i and row i+1
  std::ptrdiff_t col_stride = 1;  ///< elements between column c and c+1

  TensorView() = default;
  /// Contiguous row-major [rows, cols].
  FACEPOST_ABI_TAG TensorView(const float* d, std::size_t r, std::size_t c) noexcept
      : data(d), rows(r), cols(c), row_stride(static_cast<std::ptrdiff_t>(c)), col_stride(1) {}
  FACEPOST_ABI_TAG TensorView(const float* d, std::size_t r, std::size_t c, std::ptrdiff_t rs, std::ptrdiff_t cs) noexcept
      : data(d), rows(r), cols(c), row_stride(rs), col_stride(cs) {}

  /// Any Eigen dense expression with direct access (Matrix, Map, Block, Ref), e.g. an
  /// Eigen::Map over an inference engine's output buffer.
  template <class Derived>
  FACEPOST_ABI_TAG static TensorView from_eigen(const Eigen::DenseBase<Derived>& m) noexcept {
    const Derived& d = m.derived();
    const bool row_major = Derived::IsRowMajor;
    return TensorView(d.data(), std::size_t(d.rows()), std::size_t(d.cols()),
                      row_major ? d.outerStride() : d.innerStride(), row_major ? d.innerStride() : d.outerStride());
  }

  FACEPOST_ABI_TAG bool contiguous() const noexcept {
    return col_stride == 1 && (rows <= 1 || row_stride == static_cast<std::ptrdiff_t>(cols));
  }
  FACEPOST_ABI_TAG float operator()(std::size_t r, std::size_t c) const noexcept {
    return data[static_cast<std::ptrdiff_t>(r) * row_stride + static_cast<std::ptrdiff_t>(c) * col_stride];
  }
  FACEPOST_ABI_TAG const float* row(std::size_t r) const noexcept { return data + static_cast<std::ptrdiff_t>(r) * row_stride; }

  /// The same memory as an Eigen map (no copy).
  FACEPOST_ABI_TAG Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>, 0,
             Eigen::Stride<Eigen::Dynamic, Eigen::Dynamic>>
  eigen() const noexcept {
    return {data, Eigen::Index(rows), Eigen::Index(cols), Eigen::Stride<Eigen::Dynamic, Eigen::Dynamic>(row_stride, col_stride)};
  }
};

FACEPOST_ABI_BEGIN
/// Views a contiguous C-order tensor of shape [N, C] or [1, N, C] (what RetinaFace exports
/// produce) as [N, C]. Fails on any other rank or a batch dimension other than 1.
inline Status view_tensor(const float* data, std::initializer_list<std::int64_t> shape, const char* name,
                          TensorView& out) noexcept {
  out = TensorView{};
  const std::size_t rank = shape.size();
  const std::int64_t* d = shape.begin();
  if (rank != 2 && rank != 3)
    return Status::failure(Errc::bad_shape, "%s: expected shape [N,C] or [1,N,C], got rank %zu", name, rank);
  if (rank == 3 && d[0] != 1)
    return Status::failure(Errc::bad_shape, "%s: expected shape [1,N,C], got batch dimension %lld (use the batch API)",
                           name, static_cast<long long>(d[0]));
  const std::int64_t n = d[rank - 2], c = d[rank - 1];
  if (n < 0 || c < 0) return Status::failure(Errc::bad_shape, "%s: negative dimension in shape", name);
  out = TensorView(data, std::size_t(n), std::size_t(c));
  return Status{};
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
    if (n.t->data == nullptr || n.t->rows == 0)
      return Status::failure(Errc::empty_tensor, "%s tensor is empty", n.name);
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
