// Detector families against the goldens of tests/data/families (made by each reference's own
// code; tests/data/families/README.md), compared as that README says.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "facepost/families/scrfd.hpp"
#include "facepost/families/yolov5_face.hpp"
#include "fixtures.hpp"

namespace {

using facepost::FamilyDetections;
using facepost::ImageMapping;
using facepost::InputSize;
using facepost::TensorView;

std::string family_dir(const std::string& family, const std::string& name) { return "families/" + family + "/" + name; }

using fixtures::file_exists;
using fixtures::ScrfdOutputs;
using fixtures::view_2d;

void require_golden(const FamilyDetections& d, const facepost::io::NpyArray& golden) {
  const std::size_t rows = golden.shape.empty() ? 0 : std::size_t(golden.shape[0]);
  const std::size_t cols = golden.shape.size() == 2 ? std::size_t(golden.shape[1]) : d.cols();
  REQUIRE(d.cols() == cols);
  const std::string diff = fixtures::compare_with_golden(d.data(), d.size(), golden.data.data(), rows, 1e-3f, cols);
  INFO(diff);
  REQUIRE(diff.empty());
}

struct ScrfdCase {
  const char* name;
  InputSize image, input;
  double det_scale;
  bool kps;
};

const ScrfdCase kScrfdCases[] = {
    {"family_640x640", {640, 640}, {640, 640}, 1.0, true},
    {"group_nokps_1600x898", {1600, 898}, {640, 640}, 0.3997772828507795, false},
    {"mosaic_crowd_3200x1796", {3200, 1796}, {960, 544}, 0.29955456570155903, true},
    {"noface_640x480", {640, 480}, {640, 640}, 1.0, true},
};

struct ScrfdSet {
  const char* name;
  facepost::ScrfdParams params;
};

const ScrfdSet kScrfdSets[] = {
    {"threshold_0_5", {0.5f, 0.4, 0}},
    {"threshold_0_3_nms_0_5", {0.3f, 0.5, 0}},
    {"threshold_0_7", {0.7f, 0.4, 0}},
    {"max_num_5", {0.5f, 0.4, 5}},
};

}  // namespace

TEST_CASE("families: SCRFD matches insightface's scrfd.py on every fixture and golden set", "[families][scrfd]") {
  int compared = 0;
  for (const ScrfdCase& c : kScrfdCases) {
    const std::string dir = family_dir("scrfd", c.name);
    const ScrfdOutputs out(dir, c.kps);
    // The det_scale SCRFD.detect computes for this image and input.
    const facepost::ScrfdResize resize = facepost::scrfd_resize(c.image, c.input);
    REQUIRE(resize.scale == c.det_scale);
    for (const ScrfdSet& set : kScrfdSets) {
      const std::string golden_file = std::string("golden_") + set.name + ".npy";
      if (!file_exists(fixtures::path(dir, golden_file))) continue;
      INFO(c.name << " / " << set.name);
      facepost::ScrfdPostprocessor post(set.params);
      const FamilyDetections d = post.run(out.view(), c.input, resize.mapping(), c.image);
      require_golden(d, fixtures::load(dir, golden_file));
      ++compared;
    }
  }
  CHECK(compared == 10);
}

TEST_CASE("families: SCRFD reuses its buffers and accepts [1,N,C] views", "[families][scrfd]") {
  const std::string dir = family_dir("scrfd", "family_640x640");
  const ScrfdOutputs out(dir, true);
  facepost::ScrfdPostprocessor post;
  const FamilyDetections first = post.run(out.view(), {640, 640});
  const std::vector<float> rows(first.data(), first.data() + first.size() * first.cols());
  const FamilyDetections again = post.run(out.view(), {640, 640});
  REQUIRE(again.size() * again.cols() == rows.size());
  CHECK(std::memcmp(again.data(), rows.data(), rows.size() * sizeof(float)) == 0);
  // Source rows name the output row each detection came from (stride 8's rows first).
  for (std::size_t i = 0; i < again.size(); ++i) CHECK(again.source_index(i) < 12800u + 3200u + 800u);
}

