// bench/bench_postprocess.cpp - facepost against its peers, end to end and stage by stage.
//
// Rows (names are parsed by tools/bench_report.py; keep the shapes):
//   e2e/<fixture>/<set>/<impl>              impl: facepost | scalar_port (facepost_ref::Port, the
//                                           plain scalar port of the reference); every fixture x set
//   floor/<frame>, floor_sum/<frame>        one streaming pass over the face-score column
//   stage/<stage>/<frame>/<set>             filter_scores, rank_radix, rank_sort, decode, nms_greedy,
//                                           and the NMS peers nms_all_pairs, nms_opencv
//   synthetic/<W>x<H>/<faces>/<thr>/<impl>  synthetic scenes (retinaface_mnet anchors)
// <frame> is a fixture name or synthetic_<W>x<H>_<faces>; a synthetic <set> is t<thr>.
// Every row has the counters priors, candidates and kept (floor rows: priors, candidates).
//
// Before a row is timed its result is checked once: facepost against the golden file (fixtures)
// and against the scalar port (every fixture set and every synthetic scene); a disagreement
// aborts the run with a message, so no number is ever reported for a wrong result.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "facepost/facepost.hpp"
#include "align.hpp"
#include "dispatch_peer.hpp"
#include "families.hpp"
#include "low_precision.hpp"
#include "fixtures.hpp"
#include "reference/reference_port.hpp"
#include "support/synthetic_scene.hpp"

#if defined(FACEPOST_BENCH_HAVE_OPENCV)
#include <opencv2/core.hpp>
#include <opencv2/dnn.hpp>
#endif

namespace {

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "facepost_bench: %s\n", what.c_str());
  std::exit(EXIT_FAILURE);
}

// ---------------------------------------------------------------------------------------------
// Frames (one set of head outputs) and cases (a frame with the parameters of one run)

struct Frame {
  std::string name;
  facepost::AnchorConfig anchors;
  facepost::InputSize input{};
  float resize = 1.f;
  std::vector<float> loc, conf, landms;
  std::size_t rows = 0;

  facepost::HeadOutputs heads() const {
    return {facepost::TensorView(loc.data(), rows, 4), facepost::TensorView(conf.data(), rows, 2),
            facepost::TensorView(landms.data(), rows, 10)};
  }
  facepost::ImageMapping mapping() const { return facepost::ImageMapping::resize(resize); }
};

/// Which frame a case runs on; its data is built (or loaded) when the first of its rows runs, so
/// a filtered run builds only the scenes it needs.
struct FrameSpec {
  bool synthetic = false;
  fixtures::Fixture fixture{};       // fixtures
  facepost::InputSize input{};       // synthetic scenes
  std::size_t faces = 0;

  std::string name() const {
    return synthetic ? "synthetic_" + std::to_string(input.width) + "x" + std::to_string(input.height) + "_" +
                           std::to_string(faces)
                     : std::string(fixture.name);
  }
};

constexpr std::uint32_t kSyntheticSeed = 20240607;

Frame load_frame(const FrameSpec& spec) {
  Frame f;
  f.name = spec.name();
  if (!spec.synthetic) {
    fixtures::Heads h(spec.fixture.name);
    f.anchors = spec.fixture.anchors;
    f.input = spec.fixture.input;
    f.resize = spec.fixture.resize;
    f.rows = std::size_t(h.loc.shape[0]);
    f.loc = std::move(h.loc.data);
    f.conf = std::move(h.conf.data);
    f.landms = std::move(h.landms.data);
    return f;
  }
  facepost_test::SceneOptions opt;
  opt.faces = spec.faces;
  opt.seed = kSyntheticSeed;
  facepost_test::SyntheticScene s =
      facepost_test::make_synthetic_scene(facepost::presets::retinaface_mnet{}, spec.input, opt);
  f.anchors = facepost::to_anchor_config(facepost::presets::retinaface_mnet{});
  f.input = spec.input;
  f.rows = s.num_priors;
  f.loc = std::move(s.loc);
  f.conf = std::move(s.conf);
  f.landms = std::move(s.landms);
  return f;
}

