// tools/cli.hpp - argument parsing for the facepost command-line tool.
//
// Pure functions: no I/O, no exceptions escape (every one is noexcept and turns an allocation
// failure into a Status), no undefined behaviour on any input - so the CLI, its tests and a
// fuzzer can all call them directly. Every `what` argument is a non-null label for messages.
#pragma once

#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <new>
#include <string>
#include <system_error>
#include <iterator>
#include <vector>

#include "facepost/facepost.hpp"

namespace facepost {
namespace cli {

/// Names accepted by --preset, in the order the usage text lists them.
inline const std::vector<std::string>& preset_names() {
  static const std::vector<std::string> names = {"retinaface-mnet", "retinaface-r50", "fd1m-mnet", "fd1m-slim",
                                                 "fd1m-rfb"};
  return names;
}

/// Most timed runs --repeat accepts (the tool keeps one time per run).
constexpr std::uint64_t kMaxRepeat = 1000000;

/// How the letterbox of --letterbox was made (--fit).
enum class LetterboxFit {
  integer,  ///< resized size rounded to integers, integer padding (cv::resize pipelines): Letterbox::fit
  exact,    ///< one exact scale, fractional padding (an affine warp): ImageMapping::letterbox_fit
};

/// Everything `facepost detect` needs, resolved and validated.
struct DetectOptions {
  std::string loc_path, conf_path, landms_path;
  std::string out_path;                   ///< empty: no output file
  InputSize input{};                      ///< network input size (what the priors are built for)
  float resize = 1.f;                     ///< input = original x resize (without --letterbox)
  bool letterbox = false;                 ///< --letterbox given: the input holds `original` letterboxed
  InputSize original{};                   ///< --letterbox WxH: the original image size
  LetterboxFit fit = LetterboxFit::integer;                ///< --fit
  LetterboxAnchor anchor = LetterboxAnchor::centre;        ///< --letterbox-anchor (Letterbox::fit's default)
  bool clip = false;                      ///< --clip WxH given
  InputSize clip_size{};                  ///< clamp detections to [0, W] x [0, H]
  std::string anchors_name = "retinaface-mnet";  ///< the preset, or "custom" (--min-sizes/--steps)
  AnchorConfig anchors;                   ///< levels and variance actually used
  Params params;                          ///< defaults = the reference detect.py
  std::size_t repeat = 1;                 ///< timed runs
  bool help = false;                      ///< --help was given: print usage, nothing else is checked
};

/// Everything `facepost show` needs.
struct ShowOptions {
  std::string path;
  std::size_t max_rows = 20;  ///< rows printed; 0 = all
  bool help = false;
};

namespace detail {

/// A value as it may appear inside a one-line error message: printable ASCII only, and short.
inline std::string shown(const std::string& s) {
  constexpr std::size_t kMax = 40;
  std::string out;
  for (std::size_t i = 0; i < s.size() && i < kMax; ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    out += (c >= 0x20 && c < 0x7f) ? char(c) : '?';
  }
  if (s.size() > kMax) out += "...";
  return out;
}

inline bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

/// Full-string check of a plain decimal number: [+-] digits [. digits] [e [+-] digits], with at
/// least one digit in the mantissa. Rejects "nan", "inf", hex floats, spaces, empty text.
inline bool is_decimal(const std::string& s) noexcept {
  std::size_t p = 0;
  const std::size_t n = s.size();
  if (p < n && (s[p] == '+' || s[p] == '-')) ++p;
  std::size_t digits = 0;
  while (p < n && is_digit(s[p])) ++p, ++digits;
  if (p < n && s[p] == '.') {
    ++p;
    while (p < n && is_digit(s[p])) ++p, ++digits;
  }
  if (digits == 0) return false;
  if (p < n && (s[p] == 'e' || s[p] == 'E')) {
    ++p;
    if (p < n && (s[p] == '+' || s[p] == '-')) ++p;
    std::size_t exp_digits = 0;
    while (p < n && is_digit(s[p])) ++p, ++exp_digits;
    if (exp_digits == 0) return false;
  }
  return p == n;
}

/// Parses a checked decimal with from_chars (locale-independent, unlike strtod).
template <class T>
Status parse_real(const std::string& text, const char* what, T& out) noexcept {
  try {
    if (!is_decimal(text))
      return Status::failure(Errc::bad_argument, "%s: '%s' is not a number", what, shown(text).c_str());
    const char* first = text.data();
    const char* last = text.data() + text.size();
    if (*first == '+') ++first;  // from_chars takes '-' but not '+'
    T value{};
    const std::from_chars_result r = std::from_chars(first, last, value);
    if (r.ec == std::errc::result_out_of_range || (r.ec == std::errc() && !std::isfinite(value)))
      return Status::failure(Errc::bad_argument, "%s: '%s' is out of range", what, shown(text).c_str());
    if (r.ec != std::errc() || r.ptr != last)
      return Status::failure(Errc::bad_argument, "%s: '%s' is not a number", what, shown(text).c_str());
    out = value;
    return Status{};
  } catch (const std::bad_alloc&) {
    return Status::failure(Errc::bad_argument, "%s: out of memory", what);
  }
}

/// Splits on one separator; "a,,b" gives an empty middle part, "" gives one empty part.
inline std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (;;) {
    const std::size_t at = s.find(sep, start);
    if (at == std::string::npos) {
      parts.push_back(s.substr(start));
      return parts;
    }
    parts.push_back(s.substr(start, at - start));
    start = at + 1;
  }
}

}  // namespace detail

/// A float32 number: the whole string must be a finite decimal ("0.5", "-1e-3"; not "nan",
/// "inf", "0x1p3", " 1", "1 ", "").
inline Status parse_float(const std::string& text, const char* what, float& out) noexcept {
  return detail::parse_real(text, what, out);
}

/// A double: same rules as parse_float.
inline Status parse_double(const std::string& text, const char* what, double& out) noexcept {
  return detail::parse_real(text, what, out);
}

/// A score threshold: a float32 in [0, 1].
inline Status parse_score_threshold(const std::string& text, const char* what, float& out) noexcept {
  float v = 0.f;
  Status s = parse_float(text, what, v);
  if (!s.ok()) return s;
  if (!(v >= 0.f && v <= 1.f))
    return Status::failure(Errc::bad_threshold, "%s: %g is outside [0, 1]", what, double(v));
  out = v;
  return s;
}

/// An IoU threshold: a double in [0, 1].
inline Status parse_iou_threshold(const std::string& text, const char* what, double& out) noexcept {
  double v = 0.0;
  Status s = parse_double(text, what, v);
  if (!s.ok()) return s;
  if (!(v >= 0.0 && v <= 1.0)) return Status::failure(Errc::bad_threshold, "%s: %g is outside [0, 1]", what, v);
  out = v;
  return s;
}

/// An unsigned integer in [0, max]: digits only (an optional leading '+'); negative values,
/// overflow and anything else are refused with a message saying which.
inline Status parse_count(const std::string& text, const char* what, std::uint64_t max, std::uint64_t& out) noexcept {
  try {
    const char* first = text.data();
    const char* last = text.data() + text.size();
    if (first != last && *first == '-') {
      bool digits = last - first > 1;
      for (const char* c = first + 1; c != last; ++c) digits = digits && detail::is_digit(*c);
      return Status::failure(Errc::bad_argument, digits ? "%s: '%s' is negative" : "%s: '%s' is not an integer", what,
                             detail::shown(text).c_str());
    }
    if (first != last && *first == '+') ++first;
    bool digits = first != last;
    for (const char* c = first; c != last; ++c) digits = digits && detail::is_digit(*c);
    if (!digits)
      return Status::failure(Errc::bad_argument, "%s: '%s' is not an integer", what, detail::shown(text).c_str());
    std::uint64_t v = 0;
    const std::from_chars_result r = std::from_chars(first, last, v);
    if (r.ec != std::errc() || r.ptr != last || v > max)
      return Status::failure(Errc::bad_argument, "%s: '%s' is out of range [0, %llu]", what,
                             detail::shown(text).c_str(), static_cast<unsigned long long>(max));
    out = v;
    return Status{};
  } catch (const std::bad_alloc&) {
    return Status::failure(Errc::bad_argument, "%s: out of memory", what);
  }
}

namespace detail {

/// Comma-separated integers in [1, max].
inline Status parse_positive_list(const std::string& text, const char* what, int max, std::vector<int>& out) {
  out.clear();
  const std::vector<std::string> parts = split(text, ',');
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (parts[i].empty())
      return Status::failure(Errc::bad_argument, "%s: '%s' has an empty entry (expected numbers like 8,16,32)", what,
                             shown(text).c_str());
    const std::string what_entry = std::string(what) + " entry " + std::to_string(i + 1);
    std::uint64_t v = 0;
    Status s = parse_count(parts[i], what_entry.c_str(), std::uint64_t(max), v);
    if (!s.ok()) return s;
    if (v == 0) return Status::failure(Errc::bad_argument, "%s: must be positive, got 0", what_entry.c_str());
    out.push_back(int(v));
  }
  return Status{};
}

}  // namespace detail

