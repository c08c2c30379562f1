// Bad input: each case gives its Errc and a message naming the problem, through try_run (Status,
// no throw) and run (throws facepost::Error with the same code). Non-finite regressions never
// produce non-finite detections.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "facepost/facepost.hpp"
#include "reference/random_heads.hpp"
#include "reference/reference_port.hpp"

namespace {

using facepost::AnchorConfig;
using facepost::Errc;
using facepost::HeadOutputs;
using facepost::ImageMapping;
using facepost::InputSize;
using facepost::Params;
using facepost::TensorView;
using facepost_test::OwnedHeads;

const float kNaN = std::numeric_limits<float>::quiet_NaN();
const float kInf = std::numeric_limits<float>::infinity();

AnchorConfig mnet() { return facepost::to_anchor_config(facepost::presets::retinaface_mnet{}); }

std::size_t priors_of(const AnchorConfig& a, InputSize in) {
  std::size_t n = 0;
  REQUIRE(facepost::count_priors(a, in, n).ok());
  return n;
}

// Checks both APIs: try_run returns `code` with a message containing `fragment` and an empty
// result; run throws facepost::Error with the same code and message.
template <class Post>
void expect_error(Post& post, const HeadOutputs& heads, InputSize in, const ImageMapping& m, Errc code,
                  const std::string& fragment) {
  static const float stale[45] = {};
  facepost::Detections d(stale, nullptr, 3);  // a failed call must reset it
  const facepost::Status s = post.try_run(heads, in, m, d);
  INFO("status: " << facepost::errc_name(s.code()) << ": " << s.message());
  CHECK(s.code() == code);
  CHECK_FALSE(s.ok());
  CHECK(std::string(s.message()).find(fragment) != std::string::npos);
  CHECK(d.size() == 0);
  bool threw = false;
  try {
    post.run(heads, in, m);
  } catch (const facepost::Error& e) {
    threw = true;
    CHECK(e.code() == code);
    CHECK(std::string(e.what()) == s.message());
  }
  CHECK(threw);
}

// A valid frame for `a` at `in`: zero regressions, one face.
OwnedHeads valid_heads(const AnchorConfig& a, InputSize in) {
  OwnedHeads h(priors_of(a, in));
  for (std::size_t r = 0; r < h.rows(); ++r) h.set_score(r, 0.f);
  h.set_score(0, 0.9f);
  return h;
}

}  // namespace

TEST_CASE("errors: priors built for the original image instead of the network input", "[errors]") {
  // Tensors of a 640x359 network input; the caller passes the 1600x898 original size.
  const OwnedHeads h = valid_heads(mnet(), {640, 359});
  facepost::Postprocessor post(mnet());
  expect_error(post, h.view(), {1600, 898}, {}, Errc::prior_count_mismatch, "original image");
  expect_error(post, h.view(), {1600, 898}, {}, Errc::prior_count_mismatch, "9520 rows");
  // The right size then works on the same object.
  CHECK(post.run(h.view(), {640, 359}).size() == 1);
}

TEST_CASE("errors: tensors that disagree on rows, are empty, or have wrong columns", "[errors]") {
  const InputSize in{64, 64};
  const OwnedHeads h = valid_heads(mnet(), in);
  const std::size_t n = h.rows();
  facepost::Postprocessor post(mnet());
  HeadOutputs bad = h.view();
  bad.conf.rows = n - 1;
  expect_error(post, bad, in, {}, Errc::row_mismatch, "disagree on the number of rows");
  bad = h.view();
  bad.landms.rows = n + 1;
  expect_error(post, bad, in, {}, Errc::row_mismatch, "landms " + std::to_string(n + 1));
  // Empty and null.
  for (int which = 0; which < 3; ++which) {
    const char* name[] = {"loc", "conf", "landms"};
    bad = h.view();
    TensorView& t = which == 0 ? bad.loc : which == 1 ? bad.conf : bad.landms;
    t.rows = 0;
    expect_error(post, bad, in, {}, Errc::empty_tensor, std::string(name[which]) + " tensor is empty");
    bad = h.view();
    TensorView& u = which == 0 ? bad.loc : which == 1 ? bad.conf : bad.landms;
    u.data = nullptr;
    expect_error(post, bad, in, {}, Errc::empty_tensor, std::string(name[which]) + " tensor is empty");
  }
  expect_error(post, HeadOutputs{}, in, {}, Errc::empty_tensor, "is empty");
  // Wrong column counts (e.g. landms and loc swapped, or a [N,1] score).
  bad = h.view();
  bad.loc.cols = 5;
  expect_error(post, bad, in, {}, Errc::bad_shape, "loc tensor has 5 columns, expected 4");
  bad = h.view();
  bad.conf.cols = 1;
  expect_error(post, bad, in, {}, Errc::bad_shape, "conf tensor has 1 columns, expected 2");
  bad = h.view();
  std::swap(bad.loc, bad.landms);
  expect_error(post, bad, in, {}, Errc::bad_shape, "loc tensor has 10 columns, expected 4");
}

