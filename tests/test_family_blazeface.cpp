// BlazeFace (MediaPipe short-range "front" and full-range "back") against the goldens of
// tests/data/families/blazeface, made by hollance/BlazeFace-PyTorch's own post-processing and
// compared as tests/data/families/README.md "BlazeFace" says: same rows in the same order, scores
// within 1e-6, coordinates within 1e-3 px.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "facepost/families/blazeface.hpp"
#include "fixtures.hpp"

namespace {

using facepost::BlazefaceHeads;
using facepost::BlazefaceModel;
using facepost::BlazefaceParams;
using facepost::BlazefacePostprocessor;
using facepost::FamilyDetections;
using facepost::TensorView;

constexpr float kScoreTol = 1e-6f;
constexpr float kCoordTol = 1e-3f;

std::string blaze_dir(const std::string& name) { return "families/blazeface/" + name; }

bool file_exists(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f) std::fclose(f);
  return f != nullptr;
}

/// A fixture's two outputs, held as [896,C] arrays (the files are [1,896,C]).
struct BlazeOutputs {
  std::vector<float> reg, cls;
  explicit BlazeOutputs(const std::string& name) {
    const facepost::io::NpyArray r = fixtures::load(blaze_dir(name), "regressors.npy");
    const facepost::io::NpyArray c = fixtures::load(blaze_dir(name), "classificators.npy");
    REQUIRE(r.size() == 896u * 16u);
    REQUIRE(c.size() == 896u);
    reg = r.data;
    cls = c.data;
  }
  BlazefaceHeads view() const { return {TensorView(reg.data(), 896, 16), TensorView(cls.data(), 896, 1)}; }
  /// The same memory as the ONNX models' two groups.
  BlazefaceHeads groups() const {
    return {TensorView(reg.data(), 512, 16), TensorView(reg.data() + 512 * 16, 384, 16),
            TensorView(cls.data(), 512, 1), TensorView(cls.data() + 512, 384, 1)};
  }
};

BlazefaceModel model_of(const std::string& name) {
  return name.rfind("back_", 0) == 0 ? BlazefaceModel::back : BlazefaceModel::front;
}

const char* const kCases[] = {"front_3faces", "front_astronaut_planted", "back_selfie_crowd",
                              "back_motorcycle_noface"};

struct BlazeSet {
  const char* name;
  BlazefaceParams params;
};

const BlazeSet kSets[] = {
    {"default", {0.75f, 0.3f}},
    {"threshold_0_5", {0.5f, 0.3f}},
    {"threshold_0_5_nms_0_5", {0.5f, 0.5f}},
    {"hollance_back_0_65", {0.65f, 0.3f}},
};

std::string compare(const FamilyDetections& d, const facepost::io::NpyArray& golden) {
  const std::size_t rows = golden.shape.empty() ? 0 : std::size_t(golden.shape[0]);
  if (golden.shape.size() != 2 || golden.shape[1] != 17) return "golden is not [K,17]";
  if (d.cols() != 17) return "detections have " + std::to_string(d.cols()) + " columns";
  return fixtures::compare_with_golden(d.data(), d.size(), golden.data.data(), rows, kCoordTol, 17, kScoreTol);
}

std::vector<float> rows_of(const FamilyDetections& d) { return {d.data(), d.data() + d.size() * d.cols()}; }

bool same_rows(const FamilyDetections& a, const FamilyDetections& b) {
  if (a.size() != b.size() || a.cols() != b.cols()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a.source_index(i) != b.source_index(i)) return false;
  return std::memcmp(a.data(), b.data(), a.size() * a.cols() * sizeof(float)) == 0;
}

const float* find_source(const FamilyDetections& d, std::uint32_t anchor) {
  for (std::size_t i = 0; i < d.size(); ++i)
    if (d.source_index(i) == anchor) return d.data() + d.cols() * i;
  return nullptr;
}

}  // namespace

