// YuNet (OpenCV 4.6 cv::FaceDetectorYN) against the goldens of tests/data/families/yunet, made by
// the real cv2.FaceDetectorYN 4.6.0, compared as tests/data/families/README.md "YuNet" says: same
// rows in the same order (tied scores as a set), scores bit for bit, coordinates within 1e-3 px.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "facepost/families/yunet.hpp"
#include "fixtures.hpp"

namespace {

using facepost::FamilyDetections;
using facepost::InputSize;
using facepost::TensorView;
using facepost::YunetHeads;
using facepost::YunetParams;
using facepost::YunetPostprocessor;
using facepost::YunetRect;

constexpr float kCoordTol = 1e-3f;

std::string yunet_dir(const std::string& name) { return "families/yunet/" + name; }

bool file_exists(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f) std::fclose(f);
  return f != nullptr;
}

struct YunetCase {
  const char* name;
  InputSize input;
  std::size_t priors;
};

const YunetCase kCases[] = {{"family_320x240", {320, 240}, 4385},
                            {"mosaic_crowd_960x540", {960, 540}, 29400},
                            {"noface_640x640", {640, 640}, 23500},
                            {"selfie_640x480", {640, 480}, 17610}};

struct YunetSet {
  const char* name;
  YunetParams params;
};

const YunetSet kSets[] = {
    {"default", {0.9f, 0.3f, 5000}},
    {"threshold_0_6_nms_0_45", {0.6f, 0.45f, 5000}},
    {"top_k_100", {0.6f, 0.3f, 100}},
};

/// A fixture's three outputs, held flat (the files are [N,C] or [1,N,C]).
struct YunetOutputs {
  std::vector<float> loc, conf, iou;
  std::size_t rows = 0;
  explicit YunetOutputs(const std::string& name) {
    const facepost::io::NpyArray l = fixtures::load(yunet_dir(name), "loc.npy");
    const facepost::io::NpyArray c = fixtures::load(yunet_dir(name), "conf.npy");
    const facepost::io::NpyArray i = fixtures::load(yunet_dir(name), "iou.npy");
    rows = l.size() / 14;
    REQUIRE(l.size() == rows * 14);
    REQUIRE(c.size() == rows * 2);
    REQUIRE(i.size() == rows);
    loc = l.data;
    conf = c.data;
    iou = i.data;
  }
  YunetHeads view() const {
    return {TensorView(loc.data(), rows, 14), TensorView(conf.data(), rows, 2), TensorView(iou.data(), rows, 1)};
  }
};

std::string compare(const FamilyDetections& d, const facepost::io::NpyArray& golden) {
  if (golden.shape.size() != 2 || golden.shape[1] != 15) return "golden is not [K,15]";
  const std::size_t rows = std::size_t(golden.shape[0]);
  if (d.cols() != 15 && d.size() > 0) return "detections have " + std::to_string(d.cols()) + " columns";
  return fixtures::compare_with_golden(d.data(), d.size(), golden.data.data(), rows, kCoordTol, 15, 0.f);
}

std::vector<float> rows_of(const FamilyDetections& d) { return {d.data(), d.data() + d.size() * d.cols()}; }

}  // namespace

TEST_CASE("families: YuNet matches OpenCV 4.6's FaceDetectorYN on every fixture and golden set",
          "[families][yunet]") {
  int compared = 0;
  std::size_t rows_matched = 0;
  for (const YunetCase& c : kCases) {
    const YunetOutputs out(c.name);
    REQUIRE(out.rows == c.priors);
    for (const YunetSet& set : kSets) {
      const std::string golden_file = std::string("golden_") + set.name + ".npy";
      if (!file_exists(fixtures::path(yunet_dir(c.name), golden_file))) continue;
      INFO(c.name << " / " << set.name);
      YunetPostprocessor post(set.params);
      const FamilyDetections d = post.run(out.view(), c.input);
      const std::string diff = compare(d, fixtures::load(yunet_dir(c.name), golden_file));
      INFO(diff);
      CHECK(diff.empty());
      if (diff.empty()) rows_matched += d.size();
      ++compared;
    }
  }
  // 4 cases x 2 sets + top_k_100 for the crowd.
  CHECK(compared == 9);
  CHECK(rows_matched == 22u + 33u + 159u + 259u + 49u + 0u + 0u + 11u + 22u);
}

