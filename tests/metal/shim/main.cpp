// Test runner of the Metal shim (tests/metal/shim): kernels of .metal files on the CPU, driven
// through the fake metal-cpp.
//   --simd-width N    threads per simdgroup (default 32, Apple GPUs'; 1..32 or 64)
//   --spin-yields N   yields before a waiting thread sleeps (default 8; speed only)
// Other arguments go to Catch2. Metal API validation errors throw (ValidationError) here.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <cstdlib>
#include <cstring>
#include <vector>

#define NS_PRIVATE_IMPLEMENTATION
#define MTL_PRIVATE_IMPLEMENTATION
#include <Foundation/Foundation.hpp>
#include <Metal/Metal.hpp>

int main(int argc, char** argv) {
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    if (i > 0 && std::strcmp(argv[i], "--simd-width") == 0 && i + 1 < argc) {
      facepost_msl::set_simd_width(std::atoi(argv[++i]));
    } else if (i > 0 && std::strcmp(argv[i], "--spin-yields") == 0 && i + 1 < argc) {
      facepost_simt::knobs::spin_yields = std::atoi(argv[++i]);
    } else {
      args.push_back(argv[i]);
    }
  }
  facepost_metal_fake::set_validation_mode(facepost_metal_fake::Validation::throw_error);
  Catch::Session session;
  const int rc = session.applyCommandLine(static_cast<int>(args.size()), args.data());
  if (rc != 0) return rc;
  return session.run();
}
