// tools/cli_families.hpp - `facepost detect --family ...`: the option parser for the detector
// families other than RetinaFace (whose options are parse_detect_args's, cli.hpp). Pure and
// noexcept like cli.hpp: every failure is a Status whose message names the option.
//
// Inputs are named after each reference's outputs:
//   scrfd        --score-8 --score-16 --score-32 --bbox-8 --bbox-16 --bbox-32 [--kps-8 --kps-16 --kps-32]
//   yunet        --loc --conf --iou                   (FaceDetectorYN's outputs)
//   blazeface    --regressors --classificators        (the two groups concatenated, 512 rows first)
//   yolov5-face  --pred
// and share --input-size, the mapping (--resize, --letterbox, --fit, --letterbox-anchor, --clip),
// --threshold, --nms, --out and --repeat; each family adds its own selection option.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "cli.hpp"
#include "facepost/facepost.hpp"

namespace facepost {
namespace cli {

enum class Family { retinaface, scrfd, yunet, blazeface, yolov5_face };

/// The --family names, in the order the usage text lists them.
inline const std::vector<std::string>& family_names() {
  static const std::vector<std::string> names = {"retinaface", "scrfd", "yunet", "blazeface", "yolov5-face"};
  return names;
}

inline Status parse_family(const std::string& text, Family& out) noexcept {
  const std::vector<std::string>& names = family_names();
  for (std::size_t i = 0; i < names.size(); ++i)
    if (text == names[i]) {
      out = static_cast<Family>(i);
      return Status{};
    }
  return Status::failure(Errc::bad_argument, "--family: unknown family '%s' (use retinaface, scrfd, yunet, blazeface "
                         "or yolov5-face)", detail::shown(text).c_str());
}

/// Takes "--family X" (or "--family=X") out of `args`; retinaface when absent.
inline Status take_family(std::vector<std::string>& args, Family& out) noexcept {
  try {
    out = Family::retinaface;
    bool seen = false;
    for (std::size_t i = 0; i < args.size(); ++i) {
      std::string name, value;
      bool inline_value = false;
      detail::split_option(args[i], name, value, inline_value);
      if (name != "--family") continue;
      if (seen) return Status::failure(Errc::bad_argument, "option --family given twice");
      seen = true;
      std::size_t erase = 1;
      if (!inline_value) {
        if (i + 1 >= args.size()) return Status::failure(Errc::bad_argument, "option --family needs a value");
        value = args[i + 1];
        erase = 2;
      }
      Status s = parse_family(value, out);
      if (!s.ok()) return s;
      args.erase(args.begin() + std::ptrdiff_t(i), args.begin() + std::ptrdiff_t(i + erase));
      --i;
    }
    return Status{};
  } catch (...) {
    return Status::failure(Errc::bad_argument, "out of memory parsing --family");
  }
}

/// Everything `facepost detect --family F` needs (F other than retinaface).
struct FamilyDetectOptions {
  Family family = Family::scrfd;
  std::vector<std::pair<std::string, std::string>> inputs;  ///< (option, path), in the family's order
  DetectOptions mapping;         ///< its input, resize, letterbox, fit, anchor and clip fields
  float threshold = 0.f;         ///< the family's score threshold
  double nms_threshold = 0.0;    ///< its NMS threshold
  std::size_t limit = 0;         ///< --max-num (SCRFD), --top-k (YuNet), --max-det (YOLOv5-face); 0 = no limit
  BlazefaceModel model = BlazefaceModel::front;
  InputSize image{};             ///< --image-size (SCRFD's max_num centre); {0,0}: the input size
  std::string out_path;
  std::size_t repeat = 1;
  bool help = false;
};

namespace detail {

struct FamilyTable {
  std::vector<const char*> inputs;  ///< required input options (optional ones listed in `optional`)
  std::vector<const char*> optional_inputs;
  std::vector<const char*> options;  ///< the family's own options
};

inline FamilyTable family_table(Family f) {
  switch (f) {
    case Family::scrfd:
      return {{"--score-8", "--score-16", "--score-32", "--bbox-8", "--bbox-16", "--bbox-32"},
              {"--kps-8", "--kps-16", "--kps-32"},
              {"--max-num", "--image-size"}};
    case Family::yunet: return {{"--loc", "--conf", "--iou"}, {}, {"--top-k"}};
    case Family::blazeface: return {{"--regressors", "--classificators"}, {}, {"--model"}};
    case Family::yolov5_face: return {{"--pred"}, {}, {"--max-det"}};
    case Family::retinaface: break;
  }
  return {};
}

}  // namespace detail

/// Parses the arguments after `facepost detect --family F` (without the --family option).
inline Status parse_family_detect_args(Family family, const std::vector<std::string>& args,
                                       FamilyDetectOptions& out) noexcept {
  try {
    out = FamilyDetectOptions{};
    out.family = family;
    const detail::FamilyTable table = detail::family_table(family);
    static const char* const kCommon[] = {"--input-size", "--resize", "--letterbox", "--fit", "--letterbox-anchor",
                                          "--clip",       "--threshold", "--nms", "--out", "--repeat"};
    std::vector<std::string> names(std::begin(kCommon), std::end(kCommon));
    for (const auto* list : {&table.inputs, &table.optional_inputs, &table.options})
      for (const char* n : *list) names.push_back(n);
    const auto index = [&](const char* n) {
      std::size_t k = 0;
      while (names[k] != n) ++k;
      return k;
    };
    const std::string family_text = family_names()[std::size_t(family)];
    detail::ScannedOptions scan;
    Status scanned = detail::scan_options(
        args, names, nullptr,
        [&](const std::string& name) {
          return Status::failure(Errc::bad_argument, "option '%s' does not apply to --family %s (see facepost --help)",
                                 detail::shown(name).c_str(), family_text.c_str());
        },
        scan);
    if (!scanned.ok() || scan.help) {
      out.help = scan.help;
      return scanned;
    }
    const std::vector<std::string>& value_of = scan.value;
    const std::vector<bool>& has = scan.has;

    for (const char* n : table.inputs) {
      if (!has[index(n)])
        return Status::failure(Errc::bad_argument, "missing required option %s (--family %s)", n, family_text.c_str());
      out.inputs.emplace_back(n, value_of[index(n)]);
    }
    std::size_t optional_given = 0;
    for (const char* n : table.optional_inputs)
      if (has[index(n)]) ++optional_given, out.inputs.emplace_back(n, value_of[index(n)]);
    if (optional_given != 0 && optional_given != table.optional_inputs.size())
      return Status::failure(Errc::bad_argument, "give --kps-8, --kps-16 and --kps-32 together (or none: a model "
                             "without keypoints)");
    if (has[index("--out")]) out.out_path = value_of[index("--out")];
    for (const auto& in : out.inputs)
      if (in.second.empty()) return Status::failure(Errc::bad_argument, "option %s: empty file name", in.first.c_str());
    if (has[index("--out")] && out.out_path.empty())
      return Status::failure(Errc::bad_argument, "option --out: empty file name");

    Status s;
    if (family == Family::blazeface) {
      if (has[index("--model")]) {
        const std::string& m = value_of[index("--model")];
        if (m == "front") out.model = BlazefaceModel::front;
        else if (m == "back") out.model = BlazefaceModel::back;
        else
          return Status::failure(Errc::bad_argument, "--model: '%s' is not front (128x128) or back (256x256)",
                                 detail::shown(m).c_str());
      }
      const int side = blazeface_input_size(out.model);
      out.mapping.input = InputSize{side, side};
      if (has[index("--input-size")]) {
        InputSize given;
        s = parse_input_size(value_of[index("--input-size")], "--input-size", given);
        if (!s.ok()) return s;
        if (given != out.mapping.input)
          return Status::failure(Errc::bad_size, "--input-size %dx%d: the %s BlazeFace model takes %dx%d", given.width,
                                 given.height, out.model == BlazefaceModel::back ? "back" : "front", side, side);
      }
    } else {
      if (!has[index("--input-size")])
        return Status::failure(Errc::bad_argument, "missing required option --input-size (--family %s)",
                               family_text.c_str());
      s = parse_input_size(value_of[index("--input-size")], "--input-size", out.mapping.input);
      if (!s.ok()) return s;
    }

    // The mapping, as for RetinaFace: --resize or --letterbox (--fit, --letterbox-anchor), --clip.
    DetectOptions& m = out.mapping;
    if (has[index("--resize")] && has[index("--letterbox")])
      return Status::failure(Errc::bad_argument, "give either --resize or --letterbox, not both");
    for (const char* n : {"--fit", "--letterbox-anchor"})
      if (has[index(n)] && !has[index("--letterbox")])
        return Status::failure(Errc::bad_argument, "%s needs --letterbox WxH (the original image size)", n);
    if (has[index("--resize")]) {
      s = parse_float(value_of[index("--resize")], "--resize", m.resize);
      if (s.ok() && !(m.resize > 0.f))
        s = Status::failure(Errc::bad_mapping, "--resize: %g must be positive", double(m.resize));
    }
    if (s.ok() && has[index("--letterbox")]) {
      s = parse_input_size(value_of[index("--letterbox")], "--letterbox", m.original);
      if (s.ok() && has[index("--fit")]) s = parse_letterbox_fit(value_of[index("--fit")], "--fit", m.fit);
      if (s.ok() && has[index("--letterbox-anchor")])
        s = parse_letterbox_anchor(value_of[index("--letterbox-anchor")], "--letterbox-anchor", m.anchor);
      m.letterbox = true;
    }
    if (s.ok() && has[index("--clip")]) {
      s = parse_input_size(value_of[index("--clip")], "--clip", m.clip_size);
      m.clip = true;
    }
    ImageMapping checked;
    if (s.ok()) s = detect_mapping(m, checked);
    if (!s.ok()) return s;

    // Thresholds: the family's defaults unless given.
    switch (family) {
      case Family::scrfd: out.threshold = ScrfdParams{}.threshold, out.nms_threshold = ScrfdParams{}.nms_threshold; break;
      case Family::yunet:
        out.threshold = YunetParams{}.threshold, out.nms_threshold = double(YunetParams{}.nms_threshold);
        out.limit = YunetParams{}.top_k;
        break;
      case Family::blazeface:
        out.threshold = blazeface_default_threshold(out.model);
        out.nms_threshold = double(BlazefaceParams{}.nms_threshold);
        break;
      case Family::yolov5_face:
        out.threshold = Yolov5FaceParams{}.conf_threshold, out.nms_threshold = Yolov5FaceParams{}.iou_threshold;
        break;
      case Family::retinaface: break;
    }
    if (has[index("--threshold")]) {
      s = parse_score_threshold(value_of[index("--threshold")], "--threshold", out.threshold);
      if (!s.ok()) return s;
    }
    if (has[index("--nms")]) {
      s = parse_iou_threshold(value_of[index("--nms")], "--nms", out.nms_threshold);
      if (!s.ok()) return s;
    }
    constexpr std::uint64_t kMaxCount = std::numeric_limits<std::size_t>::max();
    std::uint64_t count = 0;
    for (const char* n : {"--max-num", "--max-det", "--top-k"}) {
      if (std::find(names.begin(), names.end(), n) == names.end() || !has[index(n)]) continue;
      s = parse_count(value_of[index(n)], n, kMaxCount, count);
      if (!s.ok()) return s;
      out.limit = std::size_t(count);
    }
    if (family == Family::scrfd && has[index("--image-size")]) {
      s = parse_input_size(value_of[index("--image-size")], "--image-size", out.image);
      if (!s.ok()) return s;
    }
    if (has[index("--repeat")]) {
      s = parse_count(value_of[index("--repeat")], "--repeat", kMaxRepeat, count);
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

}  // namespace cli
}  // namespace facepost