const Frame& frame_of(const FrameSpec& spec) {
  static std::map<std::string, std::unique_ptr<Frame>> store;
  std::unique_ptr<Frame>& slot = store[spec.name()];
  if (!slot) slot = std::make_unique<Frame>(load_frame(spec));
  return *slot;
}

/// A frame with the parameters of one run.
struct Case {
  FrameSpec spec;
  std::string set;  ///< golden set name, or t<thr> for a synthetic scene
  facepost::Params params;
  std::string golden_file;  ///< fixtures only

  const Frame& frame() const { return frame_of(spec); }
  std::string name() const { return spec.name() + "/" + set; }
};

void set_counters(benchmark::State& st, std::size_t priors, std::size_t candidates, std::size_t kept) {
  st.counters["priors"] = benchmark::Counter(double(priors));
  st.counters["candidates"] = benchmark::Counter(double(candidates));
  st.counters["kept"] = benchmark::Counter(double(kept));
}

// ---------------------------------------------------------------------------------------------
// Checks, run once per case before any of its rows is timed

struct FacepostResult {
  std::vector<float> rows;  ///< [K,15]
  std::size_t count = 0, candidates = 0;
};

FacepostResult run_facepost_once(const Case& c) {
  const Frame& f = c.frame();
  facepost::Postprocessor pp(f.anchors, c.params);
  const facepost::Detections d = pp.run(f.heads(), f.input, f.mapping());
  FacepostResult r;
  r.rows.assign(d.data(), d.data() + facepost::kDetectionCols * d.size());
  r.count = d.size();
  r.candidates = pp.stats().candidates;
  return r;
}

/// facepost against the golden file (fixtures) and against the scalar port (every case).
void verify_case(const Case& c) {
  static std::set<std::string> verified;
  if (!verified.insert(c.name()).second) return;
  const FacepostResult got = run_facepost_once(c);
  if (!c.golden_file.empty()) {
    const facepost::io::NpyArray golden = fixtures::load(c.spec.fixture.name, c.golden_file);
    const std::string diff = fixtures::compare_with_golden(got.rows.data(), got.count, golden.data.data(),
                                                           std::size_t(golden.shape[0]));
    if (!diff.empty()) fail(c.name() + ": facepost differs from " + c.golden_file + ": " + diff);
  }
  const Frame& f = c.frame();
  facepost_ref::Port<> port(f.anchors);
  const facepost_ref::Result& want = port.run(f.heads(), f.input, c.params, f.mapping());
  if (want.size() != got.count)
    fail(c.name() + ": facepost keeps " + std::to_string(got.count) + " rows, the scalar port " +
         std::to_string(want.size()) + " (candidates: facepost " + std::to_string(got.candidates) + ", port " +
         std::to_string(want.candidates) + ")");
  const std::string diff = fixtures::compare_with_golden(got.rows.data(), got.count, want.rows.data(), want.size());
  if (!diff.empty()) fail(c.name() + ": facepost differs from the scalar port: " + diff);
}

// ---------------------------------------------------------------------------------------------
// End to end

void bench_facepost(benchmark::State& st, const Case& c) {
  verify_case(c);
  const Frame& f = c.frame();
  const facepost::HeadOutputs heads = f.heads();
  const facepost::ImageMapping mapping = f.mapping();
  // One Postprocessor for the whole stream: the first frame builds the priors and the buffers.
  facepost::Postprocessor pp(f.anchors, c.params);
  facepost::Detections d = pp.run(heads, f.input, mapping);
  for (auto _ : st) {
    d = pp.run(heads, f.input, mapping);
    benchmark::DoNotOptimize(d.data());
    benchmark::ClobberMemory();
  }
  set_counters(st, pp.stats().priors, pp.stats().candidates, d.size());
}

