// float16 / int8 / uint8 heads: converted exactly as they are read, and the pipeline's results
// bit-identical to the float32 pipeline run on the same values, with every kernel set.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "fixtures.hpp"
#include "support/low_precision.hpp"

namespace {

using facepost::Dequant;
using facepost::ElementType;
using facepost::TensorView;

std::uint32_t bits_of(float f) {
  std::uint32_t b;
  std::memcpy(&b, &f, 4);
  return b;
}

std::vector<std::uint16_t> all_halves() {
  std::vector<std::uint16_t> h(65536);
  for (std::size_t i = 0; i < h.size(); ++i) h[i] = std::uint16_t(i);
  return h;
}

bool same_detections(const facepost::Detections& a, const facepost::Detections& b) {
  return a.size() == b.size() &&
         (a.size() == 0 || (std::memcmp(a.data(), b.data(), a.size() * facepost::kDetectionCols * sizeof(float)) == 0 &&
                            std::memcmp(a.prior_indices(), b.prior_indices(), a.size() * sizeof(std::uint32_t)) == 0));
}

/// Per-tensor scale so that the largest magnitude maps to 127 steps from the zero point.
Dequant dequant_for(const std::vector<float>& v, std::int32_t zero_point, float steps = 127.f) {
  float m = 0.f;
  for (float x : v)
    if (std::isfinite(x)) m = std::max(m, std::fabs(x));
  return Dequant{m > 0.f ? m / steps : 1.f, zero_point};
}

}  // namespace

TEST_CASE("low precision: f16_to_f32 is exact for every binary16 value", "[lowp]") {
  for (std::uint32_t i = 0; i < 65536; ++i) {
    const std::uint16_t h = std::uint16_t(i);
    const float got = facepost::f16_to_f32(h), want = lowp::f16_by_definition(h);
    if (std::isnan(want)) {
      REQUIRE(std::isnan(got));
      // payload kept, quiet bit set (what vcvtph2ps and fcvtl do)
      REQUIRE((bits_of(got) & 0x003fe000u) == (std::uint32_t(h & 0x1ff) << 13));
      REQUIRE((bits_of(got) & 0x00400000u) != 0);
      REQUIRE((bits_of(got) >> 31) == std::uint32_t(h >> 15));
    } else {
      INFO("half 0x" << std::hex << i);
      REQUIRE(bits_of(got) == bits_of(want));
    }
  }
}

TEST_CASE("low precision: the test encoder rounds to nearest even and round-trips", "[lowp]") {
  for (std::uint32_t i = 0; i < 65536; ++i) {
    const std::uint16_t h = std::uint16_t(i);
    const float f = facepost::f16_to_f32(h);
    if (std::isnan(f)) continue;
    REQUIRE(lowp::to_f16(f) == h);
  }
  CHECK(lowp::to_f16(1.f + 0x1p-11f) == 0x3c00);           // tie, to the even 1.0
  CHECK(lowp::to_f16(1.f + 3 * 0x1p-11f) == 0x3c02);       // tie, to the even 1 + 2^-9
  CHECK(lowp::to_f16(65520.f) == 0x7c00);                  // halfway past the largest: infinity
  CHECK(lowp::to_f16(0x1p-25f) == 0x0000);                 // tie between 0 and the smallest subnormal
  CHECK(lowp::to_f16(0x1p-25f + 0x1p-40f) == 0x0001);
}

