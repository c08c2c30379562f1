// facepost/priors.hpp - PriorGrid: the prior boxes of an anchor configuration for one input size.
#pragma once

#include <algorithm>
#include <cstddef>
#include <vector>

#include <Eigen/Core>

#include "facepost/anchors.hpp"
#include "facepost/error.hpp"

namespace facepost {

/// Priors as an [N,4] row-major view: cx, cy, w, h, normalised to the input size.
using PriorsView = Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, 4, Eigen::RowMajor>>;

/// Writes the priors of `spec` for input size `in` into out[0 .. 4*count), bit for bit as the
/// reference PriorBox: each value computed in double, then rounded to float32. The caller has
/// checked the configuration and sized `out` with count_priors().
template <class Spec>
void generate_priors(const Spec& spec, InputSize in, float* out) noexcept {
  const double W = in.width, H = in.height;
  const bool clip = spec.clip;
  auto store = [&](double v) {
    float f = static_cast<float>(v);
    if (clip) f = std::min(1.f, std::max(0.f, f));  // torch clamp_ on the float32 tensor
    *out++ = f;
  };
  spec.for_each_level([&](int step, const int* sizes, std::size_t n) {
    const int fh = (in.height + step - 1) / step;  // ceil(H / step)
    const int fw = (in.width + step - 1) / step;
    for (int i = 0; i < fh; ++i) {
      const double cy = (i + 0.5) * step / H;
      for (int j = 0; j < fw; ++j) {
        const double cx = (j + 0.5) * step / W;
        for (std::size_t m = 0; m < n; ++m) {
          store(cx);
          store(cy);
          store(sizes[m] / W);
          store(sizes[m] / H);
        }
      }
    }
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

}  // namespace facepost
