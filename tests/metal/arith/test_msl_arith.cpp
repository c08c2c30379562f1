// tests/metal/arith/test_msl_arith.cpp - the Metal instantiation of the arithmetic files
// (include/facepost/metal/arith.h, built by msl_arith_probe.cpp as MSL-subset code) against the
// CPU's facepost::arith and hardware doubles, bit for bit.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "facepost/arith/arith.hpp"
#include "msl_arith_probe.h"

namespace {

static_assert(sizeof(unsigned long) == 8, "SoftDouble bits travel as unsigned long");
using u64 = unsigned long;

u64 dbits(double d) {
  u64 b;
  std::memcpy(&b, &d, 8);
  return b;
}
double dval(u64 b) {
  double d;
  std::memcpy(&d, &b, 8);
  return d;
}
std::uint32_t fbits(float f) {
  std::uint32_t b;
  std::memcpy(&b, &f, 4);
  return b;
}
float fval(std::uint32_t b) {
  float f;
  std::memcpy(&f, &b, 4);
  return f;
}

/// Random doubles whose significands favour carries and ties: fully random, only the top t
/// fraction bits random (exact ties after alignment or rounding), all ones, or one bit.
struct DoubleGen {
  std::mt19937_64 rng;
  explicit DoubleGen(std::uint64_t seed) : rng(seed) {}
  u64 frac() {
    const u64 r = rng() & 0xFFFFFFFFFFFFFul;
    switch (rng() % 4) {
      case 0: return r;
      case 1: {
        const unsigned t = unsigned(rng() % 53);
        return t == 0 ? 0 : r & (0xFFFFFFFFFFFFFul << (52 - t)) & 0xFFFFFFFFFFFFFul;
      }
      case 2: return (rng() % 2) ? 0xFFFFFFFFFFFFFul : 0xFFFFFFFFFFFFFul ^ (u64(1) << (rng() % 52));
      default: return u64(1) << (rng() % 52);
    }
  }
  u64 make(u64 sign, int biased_exp, u64 f) { return (sign << 63) | (u64(biased_exp) << 52) | f; }
  /// A normal double with a biased exponent in [lo, hi].
  u64 normal(int lo, int hi) { return make(rng() & 1, lo + int(rng() % u64(hi - lo + 1)), frac()); }
  /// b near a: the exponent within +-span of a's, the significand often a's nudged (cancellation).
  u64 near(u64 a, int span, bool normal_only) {
    const int ea = int((a >> 52) & 0x7FF);
    int eb = ea + int(rng() % u64(2 * span + 1)) - span;
    if (eb < (normal_only ? 1 : 0)) eb = normal_only ? 1 : 0;
    if (eb > 2046) eb = 2046;
    u64 f = frac();
    if (rng() % 3 == 0) f = ((a & 0xFFFFFFFFFFFFFul) + (rng() % 5) - 2) & 0xFFFFFFFFFFFFFul;
    return make(rng() & 1, eb, f);
  }
};

template <class Op, class Soft>
void compare_binary(const char* name, Op op, Soft soft, bool normal_only, std::uint64_t seed, int n) {
  DoubleGen g(seed);
  int failures = 0;
  for (int i = 0; i < n && failures < 5; ++i) {
    u64 a, b;
    switch (i % 4) {
      case 0: a = g.normal(1, 2046); b = g.normal(1, 2046); break;              // anything
      case 1: a = g.normal(900, 1150); b = g.near(a, 3, normal_only); break;    // cancellation
      case 2: a = g.normal(900, 1150); b = g.near(a, 60, normal_only); break;   // alignment, ties
      default: a = g.normal(1, 80); b = g.near(a, 60, normal_only); break;      // near underflow
    }
    if (!normal_only && i % 7 == 0) a &= ~(u64(0x7FF) << 52);  // a subnormal (or zero) operand
    const u64 want = dbits(op(dval(a), dval(b))), got = soft(a, b);
    if (want != got) {
      ++failures;
      UNSCOPED_INFO(name << std::hexfloat << "(" << dval(a) << ", " << dval(b) << "): CPU " << dval(want)
                         << ", SoftDouble " << dval(got));
    }
  }
  CHECK(failures == 0);
}

const std::vector<u64>& special_doubles() {
  static const std::vector<u64> v = {
      0, u64(1) << 63, 0x7FF0000000000000ul, 0xFFF0000000000000ul, 0x7FF8000000000000ul, 0xFFF8000000000000ul,
      0x7FF0000000000001ul, 0x7FF4000000000123ul, 0x0000000000000001ul, 0x000FFFFFFFFFFFFFul, 0x0010000000000000ul,
      0x8010000000000000ul, 0x7FEFFFFFFFFFFFFFul, 0xFFEFFFFFFFFFFFFFul, dbits(1.0), dbits(-1.0), dbits(0.5),
      dbits(1.5), dbits(2.5), dbits(-2.5), dbits(0x1p-1022), dbits(0x1p-1074), dbits(0x1.fffffffffffffp+1023)};
  return v;
}

}  // namespace

