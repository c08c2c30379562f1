// facepost/kernels/generic/table-inl.hpp - the generic algorithms and the KernelTable of one
// instruction set. Included last inside each kernel namespace (kernels/<isa>/lanes.hpp), after
// its lanes; no include guard on purpose.
#include "facepost/kernels/generic/convert-inl.hpp"
#include "facepost/kernels/generic/filter-inl.hpp"
#include "facepost/kernels/generic/decode-inl.hpp"
#include "facepost/kernels/generic/nms-inl.hpp"

inline std::size_t nms_legacy(const BoxesSoA& b, const SuppressionTest& test, std::size_t max_keep,
                              std::uint32_t* keep, NmsWorkspace& ws) noexcept {
  return nms_greedy<IouConvention::legacy_pixel>(b, test, max_keep, keep, ws);
}
inline std::size_t nms_continuous(const BoxesSoA& b, const SuppressionTest& test, std::size_t max_keep,
                                  std::uint32_t* keep, NmsWorkspace& ws) noexcept {
  return nms_greedy<IouConvention::continuous>(b, test, max_keep, keep, ws);
}

inline constexpr KernelTable kTable{kName,          &filter_probabilities, &filter_logits,
                                    &filter_column_at_least, &decode_ranked,  &nms_legacy,
                                    &nms_continuous, &exp_batch,           &convert_to_f32};
