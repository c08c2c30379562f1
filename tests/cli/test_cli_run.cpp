// The built `facepost` tool, driven as a child process: golden results on every fixture, the
// JSON line, input layouts, and one clear stderr line for every kind of bad input.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include "cli.hpp"
#include "cli_support.hpp"
#include "fixtures.hpp"

using cli_test::RunResult;
using cli_test::TempDir;

namespace {

/// The preset each fixture's network uses (meta.json "model"); checked against fixtures.hpp below.
std::string preset_of(const std::string& fixture) {
  if (fixture == "crowd_mnet_native" || fixture == "group_mnet_long640") return "retinaface-mnet";
  if (fixture == "family_fd1mnet_native") return "fd1m-mnet";
  if (fixture == "selfie_slim_native") return "fd1m-slim";
  if (fixture == "crowd_rfb_long640") return "fd1m-rfb";
  return "unknown fixture " + fixture;
}

std::string float_text(double v, const char* fmt = "%.9g") {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

std::string size_text(facepost::InputSize s) { return std::to_string(s.width) + "x" + std::to_string(s.height); }

/// The fixture's head files, input size and resize.
std::vector<std::string> input_args(const fixtures::Fixture& fx) {
  return {"detect",
          "--loc",        fixtures::path(fx.name, "loc.npy"),
          "--conf",       fixtures::path(fx.name, "conf.npy"),
          "--landms",     fixtures::path(fx.name, "landms.npy"),
          "--input-size", size_text(fx.input),
          "--resize",     float_text(fx.resize)};
}

/// Options that reproduce `p` (%.9g / %.17g round-trip float and double exactly).
std::vector<std::string> param_args(const facepost::Params& p) {
  return {"--threshold", float_text(p.score_threshold),
          "--nms",       float_text(p.nms_threshold, "%.17g"),
          "--iou",       p.iou == facepost::IouConvention::legacy_pixel ? "legacy" : "continuous",
          "--top-k",     std::to_string(p.top_k),
          "--keep-top-k", std::to_string(p.keep_top_k)};
}

/// --min-sizes / --steps text of an anchor configuration.
std::vector<std::string> custom_anchor_args(const facepost::AnchorConfig& a) {
  std::string sizes, steps;
  for (std::size_t k = 0; k < a.levels.size(); ++k) {
    if (k) sizes += ";", steps += ",";
    steps += std::to_string(a.levels[k].step);
    for (std::size_t m = 0; m < a.levels[k].min_sizes.size(); ++m)
      sizes += (m ? "," : "") + std::to_string(a.levels[k].min_sizes[m]);
  }
  return {"--min-sizes", sizes, "--steps", steps};
}

std::vector<std::string> concat(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

facepost::io::NpyArray read_array(const std::string& path) {
  facepost::io::NpyArray a;
  const facepost::Status s = facepost::io::read_npy(path, a);
  INFO(path << ": " << s.message());
  REQUIRE(s.ok());
  return a;
}

/// Golden rows compared with an --out file; empty string when they agree.
std::string compare_out_with_golden(const std::string& out_path, const std::string& fixture, const std::string& set) {
  const facepost::io::NpyArray got = read_array(out_path);
  const facepost::io::NpyArray want = fixtures::load(fixture, "golden_" + set + ".npy");
  if (got.shape.size() != 2 || got.shape[1] != 15) return "--out file is not [K,15]";
  return fixtures::compare_with_golden(got.data.data(), std::size_t(got.shape[0]), want.data.data(),
                                       std::size_t(want.shape[0]));
}

std::string meta_of(const std::string& fixture) { return cli_test::read_text(fixtures::path(fixture, "meta.json")); }

/// A run that must succeed with a valid JSON line and nothing on stderr.
cli_test::Summary expect_success(const std::vector<std::string>& args, const TempDir& dir) {
  const RunResult r = cli_test::run_cli(args, dir);
  INFO("stderr: " << r.err << "stdout: " << r.out);
  REQUIRE(r.signal == 0);
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.empty());
  const cli_test::Summary s = cli_test::parse_summary(r.out);
  REQUIRE(s.valid);
  CHECK(s.min_us >= 0.0);
  CHECK(s.median_us >= s.min_us);
  return s;
}

/// A run that must fail: exit code in 1..127, no signal, one "facepost: " line on stderr that
/// mentions `expected`, nothing on stdout.
void expect_failure(const std::vector<std::string>& args, const std::string& expected, const TempDir& dir) {
  const RunResult r = cli_test::run_cli(args, dir);
  std::string joined;
  for (const std::string& a : args) joined += " '" + a + "'";
  INFO("args:" << joined << "\nexit " << r.exit_code << " signal " << r.signal << "\nstderr: " << r.err
               << "\nstdout: " << r.out);
  CHECK(r.signal == 0);
  CHECK(r.exit_code >= 1);
  CHECK(r.exit_code <= 127);
  CHECK(cli_test::one_error_line(r.err));
  CHECK(r.err.find(expected) != std::string::npos);
  CHECK(r.out.empty());
}

/// Every head of a fixture re-written with `layout` (and as [1,N,C] when `batch_dim`).
std::vector<std::string> rewritten_heads(const fixtures::Fixture& fx, const cli_test::NpyLayout& layout, bool batch_dim,
                                         const TempDir& dir, const std::string& tag) {
  std::vector<std::string> args = {"detect"};
  for (const char* head : {"loc", "conf", "landms"}) {
    const facepost::io::NpyArray a = fixtures::load(fx.name, std::string(head) + ".npy");
    std::vector<std::int64_t> shape = a.shape;
    if (batch_dim) shape.insert(shape.begin(), 1);
    const std::string path = dir.file(std::string(fx.name) + "_" + tag + "_" + head + ".npy");
    cli_test::write_npy_file(path, shape, std::vector<double>(a.data.begin(), a.data.end()), layout);
    args.insert(args.end(), {std::string("--") + head, path});
  }
  args.insert(args.end(), {"--input-size", size_text(fx.input), "--resize", float_text(fx.resize)});
  return args;
}

}  // namespace

TEST_CASE("fixture presets match fixtures.hpp", "[cli]") {
  for (const fixtures::Fixture& fx : fixtures::all()) {
    facepost::AnchorConfig preset;
    INFO(fx.name);
    REQUIRE(facepost::cli::preset_anchors(preset_of(fx.name), preset).ok());
    REQUIRE(preset.levels.size() == fx.anchors.levels.size());
    for (std::size_t k = 0; k < preset.levels.size(); ++k) {
      CHECK(preset.levels[k].step == fx.anchors.levels[k].step);
      CHECK(preset.levels[k].min_sizes == fx.anchors.levels[k].min_sizes);
    }
  }
}

TEST_CASE("every fixture x every golden set reproduces the golden file and counts", "[cli][golden]") {
  TempDir dir;
  for (const fixtures::Fixture& fx : fixtures::all()) {
    const std::string meta = meta_of(fx.name);
    const facepost::io::NpyArray loc = fixtures::load(fx.name, "loc.npy");
    for (const fixtures::GoldenSet& gs : fixtures::golden_sets()) {
      INFO(fx.name << " / " << gs.name);
      const std::string out = dir.file(std::string(fx.name) + "_" + gs.name + ".npy");
      const std::vector<std::string> args =
          concat(concat(input_args(fx), {"--preset", preset_of(fx.name), "--out", out}), param_args(gs.params));
      const cli_test::Summary s = expect_success(args, dir);
      CHECK(compare_out_with_golden(out, fx.name, gs.name) == "");
      const facepost::io::NpyArray golden = fixtures::load(fx.name, std::string("golden_") + gs.name + ".npy");
      CHECK(s.priors == std::uint64_t(loc.shape[0]));
      CHECK((long long)s.priors == cli_test::meta_integer(meta, {"num_priors"}));
      CHECK(s.detections == std::uint64_t(golden.shape[0]));
      CHECK((long long)s.detections == cli_test::meta_integer(meta, {"golden", gs.name, "rows"}));
      CHECK((long long)s.candidates == cli_test::meta_integer(meta, {"golden", gs.name, "candidates_above_threshold"}));
    }
  }
}

TEST_CASE("meta.json reader finds the documented counts", "[cli]") {
  // Anchors the reader used above to the numbers tests/data documents for one fixture.
  const std::string meta = meta_of("crowd_mnet_native");
  CHECK(cli_test::meta_integer(meta, {"golden", "reference_detect", "candidates_above_threshold"}) == 1758);
  CHECK(cli_test::meta_integer(meta, {"golden", "threshold_0_5", "candidates_above_threshold"}) == 268);
  CHECK(cli_test::meta_integer(meta, {"golden", "nonexistent"}) == -1);
}

TEST_CASE("defaults are the reference detect.py parameters", "[cli][golden]") {
  TempDir dir;
  for (const fixtures::Fixture& fx : fixtures::all()) {
    INFO(fx.name);
    const std::string out = dir.file(std::string(fx.name) + "_defaults.npy");
    std::vector<std::string> args = concat(input_args(fx), {"--out", out});
    if (preset_of(fx.name) != "retinaface-mnet") args = concat(args, {"--preset", preset_of(fx.name)});
    const cli_test::Summary s = expect_success(args, dir);
    CHECK(compare_out_with_golden(out, fx.name, "reference_detect") == "");
    CHECK((long long)s.candidates ==
          cli_test::meta_integer(meta_of(fx.name), {"golden", "reference_detect", "candidates_above_threshold"}));
  }
}

TEST_CASE("explicit --min-sizes/--steps give the same detections as the preset", "[cli]") {
  TempDir dir;
  for (const fixtures::Fixture& fx : fixtures::all()) {
    INFO(fx.name);
    const std::string preset_out = dir.file("preset.npy"), custom_out = dir.file("custom.npy");
    expect_success(concat(input_args(fx), {"--preset", preset_of(fx.name), "--out", preset_out}), dir);
    expect_success(concat(concat(input_args(fx), custom_anchor_args(fx.anchors)), {"--out", custom_out}), dir);
    CHECK(cli_test::read_text(preset_out) == cli_test::read_text(custom_out));
  }
  // retinaface-r50 shares mnet's anchors; fd1m-rfb shares slim's.
  const fixtures::Fixture crowd = fixtures::all()[0];
  const std::string out = dir.file("r50.npy");
  expect_success(concat(input_args(crowd), {"--preset", "retinaface-r50", "--out", out}), dir);
  CHECK(compare_out_with_golden(out, crowd.name, "reference_detect") == "");
}

TEST_CASE("[1,N,C], big-endian, Fortran-order and version-2 files give identical results", "[cli][npy]") {
  TempDir dir;
  for (const fixtures::Fixture& fx : {fixtures::all()[0], fixtures::all()[1], fixtures::all()[3]}) {
    const std::string preset = preset_of(fx.name);
    const std::string native_out = dir.file("native.npy");
    const cli_test::Summary native =
        expect_success(concat(input_args(fx), {"--preset", preset, "--out", native_out}), dir);
    REQUIRE(compare_out_with_golden(native_out, fx.name, "reference_detect") == "");
    struct Variant {
      const char* tag;
      cli_test::NpyLayout layout;
      bool batch_dim;
    };
    const Variant variants[] = {
        {"batch", {false, false, "f4", 1}, true},
        {"be", {true, false, "f4", 1}, false},
        {"fortran", {false, true, "f4", 1}, false},
        {"be_fortran", {true, true, "f4", 1}, false},
        {"be_fortran_batch", {true, true, "f4", 1}, true},
        {"v2_fortran_batch", {false, true, "f4", 2}, true},
    };
    for (const Variant& v : variants) {
      INFO(fx.name << " / " << v.tag);
      const std::string out = dir.file(std::string("variant_") + v.tag + ".npy");
      const cli_test::Summary s = expect_success(
          concat(rewritten_heads(fx, v.layout, v.batch_dim, dir, v.tag), {"--preset", preset, "--out", out}), dir);
      CHECK(s.priors == native.priors);
      CHECK(s.candidates == native.candidates);
      CHECK(s.detections == native.detections);
      CHECK(cli_test::read_text(out) == cli_test::read_text(native_out));
    }
  }
}

TEST_CASE("float16 heads give the detections of float32 files holding the same values", "[cli][npy][lowp]") {
  TempDir dir;
  for (const fixtures::Fixture& fx : {fixtures::all()[0], fixtures::all()[3]}) {
    const std::string preset = preset_of(fx.name);
    // The float32 files hold each value rounded to float16, as the float16 files do.
    std::vector<std::string> f32_args = {"detect"};
    for (const char* head : {"loc", "conf", "landms"}) {
      const facepost::io::NpyArray a = fixtures::load(fx.name, std::string(head) + ".npy");
      std::vector<double> rounded(a.data.size());
      for (std::size_t i = 0; i < a.data.size(); ++i) rounded[i] = facepost::f16_to_f32(lowp::to_f16(a.data[i]));
      const std::string path = dir.file(std::string(fx.name) + "_rounded_" + head + ".npy");
      cli_test::write_npy_file(path, a.shape, rounded, {});
      f32_args.insert(f32_args.end(), {std::string("--") + head, path});
    }
    f32_args.insert(f32_args.end(), {"--input-size", size_text(fx.input), "--resize", float_text(fx.resize)});
    const std::string f32_out = dir.file("rounded_out.npy");
    const cli_test::Summary want = expect_success(concat(f32_args, {"--preset", preset, "--out", f32_out}), dir);
    REQUIRE(want.detections > 0);
    const cli_test::NpyLayout layouts[] = {{false, false, "f2", 1}, {true, true, "f2", 1}};
    for (const cli_test::NpyLayout& layout : layouts) {
      INFO(fx.name << (layout.big_endian ? " big-endian Fortran" : " little-endian"));
      const std::string out = dir.file("f16_out.npy");
      const cli_test::Summary got = expect_success(
          concat(rewritten_heads(fx, layout, layout.big_endian, dir, "f16"), {"--preset", preset, "--out", out}), dir);
      CHECK(got.candidates == want.candidates);
      CHECK(got.detections == want.detections);
      CHECK(cli_test::read_text(out) == cli_test::read_text(f32_out));
    }
  }
}

TEST_CASE("options --letterbox, --fit, --letterbox-anchor and --clip map as the library does", "[cli][letterbox]") {
  // crowd_mnet_native's heads (1024x624 input) read as a 1280x1000 original letterboxed into
  // them: the CLI's rows are those of a Postprocessor run with the same mapping, byte for byte.
  TempDir dir;
  const fixtures::Fixture fx = fixtures::all()[0];
  REQUIRE(size_text(fx.input) == "1024x624");
  const fixtures::Heads heads(fx.name);
  facepost::Postprocessor post(fx.anchors);
  const std::vector<std::string> files = {"detect",
                                          "--loc",        fixtures::path(fx.name, "loc.npy"),
                                          "--conf",       fixtures::path(fx.name, "conf.npy"),
                                          "--landms",     fixtures::path(fx.name, "landms.npy"),
                                          "--input-size", "1024x624"};
  const facepost::Letterbox lb = facepost::Letterbox::fit(1280, 1000, 1024, 624);
  REQUIRE((lb.resized_width == 799 && lb.resized_height == 624 && lb.pad_left == 112 && lb.pad_top == 0));
  struct Case {
    std::vector<std::string> extra;
    facepost::ImageMapping mapping;
  };
  const facepost::LetterboxAnchor tl = facepost::LetterboxAnchor::top_left;
  const std::vector<Case> cases = {
      {{"--letterbox", "1280x1000"}, lb.mapping()},
      {{"--letterbox", "1280x1000", "--fit", "integer", "--letterbox-anchor", "centre"}, lb.mapping()},
      {{"--letterbox", "1280x1000", "--clip", "1280x1000"}, lb.mapping().clip_to(1280.f, 1000.f)},
      {{"--letterbox", "1280x1000", "--letterbox-anchor", "top-left"},
       facepost::Letterbox::fit(1280, 1000, 1024, 624, tl).mapping()},
      {{"--letterbox", "1280x1000", "--fit", "exact"}, facepost::ImageMapping::letterbox_fit(1280, 1000, 1024, 624)},
      {{"--letterbox", "1280x1000", "--fit", "exact", "--letterbox-anchor", "top-left", "--clip", "1280x1000"},
       facepost::ImageMapping::letterbox_fit(1280, 1000, 1024, 624, tl).clip_to(1280.f, 1000.f)},
      {{"--resize", "0.64", "--clip", "1600x975"}, facepost::ImageMapping::resize(0.64f).clip_to(1600.f, 975.f)},
  };
  for (const Case& c : cases) {
    std::string joined;
    for (const std::string& a : c.extra) joined += " " + a;
    INFO(joined);
    const std::string out = dir.file("letterbox.npy");
    const cli_test::Summary s = expect_success(concat(concat(files, c.extra), {"--out", out}), dir);
    const facepost::Detections d = post.run(heads.view(), fx.input, c.mapping);
    CHECK(s.detections == d.size());
    const facepost::io::NpyArray got = read_array(out);
    REQUIRE(got.shape == std::vector<std::int64_t>{std::int64_t(d.size()), 15});
    CHECK(std::memcmp(got.data.data(), d.data(), d.size() * 15 * sizeof(float)) == 0);
    if (c.mapping.clip) {
      bool inside = true;
      for (std::size_t i = 0; i < d.size(); ++i)
        for (int k : {0, 2, 5, 7, 9, 11, 13}) inside = inside && got.data[15 * i + k] >= 0.f && got.data[15 * i + k] <= c.mapping.image_width;
      CHECK(inside);
    }
  }
}

TEST_CASE("option --repeat times many runs with the same result", "[cli]") {
  TempDir dir;
  const fixtures::Fixture fx = fixtures::all()[0];
  const std::string once = dir.file("once.npy"), many = dir.file("many.npy");
  const cli_test::Summary one = expect_success(concat(input_args(fx), {"--out", once}), dir);
  const cli_test::Summary seven = expect_success(concat(input_args(fx), {"--out", many, "--repeat", "7"}), dir);
  CHECK(seven.priors == one.priors);
  CHECK(seven.candidates == one.candidates);
  CHECK(seven.detections == one.detections);
  CHECK(cli_test::read_text(once) == cli_test::read_text(many));
  // "--name=value" is the same option as "--name value".
  const cli_test::Summary eq = expect_success(
      {"detect", "--loc=" + fixtures::path(fx.name, "loc.npy"), "--conf=" + fixtures::path(fx.name, "conf.npy"),
       "--landms=" + fixtures::path(fx.name, "landms.npy"), "--input-size=" + size_text(fx.input), "--repeat=3"},
      dir);
  CHECK(eq.detections == one.detections);
}

TEST_CASE("options --top-k and --keep-top-k cut where the reference cuts", "[cli]") {
  TempDir dir;
  const fixtures::Fixture fx = fixtures::all()[0];
  const long long candidates =
      cli_test::meta_integer(meta_of(fx.name), {"golden", "reference_unlimited", "candidates_above_threshold"});
  const facepost::io::NpyArray golden = fixtures::load(fx.name, "golden_reference_unlimited.npy");
  const std::size_t rows = std::size_t(golden.shape[0]);

  // top_k cuts before NMS: "candidates" still counts every score above the threshold.
  const cli_test::Summary top = expect_success(concat(input_args(fx), {"--top-k", "100", "--keep-top-k", "0"}), dir);
  CHECK((long long)top.candidates == candidates);
  CHECK(top.detections <= 100);
  CHECK(top.detections < rows);

  // keep_top_k keeps the first K survivors: the golden's first K rows (K chosen off a score tie).
  std::size_t k = 5;
  while (k < rows && golden.data[15 * (k - 1) + 4] == golden.data[15 * k + 4]) ++k;
  REQUIRE(k < rows);
  const std::string out = dir.file("keep.npy");
  const cli_test::Summary keep =
      expect_success(concat(input_args(fx), {"--top-k", "0", "--keep-top-k", std::to_string(k), "--out", out}), dir);
  CHECK(keep.detections == k);
  CHECK((long long)keep.candidates == candidates);
  const facepost::io::NpyArray got = read_array(out);
  CHECK(fixtures::compare_with_golden(got.data.data(), std::size_t(got.shape[0]), golden.data.data(), k) == "");
}

TEST_CASE("option --logits scores raw two-class logits", "[cli]") {
  // A synthetic 64x64 frame (retinaface-mnet: 168 priors). Rows in `chosen` have logits (2, 1)
  // (softmax face score 0.27, but 1.0 read as a probability); the others (0, 0.4) (softmax 0.60,
  // 0.4 as a probability). At threshold 0.5 the two readings select complementary sets.
  TempDir dir;
  facepost::AnchorConfig mnet;
  REQUIRE(facepost::cli::preset_anchors("retinaface-mnet", mnet).ok());
  std::size_t n = 0;
  REQUIRE(facepost::count_priors(mnet, facepost::InputSize{64, 64}, n).ok());
  std::vector<double> loc(n * 4, 0.0), conf(n * 2), landms(n * 10, 0.0);
  std::size_t chosen = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const bool pick = i % 7 == 0;
    chosen += pick;
    conf[2 * i] = pick ? 2.0 : 0.0;
    conf[2 * i + 1] = pick ? 1.0 : 0.4;
  }
  const cli_test::NpyLayout f32;
  const std::string loc_path = dir.file("loc.npy"), conf_path = dir.file("conf.npy"), lm_path = dir.file("lm.npy");
  cli_test::write_npy_file(loc_path, {std::int64_t(n), 4}, loc, f32);
  cli_test::write_npy_file(conf_path, {std::int64_t(n), 2}, conf, f32);
  cli_test::write_npy_file(lm_path, {std::int64_t(n), 10}, landms, f32);
  const std::vector<std::string> base = {"detect", "--loc", loc_path, "--conf", conf_path, "--landms", lm_path,
                                         "--input-size", "64x64", "--threshold", "0.5", "--top-k", "0",
                                         "--keep-top-k", "0"};
  const cli_test::Summary probabilities = expect_success(base, dir);
  CHECK(probabilities.priors == n);
  CHECK(probabilities.candidates == chosen);
  const std::string out = dir.file("logits_out.npy");
  const cli_test::Summary logits = expect_success(concat(base, {"--logits", "--out", out}), dir);
  CHECK(logits.candidates == n - chosen);
  CHECK(logits.detections >= 1);
  const facepost::io::NpyArray dets = read_array(out);
  REQUIRE(dets.shape[0] == std::int64_t(logits.detections));
  const double softmax = 1.0 / (1.0 + std::exp(-0.4));
  for (std::size_t k = 0; k < logits.detections; ++k) CHECK(std::fabs(dets.data[15 * k + 4] - softmax) < 1e-6);
}

