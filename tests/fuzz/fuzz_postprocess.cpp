// fuzz_postprocess: the Postprocessor (runtime and compile-time anchors, single frame and
// batch) on configurations and tensors decoded from the fuzz input.
//
// The input decodes, front to back, to (see tests/fuzz/make_corpus.py, which writes the seeds):
//   flags, preset, corruption, corruption delta, anchor levels (step, min sizes), variance,
//   input width and height, score and NMS thresholds, top_k, keep_top_k, mapping, clip size,
// then the tensor values (cycled when the input is shorter than the tensors). Every field has a
// plain range and a table of edge values (0, negative, NaN, +-Inf, denormals, INT_MAX, ...).
//
// Checked on every input:
//  - try_run returns the Errc that an independent reading of the validation rules predicts
//    (valid inputs are never refused), a failure has a message and no detections, and run()
//    throws facepost::Error with the same code;
//  - a success equals an independent, plain re-implementation of the pipeline (priors in double,
//    filter, stable sort, top_k, decode, all-pairs greedy NMS, keep_top_k, clip), bit for bit;
//  - and, stated directly: every value finite, scores non-increasing (ties by ascending prior),
//    score > threshold, detections <= candidates <= priors, keep_top_k respected, no kept box
//    suppresses a later one under the chosen IoU convention, clipped values inside the image;
//  - running again on the same object (after a run with other parameters) and the batch API
//    (one thread, and two shards) give the same bits.
// Inputs whose prior count is valid but above kMaxFuzzPriors are skipped, so one execution
// stays well under a second; larger counts are covered by tests/test_bad_input_extra.cpp.
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "facepost/facepost.hpp"
#include "fuzz_check.hpp"