TEST_CASE("low precision: every kernel set converts as the scalar one, tails included", "[lowp][backend]") {
  const facepost::kernels::KernelTable& active = facepost::active_kernels();
  const facepost::kernels::KernelTable& scalar = facepost::kernels::scalar::kTable;
  INFO("kernels " << active.name);
  const std::vector<std::uint16_t> halves = all_halves();
  for (std::size_t offset : {std::size_t(0), std::size_t(3)}) {
    const std::size_t n = halves.size() - offset;
    std::vector<float> a(n), s(n);
    active.convert_to_f32(halves.data() + offset, ElementType::float16, {}, n, a.data());
    scalar.convert_to_f32(halves.data() + offset, ElementType::float16, {}, n, s.data());
    for (std::size_t i = 0; i < n; ++i) {
      INFO("half 0x" << std::hex << halves[offset + i]);
      REQUIRE(bits_of(a[i]) == bits_of(s[i]));
      REQUIRE(bits_of(s[i]) == bits_of(facepost::f16_to_f32(halves[offset + i])));
    }
  }
  std::vector<std::int8_t> s8(256 + 5);
  std::vector<std::uint8_t> u8(256 + 5);
  for (std::size_t i = 0; i < s8.size(); ++i) s8[i] = std::int8_t(int(i % 256) - 128), u8[i] = std::uint8_t(i % 256);
  for (const Dequant d : {Dequant{0.05f, 0}, Dequant{0.0123f, -7}, Dequant{1.f, 127}, Dequant{3e-5f, -128},
                          Dequant{0.1f, 100}}) {
    for (std::size_t n : {s8.size(), std::size_t(7), std::size_t(33)}) {
      std::vector<float> a(n), s(n);
      active.convert_to_f32(s8.data(), ElementType::int8, d, n, a.data());
      scalar.convert_to_f32(s8.data(), ElementType::int8, d, n, s.data());
      for (std::size_t i = 0; i < n; ++i) {
        REQUIRE(bits_of(a[i]) == bits_of(s[i]));
        REQUIRE(bits_of(s[i]) == bits_of(float(int(s8[i]) - d.zero_point) * d.scale));
      }
      const Dequant du{d.scale, d.zero_point + 128};
      active.convert_to_f32(u8.data(), ElementType::uint8, du, n, a.data());
      scalar.convert_to_f32(u8.data(), ElementType::uint8, du, n, s.data());
      for (std::size_t i = 0; i < n; ++i) {
        REQUIRE(bits_of(a[i]) == bits_of(s[i]));
        REQUIRE(bits_of(s[i]) == bits_of(float(int(u8[i]) - du.zero_point) * du.scale));
      }
    }
  }
}

TEST_CASE("low precision: the confidence filter on float16 / int8 conf equals it on the float values",
          "[lowp][backend]") {
  // 1000 rows: several conversion tiles and a tail; NaN, infinities and exact thresholds included.
  std::vector<float> conf(2000);
  for (std::size_t r = 0; r < 1000; ++r) {
    conf[2 * r] = float(r % 17) / 8.f - 1.f;
    conf[2 * r + 1] = float((r * 37) % 101) / 100.f;
  }
  conf[2 * 5 + 1] = NAN, conf[2 * 300 + 1] = INFINITY, conf[2 * 301] = -INFINITY, conf[2 * 999 + 1] = 0.5f;
  const lowp::Half half(conf);
  const lowp::Quantized<std::int8_t> q8(conf, Dequant{1.f / 127.f, 0});
  const lowp::Quantized<std::uint8_t> u8(conf, Dequant{1.f / 200.f, 55});
  std::vector<std::uint32_t> ia(1000), ib(1000);
  std::vector<float> sa(1000), sb(1000);
  for (facepost::ScoreFormat format : {facepost::ScoreFormat::probabilities, facepost::ScoreFormat::logits}) {
    for (float t : {0.f, 0.02f, 0.5f, 0.9f}) {
      struct Case {
        TensorView typed;
        const std::vector<float>* values;
      };
      const Case cases[] = {
          {TensorView::float16(half.bits.data(), 1000, 2), &half.values},
          {TensorView::quantized(q8.q.data(), 1000, 2, q8.dequant), &q8.values},
          {TensorView::quantized(u8.q.data(), 1000, 2, u8.dequant), &u8.values},
      };
      for (const Case& c : cases) {
        const std::size_t na = facepost::filter_scores(c.typed, t, format, ia.data(), sa.data());
        const std::size_t nb = facepost::filter_scores(TensorView(c.values->data(), 1000, 2), t, format, ib.data(), sb.data());
        INFO(facepost::element_type_name(c.typed.type) << " threshold " << t << " logits " << (format == facepost::ScoreFormat::logits));
        REQUIRE(na == nb);
        if (t < 0.9f) REQUIRE(na > 0);
        REQUIRE(std::equal(ia.begin(), ia.begin() + long(na), ib.begin()));
        REQUIRE(std::memcmp(sa.data(), sb.data(), na * sizeof(float)) == 0);
      }
      // A strided float16 view (every other row of a [2000, 2] buffer) goes element by element.
      std::vector<std::uint16_t> spread(4000, lowp::to_f16(0.f));
      for (std::size_t i = 0; i < 2000; ++i) spread[2 * (i / 2) * 2 + (i % 2)] = half.bits[i];
      const TensorView strided(spread.data(), ElementType::float16, 1000, 2, 4, 1);
      const std::size_t na = facepost::filter_scores(strided, t, format, ia.data(), sa.data());
      const std::size_t nb = facepost::filter_scores(TensorView(half.values.data(), 1000, 2), t, format, ib.data(), sb.data());
      REQUIRE(na == nb);
      REQUIRE(std::equal(ia.begin(), ia.begin() + long(na), ib.begin()));
    }
  }
}