TEST_CASE("errors: input sizes that are zero, negative or overflow the prior count", "[errors]") {
  const OwnedHeads h = valid_heads(mnet(), {64, 64});
  facepost::Postprocessor post(mnet());
  for (InputSize in : {InputSize{0, 64}, InputSize{64, 0}, InputSize{-64, 64}, InputSize{64, -1},
                       InputSize{std::numeric_limits<int>::min(), 5}})
    expect_error(post, h.view(), in, {}, Errc::bad_size, "width and height must be positive");
  // Past the largest side accepted.
  expect_error(post, h.view(), {facepost::kMaxInputSide + 1, 64}, {}, Errc::size_overflow, "at most");
  expect_error(post, h.view(), {64, std::numeric_limits<int>::max()}, {}, Errc::size_overflow, "at most");
  // Huge sizes with a tiny step: more than kMaxPriors priors, refused before anything is built.
  AnchorConfig tiny_step;
  tiny_step.levels = {{1, {4, 8}}};
  facepost::Postprocessor fine(tiny_step);
  expect_error(fine, h.view(), {65536, 65536}, {}, Errc::size_overflow, "priors");
  expect_error(fine, h.view(), {facepost::kMaxInputSide, facepost::kMaxInputSide}, {}, Errc::size_overflow,
               "more than 2147483648 priors");
  CHECK_FALSE(fine.priors().built());
  // count_priors and PriorGrid say the same.
  std::size_t count = 123;
  CHECK(facepost::count_priors(tiny_step, {65536, 65536}, count).code() == Errc::size_overflow);
  CHECK(count == 0);
  facepost::PriorGrid<AnchorConfig> grid(tiny_step);
  CHECK(grid.try_build({65536, 65536}).code() == Errc::size_overflow);
  CHECK_THROWS_AS(grid.build({0, 1}), facepost::Error);
  // A step far larger than the input is fine (one cell).
  AnchorConfig huge_step;
  huge_step.levels = {{std::numeric_limits<int>::max(), {16}}};
  CHECK(priors_of(huge_step, {640, 640}) == 1);
}

TEST_CASE("errors: thresholds outside [0, 1] or NaN", "[errors]") {
  const OwnedHeads h = valid_heads(mnet(), {64, 64});
  facepost::Postprocessor post(mnet());
  for (float t : {kNaN, -0.001f, 1.0001f, kInf, -kInf}) {
    Params p;
    p.score_threshold = t;
    post.set_params(p);
    expect_error(post, h.view(), {64, 64}, {}, Errc::bad_threshold, "score threshold");
  }
  for (double t : {double(kNaN), -1e-9, 1.5, double(kInf)}) {
    Params p;
    p.nms_threshold = t;
    post.set_params(p);
    expect_error(post, h.view(), {64, 64}, {}, Errc::bad_threshold, "NMS threshold");
  }
  // The bounds themselves are valid.
  for (float t : {0.f, 1.f}) {
    Params p;
    p.score_threshold = t;
    p.nms_threshold = t;
    post.set_params(p);
    facepost::Detections d;
    CHECK(post.try_run(h.view(), {64, 64}, {}, d).ok());
  }
  // Enum values that name nothing.
  Params p;
  p.score_format = static_cast<facepost::ScoreFormat>(7);
  post.set_params(p);
  expect_error(post, h.view(), {64, 64}, {}, Errc::bad_argument, "score format");
  p = Params{};
  p.iou = static_cast<facepost::IouConvention>(-1);
  post.set_params(p);
  expect_error(post, h.view(), {64, 64}, {}, Errc::bad_argument, "IoU convention");
}

