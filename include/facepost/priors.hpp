// facepost/priors.hpp - PriorGrid: the prior boxes of an anchor configuration for one input size.
#pragma once

#include <algorithm>
#include <cstddef>
#include <vector>

#include <Eigen/Core>

#include "facepost/isa.hpp"
#include "facepost/anchors.hpp"
#include "facepost/error.hpp"

namespace facepost {
FACEPOST_ABI_BEGIN

/// Priors as an [N,4] row-major view: cx, cy, w, h, normalised to the input size.
using PriorsView = Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, 4, Eigen::RowMajor>>;

/// Writes the priors of `spec` for input size `in` into out[0 .. 4*count), bit for bit as the
/// reference PriorBox: each value computed in double, then rounded to float32. The caller has
/// checked the configuration and sized `out` with count_priors().
template <class Spec>
void generate_priors(const Spec& spec, InputSize in, float* out) noexcept {
  const double W = in.width, H = in.height;
  const bool clip = spec.clip;
  auto to_float = [clip](double v) {
    float f = static_cast<float>(v);
    if (clip) f = std::min(1.f, std::max(0.f, f));  // torch clamp_ on the float32 tensor
    return f;
  };
  spec.for_each_level([&](int step, const int* sizes, std::size_t n) {
    // ceil(H / step) for H >= 1, written so that a step near INT_MAX cannot overflow H + step.
    const int fh = (in.height - 1) / step + 1;
    const int fw = (in.width - 1) / step + 1;
    // Row i equals row 0 but for cy (every value depends on one coordinate only): compute row 0
    // with the reference's expressions, then copy it with each row's cy.
    const std::size_t row_floats = 4 * n * std::size_t(fw);
    float* const row0 = out;
    for (int j = 0; j < fw; ++j) {
      const float cx = to_float((j + 0.5) * step / W);
      for (std::size_t m = 0; m < n; ++m) {
        out[0] = cx;
        out[2] = to_float(sizes[m] / W);
        out[3] = to_float(sizes[m] / H);
        out += 4;
      }
    }
    for (int i = 0; i < fh; ++i) {
      const float cy = to_float((i + 0.5) * step / H);
      float* row = row0 + std::size_t(i) * row_floats;
      if (i > 0) std::copy(row0, row0 + row_floats, row);
      for (std::size_t k = 1; k < row_floats; k += 4) row[k] = cy;
    }
    out = row0 + std::size_t(fh) * row_floats;
  });
}

/// The priors of one anchor configuration, cached per input size: building for the size it
/// already holds is free, so a stream of same-size frames never rebuilds or allocates.
///
/// `Spec` is a compile-time preset (facepost::presets::retinaface_mnet, ...) or AnchorConfig.
template <class Spec = AnchorConfig>
class PriorGrid {
 public:
  PriorGrid() = default;
  explicit PriorGrid(Spec spec) : spec_(std::move(spec)) {}

  /// Builds the priors for `in` unless they are already built; no-throw.
  Status try_build(InputSize in) {
    if (built_ && in == size_) return Status{};
    std::size_t count = 0;
    Status s = count_priors(spec_, in, count);
    if (!s.ok()) return s;
    data_.resize(count * 4);
    generate_priors(spec_, in, data_.data());
    size_ = in;
    count_ = count;
    built_ = true;
    return s;
  }

  /// Builds the priors for `in`; throws facepost::Error on an invalid size or configuration.
  const PriorGrid& build(InputSize in) {
    throw_if_error(try_build(in));
    return *this;
  }

  bool built() const noexcept { return built_; }
  InputSize input_size() const noexcept { return size_; }
  std::size_t size() const noexcept { return count_; }
  const float* data() const noexcept { return data_.data(); }
  PriorsView view() const noexcept { return PriorsView(data_.data(), Eigen::Index(count_), 4); }
  const Spec& spec() const noexcept { return spec_; }

 private:
  Spec spec_{};
  std::vector<float> data_;
  InputSize size_{};
  std::size_t count_ = 0;
  bool built_ = false;
};

FACEPOST_ABI_END
}  // namespace facepost
