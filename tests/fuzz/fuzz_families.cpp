// fuzz_families: the detector families on configurations and head values decoded from the fuzz
// input: SCRFD and YOLOv5-face against the plain ports of their references
// (tests/reference/family_ports.hpp) bit for bit; YuNet and BlazeFace, whose ports call another
// exp (an ulp can move a decision on adversarial values), against their invariants.
//
// The input decodes, front to back, to (tests/fuzz/make_corpus.py writes the seeds):
//   family (code % 6: 0 and 2 SCRFD, 1 and 3 YOLOv5-face, 4 YuNet, 5 BlazeFace), width and height codes (32, 64 or
//   96 px; BlazeFace: its model's), threshold,
//   NMS threshold, max_num / max_det, SCRFD scale, SCRFD keypoints flag, then the head values:
//   each value a byte below 224 = a small number (0 to 3.98 in 1/64 steps: overlapping boxes,
//   scores on and around the thresholds), else the next 4 bytes' raw float bits (NaN, Inf,
//   denormals, huge). Values cycle when the input runs out.
// Checked on every input:
//  - invalid thresholds or scale give bad_threshold / bad_mapping and no detections; a valid
//    configuration is never refused;
//  - a success equals the port bit for bit (the rows, in order);
//  - every value finite, at most max_num / max_det rows, and scores non-increasing unless
//    max_num re-ordered them;
//  - a second run on the same object gives the same bits.
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "facepost/facepost.hpp"
#include "fuzz_check.hpp"
#include "reference/family_ports.hpp"

namespace {

using facepost::Errc;
using facepost::FamilyDetections;
using facepost::InputSize;
using facepost::TensorView;

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

float decode_threshold(std::uint8_t c) {
  static const float table[12] = {0.f, 0.25f, 0.5f, 0.7f, 1.f, 0.3f, 0.45f, 0.9f, -0.f, kNaN, -0.1f, 1.5f};
  return table[c % 12];
}

float decode_scale(std::uint8_t c) {
  static const float table[8] = {1.f, 0.37f, 2.5f, 0.299554557f, 1e-30f, 0.f, kNaN, kInf};
  return table[c % 8];
}

/// The head values: small numbers most of the time, raw float bits otherwise.
std::vector<float> decode_values(fuzz::ByteReader& in, std::size_t n) {
  std::vector<float> values;
  const std::uint8_t* rest = in.rest();
  const std::size_t size = in.rest_size();
  values.reserve(n);
  std::size_t pos = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (size == 0) {
      values.push_back(0.25f);
      continue;
    }
    const std::uint8_t c = rest[pos++ % size];
    if (c < 224) {
      values.push_back(float(c) / 56.f);
      continue;
    }
    std::uint32_t bits = 0;
    for (int b = 0; b < 4; ++b) bits |= std::uint32_t(rest[pos++ % size]) << (8 * b);
    float v;
    std::memcpy(&v, &bits, 4);
    values.push_back(v);
  }
  return values;
}

bool valid_unit(double t) { return t >= 0.0 && t <= 1.0; }

void check_rows(const FamilyDetections& d, const facepost_ref::FamilyRows& port, std::size_t limit, bool ordered,
                const char* family) {
  FUZZ_CHECK(d.cols() == port.cols && d.size() == port.size(), "%s: %zu rows of %zu vs the port's %zu of %zu", family,
             d.size(), d.cols(), port.size(), port.cols);
  for (std::size_t i = 0; i < port.data.size(); ++i)
    FUZZ_CHECK(fuzz::same_bits(d.data()[i], port.data[i]), "%s: value %zu differs from the port: %a vs %a", family, i,
               double(d.data()[i]), double(port.data[i]));
  FUZZ_CHECK(limit == 0 || d.size() <= limit, "%s: %zu rows past the limit %zu", family, d.size(), limit);
  for (std::size_t i = 0; i < d.size() * d.cols(); ++i)
    FUZZ_CHECK(std::isfinite(d.data()[i]), "%s: value %zu is not finite", family, i);
  if (ordered)
    for (std::size_t i = 1; i < d.size(); ++i)
      FUZZ_CHECK(d[i - 1].score() >= d[i].score(), "%s: scores increase at row %zu", family, i);
}

