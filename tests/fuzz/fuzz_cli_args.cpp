// fuzz_cli_args: the command-line tool's argument parsers (tools/cli.hpp) on arbitrary argument
// lists. The input is split on NUL bytes into argv strings.
//
// Checked on every input:
//  - no parser throws (they are noexcept: an escaping exception aborts) or has undefined
//    behaviour; a failure carries a code and a message of printable ASCII on one line (the tool
//    prints it as its one stderr line);
//  - accepted detect options are complete and valid (anchors, parameters, input size, resize or
//    letterbox, clip, the mapping they give, repeat, paths) and survive a round trip: printing them back as arguments and parsing again
//    gives the same options, bit for bit;
//  - each single-value parser (numbers, thresholds, counts, WxH, steps, min sizes, variance, IoU
//    convention, presets) accepts only values in its documented range, and what it accepts
//    round-trips through its printed form.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "cli.hpp"
#include "cli_families.hpp"
#include "fuzz_check.hpp"

namespace {

using facepost::Errc;
using facepost::Status;
namespace cli = facepost::cli;

void check_failure(const Status& s, const char* parser) {
  FUZZ_CHECK(!s.ok(), "%s: expected a failure", parser);
  const char* m = s.message();
  FUZZ_CHECK(m[0] != '\0', "%s: failure %s without a message", parser, facepost::errc_name(s.code()));
  for (const char* c = m; *c; ++c)
    FUZZ_CHECK(*c >= 0x20 && *c < 0x7f, "%s: message has byte 0x%02x: %s", parser, unsigned(static_cast<unsigned char>(*c)), m);
}

/// Checks a Status: on failure its message; returns ok().
bool checked(const Status& s, const char* parser) {
  if (!s.ok()) check_failure(s, parser);
  return s.ok();
}

std::string print_float(float v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", double(v));
  return buf;
}

std::string print_double(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

std::string join(const std::vector<int>& v, char sep) {
  std::string s;
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? std::string(1, sep) : std::string()) + std::to_string(v[i]);
  return s;
}

bool same_float(float a, float b) { return fuzz::same_bits(a, b); }
bool same_double(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

bool same_anchors(const facepost::AnchorConfig& a, const facepost::AnchorConfig& b) {
  if (a.levels.size() != b.levels.size() || a.clip != b.clip) return false;
  for (std::size_t k = 0; k < a.levels.size(); ++k)
    if (a.levels[k].step != b.levels[k].step || a.levels[k].min_sizes != b.levels[k].min_sizes) return false;
  return same_float(a.variance.center, b.variance.center) && same_float(a.variance.size, b.variance.size);
}

/// The arguments that say exactly what `o` says.
std::vector<std::string> as_arguments(const cli::DetectOptions& o) {
  std::vector<std::string> a = {"--loc", o.loc_path, "--conf", o.conf_path, "--landms", o.landms_path};
  a.push_back("--input-size=" + std::to_string(o.input.width) + "x" + std::to_string(o.input.height));
  const auto size = [](facepost::InputSize in) { return std::to_string(in.width) + "x" + std::to_string(in.height); };
  if (o.letterbox) {
    a.insert(a.end(), {"--letterbox", size(o.original), "--fit",
                       o.fit == cli::LetterboxFit::integer ? "integer" : "exact", "--letterbox-anchor",
                       o.anchor == facepost::LetterboxAnchor::centre ? "centre" : "top-left"});
  } else {
    a.push_back("--resize=" + print_float(o.resize));
  }
  if (o.clip) a.insert(a.end(), {"--clip", size(o.clip_size)});
  if (o.anchors_name == "custom") {
    std::string min_sizes;
    std::vector<int> steps;
    for (std::size_t k = 0; k < o.anchors.levels.size(); ++k) {
      min_sizes += (k ? ";" : "") + join(o.anchors.levels[k].min_sizes, ',');
      steps.push_back(o.anchors.levels[k].step);
    }
    a.insert(a.end(), {"--min-sizes", min_sizes, "--steps", join(steps, ',')});
  } else {
    a.insert(a.end(), {"--preset", o.anchors_name});
  }
  a.push_back("--variance=" + print_float(o.anchors.variance.center) + "," + print_float(o.anchors.variance.size));
  a.push_back("--threshold=" + print_float(o.params.score_threshold));
  a.push_back("--nms=" + print_double(o.params.nms_threshold));
  a.push_back(o.params.iou == facepost::IouConvention::legacy_pixel ? "--iou=legacy" : "--iou=continuous");
  a.push_back("--top-k=" + std::to_string(o.params.top_k));
  a.push_back("--keep-top-k=" + std::to_string(o.params.keep_top_k));
  a.push_back("--repeat=" + std::to_string(o.repeat));
  if (o.params.score_format == facepost::ScoreFormat::logits) a.push_back("--logits");
  if (!o.out_path.empty()) a.insert(a.end(), {"--out", o.out_path});
  return a;
}

void check_detect(const std::vector<std::string>& args) {
  cli::DetectOptions o;
  if (!checked(cli::parse_detect_args(args, o), "parse_detect_args") || o.help) return;
  FUZZ_CHECK(!o.loc_path.empty() && !o.conf_path.empty() && !o.landms_path.empty(), "an accepted path is empty");
  FUZZ_CHECK(facepost::validate_input_size(o.input).ok(), "accepted input %dx%d", o.input.width, o.input.height);
  FUZZ_CHECK(std::isfinite(o.resize) && o.resize > 0.f, "accepted resize %g", double(o.resize));
  FUZZ_CHECK(facepost::validate_mapping(facepost::ImageMapping::resize(o.resize)).ok(), "resize mapping refused");
  facepost::ImageMapping mapping;
  FUZZ_CHECK(cli::detect_mapping(o, mapping).ok() && facepost::validate_mapping(mapping).ok(),
             "accepted options give an invalid mapping");
  FUZZ_CHECK(!o.letterbox || (o.resize == 1.f && facepost::validate_input_size(o.original).ok()),
             "accepted --letterbox %dx%d with resize %g", o.original.width, o.original.height, double(o.resize));
  FUZZ_CHECK(!o.clip || facepost::validate_input_size(o.clip_size).ok(), "accepted --clip %dx%d", o.clip_size.width,
             o.clip_size.height);
  FUZZ_CHECK(facepost::validate_anchors(o.anchors).ok(), "accepted anchors are invalid");
  FUZZ_CHECK(facepost::validate_params(o.params).ok(), "accepted parameters are invalid");
  FUZZ_CHECK(o.repeat >= 1 && o.repeat <= cli::kMaxRepeat, "accepted repeat %zu", o.repeat);
  std::size_t priors = 0;
  const Status count = facepost::count_priors(o.anchors, o.input, priors);
  FUZZ_CHECK(count.ok() || count.code() == Errc::size_overflow, "count_priors on accepted options: %s",
             count.message());

  const std::vector<std::string> again_args = as_arguments(o);
  cli::DetectOptions again;
  const Status s = cli::parse_detect_args(again_args, again);
  FUZZ_CHECK(s.ok(), "printed options were refused: %s", s.message());
  FUZZ_CHECK(again.loc_path == o.loc_path && again.conf_path == o.conf_path && again.landms_path == o.landms_path &&
                 again.out_path == o.out_path,
             "paths changed in the round trip");
  FUZZ_CHECK(again.input == o.input && same_float(again.resize, o.resize), "input size or resize changed");
  FUZZ_CHECK(again.letterbox == o.letterbox && again.original == o.original && again.fit == o.fit &&
                 again.anchor == o.anchor && again.clip == o.clip && again.clip_size == o.clip_size,
             "letterbox or clip changed in the round trip");
  FUZZ_CHECK(again.anchors_name == o.anchors_name && same_anchors(again.anchors, o.anchors), "anchors changed");
  const facepost::Params &p = o.params, &q = again.params;
  FUZZ_CHECK(same_float(p.score_threshold, q.score_threshold) && same_double(p.nms_threshold, q.nms_threshold) &&
                 p.iou == q.iou && p.score_format == q.score_format && p.top_k == q.top_k &&
                 p.keep_top_k == q.keep_top_k && again.repeat == o.repeat,
             "parameters changed in the round trip");
}

/// `detect --family F`: take_family, then the family parser; accepted options are valid.
void check_family_detect(std::vector<std::string> args) {
  cli::Family family;
  if (!checked(cli::take_family(args, family), "take_family") || family == cli::Family::retinaface) return;
  cli::FamilyDetectOptions o;
  if (!checked(cli::parse_family_detect_args(family, args, o), "parse_family_detect_args") || o.help) return;
  FUZZ_CHECK(!o.inputs.empty(), "a family run accepted no inputs");
  for (const auto& in : o.inputs) FUZZ_CHECK(!in.second.empty(), "an accepted path is empty (%s)", in.first.c_str());
  FUZZ_CHECK(facepost::validate_input_size(o.mapping.input).ok(), "accepted input %dx%d", o.mapping.input.width,
             o.mapping.input.height);
  FUZZ_CHECK(o.threshold >= 0.f && o.threshold <= 1.f, "accepted threshold %g", double(o.threshold));
  FUZZ_CHECK(o.nms_threshold >= 0.0 && o.nms_threshold <= 1.0, "accepted NMS threshold %g", o.nms_threshold);
  facepost::ImageMapping m;
  FUZZ_CHECK(cli::detect_mapping(o.mapping, m).ok(), "an accepted mapping is refused");
  FUZZ_CHECK(o.repeat >= 1, "accepted repeat 0");
}

void check_show(const std::vector<std::string>& args) {
  cli::ShowOptions o;
  if (!checked(cli::parse_show_args(args, o), "parse_show_args") || o.help) return;
  FUZZ_CHECK(!o.path.empty(), "show accepted an empty path");
}

void check_values(const std::string& text, const std::string& other) {
  float f = 0.f;
  if (checked(cli::parse_float(text, "fuzz", f), "parse_float")) {
    FUZZ_CHECK(std::isfinite(f), "parse_float accepted %g", double(f));
    float g = 0.f;
    const Status s = cli::parse_float(print_float(f), "fuzz", g);
    FUZZ_CHECK(s.ok() && same_float(f, g), "parse_float('%s') = %.9g does not round-trip: %s", print_float(f).c_str(),
               double(f), s.message());
  }
  double d = 0.0;
  if (checked(cli::parse_double(text, "fuzz", d), "parse_double")) {
    FUZZ_CHECK(std::isfinite(d), "parse_double accepted %g", d);
    double e = 0.0;
    const Status s = cli::parse_double(print_double(d), "fuzz", e);
    FUZZ_CHECK(s.ok() && same_double(d, e), "parse_double of %.17g does not round-trip: %s", d, s.message());
  }
  if (checked(cli::parse_score_threshold(text, "fuzz", f), "parse_score_threshold"))
    FUZZ_CHECK(f >= 0.f && f <= 1.f, "score threshold %g accepted", double(f));
  if (checked(cli::parse_iou_threshold(text, "fuzz", d), "parse_iou_threshold"))
    FUZZ_CHECK(d >= 0.0 && d <= 1.0, "IoU threshold %g accepted", d);

  const std::uint64_t max = text.size() % 2 ? cli::kMaxRepeat : std::numeric_limits<std::uint64_t>::max();
  std::uint64_t n = 0;
  if (checked(cli::parse_count(text, "fuzz", max, n), "parse_count")) {
    FUZZ_CHECK(n <= max, "count %llu > max", static_cast<unsigned long long>(n));
    std::uint64_t m = 0;
    FUZZ_CHECK(cli::parse_count(std::to_string(n), "fuzz", max, m).ok() && m == n, "count does not round-trip");
  }

  facepost::InputSize in{};
  if (checked(cli::parse_input_size(text, "fuzz", in), "parse_input_size")) {
    FUZZ_CHECK(facepost::validate_input_size(in).ok(), "input size %dx%d accepted", in.width, in.height);
    facepost::InputSize again{};
    FUZZ_CHECK(cli::parse_input_size(std::to_string(in.width) + "x" + std::to_string(in.height), "fuzz", again).ok() &&
                   again == in,
               "input size does not round-trip");
  }

  std::vector<int> steps;
  if (checked(cli::parse_steps(text, "fuzz", steps), "parse_steps")) {
    FUZZ_CHECK(!steps.empty(), "no steps accepted");
    for (int s : steps) FUZZ_CHECK(s >= 1 && s <= facepost::kMaxInputSide, "step %d accepted", s);
    std::vector<int> again;
    FUZZ_CHECK(cli::parse_steps(join(steps, ','), "fuzz", again).ok() && again == steps, "steps do not round-trip");
  }

  std::vector<std::vector<int>> levels;
  if (checked(cli::parse_min_sizes(text, "fuzz", levels), "parse_min_sizes")) {
    FUZZ_CHECK(!levels.empty(), "no levels accepted");
    std::string printed;
    for (std::size_t k = 0; k < levels.size(); ++k) {
      FUZZ_CHECK(!levels[k].empty(), "empty level %zu accepted", k);
      for (int m : levels[k]) FUZZ_CHECK(m >= 1 && m <= facepost::kMaxInputSide, "min size %d accepted", m);
      printed += (k ? ";" : "") + join(levels[k], ',');
    }
    std::vector<std::vector<int>> again;
    FUZZ_CHECK(cli::parse_min_sizes(printed, "fuzz", again).ok() && again == levels, "min sizes do not round-trip");
  }

  facepost::Variance v;
  if (checked(cli::parse_variance(text, "fuzz", v), "parse_variance")) {
    facepost::AnchorConfig c = facepost::to_anchor_config(facepost::presets::retinaface_mnet{});
    c.variance = v;
    FUZZ_CHECK(facepost::validate_anchors(c).ok(), "variance (%g, %g) accepted", double(v.center), double(v.size));
  }

  facepost::IouConvention iou;
  if (checked(cli::parse_iou_convention(text, "fuzz", iou), "parse_iou_convention"))
    FUZZ_CHECK(text == "legacy" || text == "continuous", "IoU convention '%s' accepted", text.c_str());

  facepost::AnchorConfig anchors;
  if (checked(cli::preset_anchors(text, anchors), "preset_anchors"))
    FUZZ_CHECK(facepost::validate_anchors(anchors).ok(), "preset '%s' is invalid", text.c_str());
  if (checked(cli::custom_anchors(text, other, anchors), "custom_anchors"))
    FUZZ_CHECK(facepost::validate_anchors(anchors).ok() && anchors.levels.size() == levels.size(),
               "custom anchors accepted but invalid");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<std::string> args(1);
  for (std::size_t i = 0; i < size; ++i) {
    if (data[i] == 0) args.emplace_back();
    else args.back() += char(data[i]);
  }
  check_detect(args);
  check_family_detect(args);
  check_show(args);
  // Every string through every single-value parser: cheap, and the separators (',', ';', 'x')
  // make one string meaningful to several of them.
  for (std::size_t i = 0; i < args.size() && i < 8; ++i) check_values(args[i], args[(i + 1) % args.size()]);
  return 0;
}
