// tests/mixed_isa/part.hpp - one half of the mixed-instruction-set program: part.cpp is compiled
// twice, portable (-march=x86-64) and for AVX2 / AVX-512, and both objects are linked into one
// program (main.cpp). Only facepost's shared data types and plain pointers cross between them.
#pragma once

#include <cstddef>

#include "facepost/anchors.hpp"
#include "facepost/params.hpp"
#include "facepost/tensor.hpp"

namespace mixed_isa {

struct PartResult {
  const char* backend;     ///< facepost::backend_name() in that part
  const char* abi;         ///< the part's instruction-set namespace
  std::size_t detections;  ///< rows written to `rows` (at most `capacity`)
};

/// Runs a Postprocessor on one frame; writes up to `capacity` detection rows to `rows`.
PartResult portable_part(const facepost::HeadOutputs& heads, facepost::InputSize input,
                         const facepost::AnchorConfig& anchors, const facepost::Params& params,
                         const facepost::ImageMapping& mapping, float* rows, std::size_t capacity);
PartResult native_part(const facepost::HeadOutputs& heads, facepost::InputSize input,
                       const facepost::AnchorConfig& anchors, const facepost::Params& params,
                       const facepost::ImageMapping& mapping, float* rows, std::size_t capacity);

}  // namespace mixed_isa
