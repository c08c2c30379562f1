// examples/detect_faces.cpp - a whole face detector: RetinaFace or BlazeFace (ONNX) through OpenCV's
// dnn module, its heads post-processed by facepost, the result drawn on the image and written as JSON.
//
//   detect_faces [IMAGE] [--family retinaface|blazeface] [--blazeface-model front|back] [--model M.onnx]
//                [--threshold T] [--nms T] [--out annotated.png] [--json dets.json] [--repeat N]
//                [--aligned-dir DIR [--aligned-size N]]
//
// --aligned-dir: each RetinaFace detection k (rank, 0-based) aligned onto the ArcFace template as
// insightface's norm_crop does: facepost::try_align gives the similarity (estimate_norm), and
// cv::warpAffine of the original image (INTER_LINEAR, constant border 0) writes DIR/face_<k>.png,
// N x N (default 112; facepost::try_arcface_template's sizes: multiples of 112 or of 128). Not
// with BlazeFace: its 6 keypoints (eyes, nose, mouth centre, ears) are not the ArcFace template's
// 5 points, and facepost/align.hpp has no template for them.
//
// BlazeFace (MediaPipe's models, examples/models/blazeface): the image letterboxed the same way into
// the model's 128x128 (front) or 256x256 (back) input with black padding, RGB scaled to [-1, 1],
// NHWC; its four outputs taken by name (the two groups of logits and of regressors, viewed where
// they lie); facepost::BlazefacePostprocessor maps the 6 keypoints back with the letterbox.
//
// Convention: the image is letterboxed, not resized to 640x640 nor by a detect.py `resize`.
// facepost::Letterbox::fit gives the integer letterbox (s = min(640/w, 640/h); cv::resize to
// round(w*s) x round(h*s), ties to even as YOLOv5; centred with integer padding, the odd pixel
// right/bottom), the padding filled with the mean colour (so it is zero after the mean is
// subtracted), BGR order. Detections are mapped back with that letterbox's mapping(): scale =
// resized / original per axis and the integer padding, exact for the image actually resized (NMS
// runs in these original-image pixels), then clipped to the image.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/core/utils/logger.hpp>
#include <opencv2/dnn.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "facepost/facepost.hpp"

#ifndef FACEPOST_EXAMPLE_MODEL
#error "FACEPOST_EXAMPLE_MODEL must name the default ONNX model"
#endif
#ifndef FACEPOST_EXAMPLE_BLAZEFACE_DIR
#error "FACEPOST_EXAMPLE_BLAZEFACE_DIR must name the folder of the BlazeFace models"
#endif
#ifndef FACEPOST_EXAMPLE_IMAGE
#error "FACEPOST_EXAMPLE_IMAGE must name the default photo"
#endif

