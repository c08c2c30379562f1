// The whole pipeline through Postprocessor: letterbox mapping and clip_to by hand, the
// Detections view (rows, Eigen matrix, prior_index), keep_top_k / top_k, compile-time presets,
// Eigen inputs, and stats.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <vector>

#include "facepost/facepost.hpp"
#include "fixtures.hpp"
#include "reference/random_heads.hpp"
#include "reference/reference_port.hpp"

namespace {

using facepost::Detections;
using facepost::ImageMapping;
using facepost::InputSize;
using facepost::Params;
using facepost_test::OwnedHeads;

facepost::AnchorConfig mnet() { return facepost::to_anchor_config(facepost::presets::retinaface_mnet{}); }

// retinaface_mnet on a 32x32 input: 42 priors. Prior 0 is cell (0,0) of level 0, min size 16:
// centre (4, 4) px, 16x16 px. Zero regressions decode every prior to itself.
OwnedHeads tiny_scene() {
  OwnedHeads h(42);
  for (std::size_t r = 0; r < 42; ++r) h.set_score(r, 0.f);
  h.set_score(0, 0.9f);
  return h;
}

bool same_rows(const Detections& a, const Detections& b) {
  return a.size() == b.size() &&
         facepost_test::same_bytes(a.data(), b.data(), a.size() * facepost::kDetectionCols * sizeof(float));
}

const fixtures::Fixture& fixture(const char* name) {
  static const std::vector<fixtures::Fixture> all = fixtures::all();
  for (const fixtures::Fixture& f : all)
    if (std::string(f.name) == name) return f;
  throw std::runtime_error(std::string("no fixture ") + name);
}

}  // namespace

TEST_CASE("pipeline: letterbox mapping and clip_to by hand", "[pipeline][mapping]") {
  const OwnedHeads h = tiny_scene();
  facepost::Postprocessor post(mnet());
  // Network box (-4, -4, 12, 12), landmarks at the prior centre (4, 4).
  Detections d = post.run(h.view(), {32, 32});
  REQUIRE(d.size() == 1);
  CHECK(d[0].x1() == -4.f);
  CHECK(d[0].y1() == -4.f);
  CHECK(d[0].x2() == 12.f);
  CHECK(d[0].y2() == 12.f);
  CHECK(d[0].score() == 0.9f);
  for (int k = 0; k < 5; ++k) CHECK((d[0].landmark_x(k) == 4.f && d[0].landmark_y(k) == 4.f));
  // Letterbox: scale 0.5, padding (2, 6): (x - 2) / 0.5, (y - 6) / 0.5.
  ImageMapping m = ImageMapping::letterbox(0.5f, 0.5f, 2.f, 6.f);
  d = post.run(h.view(), {32, 32}, m);
  REQUIRE(d.size() == 1);
  CHECK(d[0].x1() == -12.f);
  CHECK(d[0].y1() == -20.f);
  CHECK(d[0].x2() == 20.f);
  CHECK(d[0].y2() == 12.f);
  CHECK(d[0].landmark_x(2) == 4.f);
  CHECK(d[0].landmark_y(2) == -4.f);
  // clip_to(16, 10): every x into [0, 16], every y into [0, 10]; the score is untouched.
  m.clip_to(16.f, 10.f);
  d = post.run(h.view(), {32, 32}, m);
  REQUIRE(d.size() == 1);
  CHECK(d[0].x1() == 0.f);
  CHECK(d[0].y1() == 0.f);
  CHECK(d[0].x2() == 16.f);
  CHECK(d[0].y2() == 10.f);
  CHECK(d[0].score() == 0.9f);
  CHECK(d[0].landmark_x(0) == 4.f);
  CHECK(d[0].landmark_y(0) == 0.f);
  // resize(r) is the reference's x / r.
  d = post.run(h.view(), {32, 32}, ImageMapping::resize(0.25f));
  REQUIRE(d.size() == 1);
  CHECK(d[0].x1() == -16.f);
  CHECK(d[0].x2() == 48.f);
}

