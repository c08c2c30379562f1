// The Metal backend end to end on the shim: facepost::metal::MetalPostprocessor (the real host
// code, over the fake metal-cpp) runs include/facepost/metal/kernels.metal (compiled as C++ from
// the flattened source the host passes to newLibrary) on the CPU, and every frame is compared bit
// for bit with the CPU BatchPostprocessor: rows, prior indices, counts. ctest runs every case at
// SIMD widths 32 and 8.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include <Foundation/Foundation.hpp>
#include <Metal/Metal.hpp>

#include "../fixtures.hpp"
#include "../support/synthetic_scene.hpp"
#include "facepost/facepost.hpp"
#include "facepost/metal/postprocess.hpp"

namespace {

using facepost::AnchorConfig;
using facepost::ImageMapping;
using facepost::InputSize;
using facepost::Params;
using facepost::metal::HeadType;

struct Frame {
  std::vector<float> loc, conf, landms;
  std::size_t rows = 0;
  facepost::HeadOutputs view() const {
    return facepost::HeadOutputs{facepost::TensorView(loc.data(), rows, 4), facepost::TensorView(conf.data(), rows, 2),
                                 facepost::TensorView(landms.data(), rows, 10)};
  }
};

Frame fixture_frame(const std::string& name) {
  const fixtures::Heads h(name);
  return Frame{h.loc.data, h.conf.data, h.landms.data, std::size_t(h.loc.shape[0])};
}

Frame scene_frame(const AnchorConfig& anchors, InputSize input, std::size_t faces, std::uint32_t seed) {
  facepost_test::SceneOptions o;
  o.faces = faces;
  o.seed = seed;
  const facepost_test::SyntheticScene s = facepost_test::make_synthetic_scene(anchors, input, o);
  return Frame{s.loc, s.conf, s.landms, s.num_priors};
}

/// IEEE binary16 of a float, round to nearest even (the test's own, independent of the shim's).
std::uint16_t to_half(float x) {
  std::uint32_t u;
  std::memcpy(&u, &x, 4);
  const std::uint32_t sign = (u >> 16) & 0x8000u;
  const std::uint32_t absu = u & 0x7FFFFFFFu;
  if (absu > 0x7F800000u) return std::uint16_t(sign | 0x7E00u);
  if (absu >= 0x477FF000u) return std::uint16_t(sign | 0x7C00u);  // rounds to >= 65520: inf
  if (absu < 0x38800000u) {                                        // half subnormal or zero
    const float a = std::fabs(x) * 16777216.f;                       // units of 2^-24, exact
    return std::uint16_t(sign | std::uint32_t(std::nearbyint(a)));
  }
  const std::uint32_t mant = absu & 0x7FFFFFu, exp = (absu >> 23) - 112u;
  std::uint32_t h = (exp << 10) | (mant >> 13);
  const std::uint32_t rest = mant & 0x1FFFu;
  if (rest > 0x1000u || (rest == 0x1000u && (h & 1u))) ++h;
  return std::uint16_t(sign | h);
}
float from_half(std::uint16_t h) {
  const std::uint32_t sign = std::uint32_t(h & 0x8000u) << 16, e = (h >> 10) & 0x1Fu, m = h & 0x3FFu;
  float v = e == 0 ? std::ldexp(float(m), -24) : e == 31 ? (m ? std::numeric_limits<float>::quiet_NaN()
                                                               : std::numeric_limits<float>::infinity())
                                                         : std::ldexp(float(m | 0x400u), int(e) - 25);
  std::uint32_t u;
  std::memcpy(&u, &v, 4);
  u |= sign;
  std::memcpy(&v, &u, 4);
  return v;
}
Frame half_rounded(Frame f) {
  for (std::vector<float>* v : {&f.loc, &f.conf, &f.landms})
    for (float& x : *v) x = from_half(to_half(x));
  return f;
}

/// A host program's context: an autorelease pool (command buffers and encoders are autoreleased),
/// the device and a queue.
struct Device {
  struct Pool {
    NS::AutoreleasePool* pool = NS::AutoreleasePool::alloc()->init();
    ~Pool() { pool->release(); }
  } pool;
  NS::SharedPtr<MTL::Device> device = NS::TransferPtr(MTL::CreateSystemDefaultDevice());
  NS::SharedPtr<MTL::CommandQueue> queue = NS::TransferPtr(device->newCommandQueue());