TEST_CASE("msl SoftDouble add/sub/mul equal hardware doubles", "[metal]") {
  const auto add = [](double a, double b) { return facepost::lanes::add(a, b); };
  const auto sub = [](double a, double b) { return facepost::lanes::sub(a, b); };
  const auto mul = [](double a, double b) { return facepost::lanes::mul(a, b); };
  const int n = 2000000;
  compare_binary("add", add, facepost_msl_sd_add, true, 1, n);
  compare_binary("sub", sub, facepost_msl_sd_sub, true, 2, n);
  compare_binary("mul", mul, facepost_msl_sd_mul, true, 3, n);
  // subnormal operands and results too (exp never needs them; SoftDouble handles them anyway)
  compare_binary("add", add, facepost_msl_sd_add, false, 4, n / 4);
  compare_binary("sub", sub, facepost_msl_sd_sub, false, 5, n / 4);
  compare_binary("mul", mul, facepost_msl_sd_mul, false, 6, n / 4);
  // every pair of special values (NaN payloads, infinities, zeros, extremes)
  for (u64 a : special_doubles())
    for (u64 b : special_doubles()) {
      INFO(std::hexfloat << dval(a) << ", " << dval(b));
      if (std::isnan(dval(a)) && std::isnan(dval(b))) {
        // which NaN x86 returns depends on the operand order the compiler chose: NaN is the result
        CHECK(std::isnan(dval(facepost_msl_sd_add(a, b))));
        CHECK(std::isnan(dval(facepost_msl_sd_sub(a, b))));
        CHECK(std::isnan(dval(facepost_msl_sd_mul(a, b))));
      } else {
        CHECK(facepost_msl_sd_add(a, b) == dbits(add(dval(a), dval(b))));
        CHECK(facepost_msl_sd_sub(a, b) == dbits(sub(dval(a), dval(b))));
        CHECK(facepost_msl_sd_mul(a, b) == dbits(mul(dval(a), dval(b))));
      }
      CHECK(facepost_msl_sd_max_ref(a, b) == dbits(facepost::lanes::max_ref(dval(a), dval(b))));
      CHECK(facepost_msl_sd_min_ref(a, b) == dbits(facepost::lanes::min_ref(dval(a), dval(b))));
    }
}

TEST_CASE("msl SoftDouble to_float, round_even, scale_pow2, widen, min/max", "[metal]") {
  DoubleGen g(11);
  int failures = 0;
  for (int i = 0; i < 2000000 && failures < 5; ++i) {
    // around the float range: overflow, normals, subnormals (ties included), underflow to 0
    const u64 a = g.normal(1023 - 160, 1023 + 130);
    const float want = facepost::lanes::to_float(dval(a)), got = facepost_msl_sd_to_float(a);
    if (fbits(want) != fbits(got)) {
      ++failures;
      UNSCOPED_INFO("to_float(" << std::hexfloat << dval(a) << "): CPU " << want << ", SoftDouble " << got);
    }
    // round_even on [-2^60, 2^60], scale_pow2 by |k| < 1022, min/max of close pairs
    const u64 r = g.normal(1023 - 4, 1023 + 60);
    if (facepost_msl_sd_round_even(r) != dbits(facepost::lanes::round_even(dval(r)))) {
      ++failures;
      UNSCOPED_INFO("round_even(" << std::hexfloat << dval(r) << ")");
    }
    const u64 p = g.normal(1022, 1023);
    const double k = double(int(g.rng() % 2043) - 1021);
    if (facepost_msl_sd_scale_pow2(p, dbits(k)) != dbits(facepost::lanes::scale_pow2(dval(p), k))) {
      ++failures;
      UNSCOPED_INFO("scale_pow2(" << std::hexfloat << dval(p) << ", " << k << ")");
    }
    const u64 b = g.near(a, 1, true);
    if (facepost_msl_sd_max_ref(a, b) != dbits(facepost::lanes::max_ref(dval(a), dval(b))) ||
        facepost_msl_sd_min_ref(a, b) != dbits(facepost::lanes::min_ref(dval(a), dval(b)))) {
      ++failures;
      UNSCOPED_INFO("max_ref/min_ref(" << std::hexfloat << dval(a) << ", " << dval(b) << ")");
    }
  }
  CHECK(failures == 0);
  for (u64 a : special_doubles()) {
    INFO(std::hexfloat << dval(a));
    CHECK(fbits(facepost_msl_sd_to_float(a)) == fbits(facepost::lanes::to_float(dval(a))));
    CHECK(facepost_msl_sd_round_even(a) == dbits(facepost::lanes::round_even(dval(a))));
  }
  // widen: every 61st float bit pattern (all classes, NaN payloads included) and the extremes
  int widen_failures = 0;
  for (std::uint64_t b = 0; b <= 0xFFFFFFFFu; b += (b < 16 || b > 0xFFFFFFF0u) ? 1 : 61) {
    const float f = fval(std::uint32_t(b));
    if (facepost_msl_sd_widen(f) != dbits(facepost::lanes::widen(f)) && ++widen_failures < 5)
      UNSCOPED_INFO("widen(" << std::hexfloat << f << ") bits " << std::hex << b);
  }
  CHECK(widen_failures == 0);
}