TEST_CASE("families: YuNet's rows are OpenCV's raw rows bit for bit (x2 = x + w, y2 = y + h)", "[families][yunet]") {
  // opencv_raw_<set>.npy: x y w h, landmarks, score exactly as OpenCV returns them.
  int compared = 0;
  std::size_t values = 0, exact = 0;
  for (const YunetCase& c : kCases) {
    const YunetOutputs out(c.name);
    for (const YunetSet& set : kSets) {
      const std::string raw_file = std::string("opencv_raw_") + set.name + ".npy";
      if (!file_exists(fixtures::path(yunet_dir(c.name), raw_file))) continue;
      INFO(c.name << " / " << set.name);
      const facepost::io::NpyArray raw = fixtures::load(yunet_dir(c.name), raw_file);
      YunetPostprocessor post(set.params);
      const FamilyDetections d = post.run(out.view(), c.input);
      REQUIRE(raw.shape.size() == 2);
      REQUIRE(d.size() == std::size_t(raw.shape[0]));
      for (std::size_t i = 0; i < d.size(); ++i) {
        const float* r = raw.data.data() + 15 * i;
        const float* g = d.data() + 15 * i;
        const float want[15] = {r[0], r[1], r[0] + r[2], r[1] + r[3], r[14], r[4], r[5], r[6],
                                r[7], r[8], r[9], r[10], r[11], r[12], r[13]};
        for (std::size_t k = 0; k < 15; ++k, ++values) exact += std::memcmp(&g[k], &want[k], 4) == 0 ? 1 : 0;
      }
      ++compared;
    }
  }
  CHECK(compared == 9);
  CHECK(values == 555u * 15u);
  CHECK(exact == values);  // with facepost's exp_f32: no value differs from OpenCV's (glibc expf)
}

TEST_CASE("families: YuNet's stats count priors, candidates, ranked rows and detections", "[families][yunet]") {
  struct Want {
    const char* name;
    InputSize input;
    YunetParams params;
    std::size_t candidates, ranked, detections;
  };
  // candidates_above_threshold and rows of each meta.json.
  const Want wants[] = {
      {"family_320x240", {320, 240}, {0.9f, 0.3f, 5000}, 44, 44, 22},
      {"family_320x240", {320, 240}, {0.6f, 0.45f, 5000}, 162, 162, 33},
      {"mosaic_crowd_960x540", {960, 540}, {0.9f, 0.3f, 5000}, 526, 526, 159},
      {"mosaic_crowd_960x540", {960, 540}, {0.6f, 0.3f, 100}, 1693, 100, 49},
      {"noface_640x640", {640, 640}, {0.6f, 0.45f, 5000}, 0, 0, 0},
      {"selfie_640x480", {640, 480}, {0.6f, 0.45f, 5000}, 175, 175, 22},
  };
  for (const Want& w : wants) {
    INFO(w.name << " threshold " << w.params.threshold << " top_k " << w.params.top_k);
    const YunetOutputs out(w.name);
    YunetPostprocessor post(w.params);
    const FamilyDetections d = post.run(out.view(), w.input);
    CHECK(post.stats().priors == out.rows);
    CHECK(post.stats().candidates == w.candidates);
    CHECK(post.stats().ranked == w.ranked);
    CHECK(post.stats().detections == w.detections);
    CHECK(d.size() == w.detections);
  }
  // top_k = 0: no limit (the 1693 candidates at 0.6 all enter NMS).
  const YunetOutputs out("mosaic_crowd_960x540");
  YunetPostprocessor post({0.6f, 0.3f, 0});
  (void)post.run(out.view(), {960, 540});
  CHECK(post.stats().ranked == 1693u);
}