TEST_CASE("pipeline: clip_to clamps after NMS, on a real frame", "[pipeline][mapping]") {
  const fixtures::Fixture& f = fixture("crowd_mnet_native");
  const fixtures::Heads heads(f.name);
  facepost::Postprocessor post(f.anchors, Params{}.unlimited());
  std::vector<float> free_rows;
  {
    const Detections d = post.run(heads.view(), f.input, ImageMapping::resize(f.resize));
    free_rows.assign(d.data(), d.data() + d.size() * 15);
  }
  const float W = 900.f, H = 500.f;  // smaller than the image, so many values are clamped
  const Detections c = post.run(heads.view(), f.input, ImageMapping::resize(f.resize).clip_to(W, H));
  REQUIRE(c.size() * 15 == free_rows.size());
  std::size_t clamped = 0;
  for (std::size_t i = 0; i < c.size(); ++i)
    for (std::size_t k = 0; k < 15; ++k) {
      const float v = free_rows[15 * i + k];
      const bool is_x = k == 0 || k == 2 || (k >= 5 && k % 2 == 1);
      const float want = k == 4 ? v : std::min(std::max(v, 0.f), is_x ? W : H);
      CHECK(c.data()[15 * i + k] == want);
      clamped += want != v;
    }
  CHECK(clamped > 10);
}

TEST_CASE("pipeline: Detections view, Eigen matrix and prior_index", "[pipeline][detections]") {
  const facepost::Detections empty;
  CHECK(empty.size() == 0);
  CHECK(empty.empty());
  CHECK(empty.matrix().rows() == 0);

  const fixtures::Fixture& f = fixture("group_mnet_long640");
  const fixtures::Heads heads(f.name);
  facepost::Postprocessor post(f.anchors);
  const Detections d = post.run(heads.view(), f.input, ImageMapping::resize(f.resize));
  REQUIRE(d.size() > 10);
  CHECK_FALSE(d.empty());
  CHECK(d.size() == post.stats().detections);
  const auto m = d.matrix();
  CHECK(m.rows() == Eigen::Index(d.size()));
  CHECK(m.cols() == 15);
  CHECK(m.data() == d.data());
  const facepost::HeadOutputs h = heads.view();
  for (std::size_t i = 0; i < d.size(); ++i) {
    const facepost::DetectionRef r = d[i];
    CHECK(r.row == d.data() + 15 * i);
    CHECK(m(Eigen::Index(i), 0) == r.x1());
    CHECK(m(Eigen::Index(i), 3) == r.y2());
    CHECK(m(Eigen::Index(i), 4) == r.score());
    CHECK(m(Eigen::Index(i), 13) == r.landmark_x(4));
    CHECK(m(Eigen::Index(i), 14) == r.landmark_y(4));
    // prior_index names the tensor row the detection came from: its score and decoded box.
    const std::uint32_t p = d.prior_index(i);
    REQUIRE(p < h.conf.rows);
    CHECK(r.score() == h.conf(p, 1));
    float box[4], lm[10];
    facepost_ref::decode_row(post.priors().data() + 4 * std::size_t(p), h.loc, h.landms, p, f.input, f.anchors.variance,
                             ImageMapping::resize(f.resize), facepost_ref::CorrectlyRoundedExp{}, box, lm);
    CHECK(facepost_test::same_bytes(box, r.row, sizeof box));
    CHECK(facepost_test::same_bytes(lm, r.row + 5, sizeof lm));
    if (i > 0) CHECK(d[i - 1].score() >= r.score());
  }
}

TEST_CASE("pipeline: keep_top_k is a truncation of the unlimited result, top_k of the ranking", "[pipeline][nms]") {
  const fixtures::Fixture& f = fixture("crowd_mnet_native");
  const fixtures::Heads heads(f.name);
  facepost::Postprocessor post(f.anchors, Params{}.unlimited());
  const ImageMapping m = ImageMapping::resize(f.resize);
  Detections d = post.run(heads.view(), f.input, m);
  const std::vector<float> all(d.data(), d.data() + 15 * d.size());
  const std::vector<std::uint32_t> all_prior = [&] {
    std::vector<std::uint32_t> v;
    for (std::size_t i = 0; i < d.size(); ++i) v.push_back(d.prior_index(i));
    return v;
  }();
  const std::size_t K = d.size();
  REQUIRE(K > 20);
  for (std::size_t k : {std::size_t(1), std::size_t(2), std::size_t(17), K - 1, K, K + 1, std::size_t(100000)}) {
    INFO("keep_top_k " << k);
    Params p = Params{}.unlimited();
    p.keep_top_k = k;
    post.set_params(p);
    d = post.run(heads.view(), f.input, m);
    REQUIRE(d.size() == std::min(k, K));
    CHECK(facepost_test::same_bytes(d.data(), all.data(), d.size() * 15 * sizeof(float)));
    for (std::size_t i = 0; i < d.size(); ++i) CHECK(d.prior_index(i) == all_prior[i]);
  }
  // top_k: NMS over the best top_k candidates only; equals the port, and top_k >= candidates
  // changes nothing.
  facepost_ref::Port<> port(f.anchors);
  for (std::size_t top_k : {std::size_t(1), std::size_t(50), std::size_t(400), std::size_t(1758), std::size_t(1759)}) {
    INFO("top_k " << top_k);
    Params p = Params{}.unlimited();
    p.top_k = top_k;
    post.set_params(p);
    d = post.run(heads.view(), f.input, m);
    CHECK(post.stats().candidates == 1758);  // meta.json: candidates_above_threshold
    CHECK(post.stats().ranked == std::min<std::size_t>(top_k, 1758));
    const facepost_ref::Result& r = port.run(heads.view(), f.input, p, m);
    REQUIRE(d.size() == r.size());
    CHECK(facepost_test::same_bytes(d.data(), r.rows.data(), r.rows.size() * sizeof(float)));
    if (top_k >= 1758) CHECK(facepost_test::same_bytes(d.data(), all.data(), all.size() * sizeof(float)));
  }
}