TEST_CASE("errors: anchor configurations", "[errors]") {
  const OwnedHeads h = valid_heads(mnet(), {64, 64});
  auto check = [&](const AnchorConfig& a, Errc code, const std::string& fragment) {
    facepost::Postprocessor post(a);
    expect_error(post, h.view(), {64, 64}, {}, code, fragment);
    CHECK(facepost::validate_anchors(a).code() == code);
  };
  AnchorConfig a;
  check(a, Errc::bad_anchor_config, "has no levels");
  a.levels = {{8, {16}}, {0, {32}}};
  check(a, Errc::bad_anchor_config, "level 1 has step 0");
  a.levels = {{-8, {16}}};
  check(a, Errc::bad_anchor_config, "level 0 has step -8");
  a.levels = {{8, {16}}, {16, {}}};
  check(a, Errc::bad_anchor_config, "level 1 has no min sizes");
  a.levels = {{8, {16, 0}}};
  check(a, Errc::bad_anchor_config, "min size 0");
  a.levels = {{8, {-3}}};
  check(a, Errc::bad_anchor_config, "min size -3");
  for (facepost::Variance v : {facepost::Variance{0.f, 0.2f}, facepost::Variance{0.1f, -0.2f},
                               facepost::Variance{kNaN, 0.2f}, facepost::Variance{0.1f, kInf}}) {
    a = mnet();
    a.variance = v;
    check(a, Errc::bad_variance, "variance");
  }
}

TEST_CASE("errors: mapping scale, padding and clip size", "[errors]") {
  const OwnedHeads h = valid_heads(mnet(), {64, 64});
  facepost::Postprocessor post(mnet());
  for (float s : {0.f, -1.f, kNaN, kInf}) {
    expect_error(post, h.view(), {64, 64}, ImageMapping::resize(s), Errc::bad_mapping, "mapping scale");
    expect_error(post, h.view(), {64, 64}, ImageMapping::letterbox(1.f, s, 0.f, 0.f), Errc::bad_mapping,
                 "mapping scale");
  }
  for (float pad : {kNaN, kInf, -kInf})
    expect_error(post, h.view(), {64, 64}, ImageMapping::letterbox(1.f, 1.f, 0.f, pad), Errc::bad_mapping,
                 "mapping padding");
  for (float w : {0.f, -5.f, kNaN, kInf})
    expect_error(post, h.view(), {64, 64}, ImageMapping{}.clip_to(w, 10.f), Errc::bad_size, "clip image size");
  // Negative padding (an image cropped at the top/left) is valid.
  facepost::Detections d;
  CHECK(post.try_run(h.view(), {64, 64}, ImageMapping::letterbox(1.f, 1.f, -3.f, -7.f), d).ok());
}

