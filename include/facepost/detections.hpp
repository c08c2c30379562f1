// facepost/detections.hpp - the result: a view of [K,15] float rows owned by a Postprocessor.
#pragma once

#include <cstddef>
#include <cstdint>

#include <Eigen/Core>

namespace facepost {

/// Columns of a detection row: x1 y1 x2 y2 score lx0 ly0 ... lx4 ly4.
constexpr std::size_t kDetectionCols = 15;

/// One detection, read in place.
struct DetectionRef {
  const float* row;
  float x1() const noexcept { return row[0]; }
  float y1() const noexcept { return row[1]; }
  float x2() const noexcept { return row[2]; }
  float y2() const noexcept { return row[3]; }
  float score() const noexcept { return row[4]; }
  float landmark_x(int k) const noexcept { return row[5 + 2 * k]; }
  float landmark_y(int k) const noexcept { return row[6 + 2 * k]; }
};

using DetectionMatrix = Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, 15, Eigen::RowMajor>>;

/// Detections in descending score order, valid until the producing Postprocessor runs again or
/// is destroyed. `data()` is the [K,15] row-major float layout, ready to hand out without a copy.
class Detections {
 public:
  Detections() = default;
  Detections(const float* rows, const std::uint32_t* prior_index, std::size_t count) noexcept
      : rows_(rows), prior_index_(prior_index), count_(count) {}

  std::size_t size() const noexcept { return count_; }
  bool empty() const noexcept { return count_ == 0; }
  const float* data() const noexcept { return rows_; }
  DetectionRef operator[](std::size_t i) const noexcept { return DetectionRef{rows_ + kDetectionCols * i}; }
  /// Index of the prior (row of the input tensors) each detection came from.
  std::uint32_t prior_index(std::size_t i) const noexcept { return prior_index_[i]; }
  /// The rows as an Eigen [K,15] map.
  DetectionMatrix matrix() const noexcept { return DetectionMatrix(rows_, Eigen::Index(count_), 15); }

 private:
  const float* rows_ = nullptr;
  const std::uint32_t* prior_index_ = nullptr;
  std::size_t count_ = 0;
};

}  // namespace facepost