/// The same stream through the portable, runtime-dispatching unit (dispatch_peer.cpp); its
/// detections must be bit for bit those of the compile-time unit.
void bench_facepost_dispatch(benchmark::State& st, const Case& c) {
  verify_case(c);
  const Frame& f = c.frame();
  const facepost::HeadOutputs heads = f.heads();
  const facepost::ImageMapping mapping = f.mapping();
  facepost_bench::DispatchPostprocessor pp(f.anchors, c.params);
  facepost::Detections d = pp.run(heads, f.input, mapping);
  const FacepostResult want = run_facepost_once(c);
  if (d.size() != want.count ||
      std::memcmp(d.data(), want.rows.data(), want.rows.size() * sizeof(float)) != 0) {
    st.SkipWithError("runtime dispatch gives other detections than compile-time selection");
    return;
  }
  for (auto _ : st) {
    d = pp.run(heads, f.input, mapping);
    benchmark::DoNotOptimize(d.data());
    benchmark::ClobberMemory();
  }
  set_counters(st, pp.priors(), pp.candidates(), d.size());
}

void bench_port(benchmark::State& st, const Case& c) {
  verify_case(c);
  const Frame& f = c.frame();
  const facepost::HeadOutputs heads = f.heads();
  const facepost::ImageMapping mapping = f.mapping();
  // The port also caches its priors and reuses its buffers: the peer runs as a stream too.
  facepost_ref::Port<> port(f.anchors);
  const facepost_ref::Result* r = &port.run(heads, f.input, c.params, mapping);
  for (auto _ : st) {
    r = &port.run(heads, f.input, c.params, mapping);
    benchmark::DoNotOptimize(r->rows.data());
    benchmark::ClobberMemory();
  }
  set_counters(st, f.rows, r->candidates, r->size());
}

// ---------------------------------------------------------------------------------------------
// Floors: the cost of reading the face scores once.
//  floor/      a count of scores > 0.02, which the compiler vectorises with the build's best SIMD:
//              what reading the column costs at best (the strict floor);
//  floor_sum/  the plain float sum of the column: without -ffast-math the compiler may not
//              reorder float adds, so this is one scalar add per row on a dependency chain.

__attribute__((noinline)) std::uint32_t count_face_scores_above(const float* conf, std::size_t rows, float t) {
  std::uint32_t n = 0;
  for (std::size_t r = 0; r < rows; ++r) n += conf[2 * r + 1] > t ? 1u : 0u;
  return n;
}

__attribute__((noinline)) float sum_face_scores(const float* conf, std::size_t rows) {
  float sum = 0.f;
  for (std::size_t r = 0; r < rows; ++r) sum += conf[2 * r + 1];
  return sum;
}

void bench_floor(benchmark::State& st, const FrameSpec& spec, bool simd) {
  const Frame& f = frame_of(spec);
  std::uint32_t n = count_face_scores_above(f.conf.data(), f.rows, 0.02f);
  for (auto _ : st) {
    if (simd) {
      n = count_face_scores_above(f.conf.data(), f.rows, 0.02f);
      benchmark::DoNotOptimize(n);
    } else {
      float sum = sum_face_scores(f.conf.data(), f.rows);
      benchmark::DoNotOptimize(sum);
    }
    benchmark::ClobberMemory();
  }
  st.SetBytesProcessed(std::int64_t(st.iterations()) * std::int64_t(f.rows) * 2 * std::int64_t(sizeof(float)));
  st.counters["priors"] = benchmark::Counter(double(f.rows));
  st.counters["candidates"] = benchmark::Counter(double(n));
}

// ---------------------------------------------------------------------------------------------
// Stages, each timed alone on the output of the previous one (computed once per case)

