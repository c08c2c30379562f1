// Letterbox mappings: the integer letterbox of cv::resize pipelines (Letterbox::fit,
// ImageMapping::letterbox_integer) against YOLOv5's arithmetic, the exact-scale letterbox_fit
// (no -0.0, no negative pads), and boxes taken through a real integer resize and mapped back.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <random>
#include <vector>

#include "facepost/facepost.hpp"

namespace {

using facepost::DecodeContext;
using facepost::ImageMapping;
using facepost::Letterbox;
using facepost::LetterboxAnchor;

struct Case {
  int ow, oh, iw, ih;
  int rw, rh;         // resized size
  int left, top;      // centre anchor
  int right, bottom;  // centre anchor
};

// YOLOv5's letterbox as its description reads (fixed new_shape, auto=False), written
// independently of facepost's: r = min(ih/oh, iw/ow) in double, resized = round(original * r)
// with ties to even (std::nearbyint in the default rounding mode, as Python's round()), the
// padding dw = input - resized split as round(dw/2 - 0.1) left and round(dw/2 + 0.1) right.
Case yolov5(int ow, int oh, int iw, int ih) {
  const double r = std::min(double(ih) / oh, double(iw) / ow);
  Case c{ow, oh, iw, ih, int(std::nearbyint(ow * r)), int(std::nearbyint(oh * r)), 0, 0, 0, 0};
  const double dw = (iw - c.rw) / 2.0, dh = (ih - c.rh) / 2.0;
  c.left = int(std::nearbyint(dw - 0.1));
  c.right = int(std::nearbyint(dw + 0.1));
  c.top = int(std::nearbyint(dh - 0.1));
  c.bottom = int(std::nearbyint(dh + 0.1));
  return c;
}

void check_mapping_of(const Letterbox& lb) {
  const ImageMapping m = lb.mapping();
  CHECK(m.scale_x == float(lb.resized_width) / float(lb.original_width));
  CHECK(m.scale_y == float(lb.resized_height) / float(lb.original_height));
  CHECK(m.pad_x == float(lb.pad_left));
  CHECK(m.pad_y == float(lb.pad_top));
  CHECK_FALSE(std::signbit(m.pad_x));
  CHECK_FALSE(std::signbit(m.pad_y));
  CHECK_FALSE(m.clip);
  CHECK(facepost::validate_mapping(m).ok());
  CHECK(facepost::validate_letterbox(lb).ok());
}

/// Where an original coordinate lands after the real integer resize (the original's [0, ow]
/// onto the resized image's [0, rw], cv::resize's pixel-area convention) and the padding: in
/// double, the truth the mapping must undo.
double to_network(double v, int original, int resized, int pad) { return v * resized / original + pad; }

/// facepost's mapping of a network coordinate (normalised, as decode has it) back to the original.
float back_x(const ImageMapping& m, int iw, int ih, double x_net) {
  const DecodeContext ctx({iw, ih}, facepost::Variance{}, m);
  return ctx.map_x(float(x_net / iw));
}
float back_y(const ImageMapping& m, int iw, int ih, double y_net) {
  const DecodeContext ctx({iw, ih}, facepost::Variance{}, m);
  return ctx.map_y(float(y_net / ih));
}

}  // namespace

