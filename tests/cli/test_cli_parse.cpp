// The CLI's argument parsers (tools/cli.hpp), called directly: accepted forms, refused forms,
// and hostile input (overflow, nan/inf, empty, huge, random) that must give a Status, never UB.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "cli.hpp"

using namespace facepost;
using namespace facepost::cli;

namespace {

std::vector<std::string> required_args() {
  return {"--loc", "l.npy", "--conf", "c.npy", "--landms", "m.npy", "--input-size", "640x480"};
}

std::vector<std::string> with(std::vector<std::string> a, const std::vector<std::string>& extra) {
  a.insert(a.end(), extra.begin(), extra.end());
  return a;
}

}  // namespace

TEST_CASE("parse: numbers take the whole string and only finite decimals", "[cli][parse]") {
  float f = -1.f;
  CHECK(parse_float("0.5", "x", f).ok());
  CHECK(f == 0.5f);
  CHECK(parse_float("+2", "x", f).ok());
  CHECK(f == 2.f);
  CHECK(parse_float(".25", "x", f).ok());
  CHECK(f == 0.25f);
  CHECK(parse_float("5.", "x", f).ok());
  CHECK(f == 5.f);
  CHECK(parse_float("-1e-3", "x", f).ok());
  CHECK(f == -1e-3f);
  CHECK(parse_float("0.02", "x", f).ok());
  CHECK(f == 0.02f);  // parsed as float32 directly, as the reference's numpy threshold

  for (const char* bad : {"", " ", "nan", "NaN", "-nan", "inf", "-inf", "infinity", "0x1p3", " 1", "1 ", "1e", "e5",
                          "1e5.0", "--1", "+-1", "1,5", ".", "-", "+", "1..2", "1e+", "١"}) {
    INFO("'" << bad << "'");
    f = 7.f;
    const Status s = parse_float(bad, "--value", f);
    CHECK_FALSE(s.ok());
    CHECK(s.code() == Errc::bad_argument);
    CHECK(std::string(s.message()).rfind("--value: ", 0) == 0);
    CHECK(f == 7.f);  // untouched on failure
  }
  CHECK_FALSE(parse_float("1e39", "x", f).ok());  // beyond float32
  double d = 0;
  CHECK(parse_double("1e39", "x", d).ok());
  CHECK(d == 1e39);
  CHECK_FALSE(parse_double("1e999", "x", d).ok());
  CHECK(std::string(parse_double("1e999", "x", d).message()).find("out of range") != std::string::npos);

  // Huge inputs: a megabyte of digits, a long fraction, a long exponent.
  const std::string big(1 << 20, '9');
  CHECK_FALSE(parse_float(big, "x", f).ok());
  CHECK_FALSE(parse_double(big, "x", d).ok());
  const std::string tiny = "0." + std::string(100000, '0') + "1";
  const Status tiny_status = parse_double(tiny, "x", d);  // underflow: refused or exactly 0, never garbage
  CHECK((!tiny_status.ok() || d == 0.0));
  CHECK(parse_double("0." + std::string(5000, '3'), "x", d).ok());
  CHECK(std::fabs(d - 1.0 / 3.0) < 1e-15);
  CHECK_FALSE(parse_double("1e" + std::string(5000, '9'), "x", d).ok());
  // The message quotes at most a short, printable prefix of the value.
  const std::string msg = parse_float(std::string(1000, 'a'), "x", f).message();
  CHECK(msg.size() < 100);
  CHECK(std::string(parse_float("a\nb", "x", f).message()).find('\n') == std::string::npos);
}

TEST_CASE("parse: thresholds are in [0, 1]", "[cli][parse]") {
  float t = -1.f;
  CHECK(parse_score_threshold("0", "t", t).ok());
  CHECK(t == 0.f);
  CHECK(parse_score_threshold("1", "t", t).ok());
  CHECK(t == 1.f);
  CHECK(parse_score_threshold("-0", "t", t).ok());
  for (const char* bad : {"1.0000001", "-0.0001", "2", "nan", "1e10"}) {
    INFO(bad);
    CHECK_FALSE(parse_score_threshold(bad, "t", t).ok());
  }
  CHECK(parse_score_threshold("1.5", "t", t).code() == Errc::bad_threshold);
  double n = -1;
  CHECK(parse_iou_threshold("0.4", "n", n).ok());
  CHECK(n == 0.4);
  CHECK_FALSE(parse_iou_threshold("1.01", "n", n).ok());
  CHECK_FALSE(parse_iou_threshold("nan", "n", n).ok());
}