  /// One buffer holding the frames' `field`, as float or half.
  NS::SharedPtr<MTL::Buffer> upload(const std::vector<const Frame*>& frames, std::vector<float> Frame::*field,
                                    HeadType type, std::size_t offset) {
    std::size_t n = 0;
    for (const Frame* f : frames) n += (f->*field).size();
    const std::size_t element = type == HeadType::f16 ? 2 : 4;
    auto b = NS::TransferPtr(device->newBuffer(offset + n * element, MTL::ResourceStorageModeShared));
    auto* p = static_cast<unsigned char*>(b->contents()) + offset;
    for (const Frame* f : frames)
      for (float v : f->*field) {
        if (type == HeadType::f16) {
          const std::uint16_t h = to_half(v);
          std::memcpy(p, &h, 2);
        } else {
          std::memcpy(p, &v, 4);
        }
        p += element;
      }
    return b;
  }
};

std::string compare(const facepost::Detections& got, const facepost::metal::FrameStats& gs,
                    const facepost::Detections& want, const facepost::RunStats& ws) {
  if (gs.candidates != ws.candidates || gs.ranked != ws.ranked || gs.detections != ws.detections)
    return "counts: metal " + std::to_string(gs.candidates) + "/" + std::to_string(gs.ranked) + "/" +
           std::to_string(gs.detections) + ", cpu " + std::to_string(ws.candidates) + "/" + std::to_string(ws.ranked) +
           "/" + std::to_string(ws.detections);
  if (got.size() != want.size()) return "sizes differ";
  for (std::size_t i = 0; i < got.size(); ++i) {
    if (got.prior_index(i) != want.prior_index(i)) return "row " + std::to_string(i) + ": prior index differs";
    if (std::memcmp(got.data() + i * facepost::kDetectionCols, want.data() + i * facepost::kDetectionCols,
                    facepost::kDetectionCols * sizeof(float)) != 0)
      return "row " + std::to_string(i) + ": bits differ";
  }
  return "";
}

std::size_t compared_rows = 0;

/// Runs `frames` as one batch through the Metal backend and checks each frame against the CPU.
void check_batch(Device& d, facepost::metal::MetalPostprocessor& gpu, const std::vector<const Frame*>& frames,
                 const AnchorConfig& anchors, InputSize input, const ImageMapping& mapping, const Params& params,
                 HeadType type, const std::string& what, std::size_t offset = 0) {
  INFO(what);
  auto loc = d.upload(frames, &Frame::loc, type, offset);
  auto conf = d.upload(frames, &Frame::conf, type, offset);
  auto landms = d.upload(frames, &Frame::landms, type, offset);
  gpu.set_params(params);
  MTL::CommandBuffer* cb = d.queue->commandBuffer();
  gpu.encode(cb, facepost::metal::BufferHeads{{loc.get(), offset}, {conf.get(), offset}, {landms.get(), offset},
                                              frames.size(), frames[0]->rows, type},
             input, mapping);
  cb->commit();
  cb->waitUntilCompleted();
  REQUIRE(cb->status() == MTL::CommandBufferStatusCompleted);
  const facepost::metal::BatchResults out = gpu.results();
  REQUIRE(out.size() == frames.size());

  facepost::BatchPostprocessor cpu(anchors, params);
  std::vector<facepost::HeadOutputs> views;
  for (const Frame* f : frames) views.push_back(f->view());
  cpu.run(views.data(), views.size(), input, mapping);
  for (std::size_t f = 0; f < frames.size(); ++f) {
    INFO("frame " << f);
    CHECK(compare(out.frame(f), out.stats(f), cpu.result(f), cpu.stats(f)) == "");
    compared_rows += out.frame(f).size();
  }
}

AnchorConfig mnet() { return facepost::to_anchor_config(facepost::presets::retinaface_mnet{}); }

}  // namespace

TEST_CASE("metal emulated: every fixture and golden set", "[metal][fixtures]") {
  Device d;
  for (const fixtures::Fixture& fx : fixtures::all()) {
    const Frame frame = fixture_frame(fx.name);
    facepost::metal::MetalPostprocessor gpu(d.device.get(), fx.anchors);
    for (const fixtures::GoldenSet& gs : fixtures::golden_sets())
      check_batch(d, gpu, {&frame}, fx.anchors, fx.input, ImageMapping::resize(fx.resize), gs.params, HeadType::f32,
                  std::string(fx.name) + " / " + gs.name);
  }
  WARN("fixtures x golden sets: " << compared_rows << " detections compared bit for bit so far");
}

