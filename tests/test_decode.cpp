// Decode: boxes and landmarks computed by hand, variance, the resize and letterbox mappings, and
// bit equality with the reference port on real regressions.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <vector>

#include "facepost/facepost.hpp"
#include "fixtures.hpp"
#include "reference/reference_port.hpp"

namespace {

using facepost::DecodeContext;
using facepost::ImageMapping;
using facepost::InputSize;
using facepost::Variance;

struct Decoded {
  float box[4];
  float lm[10];
};

Decoded decode(const float* prior, const float* loc, const float* lm, InputSize in, Variance v,
               const ImageMapping& m = {}) {
  const DecodeContext ctx(in, v, m);
  Decoded d{};
  facepost::decode_box(prior, facepost::RowRef{loc, 1}, ctx, d.box);
  facepost::decode_landmarks(prior, facepost::RowRef{lm, 1}, ctx, d.lm);
  return d;
}

// The same row through the reference port.
Decoded decode_ref(const float* prior, const float* loc, const float* lm, InputSize in, Variance v,
                   const ImageMapping& m = {}) {
  Decoded d{};
  facepost_ref::decode_row(prior, facepost::TensorView(loc, 1, 4), facepost::TensorView(lm, 1, 10), 0, in, v, m,
                           facepost_ref::CorrectlyRoundedExp{}, d.box, d.lm);
  return d;
}

bool same_bits(const float* a, const float* b, std::size_t n) { return std::memcmp(a, b, n * sizeof(float)) == 0; }

// Prior (0.5, 0.5, 0.25, 0.5), variance (0.5, 0.25), 64x32 input: every step is exact in float.
const float kPrior[4] = {0.5f, 0.5f, 0.25f, 0.5f};
const Variance kVar{0.5f, 0.25f};
const InputSize kIn{64, 32};
const float kLoc[4] = {1.f, -1.f, 0.f, 0.f};
const float kLm[10] = {2.f, 4.f, -2.f, 0.f, 0.f, -4.f, 1.f, 1.f, -1.f, -1.f};

}  // namespace

TEST_CASE("decode: box and landmarks by hand (exact values)", "[decode]") {
  // cx = 0.5 + (1*0.5)*0.25 = 0.625, cy = 0.5 + (-1*0.5)*0.5 = 0.25, w = 0.25*exp(0) = 0.25,
  // h = 0.5; x1 = 0.5, y1 = 0, x2 = 0.75, y2 = 0.5; times (64, 32).
  const Decoded d = decode(kPrior, kLoc, kLm, kIn, kVar);
  CHECK(d.box[0] == 32.f);
  CHECK(d.box[1] == 0.f);
  CHECK(d.box[2] == 48.f);
  CHECK(d.box[3] == 16.f);
  // Landmark k: (0.5 + d*0.5*0.25, 0.5 + d*0.5*0.5) times (64, 32).
  const float want[10] = {48.f, 48.f, 16.f, 16.f, 32.f, -16.f, 40.f, 24.f, 24.f, 8.f};
  for (int k = 0; k < 10; ++k) {
    INFO("landmark value " << k);
    CHECK(d.lm[k] == want[k]);
  }
  const Decoded r = decode_ref(kPrior, kLoc, kLm, kIn, kVar);
  CHECK(same_bits(d.box, r.box, 4));
  CHECK(same_bits(d.lm, r.lm, 10));
}

TEST_CASE("decode: size regressions go through exp", "[decode]") {
  // l2*v1 = ln 2 -> w = 0.25*2 = 0.5; l3*v1 = -ln 2 -> h = 0.5/2 = 0.25 (up to the float
  // rounding of ln 2).
  const float ln2 = 0.693147180559945f;
  const float loc[4] = {0.f, 0.f, ln2 / 0.25f, -ln2 / 0.25f};
  const Decoded d = decode(kPrior, loc, kLm, kIn, kVar);
  CHECK(d.box[0] == Approx(16.f).epsilon(1e-6));  // (0.5 - 0.25) * 64
  CHECK(d.box[2] == Approx(48.f).epsilon(1e-6));  // (0.5 + 0.25) * 64
  CHECK(d.box[1] == Approx(12.f).epsilon(1e-6));  // (0.5 - 0.125) * 32
  CHECK(d.box[3] == Approx(20.f).epsilon(1e-6));  // (0.5 + 0.125) * 32
  const Decoded r = decode_ref(kPrior, loc, kLm, kIn, kVar);
  CHECK(same_bits(d.box, r.box, 4));
}

