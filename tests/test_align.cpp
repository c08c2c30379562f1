// Face alignment (facepost/align.hpp): the closed-form 2D Umeyama against Eigen::umeyama on
// random points and on every fixture's golden detections (RetinaFace [K,15], BlazeFace [K,17]
// with a 6-point template), the ArcFace templates (112 and 128 bases), collinear and mirrored
// landmarks, and every error (degenerate landmarks name the face).
#include <catch2/catch.hpp>

// Eigen::umeyama's SVD inlines GCC's AVX-512 intrinsics, which GCC < 13 reports as reading an
// uninitialised value (GCC bug 105593, as -Wmaybe-uninitialized in CMakeLists.txt): the warning
// is false and fires at the inlined call sites, so it is silenced for this file (with the
// -Warray-bounds and -Wstringop-overread that -O3 reports in the same SVD code).
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ < 13
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Warray-bounds"
#pragma GCC diagnostic ignored "-Wstringop-overread"
#endif
#include <Eigen/Geometry>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "facepost/facepost.hpp"
#include "fixtures.hpp"

namespace {

using facepost::AlignTemplate;
using facepost::Errc;
using facepost::Similarity2D;

constexpr double kPi = 3.14159265358979323846;

/// Eigen::umeyama (SVD, with scale) of n points (x, y) interleaved at src onto the template.
template <class T>
Eigen::Matrix<double, 2, 3> eigen_umeyama(const T* src, std::size_t step, const AlignTemplate& t) {
  const Eigen::Index n = Eigen::Index(t.count);
  Eigen::Matrix<double, 2, Eigen::Dynamic> a(2, n), b(2, n);
  for (Eigen::Index k = 0; k < n; ++k) {
    a(0, k) = double(src[std::size_t(k) * step]);
    a(1, k) = double(src[std::size_t(k) * step + 1]);
    b(0, k) = t.xy[2 * k];
    b(1, k) = t.xy[2 * k + 1];
  }
  const Eigen::Matrix3d m = Eigen::umeyama(a, b, true);
  return m.topRows<2>();
}

/// Largest |difference| relative to the larger of 1 and the reference's largest entry.
double relative_difference(const Similarity2D& got, const Eigen::Matrix<double, 2, 3>& want) {
  const double d = (got.matrix() - want).cwiseAbs().maxCoeff();
  return d / std::max(1.0, want.cwiseAbs().maxCoeff());
}

std::string describe(const facepost::Status& s) {
  return std::string(facepost::errc_name(s.code())) + ": " + s.message();
}

bool contains(const facepost::Status& s, const char* text) { return std::strstr(s.message(), text) != nullptr; }

}  // namespace

TEST_CASE("align: ArcFace templates as insightface's estimate_norm builds them", "[align]") {
  const facepost::ArcfaceTemplate t112 = facepost::arcface_template();
  CHECK(t112.size == 112);
  for (std::size_t i = 0; i < 10; ++i) CHECK(t112.xy[i] == double(facepost::kArcface112[i]));
  CHECK(t112.xy[0] == double(38.2946f));
  CHECK(t112.xy[9] == double(92.2041f));

  // Multiples of 112: float32 points times the integer ratio, in float32.
  for (int size : {224, 336, 896}) {
    const facepost::ArcfaceTemplate t = facepost::arcface_template(size);
    const float ratio = float(size / 112);
    for (std::size_t i = 0; i < 10; ++i) CHECK(t.xy[i] == double(facepost::kArcface112[i] * ratio));
  }
  // Multiples of 128 (not of 112): ratio = size / 128, x + 8 * ratio.
  for (int size : {128, 256, 512}) {
    const facepost::ArcfaceTemplate t = facepost::arcface_template(size);
    const float ratio = float(size / 128);
    for (std::size_t i = 0; i < 10; ++i) {
      const float want = i % 2 == 0 ? facepost::kArcface112[i] * ratio + 8.f * ratio : facepost::kArcface112[i] * ratio;
      CHECK(t.xy[i] == double(want));
    }
  }
  CHECK(facepost::arcface_template(128).xy[0] == double(38.2946f + 8.f));
  CHECK(facepost::arcface_template(128).xy[1] == double(51.6963f));

  for (int size : {0, -112, 100, 113, 200, 1000, 1 << 30}) {
    facepost::ArcfaceTemplate t;
    t.size = -1;
    const facepost::Status s = facepost::try_arcface_template(size, t);
    INFO(size << " " << describe(s));
    CHECK(s.code() == Errc::bad_size);
    CHECK(contains(s, "multiple of 112 or of 128"));
    CHECK(t.size == -1);  // unchanged
  }
#if FACEPOST_EXCEPTIONS
  CHECK_THROWS_AS(facepost::arcface_template(100), facepost::Error);
#endif
}