namespace {

using facepost::Errc;
using facepost::InputSize;
using facepost::IouConvention;
using facepost::ScoreFormat;

__extension__ typedef unsigned __int128 u128;  // exact prior counts: no overflow to reason about

constexpr std::uint64_t kMaxFuzzPriors = 6000;
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kDenorm = std::numeric_limits<float>::denorm_min();
constexpr std::int32_t kIntMax = std::numeric_limits<std::int32_t>::max();
constexpr std::int32_t kIntMin = std::numeric_limits<std::int32_t>::min();

// ---------------------------------------------------------------------------------------------
// Decoding the fuzz input

int decode_step(fuzz::ByteReader& in) {
  static const int plain[12] = {8, 16, 32, 64, 4, 2, 1, 3, 5, 7, 100, 128};
  const std::uint8_t c = in.u8();
  if (c < 224) return plain[c % 12];
  switch ((c - 224) % 8) {
    case 0: return 0;
    case 1: return -1;
    case 2: return -8;
    case 3: return kIntMax;
    case 4: return kIntMin;
    case 5: return 1 << 20;
    case 6: return (1 << 20) + 1;
    default: return in.i32();
  }
}

int decode_min_size(fuzz::ByteReader& in) {
  const std::uint8_t c = in.u8();
  if (c < 224) return 1 + c;
  switch ((c - 224) % 8) {
    case 0: return 0;
    case 1: return -1;
    case 2: return -16;
    case 3: return kIntMax;
    case 4: return kIntMin;
    case 5: return 1 << 20;
    case 6: return 1 << 30;
    default: return in.i32();
  }
}

facepost::Variance decode_variance(fuzz::ByteReader& in) {
  const std::uint8_t c = in.u8();
  if (c < 192) return {0.1f, 0.2f};
  switch ((c - 192) % 8) {
    case 0: return {0.f, 0.2f};
    case 1: return {0.1f, kNaN};
    case 2: return {kInf, 0.2f};
    case 3: return {-0.1f, 0.2f};
    case 4: return {kDenorm, kDenorm};  // valid: positive
    case 5: return {1e30f, 1e30f};      // valid: huge
    case 6: return {1.f, 1.f};
    default: {
      const float a = in.f32();
      return {a, in.f32()};
    }
  }
}

int decode_side(fuzz::ByteReader& in) {
  const std::uint8_t c = in.u8();
  if (c < 248) return 1 + c;  // 1..248: a valid size small enough to run
  switch (c - 248) {
    case 0: return 0;
    case 1: return -1;
    case 2: return kIntMin;
    case 3: return kIntMax;
    case 4: return facepost::kMaxInputSide;
    case 5: return facepost::kMaxInputSide + 1;
    case 6: return 1 << 19;
    default: return in.i32();
  }
}

float decode_score_threshold(fuzz::ByteReader& in) {
  static const float table[16] = {0.02f, 0.f,    -0.f,  0.5f, 1.f,   0.99999994f, 1.0000001f, -kDenorm,
                                  kDenorm, kNaN, -kNaN, kInf, -kInf, -0.5f,       2.f,        0.3f};
  const std::uint8_t c = in.u8();
  if (c < 100) return float(c) / 99.f;
  if (c < 240) return table[c % 16];
  return in.f32();
}

double decode_nms_threshold(fuzz::ByteReader& in) {
  static const double table[16] = {0.4,  0.0, 1.0,  -0.0, std::nextafter(1.0, 0.0), 1.0 + DBL_EPSILON, -1e-300, 1e-300,
                                   std::numeric_limits<double>::quiet_NaN(), HUGE_VAL, -HUGE_VAL, 0.3, 0.5, 0.7, 0.1, 2.0};
  const std::uint8_t c = in.u8();
  if (c < 100) return double(c) / 99.0;
  if (c < 240) return table[c % 16];
  return in.f64();
}

std::size_t decode_limit(fuzz::ByteReader& in, std::size_t n) {
  const std::uint8_t c = in.u8();
  if (c < 128) return c;
  switch ((c - 128) % 8) {
    case 0: return n > 0 ? n - 1 : 0;
    case 1: return n;
    case 2: return n + 1;
    case 3: return 5000;
    case 4: return std::numeric_limits<std::size_t>::max();
    case 5: return 1;
    case 6: return 0;
    default: return n / 2;
  }
}

/// A positive scale, or one of the edge values (zero, negative, NaN, Inf, denormal, huge).
float decode_scale(fuzz::ByteReader& in) {
  static const float table[12] = {0.f, -0.4f, kNaN, kInf, -kInf, kDenorm, 1e30f, 1e-30f, FLT_MAX, 0.4f, 1.f, 2.5f};
  const std::uint8_t c = in.u8();
  if (c < 128) return float(c + 1) / 64.f;
  if (c < 248) return table[c % 12];
  return in.f32();
}

float decode_pad(fuzz::ByteReader& in) {
  static const float table[8] = {kNaN, kInf, -kInf, 1e30f, -1e30f, kDenorm, -0.f, FLT_MAX};
  const std::uint8_t c = in.u8();
  if (c < 128) return float(int(c) - 64) * 0.5f;
  if (c < 248) return table[c % 8];
  return in.f32();
}

/// Box and landmark regressions: mostly [-3, 3), else edge values that overflow exp, etc.
float regression_value(std::uint8_t b) {
  static const float table[16] = {kNaN,  -kNaN,   kInf, -kInf,  kDenorm, -kDenorm, FLT_MAX, -FLT_MAX,
                                  1e30f, -1e30f, 500.f, 443.f, 444.f,   -500.f,   0.f,     -0.f};
  return b < 192 ? float(int(b) - 96) / 32.f : table[(b - 192) % 16];
}

float probability_value(std::uint8_t b) {
  static const float table[16] = {0.02f, std::nextafter(0.02f, 1.f), 0.5f, std::nextafter(0.5f, 1.f),
                                  1.f,   std::nextafter(1.f, 2.f),   2.f,  -1.f,
                                  kNaN,  kInf,                       -kInf, kDenorm,
                                  1e30f, -0.f,                       0.99999994f, 0.3f};
  return b < 200 ? float(b) / 199.f : table[(b - 200) % 16];
}

float logit_value(std::uint8_t b) { return b < 200 ? float(int(b) - 100) / 10.f : regression_value(b); }

enum class Layout { contiguous, padded_rows, column_major };

/// One tensor owned by the case, viewed with the chosen layout.
struct Tensor {
  std::vector<float> storage;
  facepost::TensorView view;
  bool null_data = false;

