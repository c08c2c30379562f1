// tests/metal/arith/msl_arith_probe.cpp - include/facepost/metal/arith.h compiled as Metal would
// see it: the stand-in prelude, C++14, no standard header, no FMA contraction, and
// -fsingle-precision-constant (tests/metal/arith/CMakeLists.txt) so an unsuffixed floating
// literal is a float, as on Metal. Exposes plain functions (msl_arith_probe.h).
#include "msl_prelude.hpp"

#include "facepost/metal/arith.h"

#include "msl_arith_probe.h"

namespace ma = facepost::msl::arith;
using facepost::msl::IouConvention;
using facepost::msl::lanes::SoftDouble;

namespace {
SoftDouble sd(unsigned long b) { return SoftDouble::from_bits(b); }
}  // namespace

extern "C" {
float facepost_msl_exp_f32(float x) { return ma::exp_f32(x); }
float facepost_msl_softmax_face(float l0, float l1) { return ma::softmax_face(l0, l1); }
unsigned long facepost_msl_sd_add(unsigned long a, unsigned long b) { return ma::add(sd(a), sd(b)).bits; }
unsigned long facepost_msl_sd_sub(unsigned long a, unsigned long b) { return ma::sub(sd(a), sd(b)).bits; }
unsigned long facepost_msl_sd_mul(unsigned long a, unsigned long b) { return ma::mul(sd(a), sd(b)).bits; }
unsigned long facepost_msl_sd_round_even(unsigned long a) { return ma::round_even(sd(a)).bits; }
unsigned long facepost_msl_sd_scale_pow2(unsigned long p, unsigned long k) { return ma::scale_pow2(sd(p), sd(k)).bits; }
unsigned long facepost_msl_sd_widen(float x) { return ma::widen(x).bits; }
unsigned long facepost_msl_sd_max_ref(unsigned long a, unsigned long b) { return ma::max_ref(sd(a), sd(b)).bits; }
unsigned long facepost_msl_sd_min_ref(unsigned long a, unsigned long b) { return ma::min_ref(sd(a), sd(b)).bits; }
float facepost_msl_sd_to_float(unsigned long a) { return ma::to_float(sd(a)); }

float facepost_msl_box_iou(int conv, const float* a, const float* b) {
  if (conv == int(IouConvention::legacy_pixel)) {
    const float aa = ma::box_area<IouConvention::legacy_pixel>(a[0], a[1], a[2], a[3]);
    const float ab = ma::box_area<IouConvention::legacy_pixel>(b[0], b[1], b[2], b[3]);
    return ma::box_iou<IouConvention::legacy_pixel>(a[0], a[1], a[2], a[3], aa, b[0], b[1], b[2], b[3], ab);
  }
  const float aa = ma::box_area<IouConvention::continuous>(a[0], a[1], a[2], a[3]);
  const float ab = ma::box_area<IouConvention::continuous>(b[0], b[1], b[2], b[3]);
  return ma::box_iou<IouConvention::continuous>(a[0], a[1], a[2], a[3], aa, b[0], b[1], b[2], b[3], ab);
}
int facepost_msl_suppresses(int conv, float iou, float t) {
  if (conv == int(IouConvention::legacy_pixel)) return ma::suppresses<IouConvention::legacy_pixel>(iou, t);
  return ma::suppresses<IouConvention::continuous>(iou, t);
}
float facepost_msl_decode_center(float p_c, float l, float v0, float p_s) { return ma::decode_center(p_c, l, v0, p_s); }
void facepost_msl_decode_corners(float c, float s, float* lo, float* hi) { ma::decode_corners(c, s, *lo, *hi); }
float facepost_msl_to_image(float v, float size, float pad, float scale) { return ma::to_image(v, size, pad, scale); }
float facepost_msl_clamp_to(float v, float hi) { return ma::clamp_to(v, hi); }
int facepost_msl_probability_passes(float s, float t) { return ma::probability_passes(s, t); }
int facepost_msl_is_finite(float x) { return ma::is_finite(x); }
}