TEST_CASE("align: closed form equals Eigen::umeyama on random points", "[align]") {
  std::mt19937 rng(20240601);
  std::uniform_real_distribution<double> coord(-500.0, 1500.0), unit(-1.0, 1.0), angle(-3.14159, 3.14159),
      log_scale(-4.0, 4.0);
  std::vector<double> tmpl, src;
  double worst = 0;
  for (int trial = 0; trial < 2000; ++trial) {
    const std::size_t n = 2 + std::size_t(trial % 9);
    tmpl.resize(2 * n);
    src.resize(2 * n);
    for (double& v : tmpl) v = coord(rng) * 0.1;
    // src = the inverse of a random similarity applied to the template, plus noise (none, some,
    // or pure noise: no relation at all).
    const double th = angle(rng), sc = std::exp(log_scale(rng)), noise = trial % 3 == 0 ? 0.0 : trial % 3 == 1 ? 2.0 : 1e4;
    const double ox = coord(rng), oy = coord(rng);
    for (std::size_t k = 0; k < n; ++k) {
      const double x = tmpl[2 * k], y = tmpl[2 * k + 1];
      src[2 * k] = sc * (std::cos(th) * x - std::sin(th) * y) + ox + noise * unit(rng);
      src[2 * k + 1] = sc * (std::sin(th) * x + std::cos(th) * y) + oy + noise * unit(rng);
    }
    const AlignTemplate t{tmpl.data(), n};
    Similarity2D got{};
    const facepost::Status s = facepost::try_estimate_similarity(src.data(), t, got);
    REQUIRE(s.ok());
    const double d = relative_difference(got, eigen_umeyama(src.data(), 2, t));
    worst = std::max(worst, d);
    if (noise == 0.0) {
      // The exact similarity is recovered: it maps each source point onto its template point.
      for (std::size_t k = 0; k < n; ++k) {
        CHECK(got.apply_x(src[2 * k], src[2 * k + 1]) == Approx(tmpl[2 * k]).margin(1e-9));
        CHECK(got.apply_y(src[2 * k], src[2 * k + 1]) == Approx(tmpl[2 * k + 1]).margin(1e-9));
      }
      CHECK(got.scale() == Approx(1.0 / sc).epsilon(1e-9));
    }
  }
  INFO("largest relative difference " << worst);
  CHECK(worst < 1e-9);
}

TEST_CASE("align: every fixture's golden detections vs Eigen::umeyama (ArcFace 112 and 128)", "[align]") {
  std::size_t faces = 0;
  for (const auto& f : fixtures::all()) {
    for (const auto& g : fixtures::golden_sets()) {
      const facepost::io::NpyArray a = fixtures::load(f.name, std::string("golden_") + g.name + ".npy");
      REQUIRE(a.shape.size() == 2);
      REQUIRE(a.shape[1] == 15);
      const std::size_t k = std::size_t(a.shape[0]);
      const facepost::Detections dets(a.data.data(), nullptr, k);
      for (int size : {112, 128, 224}) {
        const facepost::ArcfaceTemplate t = facepost::arcface_template(size);
        std::vector<Similarity2D> out(k);
        const facepost::Status s = facepost::try_align(dets, t.view(), out.data(), out.size());
        INFO(f.name << " " << g.name << " " << size << " " << describe(s));
        REQUIRE(s.ok());
        for (std::size_t i = 0; i < k; ++i) {
          const double d = relative_difference(out[i], eigen_umeyama(a.data.data() + 15 * i + 5, 2, t.view()));
          INFO("face " << i);
          CHECK(d < 1e-10);
        }
        faces += k;
      }
    }
  }
  CHECK(faces > 1000);
}