TEST_CASE("errors: letterbox sizes and anchors", "[errors][letterbox]") {
  struct Bad {
    int ow, oh, iw, ih;
    Errc code;
    const char* says;
  };
  const Bad cases[] = {
      {0, 512, 640, 640, Errc::bad_size, "letterbox original size 0x512: width and height must be positive"},
      {512, -3, 640, 640, Errc::bad_size, "letterbox original size 512x-3: width and height must be positive"},
      {512, 512, 640, 0, Errc::bad_size, "letterbox input size 640x0: width and height must be positive"},
      {(1 << 20) + 1, 10, 640, 640, Errc::size_overflow, "letterbox original size 1048577x10: each side must be at most"},
      {512, 512, 640, (1 << 20) + 1, Errc::size_overflow, "letterbox input size 640x1048577: each side must be at most"},
  };
  const OwnedHeads h = valid_heads(mnet(), {64, 64});
  facepost::Postprocessor post(mnet());
  for (const Bad& b : cases) {
    INFO(b.says);
    facepost::Letterbox lb;
    lb.resized_width = 77;
    const facepost::Status s = facepost::Letterbox::try_fit(b.ow, b.oh, b.iw, b.ih, facepost::LetterboxAnchor::centre, lb);
    CHECK(s.code() == b.code);
    CHECK(std::string(s.message()).find(b.says) != std::string::npos);
    CHECK(lb.resized_width == 77);  // untouched on failure
    CHECK(facepost::validate_letterbox_sizes(b.ow, b.oh, b.iw, b.ih).code() == b.code);
    bool threw = false;
    try {
      (void)facepost::Letterbox::fit(b.ow, b.oh, b.iw, b.ih);
    } catch (const facepost::Error& e) {
      threw = true;
      CHECK(e.code() == b.code);
      CHECK(std::string(e.what()) == s.message());
    }
    CHECK(threw);
    // The noexcept mappings of bad sizes are NaN, never a plausible mapping (letterbox_fit of a
    // 0-wide original used to give scale 1.25), and every run refuses them.
    for (const ImageMapping& m : {ImageMapping::letterbox_fit(b.ow, b.oh, b.iw, b.ih),
                                  ImageMapping::letterbox_integer(b.ow, b.oh, b.iw, b.ih)}) {
      CHECK(std::isnan(m.scale_x));
      CHECK(std::isnan(m.pad_y));
      expect_error(post, h.view(), {64, 64}, m, Errc::bad_mapping,
                   "mapping scale (nan, nan) must be finite and positive (letterbox_fit and letterbox_integer give "
                   "NaN for sizes outside [1, kMaxInputSide])");
    }
  }
  // An anchor that names no enumerator.
  facepost::Letterbox lb;
  const auto bad_anchor = static_cast<facepost::LetterboxAnchor>(7);
  const facepost::Status s = facepost::Letterbox::try_fit(640, 480, 640, 640, bad_anchor, lb);
  CHECK(s.code() == Errc::bad_argument);
  CHECK(std::string(s.message()) == "unknown letterbox anchor 7");
  CHECK(std::isnan(ImageMapping::letterbox_fit(640, 480, 640, 640, bad_anchor).scale_x));
  CHECK(std::isnan(ImageMapping::letterbox_integer(640, 480, 640, 640, bad_anchor).scale_y));
  // A mapping that is not NaN keeps the plain message.
  CHECK(std::string(facepost::validate_mapping(ImageMapping::resize(0.f)).message()) ==
        "mapping scale (0, 0) must be finite and positive");

  // A Letterbox filled by hand (e.g. SCRFD's truncated size) is checked by validate_letterbox.
  facepost::Letterbox scrfd{1920, 1080, 640, 640, 640, 359, 0, 0};
  CHECK(facepost::validate_letterbox(scrfd).ok());
  CHECK(scrfd.pad_bottom() == 281);
  scrfd.pad_top = 300;
  const facepost::Status outside = facepost::validate_letterbox(scrfd);
  CHECK(outside.code() == Errc::bad_size);
  CHECK(std::string(outside.message()) == "letterbox: a 640x359 image at (0, 300) does not fit the 640x640 input");
  scrfd.pad_top = -1;
  CHECK(facepost::validate_letterbox(scrfd).code() == Errc::bad_size);
  scrfd = facepost::Letterbox{0, 1080, 640, 640, 640, 359, 0, 0};
  CHECK(std::string(facepost::validate_letterbox(scrfd).message()).find("letterbox original size 0x1080") == 0);
  scrfd = facepost::Letterbox{1920, 1080, 640, 640, 0, 359, 0, 0};
  CHECK(facepost::validate_letterbox(scrfd).code() == Errc::bad_size);
}

TEST_CASE("errors: view_tensor accepts [N,C] and [1,N,C] only", "[errors][tensor]") {
  const float data[20] = {};
  TensorView v;
  CHECK(facepost::view_tensor(data, {5, 4}, "loc", v).ok());
  CHECK((v.rows == 5 && v.cols == 4 && v.data == data && v.contiguous()));
  CHECK(facepost::view_tensor(data, {1, 2, 10}, "landms", v).ok());
  CHECK((v.rows == 2 && v.cols == 10));
  auto fails = [&](std::initializer_list<std::int64_t> shape, const std::string& fragment) {
    const facepost::Status s = facepost::view_tensor(data, shape, "conf", v);
    INFO(s.message());
    CHECK(s.code() == Errc::bad_shape);
    CHECK(std::string(s.message()).find(fragment) != std::string::npos);
    CHECK(std::string(s.message()).find("conf") != std::string::npos);
    CHECK(v.data == nullptr);
  };
  fails({20}, "rank 1");
  fails({1, 1, 5, 4}, "rank 4");
  fails({}, "rank 0");
  fails({2, 5, 2}, "batch dimension 2");
  fails({0, 5, 2}, "batch dimension 0");
  fails({-5, 2}, "negative dimension");
  fails({1, 5, -2}, "negative dimension");
}