TEST_CASE("families: YuNet's priors follow FaceDetectorYN 4.6 (no padding, truncating halvings)",
          "[families][yunet]") {
  using facepost::yunet_prior_count;
  for (const YunetCase& c : kCases) CHECK(yunet_prior_count(c.input) == c.priors);
  // The README's sizes: 640x480 80x60, 40x30, 20x15, 10x7; 800x449: 100x56, 50x28, 25x14, 12x7.
  CHECK(yunet_prior_count({640, 480}) == 80u * 60u * 3u + 40u * 30u * 2u + 20u * 15u * 2u + 10u * 7u * 3u);
  CHECK(yunet_prior_count({800, 449}) == 100u * 56u * 3u + 50u * 28u * 2u + 25u * 14u * 2u + 12u * 7u * 3u);
  CHECK(yunet_prior_count({7, 7}) == 3u);  // one cell at step 8, nothing coarser
  CHECK(yunet_prior_count({6, 640}) == 0u);
  CHECK(yunet_prior_count({0, 640}) == 0u);
  CHECK(yunet_prior_count({-64, 64}) == 0u);
  CHECK(yunet_prior_count({facepost::kMaxInputSide + 1, 64}) == 0u);

  // Order and values: level, row, column, min size; (col + 0.5f) * step / W in float.
  const InputSize in{800, 449};
  std::vector<float> p(4 * yunet_prior_count(in), -1.f);
  REQUIRE(facepost::yunet_priors(in, p.data()) == p.size() / 4);
  const float W = 800.f, H = 449.f;
  std::size_t i = 0, mismatches = 0;
  const int fw[4] = {100, 50, 25, 12}, fh[4] = {56, 28, 14, 7}, steps[4] = {8, 16, 32, 64};
  const std::vector<std::vector<float>> mins = {{10, 16, 24}, {32, 48}, {64, 96}, {128, 192, 256}};
  for (int l = 0; l < 4; ++l)
    for (int r = 0; r < fh[l]; ++r)
      for (int c = 0; c < fw[l]; ++c)
        for (float m : mins[std::size_t(l)]) {
          volatile float a = float(c) + 0.5f, b = float(r) + 0.5f;
          volatile float ax = a * float(steps[l]), by = b * float(steps[l]);
          const float want[4] = {ax / W, by / H, m / W, m / H};
          if (std::memcmp(&p[4 * i], want, sizeof want) != 0) ++mismatches;
          ++i;
        }
  CHECK(i == p.size() / 4);
  CHECK(mismatches == 0u);
  // The object keeps the priors of its last input size.
  const YunetOutputs out("family_320x240");
  YunetPostprocessor post;
  (void)post.run(out.view(), {320, 240});
  REQUIRE(post.prior_rows() == 4385u);
  std::vector<float> q(4 * 4385);
  facepost::yunet_priors({320, 240}, q.data());
  CHECK(std::memcmp(post.priors(), q.data(), q.size() * sizeof(float)) == 0);
}

TEST_CASE("families: YuNet's NMS is NMSBoxes on Rect2i (int areas, double IoU, <= keeps)", "[families][yunet]") {
  using facepost::yunet_rect_overlap;
  // 10x10 boxes offset by 5 in x: I = 50, union 150, overlap 1/3.
  const YunetRect a{0, 0, 10, 10}, b{5, 0, 10, 10};
  CHECK(yunet_rect_overlap(a, b) == 1.f - float(1.0 - 50.0 / 150.0));
  CHECK(yunet_rect_overlap(a, a) == 1.f);
  // Touching edges do not intersect (x + w, no +1).
  CHECK(yunet_rect_overlap(a, YunetRect{10, 0, 10, 10}) == 0.f);
  // Empty rects: no intersection; two zero-area rects overlap 1 (suppressed anywhere).
  CHECK(yunet_rect_overlap(a, YunetRect{0, 0, 0, 10}) == 0.f);
  CHECK(yunet_rect_overlap(YunetRect{0, 0, 0, 0}, YunetRect{100, 100, 0, 5}) == 1.f);
  // Saturated rects do not overflow.
  const std::int32_t big = std::numeric_limits<std::int32_t>::max();
  CHECK(yunet_rect_overlap(YunetRect{0, 0, big, big}, YunetRect{0, 0, big, big}) == 1.f);

  // Greedy: kept when the overlap with every kept box is <= t (an overlap exactly t is kept).
  // 18x18 boxes offset 10: I = 8*18 = 144, union 504, overlap 0.2857 <= 0.3.
  const YunetRect edge[3] = {{0, 0, 18, 18}, {10, 0, 18, 18}, {1, 0, 18, 18}};
  std::uint32_t keep[3];
  REQUIRE(facepost::yunet_nms(edge, 3, 0.3f, keep) == 2u);
  CHECK(keep[0] == 0u);
  CHECK(keep[1] == 1u);
  const float exact = yunet_rect_overlap(edge[0], edge[1]);
  CHECK(facepost::yunet_nms(edge, 2, exact, keep) == 2u);
  CHECK(facepost::yunet_nms(edge, 2, std::nextafter(exact, 0.f), keep) == 1u);
  // Zero-area rects: the second is suppressed wherever it is.
  const YunetRect zero[2] = {{0, 0, 0, 0}, {500, 500, 0, 0}};
  CHECK(facepost::yunet_nms(zero, 2, 0.3f, keep) == 1u);
}