namespace {

constexpr int kInputSide = 640;  // the bundled model's fixed input: 1x3x640x640
const cv::Scalar kMeanBgr(104, 117, 123);

const char* const kUsage =
    "usage: detect_faces [IMAGE] [--family retinaface|blazeface] [--blazeface-model front|back] [--model M.onnx] "
    "[--threshold T] [--nms T] [--out annotated.png] [--json dets.json] [--repeat N] [--aligned-dir DIR] "
    "[--aligned-size N]";
const char* const kConvention =
    "The image is letterboxed into the 640x640 network input with facepost::Letterbox::fit (one scale\n"
    "that fits; cv::resize to the rounded size, centred, integer padding of the mean colour), and the\n"
    "detections are mapped back with its mapping (exact for the resized image) and clipped to the image.\n"
    "--family blazeface: the same letterbox into the BlazeFace model's 128x128 (front, default) or 256x256\n"
    "(back) input, black padding, RGB in [-1, 1]; threshold and NMS default to the model's (0.75 or 0.65,\n"
    "0.3); boxes and 6 keypoints (eyes, nose, mouth, ears) mapped back and clipped the same way.\n"
    "--aligned-dir DIR (RetinaFace only): each face k aligned onto the ArcFace template (facepost::try_align,\n"
    "insightface's estimate_norm) and cut from the original image by cv::warpAffine (bilinear, black border),\n"
    "as insightface's norm_crop, into DIR/face_<k>.png (k = rank, 0-based; DIR is created if missing);\n"
    "--aligned-size N: the crop side, 112 (default) or any multiple of 112 or of 128. Each crop's 2x3\n"
    "transform (crop = M * (x, y, 1)) is printed and written to the JSON as \"aligned\".";

/// A bad command line (exit 2) or a failure while running (exit 1); the message is one line.
struct Failure : std::runtime_error {
  int exit_code;
  Failure(int code, const std::string& message) : std::runtime_error(message), exit_code(code) {}
};

[[noreturn]] void usage_error(const std::string& message) { throw Failure(2, message + " (" + kUsage + ")"); }
[[noreturn]] void run_error(const std::string& message) { throw Failure(1, message); }

/// One line of an OpenCV exception's text.
std::string one_line(std::string s) {
  std::replace(s.begin(), s.end(), '\n', ' ');
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

struct Options {
  std::string image = FACEPOST_EXAMPLE_IMAGE;
  std::string model;  // empty: the family's bundled model
  bool blazeface = false;
  facepost::BlazefaceModel blazeface_model = facepost::BlazefaceModel::front;
  bool threshold_given = false, nms_given = false;
  std::string out = "detect_faces.png";
  std::string json = "detect_faces.json";
  float threshold = 0.5f;  // a detector's threshold; the reference's 0.02 keeps candidates for evaluation
  double nms = 0.4;
  int repeat = 1;
  std::string aligned_dir;  // empty: no crops
  bool aligned_size_given = false;
  facepost::ArcfaceTemplate arcface = facepost::arcface_template(112);
};

double parse_number(const std::string& option, const std::string& text) {
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(v))
    usage_error(option + " needs a number, got '" + text + "'");
  return v;
}

double parse_fraction(const std::string& option, const std::string& text) {
  const double v = parse_number(option, text);
  if (v < 0.0 || v > 1.0) usage_error(option + " must be in [0, 1], got " + text);
  return v;
}

Options parse_options(int argc, char** argv) {
  Options o;
  bool have_image = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage_error(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "-h" || arg == "--help") {
      std::printf("%s\n\n%s\n", kUsage, kConvention);
      std::exit(0);
    } else if (arg == "--model") {
      o.model = value();
      if (o.model.empty()) usage_error("--model needs a file name");
    } else if (arg == "--family") {
      const std::string f = value();
      if (f != "retinaface" && f != "blazeface") usage_error("--family must be retinaface or blazeface, got '" + f + "'");
      o.blazeface = f == "blazeface";
    } else if (arg == "--blazeface-model") {
      const std::string m = value();
      if (m != "front" && m != "back") usage_error("--blazeface-model must be front or back, got '" + m + "'");
      o.blazeface_model = m == "back" ? facepost::BlazefaceModel::back : facepost::BlazefaceModel::front;
    } else if (arg == "--threshold") {
      o.threshold = static_cast<float>(parse_fraction(arg, value()));
      o.threshold_given = true;
    } else if (arg == "--nms") {
      o.nms = parse_fraction(arg, value());
      o.nms_given = true;
    } else if (arg == "--out") {
      o.out = value();
    } else if (arg == "--json") {
      o.json = value();
    } else if (arg == "--repeat") {
      const std::string text = value();
      const double n = parse_number(arg, text);
      if (n < 1 || n > 1e6 || n != std::floor(n))
        usage_error("--repeat needs a whole number in [1, 1000000], got " + text);
      o.repeat = static_cast<int>(n);
    } else if (arg == "--aligned-dir") {
      o.aligned_dir = value();
      if (o.aligned_dir.empty()) usage_error("--aligned-dir needs a directory name");
    } else if (arg == "--aligned-size") {
      const std::string text = value();
      const double n = parse_number(arg, text);
      // The sizes facepost::try_arcface_template accepts (insightface's estimate_norm).
      if (n < 1 || n > facepost::kMaxInputSide || n != std::floor(n) ||
          !facepost::try_arcface_template(static_cast<int>(n), o.arcface).ok())
        usage_error("--aligned-size must be a positive multiple of 112 or of 128 (at most " +
                    std::to_string(facepost::kMaxInputSide) + "), got " + text);
      o.aligned_size_given = true;
    } else if (arg.size() > 1 && arg[0] == '-') {
      usage_error("unknown option '" + arg + "'");
    } else if (have_image) {
      usage_error("one image only, got '" + o.image + "' and '" + arg + "'");
    } else {
      o.image = arg;
      have_image = true;
    }
  }
  for (const std::string* path : {&o.out, &o.json})
    if (path->empty()) usage_error("output paths must not be empty");
  if (o.model.empty())
    o.model = !o.blazeface ? std::string(FACEPOST_EXAMPLE_MODEL)
              : std::string(FACEPOST_EXAMPLE_BLAZEFACE_DIR) +
                    (o.blazeface_model == facepost::BlazefaceModel::back ? "/face_detection_back_256x256_barracuda.onnx"
                                                                          : "/face_detection_front_128x128_barracuda.onnx");
  if (o.aligned_size_given && o.aligned_dir.empty()) usage_error("--aligned-size needs --aligned-dir");
  if (o.blazeface && !o.aligned_dir.empty())
    usage_error("--aligned-dir needs RetinaFace's 5 landmarks (the ArcFace template's points); BlazeFace's 6 "
                "keypoints (eyes, nose, mouth centre, ears) have no template in facepost/align.hpp");
  if (o.blazeface) {  // the model's defaults unless given
    if (!o.threshold_given) o.threshold = facepost::blazeface_default_threshold(o.blazeface_model);
    if (!o.nms_given) o.nms = double(facepost::BlazefaceParams{}.nms_threshold);
  }
  return o;
}