TEST_CASE("non-finite head values never reach the output", "[cli]") {
  // A synthetic 64x64 frame: every row a face candidate, some rows NaN or Inf in loc, conf or
  // landms. The tool must run (no crash, no error) and write only finite rows.
  TempDir dir;
  facepost::AnchorConfig mnet;
  REQUIRE(facepost::cli::preset_anchors("retinaface-mnet", mnet).ok());
  std::size_t n = 0;
  REQUIRE(facepost::count_priors(mnet, facepost::InputSize{64, 64}, n).ok());
  const double nan = std::nan(""), inf = HUGE_VAL;
  std::vector<double> loc(n * 4, 0.0), conf(n * 2), landms(n * 10, 0.0);
  for (std::size_t i = 0; i < n; ++i) {
    conf[2 * i] = 0.1;
    conf[2 * i + 1] = 0.5 + 0.4 * double(i) / double(n);
    if (i % 5 == 1) loc[4 * i + 2] = inf;  // exp(inf): an infinite box
    if (i % 5 == 2) landms[10 * i + 3] = nan;
    if (i % 5 == 3) conf[2 * i + 1] = nan;
    if (i % 5 == 4) loc[4 * i] = -inf;
  }
  const std::string lp = dir.file("loc.npy"), cp = dir.file("conf.npy"), mp = dir.file("lm.npy"), out = dir.file("o.npy");
  cli_test::write_npy_file(lp, {std::int64_t(n), 4}, loc, {});
  cli_test::write_npy_file(cp, {std::int64_t(n), 2}, conf, {});
  cli_test::write_npy_file(mp, {std::int64_t(n), 10}, landms, {});
  const cli_test::Summary s = expect_success({"detect", "--loc", lp, "--conf", cp, "--landms", mp, "--input-size",
                                              "64x64", "--top-k", "0", "--keep-top-k", "0", "--out", out},
                                             dir);
  CHECK(s.priors == n);
  CHECK(s.detections >= 1);
  const facepost::io::NpyArray dets = read_array(out);
  REQUIRE(dets.shape[0] == std::int64_t(s.detections));
  for (float v : dets.data) CHECK(std::isfinite(v));
}

