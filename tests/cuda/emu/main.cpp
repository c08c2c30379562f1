// Test runner of the emulated CUDA backend (tests/cuda/emu): the real kernels on the host.
//   --warp-size N     threads per emulated warp (default 32, CUDA's)
//   --spin-yields N   yields before a waiting thread sleeps (default 8; speed only)
// Other arguments go to Catch2.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <cstdlib>
#include <cstring>
#include <vector>

#include "facepost_emu/runtime.hpp"

int main(int argc, char** argv) {
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    if (i > 0 && std::strcmp(argv[i], "--warp-size") == 0 && i + 1 < argc) {
      facepost_emu::set_warp_size(std::atoi(argv[++i]));
    } else if (i > 0 && std::strcmp(argv[i], "--spin-yields") == 0 && i + 1 < argc) {
      facepost_emu::state::spin_yields = std::atoi(argv[++i]);
    } else {
      args.push_back(argv[i]);
    }
  }
  Catch::Session session;
  const int rc = session.applyCommandLine(static_cast<int>(args.size()), args.data());
  if (rc != 0) return rc;
  return session.run();
}