/// "WxH" (or "WXH"): both sides integers in [1, kMaxInputSide].
inline Status parse_input_size(const std::string& text, const char* what, InputSize& out) noexcept {
  try {
    std::size_t at = text.find_first_of("xX");
    if (at == std::string::npos || text.find_first_of("xX", at + 1) != std::string::npos)
      return Status::failure(Errc::bad_argument, "%s: '%s' is not WIDTHxHEIGHT (e.g. 1024x768)", what,
                             detail::shown(text).c_str());
    std::uint64_t w = 0, h = 0;
    Status s = parse_count(text.substr(0, at), (std::string(what) + " width").c_str(), std::uint64_t(kMaxInputSide), w);
    if (!s.ok()) return s;
    s = parse_count(text.substr(at + 1), (std::string(what) + " height").c_str(), std::uint64_t(kMaxInputSide), h);
    if (!s.ok()) return s;
    if (w == 0 || h == 0)
      return Status::failure(Errc::bad_size, "%s: '%s': width and height must be positive", what,
                             detail::shown(text).c_str());
    out = InputSize{int(w), int(h)};
    return s;
  } catch (const std::bad_alloc&) {
    return Status::failure(Errc::bad_argument, "%s: out of memory", what);
  }
}

/// Anchor steps, one per level: "8,16,32"; each in [1, kMaxInputSide].
inline Status parse_steps(const std::string& text, const char* what, std::vector<int>& out) noexcept {
  try {
    return detail::parse_positive_list(text, what, kMaxInputSide, out);
  } catch (const std::bad_alloc&) {
    return Status::failure(Errc::bad_argument, "%s: out of memory", what);
  }
}