TEST_CASE("no detections writes an empty [0,15] file", "[cli]") {
  TempDir dir;
  const fixtures::Fixture fx = fixtures::all()[0];
  const std::string out = dir.file("none.npy");
  const cli_test::Summary s = expect_success(concat(input_args(fx), {"--threshold", "1", "--out", out}), dir);
  CHECK(s.candidates == 0);
  CHECK(s.detections == 0);
  const facepost::io::NpyArray a = read_array(out);
  CHECK(a.shape == std::vector<std::int64_t>{0, 15});
  const RunResult shown = cli_test::run_cli({"show", out}, dir);
  CHECK(shown.exit_code == 0);
  CHECK(shown.out.find("0 detections") != std::string::npos);
}

TEST_CASE("show prints an aligned table", "[cli][show]") {
  TempDir dir;
  const fixtures::Fixture fx = fixtures::all()[0];
  const std::string dets = dir.file("dets.npy");
  const cli_test::Summary s = expect_success(concat(input_args(fx), {"--out", dets}), dir);
  const facepost::io::NpyArray golden = fixtures::load(fx.name, "golden_reference_detect.npy");
  REQUIRE(s.detections == std::uint64_t(golden.shape[0]));
  REQUIRE(s.detections > 20);

  struct Case {
    std::vector<std::string> extra;
    std::size_t rows;
  };
  for (const Case& c : {Case{{}, 20}, Case{{"--max", "3"}, 3}, Case{{"--max=0"}, std::size_t(s.detections)}}) {
    const RunResult r = cli_test::run_cli(concat({"show", dets}, c.extra), dir);
    INFO("rows " << c.rows << "\n" << r.out << r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(r.err.empty());
    std::vector<std::string> lines;
    std::istringstream in(r.out);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    REQUIRE(lines.size() == c.rows + 2);  // summary, header, rows
    CHECK(lines[0].find(std::to_string(s.detections) + " detections") != std::string::npos);
    CHECK((lines[0].find("showing the first") != std::string::npos) == (c.rows < s.detections));
    std::istringstream header(lines[1]);
    std::vector<std::string> names{std::istream_iterator<std::string>(header), std::istream_iterator<std::string>()};
    CHECK(names == std::vector<std::string>{"#", "x1", "y1", "x2", "y2", "score", "lm0", "lm1", "lm2", "lm3", "lm4"});
    for (std::size_t i = 0; i < c.rows; ++i) {
      const std::string& line = lines[2 + i];
      CHECK(line.size() == lines[1].size());  // right-aligned columns: every line equally long
      std::istringstream cells_in(line);
      std::vector<std::string> cells{std::istream_iterator<std::string>(cells_in), std::istream_iterator<std::string>()};
      REQUIRE(cells.size() == 11);
      CHECK(cells[0] == std::to_string(i));
      CHECK(cells[5] == float_text(golden.data[15 * i + 4], "%.4f"));  // scores are exact, ties included
      CHECK(std::fabs(std::stod(cells[1]) - golden.data[15 * i]) <= 0.05 + 1e-3);
    }
  }
}

TEST_CASE("help and usage", "[cli]") {
  TempDir dir;
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"--help"}, {"help"}, {"-h"}, {"detect", "--help"}, {"show", "--help"}}) {
    const RunResult r = cli_test::run_cli(args, dir);
    INFO(args[0]);
    CHECK(r.exit_code == 0);
    CHECK(r.err.empty());
    CHECK(r.out.find("facepost detect --loc") != std::string::npos);
    CHECK(r.out.find("facepost show") != std::string::npos);
  }
  const RunResult version = cli_test::run_cli({"--version"}, dir);
  CHECK(version.exit_code == 0);
  // The tool may be built for this machine's best SIMD (FACEPOST_NATIVE) while this test is not.
  bool known_backend = false;
  for (const char* b : {"scalar", "avx2", "avx512", "neon"})
    known_backend |= version.out == std::string("facepost ") + FACEPOST_VERSION_STRING + " (CPU backend: " + b + ")\n";
  CHECK(known_backend);
  const RunResult bare = cli_test::run_cli({}, dir);
  CHECK(bare.exit_code == 2);
  CHECK(bare.out.empty());
  CHECK(cli_test::one_error_line(bare.err));
  CHECK(bare.err.find("usage: facepost detect") != std::string::npos);
}

