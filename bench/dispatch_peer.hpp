// bench/dispatch_peer.hpp - the same Postprocessor, compiled in a portable translation unit with
// runtime dispatch (dispatch_peer.cpp), for the benchmark rows that compare it with compile-time
// selection in one run. Only facepost's shared data types cross between the two units.
#pragma once

#include <cstddef>

#include "facepost/facepost.hpp"

namespace facepost_bench {

class DispatchPostprocessor {
 public:
  DispatchPostprocessor(const facepost::AnchorConfig& anchors, const facepost::Params& params);
  ~DispatchPostprocessor();
  DispatchPostprocessor(const DispatchPostprocessor&) = delete;
  DispatchPostprocessor& operator=(const DispatchPostprocessor&) = delete;

  facepost::Detections run(const facepost::HeadOutputs& heads, facepost::InputSize input,
                           const facepost::ImageMapping& mapping);
  std::size_t priors() const;
  std::size_t candidates() const;
  /// The kernels the dispatching unit runs.
  static const char* backend();

 private:
  struct Impl;
  Impl* impl_;
};

}  // namespace facepost_bench
