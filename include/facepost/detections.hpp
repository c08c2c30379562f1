// facepost/detections.hpp - the result: a view of [K,15] float rows owned by a Postprocessor.
#pragma once

#include <cstddef>
#include <cstdint>

#include <Eigen/Core>

#include "facepost/isa.hpp"

namespace facepost {

/// Columns of a detection row: x1 y1 x2 y2 score lx0 ly0 ... lx4 ly4.
constexpr std::size_t kDetectionCols = 15;

/// One detection, read in place.
struct DetectionRef {
  const float* row;
  FACEPOST_ABI_TAG float x1() const noexcept { return row[0]; }
  FACEPOST_ABI_TAG float y1() const noexcept { return row[1]; }
  FACEPOST_ABI_TAG float x2() const noexcept { return row[2]; }
  FACEPOST_ABI_TAG float y2() const noexcept { return row[3]; }
  FACEPOST_ABI_TAG float score() const noexcept { return row[4]; }
  FACEPOST_ABI_TAG float landmark_x(int k) const noexcept { return row[5 + 2 * k]; }
  FACEPOST_ABI_TAG float landmark_y(int k) const noexcept { return row[6 + 2 * k]; }
};

using DetectionMatrix = Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, 15, Eigen::RowMajor>>;

/// Detections in descending score order, valid until the producing Postprocessor runs again or
/// is destroyed. `data()` is the [K,15] row-major float layout, ready to hand out without a copy.
class Detections {
 public:
  Detections() = default;
  FACEPOST_ABI_TAG Detections(const float* rows, const std::uint32_t* prior_index, std::size_t count) noexcept
      : rows_(rows), prior_index_(prior_index), count_(count) {}

  FACEPOST_ABI_TAG std::size_t size() const noexcept { return count_; }
  FACEPOST_ABI_TAG bool empty() const noexcept { return count_ == 0; }
  FACEPOST_ABI_TAG const float* data() const noexcept { return rows_; }
  FACEPOST_ABI_TAG DetectionRef operator[](std::size_t i) const noexcept { return DetectionRef{rows_ + kDetectionCols * i}; }
  /// Index of the prior (row of the input tensors) each detection came from.
  FACEPOST_ABI_TAG std::uint32_t prior_index(std::size_t i) const noexcept { return prior_index_[i]; }
  /// All of them, size() entries.
  FACEPOST_ABI_TAG const std::uint32_t* prior_indices() const noexcept { return prior_index_; }
  /// The rows as an Eigen [K,15] map.
  FACEPOST_ABI_TAG DetectionMatrix matrix() const noexcept { return DetectionMatrix(rows_, Eigen::Index(count_), 15); }

 private:
  const float* rows_ = nullptr;
  const std::uint32_t* prior_index_ = nullptr;
  std::size_t count_ = 0;
};

}  // namespace facepost
