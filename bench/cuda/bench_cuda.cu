// bench/cuda/bench_cuda.cu - timing of the CUDA backend on batches of 1920x1080 frames.
//
// Frames: RetinaFace mobilenet0.25 head outputs for a 1920x1080 input (85200 priors), tiled from
// the crowd_mnet_native fixture (real network outputs, 1024x624) level by level, each frame with
// its own tile offset. Batches of 1, 8, 32, 128 frames; score thresholds 0.02 and 0.5 (other
// parameters: the reference detect.py defaults, top_k 5000, keep_top_k 750, legacy NMS);
// float32 and float16 inputs.
//
// Reported per configuration (medians over --iters runs after warm-up):
//   gpu ms    time between cudaEvents around enqueue() on the stream (all kernels of a batch)
//   us/frame  gpu ms / batch size
//   enqueue   host time of the enqueue() call itself
//   e2e ms    enqueue + download() (wait + copy of the detections to the host)
//   GB/s, %peak  bytes of loc+conf+landms of the batch / gpu time, against the peak from the
//             device's memory clock and bus width. The pipeline reads conf fully but loc/landms
//             only for the top_k candidates, so this is the effective rate of consuming the
//             heads, not the bytes moved.
// Before timing, frame 0 of each threshold is checked against the CPU Postprocessor (identical
// rows and prior indices, bit for bit).
//
//   facepost_bench_cuda [--iters N] [--data DIR]
#include "facepost/cuda/postprocess.cuh"

#include <cuda_fp16.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "facepost/io/npy.hpp"

#ifndef FACEPOST_TEST_DATA
#define FACEPOST_TEST_DATA "tests/data"
#endif

namespace {

using facepost::AnchorConfig;
using facepost::InputSize;

struct HostFrames {
  std::vector<float> loc, conf, landms;  // [B,N,C]
  std::size_t batch = 0, rows = 0;
};

facepost::io::NpyArray load(const std::string& dir, const char* file) {
  facepost::io::NpyArray a;
  facepost::throw_if_error(facepost::io::read_npy(dir + "/crowd_mnet_native/" + file, a));
  return a;
}

/// Row of (level, cell i, cell j, anchor a) in a PriorBox-ordered tensor.
struct Level {
  int fh, fw, anchors;
  std::size_t offset;
};

std::vector<Level> levels_of(const AnchorConfig& cfg, InputSize in) {
  std::vector<Level> out;
  std::size_t offset = 0;
  for (const facepost::AnchorLevel& l : cfg.levels) {
    const int fh = (in.height + l.step - 1) / l.step, fw = (in.width + l.step - 1) / l.step;
    out.push_back(Level{fh, fw, int(l.min_sizes.size()), offset});
    offset += std::size_t(fh) * fw * l.min_sizes.size();
  }
  return out;
}

/// `batch` frames of the target size tiled from the source fixture, frame f shifted by its own
/// offset so that frames differ.
HostFrames tile(const std::string& dir, const AnchorConfig& cfg, InputSize src_size, InputSize dst_size,
                std::size_t batch) {
  const facepost::io::NpyArray loc = load(dir, "loc.npy"), conf = load(dir, "conf.npy"), lm = load(dir, "landms.npy");
  const std::vector<Level> src = levels_of(cfg, src_size), dst = levels_of(cfg, dst_size);
  HostFrames h;
  h.batch = batch;
  h.rows = dst.back().offset + std::size_t(dst.back().fh) * dst.back().fw * dst.back().anchors;
  h.loc.resize(batch * h.rows * 4);
  h.conf.resize(batch * h.rows * 2);
  h.landms.resize(batch * h.rows * 10);
  for (std::size_t f = 0; f < batch; ++f)
    for (std::size_t L = 0; L < dst.size(); ++L) {
      const Level &d = dst[L], &s = src[L];
      const int di = int(f * 7) % s.fh, dj = int(f * 13) % s.fw;
      for (int i = 0; i < d.fh; ++i)
        for (int j = 0; j < d.fw; ++j)
          for (int a = 0; a < d.anchors; ++a) {
            const std::size_t to = f * h.rows + d.offset + (std::size_t(i) * d.fw + j) * d.anchors + a;
            const std::size_t from = s.offset + (std::size_t((i + di) % s.fh) * s.fw + (j + dj) % s.fw) * s.anchors + a;
            std::memcpy(&h.loc[4 * to], &loc.data[4 * from], 4 * sizeof(float));
            std::memcpy(&h.conf[2 * to], &conf.data[2 * from], 2 * sizeof(float));
            std::memcpy(&h.landms[10 * to], &lm.data[10 * from], 10 * sizeof(float));
          }
    }
  return h;
}

template <class T>
struct DeviceFrames {
  facepost::cuda::DeviceBuffer<T> loc, conf, landms;
  std::size_t batch = 0, rows = 0;
  explicit DeviceFrames(const HostFrames& h) : batch(h.batch), rows(h.rows) {
    put(loc, h.loc);
    put(conf, h.conf);
    put(landms, h.landms);
  }
  facepost::cuda::DeviceHeads<T> heads(std::size_t b) const { return {loc.data(), conf.data(), landms.data(), b, rows}; }