void require_readable(const std::string& path, const char* what) {
  if (!std::ifstream(path, std::ios::binary)) run_error(std::string("cannot read ") + what + " '" + path + "'");
}

/// The network input for `image` and the mapping that undoes the letterbox.
struct Letterboxed {
  cv::Mat blob;
  facepost::ImageMapping mapping;
};

/// The image letterboxed into side x side (integer letterbox, centred) on a `fill` canvas.
cv::Mat letterbox_canvas(const cv::Mat& image, int side, const cv::Scalar& fill, facepost::ImageMapping& mapping) {
  facepost::Letterbox lb;
  const facepost::Status s =
      facepost::Letterbox::try_fit(image.cols, image.rows, side, side, facepost::LetterboxAnchor::centre, lb);
  if (!s.ok()) run_error(s.message());
  cv::Mat canvas(side, side, CV_8UC3, fill);
  const cv::Size resized(lb.resized_width, lb.resized_height);
  cv::resize(image, canvas(cv::Rect(cv::Point(lb.pad_left, lb.pad_top), resized)), resized, 0, 0, cv::INTER_LINEAR);
  // The scale actually applied per axis (resized / original) and the integer padding.
  mapping = lb.mapping().clip_to(float(image.cols), float(image.rows));
  return canvas;
}

/// RetinaFace: BGR minus the mean, NCHW, padding of the mean colour (zero after the subtraction).
Letterboxed letterbox(const cv::Mat& image) {
  Letterboxed out;
  const cv::Mat canvas = letterbox_canvas(image, kInputSide, kMeanBgr, out.mapping);
  out.blob = cv::dnn::blobFromImage(canvas, 1.0, cv::Size(), kMeanBgr, /*swapRB=*/false, /*crop=*/false, CV_32F);
  return out;
}

/// BlazeFace: RGB scaled to [-1, 1], NHWC [1,S,S,3], black padding (MediaPipe's letterbox).
Letterboxed letterbox_blazeface(const cv::Mat& image, int side) {
  Letterboxed out;
  cv::Mat rgb;
  cv::cvtColor(letterbox_canvas(image, side, cv::Scalar(0, 0, 0), out.mapping), rgb, cv::COLOR_BGR2RGB);
  const int shape[4] = {1, side, side, 3};
  out.blob.create(4, shape, CV_32F);
  cv::Mat hwc(side, side, CV_32FC3, out.blob.ptr<float>());  // the blob's memory, as an image
  rgb.convertTo(hwc, CV_32F, 1.0 / 127.5, -1.0);
  return out;
}