TEST_CASE("families: BlazeFace matches hollance's BlazeFace-PyTorch on every fixture and golden set",
          "[families][blazeface]") {
  int compared = 0;
  for (const char* name : kCases) {
    const BlazeOutputs out(name);
    for (const BlazeSet& set : kSets) {
      const std::string golden_file = std::string("golden_") + set.name + ".npy";
      if (!file_exists(fixtures::path(blaze_dir(name), golden_file))) continue;
      INFO(name << " / " << set.name);
      BlazefacePostprocessor post(model_of(name), set.params);
      const std::string diff = compare(post.run(out.view()), fixtures::load(blaze_dir(name), golden_file));
      INFO(diff);
      CHECK(diff.empty());
      ++compared;
    }
  }
  // 4 cases x 3 sets + hollance_back_0_65 for the 2 back cases.
  CHECK(compared == 14);
}

TEST_CASE("families: BlazeFace's default threshold is the reference's for the model", "[families][blazeface]") {
  CHECK(BlazefaceParams{}.threshold_for(BlazefaceModel::front) == 0.75f);
  CHECK(BlazefaceParams{}.threshold_for(BlazefaceModel::back) == 0.65f);
  CHECK(BlazefaceParams{0.5f, 0.3f}.threshold_for(BlazefaceModel::back) == 0.5f);
  CHECK(BlazefaceParams{}.nms_threshold == 0.3f);
  // Default parameters: front = the `default` golden (0.75), back = `hollance_back_0_65`.
  const struct {
    const char* name;
    const char* golden;
  } cases[] = {{"front_3faces", "golden_default.npy"},
               {"front_astronaut_planted", "golden_default.npy"},
               {"back_selfie_crowd", "golden_hollance_back_0_65.npy"}};
  for (const auto& c : cases) {
    INFO(c.name);
    const BlazeOutputs out(c.name);
    BlazefacePostprocessor post(model_of(c.name));
    const std::string diff = compare(post.run(out.view()), fixtures::load(blaze_dir(c.name), c.golden));
    INFO(diff);
    CHECK(diff.empty());
  }
  // The seeds of front_astronaut_planted's default set (meta.json "seed_anchor").
  const BlazeOutputs out("front_astronaut_planted");
  BlazefacePostprocessor post(BlazefaceModel::front);
  const FamilyDetections d = post.run(out.view());
  const std::uint32_t seeds[] = {54, 450, 143, 55, 60};
  REQUIRE(d.size() == 5);
  for (std::size_t i = 0; i < 5; ++i) CHECK(d.source_index(i) == seeds[i]);
}

TEST_CASE("families: BlazeFace's anchors are MediaPipe's SSD anchors, every value exact", "[families][blazeface]") {
  for (BlazefaceModel m : {BlazefaceModel::front, BlazefaceModel::back}) {
    const facepost::SsdAnchorOptions o = facepost::blazeface_anchor_options(m);
    CHECK(o.num_layers == 4);
    CHECK(o.input_width == facepost::blazeface_input_size(m));
    CHECK(o.strides[0] == (m == BlazefaceModel::front ? 8 : 16));
    CHECK(o.strides[3] == 2 * o.strides[0]);
    REQUIRE(facepost::ssd_anchor_count(o) == 896u);
    std::vector<float> a(896 * 4, -1.f);
    facepost::blazeface_anchors(m, a.data());
    // The README's description: group 1 16x16 cells x 2, group 2 8x8 cells x 6;
    // [(x + 0.5) / fm, (y + 0.5) / fm, 1, 1].
    std::size_t i = 0, mismatches = 0;
    for (int g = 0; g < 2; ++g) {
      const int fm = g == 0 ? 16 : 8, per_cell = g == 0 ? 2 : 6;
      for (int y = 0; y < fm; ++y)
        for (int x = 0; x < fm; ++x)
          for (int k = 0; k < per_cell; ++k, ++i) {
            const float want[4] = {float((x + 0.5) / fm), float((y + 0.5) / fm), 1.f, 1.f};
            if (std::memcmp(&a[4 * i], want, sizeof want) != 0) ++mismatches;
          }
    }
    CHECK(i == 896u);
    CHECK(mismatches == 0u);
    const BlazefacePostprocessor post(m);
    CHECK(std::memcmp(post.anchors(), a.data(), a.size() * sizeof(float)) == 0);
  }
  // The generator follows the options: another graph's (one layer, stride 4 at 192: 48x48 x 1).
  facepost::SsdAnchorOptions full;
  full.input_width = full.input_height = 192;
  full.num_layers = 1;
  full.strides[0] = 4;
  full.anchors_per_layer = 1;
  CHECK(facepost::ssd_anchor_count(full) == 48u * 48u);
  std::vector<float> a(48 * 48 * 4);
  REQUIRE(facepost::ssd_anchors(full, a.data()) == 48u * 48u);
  CHECK(a[0] == 0.5f / 48.f);
  CHECK(a[4 * 48 + 1] == 1.5f / 48.f);
  // Non-square input, a stride that does not divide it: ceil(size / stride) cells.
  facepost::SsdAnchorOptions odd = full;
  odd.input_width = 100;
  odd.input_height = 60;
  odd.strides[0] = 32;  // 4 x 2 cells
  CHECK(facepost::ssd_anchor_count(odd) == 8u);
  // Invalid options make nothing.
  facepost::SsdAnchorOptions bad = full;
  bad.num_layers = 0;
  CHECK(facepost::ssd_anchor_count(bad) == 0u);
  bad = full;
  bad.strides[0] = 0;
  CHECK(facepost::ssd_anchor_count(bad) == 0u);
  CHECK(facepost::ssd_anchors(bad, nullptr) == 0u);
}

