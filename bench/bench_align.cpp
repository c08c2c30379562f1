// bench/bench_align.cpp - face alignment: facepost's closed-form 2D Umeyama (facepost::try_align)
// against Eigen::umeyama on the same faces, in one run. Before timing, the two are checked to
// agree (1e-10 relative).
#include "align.hpp"

#include <benchmark/benchmark.h>

// Eigen::umeyama's SVD inlines GCC's AVX-512 intrinsics, which GCC < 13 reports as reading an
// uninitialised value (GCC bug 105593) and, at -O3, as reading past a
// Matrix<double, 2, 1>: a false warning at the inlined call sites.
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ < 13
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Warray-bounds"
#pragma GCC diagnostic ignored "-Wstringop-overread"
#endif
#include <Eigen/Geometry>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "facepost/facepost.hpp"
#include "fixtures.hpp"

namespace facepost_bench {
namespace {

struct AlignCase {
  facepost::io::NpyArray dets;
  facepost::ArcfaceTemplate arcface;
  Eigen::Matrix<double, 2, 5> dst;
  std::size_t faces = 0;
};

const AlignCase& align_case() {
  static const AlignCase c = [] {
    AlignCase a;
    a.dets = fixtures::load("crowd_mnet_native", "golden_reference_unlimited.npy");
    a.faces = std::size_t(a.dets.shape[0]);
    a.arcface = facepost::arcface_template(112);
    for (int k = 0; k < 5; ++k) a.dst(0, k) = a.arcface.xy[2 * k], a.dst(1, k) = a.arcface.xy[2 * k + 1];
    return a;
  }();
  return c;
}

Eigen::Matrix<double, 2, 3> eigen_align(const float* row, const Eigen::Matrix<double, 2, 5>& dst) {
  Eigen::Matrix<double, 2, 5> src;
  for (int k = 0; k < 5; ++k) src(0, k) = double(row[5 + 2 * k]), src(1, k) = double(row[6 + 2 * k]);
  return Eigen::umeyama(src, dst, true).topRows<2>();
}

void per_face(benchmark::State& st, std::size_t faces) {
  st.counters["faces"] = double(faces);
  st.counters["per_face"] =
      benchmark::Counter(double(faces), benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

void bench_facepost(benchmark::State& st) {
  const AlignCase& c = align_case();
  const facepost::Detections dets(c.dets.data.data(), nullptr, c.faces);
  std::vector<facepost::Similarity2D> out(c.faces);
  for (auto _ : st) {
    const facepost::Status s = facepost::try_align(dets, c.arcface.view(), out.data(), out.size());
    benchmark::DoNotOptimize(s);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  per_face(st, c.faces);
}

void bench_eigen(benchmark::State& st) {
  const AlignCase& c = align_case();
  std::vector<Eigen::Matrix<double, 2, 3>> out(c.faces);
  for (auto _ : st) {
    for (std::size_t i = 0; i < c.faces; ++i) out[i] = eigen_align(c.dets.data.data() + 15 * i, c.dst);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  per_face(st, c.faces);
}

}  // namespace

void register_align() {
  const AlignCase& c = align_case();
  std::vector<facepost::Similarity2D> out(c.faces);
  const facepost::Status s =
      facepost::try_align(facepost::Detections(c.dets.data.data(), nullptr, c.faces), c.arcface.view(), out.data(),
                          out.size());
  if (!s.ok()) {
    std::fprintf(stderr, "bench_align: %s\n", s.message());
    std::exit(EXIT_FAILURE);
  }
  for (std::size_t i = 0; i < c.faces; ++i) {
    const Eigen::Matrix<double, 2, 3> e = eigen_align(c.dets.data.data() + 15 * i, c.dst);
    const double d = (out[i].matrix() - e).cwiseAbs().maxCoeff() / std::max(1.0, e.cwiseAbs().maxCoeff());
    if (!(d < 1e-10)) {
      std::fprintf(stderr, "bench_align: face %zu: facepost and Eigen::umeyama differ by %g\n", i, d);
      std::exit(EXIT_FAILURE);
    }
  }
  benchmark::RegisterBenchmark("align/facepost", bench_facepost)->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("align/eigen_umeyama", bench_eigen)->Unit(benchmark::kMicrosecond);
}

}  // namespace facepost_bench