TEST_CASE("parse: counts refuse negatives, fractions and overflow", "[cli][parse]") {
  std::uint64_t v = 9;
  const std::uint64_t max64 = std::numeric_limits<std::uint64_t>::max();
  CHECK(parse_count("0", "k", 10, v).ok());
  CHECK(v == 0);
  CHECK(parse_count("+5", "k", 10, v).ok());
  CHECK(v == 5);
  CHECK(parse_count("18446744073709551615", "k", max64, v).ok());
  CHECK(v == max64);
  CHECK(parse_count("0018", "k", 100, v).ok());
  CHECK(v == 18);
  struct Bad {
    const char* text;
    const char* says;
  };
  for (const Bad& b : {Bad{"18446744073709551616", "out of range"}, Bad{"11", "out of range [0, 10]"},
                       Bad{"-1", "is negative"}, Bad{"-0", "is negative"}, Bad{"-", "not an integer"},
                       Bad{"", "not an integer"}, Bad{"+", "not an integer"}, Bad{"1.5", "not an integer"},
                       Bad{"1e3", "not an integer"}, Bad{" 5", "not an integer"}, Bad{"5 ", "not an integer"},
                       Bad{"0x10", "not an integer"}, Bad{"-x", "not an integer"}}) {
    INFO("'" << b.text << "'");
    const Status s = parse_count(b.text, "--k", 10, v);
    CHECK_FALSE(s.ok());
    CHECK(std::string(s.message()).find(b.says) != std::string::npos);
  }
  CHECK_FALSE(parse_count(std::string(100000, '9'), "k", max64, v).ok());
}

TEST_CASE("parse: input sizes", "[cli][parse]") {
  InputSize s{};
  CHECK(parse_input_size("1024x768", "i", s).ok());
  CHECK(s == InputSize{1024, 768});
  CHECK(parse_input_size("5X7", "i", s).ok());
  CHECK(s == InputSize{5, 7});
  CHECK(parse_input_size("1048576x1", "i", s).ok());
  for (const char* bad : {"", "x", "1024", "1024x", "x768", "1024x768x", "1024xx768", "0x768", "1024x0",
                          "1048577x1", "-5x5", "5x-5", "1e3x5", "99999999999999999999999x1", " 5x5", "5 x5", "5x5 ",
                          "5*5", "5,5"}) {
    INFO("'" << bad << "'");
    CHECK_FALSE(parse_input_size(bad, "--input-size", s).ok());
  }
}

