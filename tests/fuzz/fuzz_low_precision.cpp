// fuzz_low_precision: float16 / int8 / uint8 heads (tensor.hpp, elements.hpp) against the
// float32 pipeline on the values they hold, decoded by a plain reference of its own.
//
// The input decodes, front to back, to:
//   pipeline (even: RetinaFace Postprocessor at 64x64, 168 priors; odd: YOLOv5-face at 64x64),
//   score threshold, NMS threshold, score format, layout (contiguous, padded rows, column-major),
//   then per head (loc, conf, landms; YOLOv5-face: pred): element type, scale code, zero-point
//   code; then the element bytes (cycled when the input runs out).
// Checked on every input:
//  - every kernel set's convert_to_f32 gives the scalar reference's bits on the head's bytes;
//  - a scale that is not finite and > 0, or a zero point outside the type's range, gives
//    bad_dequant naming the head, and no detections;
//  - otherwise the low-precision run gives the float32 run's status, and on success the same
//    rows and prior indices, bit for bit.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "facepost/facepost.hpp"
#include "fuzz_check.hpp"
#include "support/low_precision.hpp"

namespace {

using facepost::Dequant;
using facepost::ElementType;
using facepost::Errc;
using facepost::TensorView;

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

struct Head {
  Head(const char* n, std::size_t r, std::size_t c) : name(n), rows(r), cols(c) {}
  const char* name;
  std::size_t rows, cols;
  ElementType type = ElementType::float32;
  Dequant dequant;
  int layout = 0;  // 0 contiguous, 1 rows padded by 3 elements, 2 column-major
  std::vector<unsigned char> bytes;
  std::vector<float> values;  // [rows, cols] C order: the reference's reading of the elements
  std::ptrdiff_t row_stride = 0, col_stride = 1;

