// Test runner of the CUDA backend.
//   --host-only    the [host] tests: arithmetic, ordering, validation; need no GPU.
//   --device-only  the [device] tests; without a usable CUDA device, prints "SKIPPED: ..." and
//                  exits with kSkipped, which ctest reports as skipped (SKIP_RETURN_CODE).
//   (neither)      every test; also exits kSkipped without a device.
// Other arguments go to Catch2.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <cuda_runtime_api.h>

#include <cstdio>
#include <cstring>
#include <vector>

namespace {

constexpr int kSkipped = 77;

/// Empty if a device is usable, else why not.
const char* no_device_reason() {
  int count = 0;
  const cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess) return cudaGetErrorString(e);
  if (count == 0) return "cudaGetDeviceCount returned 0";
  return nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  bool host_only = false, device_only = false;
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    if (i > 0 && std::strcmp(argv[i], "--host-only") == 0) host_only = true;
    else if (i > 0 && std::strcmp(argv[i], "--device-only") == 0) device_only = true;
    else args.push_back(argv[i]);
  }
  if (host_only && device_only) {
    std::fprintf(stderr, "--host-only and --device-only exclude each other\n");
    return 2;
  }
  if (!host_only) {
    if (const char* why = no_device_reason()) {
      std::printf("SKIPPED: no CUDA device (%s)\n", why);
      return kSkipped;
    }
  }
  Catch::Session session;
  const int rc = session.applyCommandLine(static_cast<int>(args.size()), args.data());
  if (rc != 0) return rc;
  if (host_only) session.configData().testsOrTags.push_back("[host]");
  if (device_only) session.configData().testsOrTags.push_back("[device]");
  return session.run();
}
