// facepost - command-line front end: post-process saved RetinaFace head outputs (.npy) and
// print or save the detections; `show` prints a detections file as a table.
//
// Exit codes: 0 success, 1 bad input data (files, shapes, prior counts), 2 bad usage. Every
// failure prints exactly one line, "facepost: <what is wrong>", on stderr and nothing on stdout.
#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <new>
#include <string>
#include <system_error>
#include <vector>

#include "cli.hpp"
#include "cli_families.hpp"
#include "facepost/facepost.hpp"
#include "facepost/io/npy.hpp"

namespace {

constexpr int kExitData = 1;
constexpr int kExitUsage = 2;

/// A float32 default as its shortest decimal ("0.02", not "0.0199999996").
std::string shortest(float v) {
  char buf[64];
  const std::to_chars_result r = std::to_chars(buf, buf + sizeof buf, v);
  return r.ec == std::errc() ? std::string(buf, r.ptr) : std::to_string(v);
}

std::string shortest(double v) {
  char buf[64];
  const std::to_chars_result r = std::to_chars(buf, buf + sizeof buf, v);
  return r.ec == std::errc() ? std::string(buf, r.ptr) : std::to_string(v);
}

/// The defaults of `facepost detect`: those of DetectOptions{} (facepost::Params{} and the
/// default preset's anchors), never written out a second time here.
struct Defaults {
  facepost::cli::DetectOptions options;
  facepost::AnchorConfig anchors;
  Defaults() { (void)facepost::cli::preset_anchors(options.anchors_name, anchors); }
  const facepost::Params& params() const { return options.params; }
  std::string iou() const { return params().iou == facepost::IouConvention::legacy_pixel ? "legacy" : "continuous"; }
  std::string fit() const { return options.fit == facepost::cli::LetterboxFit::integer ? "integer" : "exact"; }
  std::string anchor() const { return options.anchor == facepost::LetterboxAnchor::centre ? "centre" : "top-left"; }
};

std::string usage() {
  const Defaults d;
  const facepost::Params& p = d.params();
  std::string u =
      "usage:\n"
      "  facepost detect --loc F.npy --conf F.npy --landms F.npy --input-size WxH [options]\n"
      "  facepost detect --family scrfd|yunet|blazeface|yolov5-face INPUTS [options]\n"
      "  facepost show F.npy [--max N]\n"
      "  facepost defaults                 print the detect defaults as one JSON line\n"
      "  facepost help | --help | --version\n"
      "\n"
      "detect: post-process one frame of RetinaFace-family head outputs.\n"
      "  --loc, --conf, --landms F.npy   float32 or float16 [N,4], [N,2], [N,10] or [1,N,C] (any endianness, C or\n"
      "                                  Fortran order); N must equal the prior count of the input size\n"
      "  --input-size WxH                network input size (width x height) the priors are built for\n"
      "  --resize R                      input = original image x R; outputs are divided by R (default ";
  u += shortest(d.options.resize) + ")\n";
  u += "  --letterbox WxH                 instead of --resize: the input holds an original image of WxH\n"
       "                                  letterboxed (one scale that fits, the rest padded)\n"
       "  --fit integer|exact             how: integer = resized to round(W*s) x round(H*s), ties to even\n"
       "                                  (YOLOv5's int(round())), integer padding: cv::resize pipelines;\n"
       "                                  exact = scale s, fractional padding: an affine warp (MediaPipe)\n"
       "                                  (default " + d.fit() + ")\n"
       "  --letterbox-anchor centre|top-left\n"
       "                                  centre: padding split, the odd pixel right/bottom (YOLOv5);\n"
       "                                  top-left: image at (0,0), padding right/bottom (as SCRFD)\n"
       "                                  (default " +
       d.anchor() + ")\n"
       "  --clip WxH                      clamp boxes and landmarks to [0,W]x[0,H] after NMS (the original\n"
       "                                  image size; with --letterbox the same WxH)\n";
  u += "  --preset NAME                   ";
  const std::vector<std::string>& names = facepost::cli::preset_names();
  for (std::size_t i = 0; i < names.size(); ++i) {
    u += names[i];
    if (names[i] == d.options.anchors_name) u += " (default)";
    u += i + 1 < names.size() ? (i == 1 ? ",\n                                  " : ", ") : "\n";
  }
  u += "  --min-sizes \"16,32;64,128\" --steps 8,16   explicit anchors instead of a preset (one list of\n"
       "                                  min sizes per level, levels separated by ';')\n";
  u += "  --variance C,S                  box variances (default " + shortest(d.anchors.variance.center) + "," +
       shortest(d.anchors.variance.size) + ")\n";
  u += "  --threshold T                   keep scores > T, T in [0,1] (default " + shortest(p.score_threshold) + ")\n";
  u += "  --logits                        conf holds raw two-class logits, not softmax probabilities\n";
  u += "  --nms T                         suppress when IoU > T, T in [0,1] (default " + shortest(p.nms_threshold) +
       ")\n";
  u += "  --iou legacy|continuous         legacy: py_cpu_nms (+1 pixel widths); continuous:\n"
       "                                  torchvision.ops.nms (default " + d.iou() + ")\n";
  u += "  --top-k K                       best K candidates enter NMS (default " + std::to_string(p.top_k) +
       "; 0 = no limit)\n";
  u += "  --keep-top-k K                  keep the first K detections after NMS (default " +
       std::to_string(p.keep_top_k) + "; 0 = no limit)\n";
  u += "  --out F.npy                     write the detections as float32 [K,15]:\n"
       "                                  x1 y1 x2 y2 score lx0 ly0 ... lx4 ly4 (original-image pixels; NMS\n"
       "                                  runs in them too, after the mapping, as the reference detect.py)\n"
       "  --repeat N                      time N runs of the post-processing (default " +
       std::to_string(d.options.repeat) + ")\n";
  u += "  prints one JSON line: {\"priors\":N,\"candidates\":N,\"detections\":N,\"median_us\":X,\"min_us\":X}\n"
       "  (times: the post-processing call alone, file I/O excluded)\n";
  const facepost::ScrfdParams scrfd;
  const facepost::Yolov5FaceParams yolo;
  const facepost::BlazefaceParams blaze;
  u += "\n"
       "detect --family F: the other detector families (docs/families.md), each as its reference.\n"
       "  --family retinaface|scrfd|yunet|blazeface|yolov5-face   (default retinaface: the options above)\n"
       "  common: --input-size WxH, --resize R | --letterbox WxH [--fit] [--letterbox-anchor], --clip WxH,\n"
       "          --threshold T, --nms T, --out F.npy (float32 [K,C]), --repeat N\n"
       "  scrfd:        --score-8 --score-16 --score-32 --bbox-8 --bbox-16 --bbox-32 F.npy\n"
       "                [--kps-8 --kps-16 --kps-32 F.npy] (none: a model without keypoints, [K,5])\n"
       "                --resize is SCRFD's det_scale (NMS after it, in original pixels); --max-num N\n"
       "                (default " + std::to_string(scrfd.max_num) + "; 0 = no limit) with --image-size WxH (its centre;\n"
       "                default the input); --threshold: score >= T (default " + shortest(scrfd.threshold) +
       "), --nms " + shortest(scrfd.nms_threshold) + "\n"
       "  yunet:        --loc F.npy [N,14] --conf F.npy [N,2] --iou F.npy [N,1] (FaceDetectorYN's outputs);\n"
       "                --top-k K (default " + std::to_string(facepost::YunetParams{}.top_k) + ", before NMS; 0 = no limit); --threshold (default " +
       shortest(facepost::YunetParams{}.threshold) + "), --nms (default " + shortest(facepost::YunetParams{}.nms_threshold) + ")\n"
       "  blazeface:    --regressors F.npy [896,16] --classificators F.npy [896,1] (raw logits, the two\n"
       "                output groups concatenated, 512 rows first); --model front|back (128 or 256 input,\n"
       "                --input-size optional); --threshold (default " +
       shortest(facepost::blazeface_default_threshold(facepost::BlazefaceModel::front)) + " front, " +
       shortest(facepost::blazeface_default_threshold(facepost::BlazefaceModel::back)) + " back), --nms " +
       shortest(blaze.nms_threshold) + "; [K,17] rows\n"
       "  yolov5-face:  --pred F.npy [N,16] (x y w h obj, 10 landmark values, cls); --max-det N (default " +
       std::to_string(yolo.max_det) + "; 0 = no\n"
       "                limit); --threshold (default " + shortest(yolo.conf_threshold) + "), --nms (default " +
       shortest(yolo.iou_threshold) + "); NMS in input pixels, the mapping after it\n";
  u += "\n"
       "show: print a [K,15] detections file as a table (--max N rows, default " +
       std::to_string(facepost::cli::ShowOptions{}.max_rows) + "; 0 = all).\n";
  return u;
}

/// `facepost defaults`: one JSON line, keys the detect option names without the dashes.
std::string defaults_json() {
  const Defaults d;
  const facepost::Params& p = d.params();
  return "{\"preset\":\"" + d.options.anchors_name + "\",\"variance\":[" + shortest(d.anchors.variance.center) + "," +
         shortest(d.anchors.variance.size) + "],\"resize\":" + shortest(d.options.resize) + ",\"fit\":\"" +
         d.fit() + "\",\"letterbox-anchor\":\"" + d.anchor() + "\"" +
         ",\"threshold\":" + shortest(p.score_threshold) + ",\"logits\":" +
         (p.score_format == facepost::ScoreFormat::logits ? "true" : "false") + ",\"nms\":" +
         shortest(p.nms_threshold) + ",\"iou\":\"" + d.iou() + "\",\"top-k\":" + std::to_string(p.top_k) +
         ",\"keep-top-k\":" + std::to_string(p.keep_top_k) + ",\"repeat\":" + std::to_string(d.options.repeat) +
         "}\n";
}

const char kUsageLine[] =
    "usage: facepost detect --loc F.npy --conf F.npy --landms F.npy --input-size WxH [options] | "
    "facepost show F.npy [--max N] | facepost defaults | facepost --help";

/// Prints "facepost: <message>" as exactly one line on stderr (control characters replaced).
void print_error(const char* message) noexcept {
  std::fputs("facepost: ", stderr);
  for (const char* c = message; *c; ++c) {
    const unsigned char u = static_cast<unsigned char>(*c);
    std::fputc(u < 0x20 || u == 0x7f ? ' ' : *c, stderr);
  }
  std::fputc('\n', stderr);
  std::fflush(stderr);
}

int fail(int code, const std::string& message) noexcept {
  print_error(message.c_str());
  return code;
}

std::string shape_text(const std::vector<std::int64_t>& shape) {
  std::string s = "[";
  for (std::size_t d = 0; d < shape.size(); ++d) s += (d ? "," : "") + std::to_string(shape[d]);
  return s + "]";
}

/// Reads a head's .npy: float32 or float16 (converted as facepost reads it, no copy). int8 and
/// uint8 need a scale and zero point, which a .npy does not carry: refused with the reason.
facepost::Status read_head(const std::string& path, facepost::io::NpyArray& a) {
  facepost::Status s = facepost::io::read_npy(path, a, facepost::io::NpyTypes::low_precision);
  if (s.ok() && a.type != facepost::ElementType::float32 && a.type != facepost::ElementType::float16)
    s = facepost::Status::failure(facepost::Errc::bad_element_type,
                                  "%s: %s heads need a scale and zero point, which a .npy file does not carry (use "
                                  "the C++ or Python API with dequant, or save the dequantized values as float32)",
                                  path.c_str(), facepost::element_type_name(a.type));
  return s;
}

/// Views a loaded array as [N,C]: accepts [N,C] and [1,N,C] (facepost::view_tensor's rules).
facepost::Status view_array(const facepost::io::NpyArray& a, const char* name, facepost::TensorView& out) {
  const std::vector<std::int64_t>& s = a.shape;
  if (s.size() == 2) return facepost::view_tensor(a.elements(), a.type, {s[0], s[1]}, name, out);
  if (s.size() == 3) return facepost::view_tensor(a.elements(), a.type, {s[0], s[1], s[2]}, name, out);
  return facepost::Status::failure(facepost::Errc::bad_shape, "%s: expected shape [N,C] or [1,N,C], got %s", name,
                                   shape_text(s).c_str());
}

/// Median and minimum of the timed runs, in µs.
std::pair<double, double> median_min(std::vector<double> times_us) {
  std::sort(times_us.begin(), times_us.end());
  const std::size_t n = times_us.size();
  return {n % 2 ? times_us[n / 2] : 0.5 * (times_us[n / 2 - 1] + times_us[n / 2]), times_us.front()};
}

/// The JSON line of `facepost detect`, for every family.
int print_result(const facepost::RunStats& stats, const std::vector<double>& times_us) {
  const std::pair<double, double> t = median_min(times_us);
  std::printf("{\"priors\":%zu,\"candidates\":%zu,\"detections\":%zu,\"median_us\":%.3f,\"min_us\":%.3f}\n",
              stats.priors, stats.candidates, stats.detections, t.first, t.second);
  return std::fflush(stdout) == 0 ? 0 : fail(kExitData, "cannot write to stdout");
}

/// `facepost detect --family scrfd|yunet|blazeface|yolov5-face`: load the named heads, run `repeat`
/// times, write [K,C] rows, print the JSON line.
int run_family_detect(const facepost::cli::FamilyDetectOptions& opt) {
  using facepost::cli::Family;
  std::vector<facepost::io::NpyArray> arrays(opt.inputs.size());
  std::vector<facepost::TensorView> views(opt.inputs.size());
  for (std::size_t i = 0; i < opt.inputs.size(); ++i) {
    facepost::Status s = read_head(opt.inputs[i].second, arrays[i]);
    if (s.ok()) s = view_array(arrays[i], opt.inputs[i].second.c_str(), views[i]);
    if (!s.ok()) return fail(kExitData, opt.inputs[i].first + " " + s.message());
  }
  facepost::ImageMapping mapping;
  facepost::Status s = facepost::cli::detect_mapping(opt.mapping, mapping);
  if (!s.ok()) return fail(kExitUsage, s.message());
  const facepost::InputSize input = opt.mapping.input;

  facepost::ScrfdPostprocessor scrfd({opt.threshold, opt.nms_threshold, opt.limit});
  facepost::ScrfdHeads scrfd_heads;
  if (opt.family == Family::scrfd)
    for (int l = 0; l < 3; ++l) {
      scrfd_heads.score[l] = views[std::size_t(l)];
      scrfd_heads.bbox[l] = views[std::size_t(3 + l)];
      if (views.size() == 9) scrfd_heads.kps[l] = views[std::size_t(6 + l)];
    }
  facepost::BlazefacePostprocessor blazeface(opt.model, {opt.threshold, float(opt.nms_threshold)});
  facepost::Yolov5FacePostprocessor yolo({opt.threshold, opt.nms_threshold, opt.limit});
  facepost::YunetPostprocessor yunet({opt.threshold, float(opt.nms_threshold), opt.limit});

  facepost::FamilyDetections d;
  const facepost::RunStats* stats = nullptr;
  std::vector<double> times_us;
  times_us.reserve(opt.repeat);
  for (std::size_t r = 0; r < opt.repeat; ++r) {
    const auto start = std::chrono::steady_clock::now();
    switch (opt.family) {
      case Family::scrfd:
        s = scrfd.try_run(scrfd_heads, input, mapping, opt.image, d);
        stats = &scrfd.stats();
        break;
      case Family::yunet:
        s = yunet.try_run({views[0], views[1], views[2]}, input, mapping, d);
        stats = &yunet.stats();
        break;
      case Family::blazeface:
        s = blazeface.try_run(facepost::BlazefaceHeads(views[0], views[1]), mapping, d);
        stats = &blazeface.stats();
        break;
      case Family::yolov5_face:
        s = yolo.try_run(views[0], input, mapping, d);
        stats = &yolo.stats();
        break;
      case Family::retinaface: return fail(kExitUsage, "internal: retinaface takes the detect path");
    }
    const auto stop = std::chrono::steady_clock::now();
    if (!s.ok()) return fail(kExitData, s.message());
    times_us.push_back(std::chrono::duration<double, std::micro>(stop - start).count());
  }
  if (!opt.out_path.empty()) {
    s = facepost::io::write_npy(opt.out_path, d.data(), {std::int64_t(d.size()), std::int64_t(d.cols())});
    if (!s.ok()) return fail(kExitData, std::string("--out ") + s.message());
  }
  return print_result(*stats, times_us);
}

int run_detect(std::vector<std::string> args) {
  facepost::cli::Family family;
  facepost::Status s = facepost::cli::take_family(args, family);
  if (!s.ok()) return fail(kExitUsage, s.message());
  if (family != facepost::cli::Family::retinaface) {
    facepost::cli::FamilyDetectOptions fopt;
    s = facepost::cli::parse_family_detect_args(family, args, fopt);
    if (!s.ok()) return fail(kExitUsage, s.message());
    if (fopt.help) {
      std::fputs(usage().c_str(), stdout);
      return 0;
    }
    return run_family_detect(fopt);
  }
  facepost::cli::DetectOptions opt;
  s = facepost::cli::parse_detect_args(args, opt);
  if (!s.ok()) return fail(kExitUsage, s.message());
  if (opt.help) {
    std::fputs(usage().c_str(), stdout);
    return 0;
  }

  struct Head {
    const char* option;
    const std::string* path;
    facepost::io::NpyArray array;
    facepost::TensorView view;
  };
  Head heads[3] = {{"--loc", &opt.loc_path, {}, {}}, {"--conf", &opt.conf_path, {}, {}},
                   {"--landms", &opt.landms_path, {}, {}}};
  for (Head& h : heads) {
    s = read_head(*h.path, h.array);
    if (s.ok()) s = view_array(h.array, h.path->c_str(), h.view);
    if (!s.ok()) return fail(kExitData, std::string(h.option) + " " + s.message());
  }
  const facepost::HeadOutputs outputs{heads[0].view, heads[1].view, heads[2].view};

  // Check the prior count before the timed runs, naming the anchors and the size used.
  std::size_t num_priors = 0;
  s = facepost::count_priors(opt.anchors, opt.input, num_priors);
  if (s.ok()) s = facepost::validate_heads(outputs, num_priors);
  if (!s.ok())
    return fail(kExitData, std::string(s.message()) + " [anchors " + opt.anchors_name + ", --input-size " +
                               std::to_string(opt.input.width) + "x" + std::to_string(opt.input.height) + "]");

  facepost::Postprocessor postprocessor(opt.anchors, opt.params);
  facepost::ImageMapping mapping;  // --resize or --letterbox, then --clip; valid (checked by the parser)
  s = facepost::cli::detect_mapping(opt, mapping);
  if (!s.ok()) return fail(kExitUsage, s.message());
  facepost::Detections detections;
  std::vector<double> times_us;
  times_us.reserve(opt.repeat);
  for (std::size_t r = 0; r < opt.repeat; ++r) {
    const auto start = std::chrono::steady_clock::now();
    s = postprocessor.try_run(outputs, opt.input, mapping, detections);
    const auto stop = std::chrono::steady_clock::now();
    if (!s.ok()) return fail(kExitData, s.message());
    times_us.push_back(std::chrono::duration<double, std::micro>(stop - start).count());
  }

  if (!opt.out_path.empty()) {
    s = facepost::io::write_npy(opt.out_path, detections.data(),
                                {std::int64_t(detections.size()), std::int64_t(facepost::kDetectionCols)});
    if (!s.ok()) return fail(kExitData, std::string("--out ") + s.message());
  }

  return print_result(postprocessor.stats(), times_us);
}

std::string format(const char* fmt, double a, double b = 0.0) {
  char buf[128];
  std::snprintf(buf, sizeof buf, fmt, a, b);
  return buf;
}

int run_show(const std::vector<std::string>& args) {
  facepost::cli::ShowOptions opt;
  facepost::Status s = facepost::cli::parse_show_args(args, opt);
  if (!s.ok()) return fail(kExitUsage, s.message());
  if (opt.help) {
    std::fputs(usage().c_str(), stdout);
    return 0;
  }
  facepost::io::NpyArray a;
  s = facepost::io::read_npy(opt.path, a);
  if (!s.ok()) return fail(kExitData, std::string("show: ") + s.message());
  if (a.shape.size() != 2 || a.shape[1] != std::int64_t(facepost::kDetectionCols))
    return fail(kExitData, "show: " + opt.path + ": expected a detections array of shape [K,15], got " +
                               shape_text(a.shape));

  const std::size_t total = std::size_t(a.shape[0]);
  const std::size_t shown = opt.max_rows == 0 ? total : std::min(total, opt.max_rows);
  // Cells first, then one width per column, so every column lines up whatever the magnitudes.
  std::vector<std::vector<std::string>> table;
  table.push_back({"#", "x1", "y1", "x2", "y2", "score", "lm0", "lm1", "lm2", "lm3", "lm4"});
  for (std::size_t i = 0; i < shown; ++i) {
    const float* row = a.data.data() + facepost::kDetectionCols * i;
    std::vector<std::string> cells = {std::to_string(i)};
    for (int c = 0; c < 4; ++c) cells.push_back(format("%.1f", double(row[c])));
    cells.push_back(format("%.4f", double(row[4])));
    for (int k = 0; k < 5; ++k) cells.push_back(format("%.1f,%.1f", double(row[5 + 2 * k]), double(row[6 + 2 * k])));
    table.push_back(std::move(cells));
  }
  std::vector<std::size_t> width(table[0].size(), 0);
  for (const auto& cells : table)
    for (std::size_t c = 0; c < cells.size(); ++c) width[c] = std::max(width[c], cells[c].size());

  std::printf("%s: %zu detection%s", opt.path.c_str(), total, total == 1 ? "" : "s");
  if (shown < total) std::printf(", showing the first %zu (--max 0 shows all)", shown);
  std::printf("; lm0..lm4 are the landmarks (x,y)\n");
  for (const auto& cells : table) {
    std::string line;
    for (std::size_t c = 0; c < cells.size(); ++c) {
      if (c) line += "  ";
      line.append(width[c] - cells[c].size(), ' ');
      line += cells[c];
    }
    std::printf("%s\n", line.c_str());
  }
  return std::fflush(stdout) == 0 ? 0 : fail(kExitData, "cannot write to stdout");
}

int run(int argc, char** argv) {
  if (argc < 2) return fail(kExitUsage, kUsageLine);
  const std::string command = argv[1];
  const std::vector<std::string> rest(argv + 2, argv + argc);
  if (command == "--help" || command == "-h" || command == "help") {
    std::fputs(usage().c_str(), stdout);
    return 0;
  }
  if (command == "--version") {
    std::printf("facepost %s (CPU backend: %s)\n", FACEPOST_VERSION_STRING, facepost::backend_name());
    return 0;
  }
  if (command == "defaults") {
    if (!rest.empty()) return fail(kExitUsage, "defaults takes no arguments");
    std::fputs(defaults_json().c_str(), stdout);
    return std::fflush(stdout) == 0 ? 0 : fail(kExitData, "cannot write to stdout");
  }
  if (command == "detect") return run_detect(rest);
  if (command == "show") return run_show(rest);
  return fail(kExitUsage, "unknown command '" + facepost::cli::detail::shown(command) + "' (" + kUsageLine + ")");
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::bad_alloc&) {
    print_error("out of memory");
  } catch (const std::exception& e) {
    print_error(e.what());
  } catch (...) {
    print_error("unexpected error");
  }
  return kExitData;
}