TEST_CASE("families: SCRFD refuses bad input with a message naming the problem", "[families][scrfd][errors]") {
  const std::string dir = family_dir("scrfd", "family_640x640");
  const ScrfdOutputs out(dir, true);
  facepost::ScrfdPostprocessor post;
  FamilyDetections d;
  auto expect = [&](facepost::Status s, facepost::Errc code, const char* text) {
    INFO(s.message());
    CHECK(s.code() == code);
    CHECK(std::string(s.message()).find(text) != std::string::npos);
  };
  expect(post.try_run(out.view(), {640, 480}, {}, {}, d), facepost::Errc::prior_count_mismatch,
         "score_8 tensor has 12800 rows but input size 640x480 gives 9600 anchors at stride 8");
  expect(post.try_run(out.view(), {650, 640}, {}, {}, d), facepost::Errc::bad_size, "multiple of 32");
  facepost::ScrfdHeads h = out.view();
  h.kps[1] = TensorView{};
  expect(post.try_run(h, {640, 640}, {}, {}, d), facepost::Errc::empty_tensor, "kps_16 tensor is missing");
  h = out.view();
  std::swap(h.bbox[0], h.kps[0]);
  expect(post.try_run(h, {640, 640}, {}, {}, d), facepost::Errc::bad_shape, "bbox_8 tensor has 10 columns, expected 4");
  post.set_params({std::nanf(""), 0.4, 0});
  expect(post.try_run(out.view(), {640, 640}, {}, {}, d), facepost::Errc::bad_threshold, "SCRFD threshold nan");
  post.set_params({0.5f, 1.5, 0});
  expect(post.try_run(out.view(), {640, 640}, {}, {}, d), facepost::Errc::bad_threshold, "SCRFD NMS threshold 1.5");
  post.set_params({0.5f, 0.4, 3});
  expect(post.try_run(out.view(), {640, 640}, {}, {-1, 5}, d), facepost::Errc::bad_size, "image size -1x5");
  CHECK(d.empty());
}

namespace {

struct YoloCase {
  const char* name;
  InputSize input, original;
  float gain, pad_x, pad_y;  // scale_coords' gain and pad (meta.json), for the _original golden
};

const YoloCase kYoloCases[] = {
    {"family_640x512", {640, 512}, {1024, 768}, 0.625f, 0.f, 16.f},
    {"noface_640x640_planted", {640, 640}, {0, 0}, 0.f, 0.f, 0.f},
    {"selfie_crowd_640x640", {640, 640}, {1600, 898}, 0.4f, 0.f, float(140.39999999999998)},
    {"zidane_640x384_planted", {640, 384}, {1280, 720}, 0.5f, 0.f, 12.f},
};

struct YoloSet {
  const char* name;
  facepost::Yolov5FaceParams params;
};

const YoloSet kYoloSets[] = {
    {"conf_0_25_iou_0_45", {0.25f, 0.45, 0}},   {"conf_0_5_iou_0_5", {0.5f, 0.5, 0}},
    {"conf_0_6_iou_0_5", {0.6f, 0.5, 0}},       {"conf_0_02_iou_0_5", {0.02f, 0.5, 0}},
    {"conf_0_001_iou_0_6", {0.001f, 0.6, 0}},   {"conf_0_25_iou_0_45_max_det_100", {0.25f, 0.45, 100}},
};

}  // namespace

