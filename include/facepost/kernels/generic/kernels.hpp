// facepost/kernels/generic/kernels.hpp - the entry points of one instruction set's kernels.
//
// Each kernels/<isa>/simd.hpp defines its SIMD type `Simd` and `using Kernels =
// generic::Kernels<Simd>;`: the generic algorithms instantiated for that instruction set, called
// as kernels::active::Kernels::filter_probabilities(...) and so on.
#pragma once

#include <cstddef>
#include <cstdint>

#include "facepost/kernels/generic/decode.hpp"
#include "facepost/kernels/generic/filter.hpp"

namespace facepost {
namespace kernels {
namespace generic {

template <class V>
struct Kernels {
  static std::size_t filter_probabilities(const float* conf, std::size_t rows, float t, std::uint32_t* index,
                                          float* score) noexcept {
    return generic::filter_probabilities<V>(conf, rows, t, index, score);
  }
  static std::size_t filter_logits(const float* conf, std::size_t rows, float t, std::uint32_t* index,
                                   float* score) noexcept {
    return generic::filter_logits<V>(conf, rows, t, index, score);
  }
  static std::size_t decode_ranked(const HeadOutputs& heads, const float* priors, const DecodeContext& ctx,
                                   const std::uint32_t* order, std::size_t n, const std::uint32_t* cand_index,
                                   const float* cand_score, const DecodedCandidates& out) noexcept {
    return generic::decode_ranked<V>(heads, priors, ctx, order, n, cand_index, cand_score, out);
  }
};

}  // namespace generic
}  // namespace kernels
}  // namespace facepost