TEST_CASE("errors: a batch names the frame at fault", "[errors]") {
  const OwnedHeads good = valid_heads(mnet(), {64, 64});
  HeadOutputs frames[3] = {good.view(), good.view(), good.view()};
  frames[1].conf.cols = 3;
  facepost::BatchPostprocessor batch(mnet());
  const facepost::Status s = batch.try_run(frames, 3, {64, 64}, {});
  CHECK(s.code() == Errc::bad_shape);
  CHECK(std::string(s.message()).find("batch frame 1") != std::string::npos);
  CHECK_THROWS_AS(batch.run(frames, 3, {64, 64}), facepost::Error);
  frames[1] = good.view();
  CHECK(batch.try_run(frames, 3, {64, 64}, {}).ok());
  CHECK(batch.result(2).size() == 1);
}

TEST_CASE("errors: non-finite regressions never produce non-finite detections", "[errors][nonfinite]") {
  const AnchorConfig a = mnet();
  const InputSize in{96, 80};
  const std::size_t n = priors_of(a, in);
  facepost::Postprocessor post(a, Params{}.unlimited());
  facepost_ref::Port<> port(a);
  auto all_finite = [](const facepost::Detections& d) {
    for (std::size_t i = 0; i < 15 * d.size(); ++i)
      if (!std::isfinite(d.data()[i])) return false;
    return true;
  };
  // Whole tensors of one special value: every candidate row is dropped or stays finite.
  for (float v : {kNaN, kInf, -kInf, 3e38f, -3e38f, 1e30f, 1e20f, 500.f, -500.f}) {
    for (int target = 0; target < 3; ++target) {
      INFO("value " << v << " in " << (target == 0 ? "loc" : target == 1 ? "landms" : "loc[2..3]"));
      OwnedHeads h(n);
      for (std::size_t r = 0; r < n; ++r) {
        h.set_score(r, r % 3 == 0 ? 0.9f : 0.01f);
        for (std::size_t c = 0; c < 4; ++c) h.loc.set(r, c, target == 0 || (target == 2 && c >= 2) ? v : 0.1f);
        for (std::size_t c = 0; c < 10; ++c) h.landms.set(r, c, target == 1 ? v : 0.2f);
      }
      for (const ImageMapping& m : {ImageMapping{}, ImageMapping::letterbox(1e-30f, 1e-30f, 0.f, 0.f),
                                    ImageMapping::resize(0.5f).clip_to(50.f, 40.f)}) {
        const facepost::Detections d = post.run(h.view(), in, m);
        CHECK(all_finite(d));
        const facepost_ref::Result& r = port.run(h.view(), in, post.params(), m);
        REQUIRE(d.size() == r.size());
        CHECK(facepost_test::same_bytes(d.data(), r.rows.data(), r.rows.size() * sizeof(float)));
      }
    }
  }
  // Random specials sprinkled over random frames.
  const std::vector<float>& priors = port.priors(in);
  for (std::uint32_t seed = 0; seed < 40; ++seed) {
    INFO("seed " << seed);
    std::mt19937 rng(seed);
    facepost_test::RandomOptions o;
    o.non_finite = true;
    o.format = seed % 2 ? facepost::ScoreFormat::logits : facepost::ScoreFormat::probabilities;
    const OwnedHeads h = facepost_test::random_heads(rng, priors, a.variance, o);
    Params p = Params{}.unlimited();
    p.score_format = o.format;
    p.iou = seed % 3 ? facepost::IouConvention::legacy_pixel : facepost::IouConvention::continuous;
    post.set_params(p);
    const facepost::Detections d = post.run(h.view(), in);
    CHECK(all_finite(d));
    const facepost_ref::Result& r = port.run(h.view(), in, p);
    REQUIRE(d.size() == r.size());
    CHECK(facepost_test::same_bytes(d.data(), r.rows.data(), r.rows.size() * sizeof(float)));
  }
}