/// The value after "key": in a one-line JSON object (numbers, strings, [a,b]); empty if absent.
std::string json_value(const std::string& json, const std::string& key) {
  const std::string tag = "\"" + key + "\":";
  const std::size_t at = json.find(tag);
  if (at == std::string::npos) return "";
  std::size_t begin = at + tag.size(), end = begin;
  if (json[begin] == '"') return json.substr(begin + 1, json.find('"', begin + 1) - begin - 1);
  end = json[begin] == '[' ? json.find(']', begin) + 1 : json.find_first_of(",}", begin);
  return json.substr(begin, end - begin);
}

TEST_CASE("defaults prints the Params defaults and --help shows the same values", "[cli]") {
  TempDir dir;
  const RunResult r = cli_test::run_cli({"defaults"}, dir);
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.empty());
  const facepost::cli::DetectOptions d;
  const facepost::Params p;
  facepost::AnchorConfig anchors;
  REQUIRE(facepost::cli::preset_anchors(d.anchors_name, anchors).ok());
  INFO(r.out);
  CHECK(json_value(r.out, "preset") == d.anchors_name);
  CHECK(std::stof(json_value(r.out, "threshold")) == p.score_threshold);
  CHECK(std::stod(json_value(r.out, "nms")) == p.nms_threshold);
  CHECK(json_value(r.out, "iou") == (p.iou == facepost::IouConvention::legacy_pixel ? "legacy" : "continuous"));
  CHECK(std::stoull(json_value(r.out, "top-k")) == p.top_k);
  CHECK(std::stoull(json_value(r.out, "keep-top-k")) == p.keep_top_k);
  CHECK(json_value(r.out, "logits") == (p.score_format == facepost::ScoreFormat::logits ? "true" : "false"));
  CHECK(std::stof(json_value(r.out, "resize")) == d.resize);
  CHECK(json_value(r.out, "fit") == (d.fit == facepost::cli::LetterboxFit::integer ? "integer" : "exact"));
  CHECK(json_value(r.out, "letterbox-anchor") == (d.anchor == facepost::LetterboxAnchor::centre ? "centre" : "top-left"));
  const std::string variance = json_value(r.out, "variance");
  REQUIRE(variance.size() > 2);
  const std::size_t comma = variance.find(',');
  CHECK(std::stof(variance.substr(1, comma - 1)) == anchors.variance.center);
  CHECK(std::stof(variance.substr(comma + 1)) == anchors.variance.size);

  const RunResult help = cli_test::run_cli({"--help"}, dir);
  REQUIRE(help.exit_code == 0);
  CHECK(help.out.find("(default " + json_value(r.out, "threshold") + ")") != std::string::npos);
  CHECK(help.out.find("(default " + json_value(r.out, "nms") + ")") != std::string::npos);
  CHECK(help.out.find("(default " + json_value(r.out, "top-k") + "; 0 = no limit)") != std::string::npos);
  CHECK(help.out.find("(default " + json_value(r.out, "keep-top-k") + "; 0 = no limit)") != std::string::npos);
  CHECK(help.out.find(d.anchors_name + " (default)") != std::string::npos);
  CHECK(cli_test::run_cli({"defaults", "--x"}, dir).exit_code == 2);
}