TEST_CASE("families: YuNet's threshold is strict and ties keep ascending prior order", "[families][yunet]") {
  // The fixtures' exact-threshold rows: cls 0.81 with a raw iou > 1 gives exactly float32(0.9),
  // dropped at 0.9 (score > threshold), kept just below.
  const YunetOutputs out("family_320x240");
  std::size_t at_09 = 0;
  for (std::size_t i = 0; i < out.rows; ++i) {
    const float iou = out.iou[i] > 1.f ? 1.f : (out.iou[i] < 0.f ? 0.f : out.iou[i]);
    if (std::sqrt(out.conf[2 * i + 1] * iou) == 0.9f) ++at_09;
  }
  REQUIRE(at_09 > 0u);
  YunetPostprocessor strict({0.9f, 0.3f, 5000});
  (void)strict.run(out.view(), {320, 240});
  YunetPostprocessor below({std::nextafter(0.9f, 0.f), 0.3f, 5000});
  (void)below.run(out.view(), {320, 240});
  CHECK(below.stats().candidates == strict.stats().candidates + at_09);
  // Rows come out by descending score, ties by ascending prior.
  const FamilyDetections d = strict.run(out.view(), {320, 240});
  for (std::size_t i = 1; i < d.size(); ++i) {
    CHECK(d[i - 1].score() >= d[i].score());
    if (d[i - 1].score() == d[i].score()) CHECK(d.source_index(i - 1) < d.source_index(i));
  }
}

TEST_CASE("families: YuNet reuses its buffers and maps rows after NMS", "[families][yunet]") {
  const YunetOutputs crowd("mosaic_crowd_960x540");
  const YunetOutputs small("family_320x240");
  YunetPostprocessor post({0.6f, 0.45f, 5000});
  const FamilyDetections first = post.run(crowd.view(), {960, 540});
  REQUIRE(first.size() == 259u);
  const std::vector<float> rows = rows_of(first);
  const FamilyDetections other = post.run(small.view(), {320, 240});  // another size: priors regenerated
  CHECK(other.size() == 33u);
  CHECK(other.data() == first.data());  // a smaller size reuses the buffers
  const FamilyDetections again = post.run(crowd.view(), {960, 540});
  CHECK(again.data() == first.data());  // the same buffer: nothing was reallocated
  REQUIRE(again.size() * again.cols() == rows.size());
  CHECK(std::memcmp(again.data(), rows.data(), rows.size() * sizeof(float)) == 0);

  // A letterbox: original = (input - pad) / scale on every x and y column; NMS is unchanged.
  const float s = 0.5f, px = 4.f, py = 10.f;
  const FamilyDetections mapped = post.run(crowd.view(), {960, 540}, facepost::ImageMapping::letterbox(s, s, px, py));
  REQUIRE(mapped.size() == 259u);
  std::size_t bad = 0;
  for (std::size_t i = 0; i < mapped.size(); ++i)
    for (std::size_t c = 0; c < 15; ++c) {
      const bool is_x = c < 4 ? c % 2 == 0 : c % 2 == 1;
      const float v = rows[15 * i + c];
      const float want = c == 4 ? v : is_x ? (v - px) / s : (v - py) / s;
      if (mapped.data()[15 * i + c] != want) ++bad;
    }
  CHECK(bad == 0u);

  // The [1,N,C] files viewed as [N,C] by view_tensor give the same rows.
  TensorView loc, conf, iou;
  REQUIRE(facepost::view_tensor(crowd.loc.data(), {1, 29400, 14}, "loc", loc).ok());
  REQUIRE(facepost::view_tensor(crowd.conf.data(), {1, 29400, 2}, "conf", conf).ok());
  REQUIRE(facepost::view_tensor(crowd.iou.data(), {1, 29400, 1}, "iou", iou).ok());
  const FamilyDetections viewed = post.run({loc, conf, iou}, {960, 540});
  REQUIRE(viewed.size() * 15 == rows.size());
  CHECK(std::memcmp(viewed.data(), rows.data(), rows.size() * sizeof(float)) == 0);
}

