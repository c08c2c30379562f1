// tests/cuda/reference.hpp - the CUDA pipeline recomputed on the host, from facepost's CPU
// stages (rank_candidates, nms_greedy) and the host side of facepost/cuda/arithmetic.cuh.
//
// For probability inputs it is the CPU Postprocessor's arithmetic exactly (decode with
// facepost's exp, iou.hpp, rank_candidates, nms_greedy), so GPU == this == CPU, bit for bit.
// For logit inputs it applies the CUDA backend's softmax (facepost's exp; the CPU's softmax in
// scores.hpp calls the C library's expf), so there GPU == this is the exact check.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "facepost/cuda/arithmetic.cuh"
#include "facepost/facepost.hpp"

namespace cuda_reference {

/// One frame of head outputs on the host, contiguous float32 [N,4] / [N,2] / [N,10].
struct HostFrame {
  std::vector<float> loc, conf, landms;
  std::size_t rows = 0;

  facepost::HeadOutputs view() const {
    return {facepost::TensorView(loc.data(), rows, 4), facepost::TensorView(conf.data(), rows, 2),
            facepost::TensorView(landms.data(), rows, 10)};
  }
};

/// Detections of one frame: [K,15] rows, prior indices and the run's counts.
struct FrameResult {
  std::vector<float> rows;
  std::vector<std::uint32_t> prior;
  facepost::RunStats stats;
  std::size_t size() const { return prior.size(); }
};

/// The CUDA pipeline on the host. `priors` is the PriorGrid data for `input` ([N,4]).
inline FrameResult run(const HostFrame& f, const float* priors, const facepost::Params& p, facepost::InputSize input,
                       facepost::Variance variance, const facepost::ImageMapping& mapping) {
  namespace k = facepost::cuda::detail;
  FrameResult out;
  out.stats.priors = f.rows;

  // Filter.
  std::vector<std::uint32_t> index;
  std::vector<float> score;
  const float cut = facepost::logit_prefilter_cut(p.score_threshold);
  for (std::size_t r = 0; r < f.rows; ++r) {
    float s = f.conf[2 * r + 1];
    const bool pass = p.score_format == facepost::ScoreFormat::probabilities
                          ? k::probability_passes(s, p.score_threshold)
                          : k::logits_pass(f.conf[2 * r], f.conf[2 * r + 1], cut, p.score_threshold, s);
    if (pass) {
      index.push_back(static_cast<std::uint32_t>(r));
      score.push_back(s);
    }
  }
  out.stats.candidates = index.size();

  // Rank (the CPU's comparison sort: score descending, ties by prior index) and top_k.
  std::vector<std::uint32_t> order(index.size());
  const std::size_t ranked = facepost::rank_candidates(score.data(), index.data(), index.size(), p.top_k, order.data());

  // Decode; drop rows with a non-finite value.
  const k::DecodeConstants kc = k::make_decode_constants(input, variance, mapping);
  std::vector<float> rows, x1, y1, x2, y2;
  std::vector<std::uint32_t> prior;
  for (std::size_t r = 0; r < ranked; ++r) {
    const std::uint32_t c = order[r], pi = index[c];
    const float* pr = priors + 4 * std::size_t(pi);
    const float4 pf = make_float4(pr[0], pr[1], pr[2], pr[3]);
    float row[15];
    k::decode_box(pf, &f.loc[4 * std::size_t(pi)], kc, row);
    row[4] = score[c];
    k::decode_landmarks(pf, &f.landms[10 * std::size_t(pi)], kc, row + 5);
    bool finite = true;
    for (float v : row) finite &= std::isfinite(v);
    if (!finite) continue;
    rows.insert(rows.end(), row, row + 15);
    x1.push_back(row[0]), y1.push_back(row[1]), x2.push_back(row[2]), y2.push_back(row[3]);
    prior.push_back(pi);
  }
  out.stats.ranked = prior.size();

  // NMS (the CPU's exact greedy NMS), keep_top_k, clip.
  const facepost::BoxesSoA boxes{x1.data(), y1.data(), x2.data(), y2.data(), prior.size()};
  std::vector<std::uint32_t> keep(prior.size() + 1);
  facepost::NmsWorkspace nws;
  const std::size_t nk = facepost::nms_greedy(boxes, p.nms_threshold, p.iou, p.keep_top_k, keep.data(), nws);
  for (std::size_t i = 0; i < nk; ++i) {
    const float* src = &rows[15 * std::size_t(keep[i])];
    for (int c = 0; c < 15; ++c) out.rows.push_back(k::clip_column(src[c], c, kc));
    out.prior.push_back(prior[keep[i]]);
  }
  out.stats.detections = nk;
  return out;
}

inline bool same_bits(float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0; }

inline std::string stats_text(const facepost::RunStats& s) {
  return "priors " + std::to_string(s.priors) + ", candidates " + std::to_string(s.candidates) + ", ranked " +
         std::to_string(s.ranked) + ", detections " + std::to_string(s.detections);
}

inline std::string compare_stats(const facepost::RunStats& got, const facepost::RunStats& want) {
  if (got.priors == want.priors && got.candidates == want.candidates && got.ranked == want.ranked &&
      got.detections == want.detections)
    return {};
  return "stats differ: got {" + stats_text(got) + "}, want {" + stats_text(want) + "}";
}

/// Bit-for-bit equality of rows, prior indices and counts. Empty string when equal.
inline std::string compare_exact(const facepost::Detections& got, const facepost::RunStats& got_stats,
                                 const facepost::Detections& want, const facepost::RunStats& want_stats) {
  std::string s = compare_stats(got_stats, want_stats);
  if (!s.empty()) return s;
  if (got.size() != want.size())
    return "row count " + std::to_string(got.size()) + " != " + std::to_string(want.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    if (got.prior_index(i) != want.prior_index(i))
      return "row " + std::to_string(i) + ": prior " + std::to_string(got.prior_index(i)) +
             " != " + std::to_string(want.prior_index(i));
    for (int c = 0; c < 15; ++c)
      if (!same_bits(got[i].row[c], want[i].row[c]))
        return "row " + std::to_string(i) + " column " + std::to_string(c) + ": " + std::to_string(got[i].row[c]) +
               " != " + std::to_string(want[i].row[c]) + " (bits differ)";
  }
  return {};
}

/// A FrameResult seen as the Detections it stands for.
inline facepost::Detections as_detections(const FrameResult& r) {
  return facepost::Detections(r.rows.data(), r.prior.data(), r.size());
}

inline std::string compare_exact(const facepost::Detections& got, const facepost::RunStats& got_stats,
                                 const FrameResult& want) {
  return compare_exact(got, got_stats, as_detections(want), want.stats);
}

}  // namespace cuda_reference