 private:
  static void put(facepost::cuda::DeviceBuffer<T>& d, const std::vector<float>& v) {
    std::vector<T> host(v.size());
    for (std::size_t i = 0; i < v.size(); ++i) host[i] = T(v[i]);
    d.reserve(host.size(), "benchmark input");
    FACEPOST_CUDA_CHECK(cudaMemcpy(d.data(), host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice));
  }
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/// Frame 0 on the GPU against the CPU Postprocessor on the same (host) data.
template <class T>
bool check_frame0(facepost::cuda::CudaPostprocessor& gpu, const DeviceFrames<T>& dev, const HostFrames& h,
                  const AnchorConfig& cfg, InputSize in, const facepost::Params& p, std::string& why) {
  gpu.enqueue(dev.heads(1), in);
  const facepost::cuda::BatchDetections out = gpu.download();
  // The CPU sees what the device sees: float16-rounded values for __half.
  std::vector<float> loc(h.loc.begin(), h.loc.begin() + 4 * h.rows), conf(h.conf.begin(), h.conf.begin() + 2 * h.rows),
      lm(h.landms.begin(), h.landms.begin() + 10 * h.rows);
  for (std::vector<float>* v : {&loc, &conf, &lm})
    for (float& x : *v) x = float(T(x));
  facepost::Postprocessor cpu(cfg, p);
  const facepost::Detections d = cpu.run({facepost::TensorView(loc.data(), h.rows, 4),
                                          facepost::TensorView(conf.data(), h.rows, 2),
                                          facepost::TensorView(lm.data(), h.rows, 10)},
                                         in);
  const facepost::Detections g = out.frame(0);
  if (g.size() != d.size()) {
    why = "count " + std::to_string(g.size()) + " vs CPU " + std::to_string(d.size());
    return false;
  }
  for (std::size_t i = 0; i < g.size(); ++i)
    if (g.prior_index(i) != d.prior_index(i) || std::memcmp(g[i].row, d[i].row, 15 * sizeof(float)) != 0) {
      why = "row " + std::to_string(i) + " differs from the CPU";
      return false;
    }
  return true;
}

template <class T>
void run_type(const char* type_name, const HostFrames& h, const AnchorConfig& cfg, InputSize in, double peak_gbs,
              int iters) {
  const DeviceFrames<T> dev(h);
  cudaStream_t stream = nullptr;
  FACEPOST_CUDA_CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
  cudaEvent_t start = nullptr, stop = nullptr;
  FACEPOST_CUDA_CHECK(cudaEventCreate(&start));
  FACEPOST_CUDA_CHECK(cudaEventCreate(&stop));
  for (float threshold : {0.02f, 0.5f}) {
    facepost::Params p;
    p.score_threshold = threshold;
    facepost::cuda::CudaPostprocessor gpu(cfg, p);
    std::string why;
    const bool ok = check_frame0(gpu, dev, h, cfg, in, p, why);
    for (std::size_t b : {1u, 8u, 32u, 128u}) {
      if (b > h.batch) continue;
      const facepost::cuda::DeviceHeads<T> heads = dev.heads(b);
      for (int w = 0; w < 3; ++w) gpu.enqueue(heads, in, {}, stream);  // warm-up, buffers grown
      FACEPOST_CUDA_CHECK(cudaStreamSynchronize(stream));
      std::vector<double> gpu_ms, enqueue_us, e2e_ms;
      facepost::cuda::BatchDetections out;
      for (int it = 0; it < iters; ++it) {
        FACEPOST_CUDA_CHECK(cudaEventRecord(start, stream));
        const auto t0 = std::chrono::steady_clock::now();
        gpu.enqueue(heads, in, {}, stream);
        const auto t1 = std::chrono::steady_clock::now();
        FACEPOST_CUDA_CHECK(cudaEventRecord(stop, stream));
        gpu.download(out);
        const auto t2 = std::chrono::steady_clock::now();
        float ms = 0.f;
        FACEPOST_CUDA_CHECK(cudaEventElapsedTime(&ms, start, stop));
        gpu_ms.push_back(ms);
        enqueue_us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
        e2e_ms.push_back(std::chrono::duration<double, std::milli>(t2 - t0).count());
      }
      std::size_t candidates = 0, detections = 0;
      for (std::size_t f = 0; f < out.size(); ++f) {
        candidates += out.stats(f).candidates;
        detections += out.frame(f).size();
      }
      const double ms = median(gpu_ms);
      const double bytes = double(b) * double(h.rows) * 16.0 * sizeof(T);
      const double gbs = bytes / (ms * 1e-3) / 1e9;
      std::printf("%-5s %5.2f %4zu %8zu %6zu %9.3f %9.2f %9.1f %9.3f %9.1f %6.1f%%  %s\n", type_name, double(threshold), b,
                  candidates / b, detections / b, ms, 1e3 * ms / double(b), median(enqueue_us), median(e2e_ms), gbs,
                  peak_gbs > 0 ? 100.0 * gbs / peak_gbs : 0.0, ok ? "ok" : why.c_str());
      std::fflush(stdout);
    }
  }
  FACEPOST_CUDA_CHECK(cudaEventDestroy(start));
  FACEPOST_CUDA_CHECK(cudaEventDestroy(stop));
  FACEPOST_CUDA_CHECK(cudaStreamDestroy(stream));
}

}  // namespace

int main(int argc, char** argv) {
  int iters = 50;
  std::string data = FACEPOST_TEST_DATA;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--iters") == 0 && i + 1 < argc) iters = std::max(1, std::atoi(argv[++i]));
    else if (std::strcmp(argv[i], "--data") == 0 && i + 1 < argc) data = argv[++i];
    else {
      std::fprintf(stderr, "usage: %s [--iters N] [--data DIR]\n", argv[0]);
      return 2;
    }
  }
  try {
    int count = 0;
    if (cudaGetDeviceCount(&count) != cudaSuccess || count == 0) {
      std::printf("SKIPPED: no CUDA device\n");
      return 77;
    }
    int dev = 0, clock_khz = 0, bus_bits = 0;
    FACEPOST_CUDA_CHECK(cudaGetDevice(&dev));
    cudaDeviceProp prop{};
    FACEPOST_CUDA_CHECK(cudaGetDeviceProperties(&prop, dev));
    FACEPOST_CUDA_CHECK(cudaDeviceGetAttribute(&clock_khz, cudaDevAttrMemoryClockRate, dev));
    FACEPOST_CUDA_CHECK(cudaDeviceGetAttribute(&bus_bits, cudaDevAttrGlobalMemoryBusWidth, dev));
    const double peak_gbs = 2.0 * double(clock_khz) * 1e3 * double(bus_bits) / 8.0 / 1e9;  // DDR: two transfers per clock
    const AnchorConfig cfg = facepost::to_anchor_config(facepost::presets::retinaface_mnet{});
    const InputSize src{1024, 624}, in{1920, 1080};
    const HostFrames frames = tile(data, cfg, src, in, 128);
    std::printf("device: %s, %d SMs, peak memory bandwidth %.0f GB/s (clock %d kHz, bus %d bits)\n", prop.name,
                prop.multiProcessorCount, peak_gbs, clock_khz, bus_bits);
    std::printf("input 1920x1080, %zu priors/frame (RetinaFace mnet), tiled from crowd_mnet_native; %d iterations\n",
                frames.rows, iters);
    std::printf("%-5s %5s %4s %8s %6s %9s %9s %9s %9s %9s %7s  %s\n", "type", "thr", "B", "cand/f", "det/f", "gpu ms",
                "us/frame", "enq us", "e2e ms", "GB/s", "%peak", "check");
    run_type<float>("fp32", frames, cfg, in, peak_gbs, iters);
    run_type<__half>("fp16", frames, cfg, in, peak_gbs, iters);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