TEST_CASE("families: YOLOv5-face matches non_max_suppression_face on every fixture and golden set",
          "[families][yolov5_face]") {
  int compared = 0;
  for (const YoloCase& c : kYoloCases) {
    const std::string dir = family_dir("yolov5_face", c.name);
    const facepost::io::NpyArray pred = fixtures::load(dir, "pred.npy");
    for (const YoloSet& set : kYoloSets) {
      const std::string golden_file = std::string("golden_") + set.name + ".npy";
      if (!file_exists(fixtures::path(dir, golden_file))) continue;
      INFO(c.name << " / " << set.name);
      facepost::Yolov5FacePostprocessor post(set.params);
      require_golden(post.run(view_2d(pred), c.input), fixtures::load(dir, golden_file));
      ++compared;
    }
    // The same rows in the original photo: scale_coords' letterbox mapping and clamp.
    if (c.gain > 0.f) {
      INFO(c.name << " / original pixels");
      facepost::Yolov5FacePostprocessor post;
      const ImageMapping m =
          ImageMapping::letterbox(c.gain, c.gain, c.pad_x, c.pad_y).clip_to(float(c.original.width), float(c.original.height));
      require_golden(post.run(view_2d(pred), c.input, m), fixtures::load(dir, "golden_conf_0_25_iou_0_45_original.npy"));
      ++compared;
    }
  }
  CHECK(compared == 24);
}

TEST_CASE("families: YOLOv5-face refuses bad input with a message naming the problem", "[families][yolov5_face][errors]") {
  const facepost::io::NpyArray pred = fixtures::load(family_dir("yolov5_face", "family_640x512"), "pred.npy");
  facepost::Yolov5FacePostprocessor post;
  FamilyDetections d;
  auto expect = [&](facepost::Status s, facepost::Errc code, const char* text) {
    INFO(s.message());
    CHECK(s.code() == code);
    CHECK(std::string(s.message()).find(text) != std::string::npos);
  };
  expect(post.try_run(view_2d(pred), {640, 640}, {}, d), facepost::Errc::prior_count_mismatch,
         "pred tensor has 20160 rows but input size 640x640 gives 25200");
  const TensorView narrow(pred.data.data(), 20160, 15);
  expect(post.try_run(narrow, {640, 512}, {}, d), facepost::Errc::bad_shape, "pred tensor has 15 columns, expected 16");
  expect(post.try_run(TensorView{}, {640, 512}, {}, d), facepost::Errc::empty_tensor, "pred tensor is empty");
  expect(post.try_run(view_2d(pred), {640, 500}, {}, d), facepost::Errc::bad_size, "multiple of 32");
  post.set_params({-0.1f, 0.45, 0});
  expect(post.try_run(view_2d(pred), {640, 512}, {}, d), facepost::Errc::bad_threshold,
         "YOLOv5-face conf threshold -0.1");
  post.set_params({0.25f, 0.45, 0});
  expect(post.try_run(view_2d(pred), {640, 512}, ImageMapping::resize(0.f), d), facepost::Errc::bad_mapping,
         "mapping scale");
  CHECK(d.empty());
}

TEST_CASE("families: YOLOv5-face max_det is a truncation and non-finite rows never come out",
          "[families][yolov5_face]") {
  facepost::io::NpyArray pred = fixtures::load(family_dir("yolov5_face", "selfie_crowd_640x640"), "pred.npy");
  facepost::Yolov5FacePostprocessor all, first10({0.25f, 0.45, 10});
  const FamilyDetections a = all.run(view_2d(pred), {640, 640});
  const FamilyDetections b = first10.run(view_2d(pred), {640, 640});
  REQUIRE(a.size() > 10);
  REQUIRE(b.size() == 10);
  CHECK(std::memcmp(a.data(), b.data(), 10 * 15 * sizeof(float)) == 0);
  // Poison the best detection's source row: a NaN landmark drops it, nothing else changes.
  const std::uint32_t src = a.source_index(0);
  pred.data[16 * src + 7] = std::nanf("");
  const FamilyDetections c = all.run(view_2d(pred), {640, 640});
  REQUIRE(c.size() >= 1);
  for (std::size_t i = 0; i < c.size() * 15; ++i) REQUIRE(std::isfinite(c.data()[i]));
  CHECK(c.source_index(0) != src);
}

// ---- against the plain ports (tests/reference/family_ports.hpp) -------------------------------

#include <random>