struct StageData {
  facepost::PriorGrid<facepost::AnchorConfig> grid;
  facepost::DecodeContext ctx;
  std::vector<std::uint32_t> index, order, prior;
  std::vector<float> score, rows, x1, y1, x2, y2;
  std::size_t candidates = 0, ranked = 0, decoded = 0, kept = 0;
  facepost::RankWorkspace rank_ws;

  facepost::kernels::DecodedCandidates decode_out() {
    facepost::kernels::DecodedCandidates out{};
    out.rows = rows.data();
    out.x1 = x1.data(), out.y1 = y1.data(), out.x2 = x2.data(), out.y2 = y2.data();
    out.prior = prior.data();
    return out;
  }
  facepost::BoxesSoA boxes() const { return {x1.data(), y1.data(), x2.data(), y2.data(), decoded}; }
};

StageData& stage_data(const Case& c) {
  static std::map<std::string, std::unique_ptr<StageData>> cache;
  std::unique_ptr<StageData>& slot = cache[c.name()];
  if (slot) return *slot;
  verify_case(c);
  slot = std::make_unique<StageData>();
  StageData& s = *slot;
  const Frame& f = c.frame();
  const facepost::Params& p = c.params;
  s.grid = facepost::PriorGrid<facepost::AnchorConfig>(f.anchors);
  s.grid.build(f.input);
  s.ctx = facepost::DecodeContext(f.input, f.anchors.variance, f.mapping());
  const std::size_t n = f.rows;
  for (auto* v : {&s.index, &s.order, &s.prior}) v->resize(n);
  for (auto* v : {&s.score, &s.x1, &s.y1, &s.x2, &s.y2}) v->resize(n);
  s.rows.resize(n * facepost::kDetectionCols);
  const facepost::HeadOutputs heads = f.heads();
  s.candidates = facepost::filter_scores(heads.conf, p.score_threshold, p.score_format, s.index.data(), s.score.data());
  s.ranked = facepost::rank_candidates_radix(s.score.data(), s.candidates, p.top_k, s.order.data(), s.rank_ws);
  s.decoded = facepost::active_kernels().decode_ranked(heads, s.grid.data(), s.ctx, s.order.data(), s.ranked,
                                                        s.index.data(), s.score.data(), s.decode_out());
  std::vector<std::uint32_t> keep(s.decoded + 1);
  facepost::NmsWorkspace ws;
  s.kept = facepost::nms_greedy(s.boxes(), p.nms_threshold, p.iou, p.keep_top_k, keep.data(), ws);
  // The stages alone must add up to the pipeline, or their times mean nothing.
  const FacepostResult whole = run_facepost_once(c);
  if (s.kept != whole.count || s.candidates != whole.candidates)
    fail(c.name() + ": the stages alone give " + std::to_string(s.candidates) + " candidates / " +
         std::to_string(s.kept) + " kept, the Postprocessor " + std::to_string(whole.candidates) + " / " +
         std::to_string(whole.count));
  return s;
}

enum class Stage { filter, rank_radix, rank_sort, decode, nms_greedy, nms_all_pairs, nms_opencv };

const char* stage_name(Stage s) {
  switch (s) {
    case Stage::filter: return "filter_scores";
    case Stage::rank_radix: return "rank_radix";
    case Stage::rank_sort: return "rank_sort";
    case Stage::decode: return "decode";
    case Stage::nms_greedy: return "nms_greedy";
    case Stage::nms_all_pairs: return "nms_all_pairs";
    case Stage::nms_opencv: return "nms_opencv";
  }
  return "?";
}