TEST_CASE("families: YuNet drops rows with non-finite values", "[families][yunet]") {
  YunetOutputs out("family_320x240");
  YunetPostprocessor post({0.6f, 0.45f, 5000});
  const FamilyDetections base = post.run(out.view(), {320, 240});
  REQUIRE(base.size() == 33u);
  const std::uint32_t best = base.source_index(0);
  // The best row's width overflows (exp(huge) = inf), a NaN score, an infinite cls.
  out.loc[14 * best + 2] = 1e30f;
  out.conf[2 * 5 + 1] = std::numeric_limits<float>::quiet_NaN();
  out.conf[2 * 6 + 1] = std::numeric_limits<float>::infinity();
  out.iou[6] = 1.f;
  const FamilyDetections d = post.run(out.view(), {320, 240});
  CHECK(post.stats().candidates == 163u);  // + the infinite score, which passes > 0.6
  CHECK(post.stats().ranked == 161u);      // the infinite score and the inf width dropped
  for (std::size_t i = 0; i < d.size(); ++i) {
    CHECK(d.source_index(i) != best);
    for (std::size_t c = 0; c < 15; ++c) CHECK(std::isfinite(d.data()[15 * i + c]));
  }
}

TEST_CASE("families: YuNet refuses bad input with a message naming the problem", "[families][yunet][errors]") {
  const YunetOutputs out("family_320x240");
  YunetPostprocessor post;
  FamilyDetections d;
  auto expect = [&](facepost::Status s, facepost::Errc code, const char* text) {
    INFO(s.message());
    CHECK(s.code() == code);
    CHECK(std::string(s.message()).find(text) != std::string::npos);
    CHECK(d.empty());
  };
  const InputSize in{320, 240};
  YunetHeads h = out.view();
  // 4.6 reads a short buffer out of bounds; facepost refuses it.
  h.loc = TensorView(out.loc.data(), 4384, 14);
  h.conf = TensorView(out.conf.data(), 4384, 2);
  h.iou = TensorView(out.iou.data(), 4384, 1);
  expect(post.try_run(h, in, {}, d), facepost::Errc::prior_count_mismatch,
         "YuNet tensors have 4384 rows but input size 320x240 gives 4385 priors");
  expect(post.try_run(out.view(), {320, 256}, {}, d), facepost::Errc::prior_count_mismatch,
         "input size 320x256 gives");
  h = out.view();
  h.conf = TensorView(out.conf.data(), 4384, 2);
  expect(post.try_run(h, in, {}, d), facepost::Errc::row_mismatch,
         "YuNet tensors disagree on the number of rows: loc 4385, conf 4384, iou 4385");
  h = out.view();
  h.loc = TensorView(out.loc.data(), 4385, 15, 14, 1);
  expect(post.try_run(h, in, {}, d), facepost::Errc::bad_shape, "YuNet loc tensor has 15 columns, expected 14");
  h = out.view();
  h.conf = TensorView(out.conf.data(), 4385, 1);
  expect(post.try_run(h, in, {}, d), facepost::Errc::bad_shape, "YuNet conf tensor has 1 columns, expected 2");
  h = out.view();
  h.iou = TensorView(out.conf.data(), 4385, 2);
  expect(post.try_run(h, in, {}, d), facepost::Errc::bad_shape, "YuNet iou tensor has 2 columns, expected 1");
  h = out.view();
  h.iou = TensorView{};
  expect(post.try_run(h, in, {}, d), facepost::Errc::empty_tensor, "YuNet iou tensor is empty");
  // Sizes.
  expect(post.try_run(out.view(), {0, 240}, {}, d), facepost::Errc::bad_size, "input size 0x240");
  expect(post.try_run(out.view(), {320, -1}, {}, d), facepost::Errc::bad_size, "input size 320x-1");
  expect(post.try_run(out.view(), {facepost::kMaxInputSide + 1, 240}, {}, d), facepost::Errc::size_overflow,
         "each side must be at most");
  expect(post.try_run(out.view(), {6, 240}, {}, d), facepost::Errc::bad_size, "too small for YuNet");
  // Thresholds.
  post.set_params({std::nanf(""), 0.3f, 5000});
  expect(post.try_run(out.view(), in, {}, d), facepost::Errc::bad_threshold, "YuNet threshold nan");
  post.set_params({1.5f, 0.3f, 5000});
  expect(post.try_run(out.view(), in, {}, d), facepost::Errc::bad_threshold, "YuNet threshold 1.5");
  post.set_params({-0.25f, 0.3f, 5000});
  expect(post.try_run(out.view(), in, {}, d), facepost::Errc::bad_threshold, "YuNet threshold -0.25");
  post.set_params({0.9f, 1.25f, 5000});
  expect(post.try_run(out.view(), in, {}, d), facepost::Errc::bad_threshold, "YuNet NMS threshold 1.25");
  post.set_params({0.9f, std::nanf(""), 5000});
  expect(post.try_run(out.view(), in, {}, d), facepost::Errc::bad_threshold, "YuNet NMS threshold nan");
  post.set_params({});
  expect(post.try_run(out.view(), in, facepost::ImageMapping::resize(0.f), d), facepost::Errc::bad_mapping,
         "mapping scale");
#if FACEPOST_EXCEPTIONS
  CHECK_THROWS_AS(post.run(out.view(), {0, 0}), facepost::Error);
#endif
  // After the errors, a good frame runs.
  CHECK(post.try_run(out.view(), in, {}, d).ok());
  CHECK(d.size() == 22u);
}