/// Min sizes per level: levels separated by ';', sizes within a level by ',':
/// "16,32;64,128;256,512". Every level needs at least one size; sizes in [1, kMaxInputSide].
inline Status parse_min_sizes(const std::string& text, const char* what, std::vector<std::vector<int>>& out) noexcept {
  try {
    out.clear();
    const std::vector<std::string> levels = detail::split(text, ';');
    for (std::size_t k = 0; k < levels.size(); ++k) {
      if (levels[k].empty())
        return Status::failure(Errc::bad_anchor_config, "%s: level %zu of '%s' is empty (expected e.g. 16,32;64,128)",
                               what, k + 1, detail::shown(text).c_str());
      const std::string what_level = std::string(what) + " level " + std::to_string(k + 1);
      std::vector<int> sizes;
      Status s = detail::parse_positive_list(levels[k], what_level.c_str(), kMaxInputSide, sizes);
      if (!s.ok()) return s;
      out.push_back(std::move(sizes));
    }
    return Status{};
  } catch (const std::bad_alloc&) {
    return Status::failure(Errc::bad_argument, "%s: out of memory", what);
  }
}

/// Box variances "center,size": two finite positive numbers.
inline Status parse_variance(const std::string& text, const char* what, Variance& out) noexcept {
  try {
    const std::vector<std::string> parts = detail::split(text, ',');
    if (parts.size() != 2)
      return Status::failure(Errc::bad_variance, "%s: '%s' must be two numbers, center,size (e.g. 0.1,0.2)", what,
                             detail::shown(text).c_str());
    Variance v;
    Status s = parse_float(parts[0], what, v.center);
    if (s.ok()) s = parse_float(parts[1], what, v.size);
    if (!s.ok()) return s;
    if (!(v.center > 0.f && v.size > 0.f))
      return Status::failure(Errc::bad_variance, "%s: '%s': both variances must be positive", what,
                             detail::shown(text).c_str());
    out = v;
    return s;
  } catch (const std::bad_alloc&) {
    return Status::failure(Errc::bad_argument, "%s: out of memory", what);
  }
}

