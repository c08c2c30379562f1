// Compiled for baseline x86-64 with FACEPOST_RUNTIME_DISPATCH (bench/CMakeLists.txt), linked into
// the benchmark whose other unit selects its kernels at compile time (-march=native).
#include "dispatch_peer.hpp"

namespace facepost_bench {

struct DispatchPostprocessor::Impl {
  facepost::Postprocessor pp;
};

DispatchPostprocessor::DispatchPostprocessor(const facepost::AnchorConfig& anchors, const facepost::Params& params)
    : impl_(new Impl{facepost::Postprocessor(anchors, params)}) {}
DispatchPostprocessor::~DispatchPostprocessor() { delete impl_; }

facepost::Detections DispatchPostprocessor::run(const facepost::HeadOutputs& heads, facepost::InputSize input,
                                                const facepost::ImageMapping& mapping) {
  return impl_->pp.run(heads, input, mapping);
}
std::size_t DispatchPostprocessor::priors() const { return impl_->pp.stats().priors; }
std::size_t DispatchPostprocessor::candidates() const { return impl_->pp.stats().candidates; }
const char* DispatchPostprocessor::backend() { return facepost::backend_name(); }

}  // namespace facepost_bench
