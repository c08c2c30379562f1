// Compiled to PTX only (never run): instantiates every kernel of the CUDA backend, for
// check_ptx.cmake to verify that their float32 arithmetic cannot be contracted into FMAs.
#include "facepost/cuda/postprocess.cuh"

void facepost_cuda_ptx_instantiate(facepost::cuda::CudaPostprocessor& pp, const facepost::cuda::DeviceHeads<float>& f,
                                   const facepost::cuda::DeviceHeads<__half>& h) {
  pp.enqueue(f, {640, 480});
  pp.enqueue(h, {640, 480});
}