/// "legacy" (py_cpu_nms, +1 pixel widths) or "continuous" (torchvision.ops.nms).
inline Status parse_iou_convention(const std::string& text, const char* what, IouConvention& out) noexcept {
  if (text == "legacy") {
    out = IouConvention::legacy_pixel;
    return Status{};
  }
  if (text == "continuous") {
    out = IouConvention::continuous;
    return Status{};
  }
  try {
    return Status::failure(Errc::bad_argument, "%s: '%s' is not legacy or continuous", what,
                           detail::shown(text).c_str());
  } catch (const std::bad_alloc&) {
    return Status::failure(Errc::bad_argument, "%s: unknown IoU convention", what);
  }
}

/// "integer" or "exact" (--fit).
inline Status parse_letterbox_fit(const std::string& text, const char* what, LetterboxFit& out) noexcept {
  if (text == "integer" || text == "exact") {
    out = text == "integer" ? LetterboxFit::integer : LetterboxFit::exact;
    return Status{};
  }
  try {
    return Status::failure(Errc::bad_argument, "%s: '%s' is not integer or exact", what, detail::shown(text).c_str());
  } catch (const std::bad_alloc&) {
    return Status::failure(Errc::bad_argument, "%s: unknown fit", what);
  }
}

/// "centre" or "top-left" (--letterbox-anchor).
inline Status parse_letterbox_anchor(const std::string& text, const char* what, LetterboxAnchor& out) noexcept {
  if (text == "centre" || text == "top-left") {
    out = text == "centre" ? LetterboxAnchor::centre : LetterboxAnchor::top_left;
    return Status{};
  }
  try {
    return Status::failure(Errc::bad_argument, "%s: '%s' is not centre or top-left", what,
                           detail::shown(text).c_str());
  } catch (const std::bad_alloc&) {
    return Status::failure(Errc::bad_argument, "%s: unknown anchor", what);
  }
}

/// The mapping `facepost detect` runs with: --letterbox (integer: Letterbox::fit(...).mapping(),
/// exact: ImageMapping::letterbox_fit) or --resize, then --clip. Fails as the library does on
/// sizes it refuses.
inline Status detect_mapping(const DetectOptions& o, ImageMapping& out) noexcept {
  ImageMapping m = ImageMapping::resize(o.resize);
  if (o.letterbox) {
    const InputSize& a = o.original;
    if (o.fit == LetterboxFit::integer) {
      Letterbox lb;
      Status s = Letterbox::try_fit(a.width, a.height, o.input.width, o.input.height, o.anchor, lb);
      if (!s.ok()) return s;
      m = lb.mapping();
    } else {
      Status s = validate_letterbox_sizes(a.width, a.height, o.input.width, o.input.height);
      if (!s.ok()) return s;
      m = ImageMapping::letterbox_fit(a.width, a.height, o.input.width, o.input.height, o.anchor);
    }
  }
  if (o.clip) m.clip_to(float(o.clip_size.width), float(o.clip_size.height));
  Status s = validate_mapping(m);
  if (s.ok()) out = m;
  return s;
}

/// The anchor configuration of a named preset (see preset_names()).
inline Status preset_anchors(const std::string& name, AnchorConfig& out) noexcept {
  try {
    if (name == "retinaface-mnet") out = to_anchor_config(presets::retinaface_mnet{});
    else if (name == "retinaface-r50") out = to_anchor_config(presets::retinaface_r50{});
    else if (name == "fd1m-mnet") out = to_anchor_config(presets::fd1m_mnet{});
    else if (name == "fd1m-slim") out = to_anchor_config(presets::fd1m_slim{});
    else if (name == "fd1m-rfb") out = to_anchor_config(presets::fd1m_rfb{});
    else
      return Status::failure(Errc::bad_anchor_config,
                             "--preset: unknown preset '%s' (use retinaface-mnet, retinaface-r50, fd1m-mnet, "
                             "fd1m-slim or fd1m-rfb, or --min-sizes with --steps)",
                             detail::shown(name).c_str());
    return Status{};
  } catch (const std::bad_alloc&) {
    return Status::failure(Errc::bad_argument, "--preset: out of memory");
  }
}

