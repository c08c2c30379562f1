// The CUDA backend against the CPU Postprocessor and the host emulation (bit for bit: rows,
// prior indices, counts) and the goldens: every fixture x golden set, batched, fp16, logits,
// letterbox + clip, synthetic stress frames, size and stream changes, bad input.
// [device] tests need a GPU (the runner skips them without one); [host] tests do not.
#include "facepost/cuda/postprocess.cuh"

#include <catch2/catch.hpp>

#include <cuda_fp16.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "../fixtures.hpp"
#include "batch_support.hpp"
#include "reference.hpp"

namespace {

using namespace cuda_test;
using cuda_reference::FrameResult;
using cuda_reference::HostFrame;
using facepost::AnchorConfig;
using facepost::ImageMapping;
using facepost::InputSize;
using facepost::Params;

/// Frames derived from a fixture that stress one stage each.
std::vector<HostFrame> variants(const HostFrame& base) {
  std::vector<HostFrame> v;
  v.push_back(base);
  HostFrame none = base;  // nothing passes any threshold
  for (std::size_t r = 0; r < none.rows; ++r) none.conf[2 * r] = 1.f, none.conf[2 * r + 1] = 0.f;
  v.push_back(none);
  HostFrame scaled = base;  // a different candidate set and different ties
  for (std::size_t r = 0; r < scaled.rows; ++r) scaled.conf[2 * r + 1] *= 0.75f;
  v.push_back(scaled);
  HostFrame broken = base;  // non-finite rows among the best candidates: dropped after top_k
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  int hit = 0;
  for (std::size_t r = 0; r < broken.rows && hit < 24; ++r) {
    if (!(broken.conf[2 * r + 1] > 0.3f)) continue;
    switch (hit++ % 4) {
      case 0: broken.loc[4 * r + 0] = nan; break;
      case 1: broken.loc[4 * r + 2] = 1e30f; break;  // exp overflows: infinite width
      case 2: broken.landms[10 * r + 7] = inf; break;
      case 3: broken.conf[2 * r + 1] = nan; break;   // never a candidate
    }
  }
  v.push_back(broken);
  HostFrame jitter = base;  // the same scores, other boxes
  for (std::size_t i = 0; i < jitter.loc.size(); ++i) jitter.loc[i] += 1e-3f * float(int((i * 7919u) % 13u) - 6);
  v.push_back(jitter);
  return v;
}



/// Fake, never dereferenced, suitably aligned pointers for the validation tests.
alignas(16) float fake_tensor[16];

}  // namespace

TEST_CASE("cuda: every fixture and golden set, one frame per batch, fp32", "[device]") {
  Totals totals;
  for (const fixtures::Fixture& fx : fixtures::all()) {
    const HostFrame frame = load_frame(fx.name);
    facepost::cuda::CudaPostprocessor gpu(fx.anchors);
    for (const fixtures::GoldenSet& gs : fixtures::golden_sets()) {
      const std::string what = std::string(fx.name) + " / " + gs.name;
      const facepost::cuda::BatchDetections out =
          check_batch<float>(gpu, {&frame}, fx.anchors, fx.input, fixture_mapping(fx), gs.params, what, totals);
      const facepost::io::NpyArray golden = fixtures::load(fx.name, std::string("golden_") + gs.name + ".npy");
      INFO(what);
      CHECK(fixtures::compare_with_golden(out.frame(0).data(), out.frame(0).size(), golden.data.data(),
                                          std::size_t(golden.shape[0])) == "");
    }
  }
  report("fixtures x golden sets", totals);
}

