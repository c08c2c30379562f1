// facepost/workspace.hpp - FrameWorkspace: one frame's buffers, run through the pipeline
// (pipeline.hpp) with the active kernels.
#pragma once

#include <cstddef>

#include "facepost/decode.hpp"
#include "facepost/detections.hpp"
#include "facepost/dispatch.hpp"
#include "facepost/isa.hpp"
#include "facepost/params.hpp"
#include "facepost/pipeline.hpp"
#include "facepost/tensor.hpp"

namespace facepost {
FACEPOST_ABI_BEGIN

/// reserve(n) once for n priors; every later run with at most n priors allocates nothing.
class FrameWorkspace {
 public:
  void reserve(std::size_t n) { buf_.reserve(n); }
  std::size_t capacity() const noexcept { return buf_.capacity; }

  /// Runs one validated frame against `priors` ([N,4]). Needs reserve(N) first.
  Detections run(const HeadOutputs& heads, const float* priors, const DecodeContext& ctx, const Params& params) noexcept {
    return run_pipeline(active_kernels(), heads, priors, ctx, params, buf_, stats_);
  }

  Detections detections() const noexcept {
    return Detections(buf_.rows.data(), buf_.out_prior.data(), stats_.detections);
  }
  const RunStats& stats() const noexcept { return stats_; }

 private:
  FrameBuffers buf_;
  RunStats stats_;
};

FACEPOST_ABI_END
}  // namespace facepost
