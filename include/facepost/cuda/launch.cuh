// facepost/cuda/launch.cuh - the one place the backend launches kernels.
//
//   detail::launch(kernel, grid, block, stream, args...)
//
// is `kernel<<<grid, block, 0, stream>>>(args...)` under nvcc. Elsewhere it goes to an emulated
// runtime that defines FACEPOST_CUDA_EMULATION and facepost_emu::launch (tests/cuda/emu: the
// kernels run on the host, one thread per CUDA thread). Launch errors surface, as with <<<>>>,
// through cudaGetLastError (check_launch).
#pragma once

#include <cuda_runtime.h>

#include <utility>

namespace facepost {
namespace cuda {
namespace detail {

template <class... Params, class... Args>
inline void launch(void (*kernel)(Params...), dim3 grid, dim3 block, cudaStream_t stream, Args&&... args) {
#if defined(FACEPOST_CUDA_EMULATION)
  ::facepost_emu::launch(kernel, grid, block, 0, stream, std::forward<Args>(args)...);
#elif defined(__CUDACC__)
  kernel<<<grid, block, 0, stream>>>(std::forward<Args>(args)...);
#else
#error "facepost/cuda/launch.cuh: compile with nvcc (or the emulation of tests/cuda/emu)"
#endif
}

}  // namespace detail
}  // namespace cuda
}  // namespace facepost