#include "reference/family_ports.hpp"

namespace {

bool same_rows(const FamilyDetections& d, const facepost_ref::FamilyRows& port) {
  return d.cols() == port.cols && d.size() == port.size() &&
         std::memcmp(d.data(), port.data.data(), port.data.size() * sizeof(float)) == 0;
}

/// Random values with clusters of overlapping boxes and scores on and around the thresholds.
struct RandomHead {
  std::vector<float> values;
  std::size_t rows, cols;
  RandomHead(std::size_t r, std::size_t c) : values(r * c), rows(r), cols(c) {}
  TensorView view() const { return TensorView(values.data(), rows, cols); }
};

}  // namespace

TEST_CASE("families: the ports reproduce the goldens they are checked against", "[families][port]") {
  // SCRFD, the crowd at its two sets; YOLOv5-face, the crowd at every set.
  const std::string dir = family_dir("scrfd", "mosaic_crowd_3200x1796");
  const ScrfdOutputs out(dir, true);
  const facepost::ScrfdHeads h = out.view();
  for (const ScrfdSet& set : {kScrfdSets[0], kScrfdSets[1]}) {
    const facepost_ref::FamilyRows port = facepost_ref::scrfd_port(
        h.score, h.bbox, h.kps, {960, 544}, float(0.29955456570155903), {3200, 1796}, set.params.threshold,
        float(set.params.nms_threshold), 0);
    const facepost::io::NpyArray golden = fixtures::load(dir, std::string("golden_") + set.name + ".npy");
    INFO(set.name);
    CHECK(fixtures::compare_with_golden(port.data.data(), port.size(), golden.data.data(),
                                        std::size_t(golden.shape[0]), 1e-3f, 15)
              .empty());
  }
  const std::string ydir = family_dir("yolov5_face", "selfie_crowd_640x640");
  const facepost::io::NpyArray pred = fixtures::load(ydir, "pred.npy");
  for (const YoloSet& set : kYoloSets) {
    const facepost_ref::FamilyRows port = facepost_ref::yolov5_face_port(
        view_2d(pred), set.params.conf_threshold, set.params.iou_threshold, set.params.max_det);
    const facepost::io::NpyArray golden = fixtures::load(ydir, std::string("golden_") + set.name + ".npy");
    INFO(set.name);
    CHECK(fixtures::compare_with_golden(port.data.data(), port.size(), golden.data.data(),
                                        std::size_t(golden.shape[0]), 1e-3f, 15)
              .empty());
  }
}