TEST_CASE("families: BlazeFace's planted rows sit on the threshold and IoU boundaries", "[families][blazeface]") {
  const BlazeOutputs out("front_astronaut_planted");
  // p_half: logit 0, score exactly 0.5, kept at 0.5 (score >= threshold).
  BlazefacePostprocessor half(BlazefaceModel::front, {0.5f, 0.3f});
  const FamilyDetections d5 = half.run(out.view());
  const float* p_half = find_source(d5, 34);
  REQUIRE(p_half != nullptr);
  CHECK(p_half[4] == 0.5f);
  CHECK((p_half[0] == 4.f && p_half[1] == 4.f && p_half[2] == 20.f && p_half[3] == 20.f));
  // One ulp above 0.5 drops it.
  BlazefacePostprocessor above(BlazefaceModel::front, {std::nextafter(0.5f, 1.f), 0.3f});
  CHECK(find_source(above.run(out.view()), 34) == nullptr);

  // p_075: sigmoid exactly 0.75, kept at the front default 0.75.
  BlazefacePostprocessor def(BlazefaceModel::front);
  const FamilyDetections d = def.run(out.view());
  const float* p_075 = find_source(d, 60);
  REQUIRE(p_075 != nullptr);
  CHECK(p_075[4] == 0.75f);
  CHECK(facepost::detail::blazeface_score(1.0986121892929077f) == 0.75f);

  // p_iou03a/b: IoU exactly float32(0.3), not > 0.3: two rows, each its own (unchanged) box.
  const float* a = find_source(d, 54);
  const float* b = find_source(d, 55);
  REQUIRE(a != nullptr);
  REQUIRE(b != nullptr);
  CHECK((a[0] == 82.f && a[1] == 2.f && a[2] == 102.f && a[3] == 22.f));
  CHECK((b[0] == 86.f && b[1] == 7.f && b[2] == 98.f && b[3] == 17.f));
  {
    const float s = 128.f;
    const float ax1 = 82.f / s, ay1 = 2.f / s, ax2 = 102.f / s, ay2 = 22.f / s;
    const float bx1 = 86.f / s, by1 = 7.f / s, bx2 = 98.f / s, by2 = 17.f / s;
    using facepost::IouConvention;
    const float iou = facepost::arith::box_iou<IouConvention::continuous>(
        ax1, ay1, ax2, ay2, facepost::arith::box_area<IouConvention::continuous>(ax1, ay1, ax2, ay2), bx1, by1, bx2,
        by2, facepost::arith::box_area<IouConvention::continuous>(bx1, by1, bx2, by2));
    CHECK(iou == 0.3f);
  }

  // p_iou05a/b: IoU exactly 0.5: merged at 0.3 (the score-weighted box, the mean score),
  // two rows at 0.5.
  const float* merged = find_source(d, 450);
  REQUIRE(merged != nullptr);
  CHECK(find_source(d, 451) == nullptr);
  const float sa = facepost::detail::blazeface_score(2.5f), sb = facepost::detail::blazeface_score(1.5f);
  CHECK(std::fabs(merged[4] - (sa + sb) / 2.f) <= 1e-7f);
  CHECK(std::fabs(merged[3] - (124.f * sa + 116.f * sb) / (sa + sb)) <= 1e-4f);
  CHECK(merged[0] == 4.f);
  BlazefacePostprocessor wide(BlazefaceModel::front, {0.5f, 0.5f});
  const FamilyDetections d55 = wide.run(out.view());
  REQUIRE(find_source(d55, 450) != nullptr);
  REQUIRE(find_source(d55, 451) != nullptr);
  CHECK(find_source(d55, 451)[3] == 116.f);
}