TEST_CASE("low precision: float16, int8 and uint8 heads give the float32 pipeline's detections bit for bit",
          "[lowp][golden]") {
  std::size_t compared = 0, nonempty = 0;
  for (const fixtures::Fixture& fx : fixtures::all()) {
    const fixtures::Heads heads(fx.name);
    const std::size_t n = std::size_t(heads.loc.shape[heads.loc.shape.size() - 2]);
    const lowp::Half loc16(heads.loc.data), conf16(heads.conf.data), lm16(heads.landms.data);
    const lowp::Quantized<std::int8_t> loc8(heads.loc.data, dequant_for(heads.loc.data, 0));
    const lowp::Quantized<std::uint8_t> conf8(heads.conf.data, Dequant{1.f / 255.f, 0});
    const lowp::Quantized<std::int8_t> lm8(heads.landms.data, dequant_for(heads.landms.data, -3, 120.f));
    const lowp::Quantized<std::uint8_t> loc_u8(heads.loc.data, dequant_for(heads.loc.data, 128, 127.f));

    struct Case {
      const char* name;
      facepost::HeadOutputs typed, values;
    };
    const Case cases[] = {
        {"float16",
         {TensorView::float16(loc16.bits.data(), n, 4), TensorView::float16(conf16.bits.data(), n, 2),
          TensorView::float16(lm16.bits.data(), n, 10)},
         {TensorView(loc16.values.data(), n, 4), TensorView(conf16.values.data(), n, 2),
          TensorView(lm16.values.data(), n, 10)}},
        {"int8 loc, uint8 conf, int8 landms",
         {TensorView::quantized(loc8.q.data(), n, 4, loc8.dequant), TensorView::quantized(conf8.q.data(), n, 2, conf8.dequant),
          TensorView::quantized(lm8.q.data(), n, 10, lm8.dequant)},
         {TensorView(loc8.values.data(), n, 4), TensorView(conf8.values.data(), n, 2),
          TensorView(lm8.values.data(), n, 10)}},
        {"uint8 loc, float32 conf, float16 landms",
         {TensorView::quantized(loc_u8.q.data(), n, 4, loc_u8.dequant), TensorView(heads.conf.data.data(), n, 2),
          TensorView::float16(lm16.bits.data(), n, 10)},
         {TensorView(loc_u8.values.data(), n, 4), TensorView(heads.conf.data.data(), n, 2),
          TensorView(lm16.values.data(), n, 10)}},
    };
    facepost::Postprocessor typed(fx.anchors), plain(fx.anchors);
    for (const fixtures::GoldenSet& gs : fixtures::golden_sets()) {
      for (facepost::ScoreFormat format : {facepost::ScoreFormat::probabilities, facepost::ScoreFormat::logits}) {
        facepost::Params p = gs.params;
        p.score_format = format;
        typed.set_params(p);
        plain.set_params(p);
        for (const Case& c : cases) {
          INFO(fx.name << " / " << gs.name << " / " << c.name << " / logits " << (format == facepost::ScoreFormat::logits));
          const auto mapping = facepost::ImageMapping::resize(fx.resize);
          const facepost::Detections a = typed.run(c.typed, fx.input, mapping);
          const facepost::Detections b = plain.run(c.values, fx.input, mapping);
          REQUIRE(same_detections(a, b));
          CHECK(typed.stats().candidates == plain.stats().candidates);
          ++compared;
          nonempty += a.size() > 0;
        }
      }
    }
  }
  CHECK(compared > 0);
  CHECK(nonempty * 2 > compared);  // most comparisons have detections to compare
}