/// Anchor levels from --min-sizes and --steps (same number of levels).
inline Status custom_anchors(const std::string& min_sizes_text, const std::string& steps_text, AnchorConfig& out) noexcept {
  try {
    std::vector<std::vector<int>> min_sizes;
    std::vector<int> steps;
    Status s = parse_min_sizes(min_sizes_text, "--min-sizes", min_sizes);
    if (s.ok()) s = parse_steps(steps_text, "--steps", steps);
    if (!s.ok()) return s;
    if (min_sizes.size() != steps.size())
      return Status::failure(Errc::bad_anchor_config, "--min-sizes has %zu levels but --steps has %zu", min_sizes.size(),
                             steps.size());
    AnchorConfig c;
    for (std::size_t k = 0; k < steps.size(); ++k) c.levels.push_back(AnchorLevel{steps[k], std::move(min_sizes[k])});
    out = std::move(c);
    return s;
  } catch (const std::bad_alloc&) {
    return Status::failure(Errc::bad_argument, "--min-sizes: out of memory");
  }
}

namespace detail {

/// Splits "--name=value" into name and value; "--name" alone has no inline value.
inline void split_option(const std::string& arg, std::string& name, std::string& value, bool& has_value) {
  const std::size_t eq = arg.find('=');
  has_value = eq != std::string::npos;
  name = has_value ? arg.substr(0, eq) : arg;
  value = has_value ? arg.substr(eq + 1) : std::string();
}

/// What scan_options found: per valued option its value and whether it was given, the flag set,
/// and whether --help / -h asked for the usage (the scan stops there).
struct ScannedOptions {
  std::vector<std::string> value;
  std::vector<bool> has;
  bool flag = false;
  bool help = false;
};

/// The scan every `detect` parser shares: "--name value" or "--name=value" for `names`, the
/// value-less `flag` (nullptr: none), -h / --help. Refuses stray arguments, repeated options and
/// missing values; an unknown name gets unknown(name)'s Status.
template <class Unknown>
Status scan_options(const std::vector<std::string>& args, const std::vector<std::string>& names, const char* flag,
                    Unknown&& unknown, ScannedOptions& out) {
  out = ScannedOptions{};
  out.value.resize(names.size());
  out.has.assign(names.size(), false);
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "-h") {
      out.help = true;
      return Status{};
    }
    if (arg.size() < 3 || arg[0] != '-' || arg[1] != '-')
      return Status::failure(Errc::bad_argument, "unexpected argument '%s' (options start with --)", shown(arg).c_str());
    std::string name, value;
    bool inline_value = false;
    split_option(arg, name, value, inline_value);
    if (name == "--help") {
      out.help = true;
      return Status{};
    }
    if (flag != nullptr && name == flag) {
      if (inline_value) return Status::failure(Errc::bad_argument, "option %s takes no value", flag);
      if (out.flag) return Status::failure(Errc::bad_argument, "option %s given twice", flag);
      out.flag = true;
      continue;
    }
    std::size_t k = 0;
    while (k < names.size() && name != names[k]) ++k;
    if (k == names.size()) return unknown(name);
    if (out.has[k]) return Status::failure(Errc::bad_argument, "option %s given twice", names[k].c_str());
    if (!inline_value) {
      if (i + 1 >= args.size()) return Status::failure(Errc::bad_argument, "option %s needs a value", names[k].c_str());
      value = args[++i];
    }
    out.has[k] = true;
    out.value[k] = std::move(value);
  }
  return Status{};
}

}  // namespace detail