TEST_CASE("bad options are refused with one stderr line", "[cli][errors]") {
  TempDir dir;
  const fixtures::Fixture fx = fixtures::all()[0];
  const std::string loc = fixtures::path(fx.name, "loc.npy"), conf = fixtures::path(fx.name, "conf.npy"),
                    landms = fixtures::path(fx.name, "landms.npy");
  const std::vector<std::string> base = {"detect", "--loc", loc, "--conf", conf, "--landms", landms,
                                         "--input-size", "1024x624"};
  expect_success(base, dir);  // the control: every case below differs from it in one way

  struct Case {
    std::vector<std::string> args;  ///< appended to base (or, with replace_base, the whole argv)
    std::string expected;
    bool replace_base = false;
  };
  const std::string ms = "16,32;64,128;256,512";
  const std::vector<Case> cases = {
      // missing / unknown options
      {{"detect", "--conf", conf, "--landms", landms, "--input-size", "1024x624"}, "missing required option --loc", true},
      {{"detect", "--loc", loc, "--landms", landms, "--input-size", "1024x624"}, "missing required option --conf", true},
      {{"detect", "--loc", loc, "--conf", conf, "--input-size", "1024x624"}, "missing required option --landms", true},
      {{"detect", "--loc", loc, "--conf", conf, "--landms", landms}, "missing required option --input-size", true},
      {{"--frobnicate", "1"}, "unknown option '--frobnicate'"},
      {{"-t", "0.5"}, "unexpected argument '-t'"},
      {{"stray"}, "unexpected argument 'stray'"},
      {{"--threshold"}, "--threshold needs a value"},
      {{"--threshold", "0.1", "--threshold", "0.2"}, "--threshold given twice"},
      {{"--logits=yes"}, "--logits takes no value"},
      {{"--out", ""}, "empty file name"},
      // bad numbers and thresholds
      {{"--threshold", "abc"}, "--threshold: 'abc' is not a number"},
      {{"--threshold", "0.5x"}, "not a number"},
      {{"--threshold", ""}, "not a number"},
      {{"--threshold", " 0.5"}, "not a number"},
      {{"--threshold", "0x1p-3"}, "not a number"},
      {{"--threshold", "nan"}, "--threshold: 'nan' is not a number"},
      {{"--threshold", "inf"}, "not a number"},
      {{"--threshold", "1.5"}, "--threshold: 1.5 is outside [0, 1]"},
      {{"--threshold", "-0.1"}, "outside [0, 1]"},
      {{"--threshold", "1e999"}, "out of range"},
      {{"--nms", "nan"}, "--nms: 'nan' is not a number"},
      {{"--nms", "1.01"}, "--nms: 1.01 is outside [0, 1]"},
      {{"--nms", "-1"}, "outside [0, 1]"},
      {{"--iou", "fast"}, "--iou: 'fast' is not legacy or continuous"},
      {{"--top-k", "-1"}, "--top-k: '-1' is negative"},
      {{"--keep-top-k", "-5"}, "--keep-top-k: '-5' is negative"},
      {{"--top-k", "1.5"}, "not an integer"},
      {{"--top-k", "99999999999999999999999"}, "out of range"},
      {{"--repeat", "0"}, "--repeat: must be at least 1"},
      {{"--repeat", "-3"}, "negative"},
      {{"--repeat", "x"}, "not an integer"},
      {{"--repeat", "100000000"}, "out of range"},
      {{"--resize", "0"}, "--resize: 0 must be positive"},
      {{"--resize", "-2"}, "must be positive"},
      {{"--resize", "nan"}, "not a number"},
      {{"--resize", "0.5", "--letterbox", "1280x1000"}, "give either --resize or --letterbox, not both"},
      {{"--fit", "exact"}, "--fit needs --letterbox WxH (the original image size)"},
      {{"--letterbox-anchor", "top-left"}, "--letterbox-anchor needs --letterbox"},
      {{"--letterbox", "1280x1000", "--fit", "round"}, "--fit: 'round' is not integer or exact"},
      {{"--letterbox", "1280x1000", "--letterbox-anchor", "middle"}, "--letterbox-anchor: 'middle' is not centre or top-left"},
      {{"--letterbox", "1280x0"}, "--letterbox: '1280x0': width and height must be positive"},
      {{"--clip", "0x1000"}, "--clip: '0x1000': width and height must be positive"},
      {{"--clip", "1280"}, "--clip: '1280' is not WIDTHxHEIGHT"},
      {{"--variance", "0.1"}, "--variance: '0.1' must be two numbers"},
      {{"--variance", "0,0.2"}, "both variances must be positive"},
      {{"--variance", "a,b"}, "not a number"},
      // input sizes
      {{"detect", "--loc", loc, "--conf", conf, "--landms", landms, "--input-size", "1024"}, "not WIDTHxHEIGHT", true},
      {{"detect", "--loc", loc, "--conf", conf, "--landms", landms, "--input-size", "0x624"}, "must be positive", true},
      {{"detect", "--loc", loc, "--conf", conf, "--landms", landms, "--input-size", "1024x"}, "not an integer", true},
      {{"detect", "--loc", loc, "--conf", conf, "--landms", landms, "--input-size", "1024x624x3"}, "not WIDTHxHEIGHT", true},
      {{"detect", "--loc", loc, "--conf", conf, "--landms", landms, "--input-size", "99999999999999999999x624"},
       "out of range", true},
      {{"detect", "--loc", loc, "--conf", conf, "--landms", landms, "--input-size", "-1024x624"}, "negative", true},
      // anchors
      {{"--preset", "yolo"}, "unknown preset 'yolo'"},
      {{"--preset", "retinaface-mnet", "--min-sizes", ms, "--steps", "8,16,32"}, "not both"},
      {{"--min-sizes", ms}, "--min-sizes needs --steps"},
      {{"--steps", "8,16,32"}, "--steps needs --min-sizes"},
      {{"--min-sizes", "16,32;64,128", "--steps", "8,16,32"}, "--min-sizes has 2 levels but --steps has 3"},
      {{"--min-sizes", ms, "--steps", "0,16,32"}, "--steps entry 1: must be positive"},
      {{"--min-sizes", ms, "--steps", "8,,32"}, "empty entry"},
      {{"--min-sizes", "16,32;;256,512", "--steps", "8,16,32"}, "level 2 of"},
      {{"--min-sizes", "", "--steps", "8"}, "level 1 of '' is empty"},
      {{"--min-sizes", "16,32;64,128;256,0", "--steps", "8,16,32"}, "--min-sizes level 3 entry 2: must be positive"},
      {{"--min-sizes", "16,-32;64,128;256,512", "--steps", "8,16,32"}, "negative"},
      // a prior count past facepost's limit is refused before anything is allocated for it
      {{"detect", "--loc", loc, "--conf", conf, "--landms", landms, "--input-size", "1048576x1048576", "--min-sizes",
        "1", "--steps", "1"},
       "more than 2147483648 priors", true},
      // files and data
      {{"detect", "--loc", dir.file("missing.npy"), "--conf", conf, "--landms", landms, "--input-size", "1024x624"},
       "cannot open file", true},
      {{"--out", dir.file("no/such/folder/dets.npy")}, "cannot open for writing"},
      {{"detect", "--loc", conf, "--conf", conf, "--landms", landms, "--input-size", "1024x624"},
       "loc tensor has 2 columns, expected 4", true},
      {{"detect", "--loc", loc, "--conf", fixtures::path("group_mnet_long640", "conf.npy"), "--landms", landms,
        "--input-size", "1024x624"},
       "disagree on the number of rows", true},
      {{"detect", "--loc", loc, "--conf", conf, "--landms", landms, "--input-size", "1024x624", "--preset", "fd1m-slim"},
       "anchor configuration gives", true},
      {{"--input-size", "640x640"}, "given twice"},
  };
  for (const Case& c : cases) expect_failure(c.replace_base ? c.args : concat(base, c.args), c.expected, dir);
}