TEST_CASE("families: BlazeFace's two-group layout gives the concatenated layout's rows", "[families][blazeface]") {
  for (const char* name : kCases) {
    INFO(name);
    const BlazeOutputs out(name);
    BlazefacePostprocessor one(model_of(name), {0.5f, 0.3f}), two(model_of(name), {0.5f, 0.3f});
    const FamilyDetections a = one.run(out.view());
    CHECK(same_rows(a, two.run(out.groups())));
    // Groups in separate buffers, the scores as strided views (every other float).
    std::vector<float> r16(out.reg.begin(), out.reg.begin() + 512 * 16), r8(out.reg.begin() + 512 * 16, out.reg.end());
    std::vector<float> s16(2 * 512), s8(2 * 384);
    for (std::size_t i = 0; i < 512; ++i) s16[2 * i] = out.cls[i];
    for (std::size_t i = 0; i < 384; ++i) s8[2 * i] = out.cls[512 + i];
    const BlazefaceHeads h(TensorView(r16.data(), 512, 16), TensorView(r8.data(), 384, 16),
                           TensorView(s16.data(), 512, 1, 2, 1), TensorView(s8.data(), 384, 1, 2, 1));
    CHECK(same_rows(a, two.run(h)));
    // Mixed: concatenated regressors, grouped scores.
    BlazefaceHeads mixed = out.view();
    mixed.scores[0] = TensorView(out.cls.data(), 512, 1);
    mixed.scores[1] = TensorView(out.cls.data() + 512, 384, 1);
    CHECK(same_rows(a, two.run(mixed)));
  }
}

TEST_CASE("families: BlazeFace reuses its buffers and maps rows to the original image", "[families][blazeface]") {
  const BlazeOutputs out("back_selfie_crowd");
  BlazefacePostprocessor post(BlazefaceModel::back, {0.5f, 0.3f});
  const FamilyDetections first = post.run(out.view());
  REQUIRE(first.size() == 15);
  const std::vector<float> rows = rows_of(first);
  (void)post.run(BlazeOutputs("back_motorcycle_noface").view());
  const FamilyDetections again = post.run(out.view());
  CHECK(again.data() == first.data());  // the same buffer: nothing was reallocated
  REQUIRE(again.size() * again.cols() == rows.size());
  CHECK(std::memcmp(again.data(), rows.data(), rows.size() * sizeof(float)) == 0);

  // The letterbox of meta.json (2048x1150 -> 256x144 at pad_top 56): original = (input - pad) / scale.
  const float sx = 0.125f, sy = float(0.12521739130434784), py = 56.f;
  const FamilyDetections mapped = post.run(out.view(), facepost::ImageMapping::letterbox(sx, sy, 0.f, py));
  REQUIRE(mapped.size() == rows.size() / 17);
  std::size_t bad = 0;
  for (std::size_t i = 0; i < mapped.size(); ++i)
    for (std::size_t c = 0; c < 17; ++c) {
      const bool is_x = c < 4 ? c % 2 == 0 : c % 2 == 1;
      const float v = rows[17 * i + c];
      const float want = c == 4 ? v : is_x ? v / sx : (v - py) / sy;
      if (mapped.data()[17 * i + c] != want) ++bad;
    }
  CHECK(bad == 0u);
  // Clipping to the image.
  const FamilyDetections clipped =
      post.run(out.view(), facepost::ImageMapping::letterbox(sx, sy, 0.f, py).clip_to(2048.f, 1150.f));
  for (std::size_t i = 0; i < clipped.size(); ++i)
    for (std::size_t c = 0; c < 17; ++c)
      if (c != 4) CHECK((clipped.data()[17 * i + c] >= 0.f && clipped.data()[17 * i + c] <= 2048.f));
}