TEST_CASE("low precision: the batch API takes float16 frames", "[lowp]") {
  const fixtures::Fixture fx = fixtures::all().front();
  const fixtures::Heads heads(fx.name);
  const std::size_t n = std::size_t(heads.loc.shape[heads.loc.shape.size() - 2]);
  const lowp::Half loc16(heads.loc.data), conf16(heads.conf.data), lm16(heads.landms.data);
  const facepost::HeadOutputs typed{TensorView::float16(loc16.bits.data(), n, 4),
                                    TensorView::float16(conf16.bits.data(), n, 2),
                                    TensorView::float16(lm16.bits.data(), n, 10)};
  const facepost::HeadOutputs values{TensorView(loc16.values.data(), n, 4), TensorView(conf16.values.data(), n, 2),
                                     TensorView(lm16.values.data(), n, 10)};
  const facepost::HeadOutputs frames[2] = {typed, values};
  facepost::BatchPostprocessor batch(fx.anchors);
  batch.run(frames, 2, fx.input, facepost::ImageMapping::resize(fx.resize));
  REQUIRE(batch.result(0).size() > 0);
  CHECK(same_detections(batch.result(0), batch.result(1)));
}

TEST_CASE("low precision: bad element types and quantizations are named", "[lowp][errors]") {
  const fixtures::Fixture fx = fixtures::all().front();
  const fixtures::Heads heads(fx.name);
  const std::size_t n = std::size_t(heads.loc.shape[heads.loc.shape.size() - 2]);
  std::vector<std::int8_t> q(n * 2, 0);
  facepost::HeadOutputs h = heads.view();
  facepost::Postprocessor pp(fx.anchors);
  facepost::Detections d;
  auto expect = [&](facepost::Errc code, const std::string& text) {
    const facepost::Status s = pp.try_run(h, fx.input, facepost::ImageMapping::resize(fx.resize), d);
    INFO(s.message());
    CHECK(s.code() == code);
    CHECK(std::string(s.message()).find(text) != std::string::npos);
  };
  h.conf = TensorView::quantized(q.data(), n, 2, Dequant{0.f, 0});
  expect(facepost::Errc::bad_dequant, "conf: dequantization scale must be finite and > 0, got 0");
  h.conf = TensorView::quantized(q.data(), n, 2, Dequant{NAN, 0});
  expect(facepost::Errc::bad_dequant, "scale must be finite and > 0, got nan");
  h.conf = TensorView::quantized(q.data(), n, 2, Dequant{-0.5f, 0});
  expect(facepost::Errc::bad_dequant, "got -0.5");
  h.conf = TensorView::quantized(q.data(), n, 2, Dequant{0.5f, 128});
  expect(facepost::Errc::bad_dequant, "conf: zero point 128 is outside the int8 range [-128, 127]");
  h.conf = TensorView::quantized(reinterpret_cast<const std::uint8_t*>(q.data()), n, 2, Dequant{0.5f, -1});
  expect(facepost::Errc::bad_dequant, "zero point -1 is outside the uint8 range [0, 255]");
  h.conf = heads.view().conf;
  h.conf.dequant = Dequant{0.5f, 0};
  expect(facepost::Errc::bad_dequant, "conf: dequantization (scale 0.5, zero point 0) given for a float32 tensor");
  h.conf = heads.view().conf;
  h.landms.type = ElementType(9);
  h.landms.raw = heads.landms.data.data();
  expect(facepost::Errc::bad_element_type, "landms: unknown element type 9");
  h.landms = TensorView(nullptr, ElementType::float16, n, 10, 10, 1);
  expect(facepost::Errc::empty_tensor, "landms tensor is empty");

  facepost::TensorView v;
  CHECK(facepost::view_tensor(q.data(), ElementType::int8, {1, std::int64_t(n), 2}, "conf", v, Dequant{0.1f, 3}).ok());
  CHECK(v.type == ElementType::int8);
  CHECK(v.rows == n);
  const facepost::Status bad = facepost::view_tensor(q.data(), ElementType::int8, {2, std::int64_t(n), 2}, "conf", v);
  CHECK(bad.code() == facepost::Errc::bad_shape);
  CHECK(std::string(bad.message()).find("BatchPostprocessor") != std::string::npos);
}