TEST_CASE("wrong --input-size for a resized fixture is a prior count mismatch", "[cli][errors]") {
  TempDir dir;
  for (const fixtures::Fixture& fx : fixtures::all()) {
    if (fx.resize == 1.0f) continue;
    INFO(fx.name);
    // The original image size: what people pass by mistake when the network ran on a resize.
    const std::string meta = meta_of(fx.name);
    const std::string original = std::to_string(cli_test::meta_integer(meta, {"original_width"})) + "x" +
                                 std::to_string(cli_test::meta_integer(meta, {"original_height"}));
    REQUIRE(original != size_text(fx.input));
    expect_failure({"detect", "--loc", fixtures::path(fx.name, "loc.npy"), "--conf", fixtures::path(fx.name, "conf.npy"),
                    "--landms", fixtures::path(fx.name, "landms.npy"), "--input-size", original, "--preset",
                    preset_of(fx.name)},
                   "priors for this input size", dir);
  }
}

TEST_CASE("files that are not float32 or float16 [N,C] are refused", "[cli][errors][npy]") {
  TempDir dir;
  const fixtures::Fixture fx = fixtures::all()[0];
  const facepost::io::NpyArray loc = fixtures::load(fx.name, "loc.npy");
  const std::vector<double> values(loc.data.begin(), loc.data.end());
  const std::int64_t n = loc.shape[0];
  auto args_with_loc = [&](const std::string& path) {
    return std::vector<std::string>{"detect", "--loc", path, "--conf", fixtures::path(fx.name, "conf.npy"),
                                    "--landms", fixtures::path(fx.name, "landms.npy"), "--input-size", "1024x624"};
  };
  struct Case {
    const char* tag;
    std::vector<std::int64_t> shape;
    cli_test::NpyLayout layout;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"f8", {n, 4}, {false, false, "f8", 1}, "dtype '<f8' is not float32"},
      {"f8_be", {n, 4}, {true, false, "f8", 1}, "dtype '>f8' is not float32"},
      {"i4", {n, 4}, {false, false, "i4", 1}, "dtype '<i4' is not float32"},
      {"i1", {n, 4}, {false, false, "i1", 1}, "int8 heads need a scale and zero point, which a .npy file does not carry"},
      {"u1", {n, 4}, {false, false, "u1", 1}, "uint8 heads need a scale and zero point"},
      {"batch2", {2, n / 2, 4}, {}, "batch dimension 2"},
      {"rank1", {n * 4}, {}, "expected shape [N,C] or [1,N,C], got [" + std::to_string(n * 4) + "]"},
      {"rank4", {1, 1, n, 4}, {}, "expected shape [N,C] or [1,N,C], got [1,1,"},
  };
  for (const Case& c : cases) {
    INFO(c.tag);
    const std::string path = dir.file(std::string(c.tag) + ".npy");
    cli_test::write_npy_file(path, c.shape, values, c.layout);
    expect_failure(args_with_loc(path), c.expected, dir);
  }
  // Empty tensor, a text file, a truncated file.
  const std::string empty = dir.file("empty.npy");
  cli_test::write_npy_file(empty, {0, 4}, {}, {});
  expect_failure(args_with_loc(empty), "loc tensor is empty", dir);
  const std::string text = dir.file("text.npy");
  std::ofstream(text) << "loc,conf\n1,2\n";
  expect_failure(args_with_loc(text), "not a .npy file", dir);
  const std::string whole = cli_test::read_text(fixtures::path(fx.name, "loc.npy"));
  const std::string truncated = dir.file("truncated.npy");
  std::ofstream(truncated, std::ios::binary) << whole.substr(0, whole.size() / 2);
  expect_failure(args_with_loc(truncated), "truncated data", dir);
}