  bool dequant_valid() const {
    if (type == ElementType::float32 || type == ElementType::float16) return true;
    const int lo = type == ElementType::int8 ? -128 : 0, hi = type == ElementType::int8 ? 127 : 255;
    return std::isfinite(dequant.scale) && dequant.scale > 0.f && dequant.zero_point >= lo && dequant.zero_point <= hi;
  }
  TensorView typed() const {
    return TensorView(bytes.data(), type, rows, cols, row_stride, col_stride,
                      type == ElementType::int8 || type == ElementType::uint8 ? dequant : Dequant{});
  }
  TensorView plain() const { return TensorView(values.data(), rows, cols); }
};

void decode_head(fuzz::ByteReader& in, Head& h, int layout) {
  static const ElementType types[4] = {ElementType::float32, ElementType::float16, ElementType::int8,
                                       ElementType::uint8};
  static const float scales[10] = {0.05f, 1.f / 255.f, 1.f, 0.0123f, 3e-5f, 0.f, -0.5f, kNaN, kInf, 1e-45f};
  static const std::int32_t zps[10] = {0, 0, 3, -7, 127, -128, 255, 128, -129, 100000};
  h.type = types[in.u8() % 4];
  const std::uint8_t s = in.u8(), z = in.u8();
  h.dequant = Dequant{scales[s % 10], zps[z % 10]};
  h.layout = layout;
  const std::size_t es = facepost::element_size(h.type);
  const std::size_t n = h.rows * h.cols;
  // Element e of the logical [rows, cols] tensor lives at offset(r, c) in the buffer.
  std::size_t elements = n;
  if (layout == 1) h.row_stride = std::ptrdiff_t(h.cols + 3), h.col_stride = 1, elements = h.rows * (h.cols + 3);
  else if (layout == 2) h.row_stride = 1, h.col_stride = std::ptrdiff_t(h.rows);
  else h.row_stride = std::ptrdiff_t(h.cols), h.col_stride = 1;
  h.bytes.assign(elements * es, 0);
  const std::uint8_t* rest = in.rest();
  const std::size_t size = in.rest_size();
  for (std::size_t i = 0; i < h.bytes.size(); ++i) h.bytes[i] = size ? rest[(i * 7 + 1) % size] : 0x3c;
  h.values.resize(n);
  for (std::size_t r = 0; r < h.rows; ++r)
    for (std::size_t c = 0; c < h.cols; ++c) {
      const std::size_t off = std::size_t(std::ptrdiff_t(r) * h.row_stride + std::ptrdiff_t(c) * h.col_stride);
      const unsigned char* p = h.bytes.data() + off * es;
      float v = 0.f;
      switch (h.type) {
        case ElementType::float32: std::memcpy(&v, p, 4); break;
        case ElementType::float16: {
          std::uint16_t b;
          std::memcpy(&b, p, 2);
          v = lowp::f16_by_definition(b);
          break;
        }
        case ElementType::int8: v = float(int(static_cast<std::int8_t>(*p)) - h.dequant.zero_point) * h.dequant.scale; break;
        case ElementType::uint8: v = float(int(*p) - h.dequant.zero_point) * h.dequant.scale; break;
      }
      h.values[r * h.cols + c] = v;
    }
}

/// convert_to_f32 of the active kernels and the scalar ones agree (contiguous heads only: the
/// kernel converts runs of elements).
void check_conversion(const Head& h) {
  if (!h.dequant_valid() || h.layout != 0 || h.type == ElementType::float32) return;
  const std::size_t n = h.rows * h.cols;
  std::vector<float> a(n), s(n);
  facepost::active_kernels().convert_to_f32(h.bytes.data(), h.type, h.dequant, n, a.data());
  facepost::kernels::scalar::kTable.convert_to_f32(h.bytes.data(), h.type, h.dequant, n, s.data());
  for (std::size_t i = 0; i < n; ++i) {
    FUZZ_CHECK(fuzz::same_bits(a[i], s[i]), "%s element %zu: %s kernels convert to %a, scalar to %a", h.name, i,
               facepost::active_kernels().name, double(a[i]), double(s[i]));
    const float want = h.values[i];
    FUZZ_CHECK(std::isnan(want) ? std::isnan(s[i]) : fuzz::same_bits(s[i], want), "%s element %zu: %a, expected %a",
               h.name, i, double(s[i]), double(want));
  }
}

/// The first head whose quantization is invalid, or null.
const Head* first_invalid(const std::vector<Head*>& heads) {
  for (const Head* h : heads)
    if (!h->dequant_valid()) return h;
  return nullptr;
}

bool same_rows(const float* a, const float* b, std::size_t n) { return n == 0 || std::memcmp(a, b, n * sizeof(float)) == 0; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::ByteReader in(data, size);
  static const float thresholds[8] = {0.02f, 0.f, 0.5f, 0.9f, 0.3f, 0.999f, 1.f, 0.25f};
  const std::uint8_t pipeline = in.u8();
  const float t = thresholds[in.u8() % 8];
  const double nms = double(thresholds[in.u8() % 8]);
  const bool logits = in.u8() & 1;
  const int layout = in.u8() % 3;
  const facepost::InputSize input{64, 64};

  if (pipeline % 2 == 0) {
    Head loc{"loc", 168, 4}, conf{"conf", 168, 2}, landms{"landms", 168, 10};
    decode_head(in, loc, layout);
    decode_head(in, conf, layout);
    decode_head(in, landms, layout);
    for (const Head* h : {&loc, &conf, &landms}) check_conversion(*h);
    facepost::Params p;
    p.score_threshold = t;
    p.nms_threshold = nms;
    p.score_format = logits ? facepost::ScoreFormat::logits : facepost::ScoreFormat::probabilities;
    facepost::Postprocessor typed(facepost::to_anchor_config(facepost::presets::retinaface_mnet{}), p),
        plain(facepost::to_anchor_config(facepost::presets::retinaface_mnet{}), p);
    facepost::Detections a, b;
    const facepost::Status sa = typed.try_run({loc.typed(), conf.typed(), landms.typed()}, input, {}, a);
    if (const Head* bad = first_invalid({&loc, &conf, &landms})) {
      FUZZ_CHECK(sa.code() == Errc::bad_dequant, "%s: invalid dequant gave %s: %s", bad->name,
                 facepost::errc_name(sa.code()), sa.message());
      FUZZ_CHECK(std::string(sa.message()).rfind(bad->name, 0) == 0, "message does not name %s: %s", bad->name,
                 sa.message());
      FUZZ_CHECK(a.size() == 0, "a failure returned detections");
      return 0;
    }
    const facepost::Status sb = plain.try_run({loc.plain(), conf.plain(), landms.plain()}, input, {}, b);
    FUZZ_CHECK(sa.code() == sb.code(), "status %s vs float32 %s: %s", facepost::errc_name(sa.code()),
               facepost::errc_name(sb.code()), sa.message());
    FUZZ_CHECK(a.size() == b.size(), "%zu detections vs float32 %zu", a.size(), b.size());
    FUZZ_CHECK(same_rows(a.data(), b.data(), a.size() * facepost::kDetectionCols), "rows differ from float32");
    for (std::size_t i = 0; i < a.size(); ++i)
      FUZZ_CHECK(a.prior_index(i) == b.prior_index(i), "detection %zu: prior %u vs %u", i, a.prior_index(i),
                 b.prior_index(i));
    return 0;
  }

  Head pred{"pred", facepost::detail::yolov5_face_rows(input), facepost::kYolov5FaceCols};
  decode_head(in, pred, layout);
  check_conversion(pred);
  facepost::Yolov5FaceParams p;
  p.conf_threshold = t;
  p.iou_threshold = nms;
  facepost::Yolov5FacePostprocessor typed(p), plain(p);
  facepost::FamilyDetections a, b;
  const facepost::Status sa = typed.try_run(pred.typed(), input, {}, a);
  if (!pred.dequant_valid()) {
    FUZZ_CHECK(sa.code() == Errc::bad_dequant, "pred: invalid dequant gave %s", facepost::errc_name(sa.code()));
    FUZZ_CHECK(a.size() == 0, "a failure returned detections");
    return 0;
  }
  const facepost::Status sb = plain.try_run(pred.plain(), input, {}, b);
  FUZZ_CHECK(sa.code() == sb.code(), "status %s vs float32 %s", facepost::errc_name(sa.code()),
             facepost::errc_name(sb.code()));
  FUZZ_CHECK(a.size() == b.size(), "%zu detections vs float32 %zu", a.size(), b.size());
  FUZZ_CHECK(same_rows(a.data(), b.data(), a.size() * a.cols()), "rows differ from float32");
  for (std::size_t i = 0; i < a.size(); ++i)
    FUZZ_CHECK(a.source_index(i) == b.source_index(i), "detection %zu: source %u vs %u", i, a.source_index(i),
               b.source_index(i));
  return 0;
}
