// tests/reference/family_ports.hpp - plain scalar ports of the detector families' reference
// post-processing, written from tests/data/families/README.md and NOT from facepost's code.
//
// They are the property tests' independent check (random outputs, row for row against facepost)
// and the benchmarks' "port" peer: what a straightforward C++ translation of each reference does,
// in its order (decode every row, filter, sort, O(n^2) NMS over a shrinking list), with its
// float32 rounding (reference_port.hpp's mul keeps products unfused).
//   SCRFD        scrfd.py: distance2bbox / distance2kps on every anchor, score >= t, concat,
//                / det_scale, argsort, py-style NMS (+1, keep ovr <= t), max_num by centre
//   YOLOv5-face  non_max_suppression_face: obj > t, conf = cls*obj, xywh2xyxy, conf > t,
//                torchvision NMS (suppressed flags, double(ovr) > t), then max_det
//   YuNet        OpenCV 4.6 FaceDetectorYN: generatePriors, postProcess on every prior (score
//                sqrtf(cls * clamped iou), decode with the C library's expf), NMSBoxes on Rect2i
//                (score > t, stable sort, top_k, greedy keep when overlap <= t)
//   BlazeFace    hollance's blazeface.py: _decode_boxes on all 896 anchors, sigmoid of the clamped
//                logits (exp in double, rounded once), score >= t, _weighted_non_max_suppression
//                (the seed always leaves `remaining`, facepost's documented choice)
// Ties of equal scores are ordered by ascending source row (a stable sort), as facepost orders
// them; the references leave them unspecified. Non-finite rows are dropped (facepost's contract).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <vector>

#include "facepost/anchors.hpp"
#include "facepost/tensor.hpp"
#include "reference/reference_port.hpp"

namespace facepost_ref {

/// Rows `x1 y1 x2 y2 score ...` of `cols` floats each.
struct FamilyRows {
  std::size_t cols = 15;
  std::vector<float> data;
  std::size_t size() const { return data.size() / cols; }
  const float* row(std::size_t i) const { return data.data() + cols * i; }
};

namespace detail {

inline bool row_finite(const float* r, std::size_t cols) {
  for (std::size_t c = 0; c < cols; ++c)
    if (!std::isfinite(r[c])) return false;
  return true;
}

/// Indices 0..n-1 by descending key, ties by ascending index.
inline std::vector<std::size_t> argsort_descending(const std::vector<float>& key) {
  std::vector<std::size_t> order(key.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return key[a] > key[b]; });
  return order;
}

}  // namespace detail