TEST_CASE("parse: min sizes, steps, variance, IoU convention, presets", "[cli][parse]") {
  std::vector<std::vector<int>> ms;
  REQUIRE(parse_min_sizes("16,32;64,128;256,512", "m", ms).ok());
  CHECK(ms == std::vector<std::vector<int>>{{16, 32}, {64, 128}, {256, 512}});
  REQUIRE(parse_min_sizes("10", "m", ms).ok());
  CHECK(ms == std::vector<std::vector<int>>{{10}});
  for (const char* bad : {"", ";", "16;", ";16", "16,32;;64", "16,", ",16", "16,,32", "0", "16,-32", "16;a", "1.5",
                          "16 ,32", "2147483648", "1048577"}) {
    INFO("'" << bad << "'");
    CHECK_FALSE(parse_min_sizes(bad, "m", ms).ok());
  }
  // Many levels are fine for the parser (the prior count check bounds them later).
  std::string many;
  for (int k = 0; k < 20000; ++k) many += (k ? ";" : "") + std::to_string(k % 100 + 1);
  REQUIRE(parse_min_sizes(many, "m", ms).ok());
  CHECK(ms.size() == 20000);

  std::vector<int> steps;
  REQUIRE(parse_steps("8,16,32", "s", steps).ok());
  CHECK(steps == std::vector<int>{8, 16, 32});
  for (const char* bad : {"", "0", "8,0", "8,,16", "8,16,", "-8", "8;16", "4294967304"}) {
    INFO("'" << bad << "'");
    CHECK_FALSE(parse_steps(bad, "s", steps).ok());
  }

  Variance v;
  REQUIRE(parse_variance("0.1,0.2", "v", v).ok());
  CHECK(v.center == 0.1f);
  CHECK(v.size == 0.2f);
  for (const char* bad : {"", "0.1", "0.1,0.2,0.3", "0,0.2", "0.1,-0.2", "nan,0.2", "0.1,inf", ",", "0.1,"}) {
    INFO("'" << bad << "'");
    CHECK_FALSE(parse_variance(bad, "v", v).ok());
  }

  IouConvention iou = IouConvention::legacy_pixel;
  CHECK(parse_iou_convention("continuous", "i", iou).ok());
  CHECK(iou == IouConvention::continuous);
  CHECK(parse_iou_convention("legacy", "i", iou).ok());
  CHECK(iou == IouConvention::legacy_pixel);
  CHECK_FALSE(parse_iou_convention("Legacy", "i", iou).ok());
  CHECK_FALSE(parse_iou_convention("", "i", iou).ok());

  for (const std::string& name : preset_names()) {
    AnchorConfig a;
    INFO(name);
    CHECK(preset_anchors(name, a).ok());
    CHECK(validate_anchors(a).ok());
  }
  AnchorConfig a;
  CHECK(preset_anchors("fd1m-slim", a).ok());
  CHECK(a.levels.size() == 4);
  CHECK(a.levels[0].min_sizes == std::vector<int>{10, 16, 24});
  CHECK_FALSE(preset_anchors("", a).ok());
  CHECK(preset_anchors("mnet", a).code() == Errc::bad_anchor_config);
}

TEST_CASE("parse: detect defaults are the reference detect.py", "[cli][parse]") {
  DetectOptions o;
  REQUIRE(parse_detect_args(required_args(), o).ok());
  CHECK(o.loc_path == "l.npy");
  CHECK(o.conf_path == "c.npy");
  CHECK(o.landms_path == "m.npy");
  CHECK(o.out_path.empty());
  CHECK(o.input == InputSize{640, 480});
  CHECK(o.resize == 1.f);
  CHECK(o.repeat == 1);
  CHECK_FALSE(o.help);
  CHECK(o.params.score_threshold == 0.02f);
  CHECK(o.params.nms_threshold == 0.4);
  CHECK(o.params.iou == IouConvention::legacy_pixel);
  CHECK(o.params.top_k == 5000);
  CHECK(o.params.keep_top_k == 750);
  CHECK(o.params.score_format == ScoreFormat::probabilities);
  CHECK(o.anchors_name == "retinaface-mnet");
  const AnchorConfig mnet = to_anchor_config(presets::retinaface_mnet{});
  REQUIRE(o.anchors.levels.size() == mnet.levels.size());
  for (std::size_t k = 0; k < mnet.levels.size(); ++k) {
    CHECK(o.anchors.levels[k].step == mnet.levels[k].step);
    CHECK(o.anchors.levels[k].min_sizes == mnet.levels[k].min_sizes);
  }
  CHECK(o.anchors.variance.center == 0.1f);
  CHECK(o.anchors.variance.size == 0.2f);
  CHECK_FALSE(o.letterbox);
  CHECK(o.fit == LetterboxFit::integer);
  CHECK(o.anchor == LetterboxAnchor::centre);
  CHECK_FALSE(o.clip);
  ImageMapping m;
  REQUIRE(detect_mapping(o, m).ok());
  CHECK((m.scale_x == 1.f && m.scale_y == 1.f && m.pad_x == 0.f && m.pad_y == 0.f && !m.clip));
}

