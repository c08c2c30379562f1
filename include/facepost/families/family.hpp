// facepost/families/family.hpp - what the detector families share.
//
// Every family runs the same stages as the RetinaFace pipeline, with its own choices:
//
//   (RetinaFace's object with this interface: families/retinaface.hpp)
//   stage        RetinaFace              SCRFD                      YOLOv5-face
//   points       PriorGrid (SSD priors)  anchor centres, 2 a cell   none (the head decodes)
//   score        softmax column, >       sigmoid output, >=         obj > t, then cls*obj > t
//   decode       variance + exp          distances x stride         centre +- size/2
//   NMS pixels   original image          original image             network input
//   NMS          greedy, legacy (+1)     greedy, legacy (+1)        greedy, continuous
//   selection    top_k, keep_top_k       max_num (centre ranking)   max_det
//   keypoints    5                       5 or none                  5
//
// This header has the shared parts: the result view (any column count), the scratch buffers,
// and rank_and_suppress (rank -> greedy NMS -> the kept rows, in order).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include <Eigen/Core>

#include "facepost/anchors.hpp"
#include "facepost/arith/arith.hpp"
#include "facepost/detections.hpp"
#include "facepost/detail/buffer.hpp"
#include "facepost/error.hpp"
#include "facepost/isa.hpp"
#include "facepost/nms.hpp"
#include "facepost/params.hpp"
#include "facepost/pipeline.hpp"
#include "facepost/rank.hpp"

namespace facepost {
FACEPOST_ABI_BEGIN

using FamilyDetectionMatrix =
    Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>;

/// A family's result: [K, cols] row-major floats, `x1 y1 x2 y2 score` then the keypoints
/// `(x, y)`, valid until the producing object runs again. cols = 5 + 2 * keypoints().
class FamilyDetections {
 public:
  FamilyDetections() = default;
  FACEPOST_ABI_TAG FamilyDetections(const float* rows, const std::uint32_t* source, std::size_t count,
                                    std::size_t cols) noexcept
      : rows_(rows), source_(source), count_(count), cols_(cols) {}
  FACEPOST_ABI_TAG std::size_t size() const noexcept { return count_; }
  FACEPOST_ABI_TAG bool empty() const noexcept { return count_ == 0; }
  FACEPOST_ABI_TAG std::size_t cols() const noexcept { return cols_; }
  FACEPOST_ABI_TAG std::size_t keypoints() const noexcept { return cols_ < 5 ? 0 : (cols_ - 5) / 2; }
  FACEPOST_ABI_TAG const float* data() const noexcept { return rows_; }
  FACEPOST_ABI_TAG DetectionRef operator[](std::size_t i) const noexcept { return DetectionRef{rows_ + cols_ * i}; }
  /// The row of the network output each detection came from (per-stride outputs: numbered in
  /// order, stride 8's rows first).
  FACEPOST_ABI_TAG std::uint32_t source_index(std::size_t i) const noexcept { return source_[i]; }
  FACEPOST_ABI_TAG FamilyDetectionMatrix matrix() const noexcept {
    return FamilyDetectionMatrix(rows_, Eigen::Index(count_), Eigen::Index(cols_));
  }

 private:
  const float* rows_ = nullptr;
  const std::uint32_t* source_ = nullptr;
  std::size_t count_ = 0;
  std::size_t cols_ = 0;
};

/// Scratch memory of a family's frame: candidates (score, source row, decoded row, box), their
/// rank, NMS and the output. reserve(n, cols) once; later frames with at most n candidates
/// allocate nothing.
struct FamilyBuffers {
  std::size_t capacity = 0, row_capacity = 0;
  detail::Buffer<std::uint32_t> source, order, keep, out_source;
  detail::Buffer<float> score, rows, x1, y1, x2, y2, out_rows;
  NmsWorkspace nms;
  RankWorkspace rank;
  /// Counts of the last run: priors = rows of the outputs, candidates = rows past the score
  /// test (and finite), ranked = rows entering NMS, detections = rows returned.
  RunStats stats;