/// Parses the arguments after `facepost detect` (options in any order, "--name value" or
/// "--name=value"). On success `out` is complete and valid; on failure the Status names the
/// problem in one line and `out` is unspecified.
inline Status parse_detect_args(const std::vector<std::string>& args, DetectOptions& out) noexcept {
  try {
    out = DetectOptions{};
    enum Option : std::size_t {
      kLoc, kConf, kLandms, kInputSize, kResize, kLetterbox, kFit, kLetterboxAnchor, kClip, kPreset, kMinSizes,
      kSteps, kVariance, kThreshold, kNms, kIou, kTopK, kKeepTopK, kOut, kRepeat, kNumOptions
    };
    static const char* const kNames[kNumOptions] = {
        "--loc", "--conf", "--landms", "--input-size", "--resize", "--letterbox", "--fit", "--letterbox-anchor",
        "--clip", "--preset", "--min-sizes", "--steps", "--variance", "--threshold", "--nms", "--iou", "--top-k",
        "--keep-top-k", "--out", "--repeat"};
    detail::ScannedOptions scan;
    Status scanned = detail::scan_options(
        args, std::vector<std::string>(std::begin(kNames), std::end(kNames)), "--logits",
        [](const std::string& name) {
          return Status::failure(Errc::bad_argument, "unknown option '%s' (see facepost --help)",
                                 detail::shown(name).c_str());
        },
        scan);
    if (!scanned.ok() || scan.help) {
      out.help = scan.help;
      return scanned;
    }
    const std::vector<std::string>& value_of = scan.value;
    const std::vector<bool>& has = scan.has;
    const bool logits = scan.flag;

    for (Option required : {kLoc, kConf, kLandms, kInputSize})
      if (!has[required]) return Status::failure(Errc::bad_argument, "missing required option %s", kNames[required]);
    for (Option path : {kLoc, kConf, kLandms, kOut})
      if (has[path] && value_of[path].empty())
        return Status::failure(Errc::bad_argument, "option %s: empty file name", kNames[path]);
    out.loc_path = value_of[kLoc];
    out.conf_path = value_of[kConf];
    out.landms_path = value_of[kLandms];
    out.out_path = value_of[kOut];

    Status s = parse_input_size(value_of[kInputSize], "--input-size", out.input);
    if (!s.ok()) return s;
    if (has[kResize]) {
      s = parse_float(value_of[kResize], "--resize", out.resize);
      if (!s.ok()) return s;
      if (!(out.resize > 0.f))
        return Status::failure(Errc::bad_mapping, "--resize: %g must be positive", double(out.resize));
    }

    // The mapping: --resize or --letterbox WxH (with --fit, --letterbox-anchor), then --clip WxH.
    if (has[kResize] && has[kLetterbox])
      return Status::failure(Errc::bad_argument, "give either --resize or --letterbox, not both");
    for (Option needs_letterbox : {kFit, kLetterboxAnchor})
      if (has[needs_letterbox] && !has[kLetterbox])
        return Status::failure(Errc::bad_argument, "%s needs --letterbox WxH (the original image size)",
                               kNames[needs_letterbox]);
    if (has[kLetterbox]) {
      s = parse_input_size(value_of[kLetterbox], "--letterbox", out.original);
      if (s.ok() && has[kFit]) s = parse_letterbox_fit(value_of[kFit], "--fit", out.fit);
      if (s.ok() && has[kLetterboxAnchor])
        s = parse_letterbox_anchor(value_of[kLetterboxAnchor], "--letterbox-anchor", out.anchor);
      if (!s.ok()) return s;
      out.letterbox = true;
    }
    if (has[kClip]) {
      s = parse_input_size(value_of[kClip], "--clip", out.clip_size);
      if (!s.ok()) return s;
      out.clip = true;
    }
    ImageMapping mapping;
    s = detect_mapping(out, mapping);
    if (!s.ok()) return s;

    // Anchors: a preset, or explicit levels; never both.
    if (has[kPreset] && (has[kMinSizes] || has[kSteps]))
      return Status::failure(Errc::bad_argument, "give either --preset or --min-sizes with --steps, not both");
    if (has[kMinSizes] && !has[kSteps])
      return Status::failure(Errc::bad_argument, "--min-sizes needs --steps (one step per level)");
    if (has[kSteps] && !has[kMinSizes])
      return Status::failure(Errc::bad_argument, "--steps needs --min-sizes (one list of sizes per level)");
    if (has[kMinSizes]) {
      s = custom_anchors(value_of[kMinSizes], value_of[kSteps], out.anchors);
      out.anchors_name = "custom";
    } else {
      if (has[kPreset]) out.anchors_name = value_of[kPreset];
      s = preset_anchors(out.anchors_name, out.anchors);
    }
    if (!s.ok()) return s;
    if (has[kVariance]) {
      s = parse_variance(value_of[kVariance], "--variance", out.anchors.variance);
      if (!s.ok()) return s;
    }
    s = validate_anchors(out.anchors);
    if (!s.ok()) return s;

    Params& p = out.params;
    if (has[kThreshold]) {
      s = parse_score_threshold(value_of[kThreshold], "--threshold", p.score_threshold);
      if (!s.ok()) return s;
    }
    if (has[kNms]) {
      s = parse_iou_threshold(value_of[kNms], "--nms", p.nms_threshold);
      if (!s.ok()) return s;
    }
    if (has[kIou]) {
      s = parse_iou_convention(value_of[kIou], "--iou", p.iou);
      if (!s.ok()) return s;
    }
    constexpr std::uint64_t kMaxCount = std::numeric_limits<std::size_t>::max();
    std::uint64_t count = 0;
    if (has[kTopK]) {
      s = parse_count(value_of[kTopK], "--top-k", kMaxCount, count);
      if (!s.ok()) return s;
      p.top_k = std::size_t(count);
    }
    if (has[kKeepTopK]) {
      s = parse_count(value_of[kKeepTopK], "--keep-top-k", kMaxCount, count);
      if (!s.ok()) return s;
      p.keep_top_k = std::size_t(count);
    }
    if (logits) p.score_format = ScoreFormat::logits;
    s = validate_params(p);
    if (!s.ok()) return s;

    if (has[kRepeat]) {
      s = parse_count(value_of[kRepeat], "--repeat", kMaxRepeat, count);
      if (!s.ok()) return s;
      if (count < 1) return Status::failure(Errc::bad_argument, "--repeat: must be at least 1, got 0");
      out.repeat = std::size_t(count);
    }
    return Status{};
  } catch (const std::bad_alloc&) {
    return Status::failure(Errc::bad_argument, "out of memory parsing the detect options");
  } catch (...) {
    return Status::failure(Errc::bad_argument, "unexpected error parsing the detect options");
  }
}