/// SCRFD.detect after the network. `score/bbox/kps[l]` for strides 8, 16, 32 (kps empty: no
/// keypoints); `det_scale` as SCRFD computes it; `image` the original size (max_num's centre).
inline FamilyRows scrfd_port(const facepost::TensorView* score, const facepost::TensorView* bbox,
                             const facepost::TensorView* kps, facepost::InputSize input, float det_scale,
                             facepost::InputSize image, float threshold, float nms_threshold, std::size_t max_num) {
  const bool with_kps = kps[0].data != nullptr;
  FamilyRows out;
  out.cols = with_kps ? 15 : 5;
  std::vector<float> rows, scores;
  for (int l = 0; l < 3; ++l) {
    const int s = 8 << l;
    const int fw = input.width / s, fh = input.height / s;
    // Every anchor decoded (distance2bbox / distance2kps), then the positive ones taken.
    std::vector<float> all(std::size_t(fw) * std::size_t(fh) * 2 * out.cols);
    for (int y = 0; y < fh; ++y)
      for (int x = 0; x < fw; ++x)
        for (int a = 0; a < 2; ++a) {
          const std::size_t r = (std::size_t(y) * std::size_t(fw) + std::size_t(x)) * 2 + std::size_t(a);
          const float cx = float(x * s), cy = float(y * s), fs = float(s);
          float* o = all.data() + out.cols * r;
          o[0] = cx - mul(bbox[l](r, 0), fs);
          o[1] = cy - mul(bbox[l](r, 1), fs);
          o[2] = cx + mul(bbox[l](r, 2), fs);
          o[3] = cy + mul(bbox[l](r, 3), fs);
          o[4] = score[l](r, 0);
          if (with_kps)
            for (int k = 0; k < 5; ++k) {
              o[5 + 2 * k] = cx + mul(kps[l](r, std::size_t(2 * k)), fs);
              o[6 + 2 * k] = cy + mul(kps[l](r, std::size_t(2 * k + 1)), fs);
            }
        }
    for (std::size_t r = 0; r < score[l].rows; ++r) {
      if (!(score[l](r, 0) >= threshold)) continue;
      float* o = all.data() + out.cols * r;
      for (std::size_t c = 0; c < out.cols; ++c)
        if (c != 4) o[c] = o[c] / det_scale;
      if (!detail::row_finite(o, out.cols)) continue;
      rows.insert(rows.end(), o, o + out.cols);
      scores.push_back(o[4]);
    }
  }
  // argsort, then NMS over a shrinking order list, as SCRFD.nms.
  std::vector<std::size_t> order = detail::argsort_descending(scores);
  const auto at = [&](std::size_t i, int c) { return rows[out.cols * i + std::size_t(c)]; };
  std::vector<std::size_t> keep;
  while (!order.empty()) {
    const std::size_t i = order[0];
    keep.push_back(i);
    std::vector<std::size_t> rest;
    const float area_i = mul(at(i, 2) - at(i, 0) + 1.f, at(i, 3) - at(i, 1) + 1.f);
    for (std::size_t k = 1; k < order.size(); ++k) {
      const std::size_t j = order[k];
      const float w = std::max(0.f, std::min(at(i, 2), at(j, 2)) - std::max(at(i, 0), at(j, 0)) + 1.f);
      const float h = std::max(0.f, std::min(at(i, 3), at(j, 3)) - std::max(at(i, 1), at(j, 1)) + 1.f);
      const float inter = mul(w, h);
      const float area_j = mul(at(j, 2) - at(j, 0) + 1.f, at(j, 3) - at(j, 1) + 1.f);
      const float ovr = inter / ((area_i + area_j) - inter);
      if (ovr <= nms_threshold) rest.push_back(j);
    }
    order = rest;
  }
  if (max_num > 0 && keep.size() > max_num) {
    std::vector<float> value(keep.size());
    const float hw = float(image.width / 2), hh = float(image.height / 2);
    for (std::size_t k = 0; k < keep.size(); ++k) {
      const std::size_t i = keep[k];
      const float area = mul(at(i, 2) - at(i, 0), at(i, 3) - at(i, 1));
      const float ox = (at(i, 0) + at(i, 2)) / 2.f - hw, oy = (at(i, 1) + at(i, 3)) / 2.f - hh;
      value[k] = area - mul(mul(ox, ox) + mul(oy, oy), 2.f);
    }
    // np.argsort(values)[::-1]: NaN sorts last ascending, so first here.
    std::vector<std::size_t> by_value(value.size()), cut;
    std::iota(by_value.begin(), by_value.end(), std::size_t{0});
    std::stable_sort(by_value.begin(), by_value.end(), [&](std::size_t a, std::size_t b) {
      if (std::isnan(value[a]) != std::isnan(value[b])) return std::isnan(value[a]);
      return value[a] > value[b];
    });
    for (std::size_t k = 0; k < max_num; ++k) cut.push_back(keep[by_value[k]]);
    keep = cut;
  }
  for (std::size_t i : keep) out.data.insert(out.data.end(), rows.begin() + std::ptrdiff_t(out.cols * i),
                                             rows.begin() + std::ptrdiff_t(out.cols * (i + 1)));
  return out;
}

