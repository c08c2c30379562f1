// tests/cuda/batch_support.hpp - helpers of the CUDA tests, on a GPU (test_cuda_device.cu) and on
// the CPU emulation (emu/test_emulated.cpp): frames, device batches, and the bit-for-bit comparison
// of a CudaPostprocessor batch with the CPU backend.
#pragma once

// Host-only headers first: the emulated cuda_runtime.h (tests/cuda/emu) defines __CUDA_ARCH__
// (device code paths of facepost's CUDA headers) once it is included.
#include <catch2/catch.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "../fixtures.hpp"
#include "../support/synthetic_scene.hpp"

#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include "reference.hpp"
#include "facepost/cuda/postprocess.cuh"

namespace cuda_test {

using cuda_reference::FrameResult;
using cuda_reference::HostFrame;

inline HostFrame load_frame(const std::string& name) {
  const fixtures::Heads h(name);
  HostFrame f;
  f.loc = h.loc.data;
  f.conf = h.conf.data;
  f.landms = h.landms.data;
  f.rows = std::size_t(h.loc.shape[0]);
  return f;
}

inline HostFrame from_scene(const facepost_test::SyntheticScene& s) {
  HostFrame f;
  f.loc = s.loc;
  f.conf = s.conf;
  f.landms = s.landms;
  f.rows = s.num_priors;
  return f;
}

/// The frame as the device sees it after a float16 round trip.
inline HostFrame half_rounded(const HostFrame& f) {
  HostFrame h = f;
  for (std::vector<float>* v : {&h.loc, &h.conf, &h.landms})
    for (float& x : *v) x = __half2float(__float2half_rn(x));
  return h;
}

template <class T>
T to_element(float v);
template <>
inline float to_element<float>(float v) {
  return v;
}
template <>
inline __half to_element<__half>(float v) {
  return __float2half_rn(v);
}

/// Frames concatenated into device tensors [B,N,C] of element type T.
template <class T>
struct DeviceBatch {
  facepost::cuda::DeviceBuffer<T> loc, conf, landms;
  std::size_t batch = 0, rows = 0;

  explicit DeviceBatch(const std::vector<const HostFrame*>& frames) : batch(frames.size()), rows(frames[0]->rows) {
    upload(loc, frames, &HostFrame::loc, 4);
    upload(conf, frames, &HostFrame::conf, 2);
    upload(landms, frames, &HostFrame::landms, 10);
  }
  facepost::cuda::DeviceHeads<T> heads() const { return {loc.data(), conf.data(), landms.data(), batch, rows}; }

 private:
  void upload(facepost::cuda::DeviceBuffer<T>& dst, const std::vector<const HostFrame*>& frames,
              std::vector<float> HostFrame::*field, std::size_t cols) {
    std::vector<T> host;
    host.reserve(frames.size() * rows * cols);
    for (const HostFrame* f : frames) {
      REQUIRE(f->rows == rows);
      for (float v : f->*field) host.push_back(to_element<T>(v));
    }
    dst.reserve(host.size(), "test tensor");
    FACEPOST_CUDA_CHECK(cudaMemcpy(dst.data(), host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice));
  }
};

struct Totals {
  std::size_t frames = 0, rows = 0;
};

/// Runs `frames` as one batch of element type T through the CUDA backend (the real kernels, on
/// the emulator) and checks every frame bit for bit (rows, prior indices, counts) against the CPU
/// BatchPostprocessor and the host replay of the CUDA pipeline (tests/cuda/reference.hpp), logit
/// inputs included (every backend's softmax is arith::softmax_face). For T = __half, `frames` must hold float16-representable
/// values (the device converts them exactly).
template <class T>
facepost::cuda::BatchDetections check_batch(facepost::cuda::CudaPostprocessor& gpu,
                                            const std::vector<const HostFrame*>& frames,
                                            const facepost::AnchorConfig& anchors, facepost::InputSize input,
                                            const facepost::ImageMapping& mapping, const facepost::Params& params,
                                            const std::string& what, Totals& totals) {
  const DeviceBatch<T> batch(frames);
  gpu.set_params(params);
  gpu.enqueue(batch.heads(), input, mapping);
  facepost::cuda::BatchDetections out = gpu.download();
  REQUIRE(out.size() == frames.size());

  facepost::BatchPostprocessor cpu(anchors, params);
  std::vector<facepost::HeadOutputs> views;
  for (const HostFrame* f : frames) views.push_back(f->view());
  cpu.run(views.data(), views.size(), input, mapping);
  facepost::PriorGrid<facepost::AnchorConfig> grid(anchors);
  grid.build(input);
  for (std::size_t f = 0; f < frames.size(); ++f) {
    INFO(what << ", frame " << f << " of " << frames.size());
    const FrameResult e = cuda_reference::run(*frames[f], grid.data(), params, input, anchors.variance, mapping);
    CHECK(cuda_reference::compare_exact(out.frame(f), out.stats(f), e) == "");
    CHECK(cuda_reference::compare_exact(out.frame(f), out.stats(f), cpu.result(f), cpu.stats(f)) == "");
    ++totals.frames;
    totals.rows += out.frame(f).size();
  }
  return out;
}

inline void report(const char* what, const Totals& t) {
  WARN(what << ": " << t.frames << " frames, " << t.rows << " detections compared bit for bit");
}

inline const fixtures::Fixture& fixture(const std::string& name) {
  static const std::vector<fixtures::Fixture> all = fixtures::all();
  for (const fixtures::Fixture& fx : all)
    if (fx.name == name) return fx;
  FAIL("no fixture " << name);
  return all.front();
}

inline facepost::ImageMapping fixture_mapping(const fixtures::Fixture& fx) {
  return facepost::ImageMapping::resize(fx.resize);
}

/// A frame of `rows` priors with quantised scores (many exact ties, all above 0.02) and boxes
/// that barely overlap their neighbours: almost every box survives NMS.
inline HostFrame tie_frame(std::size_t rows, std::uint32_t seed) {
  HostFrame f;
  f.rows = rows;
  f.loc.resize(4 * rows);
  f.conf.resize(2 * rows);
  f.landms.resize(10 * rows);
  std::uint32_t s = seed;
  auto next = [&s] {
    s = s * 1664525u + 1013904223u;
    return s >> 8;
  };
  for (std::size_t r = 0; r < rows; ++r) {
    const float score = 0.03f + float(next() % 97u) / 100.f;
    f.conf[2 * r] = 1.f - score;
    f.conf[2 * r + 1] = score;
    for (int c = 0; c < 4; ++c) f.loc[4 * r + c] = (float(next() % 2001u) - 1000.f) / 2500.f;
    for (int c = 0; c < 10; ++c) f.landms[10 * r + c] = (float(next() % 2001u) - 1000.f) / 500.f;
  }
  return f;
}

}  // namespace cuda_test
