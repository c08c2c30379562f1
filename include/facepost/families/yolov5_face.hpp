// facepost/families/yolov5_face.hpp - YOLOv5-face (deepcam-cn): one [N,16] head already decoded
// by the network (x y w h, obj, 5 landmarks, cls), `obj > t` then `cls*obj > t`, centre-size to
// corners, torchvision's NMS in network-input pixels. Written from the arithmetic described in
// tests/data/families/README.md (the reference repository is GPL-3.0; none of its code is used).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "facepost/anchors.hpp"
#include "facepost/arith/arith.hpp"
#include "facepost/error.hpp"
#include "facepost/families/family.hpp"
#include "facepost/isa.hpp"
#include "facepost/params.hpp"
#include "facepost/tensor.hpp"

namespace facepost {

constexpr std::size_t kYolov5FaceCols = 16;  ///< x y w h obj, 10 landmark values, cls

/// Defaults are `non_max_suppression_face`'s (conf_thres 0.25, iou_thres 0.45; no max_det).
struct Yolov5FaceParams {
  float conf_threshold = 0.25f;  ///< obj > this, then cls * obj > this (float32, as torch)
  double iou_threshold = 0.45;   ///< suppress when the float IoU > this (double, as torchvision)
  std::size_t max_det = 0;       ///< keep the first max_det detections; 0 = no limit (as the reference)
};

FACEPOST_ABI_BEGIN
namespace detail {

/// Rows of a YOLOv5-face head: 3 anchors x (H/s) x (W/s) cells at strides 8, 16 and 32.
inline std::size_t yolov5_face_rows(InputSize input) noexcept {
  std::size_t n = 0;
  for (int s : {8, 16, 32}) n += 3 * std::size_t(input.height / s) * std::size_t(input.width / s);
  return n;
}

inline Status validate_yolov5_face(const TensorView& pred, InputSize input, const Yolov5FaceParams& p) noexcept {
  Status s = check_unit_threshold(double(p.conf_threshold), "YOLOv5-face conf threshold");
  if (s.ok()) s = check_unit_threshold(p.iou_threshold, "YOLOv5-face IoU threshold");
  if (s.ok()) s = check_input_multiple_of_32(input, "YOLOv5-face", "its letterbox pads to the stride");
  if (!s.ok()) return s;
  if (pred.address() == nullptr || pred.rows == 0) return Status::failure(Errc::empty_tensor, "pred tensor is empty");
  if (Status e = validate_elements(pred, "pred"); !e.ok()) return e;
  if (pred.cols != kYolov5FaceCols)
    return Status::failure(Errc::bad_shape,
                           "pred tensor has %zu columns, expected 16 (x y w h obj, 10 landmark values, cls)",
                           pred.cols);
  const std::size_t rows = yolov5_face_rows(input);
  if (pred.rows != rows)
    return Status::failure(Errc::prior_count_mismatch,
                           "pred tensor has %zu rows but input size %dx%d gives %zu (3 anchors at strides 8, 16, "
                           "32; is input_size the network input?)",
                           pred.rows, input.width, input.height, rows);
  return Status{};
}

}  // namespace detail

/// YOLOv5-face post-processing with reusable buffers: after the first frame of a size, no
/// allocation. Detections are `x1 y1 x2 y2 conf` and the 5 landmarks.
class Yolov5FacePostprocessor {
 public:
  explicit Yolov5FacePostprocessor(Yolov5FaceParams params = {}) : params_(params) {}
  const Yolov5FaceParams& params() const noexcept { return params_; }
  void set_params(const Yolov5FaceParams& p) noexcept { params_ = p; }
  const RunStats& stats() const noexcept { return buf_.stats; }

  /// `pred`: [N,16] (or a [1,N,16] output viewed by view_tensor). NMS runs in network-input
  /// pixels, as the reference; `mapping` (letterbox, resize, clip) is applied to the kept rows.
  FamilyDetections run(const TensorView& pred, InputSize input, const ImageMapping& mapping = {}) {
    FamilyDetections d;
    throw_if_error(try_run(pred, input, mapping, d));
    return d;
  }

  Status try_run(const TensorView& pred, InputSize input, const ImageMapping& mapping,
                 FamilyDetections& out) noexcept {
    out = FamilyDetections{};
    buf_.stats = RunStats{};
    Status s = detail::validate_yolov5_face(pred, input, params_);
    if (s.ok()) s = validate_mapping(mapping);
    constexpr std::size_t cols = kDetectionCols;
    if (s.ok()) s = detail::reserve_family(buf_, pred.rows, cols, "YOLOv5-face");
    if (!s.ok()) return s;

    const float t = params_.conf_threshold;
    const bool converted = !pred.is_float32();
    std::size_t n = 0;
    for (std::size_t r = 0; r < pred.rows; ++r) {
      // float16 / int8 / uint8: obj first, the row only for the rows that pass.
      if (converted && !(pred(r, 4) > t)) continue;
      float tmp[kYolov5FaceCols];
      std::ptrdiff_t c = 1;
      const float* p = detail::row_values(pred, r, tmp, c);
      const float obj = p[4 * c];
      if (!(obj > t)) continue;                       // NaN never passes
      const float conf = arith::mul(p[15 * c], obj);  // rounded before the second test
      if (!(conf > t)) continue;
      float* row = buf_.rows.data() + cols * n;
      const float half_w = arith::div(p[2 * c], 2.f), half_h = arith::div(p[3 * c], 2.f);
      row[0] = arith::sub(p[0], half_w);
      row[1] = arith::sub(p[c], half_h);
      row[2] = arith::add(p[0], half_w);
      row[3] = arith::add(p[c], half_h);
      row[4] = conf;
      bool finite = true;
      for (std::size_t k = 0; k < 10; ++k) row[5 + k] = p[std::ptrdiff_t(5 + k) * c];
      for (std::size_t k = 0; k < cols; ++k) finite = finite && std::isfinite(row[k]);
      if (!finite) continue;  // every output value is finite
      buf_.score[n] = conf;
      buf_.source[n] = static_cast<std::uint32_t>(r);
      ++n;
    }
    const std::size_t nk =
        detail::rank_and_suppress(buf_, n, cols, params_.iou_threshold, IouConvention::continuous, params_.max_det);
    buf_.stats = RunStats{pred.rows, n, n, nk};
    for (std::size_t j = 0; j < nk; ++j) detail::map_row(buf_.out_rows.data() + cols * j, cols, mapping);
    out = FamilyDetections(buf_.out_rows.data(), buf_.out_source.data(), nk, cols);
    return s;
  }

 private:
  Yolov5FaceParams params_;
  FamilyBuffers buf_;
};

FACEPOST_ABI_END
}  // namespace facepost