/// non_max_suppression_face for one class on a [N,16] head; max_det 0 = no limit.
inline FamilyRows yolov5_face_port(const facepost::TensorView& pred, float conf_threshold, double iou_threshold,
                                   std::size_t max_det) {
  FamilyRows out;
  std::vector<float> rows, conf;
  for (std::size_t r = 0; r < pred.rows; ++r) {
    const float obj = pred(r, 4);
    if (!(obj > conf_threshold)) continue;
    const float c = mul(pred(r, 15), obj);
    const float x = pred(r, 0), y = pred(r, 1), w = pred(r, 2), h = pred(r, 3);
    float o[15] = {x - w / 2.f, y - h / 2.f, x + w / 2.f, y + h / 2.f, c};
    for (int k = 0; k < 10; ++k) o[5 + k] = pred(r, std::size_t(5 + k));
    if (!(c > conf_threshold) || !detail::row_finite(o, 15)) continue;
    rows.insert(rows.end(), o, o + 15);
    conf.push_back(c);
  }
  // torchvision's CPU nms: sorted order, suppressed flags, continuous IoU vs a double threshold.
  const std::vector<std::size_t> order = detail::argsort_descending(conf);
  const auto at = [&](std::size_t i, int c) { return rows[15 * i + std::size_t(c)]; };
  std::vector<char> suppressed(order.size(), 0);
  for (std::size_t a = 0; a < order.size(); ++a) {
    if (suppressed[a]) continue;
    const std::size_t i = order[a];
    out.data.insert(out.data.end(), rows.begin() + std::ptrdiff_t(15 * i), rows.begin() + std::ptrdiff_t(15 * i + 15));
    if (max_det > 0 && out.size() == max_det) break;
    const float area_i = mul(at(i, 2) - at(i, 0), at(i, 3) - at(i, 1));
    for (std::size_t b = a + 1; b < order.size(); ++b) {
      if (suppressed[b]) continue;
      const std::size_t j = order[b];
      const float w = std::max(0.f, std::min(at(i, 2), at(j, 2)) - std::max(at(i, 0), at(j, 0)));
      const float h = std::max(0.f, std::min(at(i, 3), at(j, 3)) - std::max(at(i, 1), at(j, 1)));
      const float inter = mul(w, h);
      const float area_j = mul(at(j, 2) - at(j, 0), at(j, 3) - at(j, 1));
      const float ovr = inter / ((area_i + area_j) - inter);
      if (double(ovr) > iou_threshold) suppressed[b] = 1;
    }
  }
  return out;
}

/// hollance's post-processing of one BlazeFace frame: `regressors` [896,16], `logits` [896,1],
/// `anchors` [896,4] (x y w h), input side S; rows in input pixels, [K,17].
inline FamilyRows blazeface_port(const facepost::TensorView& regressors, const facepost::TensorView& logits,
                                 const float* anchors, float S, float threshold, float nms_threshold) {
  FamilyRows out;
  out.cols = 17;
  const std::size_t n = regressors.rows;
  // _decode_boxes on every anchor, normalised: value / S * anchor size + anchor centre.
  std::vector<float> all(17 * n), scores(n);
  for (std::size_t i = 0; i < n; ++i) {
    const float* a = anchors + 4 * i;
    float* o = all.data() + 17 * i;
    const float xc = mul(regressors(i, 0) / S, a[2]) + a[0], yc = mul(regressors(i, 1) / S, a[3]) + a[1];
    const float w = mul(regressors(i, 2) / S, a[2]), h = mul(regressors(i, 3) / S, a[3]);
    o[0] = xc - w / 2.f, o[1] = yc - h / 2.f, o[2] = xc + w / 2.f, o[3] = yc + h / 2.f;
    for (std::size_t k = 0; k < 6; ++k) {
      o[5 + 2 * k] = mul(regressors(i, 4 + 2 * k) / S, a[2]) + a[0];
      o[6 + 2 * k] = mul(regressors(i, 5 + 2 * k) / S, a[3]) + a[1];
    }
    const float x = std::min(100.f, std::max(-100.f, logits(i, 0)));
    o[4] = scores[i] = 1.f / (1.f + CorrectlyRoundedExp{}(-x));
  }
  std::vector<std::size_t> candidates;
  std::vector<float> cand_scores;
  for (std::size_t i = 0; i < n; ++i)
    if (scores[i] >= threshold && detail::row_finite(all.data() + 17 * i, 17))
      candidates.push_back(i), cand_scores.push_back(scores[i]);
  // _weighted_non_max_suppression over the candidates by descending score.
  std::vector<std::size_t> remaining;
  for (std::size_t k : detail::argsort_descending(cand_scores)) remaining.push_back(candidates[k]);
  const auto at = [&](std::size_t i, int c) { return all[17 * i + std::size_t(c)]; };
  while (!remaining.empty()) {
    const std::size_t seed = remaining[0];
    std::vector<std::size_t> cluster{seed}, rest;
    const float area_s = mul(at(seed, 2) - at(seed, 0), at(seed, 3) - at(seed, 1));
    for (std::size_t k = 1; k < remaining.size(); ++k) {
      const std::size_t j = remaining[k];
      const float iw = std::max(std::min(at(seed, 2), at(j, 2)) - std::max(at(seed, 0), at(j, 0)), 0.f);
      const float ih = std::max(std::min(at(seed, 3), at(j, 3)) - std::max(at(seed, 1), at(j, 1)), 0.f);
      const float inter = mul(ih, iw);
      const float area_j = mul(at(j, 2) - at(j, 0), at(j, 3) - at(j, 1));
      const float iou = inter / ((area_s + area_j) - inter);
      (iou > nms_threshold ? cluster : rest).push_back(j);
    }
    remaining = rest;
    float row[17];
    for (int c = 0; c < 17; ++c) row[c] = at(seed, c);
    if (cluster.size() > 1) {
      float total = 0.f;
      for (std::size_t j : cluster) total += at(j, 4);
      for (int c = 0; c < 17; ++c) {
        if (c == 4) continue;
        float sum = 0.f;
        for (std::size_t j : cluster) sum += mul(at(j, c), at(j, 4));
        row[c] = sum / total;
      }
      row[4] = total / float(cluster.size());
    }
    for (int c = 0; c < 17; ++c)
      if (c != 4) row[c] = row[c] * S;
    if (detail::row_finite(row, 17)) out.data.insert(out.data.end(), row, row + 17);
  }
  return out;
}