TEST_CASE("letterbox: Letterbox::fit sizes and pads, both anchors", "[letterbox]") {
  const Case cases[] = {
      {1920, 1080, 640, 640, 640, 360, 0, 140, 0, 140},   // 16:9 into a square
      {1920, 1080, 1024, 624, 1024, 576, 0, 24, 0, 24},   // into a non-square input
      {1280, 721, 640, 640, 640, 360, 0, 140, 0, 140},    // 360.5 rounds to even: 360
      {1280, 723, 640, 640, 640, 362, 0, 139, 0, 139},    // 361.5 rounds to even: 362
      {333, 999, 640, 640, 213, 640, 213, 0, 214, 0},     // odd sizes, odd padding: the extra pixel right
      {641, 480, 640, 640, 640, 479, 0, 80, 0, 81},       // odd padding: the extra pixel at the bottom
      {1000, 999, 640, 640, 640, 639, 0, 0, 0, 1},        // one pixel of padding, all of it at the bottom
      {1280, 1000, 1024, 624, 799, 624, 112, 0, 113, 0},  // landscape original, the height limits
      {100, 50, 640, 640, 640, 320, 0, 160, 0, 160},      // upscaled
      {640, 640, 640, 640, 640, 640, 0, 0, 0, 0},         // identity
      {10000, 1, 640, 640, 640, 1, 0, 319, 0, 320},       // 0.064 px tall: kept at 1 px
  };
  for (const Case& c : cases) {
    INFO(c.ow << "x" << c.oh << " -> " << c.iw << "x" << c.ih);
    const Letterbox lb = Letterbox::fit(c.ow, c.oh, c.iw, c.ih);
    CHECK(lb.original_width == c.ow);
    CHECK(lb.original_height == c.oh);
    CHECK(lb.input_width == c.iw);
    CHECK(lb.input_height == c.ih);
    CHECK(lb.resized_width == c.rw);
    CHECK(lb.resized_height == c.rh);
    CHECK(lb.pad_left == c.left);
    CHECK(lb.pad_top == c.top);
    CHECK(lb.pad_right() == c.right);
    CHECK(lb.pad_bottom() == c.bottom);
    check_mapping_of(lb);
    const ImageMapping centre = ImageMapping::letterbox_integer(c.ow, c.oh, c.iw, c.ih);
    CHECK(centre.scale_x == lb.mapping().scale_x);
    CHECK(centre.scale_y == lb.mapping().scale_y);
    CHECK(centre.pad_x == float(c.left));
    CHECK(centre.pad_y == float(c.top));

    // Top-left: the same resized size, all padding right and bottom.
    const Letterbox tl = Letterbox::fit(c.ow, c.oh, c.iw, c.ih, LetterboxAnchor::top_left);
    CHECK(tl.resized_width == c.rw);
    CHECK(tl.resized_height == c.rh);
    CHECK(tl.pad_left == 0);
    CHECK(tl.pad_top == 0);
    CHECK(tl.pad_right() == c.left + c.right);
    CHECK(tl.pad_bottom() == c.top + c.bottom);
    check_mapping_of(tl);
    const ImageMapping top_left = ImageMapping::letterbox_integer(c.ow, c.oh, c.iw, c.ih, LetterboxAnchor::top_left);
    CHECK(top_left.scale_x == lb.mapping().scale_x);
    CHECK(top_left.scale_y == lb.mapping().scale_y);
    CHECK(top_left.pad_x == 0.f);
    CHECK(top_left.pad_y == 0.f);
    CHECK_FALSE(std::signbit(top_left.pad_x));
    CHECK_FALSE(std::signbit(top_left.pad_y));

    // The table is YOLOv5's arithmetic (but for the 1-px floor of the extreme case, where
    // YOLOv5 would resize to 0 rows).
    const Case y = yolov5(c.ow, c.oh, c.iw, c.ih);
    if (y.rh > 0) {
      CHECK(y.rw == c.rw);
      CHECK(y.rh == c.rh);
      CHECK(y.left == c.left);
      CHECK(y.top == c.top);
      CHECK(y.right == c.right);
      CHECK(y.bottom == c.bottom);
    }
  }
  // 1920x1080 -> 640x640: the mapping's scale is exactly 1/3 in float on both axes.
  const ImageMapping hd = ImageMapping::letterbox_integer(1920, 1080, 640, 640);
  CHECK(hd.scale_x == 1.f / 3.f);
  CHECK(hd.scale_y == 1.f / 3.f);
  CHECK(hd.pad_x == 0.f);
  CHECK(hd.pad_y == 140.f);
}

TEST_CASE("letterbox: Letterbox::fit is YOLOv5's letterbox on random sizes", "[letterbox]") {
  // Random originals and inputs, and sizes whose scaled side is a tie (x.5): ties go to even.
  std::mt19937 rng(20240611);
  std::size_t ties = 0, odd_pads = 0;
  for (int trial = 0; trial < 20000; ++trial) {
    int ow = 1 + int(rng() % 4000), oh = 1 + int(rng() % 4000);
    const int iw = 32 * (1 + int(rng() % 40)), ih = trial % 3 ? iw : 32 * (1 + int(rng() % 40));
    if (trial % 5 == 0) {  // original = 2 x input plus one odd pixel: the scaled side is k + 0.5
      ow = 2 * iw;
      oh = 2 * (int(rng() % unsigned(ih))) + 1;
    }
    const Case y = yolov5(ow, oh, iw, ih);
    if (y.rw < 1 || y.rh < 1) continue;  // YOLOv5 would resize to nothing
    const Letterbox lb = Letterbox::fit(ow, oh, iw, ih);
    INFO(ow << "x" << oh << " -> " << iw << "x" << ih);
    REQUIRE(lb.resized_width == y.rw);
    REQUIRE(lb.resized_height == y.rh);
    REQUIRE(lb.pad_left == y.left);
    REQUIRE(lb.pad_top == y.top);
    REQUIRE(lb.pad_right() == y.right);
    REQUIRE(lb.pad_bottom() == y.bottom);
    const double r = std::min(double(ih) / oh, double(iw) / ow);
    ties += oh * r - std::floor(oh * r) == 0.5;
    odd_pads += (y.left != y.right) || (y.top != y.bottom);
  }
  CHECK(ties > 100);
  CHECK(odd_pads > 1000);
}