TEST_CASE("cuda: a frame repeated through the batch gives the single-frame result in every slot", "[device]") {
  Totals totals;
  for (const char* name : {"crowd_mnet_native", "crowd_rfb_long640"}) {
    const fixtures::Fixture& fx = fixture(name);
    const HostFrame frame = load_frame(name);
    facepost::cuda::CudaPostprocessor gpu(fx.anchors);
    for (std::size_t b : {2u, 7u, 40u}) {
      const std::vector<const HostFrame*> frames(b, &frame);
      for (const fixtures::GoldenSet& gs : fixtures::golden_sets()) {
        const std::string what = std::string(name) + " x" + std::to_string(b) + " / " + gs.name;
        const facepost::cuda::BatchDetections out =
            check_batch<float>(gpu, frames, fx.anchors, fx.input, fixture_mapping(fx), gs.params, what, totals);
        const facepost::io::NpyArray golden = fixtures::load(name, std::string("golden_") + gs.name + ".npy");
        for (std::size_t f = 0; f < b; ++f) {
          INFO(what << ", frame " << f);
          CHECK(fixtures::compare_with_golden(out.frame(f).data(), out.frame(f).size(), golden.data.data(),
                                              std::size_t(golden.shape[0])) == "");
        }
      }
    }
  }
  report("repeated frames", totals);
}

TEST_CASE("cuda: different frames in one batch are processed independently", "[device]") {
  Totals totals;
  for (const char* name : {"crowd_mnet_native", "selfie_slim_native", "group_mnet_long640"}) {
    const fixtures::Fixture& fx = fixture(name);
    const std::vector<HostFrame> frames = variants(load_frame(name));
    std::vector<const HostFrame*> batch;
    for (int rep = 0; rep < 3; ++rep)  // interleaved, 15 frames
      for (const HostFrame& f : frames) batch.push_back(&f);
    facepost::cuda::CudaPostprocessor gpu(fx.anchors);
    for (const fixtures::GoldenSet& gs : fixtures::golden_sets())
      check_batch<float>(gpu, batch, fx.anchors, fx.input, fixture_mapping(fx), gs.params,
                         std::string(name) + " variants / " + gs.name, totals);
  }
  report("mixed frames", totals);
}

TEST_CASE("cuda: float16 inputs equal the CPU on the float16-rounded inputs", "[device]") {
  Totals totals;
  for (const fixtures::Fixture& fx : fixtures::all()) {
    const HostFrame frame = half_rounded(load_frame(fx.name));
    HostFrame scaled = frame;
    for (std::size_t r = 0; r < scaled.rows; ++r)
      scaled.conf[2 * r + 1] = __half2float(__float2half_rn(scaled.conf[2 * r + 1] * 0.75f));
    facepost::cuda::CudaPostprocessor gpu(fx.anchors);
    for (const fixtures::GoldenSet& gs : fixtures::golden_sets())
      check_batch<__half>(gpu, {&frame, &scaled, &frame}, fx.anchors, fx.input, fixture_mapping(fx), gs.params,
                          std::string(fx.name) + " fp16 / " + gs.name, totals);
  }
  report("fp16", totals);
}

TEST_CASE("cuda: logit scores (softmax on the device) equal the CPU", "[device]") {
  Totals totals;
  for (const fixtures::Fixture& fx : fixtures::all()) {
    HostFrame frame = load_frame(fx.name);
    for (std::size_t r = 0; r < frame.rows; ++r) {  // log-probabilities are valid two-class logits
      frame.conf[2 * r] = float(std::log(double(frame.conf[2 * r])));
      frame.conf[2 * r + 1] = float(std::log(double(frame.conf[2 * r + 1])));
    }
    facepost::cuda::CudaPostprocessor gpu(fx.anchors);
    for (fixtures::GoldenSet gs : fixtures::golden_sets()) {
      gs.params.score_format = facepost::ScoreFormat::logits;
      check_batch<float>(gpu, {&frame, &frame}, fx.anchors, fx.input, fixture_mapping(fx), gs.params,
                         std::string(fx.name) + " logits / " + gs.name, totals);
    }
  }
  report("logits", totals);
}

