// lowp/<fixture>/<encoding>: the whole pipeline on float16 and int8 heads against float32, in the
// same run, on the bundled fixtures (default parameters). The *_copy rows are the peer a caller
// would otherwise write: convert each whole tensor to float32 (with facepost's own vectorised
// conversion), then run the float32 pipeline. Before any row is timed, the float16 and int8
// results are checked bit for bit against float32 runs on the same values.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "facepost/facepost.hpp"
#include "fixtures.hpp"
#include "low_precision.hpp"
#include "support/low_precision.hpp"

namespace facepost_bench {
namespace {

using facepost::Dequant;
using facepost::TensorView;

Dequant symmetric(const std::vector<float>& v) {
  float m = 0.f;
  for (float x : v) m = std::max(m, std::fabs(x));
  return Dequant{m > 0.f ? m / 127.f : 1.f, 0};
}

struct LowpCase {
  fixtures::Fixture fx;
  fixtures::Heads heads;
  std::size_t n;
  lowp::Half loc16, conf16, lm16;
  lowp::Quantized<std::int8_t> loc8;
  lowp::Quantized<std::uint8_t> conf8;
  lowp::Quantized<std::int8_t> lm8;
  explicit LowpCase(const fixtures::Fixture& f)
      : fx(f),
        heads(f.name),
        n(std::size_t(heads.loc.shape[heads.loc.shape.size() - 2])),
        loc16(heads.loc.data),
        conf16(heads.conf.data),
        lm16(heads.landms.data),
        loc8(heads.loc.data, symmetric(heads.loc.data)),
        conf8(heads.conf.data, Dequant{1.f / 255.f, 0}),
        lm8(heads.landms.data, symmetric(heads.landms.data)) {}
  facepost::HeadOutputs float32() const { return heads.view(); }
  facepost::HeadOutputs float16() const {
    return {TensorView::float16(loc16.bits.data(), n, 4), TensorView::float16(conf16.bits.data(), n, 2),
            TensorView::float16(lm16.bits.data(), n, 10)};
  }
  facepost::HeadOutputs int8() const {
    return {TensorView::quantized(loc8.q.data(), n, 4, loc8.dequant),
            TensorView::quantized(conf8.q.data(), n, 2, conf8.dequant),
            TensorView::quantized(lm8.q.data(), n, 10, lm8.dequant)};
  }
  facepost::ImageMapping mapping() const { return facepost::ImageMapping::resize(fx.resize); }
};

bool same(const facepost::Detections& a, const facepost::Detections& b) {
  return a.size() == b.size() &&
         (a.size() == 0 || std::memcmp(a.data(), b.data(), a.size() * facepost::kDetectionCols * sizeof(float)) == 0);
}

/// The float16 / int8 pipeline equals the float32 one on the values the heads hold.
void verify(const LowpCase& c) {
  facepost::Postprocessor a(c.fx.anchors), b(c.fx.anchors);
  const facepost::HeadOutputs v16{TensorView(c.loc16.values.data(), c.n, 4), TensorView(c.conf16.values.data(), c.n, 2),
                                  TensorView(c.lm16.values.data(), c.n, 10)};
  const facepost::HeadOutputs v8{TensorView(c.loc8.values.data(), c.n, 4), TensorView(c.conf8.values.data(), c.n, 2),
                                 TensorView(c.lm8.values.data(), c.n, 10)};
  if (!same(a.run(c.float16(), c.fx.input, c.mapping()), b.run(v16, c.fx.input, c.mapping())) ||
      !same(a.run(c.int8(), c.fx.input, c.mapping()), b.run(v8, c.fx.input, c.mapping()))) {
    std::fprintf(stderr, "bench_low_precision: %s: low-precision detections differ from float32\n", c.fx.name);
    std::exit(EXIT_FAILURE);
  }
}

void run_direct(benchmark::State& st, const LowpCase& c, const facepost::HeadOutputs& heads) {
  facepost::Postprocessor pp(c.fx.anchors);
  facepost::Detections d = pp.run(heads, c.fx.input, c.mapping());
  for (auto _ : st) {
    d = pp.run(heads, c.fx.input, c.mapping());
    benchmark::DoNotOptimize(d.data());
    benchmark::ClobberMemory();
  }
  st.counters["kept"] = benchmark::Counter(double(d.size()));
}

/// Converts each whole tensor to float32 every frame, then runs the float32 pipeline.
void run_copy(benchmark::State& st, const LowpCase& c, const facepost::HeadOutputs& heads) {
  facepost::Postprocessor pp(c.fx.anchors);
  std::vector<float> loc(c.n * 4), conf(c.n * 2), lm(c.n * 10);
  const facepost::kernels::KernelTable& k = facepost::active_kernels();
  auto convert = [&](const TensorView& t, std::vector<float>& out) {
    k.convert_to_f32(t.address(), t.type, t.dequant, out.size(), out.data());
  };
  const facepost::HeadOutputs f32{TensorView(loc.data(), c.n, 4), TensorView(conf.data(), c.n, 2),
                                  TensorView(lm.data(), c.n, 10)};
  facepost::Detections d;
  for (auto _ : st) {
    convert(heads.loc, loc);
    convert(heads.conf, conf);
    convert(heads.landms, lm);
    d = pp.run(f32, c.fx.input, c.mapping());
    benchmark::DoNotOptimize(d.data());
    benchmark::ClobberMemory();
  }
  st.counters["kept"] = benchmark::Counter(double(d.size()));
}

}  // namespace

void register_low_precision() {
  static std::vector<std::unique_ptr<LowpCase>> cases;  // the registered rows point into these
  for (const fixtures::Fixture& fx : fixtures::all()) {
    cases.push_back(std::make_unique<LowpCase>(fx));
    const LowpCase* c = cases.back().get();
    verify(*c);
    const std::string base = std::string("lowp/") + fx.name + "/";
    auto add = [&](const std::string& row, void (*fn)(benchmark::State&, const LowpCase&, const facepost::HeadOutputs&),
                   facepost::HeadOutputs (LowpCase::*heads)() const) {
      benchmark::RegisterBenchmark((base + row).c_str(), [c, fn, heads](benchmark::State& st) {
        fn(st, *c, (c->*heads)());
      })->Unit(benchmark::kMicrosecond);
    };
    add("float32", run_direct, &LowpCase::float32);
    add("float16", run_direct, &LowpCase::float16);
    add("float16_copy", run_copy, &LowpCase::float16);
    add("int8", run_direct, &LowpCase::int8);
    add("int8_copy", run_copy, &LowpCase::int8);
  }
}

}  // namespace facepost_bench