TEST_CASE("decode: default variance by hand", "[decode]") {
  // Prior (0.3, 0.6, 0.1, 0.2), loc (2, -1, 0.5, 1), variance (0.1, 0.2), 100x200 input:
  // cx = 0.32, cy = 0.58, w = 0.1*e^0.1, h = 0.2*e^0.2.
  const float prior[4] = {0.3f, 0.6f, 0.1f, 0.2f};
  const float loc[4] = {2.f, -1.f, 0.5f, 1.f};
  const float lm[10] = {1.f, 1.f, -1.f, -1.f, 0.f, 0.f, 3.f, 0.f, 0.f, 3.f};
  const Decoded d = decode(prior, loc, lm, {100, 200}, Variance{});
  const double w = 0.1 * std::exp(0.1), h = 0.2 * std::exp(0.2);
  CHECK(d.box[0] == Approx((0.32 - w / 2) * 100).margin(1e-4));
  CHECK(d.box[1] == Approx((0.58 - h / 2) * 200).margin(1e-4));
  CHECK(d.box[2] == Approx((0.32 + w / 2) * 100).margin(1e-4));
  CHECK(d.box[3] == Approx((0.58 + h / 2) * 200).margin(1e-4));
  // Landmark (x, y) = (0.3 + dx*0.1*0.1, 0.6 + dy*0.1*0.2) * (100, 200).
  CHECK(d.lm[0] == Approx(31.0).margin(1e-4));
  CHECK(d.lm[1] == Approx(124.0).margin(1e-4));
  CHECK(d.lm[2] == Approx(29.0).margin(1e-4));
  CHECK(d.lm[3] == Approx(116.0).margin(1e-4));
  CHECK(d.lm[4] == Approx(30.0).margin(1e-4));
  CHECK(d.lm[6] == Approx(33.0).margin(1e-4));
  CHECK(d.lm[9] == Approx(132.0).margin(1e-4));
  const Decoded r = decode_ref(prior, loc, lm, {100, 200}, Variance{});
  CHECK(same_bits(d.box, r.box, 4));
  CHECK(same_bits(d.lm, r.lm, 10));
}

TEST_CASE("decode: variance scales centre and size regressions separately", "[decode]") {
  const float loc[4] = {1.f, 1.f, 1.f, 1.f};
  const Decoded base = decode(kPrior, loc, kLm, kIn, Variance{0.5f, 0.25f});
  const Decoded centre = decode(kPrior, loc, kLm, kIn, Variance{0.25f, 0.25f});
  const Decoded size = decode(kPrior, loc, kLm, kIn, Variance{0.5f, 0.5f});
  // Centre: cx = 0.5 + v0*0.25; the box width is unchanged by v0.
  CHECK((base.box[0] + base.box[2]) / 2 == Approx((0.5 + 0.5 * 0.25) * 64));
  CHECK((centre.box[0] + centre.box[2]) / 2 == Approx((0.5 + 0.25 * 0.25) * 64));
  CHECK(centre.box[2] - centre.box[0] == Approx(base.box[2] - base.box[0]));
  // Size: w = 0.25*exp(v1); the centre is unchanged by v1.
  CHECK(base.box[2] - base.box[0] == Approx(0.25 * std::exp(0.25) * 64).epsilon(1e-5));
  CHECK(size.box[2] - size.box[0] == Approx(0.25 * std::exp(0.5) * 64).epsilon(1e-5));
  CHECK((size.box[0] + size.box[2]) / 2 == Approx((base.box[0] + base.box[2]) / 2));
  // Landmarks use v0 only.
  CHECK(size.lm[0] == base.lm[0]);
  CHECK(centre.lm[0] == Approx((0.5 + 2 * 0.25 * 0.25) * 64));
}

