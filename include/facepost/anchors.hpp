// facepost/anchors.hpp - anchor (prior box) configurations: compile-time presets and a runtime one.
#pragma once

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <vector>

#include "facepost/error.hpp"
#include "facepost/isa.hpp"

namespace facepost {

/// Box-regression variances of the SSD/RetinaFace encoding: centres use [0], sizes use [1].
struct Variance {
  float center = 0.1f;
  float size = 0.2f;
};

/// Network input size in pixels (what the priors are built for, not the original image).
struct InputSize {
  int width = 0;
  int height = 0;
  FACEPOST_ABI_TAG friend bool operator==(InputSize a, InputSize b) { return a.width == b.width && a.height == b.height; }
  FACEPOST_ABI_TAG friend bool operator!=(InputSize a, InputSize b) { return !(a == b); }
};

/// Largest prior count facepost accepts: candidate indices are 32-bit.
constexpr std::uint64_t kMaxPriors = std::uint64_t{1} << 31;
/// Largest input side accepted (a 2^20 px side is far past any detector input).
constexpr int kMaxInputSide = 1 << 20;

/// One feature-map level: a stride and the min sizes of the anchors at each cell.
struct AnchorLevel {
  int step = 0;
  std::vector<int> min_sizes;
};

/// Runtime anchor configuration, for any RetinaFace-family head.
struct AnchorConfig {
  std::vector<AnchorLevel> levels;
  Variance variance{};
  bool clip = false;  ///< clamp priors to [0,1] (PriorBox `clip`)