TEST_CASE("bad commands and bad show input", "[cli][errors][show]") {
  TempDir dir;
  expect_failure({"frobnicate"}, "unknown command 'frobnicate'", dir);
  expect_failure({"show"}, "missing the detections file", dir);
  expect_failure({"show", dir.file("none.npy")}, "cannot open file", dir);
  expect_failure({"show", fixtures::path("crowd_mnet_native", "loc.npy")}, "expected a detections array of shape [K,15]",
                 dir);
  const std::string golden = fixtures::path("crowd_mnet_native", "golden_reference_detect.npy");
  expect_failure({"show", golden, "--max", "-1"}, "negative", dir);
  expect_failure({"show", golden, "--max"}, "--max needs a value", dir);
  expect_failure({"show", golden, golden}, "unexpected second file", dir);
  expect_failure({"show", golden, "--rows", "3"}, "unknown option '--rows'", dir);
  // Control characters in an argument never split the error into two lines.
  expect_failure({"detect", "--bad\noption"}, "unknown option '--bad?option'", dir);
}

TEST_CASE("exit codes: 2 for usage errors, 1 for data errors", "[cli][errors]") {
  // The documented contract: what the argument parsers refuse exits 2; files, shapes and prior
  // counts that do not fit exit 1. Representative cases of each.
  TempDir dir;
  const fixtures::Fixture fx = fixtures::all()[0];
  const std::string loc = fixtures::path(fx.name, "loc.npy"), conf = fixtures::path(fx.name, "conf.npy"),
                    landms = fixtures::path(fx.name, "landms.npy");
  const std::vector<std::string> base = {"detect", "--loc", loc, "--conf", conf, "--landms", landms};
  const std::string wrong_shape = dir.file("wrong_shape.npy");
  cli_test::write_npy_file(wrong_shape, {26240, 3}, std::vector<double>(26240 * 3, 0.0), {});
  struct Case {
    std::vector<std::string> args;
    int exit_code;
  };
  const std::vector<Case> cases = {
      {concat(base, {"--input-size", "1024x624", "--threshold", "1.5"}), 2},
      {concat(base, {"--input-size", "0x624"}), 2},
      {concat(base, {"--input-size", "1024x624", "--frobnicate"}), 2},
      {concat(base, {"--input-size", "1024x624", "--preset", "yolo"}), 2},
      {concat(base, {"--input-size", "1024x624", "--resize", "0.5", "--letterbox", "1280x1000"}), 2},
      {concat(base, {"--input-size", "1024x624", "--fit", "exact"}), 2},
      {concat(base, {"--input-size", "1024x624", "--clip", "0x0"}), 2},
      {{"detect", "--loc", loc, "--conf", conf, "--input-size", "1024x624"}, 2},
      {{"frobnicate"}, 2},
      {concat(base, {"--input-size", "1024x640"}), 1},  // prior count mismatch
      {{"detect", "--loc", dir.file("missing.npy"), "--conf", conf, "--landms", landms, "--input-size", "1024x624"}, 1},
      {{"detect", "--loc", loc, "--conf", wrong_shape, "--landms", landms, "--input-size", "1024x624"}, 1},
      {concat(base, {"--input-size", "1024x624", "--out", dir.file("no/such/dir/o.npy")}), 1},
  };
  for (const Case& c : cases) {
    const RunResult r = cli_test::run_cli(c.args, dir);
    std::string joined;
    for (const std::string& a : c.args) joined += " '" + a + "'";
    INFO("args:" << joined << "\nstderr: " << r.err);
    CHECK(r.signal == 0);
    CHECK(r.exit_code == c.exit_code);
    CHECK(cli_test::one_error_line(r.err));
  }
}

TEST_CASE("a 3840x2160 frame (340,320 priors) runs", "[cli]") {
  // A huge but legal input through files: one confident prior among 340,320.
  TempDir dir;
  const std::size_t n = 340320;
  std::vector<double> conf(2 * n);
  for (std::size_t i = 0; i < n; ++i) conf[2 * i] = 1.0, conf[2 * i + 1] = 0.0;
  conf[2 * (n / 2)] = 0.01, conf[2 * (n / 2) + 1] = 0.99;
  const std::string lp = dir.file("loc.npy"), cp = dir.file("conf.npy"), mp = dir.file("lm.npy"), out = dir.file("o.npy");
  cli_test::write_npy_file(lp, {std::int64_t(n), 4}, std::vector<double>(4 * n, 0.0), {});
  cli_test::write_npy_file(cp, {1, std::int64_t(n), 2}, conf, {});
  cli_test::write_npy_file(mp, {std::int64_t(n), 10}, std::vector<double>(10 * n, 0.0), {});
  const cli_test::Summary s =
      expect_success({"detect", "--loc", lp, "--conf", cp, "--landms", mp, "--input-size", "3840x2160", "--out", out}, dir);
  CHECK(s.priors == n);
  CHECK(s.candidates == 1);
  CHECK(s.detections == 1);
  const facepost::io::NpyArray dets = read_array(out);
  REQUIRE(dets.shape == std::vector<std::int64_t>{1, 15});
  CHECK(dets.data[4] == 0.99f);
}

// ---- detect --family (tools/cli_families.hpp) -------------------------------------------------