TEST_CASE("msl exp_f32 equals the CPU's exp_f32 bit for bit", "[metal]") {
  int failures = 0;
  std::uint64_t tested = 0;
  const auto check = [&](float x) {
    ++tested;
    const float want = facepost::arith::exp_f32(x), got = facepost_msl_exp_f32(x);
    // A signaling NaN gives a NaN: quieted or not on the CPU depends on the optimizer (g++ -O2
    // folds the float->double->float round trip); msl quiets it as the conversions do.
    const bool signaling = std::isnan(x) && (fbits(x) & 0x00400000u) == 0;
    const bool ok = signaling ? std::isnan(got) : fbits(want) == fbits(got);
    if (!ok && ++failures <= 5)
      UNSCOPED_INFO("exp_f32(" << std::hexfloat << x << ", bits 0x" << std::hex << fbits(x) << "): CPU "
                               << want << ", msl " << got);
  };
  // (a) a dense sweep of [-110, 90]: every 509th float bit pattern of each sign
  const std::uint32_t top_pos = fbits(90.f), top_neg = fbits(-110.f);
  for (std::uint32_t b = 0; b <= top_pos; b += 509) check(fval(b));
  for (std::uint32_t b = 0x80000000u; b <= top_neg; b += 509) check(fval(b));
  const std::uint64_t swept = tested;
  // (b) 4096 floats either side of the clamps, overflow (88.72...), the subnormal and zero
  // thresholds of the float result, 0 and the smallest inputs
  const float centres[] = {90.f,        -110.f, 88.7228394f, -87.3365479f, -103.278931f, -103.972084f,
                           0.f,         -0.f,   1e-30f,      -1e-30f,      0.5f,         -0.5f,
                           0.34657359f, 1.f,    -1.f,        std::numeric_limits<float>::min()};
  for (float c : centres) {
    const std::int64_t cb = fbits(c);
    for (std::int64_t d = -4096; d <= 4096; ++d) {
      const std::int64_t b = cb + d;
      if (b >= 0 && b <= 0xFFFFFFFFll) check(fval(std::uint32_t(b)));
    }
  }
  // every subnormal's neighbourhood, beyond the clamps up to inf, NaN payloads: strided
  for (std::uint32_t b = 0; b < 0x00800000u; b += 97) check(fval(b)), check(fval(b | 0x80000000u));
  for (std::uint32_t b = top_pos; b <= 0x7F800000u; b += 4099) check(fval(b));
  for (std::uint32_t b = top_neg; b <= 0xFF800000u && b >= top_neg; b += 4099) check(fval(b));
  for (std::uint32_t b = 0x7F800000u; b <= 0x7FFFFFFFu; b += 65537) check(fval(b)), check(fval(b | 0x80000000u));
  const float specials[] = {std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(),
                            std::numeric_limits<float>::quiet_NaN(), -std::numeric_limits<float>::quiet_NaN(),
                            std::numeric_limits<float>::signaling_NaN(), fval(0x7F800001u), fval(0xFFFFFFFFu),
                            std::numeric_limits<float>::denorm_min(), -std::numeric_limits<float>::denorm_min(),
                            std::numeric_limits<float>::max(), -std::numeric_limits<float>::max()};
  for (float x : specials) check(x);
  INFO(swept << " floats swept, " << tested << " in all");
  CHECK(failures == 0);
  CHECK(swept > 4000000);
}