TEST_CASE("parse: --letterbox, --fit, --letterbox-anchor and --clip", "[cli][parse][letterbox]") {
  DetectOptions o;
  // 1920x1080 into the 640x480 input: resized 640x360 (integer), pads (0, 60).
  REQUIRE(parse_detect_args(with(required_args(), {"--letterbox", "1920x1080"}), o).ok());
  CHECK(o.letterbox);
  CHECK(o.original == InputSize{1920, 1080});
  CHECK(o.fit == LetterboxFit::integer);
  CHECK(o.anchor == LetterboxAnchor::centre);
  ImageMapping m;
  REQUIRE(detect_mapping(o, m).ok());
  const ImageMapping want = Letterbox::fit(1920, 1080, 640, 480).mapping();
  CHECK((m.scale_x == want.scale_x && m.scale_y == want.scale_y && m.pad_x == 0.f && m.pad_y == 60.f && !m.clip));

  REQUIRE(parse_detect_args(with(required_args(), {"--letterbox=1000x999", "--fit", "exact", "--letterbox-anchor",
                                                   "top-left", "--clip", "1000x999"}),
                            o)
              .ok());
  CHECK(o.fit == LetterboxFit::exact);
  CHECK(o.anchor == LetterboxAnchor::top_left);
  CHECK(o.clip);
  CHECK(o.clip_size == InputSize{1000, 999});
  REQUIRE(detect_mapping(o, m).ok());
  const ImageMapping exact = ImageMapping::letterbox_fit(1000, 999, 640, 480, LetterboxAnchor::top_left);
  CHECK((m.scale_x == exact.scale_x && m.scale_y == exact.scale_x && m.pad_x == 0.f && m.pad_y == 0.f));
  CHECK((m.clip && m.image_width == 1000.f && m.image_height == 999.f));

  REQUIRE(parse_detect_args(with(required_args(), {"--letterbox", "333x999", "--fit=integer",
                                                   "--letterbox-anchor=centre"}),
                            o)
              .ok());
  REQUIRE(detect_mapping(o, m).ok());
  const Letterbox lb = Letterbox::fit(333, 999, 640, 480);  // resized 160x480, pads (240, 0)
  CHECK((lb.resized_width == 160 && lb.resized_height == 480 && lb.pad_left == 240));
  CHECK((m.scale_x == lb.mapping().scale_x && m.scale_y == lb.mapping().scale_y && m.pad_x == 240.f));

  // --clip works with --resize (and alone) too.
  REQUIRE(parse_detect_args(with(required_args(), {"--resize", "0.5", "--clip", "1280x960"}), o).ok());
  REQUIRE(detect_mapping(o, m).ok());
  CHECK((m.scale_x == 0.5f && m.clip && m.image_width == 1280.f && m.image_height == 960.f));

  struct Bad {
    std::vector<std::string> extra;
    const char* says;
  };
  const std::vector<Bad> cases = {
      {{"--resize", "0.5", "--letterbox", "1920x1080"}, "give either --resize or --letterbox, not both"},
      {{"--fit", "exact"}, "--fit needs --letterbox WxH (the original image size)"},
      {{"--letterbox-anchor", "top-left"}, "--letterbox-anchor needs --letterbox WxH"},
      {{"--letterbox", "1920x1080", "--fit", "round"}, "--fit: 'round' is not integer or exact"},
      {{"--letterbox", "1920x1080", "--fit", ""}, "--fit: '' is not integer or exact"},
      {{"--letterbox", "1920x1080", "--letterbox-anchor", "center"}, "--letterbox-anchor: 'center' is not centre or top-left"},
      {{"--letterbox", "1920x1080", "--letterbox-anchor", "top_left"}, "is not centre or top-left"},
      {{"--letterbox", "0x1080"}, "--letterbox: '0x1080': width and height must be positive"},
      {{"--letterbox", "1920"}, "--letterbox: '1920' is not WIDTHxHEIGHT"},
      {{"--letterbox", "1920x1080", "--letterbox", "1x1"}, "option --letterbox given twice"},
      {{"--letterbox"}, "option --letterbox needs a value"},
      {{"--clip", "0x5"}, "--clip: '0x5': width and height must be positive"},
      {{"--clip", "-5x5"}, "negative"},
      {{"--clip"}, "option --clip needs a value"},
  };
  for (const Bad& b : cases) {
    const Status s = parse_detect_args(with(required_args(), b.extra), o);
    INFO(b.says << " / got: " << s.message());
    CHECK_FALSE(s.ok());
    CHECK(std::string(s.message()).find(b.says) != std::string::npos);
  }
  CHECK(parse_letterbox_fit("exact", "f", o.fit).ok());
  CHECK(o.fit == LetterboxFit::exact);
  CHECK(parse_letterbox_anchor("top-left", "a", o.anchor).ok());
  CHECK(o.anchor == LetterboxAnchor::top_left);
  CHECK_FALSE(parse_letterbox_anchor("Centre", "a", o.anchor).ok());
}

