// facepost/filter.hpp - the confidence filter: which priors become candidates.
#pragma once

#include <cstddef>
#include <cstdint>

#include "facepost/arith/arith.hpp"
#include "facepost/dispatch.hpp"
#include "facepost/isa.hpp"
#include "facepost/params.hpp"
#include "facepost/scores.hpp"
#include "facepost/tensor.hpp"

namespace facepost {
FACEPOST_ABI_BEGIN

namespace detail {

/// Rows converted per step when a head is not float32: a [256, 2] conf tile is 2 KB, in L1.
constexpr std::size_t kConvertTileRows = 256;

/// Columns [0, cols) of rows [r0, r0 + n) of `t` (any element type and layout) as contiguous
/// float32 [n, cols].
inline void load_rows_f32(const kernels::KernelTable& k, const TensorView& t, std::size_t r0, std::size_t n,
                          std::size_t cols, float* tile) noexcept {
  if (t.contiguous() && t.cols == cols) {
    k.convert_to_f32(t.element_address(r0, 0), t.type, t.dequant, n * cols, tile);
    return;
  }
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t c = 0; c < cols; ++c) tile[i * cols + c] = t(r0 + i, c);
}

/// Runs scan(tile, n, index, score), a float32 filter over contiguous rows, tile by tile over
/// the first `cols` (1 or 2) columns of a float16 / int8 / uint8 view: the elements are
/// converted as they are scanned, never as a copy of the tensor. Row indices are the view's.
template <class Scan>
std::size_t filter_converted(const kernels::KernelTable& k, const TensorView& t, std::size_t cols,
                             std::uint32_t* index, float* score, Scan&& scan) noexcept {
  alignas(64) float tile[2 * kConvertTileRows];
  std::size_t n = 0;
  for (std::size_t r0 = 0; r0 < t.rows; r0 += kConvertTileRows) {
    const std::size_t nb = t.rows - r0 < kConvertTileRows ? t.rows - r0 : kConvertTileRows;
    load_rows_f32(k, t, r0, nb, cols, tile);
    const std::size_t found = scan(static_cast<const float*>(tile), nb, index + n, score + n);
    for (std::size_t i = n; i < n + found; ++i) index[i] += static_cast<std::uint32_t>(r0);
    n += found;
  }
  return n;
}

}  // namespace detail

/// Writes the indices and face scores of the rows whose face score is strictly greater than
/// `threshold` (compared in float32, as numpy does) and finite, in row order. NaN never passes.
/// `index` and `score` need room for conf.rows entries. Returns the number written. A contiguous
/// float32 [N,2] tensor is scanned by the kernel set `k`, any other layout row by row; float16,
/// int8 and uint8 tensors are converted tile by tile and scanned by the same kernels, so they
/// give exactly the candidates of float32 tensors holding the same values.
inline std::size_t filter_scores(const kernels::KernelTable& k, const TensorView& conf, float threshold,
                                 ScoreFormat format, std::uint32_t* index, float* score) noexcept {
  if (!conf.is_float32()) {
    return detail::filter_converted(k, conf, 2, index, score,
                                    [&](const float* tile, std::size_t n, std::uint32_t* idx, float* sc) {
                                      return filter_scores(k, TensorView(tile, n, 2), threshold, format, idx, sc);
                                    });
  }
  if (conf.col_stride == 1 && conf.row_stride == 2) {  // contiguous [N,2]: the SIMD kernels
    return format == ScoreFormat::probabilities ? k.filter_probabilities(conf.data, conf.rows, threshold, index, score)
                                                : k.filter_logits(conf.data, conf.rows, threshold, index, score);
  }
  std::size_t n = 0;
  if (format == ScoreFormat::probabilities) {
    const float* p = conf.data + conf.col_stride;  // column 1
    for (std::size_t r = 0; r < conf.rows; ++r, p += conf.row_stride)
      if (arith::probability_passes(*p, threshold)) index[n] = static_cast<std::uint32_t>(r), score[n] = *p, ++n;
    return n;
  }
  if (threshold >= 1.f) return 0;  // a softmax never exceeds 1
  const float cut = logit_prefilter_cut(threshold);
  for (std::size_t r = 0; r < conf.rows; ++r) {
    const float* row = conf.row(r);
    const float l0 = row[0], l1 = row[conf.col_stride];
    if (!arith::logit_margin_passes(l0, l1, cut)) continue;  // also drops NaN
    const float s = arith::softmax_face(l0, l1);
    if (s > threshold) index[n] = static_cast<std::uint32_t>(r), score[n] = s, ++n;  // NaN fails here
  }
  return n;
}

/// The rows of a score column ([N,1] view, any element type and stride) whose value is >=
/// threshold, in row order; NaN never passes. Contiguous float32 columns take the SIMD kernel.
inline std::size_t filter_column_at_least(const kernels::KernelTable& k, const TensorView& column, float threshold,
                                          std::uint32_t* index, float* score) noexcept {
  if (!column.is_float32()) {
    return detail::filter_converted(k, column, 1, index, score,
                                    [&](const float* tile, std::size_t n, std::uint32_t* idx, float* sc) {
                                      return k.filter_column_at_least(tile, n, threshold, idx, sc);
                                    });
  }
  if (column.row_stride == 1) return k.filter_column_at_least(column.data, column.rows, threshold, index, score);
  std::size_t n = 0;
  for (std::size_t r = 0; r < column.rows; ++r) {
    const float v = column(r, 0);
    if (v >= threshold) index[n] = static_cast<std::uint32_t>(r), score[n] = v, ++n;  // NaN fails
  }
  return n;
}

/// filter_scores with the active kernels (dispatch.hpp).
inline std::size_t filter_scores(const TensorView& conf, float threshold, ScoreFormat format, std::uint32_t* index,
                                 float* score) noexcept {
  return filter_scores(active_kernels(), conf, threshold, format, index, score);
}

FACEPOST_ABI_END
}  // namespace facepost