namespace {

bool same_family(const facepost::FamilyDetections& a, const facepost::FamilyDetections& b) {
  if (a.size() != b.size() || a.cols() != b.cols()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a.source_index(i) != b.source_index(i)) return false;
  return a.size() == 0 || std::memcmp(a.data(), b.data(), a.size() * a.cols() * sizeof(float)) == 0;
}

/// One head in three encodings over the same float32 values: float16, int8 and uint8.
struct Encoded {
  lowp::Half half;
  lowp::Quantized<std::int8_t> s8;
  lowp::Quantized<std::uint8_t> u8;
  std::size_t rows, cols;
  explicit Encoded(const facepost::io::NpyArray& a)
      : half(a.data),
        s8(a.data, dequant_for(a.data, 0)),
        u8(a.data, dequant_for(a.data, 100, 100.f)),
        rows(std::size_t(a.shape[a.shape.size() - 2])),
        cols(std::size_t(a.shape.back())) {}
  /// encoding 0: float16, 1: int8, 2: uint8; `values`: the float32 view of what it holds.
  TensorView view(int encoding, bool values) const {
    const std::vector<float>& v = encoding == 0 ? half.values : encoding == 1 ? s8.values : u8.values;
    if (values) return TensorView(v.data(), rows, cols);
    if (encoding == 0) return TensorView::float16(half.bits.data(), rows, cols);
    if (encoding == 1) return TensorView::quantized(s8.q.data(), rows, cols, s8.dequant);
    return TensorView::quantized(u8.q.data(), rows, cols, u8.dequant);
  }
};

std::string family_dir(const std::string& family, const std::string& name) { return "families/" + family + "/" + name; }

}  // namespace