TEST_CASE("decode: the resize mapping divides by resize, as the reference", "[decode]") {
  const Decoded d = decode(kPrior, kLoc, kLm, kIn, kVar, ImageMapping::resize(0.5f));
  CHECK(d.box[0] == 64.f);
  CHECK(d.box[1] == 0.f);
  CHECK(d.box[2] == 96.f);
  CHECK(d.box[3] == 32.f);
  CHECK(d.lm[0] == 96.f);
  CHECK(d.lm[5] == -32.f);
  // A resize that is not a power of two: bit for bit x*W / resize in float32.
  const float r = 0.4f;
  const Decoded e = decode(kPrior, kLoc, kLm, kIn, kVar, ImageMapping::resize(r));
  const Decoded plain = decode(kPrior, kLoc, kLm, kIn, kVar);
  for (int c = 0; c < 4; ++c) CHECK(e.box[c] == plain.box[c] / r);
  for (int c = 0; c < 10; ++c) CHECK(e.lm[c] == plain.lm[c] / r);
}

TEST_CASE("decode: letterbox mapping subtracts the padding, then divides by the scale", "[decode]") {
  // (x*W - pad) / scale with scale (0.5, 0.25), pad (8, 4).
  const Decoded d = decode(kPrior, kLoc, kLm, kIn, kVar, ImageMapping::letterbox(0.5f, 0.25f, 8.f, 4.f));
  CHECK(d.box[0] == 48.f);   // (32 - 8) / 0.5
  CHECK(d.box[1] == -16.f);  // (0 - 4) / 0.25
  CHECK(d.box[2] == 80.f);   // (48 - 8) / 0.5
  CHECK(d.box[3] == 48.f);   // (16 - 4) / 0.25
  CHECK(d.lm[0] == 80.f);    // (48 - 8) / 0.5
  CHECK(d.lm[1] == 176.f);   // (48 - 4) / 0.25
  const Decoded r =
      decode_ref(kPrior, kLoc, kLm, kIn, kVar, ImageMapping::letterbox(0.5f, 0.25f, 8.f, 4.f));
  CHECK(same_bits(d.box, r.box, 4));
  CHECK(same_bits(d.lm, r.lm, 10));
}

TEST_CASE("decode: letterbox_fit centres the scaled image and maps back to the original", "[decode]") {
  // 1280x720 into 640x640: scale 0.5, the image is 640x360, 140 px of padding above and below.
  const ImageMapping wide = ImageMapping::letterbox_fit(1280, 720, 640, 640);
  CHECK(wide.scale_x == 0.5f);
  CHECK(wide.scale_y == 0.5f);
  CHECK(wide.pad_x == 0.f);
  CHECK(wide.pad_y == 140.f);
  // 300x600 into 640x640: scale 640/600, 160 px of padding left and right.
  const ImageMapping tall = ImageMapping::letterbox_fit(300, 600, 640, 640);
  CHECK(tall.scale_x == 640.f / 600.f);
  CHECK(tall.pad_x == Approx(160.0).margin(1e-3));
  CHECK(tall.pad_y == Approx(0.0).margin(1e-3));
  // A face at original pixels (400, 300)-(600, 500) sits at network pixels (200, 290)-(300, 390);
  // a prior that decodes exactly onto it with zero regressions maps back to the original.
  const float prior[4] = {250.f / 640, 340.f / 640, 100.f / 640, 100.f / 640};
  const float zero_loc[4] = {0, 0, 0, 0}, zero_lm[10] = {};
  const Decoded d = decode(prior, zero_loc, zero_lm, {640, 640}, Variance{}, wide);
  CHECK(d.box[0] == Approx(400.0).margin(1e-3));
  CHECK(d.box[1] == Approx(300.0).margin(1e-3));
  CHECK(d.box[2] == Approx(600.0).margin(1e-3));
  CHECK(d.box[3] == Approx(500.0).margin(1e-3));
  CHECK(d.lm[0] == Approx(500.0).margin(1e-3));  // the prior centre
  CHECK(d.lm[1] == Approx(400.0).margin(1e-3));
}