/// Parses the arguments after `facepost show`: one file, optional --max N (0 = all rows).
inline Status parse_show_args(const std::vector<std::string>& args, ShowOptions& out) noexcept {
  try {
    out = ShowOptions{};
    bool have_path = false, have_max = false;
    for (std::size_t i = 0; i < args.size(); ++i) {
      const std::string& arg = args[i];
      if (arg == "--help" || arg == "-h") {
        out.help = true;
        return Status{};
      }
      if (arg.size() >= 2 && arg[0] == '-' && arg[1] == '-') {
        std::string name, value;
        bool has_value = false;
        detail::split_option(arg, name, value, has_value);
        if (name != "--max")
          return Status::failure(Errc::bad_argument, "show: unknown option '%s' (show takes F.npy [--max N])",
                                 detail::shown(name).c_str());
        if (have_max) return Status::failure(Errc::bad_argument, "show: option --max given twice");
        if (!has_value) {
          if (i + 1 >= args.size()) return Status::failure(Errc::bad_argument, "show: option --max needs a value");
          value = args[++i];
        }
        std::uint64_t n = 0;
        Status s = parse_count(value, "show --max", std::numeric_limits<std::size_t>::max(), n);
        if (!s.ok()) return s;
        out.max_rows = std::size_t(n);
        have_max = true;
        continue;
      }
      if (have_path)
        return Status::failure(Errc::bad_argument, "show: unexpected second file '%s' (show takes one file)",
                               detail::shown(arg).c_str());
      if (arg.empty()) return Status::failure(Errc::bad_argument, "show: empty file name");
      out.path = arg;
      have_path = true;
    }
    if (!have_path) return Status::failure(Errc::bad_argument, "show: missing the detections file (facepost show F.npy)");
    return Status{};
  } catch (const std::bad_alloc&) {
    return Status::failure(Errc::bad_argument, "out of memory parsing the show options");
  } catch (...) {
    return Status::failure(Errc::bad_argument, "unexpected error parsing the show options");
  }
}

}  // namespace cli
}  // namespace facepost