TEST_CASE("pipeline: compile-time presets give the runtime configuration's results", "[pipeline]") {
  const fixtures::Fixture& f = fixture("selfie_slim_native");
  const fixtures::Heads heads(f.name);
  facepost::BasicPostprocessor<facepost::presets::fd1m_slim> fixed;
  facepost::Postprocessor runtime(f.anchors);
  for (const Params& p : {Params{}, Params{}.unlimited()}) {
    fixed.set_params(p);
    runtime.set_params(p);
    const Detections a = fixed.run(heads.view(), f.input);
    const Detections b = runtime.run(heads.view(), f.input);
    REQUIRE(a.size() > 0);
    CHECK(same_rows(a, b));
  }
}

TEST_CASE("pipeline: Eigen matrices and strided views as inputs", "[pipeline][tensor]") {
  const fixtures::Fixture& f = fixture("group_mnet_long640");
  const fixtures::Heads heads(f.name);
  const facepost::HeadOutputs raw = heads.view();
  facepost::Postprocessor post(f.anchors);
  const Detections base = post.run(raw, f.input);
  const std::vector<float> base_rows(base.data(), base.data() + 15 * base.size());
  REQUIRE(!base_rows.empty());
  const std::size_t n = raw.loc.rows;
  using RowMajor = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  using ColMajor = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor>;
  const Eigen::Map<const RowMajor> loc(heads.loc.data.data(), Eigen::Index(n), 4);
  const Eigen::Map<const RowMajor> conf(heads.conf.data.data(), Eigen::Index(n), 2);
  const Eigen::Map<const RowMajor> landms(heads.landms.data.data(), Eigen::Index(n), 10);
  // Row-major maps: the same memory, contiguous.
  facepost::HeadOutputs h{facepost::TensorView::from_eigen(loc), facepost::TensorView::from_eigen(conf),
                          facepost::TensorView::from_eigen(landms)};
  CHECK(h.loc.data == raw.loc.data);
  CHECK(h.loc.contiguous());
  Detections d = post.run(h, f.input);
  CHECK(facepost_test::same_bytes(d.data(), base_rows.data(), base_rows.size() * sizeof(float)));
  // Column-major copies (e.g. an engine that writes planar outputs).
  const ColMajor loc_c = loc, conf_c = conf, landms_c = landms;
  h = {facepost::TensorView::from_eigen(loc_c), facepost::TensorView::from_eigen(conf_c),
       facepost::TensorView::from_eigen(landms_c)};
  CHECK_FALSE(h.loc.contiguous());
  CHECK(h.loc(7, 3) == raw.loc(7, 3));
  d = post.run(h, f.input);
  REQUIRE(d.size() * 15 == base_rows.size());
  CHECK(facepost_test::same_bytes(d.data(), base_rows.data(), base_rows.size() * sizeof(float)));
  // A block of a wider matrix: conf inside an [N,16] row-major "all heads" buffer.
  RowMajor all(Eigen::Index(n), 16);
  all.leftCols(4) = loc;
  all.middleCols(4, 2) = conf;
  all.rightCols(10) = landms;
  h = {facepost::TensorView::from_eigen(all.leftCols(4)), facepost::TensorView::from_eigen(all.middleCols(4, 2)),
       facepost::TensorView::from_eigen(all.rightCols(10))};
  CHECK(h.conf.row_stride == 16);
  d = post.run(h, f.input);
  CHECK(facepost_test::same_bytes(d.data(), base_rows.data(), base_rows.size() * sizeof(float)));
  // eigen() views back the same memory.
  CHECK(h.landms.eigen()(5, 9) == landms(5, 9));
}