TEST_CASE("parse: every detect option is applied", "[cli][parse]") {
  DetectOptions o;
  const std::vector<std::string> args =
      with(required_args(), {"--resize", "0.4", "--min-sizes", "10,20;30", "--steps=4,8", "--variance", "0.2,0.3",
                             "--threshold", "0.5", "--nms=0.3", "--iou", "continuous", "--top-k", "0",
                             "--keep-top-k", "7", "--logits", "--out", "o.npy", "--repeat", "200"});
  const Status s = parse_detect_args(args, o);
  INFO(s.message());
  REQUIRE(s.ok());
  CHECK(o.resize == 0.4f);
  CHECK(o.anchors_name == "custom");
  REQUIRE(o.anchors.levels.size() == 2);
  CHECK(o.anchors.levels[0].step == 4);
  CHECK(o.anchors.levels[0].min_sizes == std::vector<int>{10, 20});
  CHECK(o.anchors.levels[1].step == 8);
  CHECK(o.anchors.levels[1].min_sizes == std::vector<int>{30});
  CHECK(o.anchors.variance.center == 0.2f);
  CHECK(o.anchors.variance.size == 0.3f);
  CHECK(o.params.score_threshold == 0.5f);
  CHECK(o.params.nms_threshold == 0.3);
  CHECK(o.params.iou == IouConvention::continuous);
  CHECK(o.params.top_k == 0);
  CHECK(o.params.keep_top_k == 7);
  CHECK(o.params.score_format == ScoreFormat::logits);
  CHECK(o.out_path == "o.npy");
  CHECK(o.repeat == 200);

  REQUIRE(parse_detect_args(with(required_args(), {"--preset", "fd1m-rfb"}), o).ok());
  CHECK(o.anchors_name == "fd1m-rfb");
  CHECK(o.anchors.levels.size() == 4);
  // --variance applies to a preset too.
  REQUIRE(parse_detect_args(with(required_args(), {"--preset", "fd1m-mnet", "--variance", "0.05,0.1"}), o).ok());
  CHECK(o.anchors.variance.center == 0.05f);

  REQUIRE(parse_detect_args({"--help"}, o).ok());
  CHECK(o.help);
  REQUIRE(parse_detect_args(with(required_args(), {"-h"}), o).ok());
  CHECK(o.help);
}

TEST_CASE("parse: detect refuses bad combinations", "[cli][parse]") {
  struct Bad {
    std::vector<std::string> extra;
    const char* says;
  };
  const std::vector<Bad> cases = {
      {{"--preset", "fd1m-slim", "--steps", "8"}, "not both"},
      {{"--min-sizes", "16"}, "--min-sizes needs --steps"},
      {{"--steps", "8"}, "--steps needs --min-sizes"},
      {{"--min-sizes", "16;32", "--steps", "8"}, "2 levels but --steps has 1"},
      {{"--repeat", "0"}, "at least 1"},
      {{"--repeat", "1000001"}, "out of range"},
      {{"--loc", "x.npy"}, "--loc given twice"},
      {{"--logits", "--logits"}, "--logits given twice"},
      {{"--resize"}, "needs a value"},
      {{"--out="}, "empty file name"},
      {{"--"}, "unexpected argument '--'"},
      {{"-"}, "unexpected argument '-'"},
      {{""}, "unexpected argument ''"},
      {{"--=5"}, "unknown option '--'"},
  };
  for (const Bad& b : cases) {
    DetectOptions o;
    const Status s = parse_detect_args(with(required_args(), b.extra), o);
    INFO(b.says << " / got: " << s.message());
    CHECK_FALSE(s.ok());
    CHECK(std::string(s.message()).find(b.says) != std::string::npos);
  }
  DetectOptions o;
  CHECK_FALSE(parse_detect_args({}, o).ok());
  CHECK(std::string(parse_detect_args({}, o).message()) == "missing required option --loc");
}