TEST_CASE("align: BlazeFace [K,17] detections onto a 6-point template", "[align]") {
  const std::string dir = "families/blazeface/front_3faces";
  const facepost::io::NpyArray a = fixtures::load(dir, "golden_default.npy");
  REQUIRE(a.shape.size() == 2);
  REQUIRE(a.shape[1] == 17);
  const std::size_t k = std::size_t(a.shape[0]);
  REQUIRE(k > 0);
  // Eyes, nose, mouth from ArcFace's template plus two ear points (a made-up 6-point template).
  const double six[12] = {38.2946, 51.6963, 73.5318, 51.5014, 56.0252, 71.7366,
                          56.0, 92.0, 20.0, 60.0, 92.0, 60.0};
  const AlignTemplate t{six, 6};
  const facepost::FamilyDetections dets(a.data.data(), nullptr, k, 17);
  std::vector<Similarity2D> out(k);
  const facepost::Status s = facepost::try_align(dets, t, out.data(), out.size());
  INFO(describe(s));
  REQUIRE(s.ok());
  for (std::size_t i = 0; i < k; ++i) CHECK(relative_difference(out[i], eigen_umeyama(a.data.data() + 17 * i + 5, 2, t)) < 1e-10);

  // A 5-point template does not fit 6 keypoints, nor rows without keypoints.
  const facepost::Status five = facepost::try_align(dets, facepost::arcface_template().view(), out.data(), out.size());
  CHECK(five.code() == Errc::bad_shape);
  CHECK(contains(five, "6 keypoints"));
  const facepost::FamilyDetections boxes(a.data.data(), nullptr, k, 5);
  CHECK(facepost::try_align(boxes, t, out.data(), out.size()).code() == Errc::bad_shape);
  // The same rows through try_align_rows, and a 6-point template refused for RetinaFace rows.
  std::vector<Similarity2D> rows_out(k);
  REQUIRE(facepost::try_align_rows(a.data.data(), k, 17, 5, t, rows_out.data(), k).ok());
  CHECK(std::memcmp(rows_out.data(), out.data(), k * sizeof(Similarity2D)) == 0);
  const facepost::Detections retina(a.data.data(), nullptr, 1);
  CHECK(facepost::try_align(retina, t, out.data(), out.size()).code() == Errc::bad_shape);
}

TEST_CASE("align: collinear landmarks give skimage's proper rotation", "[align]") {
  // Five distinct points on one line through (100, 100) at 30 degrees; template points on the
  // x axis. The cross-covariance has rank 1: skimage (rank == dim - 1) and Eigen take the
  // rotation that maps the line's direction onto the template's, with scale s1 / var.
  const double c = std::cos(kPi / 6), sn = std::sin(kPi / 6);
  const double ts[5] = {-2, -1, 0, 1.5, 3};
  double src[10], dst[10];
  for (int k = 0; k < 5; ++k) {
    src[2 * k] = 100 + 10 * ts[k] * c;
    src[2 * k + 1] = 100 + 10 * ts[k] * sn;
    dst[2 * k] = 50 + 5 * ts[k];
    dst[2 * k + 1] = 60;
  }
  const AlignTemplate line{dst, 5};
  Similarity2D m{};
  REQUIRE(facepost::try_estimate_similarity(src, line, m).ok());
  CHECK(relative_difference(m, eigen_umeyama(src, 2, line)) < 1e-12);
  CHECK(m.scale() == Approx(0.5));
  CHECK(std::atan2(m.m[1][0], m.m[0][0]) == Approx(-kPi / 6));
  for (int k = 0; k < 5; ++k) {
    CHECK(m.apply_x(src[2 * k], src[2 * k + 1]) == Approx(dst[2 * k]));
    CHECK(m.apply_y(src[2 * k], src[2 * k + 1]) == Approx(dst[2 * k + 1]));
  }
  // Collinear landmarks onto the (non-collinear) ArcFace template: finite, = Eigen.
  const facepost::ArcfaceTemplate arc = facepost::arcface_template();
  REQUIRE(facepost::try_estimate_similarity(src, arc.view(), m).ok());
  CHECK(relative_difference(m, eigen_umeyama(src, 2, arc.view())) < 1e-12);
  // Two points (the least a template can have) are always collinear.
  const double two_src[4] = {0, 0, 10, 10}, two_dst[4] = {1, 1, 1, 21};
  REQUIRE(facepost::try_estimate_similarity(two_src, AlignTemplate{two_dst, 2}, m).ok());
  CHECK(relative_difference(m, eigen_umeyama(two_src, 2, AlignTemplate{two_dst, 2})) < 1e-12);
  CHECK(m.scale() == Approx(std::sqrt(2.0)));
}