/// A second run on the same object (its buffers reused) gives the same bits as `d`.
template <class RunAgain>
void check_rerun(const FamilyDetections& d, RunAgain&& run_again, const char* family) {
  const std::vector<float> first(d.data(), d.data() + d.size() * d.cols());
  const FamilyDetections again = run_again();
  FUZZ_CHECK(again.size() * again.cols() == first.size() &&
                 (first.empty() || std::memcmp(again.data(), first.data(), first.size() * sizeof(float)) == 0),
             "%s: a second run differs", family);
}

void fuzz_scrfd(fuzz::ByteReader& in, InputSize input) {
  const float threshold = decode_threshold(in.u8());
  const float nms = decode_threshold(in.u8());
  const std::size_t max_num = in.u8() % 8;
  const float scale = decode_scale(in.u8());
  const bool with_kps = in.u8() % 2 == 0;
  std::vector<float> score[3], bbox[3], kps[3];
  facepost::ScrfdHeads h;
  for (int l = 0; l < 3; ++l) {
    const std::size_t rows =
        std::size_t(input.width / (8 << l)) * std::size_t(input.height / (8 << l)) * facepost::kScrfdAnchors;
    score[l] = decode_values(in, rows);
    bbox[l] = decode_values(in, rows * 4);
    h.score[l] = TensorView(score[l].data(), rows, 1);
    h.bbox[l] = TensorView(bbox[l].data(), rows, 4);
    if (with_kps) {
      kps[l] = decode_values(in, rows * 10);
      h.kps[l] = TensorView(kps[l].data(), rows, 10);
    }
  }
  facepost::ScrfdPostprocessor post({threshold, double(nms), max_num});
  FamilyDetections d;
  const facepost::Status s = post.try_run(h, input, facepost::ImageMapping::resize(scale), input, d);
  const Errc expected = !valid_unit(double(threshold)) || !valid_unit(double(nms)) ? Errc::bad_threshold
                        : !(std::isfinite(scale) && scale > 0.f)                  ? Errc::bad_mapping
                                                                                  : Errc::ok;
  FUZZ_CHECK(s.code() == expected, "SCRFD: got %s (%s), expected %s", facepost::errc_name(s.code()), s.message(),
             facepost::errc_name(expected));
  if (!s.ok()) {
    FUZZ_CHECK(d.empty(), "SCRFD: a failure left %zu detections", d.size());
    return;
  }
  const facepost_ref::FamilyRows port =
      facepost_ref::scrfd_port(h.score, h.bbox, h.kps, input, scale, input, threshold, nms, max_num);
  check_rows(d, port, max_num, max_num == 0 || port.size() < max_num, "SCRFD");
  check_rerun(d, [&] { return post.run(h, input, facepost::ImageMapping::resize(scale), input); }, "SCRFD");
}

void fuzz_yolov5_face(fuzz::ByteReader& in, InputSize input) {
  const float threshold = decode_threshold(in.u8());
  const float iou = decode_threshold(in.u8());
  const std::size_t max_det = in.u8() % 8;
  const std::size_t rows = facepost::detail::yolov5_face_rows(input);
  const std::vector<float> values = decode_values(in, rows * 16);
  const TensorView pred(values.data(), rows, 16);
  facepost::Yolov5FacePostprocessor post({threshold, double(iou), max_det});
  FamilyDetections d;
  const facepost::Status s = post.try_run(pred, input, {}, d);
  const Errc expected = valid_unit(double(threshold)) && valid_unit(double(iou)) ? Errc::ok : Errc::bad_threshold;
  FUZZ_CHECK(s.code() == expected, "YOLOv5-face: got %s (%s), expected %s", facepost::errc_name(s.code()),
             s.message(), facepost::errc_name(expected));
  if (!s.ok()) {
    FUZZ_CHECK(d.empty(), "YOLOv5-face: a failure left %zu detections", d.size());
    return;
  }
  check_rows(d, facepost_ref::yolov5_face_port(pred, threshold, double(iou), max_det), max_det, true, "YOLOv5-face");
  check_rerun(d, [&] { return post.run(pred, input); }, "YOLOv5-face");
}

