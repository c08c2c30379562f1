// facepost/families/retinaface.hpp - RetinaFace (Pytorch_Retinaface, Face-Detector-1MB) as one of
// the detector families: the family interface (try_run into FamilyDetections, stats, params) over
// the RetinaFace pipeline (pipeline.hpp), whose stages are the ones the other families share -
// the filter kernels, the radix rank, the exact greedy NMS, the mapping - plus its SIMD decode.
// Results and speed are those of BasicPostprocessor: this adds no copy and no stage.
#pragma once

#include <utility>

#include "facepost/anchors.hpp"
#include "facepost/families/family.hpp"
#include "facepost/isa.hpp"
#include "facepost/params.hpp"
#include "facepost/postprocessor.hpp"
#include "facepost/tensor.hpp"

namespace facepost {
FACEPOST_ABI_BEGIN

/// RetinaFace with the family interface. `Spec`: a preset type (presets::retinaface_mnet, ...)
/// or AnchorConfig; parameters are `Params` (detect.py's defaults).
template <class Spec = AnchorConfig>
class BasicRetinafacePostprocessor {
 public:
  explicit BasicRetinafacePostprocessor(Spec spec = {}, Params params = {}) : post_(std::move(spec), params) {}
  const Params& params() const noexcept { return post_.params(); }
  void set_params(const Params& p) noexcept { post_.set_params(p); }
  const RunStats& stats() const noexcept { return post_.stats(); }
  /// The pipeline underneath (its priors, its Detections API).
  BasicPostprocessor<Spec>& pipeline() noexcept { return post_; }

  /// `heads`: loc [N,4], conf [N,2], landms [N,10]; NMS runs in original-image pixels, after the
  /// mapping, as detect.py. Rows: x1 y1 x2 y2 score and 5 landmarks; source_index = the prior.
  FamilyDetections run(const HeadOutputs& heads, InputSize input, const ImageMapping& mapping = {}) {
    FamilyDetections d;
    throw_if_error(try_run(heads, input, mapping, d));
    return d;
  }

  Status try_run(const HeadOutputs& heads, InputSize input, const ImageMapping& mapping,
                 FamilyDetections& out) noexcept {
    Detections d;
    const Status s = post_.try_run(heads, input, mapping, d);
    out = FamilyDetections(d.data(), d.prior_indices(), d.size(), kDetectionCols);
    return s;
  }

 private:
  BasicPostprocessor<Spec> post_;
};

using RetinafacePostprocessor = BasicRetinafacePostprocessor<AnchorConfig>;

FACEPOST_ABI_END
}  // namespace facepost
