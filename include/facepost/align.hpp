// facepost/align.hpp - face alignment: the similarity transform that maps each detection's
// keypoints onto a template (insightface's face_align.estimate_norm).
//
// estimate_norm calls skimage's SimilarityTransform.estimate: Umeyama's least squares with scale,
// which in 2D has a closed form. With p_i the demeaned source points and q_i the demeaned template
// points, the best rotation-and-scale [[a, -b], [b, a]] is
//
//   a = sum(p_i . q_i) / sum |p_i|^2,   b = sum(p_i x q_i) / sum |p_i|^2,
//   t = mean(q) - [[a, -b], [b, a]] mean(p)
//
// which equals Umeyama's c R (no reflection) in every case where skimage gives a finite result,
// including collinear landmarks (a rank-1 cross-covariance: skimage's rank == dim - 1 branch picks
// the proper rotation that maps the one direction, as this does) and mirror-image landmarks (scale
// s1 - s2 = 0: every point maps to the template's centre, as skimage). Computed in double, as
// skimage; no allocation, any number of points. See docs/alignment.md.
#pragma once

#include <cmath>
#include <cstddef>

#include <Eigen/Core>

#include "facepost/anchors.hpp"
#include "facepost/detections.hpp"
#include "facepost/error.hpp"
#include "facepost/families/family.hpp"
#include "facepost/isa.hpp"

namespace facepost {

/// A 2x3 similarity (rotation, uniform scale, translation): template = m * (x, y, 1)^T, the
/// matrix cv::warpAffine takes (cv::Mat(2, 3, CV_64F, s.m)), row-major doubles. m[0][0] = m[1][1]
/// = scale * cos(angle), m[1][0] = -m[0][1] = scale * sin(angle).
struct Similarity2D {
  double m[2][3];