TEST_CASE("families: BlazeFace terminates on degenerate input with a defined result", "[families][blazeface]") {
  const BlazeOutputs out("front_3faces");
  BlazefacePostprocessor ref(BlazefaceModel::front);
  const std::vector<float> base = rows_of(ref.run(out.view()));
  const std::size_t base_rows = base.size() / 17;
  REQUIRE(base_rows == 3);
  const std::uint32_t best = ref.run(out.view()).source_index(0);

  auto all_finite = [](const FamilyDetections& d) {
    for (std::size_t k = 0; k < d.size() * d.cols(); ++k)
      if (!std::isfinite(d.data()[k])) return false;
    return true;
  };

  SECTION("a zero-area box is its own cluster (its IoU with itself is NaN)") {
    BlazeOutputs z = out;
    z.reg[16 * best + 2] = 0.f;  // w = 0
    z.reg[16 * best + 3] = 0.f;  // h = 0
    BlazefacePostprocessor post(BlazefaceModel::front);
    const FamilyDetections d = post.run(z.view());
    REQUIRE(d.size() >= 1);
    CHECK(d.source_index(0) == best);
    CHECK(d[0].x1() == d[0].x2());
    CHECK(all_finite(d));
    // Its former cluster mates now form their own clusters: more rows than before.
    CHECK(d.size() > base_rows);
  }
  SECTION("inverted boxes (negative width) terminate too") {
    BlazeOutputs z = out;
    for (std::size_t r = 0; r < 896; ++r) z.reg[16 * r + 2] = -std::fabs(z.reg[16 * r + 2]);
    BlazefacePostprocessor post(BlazefaceModel::front);
    const FamilyDetections d = post.run(z.view());
    CHECK(d.size() == 7u);  // the 7 candidates, none merges
    CHECK(all_finite(d));
  }
  SECTION("non-finite regressions drop the anchor before NMS") {
    BlazeOutputs z = out, gone = out;
    z.reg[16 * best + 5] = std::numeric_limits<float>::quiet_NaN();    // one keypoint
    gone.cls[best] = -100.f;                                            // not a candidate
    BlazeOutputs inf = out;
    inf.reg[16 * best + 0] = std::numeric_limits<float>::infinity();
    BlazeOutputs all_nan = out;
    for (float& v : all_nan.reg) v = std::numeric_limits<float>::quiet_NaN();
    BlazefacePostprocessor p1(BlazefaceModel::front), p2(BlazefaceModel::front), p3(BlazefaceModel::front),
        p4(BlazefaceModel::front);
    const FamilyDetections want = p2.run(gone.view());
    CHECK(same_rows(p1.run(z.view()), want));
    CHECK(same_rows(p3.run(inf.view()), want));
    CHECK(p4.run(all_nan.view()).empty());
    // NaN logits never pass the threshold.
    BlazeOutputs nan_score = out;
    nan_score.cls[best] = std::numeric_limits<float>::quiet_NaN();
    CHECK(same_rows(p1.run(nan_score.view()), want));
  }
  SECTION("nms_threshold 1: nothing merges, every candidate is a row, by descending score") {
    BlazefacePostprocessor post(BlazefaceModel::front, {0.75f, 1.f});
    const FamilyDetections d = post.run(out.view());
    CHECK(d.size() == 7u);  // README: 7 candidates at 0.75
    for (std::size_t i = 1; i < d.size(); ++i) CHECK(d[i - 1].score() > d[i].score());
    CHECK(all_finite(d));
  }
  SECTION("nms_threshold 0 merges every overlap; threshold 0 takes all 896 anchors") {
    BlazefacePostprocessor post(BlazefaceModel::front, {0.f, 0.f});
    const FamilyDetections d = post.run(out.view());
    CHECK(d.size() >= 1u);
    CHECK(d.size() < 896u);
    CHECK(all_finite(d));
  }
  SECTION("a mapping that overflows drops the rows it makes non-finite") {
    BlazefacePostprocessor post(BlazefaceModel::front);
    const FamilyDetections d = post.run(out.view(), facepost::ImageMapping::resize(1e-38f));
    CHECK(d.empty());
  }
}