TEST_CASE("metal emulated: batches of different frames, fp16, logits, letterbox and clipping", "[metal][tsan]") {
  Device d;
  const AnchorConfig anchors = mnet();
  const InputSize input{320, 240};
  std::vector<Frame> frames;
  for (std::uint32_t seed : {1u, 2u, 3u}) frames.push_back(scene_frame(anchors, input, 40 * seed, seed));
  Frame broken = frames[1];  // non-finite values among the best candidates
  int hit = 0;
  for (std::size_t r = 0; r < broken.rows && hit < 16; ++r) {
    if (!(broken.conf[2 * r + 1] > 0.3f)) continue;
    switch (hit++ % 4) {
      case 0: broken.loc[4 * r] = std::numeric_limits<float>::quiet_NaN(); break;
      case 1: broken.loc[4 * r + 2] = 1e30f; break;
      case 2: broken.landms[10 * r + 7] = std::numeric_limits<float>::infinity(); break;
      case 3: broken.conf[2 * r + 1] = std::numeric_limits<float>::quiet_NaN(); break;
    }
  }
  frames.push_back(broken);
  std::vector<const Frame*> batch;
  for (const Frame& f : frames) batch.push_back(&f);
  facepost::metal::MetalPostprocessor gpu(d.device.get(), anchors);
  Params continuous = Params{}.unlimited();
  continuous.iou = facepost::IouConvention::continuous;
  Params keep = Params{};
  keep.keep_top_k = 7;
  for (const Params& p : {Params{}, Params{}.unlimited(), continuous, keep})
    check_batch(d, gpu, batch, anchors, input, ImageMapping::resize(0.5f), p, HeadType::f32, "scenes");

  std::vector<Frame> halves;
  for (const Frame& f : frames) halves.push_back(half_rounded(f));
  std::vector<const Frame*> half_batch;
  for (const Frame& f : halves) half_batch.push_back(&f);
  check_batch(d, gpu, half_batch, anchors, input, ImageMapping::resize(0.5f), Params{}, HeadType::f16, "fp16", 64);

  Frame logits = frames[0];
  for (std::size_t r = 0; r < logits.rows; ++r) {
    logits.conf[2 * r] = float(std::log(double(logits.conf[2 * r])));
    logits.conf[2 * r + 1] = float(std::log(double(logits.conf[2 * r + 1])));
  }
  Params lp = Params{}.unlimited();
  lp.score_format = facepost::ScoreFormat::logits;
  check_batch(d, gpu, {&logits, &logits}, anchors, input, ImageMapping::resize(0.5f), lp, HeadType::f32, "logits");

  ImageMapping m = ImageMapping::letterbox_fit(200, 300, input.width, input.height);
  m.clip_to(150.f, 250.f);
  check_batch(d, gpu, {&frames[2]}, anchors, input, m, Params{}.unlimited(), HeadType::f32, "letterbox + clip");
}

TEST_CASE("metal emulated: a sort larger than one threadgroup, top_k inside the candidates", "[metal][tsan]") {
  // 640x480: 12,600 priors, sort_size up to 16,384: runs of 1,024 keys, then global steps and
  // merges; with top_k below the candidate count, the radix select picks the top_k-th key.
  Device d;
  const AnchorConfig anchors = mnet();
  const InputSize input{640, 480};
  const Frame scene = scene_frame(anchors, input, 150, 9);
  facepost::metal::MetalPostprocessor gpu(d.device.get(), anchors);
  Params top = Params{}.unlimited();
  top.top_k = 3000;
  // Threshold 0: all 12,600 rows are candidates, so top_k cuts inside them (the radix select).
  Params all_top = Params{};
  all_top.score_threshold = 0.f;
  Params all_few = all_top;
  all_few.top_k = 97;
  all_few.keep_top_k = 0;
  for (const Params& p : {Params{}.unlimited(), top, all_top, all_few})
    check_batch(d, gpu, {&scene, &scene}, anchors, input, ImageMapping::resize(0.5f), p, HeadType::f32,
                "640x480, threshold " + std::to_string(p.score_threshold) + ", top_k " + std::to_string(p.top_k));
}

TEST_CASE("metal emulated: bad input is refused before anything is encoded, naming the problem", "[metal]") {
  Device d;
  const AnchorConfig anchors = mnet();
  const InputSize input{320, 240};
  const Frame f = scene_frame(anchors, input, 10, 4);
  auto loc = d.upload({&f}, &Frame::loc, HeadType::f32, 0);
  auto conf = d.upload({&f}, &Frame::conf, HeadType::f32, 0);
  auto landms = d.upload({&f}, &Frame::landms, HeadType::f32, 0);
  facepost::metal::MetalPostprocessor gpu(d.device.get(), anchors);
  MTL::CommandBuffer* cb = d.queue->commandBuffer();
  using facepost::metal::BufferHeads;
  const BufferHeads good{{loc.get(), 0}, {conf.get(), 0}, {landms.get(), 0}, 1, f.rows, HeadType::f32};
  BufferHeads h = good;
  h.rows = f.rows + 1;
  CHECK_THROWS_WITH(gpu.encode(cb, h, input), Catch::Contains("rows per frame"));
  h = good;
  h.batch = 2;
  CHECK_THROWS_WITH(gpu.encode(cb, h, input), Catch::Contains("loc needs"));
  h = good;
  h.conf.buffer = nullptr;
  CHECK_THROWS_WITH(gpu.encode(cb, h, input), Catch::Contains("conf tensor has no buffer"));
  h = good;
  h.landms.offset = 2;
  CHECK_THROWS_WITH(gpu.encode(cb, h, input), Catch::Contains("landms offset 2"));
  CHECK(gpu.results().size() == 0);  // a failed encode leaves no batch
  // The same object then works.
  gpu.encode(cb, good, input);
  cb->commit();
  cb->waitUntilCompleted();
  CHECK(gpu.results().size() == 1);
}
