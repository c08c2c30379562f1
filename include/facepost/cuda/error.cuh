// facepost/cuda/error.cuh - every CUDA return code checked; failures become facepost::Error.
#pragma once

#include <cuda_runtime.h>

#include <string>

#include "facepost/error.hpp"

namespace facepost {
namespace cuda {

/// Throws facepost::Error (Errc::device_error; Errc::size_overflow for out-of-memory, as the
/// CPU path reports it) naming the failed call and the CUDA error.
inline void check(cudaError_t result, const char* call) {
  if (result == cudaSuccess) return;
  // The runtime also records the error for cudaGetLastError: clear it (unless sticky), so that a
  // recoverable failure reported here (e.g. out of memory) is not reported again by the next
  // check_launch.
  (void)cudaGetLastError();
  const Errc code = result == cudaErrorMemoryAllocation ? Errc::size_overflow : Errc::device_error;
  throw Error(code, std::string(call) + " failed: " + cudaGetErrorName(result) + " (" + cudaGetErrorString(result) +
                        ")");
}

/// Checks a kernel launch (configuration errors surface at once; faults at the next sync).
inline void check_launch(const char* kernel) {
  const cudaError_t result = cudaGetLastError();
  if (result != cudaSuccess) check(result, (std::string("launch of ") + kernel).c_str());
}

}  // namespace cuda
}  // namespace facepost

/// Runs a CUDA runtime call and throws facepost::Error with the call's text if it fails.
#define FACEPOST_CUDA_CHECK(call) ::facepost::cuda::check((call), #call)