TEST_CASE("families: BlazeFace refuses bad input with a message naming the problem",
          "[families][blazeface][errors]") {
  const BlazeOutputs out("front_3faces");
  BlazefacePostprocessor post(BlazefaceModel::front);
  FamilyDetections d;
  auto expect = [&](facepost::Status s, facepost::Errc code, const char* text) {
    INFO(s.message());
    CHECK(s.code() == code);
    CHECK(std::string(s.message()).find(text) != std::string::npos);
    CHECK(d.empty());
  };
  BlazefaceHeads h = out.view();
  h.regressors[0] = TensorView(out.reg.data(), 895, 16);
  expect(post.try_run(h, {}, d), facepost::Errc::prior_count_mismatch,
         "BlazeFace regressors tensor has 895 rows, expected 896");
  h = out.view();
  h.regressors[0] = TensorView(out.reg.data(), 896, 17);
  expect(post.try_run(h, {}, d), facepost::Errc::bad_shape, "BlazeFace regressors tensor has 17 columns, expected 16");
  h = out.view();
  h.scores[0] = TensorView(out.cls.data(), 448, 2);
  expect(post.try_run(h, {}, d), facepost::Errc::bad_shape, "BlazeFace scores tensor has 2 columns, expected 1");
  h = out.view();
  h.scores[0] = TensorView{};
  expect(post.try_run(h, {}, d), facepost::Errc::empty_tensor, "BlazeFace scores tensor is empty");
  // Groups in the wrong order.
  h = out.groups();
  std::swap(h.regressors[0], h.regressors[1]);
  expect(post.try_run(h, {}, d), facepost::Errc::prior_count_mismatch,
         "BlazeFace regressors group 1 (16x16 cells) has 384 rows, expected 512");
  h = out.groups();
  h.scores[1] = TensorView(out.cls.data() + 512, 383, 1);
  expect(post.try_run(h, {}, d), facepost::Errc::prior_count_mismatch,
         "BlazeFace scores group 2 (8x8 cells) has 383 rows, expected 384");
  // Thresholds.
  post.set_params({std::nanf(""), 0.3f});
  expect(post.try_run(out.view(), {}, d), facepost::Errc::bad_threshold, "BlazeFace threshold nan");
  post.set_params({1.5f, 0.3f});
  expect(post.try_run(out.view(), {}, d), facepost::Errc::bad_threshold, "BlazeFace threshold 1.5");
  post.set_params({-0.25f, 0.3f});
  expect(post.try_run(out.view(), {}, d), facepost::Errc::bad_threshold, "BlazeFace threshold -0.25");
  post.set_params({std::nullopt, 1.25f});
  expect(post.try_run(out.view(), {}, d), facepost::Errc::bad_threshold, "BlazeFace NMS threshold 1.25");
  post.set_params({std::nullopt, std::nanf("")});
  expect(post.try_run(out.view(), {}, d), facepost::Errc::bad_threshold, "BlazeFace NMS threshold nan");
  post.set_params({});
  expect(post.try_run(out.view(), facepost::ImageMapping::resize(0.f), d), facepost::Errc::bad_mapping,
         "mapping scale");
  BlazefacePostprocessor unknown(static_cast<BlazefaceModel>(7));
  expect(unknown.try_run(out.view(), {}, d), facepost::Errc::bad_argument, "unknown BlazeFace model 7");
#if FACEPOST_EXCEPTIONS
  CHECK_THROWS_AS(post.run(h), facepost::Error);
#endif
  // After the errors, a good frame runs.
  CHECK(post.try_run(out.view(), {}, d).ok());
  CHECK(d.size() == 3u);
}