TEST_CASE("families: SCRFD and YOLOv5-face equal their ports bit for bit on random outputs", "[families][port]") {
  std::mt19937 rng(20261202);
  std::uniform_real_distribution<float> unit(0.f, 1.f), offset(-0.6f, 0.6f);
  const float thresholds[] = {0.f, 0.25f, 0.5f, 0.7f};
  int frames = 0;
  for (int trial = 0; trial < 40; ++trial) {
    const InputSize input{32 * (2 + trial % 4), 32 * (2 + (trial / 4) % 3)};
    const float t = thresholds[trial % 4];
    const double nms = trial % 3 == 0 ? 0.3 : 0.5;
    // Scores: a fifth exactly at the threshold, the rest uniform; NaN now and then.
    auto score_value = [&] {
      const float u = unit(rng);
      return u < 0.2f ? t : (u < 0.22f ? std::nanf("") : unit(rng));
    };

    // SCRFD: distances of 0.5..2.5 strides make neighbouring anchors overlap.
    std::vector<RandomHead> score, bbox, kps;
    for (int l = 0; l < 3; ++l) {
      const std::size_t rows = std::size_t(input.width / (8 << l)) * std::size_t(input.height / (8 << l)) * 2;
      score.emplace_back(rows, 1), bbox.emplace_back(rows, 4), kps.emplace_back(rows, 10);
      for (float& v : score.back().values) v = score_value();
      for (float& v : bbox.back().values) v = 0.5f + 2.f * unit(rng);
      for (float& v : kps.back().values) v = offset(rng);
    }
    facepost::ScrfdHeads h;
    for (int l = 0; l < 3; ++l) h.score[l] = score[l].view(), h.bbox[l] = bbox[l].view(), h.kps[l] = kps[l].view();
    const bool max_num = trial % 5 == 4;
    const float det_scale = trial % 2 ? 1.f : 0.37f;
    const facepost::ScrfdParams p{t, nms, max_num ? 7u : 0u};
    facepost::ScrfdPostprocessor post(p);
    const FamilyDetections d = post.run(h, input, ImageMapping::resize(det_scale), input);
    const facepost_ref::FamilyRows port =
        facepost_ref::scrfd_port(h.score, h.bbox, h.kps, input, det_scale, input, t, float(nms), p.max_num);
    INFO("SCRFD trial " << trial << ": " << d.size() << " rows vs " << port.size());
    CHECK(same_rows(d, port));

    // YOLOv5-face: centres near a few cluster points, sizes 8..40 px.
    RandomHead pred(facepost::detail::yolov5_face_rows(input), 16);
    for (std::size_t r = 0; r < pred.rows; ++r) {
      float* row = pred.values.data() + 16 * r;
      const float cx = float(input.width) * (0.25f + 0.5f * float(r % 3) / 2.f) + 6.f * offset(rng);
      const float cy = float(input.height) * (0.3f + 0.4f * float(r % 2)) + 6.f * offset(rng);
      row[0] = cx, row[1] = cy, row[2] = 8.f + 32.f * unit(rng), row[3] = 8.f + 32.f * unit(rng);
      row[4] = score_value();
      for (int k = 0; k < 10; ++k) row[5 + k] = (k % 2 ? cy : cx) + 10.f * offset(rng);
      row[15] = unit(rng) < 0.3f ? 1.f : unit(rng);
    }
    const facepost::Yolov5FaceParams yp{t, nms, trial % 7 == 6 ? 5u : 0u};
    facepost::Yolov5FacePostprocessor ypost(yp);
    const FamilyDetections yd = ypost.run(pred.view(), input);
    const facepost_ref::FamilyRows yport = facepost_ref::yolov5_face_port(pred.view(), t, nms, yp.max_det);
    INFO("YOLOv5-face trial " << trial << ": " << yd.size() << " rows vs " << yport.size());
    CHECK(same_rows(yd, yport));
    frames += 2;
  }
  CHECK(frames == 80);
}

TEST_CASE("families: RetinaFace through the family interface equals the pipeline and the goldens",
          "[families][retinaface]") {
  int compared = 0;
  for (const fixtures::Fixture& fx : fixtures::all()) {
    const fixtures::Heads heads(fx.name);
    for (const fixtures::GoldenSet& set : fixtures::golden_sets()) {
      facepost::RetinafacePostprocessor family(fx.anchors, set.params);
      facepost::Postprocessor pipeline(fx.anchors, set.params);
      const ImageMapping m = ImageMapping::resize(fx.resize);
      const FamilyDetections d = family.run(heads.view(), fx.input, m);
      const facepost::Detections p = pipeline.run(heads.view(), fx.input, m);
      INFO(fx.name << " / " << set.name);
      REQUIRE(d.size() == p.size());
      REQUIRE(d.cols() == 15);
      CHECK((d.size() == 0 || std::memcmp(d.data(), p.data(), d.size() * 15 * sizeof(float)) == 0));
      for (std::size_t i = 0; i < d.size(); ++i) REQUIRE(d.source_index(i) == p.prior_index(i));
      CHECK(family.stats().detections == d.size());
      const facepost::io::NpyArray golden = fixtures::load(fx.name, std::string("golden_") + set.name + ".npy");
      CHECK(fixtures::compare_with_golden(d.data(), d.size(), golden.data.data(), std::size_t(golden.shape[0])).empty());
      ++compared;
    }
  }
  CHECK(compared == 20);
}