/// A float32 output of shape [1,N,C] or [N,C], viewed in place.
facepost::TensorView view_output(const cv::Mat& m, const char* name) {
  if (m.depth() != CV_32F || m.channels() != 1 || !m.isContinuous())
    run_error(std::string(name) + ": the network output is not a continuous float32 tensor");
  facepost::TensorView view;
  facepost::Status s;
  const float* data = m.ptr<float>();
  if (m.dims == 3) s = facepost::view_tensor(data, {m.size[0], m.size[1], m.size[2]}, name, view);
  else if (m.dims == 2) s = facepost::view_tensor(data, {m.size[0], m.size[1]}, name, view);
  else run_error(std::string(name) + ": expected a [1,N,C] network output, got " + std::to_string(m.dims) + " dims");
  if (!s.ok()) run_error(s.message());
  return view;
}

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

void draw(cv::Mat& image, const facepost::FamilyDetections& dets) {
  // Landmark colours of the reference detect.py: eyes, nose, mouth corners (BlazeFace: eyes, nose,
  // mouth, ears).
  const cv::Scalar colours[6] = {{0, 0, 255}, {0, 255, 255}, {255, 0, 255}, {0, 255, 0}, {255, 0, 0}, {255, 255, 0}};
  const int thick = std::max(1, int(std::lround(std::min(image.cols, image.rows) / 300.0)));
  for (std::size_t i = 0; i < dets.size(); ++i) {
    const facepost::DetectionRef d = dets[i];
    const cv::Point p1(cvRound(d.x1()), cvRound(d.y1())), p2(cvRound(d.x2()), cvRound(d.y2()));
    cv::rectangle(image, p1, p2, cv::Scalar(0, 0, 255), thick);
    char label[32];
    std::snprintf(label, sizeof label, "%.4f", double(d.score()));
    const cv::Point at(p1.x, std::max(p1.y - 4 * thick, 12 * thick));
    cv::putText(image, label, at, cv::FONT_HERSHEY_DUPLEX, 0.5 * thick, cv::Scalar(255, 255, 255), thick);
    for (int k = 0; k < int(dets.keypoints()); ++k)
      cv::circle(image, cv::Point(cvRound(d.landmark_x(k)), cvRound(d.landmark_y(k))), 2 * thick, colours[k % 6],
                 cv::FILLED);
  }
}

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char esc[8];
      std::snprintf(esc, sizeof esc, "\\u%04x", c);
      out += esc;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

/// One aligned crop: its file and the similarity onto the ArcFace template.
struct AlignedCrop {
  std::string file;
  facepost::Similarity2D transform;
};

/// A 2x3 matrix as JSON, [[m00, m01, m02], [m10, m11, m12]].
std::string json_matrix(const facepost::Similarity2D& s) {
  char buf[256];
  std::snprintf(buf, sizeof buf, "[[%.9f, %.9f, %.9f], [%.9f, %.9f, %.9f]]", s.m[0][0], s.m[0][1], s.m[0][2],
                s.m[1][0], s.m[1][1], s.m[1][2]);
  return buf;
}

/// The similarity of every detection onto the ArcFace template (facepost::try_align) and the file
/// of its crop, DIR/face_<k>.png.
std::vector<AlignedCrop> align_faces(const Options& o, const facepost::FamilyDetections& dets) {
  std::vector<facepost::Similarity2D> m(dets.size());
  const facepost::Status s = facepost::try_align(dets, o.arcface.view(), m.data(), m.size());
  if (!s.ok()) run_error("cannot align the faces: " + std::string(s.message()));
  std::vector<AlignedCrop> crops(dets.size());
  for (std::size_t k = 0; k < dets.size(); ++k) {
    crops[k].file = (std::filesystem::path(o.aligned_dir) / ("face_" + std::to_string(k) + ".png")).string();
    crops[k].transform = m[k];
  }
  return crops;
}