/// OpenCV 4.6 FaceDetectorYN::postProcess on [N,14] loc, [N,2] conf, [N,1] iou for an input of
/// W x H. `nms` chooses the NMS: nullptr = the port's own NMSBoxes, else a callable taking
/// (boxes as x y w h ints, scores, threshold, nms_threshold, top_k) and returning kept indices
/// (the benchmarks pass cv::dnn::NMSBoxes). Rows: x1 y1 x2 y2 score and 5 landmarks.
template <class Nms>
FamilyRows yunet_port_with(const facepost::TensorView& loc, const facepost::TensorView& conf,
                           const facepost::TensorView& iou, facepost::InputSize input, float threshold,
                           float nms_threshold, int top_k, Nms&& nms) {
  const int W = input.width, H = input.height;
  // generatePriors: feature maps by int division, four levels.
  const int f2w = ((W + 1) / 2) / 2, f2h = ((H + 1) / 2) / 2;
  const int fw[4] = {f2w / 2, f2w / 4, f2w / 8, f2w / 16}, fh[4] = {f2h / 2, f2h / 4, f2h / 8, f2h / 16};
  const int steps[4] = {8, 16, 32, 64};
  const std::vector<std::vector<float>> min_sizes = {{10, 16, 24}, {32, 48}, {64, 96}, {128, 192, 256}};
  std::vector<float> priors;
  for (int l = 0; l < 4; ++l)
    for (int r = 0; r < fh[l]; ++r)
      for (int c = 0; c < fw[l]; ++c)
        for (float m : min_sizes[std::size_t(l)]) {
          priors.push_back((float(c) + 0.5f) * float(steps[l]) / float(W));
          priors.push_back((float(r) + 0.5f) * float(steps[l]) / float(H));
          priors.push_back(m / float(W));
          priors.push_back(m / float(H));
        }
  const std::size_t n = priors.size() / 4;
  // postProcess: every prior decoded, its box as ints for NMS.
  std::vector<float> faces(15 * n), scores(n);
  std::vector<int> boxes(4 * n);
  const float v0 = 0.1f, v1 = 0.2f;
  for (std::size_t i = 0; i < n; ++i) {
    const float* p = priors.data() + 4 * i;
    const float cls = conf(i, 1);
    float io = iou(i, 0);
    if (io < 0.f) io = 0.f;
    else if (io > 1.f) io = 1.f;
    const float score = std::sqrt(mul(cls, io));
    const float cx = mul(p[0] + mul(mul(loc(i, 0), v0), p[2]), float(W));
    const float cy = mul(p[1] + mul(mul(loc(i, 1), v0), p[3]), float(H));
    const float w = mul(mul(p[2], std::exp(mul(loc(i, 2), v0))), float(W));
    const float h = mul(mul(p[3], std::exp(mul(loc(i, 3), v1))), float(H));
    const float x1 = cx - w / 2.f, y1 = cy - h / 2.f;
    float* f = faces.data() + 15 * i;
    f[0] = x1, f[1] = y1, f[2] = x1 + w, f[3] = y1 + h, f[4] = score;
    for (int k = 0; k < 5; ++k) {
      f[5 + 2 * k] = mul(p[0] + mul(mul(loc(i, std::size_t(4 + 2 * k)), v0), p[2]), float(W));
      f[6 + 2 * k] = mul(p[1] + mul(mul(loc(i, std::size_t(5 + 2 * k)), v0), p[3]), float(H));
    }
    scores[i] = score;
    const bool finite = detail::row_finite(f, 15);
    boxes[4 * i] = finite ? int(x1) : 0, boxes[4 * i + 1] = finite ? int(y1) : 0;
    boxes[4 * i + 2] = finite ? int(w) : 0, boxes[4 * i + 3] = finite ? int(h) : 0;
    if (!finite) scores[i] = -1.f;  // facepost's contract: non-finite rows never come out
  }
  const std::vector<std::size_t> keep = nms(boxes, scores, threshold, nms_threshold, top_k);
  FamilyRows out;
  for (std::size_t i : keep) out.data.insert(out.data.end(), faces.begin() + std::ptrdiff_t(15 * i),
                                             faces.begin() + std::ptrdiff_t(15 * i + 15));
  return out;
}

