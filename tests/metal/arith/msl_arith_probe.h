// tests/metal/arith/msl_arith_probe.h - plain functions over facepost::msl::arith (built in
// msl_arith_probe.cpp, a translation unit of MSL-subset code) for the comparison with the CPU in
// test_msl_arith.cpp. SoftDouble values travel as their 64-bit patterns.
#pragma once

extern "C" {
float facepost_msl_exp_f32(float x);
float facepost_msl_softmax_face(float l0, float l1);
unsigned long facepost_msl_sd_add(unsigned long a, unsigned long b);
unsigned long facepost_msl_sd_sub(unsigned long a, unsigned long b);
unsigned long facepost_msl_sd_mul(unsigned long a, unsigned long b);
unsigned long facepost_msl_sd_round_even(unsigned long a);
unsigned long facepost_msl_sd_scale_pow2(unsigned long p, unsigned long k);
unsigned long facepost_msl_sd_widen(float x);
unsigned long facepost_msl_sd_max_ref(unsigned long a, unsigned long b);
unsigned long facepost_msl_sd_min_ref(unsigned long a, unsigned long b);
float facepost_msl_sd_to_float(unsigned long a);
// float arithmetic of the other -inl files; conv is an IouConvention value
float facepost_msl_box_iou(int conv, const float* a, const float* b);  // x1 y1 x2 y2 each
int facepost_msl_suppresses(int conv, float iou, float t);
float facepost_msl_decode_center(float p_c, float l, float v0, float p_s);
void facepost_msl_decode_corners(float c, float s, float* lo, float* hi);
float facepost_msl_to_image(float v, float size, float pad, float scale);
float facepost_msl_clamp_to(float v, float hi);
int facepost_msl_probability_passes(float s, float t);
int facepost_msl_is_finite(float x);
}