/// Each crop cut from the (original, undrawn) image as insightface's norm_crop: cv::warpAffine with
/// the similarity, size x size, bilinear, constant border 0. Creates the folder if missing.
void write_crops(const Options& o, const cv::Mat& image, const std::vector<AlignedCrop>& crops) {
  std::error_code ec;
  std::filesystem::create_directories(o.aligned_dir, ec);
  if (ec || !std::filesystem::is_directory(o.aligned_dir))
    run_error("cannot create directory '" + o.aligned_dir + "'" + (ec ? ": " + ec.message() : std::string()));
  const int side = o.arcface.size;
  for (const AlignedCrop& c : crops) {
    cv::Mat crop;
    const cv::Mat m(2, 3, CV_64F, const_cast<double*>(&c.transform.m[0][0]));  // a view, read only
    cv::warpAffine(image, crop, m, cv::Size(side, side), cv::INTER_LINEAR, cv::BORDER_CONSTANT, cv::Scalar::all(0));
    bool written = false;
    try {
      written = cv::imwrite(c.file, crop);
    } catch (const cv::Exception& e) {
      run_error("cannot write '" + c.file + "': " + one_line(e.what()));
    }
    if (!written) run_error("cannot write '" + c.file + "'");
  }
}

void write_json(const std::string& path, const Options& o, const cv::Mat& image,
                const facepost::FamilyDetections& dets, const std::vector<AlignedCrop>& crops) {
  std::ofstream f(path);
  if (!f) run_error("cannot write '" + path + "'");
  char buf[160];
  f << "{\"image\": " << json_string(o.image) << ", \"width\": " << image.cols << ", \"height\": " << image.rows
    << ",\n \"detections\": [";
  for (std::size_t i = 0; i < dets.size(); ++i) {
    const facepost::DetectionRef d = dets[i];
    std::snprintf(buf, sizeof buf, "%s\n  {\"box\": [%.3f, %.3f, %.3f, %.3f], \"score\": %.6f, \"landmarks\": [",
                  i ? "," : "", double(d.x1()), double(d.y1()), double(d.x2()), double(d.y2()), double(d.score()));
    f << buf;
    for (int k = 0; k < int(dets.keypoints()); ++k) {
      std::snprintf(buf, sizeof buf, "%s[%.3f, %.3f]", k ? ", " : "", double(d.landmark_x(k)),
                    double(d.landmark_y(k)));
      f << buf;
    }
    f << "]";
    if (i < crops.size())
      f << ",\n   \"aligned\": {\"file\": " << json_string(crops[i].file)
        << ", \"transform\": " << json_matrix(crops[i].transform) << "}";
    f << "}";
  }
  f << "\n]}\n";
  if (!f.flush()) run_error("cannot write '" + path + "'");
}