/// YuNet and BlazeFace: the status, every value finite, at most one row per candidate, scores
/// above the threshold (YuNet: sorted), and a re-run with the same bits.
void check_invariants(const FamilyDetections& d, const facepost::RunStats& stats, float threshold, bool sorted,
                      bool strict, const char* family) {
  FUZZ_CHECK(d.size() == stats.detections && d.size() <= stats.ranked && stats.ranked <= stats.candidates &&
                 stats.candidates <= stats.priors,
             "%s: counts %zu <= %zu <= %zu <= %zu do not hold", family, d.size(), stats.ranked, stats.candidates,
             stats.priors);
  for (std::size_t i = 0; i < d.size() * d.cols(); ++i)
    FUZZ_CHECK(std::isfinite(d.data()[i]), "%s: value %zu is not finite", family, i);
  for (std::size_t i = 0; i < d.size(); ++i) {
    if (strict) FUZZ_CHECK(d[i].score() > threshold, "%s: row %zu score %g <= %g", family, i, double(d[i].score()), double(threshold));
    if (sorted && i > 0) FUZZ_CHECK(d[i - 1].score() >= d[i].score(), "%s: scores increase at row %zu", family, i);
  }
}

void fuzz_yunet(fuzz::ByteReader& in, InputSize input) {
  const float threshold = decode_threshold(in.u8());
  const float nms = decode_threshold(in.u8());
  const std::size_t top_k = in.u8() % 8;
  const std::size_t rows = facepost::yunet_prior_count(input);
  const std::vector<float> loc = decode_values(in, rows * 14), conf = decode_values(in, rows * 2),
                           iou = decode_values(in, rows);
  const facepost::YunetHeads h{TensorView(loc.data(), rows, 14), TensorView(conf.data(), rows, 2),
                               TensorView(iou.data(), rows, 1)};
  facepost::YunetPostprocessor post({threshold, nms, top_k});
  FamilyDetections d;
  const facepost::Status s = post.try_run(h, input, {}, d);
  const Errc expected = valid_unit(double(threshold)) && valid_unit(double(nms)) ? Errc::ok : Errc::bad_threshold;
  FUZZ_CHECK(s.code() == expected, "YuNet: got %s (%s), expected %s", facepost::errc_name(s.code()), s.message(),
             facepost::errc_name(expected));
  if (!s.ok()) {
    FUZZ_CHECK(d.empty(), "YuNet: a failure left %zu detections", d.size());
    return;
  }
  check_invariants(d, post.stats(), threshold, true, true, "YuNet");
  FUZZ_CHECK(top_k == 0 || d.size() <= top_k, "YuNet: %zu rows past top_k %zu", d.size(), top_k);
  check_rerun(d, [&] { return post.run(h, input); }, "YuNet");
}

void fuzz_blazeface(fuzz::ByteReader& in) {
  const facepost::BlazefaceModel model = in.u8() % 2 ? facepost::BlazefaceModel::back : facepost::BlazefaceModel::front;
  const float threshold = decode_threshold(in.u8());
  const float nms = decode_threshold(in.u8());
  // Regressors in input pixels around the anchors: small numbers times 16, raw floats as they come.
  std::vector<float> reg = decode_values(in, 896 * 16), logits = decode_values(in, 896);
  for (float& v : reg) v = v * 16.f - 32.f;
  for (float& v : logits) v = v * 4.f - 8.f;
  const facepost::BlazefaceHeads h(TensorView(reg.data(), 896, 16), TensorView(logits.data(), 896, 1));
  facepost::BlazefacePostprocessor post(model, {threshold, nms});
  FamilyDetections d;
  const facepost::Status s = post.try_run(h, {}, d);  // must terminate: degenerate boxes, NMS 1
  const Errc expected = valid_unit(double(threshold)) && valid_unit(double(nms)) ? Errc::ok : Errc::bad_threshold;
  FUZZ_CHECK(s.code() == expected, "BlazeFace: got %s (%s), expected %s", facepost::errc_name(s.code()), s.message(),
             facepost::errc_name(expected));
  if (!s.ok()) {
    FUZZ_CHECK(d.empty(), "BlazeFace: a failure left %zu detections", d.size());
    return;
  }
  check_invariants(d, post.stats(), threshold, false, false, "BlazeFace");
  check_rerun(d, [&] { return post.run(h); }, "BlazeFace");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::ByteReader in(data, size);
  const std::uint8_t family = in.u8();
  const InputSize input{32 * (1 + in.u8() % 3), 32 * (1 + in.u8() % 3)};
  switch (family % 6) {  // 0-3 as the first seeds and regressions were written: SCRFD, YOLOv5-face
    case 0: case 2: fuzz_scrfd(in, input); break;
    case 1: case 3: fuzz_yolov5_face(in, input); break;
    case 4: fuzz_yunet(in, input); break;
    default: fuzz_blazeface(in); break;
  }
  return 0;
}
