// facepost/cuda/load.cuh - reading head tensors of any supported element type as float32.
#pragma once

#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <type_traits>

namespace facepost {
namespace cuda {

/// Element types the kernels read: float32, and float16 converted exactly to float32 on load.
template <class T>
struct is_head_type : std::integral_constant<bool, std::is_same<T, float>::value || std::is_same<T, __half>::value> {};

namespace detail {

__device__ __forceinline__ float load_f32(const float* p) { return __ldg(p); }
__device__ __forceinline__ float load_f32(const __half* p) { return __half2float(__ldg(p)); }

}  // namespace detail
}  // namespace cuda
}  // namespace facepost
