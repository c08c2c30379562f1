// The CUDA backend's real kernels and host code on the CPU emulator (tests/cuda/emu), against the
// CPU backend bit for bit: every fixture x golden set, mixed batches, > 1000 kept boxes,
// keep_top_k inside an NMS chunk, fp16, logits, letterbox + clip; the error paths (allocation
// failure, a pointer of another device) and the download path (one synchronisation, pinned
// results, the done event). Test cases tagged [tsan] form the reduced set run under
// ThreadSanitizer (tools/ci/cuda_emulated_tsan.sh).
#include "../batch_support.hpp"

#include <cmath>
#include <limits>
#include <string>
#include <vector>

using cuda_test::check_batch;
using cuda_test::DeviceBatch;
using cuda_test::fixture;
using cuda_test::fixture_mapping;
using cuda_test::HostFrame;
using cuda_test::Totals;
using facepost::AnchorConfig;
using facepost::ImageMapping;
using facepost::InputSize;
using facepost::Params;

namespace {

/// A small synthetic scene (fast under the emulator).
HostFrame scene_frame(const AnchorConfig& anchors, InputSize input, std::size_t faces, std::uint32_t seed) {
  facepost_test::SceneOptions o;
  o.faces = faces;
  o.seed = seed;
  return cuda_test::from_scene(facepost_test::make_synthetic_scene(anchors, input, o));
}

AnchorConfig mnet() { return facepost::to_anchor_config(facepost::presets::retinaface_mnet{}); }

std::size_t prior_count(const AnchorConfig& anchors, InputSize input) {
  facepost::PriorGrid<AnchorConfig> grid(anchors);
  grid.build(input);
  return grid.size();
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// The emulator itself.

namespace facepost {
namespace cuda {
namespace detail {
namespace emu_selftest {

/// Per block of 64 threads: out[0..63] = 1 where the shared array read as poison before any write
/// of this block; out[64 + t] = ballot of (t % 3 == 0) seen by thread t; out[128 + t] = the sum
/// of the lane indices of t's warp via __shfl_down_sync (lane 0 only), t's value of
/// __shfl_sync(.., 5) and __shfl_xor_sync(.., 1) in out[192 + t], out[256 + t]; out[320] counts
/// the block's threads with atomicAdd; out[321 + t] = the value thread 63 - t wrote to shared
/// memory before the barrier.
__global__ void probe_kernel(unsigned* out) {
  __shared__ unsigned scratch[64];
  const unsigned t = threadIdx.x, lane = t % unsigned(warpSize);
  unsigned* o = out + blockIdx.x * 400;
  o[t] = scratch[t] == 0xFFFFFFFFu ? 1u : 0u;
  __syncthreads();
  scratch[t] = 1000u + t;
  __syncthreads();
  o[321 + t] = scratch[63 - t];
  o[64 + t] = __ballot_sync(0xFFFFFFFFu, t % 3 == 0);
  unsigned sum = lane;
  for (int off = warpSize / 2; off > 0; off >>= 1) sum += __shfl_down_sync(0xFFFFFFFFu, sum, off);
  o[128 + t] = lane == 0 ? sum : 0u;
  o[192 + t] = __shfl_sync(0xFFFFFFFFu, 100u + lane, 5);
  o[256 + t] = __shfl_xor_sync(0xFFFFFFFFu, lane, 1);
  atomicAdd(o + 320, 1u);
}

}  // namespace emu_selftest
}  // namespace detail
}  // namespace cuda
}  // namespace facepost

TEST_CASE("emulator: barriers, warp votes and shuffles, atomics, poisoned shared and device memory", "[emu][tsan]") {
  for (int width : {32, 16}) {
    INFO("warp size " << width);
    facepost_emu::set_warp_size(width);
    unsigned* out = nullptr;
    REQUIRE(cudaMalloc(&out, 2 * 400 * sizeof(unsigned)) == cudaSuccess);
    std::vector<unsigned> host(800);
    REQUIRE(cudaMemcpy(host.data(), out, 800 * sizeof(unsigned), cudaMemcpyDeviceToHost) == cudaSuccess);
    CHECK(host[0] == 0xFFFFFFFFu);  // fresh device memory is poisoned
    REQUIRE(cudaMemsetAsync(out, 0, 800 * sizeof(unsigned), nullptr) == cudaSuccess);
    facepost::cuda::detail::launch(facepost::cuda::detail::emu_selftest::probe_kernel, 2, 64, nullptr, out);
    REQUIRE(cudaGetLastError() == cudaSuccess);
    REQUIRE(cudaMemcpy(host.data(), out, 800 * sizeof(unsigned), cudaMemcpyDeviceToHost) == cudaSuccess);
    const unsigned w = unsigned(width);
    for (unsigned b = 0; b < 2; ++b) {
      const unsigned* o = host.data() + b * 400;
      CHECK(o[320] == 64u);
      for (unsigned t = 0; t < 64; ++t) {
        INFO("block " << b << " thread " << t);
        const unsigned lane = t % w, base = t - lane;
        CHECK(o[t] == 1u);  // poisoned before each block, also the second one
        CHECK(o[321 + t] == 1000u + 63u - t);
        unsigned ballot = 0;
        for (unsigned l = 0; l < w; ++l)
          if ((base + l) % 3 == 0) ballot |= 1u << l;
        CHECK(o[64 + t] == ballot);
        CHECK(o[128 + t] == (lane == 0 ? w * (w - 1) / 2 : 0u));
        CHECK(o[192 + t] == 105u);
        CHECK(o[256 + t] == (lane ^ 1u));
      }
    }
    REQUIRE(cudaFree(out) == cudaSuccess);
  }
  facepost_emu::set_warp_size(32);

  // Launch configuration errors surface through cudaGetLastError, as with <<<>>>.
  facepost::cuda::detail::launch(facepost::cuda::detail::emu_selftest::probe_kernel, 1, 2048, nullptr,
                                 static_cast<unsigned*>(nullptr));
  CHECK(cudaGetLastError() == cudaErrorInvalidConfiguration);
  CHECK(cudaGetLastError() == cudaSuccess);
}

TEST_CASE("emulator: float16 conversions are exact one way and round to nearest even the other", "[emu]") {
  // Every half converts to float and back unchanged (NaNs stay NaN).
  for (unsigned u = 0; u < 0x10000u; ++u) {
    const __half h = __ushort_as_half(static_cast<unsigned short>(u));
    const float f = __half2float(h);
    if (std::isnan(f)) {
      CHECK(std::isnan(__half2float(__float2half_rn(f))));
      continue;
    }
    REQUIRE(__half_as_ushort(__float2half_rn(f)) == u);
  }
  CHECK(__half2float(__ushort_as_half(0x0001)) == std::ldexp(1.f, -24));
  CHECK(__half2float(__ushort_as_half(0x7BFF)) == 65504.f);
  // Ties to even, overflow, underflow.
  CHECK(__half_as_ushort(__float2half_rn(1.f + std::ldexp(1.f, -11))) == 0x3C00);                          // tie: even
  CHECK(__half_as_ushort(__float2half_rn(1.f + 3 * std::ldexp(1.f, -11))) == 0x3C02);                      // tie: even
  CHECK(__half_as_ushort(__float2half_rn(1.f + std::ldexp(1.f, -11) + std::ldexp(1.f, -20))) == 0x3C01);  // above
  CHECK(__half_as_ushort(__float2half_rn(65519.f)) == 0x7BFF);
  CHECK(__half_as_ushort(__float2half_rn(65520.f)) == 0x7C00);
  CHECK(__half_as_ushort(__float2half_rn(-1e30f)) == 0xFC00);
  CHECK(__half_as_ushort(__float2half_rn(std::ldexp(1.f, -25))) == 0x0000);
  CHECK(__half_as_ushort(__float2half_rn(std::ldexp(1.5f, -25))) == 0x0001);
  CHECK(__half_as_ushort(__float2half_rn(std::ldexp(3.f, -25))) == 0x0002);  // 1.5 ulp: tie to even
}

// ---------------------------------------------------------------------------------------------
// The pipeline against the CPU.

TEST_CASE("emulated: every fixture and golden set, one frame per batch, fp32", "[emu]") {
  Totals totals;
  for (const fixtures::Fixture& fx : fixtures::all()) {
    const HostFrame frame = cuda_test::load_frame(fx.name);
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

TEST_CASE("emulated: different frames in one batch are processed independently", "[emu][tsan]") {
  Totals totals;
  const AnchorConfig anchors = mnet();
  const InputSize input{320, 240};
  std::vector<HostFrame> frames;
  for (std::uint32_t seed : {1u, 2u, 3u}) frames.push_back(scene_frame(anchors, input, 40 * seed, seed));
  HostFrame none = frames[0];  // nothing passes
  for (std::size_t r = 0; r < none.rows; ++r) none.conf[2 * r] = 1.f, none.conf[2 * r + 1] = 0.f;
  frames.push_back(none);
  HostFrame broken = frames[1];  // non-finite rows among the best candidates
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  int hit = 0;
  for (std::size_t r = 0; r < broken.rows && hit < 24; ++r) {
    if (!(broken.conf[2 * r + 1] > 0.3f)) continue;
    switch (hit++ % 4) {
      case 0: broken.loc[4 * r + 0] = nan; break;
      case 1: broken.loc[4 * r + 2] = 1e30f; break;
      case 2: broken.landms[10 * r + 7] = inf; break;
      case 3: broken.conf[2 * r + 1] = nan; break;
    }
  }
  frames.push_back(broken);
  std::vector<const HostFrame*> batch;
  for (const HostFrame& f : frames) batch.push_back(&f);
  batch.push_back(&frames[0]);  // a repeat
  facepost::cuda::CudaPostprocessor gpu(anchors);
  for (const fixtures::GoldenSet& gs : fixtures::golden_sets())
    check_batch<float>(gpu, batch, anchors, input, ImageMapping::resize(0.5f), gs.params,
                       std::string("mixed scenes / ") + gs.name, totals);
  report("mixed frames", totals);
}

TEST_CASE("emulated: more than 1000 kept boxes, keep_top_k inside an NMS chunk, top_k", "[emu][tsan]") {
  Totals totals;
  const AnchorConfig anchors = mnet();
  const InputSize input{320, 256};  // 3,360 priors
  const std::size_t n = prior_count(anchors, input);
  const HostFrame a = cuda_test::tie_frame(n, 1), b = cuda_test::tie_frame(n, 2);
  facepost::cuda::CudaPostprocessor gpu(anchors);
  Params unlimited = Params{}.unlimited();
  Params continuous = unlimited;
  continuous.iou = facepost::IouConvention::continuous;
  Params keep300 = unlimited;  // keep_top_k reached in the middle of the second 256-candidate chunk
  keep300.keep_top_k = 300;
  Params keep1100 = unlimited;
  keep1100.keep_top_k = 1100;
  Params top1000 = Params{};
  top1000.top_k = 1000;
  top1000.keep_top_k = 0;
  for (const Params& p : {unlimited, continuous, keep300, keep1100, top1000}) {
    const facepost::cuda::BatchDetections out =
        check_batch<float>(gpu, {&a, &b}, anchors, input, ImageMapping::resize(0.5f), p,
                           "ties, top_k " + std::to_string(p.top_k) + " keep_top_k " + std::to_string(p.keep_top_k),
                           totals);
    if (p.top_k == 0 && p.keep_top_k == 0) CHECK(out.frame(0).size() > 1000);
    if (p.keep_top_k == 300) CHECK(out.frame(1).size() == 300);
    if (p.keep_top_k == 1100) CHECK(out.frame(0).size() == 1100);
  }
  report("many kept boxes", totals);
}

/// One frame takes the device-wide sort and the windowed NMS (nms_frame.cuh, windows of 4096
/// candidates); 640x480 gives 12,600 candidates, i.e. four windows when top_k is off. Returns the
/// most boxes kept by one call.
std::size_t check_single_frames(const std::vector<Params>& params, bool with_scene, const char* label) {
  Totals totals;
  const AnchorConfig anchors = mnet();
  const InputSize input{640, 480};
  const std::size_t n = prior_count(anchors, input);
  REQUIRE(n == 12600);
  const HostFrame ties = cuda_test::tie_frame(n, 3);
  const HostFrame scene = scene_frame(anchors, input, 120, 5);
  facepost::cuda::CudaPostprocessor gpu(anchors);
  std::size_t most = 0;
  for (const Params& p : params) {
    const std::string what = "top_k " + std::to_string(p.top_k) + " keep_top_k " + std::to_string(p.keep_top_k);
    const facepost::cuda::BatchDetections t =
        check_batch<float>(gpu, {&ties}, anchors, input, ImageMapping::resize(0.5f), p, "ties, " + what, totals);
    if (with_scene)
      check_batch<float>(gpu, {&scene}, anchors, input, ImageMapping::resize(0.5f), p, "scene, " + what, totals);
    INFO(what);
    if (p.keep_top_k != 0) CHECK(t.frame(0).size() == std::min<std::size_t>(p.keep_top_k, t.stats(0).ranked));
    most = std::max(most, t.frame(0).size());
  }
  report(label, totals);
  return most;
}

Params with_limits(std::size_t top_k, std::size_t keep_top_k) {
  Params p = Params{}.unlimited();
  p.top_k = top_k;
  p.keep_top_k = keep_top_k;
  return p;
}

TEST_CASE("emulated: a single frame spreads over the GPU: window boundaries, keep_top_k and top_k", "[emu]") {
  Params continuous = Params{}.unlimited();
  continuous.iou = facepost::IouConvention::continuous;
  std::vector<Params> params = {Params{}.unlimited(), continuous, Params{}};
  for (std::size_t keep : {300, 4096, 4097, 5000}) params.push_back(with_limits(0, keep));
  for (std::size_t top : {64, 4096, 4097, 8200}) params.push_back(with_limits(top, 0));
  // Kept boxes in several windows: later windows test against the earlier ones' kept boxes.
  CHECK(check_single_frames(params, true, "single frame, windowed NMS") > 5000);
}

TEST_CASE("emulated: a single frame spreads over the GPU (reduced, for TSan)", "[tsan]") {
  CHECK(check_single_frames({with_limits(0, 0), with_limits(0, 4097)}, false, "single frame (reduced)") > 5000);
}

TEST_CASE("emulated: float16 inputs equal the CPU on the float16-rounded inputs", "[emu]") {
  Totals totals;
  for (const char* name : {"group_mnet_long640", "crowd_rfb_long640"}) {
    const fixtures::Fixture& fx = fixture(name);
    const HostFrame frame = cuda_test::half_rounded(cuda_test::load_frame(name));
    HostFrame scaled = frame;
    for (std::size_t r = 0; r < scaled.rows; ++r)
      scaled.conf[2 * r + 1] = __half2float(__float2half_rn(scaled.conf[2 * r + 1] * 0.75f));
    facepost::cuda::CudaPostprocessor gpu(fx.anchors);
    for (const fixtures::GoldenSet& gs : fixtures::golden_sets())
      check_batch<__half>(gpu, {&frame, &scaled}, fx.anchors, fx.input, fixture_mapping(fx), gs.params,
                          std::string(name) + " fp16 / " + gs.name, totals);
  }
  const AnchorConfig anchors = mnet();
  const InputSize input{320, 240};
  const HostFrame s = cuda_test::half_rounded(scene_frame(anchors, input, 60, 7));
  facepost::cuda::CudaPostprocessor gpu(anchors);
  check_batch<__half>(gpu, {&s}, anchors, input, ImageMapping::resize(0.5f), Params{}.unlimited(), "scene fp16",
                      totals);
  report("fp16", totals);
}

TEST_CASE("emulated: logit scores (softmax on the device) equal the CPU", "[emu]") {
  Totals totals;
  for (const char* name : {"group_mnet_long640", "selfie_slim_native"}) {
    const fixtures::Fixture& fx = fixture(name);
    HostFrame frame = cuda_test::load_frame(name);
    for (std::size_t r = 0; r < frame.rows; ++r) {  // log-probabilities are valid two-class logits
      frame.conf[2 * r] = float(std::log(double(frame.conf[2 * r])));
      frame.conf[2 * r + 1] = float(std::log(double(frame.conf[2 * r + 1])));
    }
    facepost::cuda::CudaPostprocessor gpu(fx.anchors);
    for (fixtures::GoldenSet gs : fixtures::golden_sets()) {
      gs.params.score_format = facepost::ScoreFormat::logits;
      check_batch<float>(gpu, {&frame}, fx.anchors, fx.input, fixture_mapping(fx), gs.params,
                         std::string(name) + " logits / " + gs.name, totals);
    }
  }
  const AnchorConfig anchors = mnet();
  const InputSize input{320, 240};
  HostFrame s = scene_frame(anchors, input, 60, 12);
  for (std::size_t r = 0; r < s.rows; ++r) {
    s.conf[2 * r] = float(std::log(double(s.conf[2 * r])));
    s.conf[2 * r + 1] = float(std::log(double(s.conf[2 * r + 1])));
  }
  Params p = Params{}.unlimited();
  p.score_format = facepost::ScoreFormat::logits;
  facepost::cuda::CudaPostprocessor gpu(anchors);
  check_batch<float>(gpu, {&s, &s}, anchors, input, ImageMapping::resize(0.5f), p, "scene logits", totals);
  report("logits", totals);
}

TEST_CASE("emulated: letterbox mapping and clipping", "[emu]") {
  Totals totals;
  for (const char* name : {"group_mnet_long640", "family_fd1mnet_native"}) {
    const fixtures::Fixture& fx = fixture(name);
    const HostFrame frame = cuda_test::load_frame(name);
    const int ow = fx.input.width * 5 / 4, oh = fx.input.height * 3 / 2;
    ImageMapping m = ImageMapping::letterbox_fit(ow, oh, fx.input.width, fx.input.height);
    m.clip_to(float(ow), float(oh));
    facepost::cuda::CudaPostprocessor gpu(fx.anchors);
    for (const fixtures::GoldenSet& gs : fixtures::golden_sets())
      check_batch<float>(gpu, {&frame}, fx.anchors, fx.input, m, gs.params,
                         std::string(name) + " letterbox+clip / " + gs.name, totals);
  }
  // Boxes that cross the image border: a scene letterboxed into a smaller original, clipped.
  const AnchorConfig anchors = mnet();
  const InputSize input{320, 240};
  const HostFrame s = scene_frame(anchors, input, 80, 11);
  ImageMapping m = ImageMapping::letterbox_fit(200, 300, input.width, input.height);
  m.clip_to(150.f, 250.f);
  facepost::cuda::CudaPostprocessor gpu(anchors);
  check_batch<float>(gpu, {&s, &s}, anchors, input, m, Params{}.unlimited(), "scene letterbox+clip", totals);
  report("letterbox + clip", totals);
}

TEST_CASE("emulated: input size, parameter and stream changes", "[emu][tsan]") {
  Totals totals;
  const AnchorConfig anchors = mnet();
  const InputSize big{320, 256}, small{160, 128};
  const HostFrame fb = scene_frame(anchors, big, 50, 3), fs = scene_frame(anchors, small, 10, 4);
  facepost::cuda::CudaPostprocessor gpu(anchors);
  check_batch<float>(gpu, {&fb}, anchors, big, {}, Params{}, "big", totals);
  check_batch<float>(gpu, {&fs, &fs, &fs}, anchors, small, {}, Params{}, "small x3", totals);
  check_batch<float>(gpu, {&fb}, anchors, big, {}, Params{}.unlimited(), "big again", totals);
  const long allocations = facepost_emu::allocation_count();
  check_batch<float>(gpu, {&fb}, anchors, big, {}, Params{}.unlimited(), "big, same shape", totals);
  const std::size_t held = gpu.workspace().device_bytes();
  check_batch<float>(gpu, {&fb}, anchors, big, {}, Params{}.unlimited(), "big, same shape again", totals);
  CHECK(gpu.workspace().device_bytes() == held);
  // No growth: only the test's three tensors and the two pinned result buffers of a fresh
  // BatchDetections, twice.
  CHECK(facepost_emu::allocation_count() - allocations == 10);

  cudaStream_t s1 = nullptr, s2 = nullptr;
  FACEPOST_CUDA_CHECK(cudaStreamCreateWithFlags(&s1, cudaStreamNonBlocking));
  FACEPOST_CUDA_CHECK(cudaStreamCreateWithFlags(&s2, cudaStreamNonBlocking));
  const DeviceBatch<float> db(std::vector<const HostFrame*>(3, &fb)), ds({&fs});
  facepost::Postprocessor cpu_big(anchors), cpu_small(anchors);
  const facepost::Detections want_big = cpu_big.run(fb.view(), big);
  const facepost::Detections want_small = cpu_small.run(fs.view(), small);
  gpu.set_params(Params{});
  for (int round = 0; round < 2; ++round) {
    gpu.enqueue(db.heads(), big, {}, s1);
    gpu.enqueue(ds.heads(), small, {}, s2);  // waits for s1's batch on the device
    const facepost::cuda::BatchDetections out = gpu.download();
    REQUIRE(out.size() == 1);
    CHECK(cuda_reference::compare_exact(out.frame(0), out.stats(0), want_small, cpu_small.stats()) == "");
    gpu.enqueue(db.heads(), big, {}, s1);
    const facepost::cuda::BatchDetections again = gpu.download();
    REQUIRE(again.size() == 3);
    for (std::size_t f = 0; f < 3; ++f)
      CHECK(cuda_reference::compare_exact(again.frame(f), again.stats(f), want_big, cpu_big.stats()) == "");
  }
  FACEPOST_CUDA_CHECK(cudaStreamDestroy(s1));
  FACEPOST_CUDA_CHECK(cudaStreamDestroy(s2));
  report("size / stream changes", totals);
}

// ---------------------------------------------------------------------------------------------
// Error paths and the download path.

TEST_CASE("emulated: a failed allocation leaves no batch, and the object stays usable", "[emu][tsan]") {
  const AnchorConfig anchors = mnet();
  const InputSize input{160, 128};
  const HostFrame a = scene_frame(anchors, input, 10, 5), b = scene_frame(anchors, input, 20, 6);
  const DeviceBatch<float> one({&a}), three({&a, &b, &a});
  facepost::Postprocessor cpu_a(anchors), cpu_b(anchors);  // a Detections is a view into its Postprocessor
  const facepost::Detections want_a = cpu_a.run(a.view(), input);
  const facepost::RunStats stats_a = cpu_a.stats();
  const facepost::Detections want_b = cpu_b.run(b.view(), input);
  const facepost::RunStats stats_b = cpu_b.stats();

  // Fail each allocation of an enqueue in turn, until one needs fewer allocations: the first batch
  // of a fresh object (priors and workspace), and the growth of a used one from one frame to three.
  for (const bool fresh : {true, false})
  for (long nth = 1;; ++nth) {
    INFO((fresh ? "first batch" : "growth") << ": allocation " << nth << " fails");
    facepost::cuda::CudaPostprocessor gpu(anchors);
    if (!fresh) {
      gpu.enqueue(one.heads(), input);
      REQUIRE(gpu.download().size() == 1);
    }
    facepost_emu::fail_allocation(nth);
    bool failed = false;
    try {
      gpu.enqueue(three.heads(), input);
    } catch (const facepost::Error& e) {
      failed = true;
      CHECK(e.code() == facepost::Errc::size_overflow);
      const std::string what = e.what();
      INFO(what);
      CHECK((what.find("cudaMalloc(") != std::string::npos || what.find("cudaMallocHost(") != std::string::npos));
      CHECK(what.find("cudaErrorMemoryAllocation (out of memory)") != std::string::npos);
    }
    facepost_emu::fail_allocation(0);
    if (!failed) {
      CHECK(nth > 10);  // every buffer of the workspace was covered
      break;
    }
    CHECK(gpu.download().size() == 0);  // no frames, not the previous batch's (freed) buffers
    CHECK(gpu.device_results().batch == 0);
    CHECK(cudaGetLastError() == cudaSuccess);  // the failure does not linger for the next launch check

    // Usable again: a batch that fits the old buffers, then the larger one.
    gpu.enqueue(one.heads(), input);
    facepost::cuda::BatchDetections out = gpu.download();
    REQUIRE(out.size() == 1);
    CHECK(cuda_reference::compare_exact(out.frame(0), out.stats(0), want_a, stats_a) == "");
    gpu.enqueue(three.heads(), input);
    gpu.download(out);
    REQUIRE(out.size() == 3);
    CHECK(cuda_reference::compare_exact(out.frame(0), out.stats(0), want_a, stats_a) == "");
    CHECK(cuda_reference::compare_exact(out.frame(1), out.stats(1), want_b, stats_b) == "");
    CHECK(cuda_reference::compare_exact(out.frame(2), out.stats(2), want_a, stats_a) == "");
  }

  // A failed allocation of the download's pinned results: no frames, then a good download.
  facepost::cuda::CudaPostprocessor gpu(anchors);
  gpu.enqueue(three.heads(), input);
  facepost_emu::fail_allocation(1);
  facepost::cuda::BatchDetections out;
  CHECK_THROWS_AS(gpu.download(out), facepost::Error);
  facepost_emu::fail_allocation(0);
  CHECK(out.size() == 0);
  gpu.download(out);
  REQUIRE(out.size() == 3);
  CHECK(cuda_reference::compare_exact(out.frame(1), out.stats(1), want_b, stats_b) == "");
}

TEST_CASE("emulated: tensors on another device are refused, naming the tensor and both devices", "[emu]") {
  int devices = 0;
  REQUIRE(cudaGetDeviceCount(&devices) == cudaSuccess);
  REQUIRE(devices >= 2);
  const AnchorConfig anchors = mnet();
  const InputSize input{160, 128};
  const HostFrame a = scene_frame(anchors, input, 10, 8);
  REQUIRE(cudaSetDevice(1) == cudaSuccess);
  const DeviceBatch<float> on1({&a});
  REQUIRE(cudaSetDevice(0) == cudaSuccess);
  const DeviceBatch<float> on0({&a});

  facepost::cuda::CudaPostprocessor gpu(anchors);
  gpu.enqueue(on0.heads(), input);  // a good batch first: a refusal must not leave it downloadable
  for (int tensor = 0; tensor < 3; ++tensor) {
    facepost::cuda::DeviceHeads<float> h = on0.heads();
    const char* name = tensor == 0 ? "loc" : tensor == 1 ? "conf" : "landms";
    (tensor == 0 ? h.loc : tensor == 1 ? h.conf : h.landms) =
        tensor == 0 ? on1.loc.data() : tensor == 1 ? on1.conf.data() : on1.landms.data();
    const facepost::Status s = gpu.try_enqueue(h, input);
    INFO(s.message());
    CHECK(s.code() == facepost::Errc::bad_argument);
    const std::string msg = s.message();
    CHECK(msg.find(name) == 0);
    CHECK(msg.find("device 1") != std::string::npos);
    CHECK(msg.find("current device is 0") != std::string::npos);
  }
  // Still usable, with the right tensors.
  facepost::Postprocessor cpu(anchors);
  const facepost::Detections want = cpu.run(a.view(), input);
  gpu.enqueue(on0.heads(), input);
  facepost::cuda::BatchDetections out = gpu.download();
  REQUIRE(out.size() == 1);
  CHECK(cuda_reference::compare_exact(out.frame(0), out.stats(0), want, cpu.stats()) == "");

  // On device 1 with a post-processor of its own.
  REQUIRE(cudaSetDevice(1) == cudaSuccess);
  facepost::cuda::CudaPostprocessor gpu1(anchors);
  gpu1.enqueue(on1.heads(), input);
  out = gpu1.download();
  REQUIRE(cudaSetDevice(0) == cudaSuccess);
  REQUIRE(out.size() == 1);
  CHECK(cuda_reference::compare_exact(out.frame(0), out.stats(0), want, cpu.stats()) == "");
  // A post-processor whose workspace lives on device 1 refuses to run on device 0.
  CHECK(gpu1.try_enqueue(on0.heads(), input).code() == facepost::Errc::bad_argument);
}

TEST_CASE("emulated: download synchronises once into pinned memory, and done_event orders other streams",
          "[emu][tsan]") {
  const AnchorConfig anchors = mnet();
  const InputSize input{320, 240};
  const HostFrame a = scene_frame(anchors, input, 60, 9), b = scene_frame(anchors, input, 30, 10);
  const DeviceBatch<float> batch({&a, &b});
  facepost::BatchPostprocessor cpu(anchors);
  const facepost::HeadOutputs views[2] = {a.view(), b.view()};
  cpu.run(views, 2, input);

  facepost::cuda::CudaPostprocessor gpu(anchors);
  CHECK(gpu.done_event() == nullptr);
  facepost::cuda::BatchDetections out;
  for (int round = 0; round < 3; ++round) {
    INFO("round " << round);
    gpu.enqueue(batch.heads(), input);
    const long syncs = facepost_emu::sync_count(), allocations = facepost_emu::allocation_count();
    gpu.download(out);
    CHECK(facepost_emu::sync_count() - syncs == 1);
    if (round > 0) CHECK(facepost_emu::allocation_count() == allocations);  // reused pinned buffers
    REQUIRE(out.size() == 2);
    for (std::size_t f = 0; f < 2; ++f) {
      cudaPointerAttributes attr{};
      REQUIRE(cudaPointerGetAttributes(&attr, out.frame(f).data()) == cudaSuccess);
      CHECK(attr.type == cudaMemoryTypeHost);
      CHECK(cuda_reference::compare_exact(out.frame(f), out.stats(f), cpu.result(f), cpu.stats(f)) == "");
    }
  }

  // A stream of the caller's waits for the batch through done_event(), with no host wait.
  cudaStream_t mine = nullptr;
  FACEPOST_CUDA_CHECK(cudaStreamCreateWithFlags(&mine, cudaStreamNonBlocking));
  unsigned* copy = nullptr;
  FACEPOST_CUDA_CHECK(cudaMalloc(&copy, 2 * sizeof(unsigned)));
  gpu.enqueue(batch.heads(), input);
  REQUIRE(gpu.done_event() != nullptr);
  const long syncs = facepost_emu::sync_count();
  FACEPOST_CUDA_CHECK(cudaStreamWaitEvent(mine, gpu.done_event(), 0));
  const facepost::cuda::DeviceResults dev = gpu.device_results();
  FACEPOST_CUDA_CHECK(cudaMemcpyAsync(copy, dev.counts, 2 * sizeof(unsigned), cudaMemcpyDeviceToDevice, mine));
  CHECK(facepost_emu::sync_count() == syncs);
  unsigned* host = nullptr;
  FACEPOST_CUDA_CHECK(cudaMallocHost(&host, 2 * sizeof(unsigned)));
  FACEPOST_CUDA_CHECK(cudaMemcpyAsync(host, copy, 2 * sizeof(unsigned), cudaMemcpyDeviceToHost, mine));
  FACEPOST_CUDA_CHECK(cudaStreamSynchronize(mine));
  CHECK(host[0] == cpu.result(0).size());
  CHECK(host[1] == cpu.result(1).size());
  FACEPOST_CUDA_CHECK(cudaFreeHost(host));
  FACEPOST_CUDA_CHECK(cudaFree(copy));
  FACEPOST_CUDA_CHECK(cudaStreamDestroy(mine));
  gpu.synchronize();
}