TEST_CASE("cuda: subnormal scores pass a threshold of 0 as on the CPU (no flush to zero)", "[device]") {
  // Scores scaled into the subnormal range: s > 0 holds for them in IEEE arithmetic; a device
  // build that flushed subnormals (-ftz=true, -use_fast_math) would drop them.
  Totals totals;
  for (const fixtures::Fixture& fx : fixtures::all()) {
    HostFrame frame = load_frame(fx.name);
    std::size_t subnormal = 0;
    for (std::size_t r = 0; r < frame.rows; ++r) {
      frame.conf[2 * r + 1] *= 1e-39f;
      subnormal += std::fpclassify(frame.conf[2 * r + 1]) == FP_SUBNORMAL ? 1 : 0;
    }
    REQUIRE(subnormal > 1000);
    facepost::Params params = facepost::Params{}.unlimited();
    params.score_threshold = 0.f;
    facepost::cuda::CudaPostprocessor gpu(fx.anchors);
    const facepost::cuda::BatchDetections out =
        check_batch<float>(gpu, {&frame}, fx.anchors, fx.input, fixture_mapping(fx), params,
                           std::string(fx.name) + " subnormal scores", totals);
    CHECK(out.stats(0).candidates >= subnormal);
  }
  report("subnormal scores", totals);
}

TEST_CASE("cuda: letterbox mapping and clipping", "[device]") {
  Totals totals;
  for (const fixtures::Fixture& fx : fixtures::all()) {
    const HostFrame frame = load_frame(fx.name);
    const int ow = fx.input.width * 5 / 4, oh = fx.input.height * 3 / 2;  // some original size
    ImageMapping m = ImageMapping::letterbox_fit(ow, oh, fx.input.width, fx.input.height);
    m.clip_to(float(ow), float(oh));
    facepost::cuda::CudaPostprocessor gpu(fx.anchors);
    for (const fixtures::GoldenSet& gs : fixtures::golden_sets())
      check_batch<float>(gpu, {&frame}, fx.anchors, fx.input, m, gs.params,
                         std::string(fx.name) + " letterbox+clip / " + gs.name, totals);
  }
  report("letterbox + clip", totals);
}

TEST_CASE("cuda: synthetic frames with many ties and thousands of surviving boxes", "[device]") {
  Totals totals;
  const AnchorConfig anchors = facepost::to_anchor_config(facepost::presets::retinaface_mnet{});
  const InputSize input{640, 640};
  facepost::PriorGrid<AnchorConfig> grid(anchors);
  grid.build(input);
  const HostFrame a = tie_frame(grid.size(), 1), b = tie_frame(grid.size(), 2);
  facepost::cuda::CudaPostprocessor gpu(anchors);
  Params unlimited = Params{}.unlimited();
  Params continuous = unlimited;
  continuous.iou = facepost::IouConvention::continuous;
  Params keep300 = unlimited;  // keep_top_k reached in the middle of a 256-candidate chunk
  keep300.keep_top_k = 300;
  Params top1000 = Params{};
  top1000.top_k = 1000;
  top1000.keep_top_k = 0;
  Params strict = unlimited;
  strict.score_threshold = 0.9f;
  strict.nms_threshold = 0.1;
  for (const Params& p : {unlimited, continuous, keep300, top1000, strict, Params{}}) {
    const facepost::cuda::BatchDetections out =
        check_batch<float>(gpu, {&a, &b}, anchors, input, ImageMapping::resize(0.5f), p,
                           "synthetic, keep_top_k " + std::to_string(p.keep_top_k), totals);
    if (p.top_k == 0 && p.keep_top_k == 0 && p.score_threshold < 0.5f) CHECK(out.frame(0).size() > 1000);  // many kept
  }
  report("synthetic", totals);
}