TEST_CASE("decode: strided tensors decode like contiguous ones", "[decode]") {
  // Three rows; loc stored column-major, landms with a padded row stride.
  const float priors[12] = {0.5f, 0.5f, 0.25f, 0.5f, 0.1f, 0.9f, 0.05f, 0.07f, 0.7f, 0.2f, 0.3f, 0.3f};
  const float loc_rows[12] = {1, -1, 0, 0, 0.3f, 0.1f, -0.7f, 0.4f, -2, 3, 1.5f, -1.5f};
  float loc_cols[12];
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 4; ++c) loc_cols[c * 3 + r] = loc_rows[r * 4 + c];
  std::vector<float> lm_rows(30), lm_padded(3 * 13, -999.f);
  for (int i = 0; i < 30; ++i) lm_rows[std::size_t(i)] = 0.1f * float(i) - 1.f;
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 10; ++c) lm_padded[std::size_t(r * 13 + c)] = lm_rows[std::size_t(r * 10 + c)];
  const DecodeContext ctx({300, 200}, Variance{}, ImageMapping::resize(0.75f));
  float a[12], b[12], la[30], lb[30];
  facepost::decode_boxes(facepost::TensorView(loc_rows, 3, 4), priors, ctx, a);
  facepost::decode_boxes(facepost::TensorView(loc_cols, 3, 4, 1, 3), priors, ctx, b);
  facepost::decode_all_landmarks(facepost::TensorView(lm_rows.data(), 3, 10), priors, ctx, la);
  facepost::decode_all_landmarks(facepost::TensorView(lm_padded.data(), 3, 10, 13, 1), priors, ctx, lb);
  CHECK(same_bits(a, b, 12));
  CHECK(same_bits(la, lb, 30));
}

TEST_CASE("decode: every row of a real fixture equals the reference port bit for bit", "[decode]") {
  for (const char* name : {"group_mnet_long640", "selfie_slim_native"}) {
    INFO(name);
    const fixtures::Heads heads(name);
    for (const fixtures::Fixture& f : fixtures::all()) {
      if (std::string(f.name) != name) continue;
      facepost::PriorGrid<facepost::AnchorConfig> grid(f.anchors);
      grid.build(f.input);
      const facepost::HeadOutputs h = heads.view();
      const std::size_t n = grid.size();
      REQUIRE(h.loc.rows == n);
      for (const ImageMapping& m : {ImageMapping::resize(f.resize), ImageMapping::letterbox(0.7f, 0.3f, 12.5f, -3.f)}) {
        const DecodeContext ctx(f.input, f.anchors.variance, m);
        std::vector<float> boxes(4 * n), lms(10 * n);
        facepost::decode_boxes(h.loc, grid.data(), ctx, boxes.data());
        facepost::decode_all_landmarks(h.landms, grid.data(), ctx, lms.data());
        std::size_t box_diff = 0, lm_diff = 0;
        for (std::size_t r = 0; r < n; ++r) {
          float rb[4], rl[10];
          facepost_ref::decode_row(grid.data() + 4 * r, h.loc, h.landms, r, f.input, f.anchors.variance, m,
                                   facepost_ref::CorrectlyRoundedExp{}, rb, rl);
          box_diff += !same_bits(rb, boxes.data() + 4 * r, 4);
          lm_diff += !same_bits(rl, lms.data() + 10 * r, 10);
        }
        CHECK(box_diff == 0);
        CHECK(lm_diff == 0);
      }
    }
  }
}