TEST_CASE("low precision: the detector families on float16 / int8 / uint8 heads equal them on the values",
          "[lowp][families]") {
  std::size_t compared = 0, nonempty[3] = {0, 0, 0};
  int enc = 0;
  auto count = [&](const facepost::FamilyDetections& a, const facepost::FamilyDetections& b) {
    ++compared;
    nonempty[enc] += a.size() > 0;
    return same_family(a, b);
  };
  for (enc = 0; enc < 3; ++enc) {
    INFO("encoding " << enc);
    {  // SCRFD, with keypoints
      const std::string dir = family_dir("scrfd", "family_640x640");
      std::vector<Encoded> heads;
      for (const char* kind : {"score_", "bbox_", "kps_"})
        for (int s : facepost::kScrfdStrides) heads.emplace_back(fixtures::load(dir, kind + std::to_string(s) + ".npy"));
      facepost::ScrfdHeads typed, values;
      for (int l = 0; l < 3; ++l) {
        typed.score[l] = heads[std::size_t(l)].view(enc, false), values.score[l] = heads[std::size_t(l)].view(enc, true);
        typed.bbox[l] = heads[std::size_t(3 + l)].view(enc, false), values.bbox[l] = heads[std::size_t(3 + l)].view(enc, true);
        typed.kps[l] = heads[std::size_t(6 + l)].view(enc, false), values.kps[l] = heads[std::size_t(6 + l)].view(enc, true);
      }
      facepost::ScrfdPostprocessor a, b;
      CHECK(count(a.run(typed, {640, 640}), b.run(values, {640, 640})));
    }
    {  // YuNet
      const std::string dir = family_dir("yunet", "selfie_640x480");
      const Encoded loc(fixtures::load(dir, "loc.npy")), conf(fixtures::load(dir, "conf.npy")),
          iou(fixtures::load(dir, "iou.npy"));
      const facepost::YunetHeads typed{loc.view(enc, false), conf.view(enc, false), iou.view(enc, false)};
      const facepost::YunetHeads values{loc.view(enc, true), conf.view(enc, true), iou.view(enc, true)};
      facepost::YunetPostprocessor a, b;
      CHECK(count(a.run(typed, {640, 480}), b.run(values, {640, 480})));
    }
    {  // BlazeFace (front), one tensor per head
      const std::string dir = family_dir("blazeface", "front_3faces");
      const Encoded reg(fixtures::load(dir, "regressors.npy")), cls(fixtures::load(dir, "classificators.npy"));
      facepost::BlazefacePostprocessor a, b;
      CHECK(count(a.run({reg.view(enc, false), cls.view(enc, false)}), b.run({reg.view(enc, true), cls.view(enc, true)})));
    }
    {  // YOLOv5-face
      const Encoded pred(fixtures::load(family_dir("yolov5_face", "family_640x512"), "pred.npy"));
      facepost::Yolov5FacePostprocessor a, b;
      CHECK(count(a.run(pred.view(enc, false), {640, 512}), b.run(pred.view(enc, true), {640, 512})));
    }
  }
  CHECK(compared == 12);
  // Not vacuous: float16 keeps every family's faces; a per-tensor 8-bit scale loses some (YOLO's
  // pred holds pixels and probabilities in one tensor), but not all.
  CHECK(nonempty[0] == 4);
  CHECK(nonempty[1] >= 2);
  CHECK(nonempty[2] >= 2);
}

TEST_CASE("low precision: a family names a bad quantization", "[lowp][families][errors]") {
  const facepost::io::NpyArray pred = fixtures::load(family_dir("yolov5_face", "family_640x512"), "pred.npy");
  const std::size_t rows = std::size_t(pred.shape[pred.shape.size() - 2]);
  std::vector<std::uint8_t> q(rows * 16, 0);
  facepost::Yolov5FacePostprocessor post;
  facepost::FamilyDetections d;
  const facepost::Status s = post.try_run(TensorView::quantized(q.data(), rows, 16, Dequant{0.1f, 300}), {640, 512}, {}, d);
  CHECK(s.code() == facepost::Errc::bad_dequant);
  CHECK(std::string(s.message()) == "pred: zero point 300 is outside the uint8 range [0, 255]");
}

TEST_CASE("low precision: SCRFD names the stride of a bad quantization", "[lowp][families][errors]") {
  const fixtures::ScrfdOutputs out(family_dir("scrfd", "family_640x640"), true);
  facepost::ScrfdHeads h = out.view();
  std::vector<std::int8_t> q(h.bbox[1].rows * 4, 0);
  h.bbox[1] = TensorView::quantized(q.data(), h.bbox[1].rows, 4, Dequant{0.1f, -129});
  facepost::ScrfdPostprocessor post;
  facepost::FamilyDetections d;
  const facepost::Status s = post.try_run(h, {640, 640}, {}, {}, d);
  CHECK(s.code() == facepost::Errc::bad_dequant);
  CHECK(std::string(s.message()) == "bbox_16: zero point -129 is outside the int8 range [-128, 127]");
}
