// facepost/postprocessor.hpp - the whole pipeline in one reusable object, for one frame at a
// time or for a batch of frames (optionally spread over threads the caller supplies).
#pragma once

#include <cstddef>
#include <new>
#include <vector>

#include "facepost/isa.hpp"
#include "facepost/anchors.hpp"
#include "facepost/decode.hpp"
#include "facepost/detections.hpp"
#include "facepost/error.hpp"
#include "facepost/params.hpp"
#include "facepost/priors.hpp"
#include "facepost/tensor.hpp"
#include "facepost/workspace.hpp"

namespace facepost {
FACEPOST_ABI_BEGIN

namespace detail {

/// Validates parameters, mapping, input size and heads; builds the priors for the size.
template <class Spec>
Status prepare_frame(PriorGrid<Spec>& grid, const Params& params, const HeadOutputs& heads, InputSize input,
                     const ImageMapping& mapping) noexcept {
  Status s = validate_params(params);
  if (s.ok()) s = validate_mapping(mapping);
  if (!s.ok()) return s;
  // Check the heads against the prior count before building: a rejected frame (e.g. the original
  // image size passed by mistake) must not rebuild, and allocate, the priors of a wrong size.
  std::size_t count = 0;
  s = count_priors(grid.spec(), input, count);
  if (s.ok()) s = validate_heads(heads, count);
  if (!s.ok()) return s;
  return guard_allocation([&] { return grid.try_build(input); },
                          [&] {
                            return Status::failure(Errc::size_overflow,
                                                   "out of memory building the priors of a %dx%d input", input.width,
                                                   input.height);
                          });
}

inline Status reserve_workspace(FrameWorkspace& ws, std::size_t n) noexcept {
  return guard_allocation(
      [&] {
        ws.reserve(n);
        return Status{};
      },
      [&] { return Status::failure(Errc::size_overflow, "out of memory reserving buffers for %zu priors", n); });
}

}  // namespace detail

/// Post-processes frames one at a time: priors cached per input size, every buffer reused, so a
/// stream of frames of one size allocates nothing after the first. Not thread-safe: use one per
/// thread, or BasicBatchPostprocessor.
template <class Spec = AnchorConfig>
class BasicPostprocessor {
 public:
  explicit BasicPostprocessor(Spec spec = {}, Params params = {}) : grid_(std::move(spec)), params_(params) {}

  const Params& params() const noexcept { return params_; }
  void set_params(const Params& p) noexcept { params_ = p; }
  const PriorGrid<Spec>& priors() const noexcept { return grid_; }
  const RunStats& stats() const noexcept { return ws_.stats(); }

  /// Runs the pipeline; throws facepost::Error on bad input. The result is valid until the
  /// next run.
  Detections run(const HeadOutputs& heads, InputSize input, const ImageMapping& mapping = {}) {
    Detections d;
    throw_if_error(try_run(heads, input, mapping, d));
    return d;
  }

  /// No-throw variant: returns a Status naming the problem (out-of-memory included).
  Status try_run(const HeadOutputs& heads, InputSize input, const ImageMapping& mapping, Detections& out) noexcept {
    out = Detections{};
    Status s = detail::prepare_frame(grid_, params_, heads, input, mapping);
    if (s.ok()) s = detail::reserve_workspace(ws_, grid_.size());
    if (!s.ok()) return s;
    out = ws_.run(heads, grid_.data(), DecodeContext(input, grid_.spec().variance, mapping), params_);
    return s;
  }

 private:
  PriorGrid<Spec> grid_;
  Params params_;
  FrameWorkspace ws_;
};

/// Post-processor for a runtime anchor configuration.
using Postprocessor = BasicPostprocessor<AnchorConfig>;

/// Post-processes a batch of frames of one input size; results identical to running the frames
/// one at a time. One workspace per frame slot, so all results stay valid together until the
/// next batch. No hidden threads: prepare() once, then call run_shard(s, S) from S threads of
/// your own (shard s takes frames s, s+S, s+2S, ...), or run() to do everything on this thread.
template <class Spec = AnchorConfig>
class BasicBatchPostprocessor {
 public:
  explicit BasicBatchPostprocessor(Spec spec = {}, Params params = {}) : grid_(std::move(spec)), params_(params) {}

