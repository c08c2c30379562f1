// facepost/kernels/table.hpp - the entry points of one instruction set's kernels.
//
// Every kernel set (kernels/<isa>/lanes.hpp) fills one KernelTable with its own compilation of
// the generic algorithms (kernels/generic/*-inl.hpp). Everything that runs kernels goes through
// a table: active_kernels() (dispatch.hpp) is the one that runs, kernels::<isa>::kTable a given set.
#pragma once

#include <cstddef>
#include <cstdint>

#include "facepost/decode.hpp"
#include "facepost/iou.hpp"
#include "facepost/isa.hpp"
#include "facepost/nms/workspace.hpp"
#include "facepost/tensor.hpp"

namespace facepost {
FACEPOST_ABI_BEGIN
namespace kernels {

/// Where decode_ranked writes: detection rows plus the boxes again as arrays for NMS.
struct DecodedCandidates {
  float* rows;  ///< [n, 15]
  float *x1, *y1, *x2, *y2;
  std::uint32_t* prior;  ///< prior index of each row
};

struct KernelTable {
  const char* name;  ///< "avx512", "avx2", "neon" or "scalar"
  /// Contiguous [rows, 2] conf: indices and scores of the rows that pass (filter.hpp).
  std::size_t (*filter_probabilities)(const float* conf, std::size_t rows, float threshold, std::uint32_t* index,
                                      float* score) noexcept;
  std::size_t (*filter_logits)(const float* conf, std::size_t rows, float threshold, std::uint32_t* index,
                               float* score) noexcept;
  /// A contiguous float column: indices and values of the rows >= threshold (detector families).
  std::size_t (*filter_column_at_least)(const float* column, std::size_t rows, float threshold,
                                        std::uint32_t* index, float* score) noexcept;
  /// Decodes candidates order[0..n) into detection rows, keeping the finite ones.
  std::size_t (*decode_ranked)(const HeadOutputs& heads, const float* priors, const DecodeContext& ctx,
                               const std::uint32_t* order, std::size_t n, const std::uint32_t* cand_index,
                               const float* cand_score, const DecodedCandidates& out) noexcept;
  /// Greedy NMS for a threshold >= 0, ws reserved for b.size boxes (nms.hpp).
  std::size_t (*nms_legacy)(const BoxesSoA& b, const SuppressionTest& test, std::size_t max_keep, std::uint32_t* keep,
                            NmsWorkspace& ws) noexcept;
  std::size_t (*nms_continuous)(const BoxesSoA& b, const SuppressionTest& test, std::size_t max_keep,
                                std::uint32_t* keep, NmsWorkspace& ws) noexcept;
  /// out[i] = exp_f32(in[i]), vectorised (in and out may alias).
  void (*exp_batch)(const float* in, float* out, std::size_t n) noexcept;
  /// out[i] = element i of contiguous `src` as float32: float16 exactly, int8 / uint8 as
  /// float32(q - zero_point) * scale (tensor.hpp's dequantize), float32 copied.
  void (*convert_to_f32)(const void* src, ElementType type, Dequant dq, std::size_t n, float* out) noexcept;
};

}  // namespace kernels
FACEPOST_ABI_END
}  // namespace facepost