TEST_CASE("align: mirrored landmarks: skimage's rotation and scale (s1 - s2) / var, not an error", "[align]") {
  // Landmarks mirrored from the template: the cross-covariance has det < 0, Umeyama's D flips
  // its last singular value and the scale is (s1 - s2) / var. Finite; equals Eigen.
  const facepost::ArcfaceTemplate arc = facepost::arcface_template();
  double src[10];
  for (int k = 0; k < 5; ++k) {
    src[2 * k] = 200 - arc.xy[2 * k];
    src[2 * k + 1] = arc.xy[2 * k + 1];
  }
  Similarity2D m{};
  REQUIRE(facepost::try_estimate_similarity(src, arc.view(), m).ok());
  CHECK(relative_difference(m, eigen_umeyama(src, 2, arc.view())) < 1e-12);
  // A template with isotropic spread (a square) mirrored: s1 = s2, so the scale is 0 and every
  // landmark maps to the template's centre, as in skimage (whose result is finite there too).
  const double square[8] = {10, 10, 30, 10, 10, 30, 30, 30}, mirrored[8] = {-10, 10, -30, 10, -10, 30, -30, 30};
  REQUIRE(facepost::try_estimate_similarity(mirrored, AlignTemplate{square, 4}, m).ok());
  CHECK(m.scale() == 0.0);
  CHECK(m.m[0][2] == 20.0);
  CHECK(m.m[1][2] == 20.0);
  CHECK((m.matrix() - eigen_umeyama(mirrored, 2, AlignTemplate{square, 4})).cwiseAbs().maxCoeff() < 1e-12);
}

TEST_CASE("align: degenerate landmarks are errors naming the face, never NaN", "[align]") {
  const facepost::ArcfaceTemplate arc = facepost::arcface_template();
  // Four faces; face 2 is bad in each way; faces 0 and 1 are written, 2 and 3 untouched.
  const float good[15] = {0, 0, 0, 0, 0.9f, 10, 10, 30, 10, 20, 20, 12, 30, 28, 30};
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  struct Case {
    const char* what;
    float lx[5], ly[5];
    const char* message;
  };
  const Case cases[] = {
      {"all equal", {7, 7, 7, 7, 7}, {3, 3, 3, 3, 3}, "face 2: its 5 landmarks have zero variance (all equal"},
      {"NaN", {10, 30, nan, 12, 28}, {10, 10, 20, 30, 30}, "face 2: landmark 2 (nan, 20) is not finite"},
      {"inf", {10, 30, 20, 12, 28}, {10, 10, 20, 30, -inf}, "face 2: landmark 4 (28, -inf) is not finite"},
  };
  for (const Case& c : cases) {
    std::vector<float> rows;
    for (int i = 0; i < 4; ++i) rows.insert(rows.end(), good, good + 15);
    for (int k = 0; k < 5; ++k) {
      rows[15 * 2 + 5 + 2 * std::size_t(k)] = c.lx[k];
      rows[15 * 2 + 6 + 2 * std::size_t(k)] = c.ly[k];
    }
    Similarity2D out[4];
    std::memset(out, 0x5a, sizeof out);
    Similarity2D untouched;
    std::memset(&untouched, 0x5a, sizeof untouched);
    const facepost::Detections dets(rows.data(), nullptr, 4);
    const facepost::Status s = facepost::try_align(dets, arc.view(), out, 4);
    INFO(c.what << ": " << describe(s));
    CHECK(s.code() == Errc::bad_landmarks);
    CHECK(contains(s, c.message));
    CHECK(relative_difference(out[0], eigen_umeyama(good + 5, 2, arc.view())) < 1e-12);
    CHECK(relative_difference(out[1], eigen_umeyama(good + 5, 2, arc.view())) < 1e-12);
    CHECK(std::memcmp(&out[2], &untouched, sizeof untouched) == 0);
    CHECK(std::memcmp(&out[3], &untouched, sizeof untouched) == 0);
#if FACEPOST_EXCEPTIONS
    try {
      facepost::align(dets, arc.view(), out, 4);
      FAIL("no exception");
    } catch (const facepost::Error& e) {
      CHECK(e.code() == Errc::bad_landmarks);
      CHECK(std::string(e.what()) == s.message());
    }
#endif
  }

  // float landmarks cannot overflow double; double ones can: the variance overflows to inf,
  // a non-finite similarity is refused.
  const double huge[10] = {-1e200, 0, 1e200, 0, 0, 1, 1, 0, 2, 2};
  Similarity2D h{};
  const facepost::Status hs = facepost::try_estimate_similarity(huge, arc.view(), h);
  INFO(describe(hs));
  CHECK(hs.code() == Errc::bad_landmarks);
  CHECK(contains(hs, "face 0: its landmarks are too far apart"));
  // Distinct, but so close that the variance underflows to 0: zero variance, not NaN.
  const double tiny[10] = {0, 0, 1e-170, 0, 0, 1e-170, 1e-170, 1e-170, 0, 0};
  const facepost::Status ts = facepost::try_estimate_similarity(tiny, arc.view(), h);
  INFO(describe(ts));
  CHECK(ts.code() == Errc::bad_landmarks);
  CHECK(contains(ts, "face 0: its 5 landmarks have zero variance"));

  // Zero cross-covariance (skimage: rank 0, NaN): points that vary along x onto template points
  // whose variation is uncorrelated with them.
  const double src[8] = {1, 0, -1, 0, 1, 0, -1, 0}, dst[8] = {0, 1, 0, 1, 0, -1, 0, -1};
  Similarity2D m{};
  const facepost::Status s = facepost::try_estimate_similarity(src, AlignTemplate{dst, 4}, m);
  INFO(describe(s));
  CHECK(s.code() == Errc::bad_landmarks);
  CHECK(contains(s, "face 0: its landmarks are uncorrelated with the template"));
}