void bench_stage(benchmark::State& st, const Case& c, Stage stage) {
  StageData& s = stage_data(c);
  const Frame& f = c.frame();
  const facepost::Params& p = c.params;
  const facepost::HeadOutputs heads = f.heads();
  std::size_t candidates = s.candidates, kept = 0;
  switch (stage) {
    case Stage::filter: {
      std::vector<std::uint32_t> index(f.rows);
      std::vector<float> score(f.rows);
      for (auto _ : st) {
        candidates = facepost::filter_scores(heads.conf, p.score_threshold, p.score_format, index.data(), score.data());
        benchmark::DoNotOptimize(candidates);
        benchmark::ClobberMemory();
      }
      kept = candidates;
      break;
    }
    case Stage::rank_radix: {
      std::vector<std::uint32_t> order(s.candidates + 1);
      for (auto _ : st) {
        kept = facepost::rank_candidates_radix(s.score.data(), s.candidates, p.top_k, order.data(), s.rank_ws);
        benchmark::DoNotOptimize(order.data());
        benchmark::ClobberMemory();
      }
      break;
    }
    case Stage::rank_sort: {  // the comparison sort, the peer of the radix ranking
      std::vector<std::uint32_t> order(s.candidates + 1);
      for (auto _ : st) {
        kept = facepost::rank_candidates(s.score.data(), s.index.data(), s.candidates, p.top_k, order.data());
        benchmark::DoNotOptimize(order.data());
        benchmark::ClobberMemory();
      }
      break;
    }
    case Stage::decode: {
      for (auto _ : st) {
        kept = facepost::active_kernels().decode_ranked(heads, s.grid.data(), s.ctx, s.order.data(), s.ranked,
                                                         s.index.data(), s.score.data(), s.decode_out());
        benchmark::DoNotOptimize(s.rows.data());
        benchmark::ClobberMemory();
      }
      break;
    }
    case Stage::nms_greedy:
    case Stage::nms_all_pairs: {
      std::vector<std::uint32_t> keep(s.decoded + 1);
      facepost::NmsWorkspace ws;
      ws.reserve(s.decoded);
      const bool grid = stage == Stage::nms_greedy;
      for (auto _ : st) {
        kept = grid ? facepost::nms_greedy(s.boxes(), p.nms_threshold, p.iou, p.keep_top_k, keep.data(), ws)
                    : facepost::nms_greedy_all_pairs(s.boxes(), p.nms_threshold, p.iou, p.keep_top_k, keep.data(), ws);
        benchmark::DoNotOptimize(keep.data());
        benchmark::ClobberMemory();
      }
      if (kept != s.kept)
        fail(c.name() + ": " + stage_name(stage) + " keeps " + std::to_string(kept) + ", the pipeline " +
             std::to_string(s.kept));
      break;
    }
    case Stage::nms_opencv: {
#if defined(FACEPOST_BENCH_HAVE_OPENCV)
      // A speed peer only: OpenCV measures IoU without the legacy +1, so `kept` may differ.
      std::vector<cv::Rect2d> rects(s.decoded);
      std::vector<float> scores(s.decoded);
      for (std::size_t i = 0; i < s.decoded; ++i) {
        rects[i] = cv::Rect2d(s.x1[i], s.y1[i], double(s.x2[i]) - s.x1[i], double(s.y2[i]) - s.y1[i]);
        scores[i] = s.rows[facepost::kDetectionCols * i + 4];
      }
      std::vector<int> indices;
      for (auto _ : st) {
        cv::dnn::NMSBoxes(rects, scores, 0.f, float(p.nms_threshold), indices, 1.f, int(p.keep_top_k));
        benchmark::DoNotOptimize(indices.data());
        benchmark::ClobberMemory();
      }
      kept = indices.size();
#endif
      break;
    }
  }
  set_counters(st, f.rows, candidates, kept);
}

// ---------------------------------------------------------------------------------------------
// Registration

const Case* add_case(Case c) {
  static std::vector<std::unique_ptr<Case>> all;  // registered lambdas point into these
  all.push_back(std::make_unique<Case>(std::move(c)));
  return all.back().get();
}

void register_row(const std::string& name, std::function<void(benchmark::State&)> fn) {
  benchmark::RegisterBenchmark(name.c_str(), [fn](benchmark::State& st) { fn(st); })->Unit(benchmark::kMicrosecond);
}