// ---- against the plain port (tests/reference/family_ports.hpp) --------------------------------

#include "reference/family_ports.hpp"

TEST_CASE("yunet: the plain port of FaceDetectorYN reproduces the goldens as facepost does", "[families][yunet][port]") {
  int compared = 0;
  for (const char* name : {"family_320x240", "mosaic_crowd_960x540", "selfie_640x480"}) {
    const std::string dir = std::string("families/yunet/") + name;
    const facepost::io::NpyArray loc = fixtures::load(dir, "loc.npy"), conf = fixtures::load(dir, "conf.npy"),
                                 iou = fixtures::load(dir, "iou.npy");
    const std::size_t n = loc.data.size() / 14;
    const facepost::TensorView l(loc.data.data(), n, 14), c(conf.data.data(), n, 2), i(iou.data.data(), n, 1);
    const facepost::InputSize input = name[0] == 'f' ? facepost::InputSize{320, 240}
                                      : name[0] == 'm' ? facepost::InputSize{960, 540}
                                                       : facepost::InputSize{640, 480};
    for (const auto& set : {std::make_pair("default", 0.9f), std::make_pair("threshold_0_6_nms_0_45", 0.6f)}) {
      const float nms = set.second == 0.9f ? 0.3f : 0.45f;
      const facepost_ref::FamilyRows port = facepost_ref::yunet_port(l, c, i, input, set.second, nms, 5000);
      facepost::YunetPostprocessor post({set.second, nms, 5000});
      const facepost::FamilyDetections d = post.run({l, c, i}, input);
      const facepost::io::NpyArray golden = fixtures::load(dir, std::string("golden_") + set.first + ".npy");
      INFO(name << " / " << set.first);
      CHECK(fixtures::compare_with_golden(port.data.data(), port.size(), golden.data.data(),
                                          std::size_t(golden.shape[0]), 1e-3f, 15)
                .empty());
      CHECK(fixtures::compare_with_golden(d.data(), d.size(), port.data.data(), port.size(), 1e-3f, 15).empty());
      ++compared;
    }
  }
  CHECK(compared == 6);
}