// ---- against the plain port (tests/reference/family_ports.hpp) --------------------------------

#include <random>

#include "reference/family_ports.hpp"

TEST_CASE("blazeface: the port reproduces the goldens, and facepost equals the port on random outputs",
          "[families][blazeface][port]") {
  // The goldens first: the port is the independent check only if it is right.
  for (const char* name : {"front_astronaut_planted", "back_selfie_crowd"}) {
    const std::string dir = std::string("families/blazeface/") + name;
    const facepost::io::NpyArray reg = fixtures::load(dir, "regressors.npy"), cls = fixtures::load(dir, "classificators.npy");
    const bool back = std::string(name).rfind("back", 0) == 0;
    const facepost::BlazefacePostprocessor post(back ? facepost::BlazefaceModel::back : facepost::BlazefaceModel::front);
    const facepost::io::NpyArray golden = fixtures::load(dir, "golden_threshold_0_5.npy");
    const facepost_ref::FamilyRows port = facepost_ref::blazeface_port(
        facepost::TensorView(reg.data.data(), 896, 16), facepost::TensorView(cls.data.data(), 896, 1), post.anchors(),
        back ? 256.f : 128.f, 0.5f, 0.3f);
    INFO(name);
    CHECK(fixtures::compare_with_golden(port.data.data(), port.size(), golden.data.data(), std::size_t(golden.shape[0]),
                                        1e-3f, 17, 1e-6f)
              .empty());
  }
  // Random frames: clustered boxes, logits around the thresholds.
  std::mt19937 rng(896);
  std::uniform_real_distribution<float> unit(0.f, 1.f), jitter(-4.f, 4.f);
  int frames = 0;
  for (int trial = 0; trial < 30; ++trial) {
    const facepost::BlazefaceModel model = trial % 2 ? facepost::BlazefaceModel::back : facepost::BlazefaceModel::front;
    const float S = model == facepost::BlazefaceModel::back ? 256.f : 128.f;
    const float t = trial % 3 == 0 ? 0.5f : 0.75f, nms = trial % 4 == 0 ? 0.5f : 0.3f;
    facepost::BlazefacePostprocessor post(model, {t, nms});
    std::vector<float> reg(896 * 16), cls(896);
    for (std::size_t i = 0; i < 896; ++i) {
      const float* a = post.anchors() + 4 * i;
      // Offsets that move each anchor's box onto one of three face centres.
      const float fx = S * (0.25f + 0.25f * float(i % 3)), fy = S * (0.3f + 0.2f * float(i % 2));
      float* r = reg.data() + 16 * i;
      r[0] = fx - a[0] * S + jitter(rng), r[1] = fy - a[1] * S + jitter(rng);
      r[2] = S * 0.2f + 4.f * jitter(rng), r[3] = S * 0.2f + 4.f * jitter(rng);
      for (int k = 4; k < 16; ++k) r[k] = (k % 2 ? fy - a[1] * S : fx - a[0] * S) + 3.f * jitter(rng);
      cls[i] = 3.f * (unit(rng) - 0.4f);
    }
    const facepost::FamilyDetections d =
        post.run(facepost::BlazefaceHeads(facepost::TensorView(reg.data(), 896, 16), facepost::TensorView(cls.data(), 896, 1)));
    const facepost_ref::FamilyRows port = facepost_ref::blazeface_port(
        facepost::TensorView(reg.data(), 896, 16), facepost::TensorView(cls.data(), 896, 1), post.anchors(), S, t, nms);
    INFO("trial " << trial << ": " << d.size() << " rows vs the port's " << port.size());
    REQUIRE(d.size() == port.size());
    // exp: facepost's exp_f32 against exp in double rounded once: equal on every value tried; the
    // averaged coordinates may differ by rounding of the running sums only if the scores do.
    CHECK(fixtures::compare_with_golden(d.data(), d.size(), port.data.data(), port.size(), 1e-3f, 17, 1e-6f).empty());
    frames += d.size() > 1 ? 1 : 0;
  }
  CHECK(frames >= 20);  // most frames have several clusters
}