TEST_CASE("cuda: input size changes, parameter changes and stream changes", "[device]") {
  Totals totals;
  const fixtures::Fixture& big = fixture("crowd_mnet_native");
  const fixtures::Fixture& small = fixture("group_mnet_long640");  // same anchors, other size
  const HostFrame fb = load_frame(big.name), fs = load_frame(small.name);
  facepost::cuda::CudaPostprocessor gpu(big.anchors);
  const Params detect{};
  check_batch<float>(gpu, {&fb}, big.anchors, big.input, fixture_mapping(big), detect, "big", totals);
  check_batch<float>(gpu, {&fs, &fs}, small.anchors, small.input, fixture_mapping(small), detect, "small", totals);
  check_batch<float>(gpu, {&fb}, big.anchors, big.input, fixture_mapping(big), Params{}.unlimited(), "big again",
                     totals);
  const std::size_t held = gpu.workspace().device_bytes();
  check_batch<float>(gpu, {&fb}, big.anchors, big.input, fixture_mapping(big), Params{}.unlimited(), "big, same shape",
                     totals);
  CHECK(gpu.workspace().device_bytes() == held);  // no growth for a batch that fits

  // Two streams: each batch's results are complete when downloaded.
  cudaStream_t s1 = nullptr, s2 = nullptr;
  FACEPOST_CUDA_CHECK(cudaStreamCreateWithFlags(&s1, cudaStreamNonBlocking));
  FACEPOST_CUDA_CHECK(cudaStreamCreateWithFlags(&s2, cudaStreamNonBlocking));
  const DeviceBatch<float> db(std::vector<const HostFrame*>(8, &fb)), ds({&fs});
  facepost::Postprocessor cpu_big(big.anchors), cpu_small(small.anchors);
  const facepost::Detections want_big = cpu_big.run(fb.view(), big.input, fixture_mapping(big));
  gpu.set_params(detect);
  for (int round = 0; round < 3; ++round) {
    gpu.enqueue(db.heads(), big.input, fixture_mapping(big), s1);
    gpu.enqueue(ds.heads(), small.input, fixture_mapping(small), s2);  // waits for s1's batch on the device
    const facepost::cuda::BatchDetections out = gpu.download();
    REQUIRE(out.size() == 1);
    const FrameResult e =
        cuda_reference::run(fs, gpu.priors().data(), detect, small.input, small.anchors.variance, fixture_mapping(small));
    CHECK(cuda_reference::compare_exact(out.frame(0), out.stats(0), e) == "");
    gpu.enqueue(db.heads(), big.input, fixture_mapping(big), s1);
    const facepost::cuda::BatchDetections again = gpu.download();
    REQUIRE(again.size() == 8);
    for (std::size_t f = 0; f < 8; ++f)
      CHECK(cuda_reference::compare_exact(again.frame(f), again.stats(f), want_big, cpu_big.stats()) == "");
  }
  FACEPOST_CUDA_CHECK(cudaStreamDestroy(s1));
  FACEPOST_CUDA_CHECK(cudaStreamDestroy(s2));
  report("size / stream changes", totals);
}

TEST_CASE("cuda: device_results describes the rows download copies", "[device]") {
  const fixtures::Fixture& fx = fixture("family_fd1mnet_native");
  const std::vector<HostFrame> frames = variants(load_frame(fx.name));
  std::vector<const HostFrame*> ptrs;
  for (const HostFrame& f : frames) ptrs.push_back(&f);
  const DeviceBatch<float> batch(ptrs);
  facepost::cuda::CudaPostprocessor gpu(fx.anchors);
  gpu.enqueue(batch.heads(), fx.input, fixture_mapping(fx));
  gpu.synchronize();
  const facepost::cuda::DeviceResults dev = gpu.device_results();
  REQUIRE(dev.batch == frames.size());
  REQUIRE(dev.capacity == 750);
  std::vector<unsigned> counts(dev.batch);
  FACEPOST_CUDA_CHECK(cudaMemcpy(counts.data(), dev.counts, dev.batch * sizeof(unsigned), cudaMemcpyDeviceToHost));
  const facepost::cuda::BatchDetections out = gpu.download();
  for (std::size_t f = 0; f < dev.batch; ++f) {
    INFO("frame " << f);
    REQUIRE(counts[f] == out.frame(f).size());
    std::vector<float> rows(counts[f] * 15);
    std::vector<std::uint32_t> prior(counts[f]);
    if (counts[f] == 0) continue;
    FACEPOST_CUDA_CHECK(cudaMemcpy(rows.data(), dev.frame_rows(f), rows.size() * sizeof(float), cudaMemcpyDeviceToHost));
    FACEPOST_CUDA_CHECK(cudaMemcpy(prior.data(), dev.prior_index + f * dev.capacity, prior.size() * sizeof(std::uint32_t),
                                   cudaMemcpyDeviceToHost));
    for (std::size_t i = 0; i < counts[f]; ++i) {
      REQUIRE(prior[i] == out.frame(f).prior_index(i));
      for (int c = 0; c < 15; ++c) REQUIRE(cuda_reference::same_bits(rows[15 * i + c], out.frame(f)[i].row[c]));
    }
  }
}