/// NMSBoxes for Rect2i as OpenCV 4.6 runs it (eta = 1).
inline std::vector<std::size_t> yunet_nms_boxes(const std::vector<int>& boxes, const std::vector<float>& scores,
                                                float threshold, float nms_threshold, int top_k) {
  std::vector<std::size_t> order;
  for (std::size_t i = 0; i < scores.size(); ++i)
    if (scores[i] > threshold) order.push_back(i);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return scores[a] > scores[b]; });
  if (top_k > 0 && order.size() > std::size_t(top_k)) order.resize(std::size_t(top_k));
  std::vector<std::size_t> keep;
  for (std::size_t i : order) {
    bool kept = true;
    for (std::size_t k : keep) {
      const int* a = boxes.data() + 4 * k;
      const int* b = boxes.data() + 4 * i;
      const long long aa = (long long)a[2] * a[3], ab = (long long)b[2] * b[3];
      double inter = 0.0;
      if (a[2] > 0 && a[3] > 0 && b[2] > 0 && b[3] > 0) {
        const long long iw = std::min(a[0] + a[2], b[0] + b[2]) - std::max(a[0], b[0]);
        const long long ih = std::min(a[1] + a[3], b[1] + b[3]) - std::max(a[1], b[1]);
        if (iw > 0 && ih > 0) inter = double(iw * ih);
      }
      const float overlap = aa + ab <= 0 ? 1.f : 1.f - float(1.0 - inter / (double(aa + ab) - inter));
      if (!(overlap <= nms_threshold)) {
        kept = false;
        break;
      }
    }
    if (kept) keep.push_back(i);
  }
  return keep;
}

inline FamilyRows yunet_port(const facepost::TensorView& loc, const facepost::TensorView& conf,
                             const facepost::TensorView& iou, facepost::InputSize input, float threshold,
                             float nms_threshold, int top_k) {
  return yunet_port_with(loc, conf, iou, input, threshold, nms_threshold, top_k, &yunet_nms_boxes);
}

}  // namespace facepost_ref