  void fill(std::size_t rows, std::size_t cols, Layout layout, const fuzz::ByteReader& data, std::size_t offset,
            bool raw, float (*value)(std::uint8_t)) {
    const std::size_t pad = layout == Layout::padded_rows ? 3 : 0;
    const std::size_t row_stride = cols + pad;
    storage.assign(std::max<std::size_t>(1, rows * row_stride), 0.f);
    const std::uint8_t* bytes = data.rest();
    const std::size_t len = data.rest_size();
    auto byte = [&](std::size_t k) -> std::uint8_t { return len ? bytes[(offset + k) % len] : 0; };
    for (std::size_t r = 0; r < rows; ++r)
      for (std::size_t c = 0; c < cols; ++c) {
        const std::size_t k = r * cols + c;
        float v;
        if (raw) {
          const std::uint32_t u = byte(4 * k) | (std::uint32_t(byte(4 * k + 1)) << 8) |
                                  (std::uint32_t(byte(4 * k + 2)) << 16) | (std::uint32_t(byte(4 * k + 3)) << 24);
          std::memcpy(&v, &u, 4);
        } else {
          v = value(byte(k));
        }
        const std::size_t at = layout == Layout::column_major ? c * rows + r : r * row_stride + c;
        storage[at] = v;
      }
    if (layout == Layout::column_major)
      view = facepost::TensorView(storage.data(), rows, cols, 1, std::ptrdiff_t(rows));
    else
      view = facepost::TensorView(storage.data(), rows, cols, std::ptrdiff_t(row_stride), 1);
    if (null_data) view.data = nullptr;
  }
};

struct Case {
  bool continuous = false, logits = false, batch = false, raw_data = false;
  Layout layout = Layout::contiguous;
  int preset = 0;  // 0 runtime AnchorConfig, 1 presets::retinaface_mnet, 2 presets::fd1m_slim
  std::uint8_t corruption = 0, delta = 0;
  facepost::AnchorConfig anchors;
  InputSize input;
  facepost::Params params;
  facepost::ImageMapping mapping;
  std::uint8_t top_k_code = 0, keep_top_k_code = 0;
};

// ---------------------------------------------------------------------------------------------
// The independent reading of the rules

bool valid_unit_interval(double v) { return v >= 0.0 && v <= 1.0; }

/// The prior count in 128-bit arithmetic (no overflow possible for int inputs and 5x4 levels).
u128 prior_count(const facepost::AnchorConfig& a, InputSize in) {
  u128 total = 0;
  for (const facepost::AnchorLevel& l : a.levels) {
    const u128 fh = (u128)((std::int64_t(in.height) + l.step - 1) / l.step);
    const u128 fw = (u128)((std::int64_t(in.width) + l.step - 1) / l.step);
    total += fh * fw * l.min_sizes.size();
  }
  return total;
}

/// The code the validation rules give a configuration, before the tensors are looked at.
Errc expected_config_code(const Case& c, const facepost::AnchorConfig& a) {
  if (!valid_unit_interval(c.params.score_threshold) || !valid_unit_interval(c.params.nms_threshold))
    return Errc::bad_threshold;
  const facepost::ImageMapping& m = c.mapping;
  if (!(std::isfinite(m.scale_x) && m.scale_x > 0 && std::isfinite(m.scale_y) && m.scale_y > 0))
    return Errc::bad_mapping;
  if (!std::isfinite(m.pad_x) || !std::isfinite(m.pad_y)) return Errc::bad_mapping;
  if (m.clip && !(std::isfinite(m.image_width) && m.image_width > 0 && std::isfinite(m.image_height) &&
                  m.image_height > 0))
    return Errc::bad_size;
  if (a.levels.empty()) return Errc::bad_anchor_config;
  for (const facepost::AnchorLevel& l : a.levels) {
    if (l.step <= 0 || l.min_sizes.empty()) return Errc::bad_anchor_config;
    for (int s : l.min_sizes)
      if (s <= 0) return Errc::bad_anchor_config;
  }
  const facepost::Variance v = a.variance;
  if (!(std::isfinite(v.center) && v.center > 0 && std::isfinite(v.size) && v.size > 0)) return Errc::bad_variance;
  if (c.input.width <= 0 || c.input.height <= 0) return Errc::bad_size;
  if (c.input.width > facepost::kMaxInputSide || c.input.height > facepost::kMaxInputSide) return Errc::size_overflow;
  if (prior_count(a, c.input) > facepost::kMaxPriors) return Errc::size_overflow;
  return Errc::ok;
}

Errc expected_heads_code(const facepost::HeadOutputs& h, std::size_t priors) {
  const facepost::TensorView* t[3] = {&h.loc, &h.conf, &h.landms};
  const std::size_t cols[3] = {4, 2, 10};
  for (int k = 0; k < 3; ++k) {
    if (t[k]->data == nullptr || t[k]->rows == 0) return Errc::empty_tensor;
    if (t[k]->cols != cols[k]) return Errc::bad_shape;
  }
  if (h.conf.rows != h.loc.rows || h.landms.rows != h.loc.rows) return Errc::row_mismatch;
  if (h.loc.rows != priors) return Errc::prior_count_mismatch;
  return Errc::ok;
}

std::vector<float> reference_priors(const facepost::AnchorConfig& a, InputSize in) {
  std::vector<float> out;
  const double W = in.width, H = in.height;
  auto store = [&](double v) {
    float f = float(v);
    if (a.clip) f = std::min(1.f, std::max(0.f, f));
    out.push_back(f);
  };
  for (const facepost::AnchorLevel& l : a.levels) {
    const std::int64_t fh = (std::int64_t(in.height) + l.step - 1) / l.step;
    const std::int64_t fw = (std::int64_t(in.width) + l.step - 1) / l.step;
    for (std::int64_t i = 0; i < fh; ++i)
      for (std::int64_t j = 0; j < fw; ++j)
        for (int m : l.min_sizes) {
          store((double(j) + 0.5) * double(l.step) / W);
          store((double(i) + 0.5) * double(l.step) / H);
          store(double(m) / W);
          store(double(m) / H);
        }
  }
  return out;
}

struct Reference {
  std::vector<float> rows;
  std::vector<std::uint32_t> prior;
  std::size_t candidates = 0, ranked = 0;
};

template <IouConvention C>
std::vector<std::size_t> plain_greedy_nms(const std::vector<float>& rows, std::size_t n, double threshold,
                                          std::size_t limit) {
  const facepost::SuppressionTest test(threshold);
  std::vector<std::size_t> kept;
  for (std::size_t i = 0; i < n && kept.size() < limit; ++i) {
    const float* b = &rows[15 * i];
    const float area = facepost::box_area<C>(b[0], b[1], b[2], b[3]);
    bool suppressed = false;
    for (std::size_t k : kept) {
      const float* kb = &rows[15 * k];
      const float karea = facepost::box_area<C>(kb[0], kb[1], kb[2], kb[3]);
      if (test.suppresses<C>(facepost::box_iou<C>(kb, karea, b, area))) {
        suppressed = true;
        break;
      }
    }
    if (!suppressed) kept.push_back(i);
  }
  return kept;
}

Reference reference_pipeline(const Case& c, const facepost::AnchorConfig& a, const facepost::HeadOutputs& h) {
  const std::vector<float> priors = reference_priors(a, c.input);
  const facepost::Params& p = c.params;
  struct Cand {
    float score;
    std::uint32_t index;
  };
  std::vector<Cand> cand;
  for (std::size_t r = 0; r < h.conf.rows; ++r) {
    const float l0 = h.conf(r, 0), l1 = h.conf(r, 1);
    if (p.score_format == ScoreFormat::probabilities) {
      if (l1 > p.score_threshold && l1 < kInf) cand.push_back({l1, std::uint32_t(r)});
    } else {
      const float s = facepost::softmax_face(l0, l1);
      if (s > p.score_threshold) cand.push_back({s, std::uint32_t(r)});
    }
  }
  Reference ref;
  ref.candidates = cand.size();
  std::stable_sort(cand.begin(), cand.end(), [](const Cand& x, const Cand& y) { return x.score > y.score; });
  if (p.top_k != 0 && p.top_k < cand.size()) cand.resize(p.top_k);
  const facepost::DecodeContext ctx(c.input, a.variance, c.mapping);
  std::vector<float> rows;
  std::vector<std::uint32_t> prior;
  for (const Cand& k : cand) {
    float row[15];
    const float* pr = &priors[4 * std::size_t(k.index)];
    facepost::decode_box(pr, facepost::row_ref(h.loc, k.index), ctx, row);
    row[4] = k.score;
    facepost::decode_landmarks(pr, facepost::row_ref(h.landms, k.index), ctx, row + 5);
    if (!std::all_of(row, row + 15, [](float v) { return std::isfinite(v); })) continue;
    rows.insert(rows.end(), row, row + 15);
    prior.push_back(k.index);
  }
  ref.ranked = prior.size();
  const std::size_t limit = p.keep_top_k == 0 ? prior.size() : p.keep_top_k;
  const std::vector<std::size_t> kept =
      p.iou == IouConvention::legacy_pixel
          ? plain_greedy_nms<IouConvention::legacy_pixel>(rows, prior.size(), p.nms_threshold, limit)
          : plain_greedy_nms<IouConvention::continuous>(rows, prior.size(), p.nms_threshold, limit);
  for (std::size_t k : kept) {
    float row[15];
    std::copy_n(&rows[15 * k], 15, row);
    if (c.mapping.clip)
      for (int v = 0; v < 15; ++v) {
        if (v == 4) continue;
        const bool is_x = v < 4 ? v % 2 == 0 : (v - 5) % 2 == 0;
        const float hi = is_x ? c.mapping.image_width : c.mapping.image_height;
        row[v] = std::min(std::max(row[v], 0.f), hi);
      }
    ref.rows.insert(ref.rows.end(), row, row + 15);
    ref.prior.push_back(prior[k]);
  }
  return ref;
}

// ---------------------------------------------------------------------------------------------
// Checks

struct Copy {
  std::vector<float> rows;
  std::vector<std::uint32_t> prior;
  explicit Copy(const facepost::Detections& d) : rows(d.data(), d.data() + 15 * d.size()) {
    for (std::size_t i = 0; i < d.size(); ++i) prior.push_back(d.prior_index(i));
  }
  bool operator==(const Copy& o) const {
    return prior == o.prior && rows.size() == o.rows.size() &&
           (rows.empty() || std::memcmp(rows.data(), o.rows.data(), 4 * rows.size()) == 0);
  }
};

template <IouConvention C>
void check_no_pair_suppresses(const facepost::Detections& d, double threshold) {
  const facepost::SuppressionTest test(threshold);
  for (std::size_t j = 1; j < d.size(); ++j) {
    const float* b = d[j].row;
    const float area = facepost::box_area<C>(b[0], b[1], b[2], b[3]);
    for (std::size_t i = 0; i < j; ++i) {
      const float* a = d[i].row;
      const float iou = facepost::box_iou<C>(a, facepost::box_area<C>(a[0], a[1], a[2], a[3]), b, area);
      FUZZ_CHECK(!test.suppresses<C>(iou), "detection %zu (IoU %g with detection %zu) should have been suppressed", j,
                 double(iou), i);
    }
  }
}

void check_detections(const Case& c, const facepost::HeadOutputs& h, std::size_t priors,
                      const facepost::Detections& d, const facepost::RunStats& st) {
  const facepost::Params& p = c.params;
  FUZZ_CHECK(st.priors == priors, "stats.priors %zu != %zu", st.priors, priors);
  FUZZ_CHECK(st.candidates <= st.priors, "%zu candidates > %zu priors", st.candidates, st.priors);
  FUZZ_CHECK(st.ranked <= st.candidates, "%zu ranked > %zu candidates", st.ranked, st.candidates);
  FUZZ_CHECK(p.top_k == 0 || st.ranked <= p.top_k, "%zu ranked > top_k %zu", st.ranked, p.top_k);
  FUZZ_CHECK(d.size() == st.detections && d.size() <= st.ranked, "%zu detections, %zu ranked", d.size(), st.ranked);
  FUZZ_CHECK(p.keep_top_k == 0 || d.size() <= p.keep_top_k, "%zu detections > keep_top_k %zu", d.size(),
             p.keep_top_k);
  std::vector<bool> seen(priors, false);
  for (std::size_t i = 0; i < d.size(); ++i) {
    const float* row = d[i].row;
    for (int v = 0; v < 15; ++v) FUZZ_CHECK(std::isfinite(row[v]), "detection %zu value %d is %g", i, v, double(row[v]));
    const float s = row[4];
    FUZZ_CHECK(s > p.score_threshold, "detection %zu score %g <= threshold %g", i, double(s),
               double(p.score_threshold));
    const std::uint32_t pi = d.prior_index(i);
    FUZZ_CHECK(pi < priors && !seen[pi], "detection %zu prior %u out of range or repeated", i, pi);
    seen[pi] = true;
    const float want = p.score_format == ScoreFormat::probabilities ? h.conf(pi, 1)
                                                                     : facepost::softmax_face(h.conf(pi, 0), h.conf(pi, 1));
    FUZZ_CHECK(fuzz::same_bits(s, want), "detection %zu score %g is not prior %u's score %g", i, double(s), pi,
               double(want));
    if (i > 0) {
      const float prev = d[i - 1].score();
      FUZZ_CHECK(prev >= s, "scores not descending at %zu: %g then %g", i, double(prev), double(s));
      FUZZ_CHECK(prev != s || d.prior_index(i - 1) < pi, "tie at %zu not in prior order", i);
    }
    if (c.mapping.clip) {
      for (int v = 0; v < 15; ++v) {
        if (v == 4) continue;
        const bool is_x = v < 4 ? v % 2 == 0 : (v - 5) % 2 == 0;
        const float hi = is_x ? c.mapping.image_width : c.mapping.image_height;
        FUZZ_CHECK(row[v] >= 0.f && row[v] <= hi, "clipped value %g outside [0, %g]", double(row[v]), double(hi));
      }
    }
  }
  // After clipping boxes can overlap more than NMS saw; the reference comparison covers that case.
  if (!c.mapping.clip) {
    if (p.iou == IouConvention::legacy_pixel) check_no_pair_suppresses<IouConvention::legacy_pixel>(d, p.nms_threshold);
    else check_no_pair_suppresses<IouConvention::continuous>(d, p.nms_threshold);
  }
}

template <class Spec>
void run_case(const Case& c, const Spec& spec, const fuzz::ByteReader& data) {
  const facepost::AnchorConfig anchors = facepost::to_anchor_config(spec);
  const Errc config_code = expected_config_code(c, anchors);
  std::size_t priors = 0;
  if (config_code == Errc::ok) {
    const u128 n = prior_count(anchors, c.input);
    if (n > kMaxFuzzPriors) return;  // valid but too large to run fast (see the file comment)
    priors = std::size_t(n);
  }

  // Tensor shapes: the prior count, unless the corruption mode changes one.
  std::size_t rows[3], cols[3] = {4, 2, 10};
  const std::size_t base = config_code == Errc::ok ? priors : 1 + c.delta % 16;
  for (std::size_t& r : rows) r = base;
  Tensor t[3];
  const int delta = int(c.delta % 5) - 2 == 0 ? 1 : int(c.delta % 5) - 2;  // -2, -1, 1, 1, 2
  auto shift = [&](std::size_t n) { return std::size_t(std::max<long long>(0, (long long)n + delta)); };
  if (c.corruption >= 160) {
    switch ((c.corruption - 160) % 8) {
      case 0: rows[0] = shift(rows[0]); break;
      case 1: rows[1] = shift(rows[1]); break;
      case 2: rows[2] = shift(rows[2]); break;
      case 3: for (std::size_t& r : rows) r = shift(r); break;
      case 4: cols[1] = c.delta % 2 ? 3 : 1; break;
      case 5: cols[c.delta % 2 ? 0 : 2] = c.delta % 2 ? 5 : 4; break;
      case 6: t[c.delta % 3].null_data = true; break;
      default: for (std::size_t& r : rows) r = 0; break;
    }
  }
  const std::size_t len = data.rest_size();
  t[0].fill(rows[0], cols[0], c.layout, data, 0, c.raw_data, regression_value);
  t[1].fill(rows[1], cols[1], c.layout, data, len / 3, c.raw_data, c.logits ? logit_value : probability_value);
  t[2].fill(rows[2], cols[2], c.layout, data, 2 * len / 3, c.raw_data, regression_value);
  const facepost::HeadOutputs heads{t[0].view, t[1].view, t[2].view};

  Errc expected = config_code;
  if (expected == Errc::ok) expected = expected_heads_code(heads, priors);

  facepost::BasicPostprocessor<Spec> pp(spec, c.params);
  facepost::Detections d;
  const facepost::Status s = pp.try_run(heads, c.input, c.mapping, d);
  FUZZ_CHECK(s.code() == expected, "try_run gave %s (%s), expected %s", facepost::errc_name(s.code()), s.message(),
             facepost::errc_name(expected));
  static const bool verbose = std::getenv("FACEPOST_FUZZ_VERBOSE") != nullptr;
  if (verbose)  // what an input decodes to, for checking seeds and reading crashes
    std::fprintf(stderr, "%s: input %dx%d, %zu levels, %s: %s; priors %zu, candidates %zu, detections %zu\n",
                 facepost::backend_name(), c.input.width, c.input.height, anchors.levels.size(),
                 facepost::errc_name(s.code()), s.message(),
                 pp.stats().priors, pp.stats().candidates, d.size());
  if (!s.ok()) {
    FUZZ_CHECK(s.message()[0] != '\0', "failure %s without a message", facepost::errc_name(s.code()));
    FUZZ_CHECK(d.empty(), "failure with %zu detections", d.size());
    bool threw = false;
    try {
      pp.run(heads, c.input, c.mapping);
    } catch (const facepost::Error& e) {
      threw = e.code() == s.code();
    }
    FUZZ_CHECK(threw, "run() did not throw facepost::Error(%s)", facepost::errc_name(s.code()));
    return;
  }

  check_detections(c, heads, priors, d, pp.stats());
  const Reference ref = reference_pipeline(c, anchors, heads);
  const Copy first(d);
  FUZZ_CHECK(pp.stats().candidates == ref.candidates && pp.stats().ranked == ref.ranked,
             "candidates/ranked %zu/%zu, reference %zu/%zu", pp.stats().candidates, pp.stats().ranked, ref.candidates,
             ref.ranked);
  FUZZ_CHECK(first.prior == ref.prior, "kept priors differ from the reference (%zu vs %zu detections)",
             first.prior.size(), ref.prior.size());
  for (std::size_t i = 0; i < ref.rows.size(); ++i)
    FUZZ_CHECK(fuzz::same_bits(first.rows[i], ref.rows[i]), "detection %zu value %zu: %g, reference %g", i / 15,
               i % 15, double(first.rows[i]), double(ref.rows[i]));

  // Reuse: a run with everything unlimited fills more of the buffers; the original parameters
  // must then give the same bits again.
  pp.set_params(facepost::Params(c.params).unlimited());
  FUZZ_CHECK(pp.try_run(heads, c.input, c.mapping, d).ok(), "unlimited re-run failed");
  pp.set_params(c.params);
  FUZZ_CHECK(pp.try_run(heads, c.input, c.mapping, d).ok(), "re-run failed");
  FUZZ_CHECK(Copy(d) == first, "re-run on the same object differs");

  if (c.batch) {
    const facepost::HeadOutputs frames[2] = {heads, heads};
    facepost::BasicBatchPostprocessor<Spec> batch(spec, c.params);
    FUZZ_CHECK(batch.try_run(frames, 2, c.input, c.mapping).ok(), "batch run failed");
    FUZZ_CHECK(Copy(batch.result(0)) == first && Copy(batch.result(1)) == first, "batch differs from one frame");
    FUZZ_CHECK(batch.prepare(frames, 2, c.input, &c.mapping).ok(), "batch prepare failed");
    batch.run_shard(1, 2);
    batch.run_shard(0, 2);
    FUZZ_CHECK(Copy(batch.result(0)) == first && Copy(batch.result(1)) == first, "sharded batch differs");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  fuzz::ByteReader in(bytes, size);
  Case c;
  const std::uint8_t flags = in.u8();
  c.continuous = flags & 1;
  c.logits = flags & 2;
  c.anchors.clip = flags & 4;
  c.batch = flags & 8;
  const bool clip_output = flags & 16;
  const int layout = (flags >> 5) & 3;
  c.layout = layout == 1 ? Layout::padded_rows : layout == 2 ? Layout::column_major : Layout::contiguous;
  c.raw_data = flags & 128;
  const std::uint8_t preset = in.u8();
  c.preset = preset < 200 ? 0 : preset < 228 ? 1 : 2;
  c.corruption = in.u8();
  c.delta = in.u8();

  const std::uint8_t level_code = in.u8();
  const int levels = level_code == 255 ? 0 : 1 + level_code % 5;
  for (int l = 0; l < levels; ++l) {
    facepost::AnchorLevel level;
    level.step = decode_step(in);
    const std::uint8_t n_code = in.u8();
    const int n = n_code == 255 ? 0 : 1 + n_code % 4;
    for (int m = 0; m < n; ++m) level.min_sizes.push_back(decode_min_size(in));
    c.anchors.levels.push_back(level);
  }
  c.anchors.variance = decode_variance(in);
  c.input.width = decode_side(in);
  c.input.height = decode_side(in);

  c.params.score_format = c.logits ? ScoreFormat::logits : ScoreFormat::probabilities;
  c.params.iou = c.continuous ? IouConvention::continuous : IouConvention::legacy_pixel;
  c.params.score_threshold = decode_score_threshold(in);
  c.params.nms_threshold = decode_nms_threshold(in);
  // top_k and keep_top_k around the prior count when it is small enough to know.
  std::size_t n_guess = 0;
  if (c.preset == 0 && c.input.width > 0 && c.input.height > 0) {
    bool ok = !c.anchors.levels.empty();
    for (const facepost::AnchorLevel& l : c.anchors.levels) ok = ok && l.step > 0;
    if (ok) {
      const u128 n = prior_count(c.anchors, c.input);
      n_guess = n <= kMaxFuzzPriors ? std::size_t(n) : 0;
    }
  }
  c.params.top_k = decode_limit(in, n_guess);
  c.params.keep_top_k = decode_limit(in, n_guess / 4);

  switch (in.u8() % 4) {
    case 1: c.mapping = facepost::ImageMapping::resize(decode_scale(in)); break;
    case 2: {
      const float sx = decode_scale(in), sy = decode_scale(in), px = decode_pad(in);
      c.mapping = facepost::ImageMapping::letterbox(sx, sy, px, decode_pad(in));
      break;
    }
    case 3: {
      const int ow = in.u8(), oh = in.u8();  // 0 gives an infinite scale: refused
      c.mapping = facepost::ImageMapping::letterbox_fit(ow, oh, c.input.width, c.input.height);
      break;
    }
    default: break;
  }
  if (clip_output) {
    const float w = decode_scale(in) * 256.f;
    c.mapping.clip_to(w, decode_scale(in) * 256.f);
  }

  if (c.preset == 1) run_case(c, facepost::presets::retinaface_mnet{}, in);
  else if (c.preset == 2) run_case(c, facepost::presets::fd1m_slim{}, in);
  else run_case(c, c.anchors, in);
  return 0;
}
