// tools/metal/syntax_check_host.cpp - the host code (facepost/metal/postprocess.hpp) as a user TU;
// type-checked against real metal-cpp headers by tools/metal/syntax_check.sh.
#define FACEPOST_METAL_IMPLEMENTATION
#include <facepost/metal/postprocess.hpp>
facepost::metal::BatchResults run(MTL::Device* d, MTL::CommandQueue* q, MTL::Buffer* loc, MTL::Buffer* conf,
                                  MTL::Buffer* landms, std::size_t batch, std::size_t rows) {
  facepost::metal::MetalPostprocessor pp(d, facepost::to_anchor_config(facepost::presets::retinaface_mnet{}));
  MTL::CommandBuffer* cb = q->commandBuffer();
  pp.encode(cb, {{loc, 0}, {conf, 0}, {landms, 0}, batch, rows, facepost::metal::HeadType::f16}, {640, 640});
  cb->commit();
  cb->waitUntilCompleted();
  return pp.results();
}