namespace {

std::string family_file(const std::string& family, const std::string& name, const std::string& file) {
  return fixtures::path("families/" + family + "/" + name, file);
}

std::string compare_family_out(const std::string& out_path, const std::string& golden_path, float score_tol = 0.f) {
  const facepost::io::NpyArray got = read_array(out_path);
  const facepost::io::NpyArray want = read_array(golden_path);
  if (got.shape.size() != 2 || want.shape.size() != 2 || got.shape[1] != want.shape[1]) return "--out shape differs";
  return fixtures::compare_with_golden(got.data.data(), std::size_t(got.shape[0]), want.data.data(),
                                       std::size_t(want.shape[0]), 1e-3f, std::size_t(want.shape[1]), score_tol);
}

std::vector<std::string> scrfd_args(const std::string& name, bool kps) {
  std::vector<std::string> a = {"detect", "--family", "scrfd"};
  for (const char* head : {"score", "bbox", "kps"}) {
    if (!kps && std::strcmp(head, "kps") == 0) continue;
    for (int s : {8, 16, 32})
      a.insert(a.end(), {std::string("--") + head + "-" + std::to_string(s),
                         family_file("scrfd", name, std::string(head) + "_" + std::to_string(s) + ".npy")});
  }
  return a;
}

}  // namespace

TEST_CASE("detect --family runs SCRFD, YuNet, BlazeFace and YOLOv5-face as their references", "[cli][families]") {
  const TempDir dir;
  const std::string out = dir.file("out.npy");
  // SCRFD: det_scale as --resize, NMS after it; defaults 0.5 / 0.4.
  cli_test::Summary s = expect_success(concat(scrfd_args("mosaic_crowd_3200x1796", true),
                                              {"--input-size", "960x544", "--resize", "0.29955456570155903",
                                               "--out", out}),
                                       dir);
  CHECK(s.priors == 21420);
  CHECK(s.detections == 237);
  CHECK(compare_family_out(out, family_file("scrfd", "mosaic_crowd_3200x1796", "golden_threshold_0_5.npy")).empty());
  expect_success(concat(scrfd_args("group_nokps_1600x898", false),
                        {"--input-size", "640x640", "--resize", "0.3997772828507795", "--threshold", "0.3", "--nms",
                         "0.5", "--out", out}),
                 dir);
  CHECK(compare_family_out(out, family_file("scrfd", "group_nokps_1600x898", "golden_threshold_0_3_nms_0_5.npy"))
            .empty());
  expect_success(concat(scrfd_args("family_640x640", true), {"--input-size", "640x640", "--max-num", "5", "--out", out}),
                 dir);
  CHECK(compare_family_out(out, family_file("scrfd", "family_640x640", "golden_max_num_5.npy")).empty());

  // YOLOv5-face: defaults 0.25 / 0.45, and scale_coords' mapping with --clip.
  const std::string pred = family_file("yolov5_face", "zidane_640x384_planted", "pred.npy");
  s = expect_success({"detect", "--family", "yolov5-face", "--pred", pred, "--input-size", "640x384", "--out", out}, dir);
  CHECK(s.priors == 15120);
  CHECK(compare_family_out(out, family_file("yolov5_face", "zidane_640x384_planted", "golden_conf_0_25_iou_0_45.npy"))
            .empty());
  expect_success({"detect", "--family=yolov5-face", "--pred", pred, "--input-size", "640x384", "--threshold", "0.6",
                  "--nms", "0.5", "--out", out},
                 dir);
  CHECK(compare_family_out(out, family_file("yolov5_face", "zidane_640x384_planted", "golden_conf_0_6_iou_0_5.npy"))
            .empty());

  // YuNet: FaceDetectorYN's defaults, and --top-k before NMS.
  const std::string y = "mosaic_crowd_960x540";
  const std::vector<std::string> yunet = {"detect", "--family", "yunet", "--loc", family_file("yunet", y, "loc.npy"),
                                          "--conf", family_file("yunet", y, "conf.npy"), "--iou",
                                          family_file("yunet", y, "iou.npy"), "--input-size", "960x540", "--out", out};
  s = expect_success(yunet, dir);
  CHECK(s.priors == 29400);
  CHECK(compare_family_out(out, family_file("yunet", y, "golden_default.npy")).empty());
  expect_success(concat(yunet, {"--threshold", "0.6", "--top-k", "100"}), dir);
  CHECK(compare_family_out(out, family_file("yunet", y, "golden_top_k_100.npy")).empty());

  // BlazeFace: the model's default threshold (0.65 back).
  const std::string b = "back_selfie_crowd";
  s = expect_success({"detect", "--family", "blazeface", "--model", "back", "--regressors",
                      family_file("blazeface", b, "regressors.npy"), "--classificators",
                      family_file("blazeface", b, "classificators.npy"), "--out", out},
                     dir);
  CHECK(s.priors == 896);
  CHECK(compare_family_out(out, family_file("blazeface", b, "golden_hollance_back_0_65.npy"), 1e-6f).empty());
}

TEST_CASE("detect --family refuses options and inputs that do not fit the family", "[cli][families]") {
  const TempDir dir;
  const std::string pred = family_file("yolov5_face", "family_640x512", "pred.npy");
  expect_failure({"detect", "--family", "yolo", "--pred", pred}, "--family: unknown family 'yolo'", dir);
  expect_failure({"detect", "--family", "yolov5-face", "--family", "scrfd"}, "option --family given twice", dir);
  expect_failure({"detect", "--family", "yolov5-face", "--pred", pred, "--input-size", "640x512", "--max-num", "3"},
                 "option '--max-num' does not apply to --family yolov5-face", dir);
  expect_failure({"detect", "--family", "yolov5-face", "--input-size", "640x512"},
                 "missing required option --pred (--family yolov5-face)", dir);
  expect_failure({"detect", "--family", "yolov5-face", "--pred", pred}, "missing required option --input-size", dir);
  expect_failure({"detect", "--family", "yolov5-face", "--pred", pred, "--input-size", "640x640"},
                 "pred tensor has 20160 rows but input size 640x640 gives 25200", dir);
  expect_failure({"detect", "--family", "yolov5-face", "--pred", pred, "--input-size", "640x512", "--nms", "1.5"},
                 "--nms: 1.5 is outside [0, 1]", dir);
  std::vector<std::string> no_kps16 = scrfd_args("family_640x640", true);
  no_kps16.erase(no_kps16.end() - 4, no_kps16.end() - 2);  // --kps-16 and its file
  expect_failure(concat(no_kps16, {"--input-size", "640x640"}), "give --kps-8, --kps-16 and --kps-32 together", dir);
  expect_failure({"detect", "--family", "blazeface", "--model", "side", "--regressors", "r.npy", "--classificators",
                  "c.npy"},
                 "--model: 'side' is not front (128x128) or back (256x256)", dir);
  expect_failure({"detect", "--family", "blazeface", "--regressors", "r.npy", "--classificators", "c.npy",
                  "--input-size", "256x256"},
                 "the front BlazeFace model takes 128x128", dir);
  expect_failure({"detect", "--family", "blazeface", "--regressors", pred, "--classificators", pred},
                 "BlazeFace regressors tensor has 20160 rows, expected 896", dir);
}