TEST_CASE("parse: show options", "[cli][parse]") {
  ShowOptions o;
  REQUIRE(parse_show_args({"d.npy"}, o).ok());
  CHECK(o.path == "d.npy");
  CHECK(o.max_rows == 20);
  REQUIRE(parse_show_args({"--max", "0", "d.npy"}, o).ok());
  CHECK(o.max_rows == 0);
  REQUIRE(parse_show_args({"d.npy", "--max=5"}, o).ok());
  CHECK(o.max_rows == 5);
  CHECK_FALSE(parse_show_args({}, o).ok());
  CHECK_FALSE(parse_show_args({"a.npy", "b.npy"}, o).ok());
  CHECK_FALSE(parse_show_args({"a.npy", "--max", "-2"}, o).ok());
  CHECK_FALSE(parse_show_args({"a.npy", "--max", "2", "--max", "3"}, o).ok());
  CHECK_FALSE(parse_show_args({"a.npy", "--max"}, o).ok());
  CHECK_FALSE(parse_show_args({"a.npy", "--all"}, o).ok());
  CHECK_FALSE(parse_show_args({""}, o).ok());
}

TEST_CASE("parse: random argument lists give a Status and, when accepted, valid options", "[cli][parse]") {
  // Tokens people (and fuzzers) type: every option, good and bad values, junk.
  const std::vector<std::string> tokens = {
      "--loc", "--conf", "--landms", "--input-size", "--resize", "--preset", "--min-sizes", "--steps", "--variance",
      "--threshold", "--nms", "--iou", "--top-k", "--keep-top-k", "--logits", "--out", "--repeat", "--help=",
      "--letterbox", "--fit", "--letterbox-anchor", "--clip", "integer", "exact", "centre", "top-left",
      "1920x1080", "--letterbox=1x1048576", "--clip=7x3",
      "a.npy", "640x480", "0x0", "1048576x1048576", "1e999", "-1", "0", "1", "0.5", "nan", "inf", "", "legacy",
      "continuous", "16,32;64,128", "8,16", "8,16,32", ";", ",", "0.1,0.2", "retinaface-mnet", "fd1m-slim",
      "99999999999999999999", "--threshold=0.3", "--top-k=-0", std::string(300, 'x'), "\n", "--steps=0"};
  std::mt19937 rng(12345);
  std::size_t accepted = 0;
  for (int trial = 0; trial < 20000; ++trial) {
    std::vector<std::string> args;
    if (rng() % 2) args = required_args();
    const std::size_t n = rng() % 8;
    for (std::size_t i = 0; i < n; ++i) args.push_back(tokens[rng() % tokens.size()]);
    std::shuffle(args.begin(), args.end(), rng);
    DetectOptions o;
    const Status s = parse_detect_args(args, o);
    if (!s.ok()) {
      CHECK(std::string(s.message()).size() > 0);
      CHECK(std::string(s.message()).find('\n') == std::string::npos);
      continue;
    }
    if (o.help) continue;
    ++accepted;
    std::size_t priors = 0;
    CHECK(validate_params(o.params).ok());
    CHECK(validate_anchors(o.anchors).ok());
    CHECK(validate_input_size(o.input).ok());
    CHECK(validate_mapping(ImageMapping::resize(o.resize)).ok());
    ImageMapping m;
    CHECK(detect_mapping(o, m).ok());
    CHECK(validate_mapping(m).ok());
    CHECK((!o.letterbox || o.resize == 1.f));
    CHECK(o.repeat >= 1);
    CHECK(o.repeat <= kMaxRepeat);
    CHECK_FALSE(o.loc_path.empty());
    const Status c = count_priors(o.anchors, o.input, priors);  // may refuse a size, never misbehave
    CHECK((c.ok() || c.code() == Errc::size_overflow));
  }
  CHECK(accepted > 0);
}