  const Params& params() const noexcept { return params_; }
  void set_params(const Params& p) noexcept { params_ = p; }
  const PriorGrid<Spec>& priors() const noexcept { return grid_; }

  /// Validates every frame, builds the priors and reserves a workspace per frame. `mappings`
  /// holds one mapping per frame, or a single one shared by all frames.
  Status prepare(const HeadOutputs* frames, std::size_t count, InputSize input, const ImageMapping* mappings,
                 std::size_t mapping_count = 1) noexcept {
    frames_ = nullptr;
    count_ = 0;
    if (count > 0 && frames == nullptr) return Status::failure(Errc::empty_tensor, "batch: null frame array");
    if (mappings == nullptr || (mapping_count != 1 && mapping_count != count))
      return Status::failure(Errc::bad_argument, "batch: %zu mappings for %zu frames (give 1 or one per frame)",
                             mapping_count, count);
    for (std::size_t f = 0; f < count; ++f) {
      Status s = detail::prepare_frame(grid_, params_, frames[f], input, mappings[mapping_count == 1 ? 0 : f]);
      if (!s.ok()) return Status::failure(s.code(), "batch frame %zu: %s", f, s.message());
    }
    const Status grown = detail::guard_allocation(
        [&] {
          if (workspaces_.size() < count) workspaces_.resize(count);
          return Status{};
        },
        [&] { return Status::failure(Errc::size_overflow, "batch: out of memory for %zu workspaces", count); });
    if (!grown.ok()) return grown;
    for (std::size_t f = 0; f < count; ++f) {
      Status s = detail::reserve_workspace(workspaces_[f], grid_.size());
      if (!s.ok()) return s;
    }
    frames_ = frames;
    mappings_ = mappings;
    mapping_count_ = mapping_count;
    count_ = count;
    input_ = input;
    return Status{};
  }

  /// Processes the frames of shard `shard` of `num_shards` (thread-safe across distinct shards
  /// of one prepared batch).
  void run_shard(std::size_t shard, std::size_t num_shards) noexcept {
    if (num_shards == 0) return;
    for (std::size_t f = shard; f < count_; f += num_shards) {
      const ImageMapping& m = mappings_[mapping_count_ == 1 ? 0 : f];
      workspaces_[f].run(frames_[f], grid_.data(), DecodeContext(input_, grid_.spec().variance, m), params_);
    }
  }

  /// prepare() then every frame on this thread.
  Status try_run(const HeadOutputs* frames, std::size_t count, InputSize input, const ImageMapping& mapping) noexcept {
    Status s = prepare(frames, count, input, &mapping, 1);
    if (s.ok()) run_shard(0, 1);
    return s;
  }
  void run(const HeadOutputs* frames, std::size_t count, InputSize input, const ImageMapping& mapping = {}) {
    throw_if_error(try_run(frames, count, input, mapping));
  }

  std::size_t size() const noexcept { return count_; }
  /// Detections of frame f of the last batch (after run / every shard has run).
  Detections result(std::size_t f) const noexcept { return f < count_ ? workspaces_[f].detections() : Detections{}; }
  const RunStats& stats(std::size_t f) const noexcept { return workspaces_[f].stats(); }

 private:
  PriorGrid<Spec> grid_;
  Params params_;
  std::vector<FrameWorkspace> workspaces_;
  const HeadOutputs* frames_ = nullptr;
  const ImageMapping* mappings_ = nullptr;
  std::size_t mapping_count_ = 1;
  std::size_t count_ = 0;
  InputSize input_{};
};

using BatchPostprocessor = BasicBatchPostprocessor<AnchorConfig>;

FACEPOST_ABI_END
}  // namespace facepost
