// Compiled once as portable_part (baseline x86-64) and once as native_part (AVX2 or AVX-512):
// MIXED_ISA_PART names the function. Uses nothing but facepost and plain memory, so that only
// facepost's own inline functions could collide between the two objects.
#include <cstring>

#include "facepost/facepost.hpp"
#include "part.hpp"

#ifndef MIXED_ISA_PART
#error "MIXED_ISA_PART must name the part (portable_part or native_part)"
#endif

namespace mixed_isa {

PartResult MIXED_ISA_PART(const facepost::HeadOutputs& heads, facepost::InputSize input,
                          const facepost::AnchorConfig& anchors, const facepost::Params& params,
                          const facepost::ImageMapping& mapping, float* rows, std::size_t capacity) {
  facepost::Postprocessor pp(anchors, params);
  const facepost::Detections d = pp.run(heads, input, mapping);
  const std::size_t n = d.size() < capacity ? d.size() : capacity;
  std::memcpy(rows, d.data(), n * facepost::kDetectionCols * sizeof(float));
  return PartResult{facepost::backend_name(), FACEPOST_ABI_NAME, n};
}

}  // namespace mixed_isa