TEST_CASE("cuda: pointers the device cannot use are refused, and the object stays usable", "[device]") {
  const fixtures::Fixture& fx = fixture("group_mnet_long640");
  const HostFrame frame = load_frame(fx.name);
  const DeviceBatch<float> batch({&frame});
  facepost::cuda::CudaPostprocessor gpu(fx.anchors);

  facepost::cuda::DeviceHeads<float> host = batch.heads();
  host.loc = frame.loc.data();  // pageable host memory
  try {
    gpu.enqueue(host, fx.input, fixture_mapping(fx));
    FAIL("a host pointer was accepted");
  } catch (const facepost::Error& e) {
    CHECK(e.code() == facepost::Errc::bad_argument);
    CHECK(std::string(e.what()).find("loc") != std::string::npos);
  }
  facepost::cuda::DeviceHeads<float> misaligned = batch.heads();
  misaligned.landms = reinterpret_cast<const float*>(reinterpret_cast<const char*>(batch.landms.data()) + 2);
  const facepost::Status s = gpu.try_enqueue(misaligned, fx.input, fixture_mapping(fx));
  CHECK(s.code() == facepost::Errc::bad_argument);
  CHECK(std::string(s.message()).find("landms") != std::string::npos);

  Totals totals;
  check_batch<float>(gpu, {&frame}, fx.anchors, fx.input, fixture_mapping(fx), Params{}, "after errors", totals);
}

TEST_CASE("cuda host: bad input is refused before anything reaches the device", "[host]") {
  // Runs without a GPU: every check below happens before the first CUDA call (a CUDA call here
  // would fail with device_error instead of the expected code).
  const AnchorConfig anchors = facepost::to_anchor_config(facepost::presets::retinaface_mnet{});
  const InputSize input{640, 480};
  facepost::PriorGrid<AnchorConfig> grid(anchors);
  grid.build(input);
  facepost::cuda::DeviceHeads<float> heads{fake_tensor, fake_tensor, fake_tensor, 2, grid.size()};
  facepost::cuda::CudaPostprocessor gpu(anchors);
  auto code_of = [&](const facepost::cuda::DeviceHeads<float>& h, InputSize in, const ImageMapping& m) {
    const facepost::Status s = gpu.try_enqueue(h, in, m);
    INFO(s.message());
    CHECK(!s.ok());
    return s.code();
  };
  auto heads_with = [&](auto change) {
    facepost::cuda::DeviceHeads<float> h = heads;
    change(h);
    return h;
  };
  CHECK(code_of(heads_with([](auto& h) { h.rows += 1; }), input, {}) == facepost::Errc::prior_count_mismatch);
  CHECK(code_of(heads_with([](auto& h) { h.batch = 0; }), input, {}) == facepost::Errc::empty_tensor);
  CHECK(code_of(heads_with([](auto& h) { h.conf = nullptr; }), input, {}) == facepost::Errc::empty_tensor);
  CHECK(code_of(heads_with([](auto& h) { h.batch = 70000; }), input, {}) == facepost::Errc::size_overflow);
  CHECK(code_of(heads, {0, 480}, {}) == facepost::Errc::bad_size);
  CHECK(code_of(heads, input, ImageMapping::resize(0.f)) == facepost::Errc::bad_mapping);
  Params bad;
  bad.score_threshold = 1.5f;
  gpu.set_params(bad);
  CHECK(code_of(heads, input, {}) == facepost::Errc::bad_threshold);
  bad = Params{};
  bad.nms_threshold = std::numeric_limits<double>::quiet_NaN();
  gpu.set_params(bad);
  CHECK(code_of(heads, input, {}) == facepost::Errc::bad_threshold);
  gpu.set_params(Params{});
  try {
    gpu.enqueue(heads_with([](auto& h) { h.rows = 3; }), input);
    FAIL("a row-count mismatch was accepted");
  } catch (const facepost::Error& e) {
    CHECK(e.code() == facepost::Errc::prior_count_mismatch);
    CHECK(std::string(e.what()).find("3 rows") != std::string::npos);
  }
  // Nothing was queued: there is nothing to download.
  CHECK(gpu.download().size() == 0);
}