TEST_CASE("letterbox: letterbox_fit pads are +0 on the filled axis and never negative", "[letterbox]") {
  // 1920x1080 -> 640x640: scale 1/3 (float), pad (+0, 140) exactly; the old float formula gave
  // (640 - 1920 * s) / 2 = -3e-05 and 139.99999 here.
  const ImageMapping hd = ImageMapping::letterbox_fit(1920, 1080, 640, 640);
  CHECK(hd.scale_x == 640.f / 1920.f);
  CHECK(hd.scale_y == hd.scale_x);
  CHECK(hd.pad_x == 0.f);
  CHECK_FALSE(std::signbit(hd.pad_x));
  CHECK(hd.pad_y == 140.f);
  const ImageMapping tall = ImageMapping::letterbox_fit(300, 600, 640, 640);
  CHECK(tall.scale_x == 640.f / 600.f);
  CHECK(tall.pad_x == 160.f);
  CHECK(tall.pad_y == 0.f);
  CHECK_FALSE(std::signbit(tall.pad_y));
  const ImageMapping tl = ImageMapping::letterbox_fit(1920, 1080, 640, 640, LetterboxAnchor::top_left);
  CHECK(tl.scale_x == hd.scale_x);
  CHECK((tl.pad_x == 0.f && tl.pad_y == 0.f && !std::signbit(tl.pad_x) && !std::signbit(tl.pad_y)));

  std::mt19937 rng(7);
  for (int trial = 0; trial < 20000; ++trial) {
    const int ow = 1 + int(rng() % 5000), oh = 1 + int(rng() % 5000);
    const int iw = 1 + int(rng() % 2000), ih = trial % 2 ? iw : 1 + int(rng() % 2000);
    const ImageMapping m = ImageMapping::letterbox_fit(ow, oh, iw, ih);
    INFO(ow << "x" << oh << " -> " << iw << "x" << ih << ": pads " << m.pad_x << ", " << m.pad_y);
    REQUIRE(m.scale_x == m.scale_y);
    REQUIRE((m.scale_x == float(iw) / float(ow) || m.scale_x == float(ih) / float(oh)));
    REQUIRE(m.pad_x >= 0.f);
    REQUIRE(m.pad_y >= 0.f);
    REQUIRE_FALSE(std::signbit(m.pad_x));
    REQUIRE_FALSE(std::signbit(m.pad_y));
    REQUIRE((m.pad_x == 0.f || m.pad_y == 0.f));
    // The pad is the exact fraction (input - original * s_exact) / 2, rounded once.
    const double s_exact = std::min(double(iw) / ow, double(ih) / oh);
    REQUIRE(std::fabs(m.pad_x - (iw - ow * s_exact) / 2) <= 1e-6 * iw + 1e-9);
    REQUIRE(std::fabs(m.pad_y - (ih - oh * s_exact) / 2) <= 1e-6 * ih + 1e-9);
    REQUIRE(facepost::validate_mapping(m).ok());
  }
}