TEST_CASE("align: template, shape, capacity and pointer errors", "[align]") {
  const facepost::ArcfaceTemplate arc = facepost::arcface_template();
  const float row[15] = {0, 0, 0, 0, 0.9f, 10, 10, 30, 10, 20, 20, 12, 30, 28, 30};
  Similarity2D out[2];
  const facepost::Detections one(row, nullptr, 1);

  const double one_point[2] = {1, 2};
  const double equal[10] = {5, 5, 5, 5, 5, 5, 5, 5, 5, 5};
  const double with_nan[10] = {1, 2, 3, 4, 5, 6, 7, std::nan(""), 9, 10};
  struct Case {
    AlignTemplate t;
    const char* message;
  };
  const Case bad[] = {
      {AlignTemplate{nullptr, 5}, "needs at least 2 points, got 5 (null points)"},
      {AlignTemplate{one_point, 1}, "needs at least 2 points, got 1"},
      {AlignTemplate{equal, 5}, "its 5 points are all equal (zero variance)"},
      {AlignTemplate{with_nan, 5}, "point 3 (7, nan) is not finite"},
  };
  for (const Case& c : bad) {
    const facepost::Status s = facepost::try_align(one, c.t, out, 2);
    INFO(describe(s));
    CHECK(s.code() == Errc::bad_argument);
    CHECK(contains(s, c.message));
    CHECK(facepost::try_estimate_similarity(row + 5, c.t, out[0]).code() == Errc::bad_argument);
  }
  // A 4-point template for 5-landmark detections.
  CHECK(facepost::try_align(one, AlignTemplate{arc.xy, 4}, out, 2).code() == Errc::bad_shape);
  // Capacity, null pointers, an empty result.
  const facepost::Status small = facepost::try_align(facepost::Detections(row, nullptr, 1), arc.view(), out, 0);
  CHECK(small.code() == Errc::bad_size);
  CHECK(contains(small, "output holds 0 transforms, 1 faces given"));
  CHECK(facepost::try_align(one, arc.view(), nullptr, 2).code() == Errc::empty_tensor);
  CHECK(facepost::try_align_rows(static_cast<const float*>(nullptr), 1, 15, 5, arc.view(), out, 2).code() ==
        Errc::empty_tensor);
  CHECK(facepost::try_align(facepost::Detections(), arc.view(), nullptr, 0).ok());
  // Rows too short for the template from first_col.
  CHECK(facepost::try_align_rows(row, 1, 14, 5, arc.view(), out, 2).code() == Errc::bad_shape);
  CHECK(facepost::try_align_rows(row, 1, 10, 11, arc.view(), out, 2).code() == Errc::bad_shape);
  // float and double landmarks agree.
  double rowd[10];
  for (int i = 0; i < 10; ++i) rowd[i] = double(row[5 + i]);
  REQUIRE(facepost::try_align_rows(row + 5, 1, 10, 0, arc.view(), out, 1).ok());
  REQUIRE(facepost::try_align_rows(rowd, 1, 10, 0, arc.view(), out + 1, 1).ok());
  CHECK(std::memcmp(&out[0], &out[1], sizeof out[0]) == 0);
  const Similarity2D thrown = facepost::estimate_similarity(rowd, arc.view());
  CHECK(std::memcmp(&out[0], &thrown, sizeof out[0]) == 0);
}