int run(int argc, char** argv) {
  const Options o = parse_options(argc, argv);
  cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_SILENT);  // failures are reported below

  require_readable(o.model, "model");
  cv::dnn::Net net;
  try {
    net = cv::dnn::readNet(o.model);
  } catch (const cv::Exception& e) {
    run_error("cannot load model '" + o.model + "': " + one_line(e.what()));
  }
  if (net.empty()) run_error("cannot load model '" + o.model + "'");

  require_readable(o.image, "image");
  cv::Mat image = cv::imread(o.image, cv::IMREAD_COLOR);
  if (image.empty()) run_error("cannot decode image '" + o.image + "'");

  const int side = o.blazeface ? facepost::blazeface_input_size(o.blazeface_model) : kInputSide;
  facepost::Params params;  // reference defaults: top_k 5000, keep_top_k 750, legacy IoU
  params.score_threshold = o.threshold;
  params.nms_threshold = o.nms;
  facepost::BasicPostprocessor<facepost::presets::retinaface_mnet> post({}, params);
  facepost::BlazefacePostprocessor blazeface(o.blazeface_model, {o.threshold, float(o.nms)});
  // RetinaFace's outputs by name (cv::dnn lists them alphabetically); BlazeFace's two groups of
  // logits (Identity:0, Identity_1:0) and of regressors (Identity_2:0, Identity_3:0).
  const std::vector<cv::String> names =
      o.blazeface ? std::vector<cv::String>{"Identity:0", "Identity_1:0", "Identity_2:0", "Identity_3:0"}
                  : std::vector<cv::String>{"loc", "conf", "landms"};

  std::vector<double> pre_ms, net_ms, post_ms;
  Letterboxed in;
  facepost::FamilyDetections dets;
  const facepost::RunStats* stats = o.blazeface ? &blazeface.stats() : &post.stats();
  for (int r = 0; r < o.repeat; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    in = o.blazeface ? letterbox_blazeface(image, side) : letterbox(image);
    pre_ms.push_back(ms_since(t0));

    t0 = std::chrono::steady_clock::now();
    std::vector<cv::Mat> outputs;
    try {
      net.setInput(in.blob);
      net.forward(outputs, names);
    } catch (const cv::Exception& e) {
      run_error("the network failed: " + one_line(e.what()));
    }
    net_ms.push_back(ms_since(t0));

    t0 = std::chrono::steady_clock::now();
    facepost::Status s;
    if (o.blazeface) {
      const facepost::BlazefaceHeads heads(view_output(outputs[2], "Identity_2:0"), view_output(outputs[3], "Identity_3:0"),
                                           view_output(outputs[0], "Identity:0"), view_output(outputs[1], "Identity_1:0"));
      s = blazeface.try_run(heads, in.mapping, dets);
    } else {
      const facepost::HeadOutputs heads{view_output(outputs[0], "loc"), view_output(outputs[1], "conf"),
                                        view_output(outputs[2], "landms")};
      facepost::Detections d;
      s = post.try_run(heads, {kInputSide, kInputSide}, in.mapping, d);
      dets = facepost::FamilyDetections(d.data(), nullptr, d.size(), facepost::kDetectionCols);
    }
    post_ms.push_back(ms_since(t0));
    if (!s.ok()) run_error(s.message());
  }

  const facepost::ImageMapping& m = in.mapping;
  std::printf("image %s: %dx%d -> %dx%d network input (%s; scale %.4f x %.4f, padding %.0f, %.0f)\n",
              o.image.c_str(), image.cols, image.rows, side, side, o.blazeface ? "BlazeFace" : "RetinaFace",
              double(m.scale_x), double(m.scale_y), double(m.pad_x), double(m.pad_y));
  if (o.repeat > 1)
    std::printf("stage times (median of %d runs, facepost backend %s):\n", o.repeat, facepost::backend_name());
  else  // the first run pays one-time setup: OpenCV's network initialisation, facepost's buffers
    std::printf("stage times (one cold run; --repeat N for warm medians; facepost backend %s):\n",
                facepost::backend_name());
  std::printf("  pre-processing   %8.3f ms  (letterbox, %s)\n", median(pre_ms),
              o.blazeface ? "RGB in [-1, 1]" : "mean, blob");
  std::printf("  network          %8.3f ms  (cv::dnn forward)\n", median(net_ms));
  std::printf("  post-processing  %8.3f ms  (facepost: %zu %s, %zu candidates)\n", median(post_ms), stats->priors,
              o.blazeface ? "anchors" : "priors", stats->candidates);
  std::printf("%zu face(s) with score %s %g:\n", dets.size(), o.blazeface ? ">=" : ">", double(o.threshold));
  for (std::size_t i = 0; i < dets.size(); ++i)
    std::printf("  (%.1f, %.1f)-(%.1f, %.1f) score %.4f\n", double(dets[i].x1()), double(dets[i].y1()),
                double(dets[i].x2()), double(dets[i].y2()), double(dets[i].score()));

  std::vector<AlignedCrop> crops;
  if (!o.aligned_dir.empty()) crops = align_faces(o, dets);
  write_json(o.json, o, image, dets, crops);
  if (!o.aligned_dir.empty()) write_crops(o, image, crops);  // before draw(): from the original pixels
  draw(image, dets);
  bool written = false;
  try {
    written = cv::imwrite(o.out, image);
  } catch (const cv::Exception& e) {
    run_error("cannot write '" + o.out + "': " + one_line(e.what()));
  }
  if (!written) run_error("cannot write '" + o.out + "'");
  std::printf("annotated image: %s\ndetections:      %s\n", o.out.c_str(), o.json.c_str());
  if (!o.aligned_dir.empty()) {
    std::printf("aligned crops:   %zu in %s (%dx%d, ArcFace template; crop = M * (x, y, 1)):\n", crops.size(),
                o.aligned_dir.c_str(), o.arcface.size, o.arcface.size);
    for (const AlignedCrop& c : crops)
      std::printf("  %s  M %s\n", c.file.c_str(), json_matrix(c.transform).c_str());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const Failure& f) {
    std::fprintf(stderr, "detect_faces: %s\n", f.what());
    return f.exit_code;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "detect_faces: %s\n", one_line(e.what()).c_str());
    return 1;
  }
}