  void reserve(std::size_t n, std::size_t cols) {
    if (capacity < n) {
      for (auto* v : {&source, &order, &keep, &out_source}) v->reserve(n);
      for (auto* v : {&score, &x1, &y1, &x2, &y2}) v->reserve(n);
      nms.reserve(n);
      rank.reserve(n);
      capacity = n;
    }
    if (row_capacity < n * cols) {
      rows.reserve(n * cols);
      out_rows.reserve(n * cols);
      row_capacity = n * cols;
    }
  }
};

namespace detail {

/// Row r of `t` as float32 values and their column stride: the view's own memory when it is
/// float32, else the row converted (float16 exactly, int8 / uint8 dequantized) into `tmp`,
/// which holds t.cols floats. Only the rows a family reads are converted.
inline const float* row_values(const TensorView& t, std::size_t r, float* tmp, std::ptrdiff_t& stride) noexcept {
  if (t.is_float32()) {
    stride = t.col_stride;
    return t.row(r);
  }
  for (std::size_t c = 0; c < t.cols; ++c) tmp[c] = t(r, c);
  stride = 1;
  return tmp;
}

/// A head given to a family: present (any element type) with a valid element type.
inline Status check_family_head(const TensorView& t, const char* family, const char* name) noexcept {
  if (t.address() == nullptr || t.rows == 0) return Status::failure(Errc::empty_tensor, "%s %s tensor is empty", family, name);
  return validate_elements(t, name);
}

/// Status of a threshold that must lie in [0, 1] (NaN refused), named as the caller's API names it.
inline Status check_unit_threshold(double t, const char* name) noexcept {
  if (!(t >= 0.0 && t <= 1.0)) return Status::failure(Errc::bad_threshold, "%s %g is outside [0, 1]", name, t);
  return Status{};
}

/// An input size with both sides in [1, kMaxInputSide] and multiples of 32 (the families whose
/// feature maps are input/stride: `why` says so in the message).
inline Status check_input_multiple_of_32(InputSize input, const char* family, const char* why) noexcept {
  if (input.width <= 0 || input.height <= 0)
    return Status::failure(Errc::bad_size, "input size %dx%d: width and height must be positive", input.width,
                           input.height);
  if (input.width > kMaxInputSide || input.height > kMaxInputSide)
    return Status::failure(Errc::size_overflow, "input size %dx%d: each side must be at most %d", input.width,
                           input.height, kMaxInputSide);
  if (input.width % 32 != 0 || input.height % 32 != 0)
    return Status::failure(Errc::bad_size, "input size %dx%d: %s's input must be a multiple of 32 on each side (%s)",
                           input.width, input.height, family, why);
  return Status{};
}

/// Reserves `buf` for n candidates of `cols` columns, reporting out-of-memory as a Status.
inline Status reserve_family(FamilyBuffers& buf, std::size_t n, std::size_t cols, const char* family) noexcept {
  return guard_allocation(
      [&] {
        buf.reserve(n, cols);
        return Status{};
      },
      [&] { return Status::failure(Errc::size_overflow, "%s: out of memory for %zu candidates", family, n); });
}

/// (v - pad) / scale on the x and y columns of one row (boxes and keypoints), then the clamp
/// to the image if asked: the mapping of ImageMapping, after the family's decode.
inline void map_row(float* row, std::size_t cols, const ImageMapping& m) noexcept {
  for (std::size_t c = 0; c < cols; ++c) {
    if (c == 4) continue;  // the score
    const bool is_x = c < 4 ? (c % 2 == 0) : (c % 2 == 1);
    row[c] = is_x ? (row[c] - m.pad_x) / m.scale_x : (row[c] - m.pad_y) / m.scale_y;
    if (m.clip) row[c] = arith::clamp_to(row[c], is_x ? m.image_width : m.image_height);
  }
}

/// The n candidates in `buf` (score, source, rows of `cols`) ranked by descending score (ties:
/// ascending candidate position, which follows the source rows), suppressed greedily with
/// `iou` at `nms_threshold`, and the first `max_keep` (0 = all) kept rows written to
/// buf.out_rows in order. Returns the kept count.
inline std::size_t rank_and_suppress(FamilyBuffers& buf, std::size_t n, std::size_t cols, double nms_threshold,
                                     IouConvention iou, std::size_t max_keep) noexcept {
  const std::size_t nr = rank_candidates_radix(buf.score.data(), n, 0, buf.order.data(), buf.rank);
  for (std::size_t i = 0; i < nr; ++i) {
    const float* row = buf.rows.data() + cols * buf.order[i];
    buf.x1[i] = row[0], buf.y1[i] = row[1], buf.x2[i] = row[2], buf.y2[i] = row[3];
  }
  const BoxesSoA boxes{buf.x1.data(), buf.y1.data(), buf.x2.data(), buf.y2.data(), nr};
  // The threshold is validated to [0, 1] and buf.nms reserved: this never allocates.
  const std::size_t nk = nms_greedy(boxes, nms_threshold, iou, max_keep, buf.keep.data(), buf.nms);
  for (std::size_t j = 0; j < nk; ++j) {
    const std::uint32_t c = buf.order[buf.keep[j]];
    std::memcpy(buf.out_rows.data() + cols * j, buf.rows.data() + cols * c, cols * sizeof(float));
    buf.out_source[j] = buf.source[c];
  }
  return nk;
}

}  // namespace detail
FACEPOST_ABI_END
}  // namespace facepost