void register_floor(const FrameSpec& spec) {
  register_row("floor/" + spec.name(), [spec](benchmark::State& st) { bench_floor(st, spec, true); });
  register_row("floor_sum/" + spec.name(), [spec](benchmark::State& st) { bench_floor(st, spec, false); });
}

void register_stages(const Case* c) {
  std::vector<Stage> stages = {Stage::filter,     Stage::rank_radix,    Stage::rank_sort, Stage::decode,
                               Stage::nms_greedy, Stage::nms_all_pairs};
#if defined(FACEPOST_BENCH_HAVE_OPENCV)
  stages.push_back(Stage::nms_opencv);
#endif
  for (Stage s : stages)
    register_row(std::string("stage/") + stage_name(s) + "/" + c->name(),
                 [c, s](benchmark::State& st) { bench_stage(st, *c, s); });
}

void register_fixtures() {
  for (const fixtures::Fixture& fx : fixtures::all()) {
    FrameSpec spec;
    spec.fixture = fx;
    register_floor(spec);
    for (const fixtures::GoldenSet& gs : fixtures::golden_sets()) {
      const Case* c = add_case(Case{spec, gs.name, gs.params, std::string("golden_") + gs.name + ".npy"});
      const std::string base = "e2e/" + c->name();
      register_row(base + "/facepost", [c](benchmark::State& st) { bench_facepost(st, *c); });
      register_row(base + "/facepost_dispatch", [c](benchmark::State& st) { bench_facepost_dispatch(st, *c); });
      register_row(base + "/scalar_port", [c](benchmark::State& st) { bench_port(st, *c); });
      register_stages(c);
    }
  }
}

/// Input sizes x face counts x thresholds, retinaface_mnet anchors, no top_k, legacy NMS 0.4.
/// Stage rows for the crowd (the most faces) at every size.
void register_synthetic() {
  const facepost::InputSize sizes[] = {{320, 240}, {640, 480}, {1280, 720}, {1920, 1080}, {3840, 2160}};
  const std::size_t face_counts[] = {0, 10, 100, 1000};
  const std::pair<const char*, float> thresholds[] = {{"0.02", 0.02f}, {"0.5", 0.5f}};
  for (facepost::InputSize in : sizes) {
    for (std::size_t faces : face_counts) {
      FrameSpec spec;
      spec.synthetic = true;
      spec.input = in;
      spec.faces = faces;
      if (faces == face_counts[0]) register_floor(spec);  // reading the scores costs the same for any F
      for (const auto& [thr_name, thr] : thresholds) {
        facepost::Params params = facepost::Params{}.unlimited();
        params.score_threshold = thr;
        const Case* c = add_case(Case{spec, std::string("t") + thr_name, params, std::string()});
        const std::string base = "synthetic/" + std::to_string(in.width) + "x" + std::to_string(in.height) + "/" +
                                 std::to_string(faces) + "/" + thr_name;
        register_row(base + "/facepost", [c](benchmark::State& st) { bench_facepost(st, *c); });
        if (faces == face_counts[3])
          register_row(base + "/facepost_dispatch", [c](benchmark::State& st) { bench_facepost_dispatch(st, *c); });
        register_row(base + "/scalar_port", [c](benchmark::State& st) { bench_port(st, *c); });
        if (faces == face_counts[3]) register_stages(c);
      }
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return EXIT_FAILURE;
  benchmark::AddCustomContext("facepost_backend", facepost::backend_name());
  benchmark::AddCustomContext("facepost_dispatch_backend", facepost_bench::DispatchPostprocessor::backend());
  benchmark::AddCustomContext("facepost_version", FACEPOST_VERSION_STRING);
  benchmark::AddCustomContext("synthetic_seed", std::to_string(kSyntheticSeed));
  register_fixtures();
  register_synthetic();
  facepost_bench::register_families();
  facepost_bench::register_align();
  facepost_bench::register_low_precision();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return EXIT_SUCCESS;
}
