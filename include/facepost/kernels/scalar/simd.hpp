// facepost/kernels/scalar/simd.hpp - portable fallback: "vectors" of one row.
#pragma once

#include <cstdint>
#include <limits>

#include "facepost/kernels/generic/decode.hpp"
#include "facepost/kernels/generic/filter.hpp"
#include "facepost/kernels/generic/kernels.hpp"
#include "facepost/kernels/generic/suppress.hpp"

namespace facepost {
namespace kernels {
namespace scalar {

struct Simd : generic::ScalarDecode {
  static constexpr std::size_t rows = 8;  // unrolled: eight rows per step, one mask
  /// NMS grid cells per smallest box (nms.hpp): one slot per step favours small cells.
  static constexpr double nms_cell_scale = 1.0;
  static std::uint32_t face_mask(const float* conf, float t) noexcept {
    const float inf = std::numeric_limits<float>::infinity();
    std::uint32_t m = 0;
    for (int i = 0; i < 8; ++i) {
      const float s = conf[2 * i + 1];
      m |= std::uint32_t(s > t && s < inf) << i;
    }
    return m;
  }
  static std::uint32_t logit_mask(const float* conf, float cut) noexcept {
    std::uint32_t m = 0;
    for (int i = 0; i < 8; ++i) m |= std::uint32_t(conf[2 * i + 1] - conf[2 * i] > cut) << i;
    return m;
  }
  static std::size_t compress(const float* conf, std::uint32_t m, std::size_t first_row, std::uint32_t* index,
                              float* score) noexcept {
    return generic::compress_bits(conf, m, first_row, index, score);
  }
  template <IouConvention C>
  static bool any_suppresses(const float* q, float qa, const generic::SlotBoxes& s, std::size_t begin,
                             std::size_t end, const SuppressionTest& test) noexcept {
    return generic::any_suppresses_scalar<C>(q, qa, s, begin, end, test);
  }
};

constexpr const char* name = "scalar";
using Kernels = generic::Kernels<Simd>;

}  // namespace scalar
}  // namespace kernels
}  // namespace facepost