  /// Calls f(step, min_sizes pointer, count) for each level, in order.
  // (No ABI tag on the for_each_level templates: facepost calls them with lambdas of its own
  // functions, whose closure types already carry the instruction-set namespace.)
  template <class F>
  void for_each_level(F&& f) const {
    for (const AnchorLevel& l : levels) f(l.step, l.min_sizes.data(), l.min_sizes.size());
  }
  FACEPOST_ABI_TAG std::size_t num_levels() const noexcept { return levels.size(); }
};

namespace presets {

/// A level known at compile time: Step and its min sizes.
template <int Step, int... MinSizes>
struct level {
  static_assert(Step > 0, "anchor step must be positive");
  static_assert(sizeof...(MinSizes) > 0, "a level needs at least one min size");
  static constexpr int step = Step;
  static constexpr std::array<int, sizeof...(MinSizes)> min_sizes{{MinSizes...}};
};

/// A whole anchor configuration known at compile time (variance 0.1/0.2, no clip).
template <class... Levels>
struct anchors {
  static_assert(sizeof...(Levels) > 0, "an anchor configuration needs at least one level");
  static constexpr Variance variance{0.1f, 0.2f};
  static constexpr bool clip = false;
  template <class F>
  static void for_each_level(F&& f) {
    (f(Levels::step, Levels::min_sizes.data(), Levels::min_sizes.size()), ...);
  }
  FACEPOST_ABI_TAG static constexpr std::size_t num_levels() noexcept { return sizeof...(Levels); }
};

/// Pytorch_Retinaface cfg_mnet and cfg_re50 (same anchors).
using retinaface_mnet = anchors<level<8, 16, 32>, level<16, 64, 128>, level<32, 256, 512>>;
using retinaface_r50 = retinaface_mnet;
/// Face-Detector-1MB-with-landmark, mobilenet0.25 head.
using fd1m_mnet = anchors<level<8, 10, 20>, level<16, 32, 64>, level<32, 128, 256>>;
/// Face-Detector-1MB-with-landmark, slim and RFB heads.
using fd1m_slim = anchors<level<8, 10, 16, 24>, level<16, 32, 48>, level<32, 64, 96>, level<64, 128, 192, 256>>;
using fd1m_rfb = fd1m_slim;

}  // namespace presets

FACEPOST_ABI_BEGIN

/// Turns a preset (or an AnchorConfig) into a runtime AnchorConfig.
template <class Spec>
AnchorConfig to_anchor_config(const Spec& spec) {
  AnchorConfig c;
  spec.for_each_level([&](int step, const int* sizes, std::size_t n) {
    c.levels.push_back(AnchorLevel{step, std::vector<int>(sizes, sizes + n)});
  });
  c.variance = spec.variance;
  c.clip = spec.clip;
  return c;
}

/// Checks a configuration: at least one level, every step and min size positive, variances
/// finite and positive.
template <class Spec>
Status validate_anchors(const Spec& spec) noexcept {
  Status s;
  if (spec.num_levels() == 0) return Status::failure(Errc::bad_anchor_config, "anchor configuration has no levels");
  std::size_t k = 0;
  spec.for_each_level([&](int step, const int* sizes, std::size_t n) {
    if (!s.ok()) return;
    if (step <= 0) {
      s = Status::failure(Errc::bad_anchor_config, "anchor level %zu has step %d; steps must be positive", k, step);
    } else if (n == 0) {
      s = Status::failure(Errc::bad_anchor_config, "anchor level %zu has no min sizes", k);
    } else {
      for (std::size_t m = 0; m < n; ++m)
        if (sizes[m] <= 0) {
          s = Status::failure(Errc::bad_anchor_config, "anchor level %zu has min size %d; min sizes must be positive", k,
                              sizes[m]);
          break;
        }
    }
    ++k;
  });
  if (!s.ok()) return s;
  const Variance v = spec.variance;
  if (!(std::isfinite(v.center) && v.center > 0.f && std::isfinite(v.size) && v.size > 0.f))
    return Status::failure(Errc::bad_variance, "variance (%g, %g) must be finite and positive", double(v.center),
                           double(v.size));
  return s;
}

/// Checks an input size: both sides in [1, kMaxInputSide].
inline Status validate_input_size(InputSize in) noexcept {
  if (in.width <= 0 || in.height <= 0)
    return Status::failure(Errc::bad_size, "input size %dx%d: width and height must be positive", in.width, in.height);
  if (in.width > kMaxInputSide || in.height > kMaxInputSide)
    return Status::failure(Errc::size_overflow, "input size %dx%d: each side must be at most %d", in.width, in.height,
                           kMaxInputSide);
  return Status{};
}

/// Number of priors for an input size, or a failure if the configuration or size is invalid or
/// the count would exceed kMaxPriors. Computed in 64-bit with overflow checks.
template <class Spec>
Status count_priors(const Spec& spec, InputSize in, std::size_t& count) noexcept {
  count = 0;
  Status s = validate_anchors(spec);
  if (!s.ok()) return s;
  s = validate_input_size(in);
  if (!s.ok()) return s;
  std::uint64_t total = 0;
  bool overflow = false;
  spec.for_each_level([&](int step, const int*, std::size_t n) {
    // ceil(H/step) * ceil(W/step) * n; every factor < 2^21, so each level fits in 64 bits.
    const std::uint64_t fh = (std::uint64_t(in.height) + std::uint64_t(step) - 1) / std::uint64_t(step);
    const std::uint64_t fw = (std::uint64_t(in.width) + std::uint64_t(step) - 1) / std::uint64_t(step);
    const std::uint64_t cells = fh * fw;  // < 2^40
    if (std::uint64_t(n) > kMaxPriors / cells) {
      overflow = true;
      return;
    }
    const std::uint64_t level = cells * std::uint64_t(n);
    if (total + level > kMaxPriors) overflow = true;
    else total += level;
  });
  if (overflow)
    return Status::failure(Errc::size_overflow, "input size %dx%d gives more than %llu priors", in.width, in.height,
                           static_cast<unsigned long long>(kMaxPriors));
  count = static_cast<std::size_t>(total);
  return s;
}

FACEPOST_ABI_END
}  // namespace facepost