  FACEPOST_ABI_TAG Eigen::Map<const Eigen::Matrix<double, 2, 3, Eigen::RowMajor>> matrix() const noexcept {
    return Eigen::Map<const Eigen::Matrix<double, 2, 3, Eigen::RowMajor>>(&m[0][0]);
  }
  FACEPOST_ABI_TAG double scale() const noexcept { return std::hypot(m[0][0], m[1][0]); }
  FACEPOST_ABI_TAG double apply_x(double x, double y) const noexcept { return m[0][0] * x + m[0][1] * y + m[0][2]; }
  FACEPOST_ABI_TAG double apply_y(double x, double y) const noexcept { return m[1][0] * x + m[1][1] * y + m[1][2]; }
};

/// Template points in output (crop) pixels: `count` points, (x, y) interleaved. A view; the
/// caller owns the points. Point k is matched with keypoint k of a detection.
struct AlignTemplate {
  const double* xy = nullptr;
  std::size_t count = 0;
};

/// Number of points of the ArcFace template (the five RetinaFace / SCRFD landmarks: left eye,
/// right eye, nose, left and right mouth corner, in the detectors' order).
constexpr std::size_t kArcfacePoints = 5;

/// insightface's arcface_dst for 112 x 112 crops (float32 in insightface, as here).
constexpr float kArcface112[2 * kArcfacePoints] = {38.2946f, 51.6963f, 73.5318f, 51.5014f, 56.0252f,
                                                   71.7366f, 41.5493f, 92.3655f, 70.7299f, 92.2041f};

/// The ArcFace template of one crop size, as estimate_norm builds it. Holds its points; view()
/// is valid while this object lives.
struct ArcfaceTemplate {
  double xy[2 * kArcfacePoints] = {};
  int size = 0;
  FACEPOST_ABI_TAG AlignTemplate view() const noexcept { return AlignTemplate{xy, kArcfacePoints}; }
};

FACEPOST_ABI_BEGIN

/// The ArcFace template for size x size crops, as insightface's estimate_norm: a multiple of 112
/// scales arcface_dst by ratio = size / 112; otherwise a multiple of 128 scales it by ratio =
/// size / 128 and adds diff_x = 8 * ratio to x (the 128-based variant; 112 wins when size is a
/// multiple of both, e.g. 896). The arithmetic is insightface's: float32 points times the integer
/// ratio in float32, plus diff_x in float32, then promoted to double. bad_size for any other size
/// (and for sizes above kMaxInputSide); `out` is unchanged then.
inline Status try_arcface_template(int size, ArcfaceTemplate& out) noexcept {
  if (size <= 0 || size > kMaxInputSide || (size % 112 != 0 && size % 128 != 0))
    return Status::failure(Errc::bad_size,
                           "ArcFace template size %d: must be a positive multiple of 112 or of 128 (at most %d)", size,
                           kMaxInputSide);
  const bool base112 = size % 112 == 0;
  const float ratio = static_cast<float>(base112 ? size / 112 : size / 128);  // an integer, exact
  const float diff_x = base112 ? 0.f : 8.f * ratio;
  ArcfaceTemplate t;
  t.size = size;
  for (std::size_t i = 0; i < 2 * kArcfacePoints; ++i) {
    float v = kArcface112[i] * ratio;
    if (i % 2 == 0) v = v + diff_x;
    t.xy[i] = static_cast<double>(v);
  }
  out = t;
  return Status{};
}

/// The same; throws facepost::Error.
inline ArcfaceTemplate arcface_template(int size = 112) {
  ArcfaceTemplate t;
  throw_if_error(try_arcface_template(size, t));
  return t;
}

/// Checks a template: at least 2 points, non-null, all finite, not all equal (bad_argument).
inline Status validate_template(const AlignTemplate& t) noexcept {
  if (t.xy == nullptr || t.count < 2)
    return Status::failure(Errc::bad_argument, "align template: needs at least 2 points, got %zu%s", t.count,
                           t.xy == nullptr ? " (null points)" : "");
  double mx = 0, my = 0;
  for (std::size_t k = 0; k < t.count; ++k) {
    const double x = t.xy[2 * k], y = t.xy[2 * k + 1];
    if (!(std::isfinite(x) && std::isfinite(y)))
      return Status::failure(Errc::bad_argument, "align template: point %zu (%g, %g) is not finite", k, x, y);
    mx += x;
    my += y;
  }
  const double n = static_cast<double>(t.count);
  mx /= n;
  my /= n;
  double var = 0;
  for (std::size_t k = 0; k < t.count; ++k) {
    const double dx = t.xy[2 * k] - mx, dy = t.xy[2 * k + 1] - my;
    var += dx * dx + dy * dy;
  }
  if (!(var > 0.0) || !std::isfinite(var))
    return Status::failure(Errc::bad_argument, "align template: its %zu points %s", t.count,
                           var > 0.0 ? "are too far apart (the variance overflows)"
                                     : "are all equal (zero variance): they define no similarity");
  return Status{};
}

namespace detail {

/// The closed-form 2D Umeyama of `count` source points at src[k * step], src[k * step + 1]
/// (float or double) onto a validated template; `face` names the face in messages.
template <class T>
Status estimate_similarity(const T* src, std::size_t step, const AlignTemplate& dst, std::size_t face,
                           Similarity2D& out) noexcept {
  const std::size_t n = dst.count;
  double spx = 0, spy = 0, sqx = 0, sqy = 0;
  for (std::size_t k = 0; k < n; ++k) {
    const double x = static_cast<double>(src[k * step]), y = static_cast<double>(src[k * step + 1]);
    if (!(std::isfinite(x) && std::isfinite(y)))
      return Status::failure(Errc::bad_landmarks, "face %zu: landmark %zu (%g, %g) is not finite", face, k, x, y);
    spx += x;
    spy += y;
    sqx += dst.xy[2 * k];
    sqy += dst.xy[2 * k + 1];
  }
  const double inv_n = 1.0 / static_cast<double>(n);
  const double mpx = spx * inv_n, mpy = spy * inv_n, mqx = sqx * inv_n, mqy = sqy * inv_n;
  // var = sum |p|^2; A = sum q p^T (demeaned); a = tr(A) / var, b = (A10 - A01) / var.
  double var = 0, axx = 0, axy = 0, ayx = 0, ayy = 0;
  for (std::size_t k = 0; k < n; ++k) {
    const double px = static_cast<double>(src[k * step]) - mpx, py = static_cast<double>(src[k * step + 1]) - mpy;
    const double qx = dst.xy[2 * k] - mqx, qy = dst.xy[2 * k + 1] - mqy;
    var += px * px + py * py;
    axx += qx * px;
    axy += qx * py;
    ayx += qy * px;
    ayy += qy * py;
  }
  if (!(var > 0.0))
    return Status::failure(Errc::bad_landmarks,
                           "face %zu: its %zu landmarks have zero variance (all equal, or too close together): they define no "
                           "similarity", face,
                           n);
  if (!(std::isfinite(var) && std::isfinite(axx) && std::isfinite(axy) && std::isfinite(ayx) && std::isfinite(ayy)))
    return Status::failure(Errc::bad_landmarks,
                           "face %zu: its landmarks are too far apart: their variance overflows double", face);
  if (axx == 0.0 && axy == 0.0 && ayx == 0.0 && ayy == 0.0)
    return Status::failure(Errc::bad_landmarks,
                           "face %zu: its landmarks are uncorrelated with the template (zero cross-covariance): no "
                           "similarity is defined (skimage gives NaN)",
                           face);
  const double a = (axx + ayy) / var, b = (ayx - axy) / var;
  const double tx = mqx - (a * mpx - b * mpy), ty = mqy - (b * mpx + a * mpy);
  if (!(std::isfinite(a) && std::isfinite(b) && std::isfinite(tx) && std::isfinite(ty)))
    return Status::failure(Errc::bad_landmarks,
                           "face %zu: the similarity is not finite (landmarks too close together)", face);
  out.m[0][0] = a;
  out.m[0][1] = -b;
  out.m[0][2] = tx;
  out.m[1][0] = b;
  out.m[1][1] = a;
  out.m[1][2] = ty;
  return Status{};
}

template <class T>
Status align_rows(const T* rows, std::size_t count, std::size_t row_stride, std::size_t first_col,
                  const AlignTemplate& tmpl, Similarity2D* out, std::size_t out_capacity) noexcept {
  Status s = validate_template(tmpl);
  if (!s.ok()) return s;
  if (count == 0) return s;
  if (rows == nullptr || out == nullptr)
    return Status::failure(Errc::empty_tensor, "align: null %s for %zu faces", rows == nullptr ? "rows" : "output",
                           count);
  if (out_capacity < count)
    return Status::failure(Errc::bad_size, "align: output holds %zu transforms, %zu faces given", out_capacity, count);
  if (first_col > row_stride || row_stride - first_col < 2 * tmpl.count)
    return Status::failure(Errc::bad_shape,
                           "align: rows of %zu values with keypoints from column %zu hold fewer than the template's %zu "
                           "points",
                           row_stride, first_col, tmpl.count);
  for (std::size_t i = 0; i < count; ++i) {
    s = estimate_similarity(rows + i * row_stride + first_col, 2, tmpl, i, out[i]);
    if (!s.ok()) return s;
  }
  return s;
}

inline Status check_family_points(std::size_t cols, const AlignTemplate& tmpl) noexcept {
  const std::size_t keypoints = cols < 5 ? 0 : (cols - 5) / 2;
  if (keypoints != tmpl.count || cols != 5 + 2 * keypoints)
    return Status::failure(Errc::bad_shape, "align: detections of %zu columns have %zu keypoints, the template %zu points",
                           cols, keypoints, tmpl.count);
  return Status{};
}

}  // namespace detail

/// The similarity of one face: `count` = tmpl.count points (x, y) interleaved at `xy`, float or
/// double. bad_argument for a bad template, bad_landmarks for landmarks that define no
/// similarity (a non-finite value, all points equal, zero cross-covariance with the template, a
/// non-finite result); the message names face 0. `out` is unchanged on failure.
inline Status try_estimate_similarity(const float* xy, const AlignTemplate& tmpl, Similarity2D& out) noexcept {
  Status s = validate_template(tmpl);
  if (s.ok() && xy == nullptr) s = Status::failure(Errc::empty_tensor, "align: null landmarks");
  return s.ok() ? detail::estimate_similarity(xy, 2, tmpl, 0, out) : s;
}
inline Status try_estimate_similarity(const double* xy, const AlignTemplate& tmpl, Similarity2D& out) noexcept {
  Status s = validate_template(tmpl);
  if (s.ok() && xy == nullptr) s = Status::failure(Errc::empty_tensor, "align: null landmarks");
  return s.ok() ? detail::estimate_similarity(xy, 2, tmpl, 0, out) : s;
}

/// The similarity of each of `count` rows of `row_stride` values whose keypoints (x, y)
/// interleaved start at column `first_col` (landmark arrays [K,2P]: stride 2P, first 0;
/// detection rows [K,15]: stride 15, first 5), into out[0, count). No allocation.
/// Errors: the template's (bad_argument); bad_size if out_capacity < count; bad_shape if a row
/// holds fewer than tmpl.count points from first_col; empty_tensor for null pointers with
/// count > 0; bad_landmarks naming the first face (row index) whose landmarks define no
/// similarity. On failure out[0, i) holds the faces before the failing face i, the rest is
/// unchanged.
inline Status try_align_rows(const float* rows, std::size_t count, std::size_t row_stride, std::size_t first_col,
                             const AlignTemplate& tmpl, Similarity2D* out, std::size_t out_capacity) noexcept {
  return detail::align_rows(rows, count, row_stride, first_col, tmpl, out, out_capacity);
}
inline Status try_align_rows(const double* rows, std::size_t count, std::size_t row_stride, std::size_t first_col,
                             const AlignTemplate& tmpl, Similarity2D* out, std::size_t out_capacity) noexcept {
  return detail::align_rows(rows, count, row_stride, first_col, tmpl, out, out_capacity);
}

/// Every RetinaFace detection ([K,15]: five landmarks) onto a 5-point template, into
/// out[0, dets.size()); errors as try_align_rows (bad_shape for a template of another count).
inline Status try_align(const Detections& dets, const AlignTemplate& tmpl, Similarity2D* out,
                        std::size_t out_capacity) noexcept {
  if (tmpl.count != kArcfacePoints && validate_template(tmpl).ok())
    return Status::failure(Errc::bad_shape, "align: detections have %zu landmarks, the template %zu points",
                           kArcfacePoints, tmpl.count);
  return detail::align_rows(dets.data(), dets.size(), kDetectionCols, 5, tmpl, out, out_capacity);
}

/// Every family detection ([K, 5 + 2P]: P keypoints, e.g. BlazeFace's 6) onto a template of P
/// points; bad_shape if P differs from the template's count (or the family has no keypoints).
inline Status try_align(const FamilyDetections& dets, const AlignTemplate& tmpl, Similarity2D* out,
                        std::size_t out_capacity) noexcept {
  Status s = validate_template(tmpl);
  if (s.ok()) s = detail::check_family_points(dets.cols(), tmpl);
  if (!s.ok()) return s;
  return detail::align_rows(dets.data(), dets.size(), dets.cols(), 5, tmpl, out, out_capacity);
}

/// The throwing forms (facepost::Error with the same code and message).
inline void align(const Detections& dets, const AlignTemplate& tmpl, Similarity2D* out, std::size_t out_capacity) {
  throw_if_error(try_align(dets, tmpl, out, out_capacity));
}
inline void align(const FamilyDetections& dets, const AlignTemplate& tmpl, Similarity2D* out,
                  std::size_t out_capacity) {
  throw_if_error(try_align(dets, tmpl, out, out_capacity));
}
inline Similarity2D estimate_similarity(const float* xy, const AlignTemplate& tmpl) {
  Similarity2D s{};
  throw_if_error(try_estimate_similarity(xy, tmpl, s));
  return s;
}
inline Similarity2D estimate_similarity(const double* xy, const AlignTemplate& tmpl) {
  Similarity2D s{};
  throw_if_error(try_estimate_similarity(xy, tmpl, s));
  return s;
}

FACEPOST_ABI_END
}  // namespace facepost