TEST_CASE("letterbox: boxes through the real integer resize map back exactly, through letterbox_fit they are off",
          "[letterbox]") {
  // An original point v lands at v * resized / original + pad in the network input (the resize
  // maps [0, original] onto [0, resized]). letterbox_integer undoes that up to float rounding;
  // letterbox_fit assumes the exact scale and fractional padding, and is off by up to 0.75
  // network pixels on the padded axis (half a pixel of padding, a quarter of the rounded size).
  std::mt19937 rng(99);
  double worst_integer = 0.0, worst_fit_net = 0.0, worst_fit_px = 0.0;  // network, network, original pixels
  for (int trial = 0; trial < 5000; ++trial) {
    const int ow = 16 + int(rng() % 4000), oh = 16 + int(rng() % 4000);
    const int iw = 32 * (2 + int(rng() % 40)), ih = trial % 2 ? iw : 32 * (2 + int(rng() % 40));
    const Letterbox lb = Letterbox::fit(ow, oh, iw, ih);
    const ImageMapping exact = lb.mapping(), fit = ImageMapping::letterbox_fit(ow, oh, iw, ih);
    // Box corners and landmarks anywhere in the image, edges included.
    for (const double u : {0.0, 0.137, 0.5, 0.871, 1.0}) {
      const double x = u * ow, y = (1.0 - u) * oh;
      const double xn = to_network(x, ow, lb.resized_width, lb.pad_left);
      const double yn = to_network(y, oh, lb.resized_height, lb.pad_top);
      // Errors in network pixels (original pixels x scale): a few float roundings of the input size.
      const double tol = 8.0 * FLT_EPSILON * std::max(iw, ih);
      const double ex = std::fabs(back_x(exact, iw, ih, xn) - x) * exact.scale_x;
      const double ey = std::fabs(back_y(exact, iw, ih, yn) - y) * exact.scale_y;
      INFO(ow << "x" << oh << " -> " << iw << "x" << ih << " at u = " << u);
      REQUIRE(ex <= tol);
      REQUIRE(ey <= tol);
      worst_integer = std::max({worst_integer, ex, ey});
      const double fx = std::fabs(back_x(fit, iw, ih, xn) - x), fy = std::fabs(back_y(fit, iw, ih, yn) - y);
      worst_fit_px = std::max({worst_fit_px, fx, fy});
      worst_fit_net = std::max({worst_fit_net, fx * fit.scale_x, fy * fit.scale_y});
    }
  }
  CHECK(worst_integer < 1e-3);
  CHECK(worst_fit_net <= 0.75 + 1e-3);
  CHECK(worst_fit_net > 0.7);
  CHECK(worst_fit_px > 1.0);

  // The worst case in one example: 1280x721 into 640x641, scale 0.5. The resize gives 360 rows
  // (360.5 rounded to even) at top pad 140 (281 rows of padding, the odd one at the bottom);
  // letterbox_fit assumes 360.5 rows at 140.25. The bottom edge y = 721 lands at 140 + 360 = 500:
  // letterbox_integer maps it back to 721, letterbox_fit to (500 - 140.25) / 0.5 = 719.5.
  const Letterbox lb = Letterbox::fit(1280, 721, 640, 641);
  CHECK((lb.resized_width == 640 && lb.resized_height == 360 && lb.pad_top == 140 && lb.pad_bottom() == 141));
  const ImageMapping fit = ImageMapping::letterbox_fit(1280, 721, 640, 641);
  CHECK(fit.scale_y == 0.5f);
  CHECK(fit.pad_y == 140.25f);
  const double bottom = to_network(721.0, 721, 360, 140);
  CHECK(bottom == 500.0);
  CHECK(back_y(lb.mapping(), 640, 641, bottom) == Approx(721.0).margin(1e-3));
  CHECK(back_y(fit, 640, 641, bottom) == Approx(719.5).margin(1e-3));
  CHECK(back_y(lb.mapping(), 640, 641, to_network(0.0, 721, 360, 140)) == Approx(0.0).margin(1e-4));
  CHECK(back_y(fit, 640, 641, to_network(0.0, 721, 360, 140)) == Approx(-0.5).margin(1e-4));
}

TEST_CASE("letterbox: the mapping runs through the Postprocessor", "[letterbox][pipeline]") {
  // retinaface_mnet on a 32x32 input: prior 0 decodes (zero regressions) to the network box
  // (-4, -4, 12, 12). An original of 50x40 letterboxed into 32x32: resized 32x26 (25.6 -> 26),
  // pads (0, 3); scale (32/50, 26/40).
  const facepost::AnchorConfig mnet = facepost::to_anchor_config(facepost::presets::retinaface_mnet{});
  std::vector<float> loc(42 * 4, 0.f), conf(42 * 2, 0.f), landms(42 * 10, 0.f);
  for (std::size_t r = 0; r < 42; ++r) conf[2 * r] = 1.f;
  conf[0] = 0.1f;
  conf[1] = 0.9f;
  const facepost::HeadOutputs heads{facepost::TensorView(loc.data(), 42, 4), facepost::TensorView(conf.data(), 42, 2),
                                    facepost::TensorView(landms.data(), 42, 10)};
  const Letterbox lb = Letterbox::fit(50, 40, 32, 32);
  REQUIRE((lb.resized_width == 32 && lb.resized_height == 26 && lb.pad_left == 0 && lb.pad_top == 3));
  facepost::Postprocessor post(mnet);
  const facepost::Detections d = post.run(heads, {32, 32}, lb.mapping().clip_to(50.f, 40.f));
  REQUIRE(d.size() == 1);
  CHECK(d[0].x1() == 0.f);                            // (-4 - 0) / 0.64 = -6.25, clipped
  CHECK(d[0].y1() == 0.f);                            // (-4 - 3) / 0.65 < 0, clipped
  CHECK(d[0].x2() == Approx(12.0 / 0.64).margin(1e-4));  // 18.75
  CHECK(d[0].y2() == Approx(9.0 / 0.65).margin(1e-4));   // (12 - 3) / 0.65
  CHECK(d[0].landmark_x(0) == Approx(4.0 / 0.64).margin(1e-4));
  CHECK(d[0].landmark_y(0) == Approx(1.0 / 0.65).margin(1e-4));
}