TEST_CASE("pipeline: stats count the stages", "[pipeline]") {
  const fixtures::Fixture& f = fixture("crowd_mnet_native");
  const fixtures::Heads heads(f.name);
  facepost::Postprocessor post(f.anchors);  // reference_detect: top_k 5000, keep_top_k 750
  const Detections d = post.run(heads.view(), f.input);
  CHECK(post.stats().priors == 26240);
  CHECK(post.stats().candidates == 1758);
  CHECK(post.stats().ranked == 1758);
  CHECK(post.stats().detections == d.size());
  CHECK(d.size() == 150);  // meta.json rows of reference_detect
  Params p;
  p.score_threshold = 0.5f;
  post.set_params(p);
  CHECK(post.params().score_threshold == 0.5f);
  post.run(heads.view(), f.input);
  CHECK(post.stats().candidates < 1758);
}

TEST_CASE("pipeline: NMS runs in original-image pixels, so the legacy IoU depends on the scale", "[pipeline][mapping]") {
  // One level, step 4, min size 9, on an 8x4 input: two priors whose zero-regression boxes are
  // the network boxes A = (-2.5, -2.5, 6.5, 6.5) and B = (1.5, -2.5, 10.5, 6.5), scores 0.9, 0.8.
  // The mapping is applied while decoding, before NMS, as detect.py divides by `resize` before
  // py_cpu_nms. Legacy IoU (+1 widths): 60 / 140 = 0.4286 in network pixels, but with
  // resize 0.25 the boxes are (-10, -10, 26, 26) and (6, -10, 42, 26) in original pixels:
  // 777 / 1961 = 0.3962 <= 0.4, so B is kept. Continuous IoU is scale-invariant: 0.3846 both ways.
  facepost::AnchorConfig a;
  a.levels = {{4, {9}}};
  OwnedHeads h(2);
  h.set_score(0, 0.9f);
  h.set_score(1, 0.8f);
  facepost::Postprocessor legacy(a);
  Detections d = legacy.run(h.view(), {8, 4});  // resize 1: original = network pixels
  REQUIRE(d.size() == 1);
  CHECK(d[0].x1() == -2.5f);
  CHECK(d[0].x2() == 6.5f);
  d = legacy.run(h.view(), {8, 4}, ImageMapping::resize(0.25f));
  REQUIRE(d.size() == 2);
  CHECK(d[0].x1() == -10.f);
  CHECK(d[0].x2() == 26.f);
  CHECK(d[1].x1() == 6.f);
  CHECK(d[1].x2() == 42.f);
  CHECK(d[1].y2() == 26.f);
  // The IoU values quoted above, by the legacy formula.
  using facepost::IouConvention;
  const auto iou = [](IouConvention c, const float* p, const float* q) {
    if (c == IouConvention::legacy_pixel)
      return facepost::box_iou<IouConvention::legacy_pixel>(
          p, facepost::box_area<IouConvention::legacy_pixel>(p[0], p[1], p[2], p[3]), q,
          facepost::box_area<IouConvention::legacy_pixel>(q[0], q[1], q[2], q[3]));
    return facepost::box_iou<IouConvention::continuous>(
        p, facepost::box_area<IouConvention::continuous>(p[0], p[1], p[2], p[3]), q,
        facepost::box_area<IouConvention::continuous>(q[0], q[1], q[2], q[3]));
  };
  const float na[4] = {-2.5f, -2.5f, 6.5f, 6.5f}, nb[4] = {1.5f, -2.5f, 10.5f, 6.5f};
  const float oa[4] = {-10.f, -10.f, 26.f, 26.f}, ob[4] = {6.f, -10.f, 42.f, 26.f};
  CHECK(iou(IouConvention::legacy_pixel, na, nb) == Approx(60.0 / 140.0).epsilon(1e-6));
  CHECK(iou(IouConvention::legacy_pixel, oa, ob) == Approx(777.0 / 1961.0).epsilon(1e-6));
  CHECK(iou(IouConvention::continuous, na, nb) == Approx(45.0 / 117.0).epsilon(1e-6));
  CHECK(iou(IouConvention::continuous, oa, ob) == Approx(720.0 / 1872.0).epsilon(1e-6));
  // Padding never matters (IoU is translation-invariant): a letterbox of the same scale keeps both.
  d = legacy.run(h.view(), {8, 4}, ImageMapping::letterbox(0.25f, 0.25f, 3.f, 1.f));
  CHECK(d.size() == 2);
  Params continuous;
  continuous.iou = facepost::IouConvention::continuous;
  facepost::Postprocessor cont(a, continuous);
  CHECK(cont.run(h.view(), {8, 4}).size() == 2);
  CHECK(cont.run(h.view(), {8, 4}, ImageMapping::resize(0.25f)).size() == 2);
}