TEST_CASE("msl softmax_face equals the CPU's", "[metal]") {
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> narrow(-20.f, 20.f), wide(-300.f, 300.f);
  int failures = 0;
  for (int i = 0; i < 1000000; ++i) {
    const float l0 = (i % 4 == 3) ? wide(rng) : narrow(rng);
    const float l1 = (i % 8 == 5) ? l0 : (i % 4 == 2) ? wide(rng) : narrow(rng);
    const float want = facepost::arith::softmax_face(l0, l1), got = facepost_msl_softmax_face(l0, l1);
    if (fbits(want) != fbits(got) && ++failures <= 5)
      UNSCOPED_INFO("softmax_face(" << std::hexfloat << l0 << ", " << l1 << ")");
  }
  CHECK(failures == 0);
  const float sp[] = {0.f, -0.f, 1e-40f, 88.f, -88.f, 104.f, std::numeric_limits<float>::infinity(),
                      -std::numeric_limits<float>::infinity(), std::numeric_limits<float>::quiet_NaN()};
  for (float a : sp)
    for (float b : sp) {
      INFO(a << ", " << b);
      CHECK(fbits(facepost_msl_softmax_face(a, b)) == fbits(facepost::arith::softmax_face(a, b)));
    }
}

TEST_CASE("msl decode, IoU, suppression and score predicates equal the CPU's", "[metal]") {
  namespace fa = facepost::arith;
  using facepost::IouConvention;
  std::mt19937 rng(9);
  std::uniform_real_distribution<float> u(0.f, 1.f), l(-3.f, 3.f), px(0.f, 640.f);
  int failures = 0;
  const auto same = [&](float a, float b, const char* what) {
    if (fbits(a) != fbits(b) && ++failures <= 5) UNSCOPED_INFO(what);
  };
  for (int i = 0; i < 300000; ++i) {
    const float p_c = u(rng), p_s = u(rng), lv = l(rng), v0 = 0.1f;
    same(facepost_msl_decode_center(p_c, lv, v0, p_s), fa::decode_center(p_c, lv, v0, p_s), "decode_center");
    float lo, hi, clo, chi;
    facepost_msl_decode_corners(p_c, p_s, &lo, &hi);
    fa::decode_corners(p_c, p_s, clo, chi);
    same(lo, clo, "decode_corners lo");
    same(hi, chi, "decode_corners hi");
    same(facepost_msl_to_image(lo, 640.f, 3.5f, 0.37f), fa::to_image(lo, 640.f, 3.5f, 0.37f), "to_image");
    same(facepost_msl_clamp_to(lo - 0.5f, 0.75f), fa::clamp_to(lo - 0.5f, 0.75f), "clamp_to");
    float a[4] = {px(rng), px(rng), 0, 0}, b[4] = {a[0] + l(rng) * 9.f, a[1] + l(rng) * 9.f, 0, 0};
    a[2] = a[0] + px(rng) / 8.f, a[3] = a[1] + px(rng) / 8.f, b[2] = b[0] + px(rng) / 8.f, b[3] = b[1] + px(rng) / 8.f;
    for (int conv = 0; conv < 2; ++conv) {
      const IouConvention c = IouConvention(conv);
      const float want = c == IouConvention::legacy_pixel
                             ? fa::box_iou<IouConvention::legacy_pixel>(
                                   a[0], a[1], a[2], a[3], fa::box_area<IouConvention::legacy_pixel>(a[0], a[1], a[2], a[3]),
                                   b[0], b[1], b[2], b[3], fa::box_area<IouConvention::legacy_pixel>(b[0], b[1], b[2], b[3]))
                             : fa::box_iou<IouConvention::continuous>(
                                   a[0], a[1], a[2], a[3], fa::box_area<IouConvention::continuous>(a[0], a[1], a[2], a[3]),
                                   b[0], b[1], b[2], b[3], fa::box_area<IouConvention::continuous>(b[0], b[1], b[2], b[3]));
      same(facepost_msl_box_iou(conv, a, b), want, "box_iou");
      const float t = u(rng);
      const bool sup = c == IouConvention::legacy_pixel ? fa::suppresses<IouConvention::legacy_pixel>(want, t)
                                                         : fa::suppresses<IouConvention::continuous>(want, t);
      if ((facepost_msl_suppresses(conv, want, t) != 0) != sup && ++failures <= 5) UNSCOPED_INFO("suppresses");
    }
  }
  CHECK(failures == 0);
  const float sp[] = {0.f, -0.f, 0.5f, 1.f, std::numeric_limits<float>::infinity(),
                      -std::numeric_limits<float>::infinity(), std::numeric_limits<float>::quiet_NaN()};
  for (float x : sp) {
    CHECK((facepost_msl_is_finite(x) != 0) == fa::is_finite(x));
    for (float t : sp) {
      CHECK((facepost_msl_probability_passes(x, t) != 0) == fa::probability_passes(x, t));
      CHECK((facepost_msl_suppresses(0, x, t) != 0) == fa::suppresses<IouConvention::legacy_pixel>(x, t));
      CHECK((facepost_msl_suppresses(1, x, t) != 0) == fa::suppresses<IouConvention::continuous>(x, t));
      CHECK(fbits(facepost_msl_clamp_to(x, t)) == fbits(fa::clamp_to(x, t)));
    }
  }
}
