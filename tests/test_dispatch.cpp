// Runtime dispatch: the backend that runs is the one the CPU supports (and the one the test run
// expects, FACEPOST_TEST_EXPECT_BACKEND in the environment: tests/CMakeLists.txt runs this
// program natively and under qemu-x86_64 with CPUs of several levels).
#include <catch2/catch.hpp>

#include <cstdlib>
#include <string>

#include "facepost/facepost.hpp"

TEST_CASE("dispatch: the backend that runs is the one expected for this CPU", "[dispatch]") {
  INFO("backend " << facepost::backend_name() << ", namespace facepost::" << FACEPOST_ABI_NAME);
  if (const char* want = std::getenv("FACEPOST_TEST_EXPECT_BACKEND")) CHECK(std::string(facepost::backend_name()) == want);
#if defined(FACEPOST_RUNTIME_DISPATCH) && defined(__x86_64__) && !defined(__AVX2__)
  CHECK(facepost::runtime_dispatch());
  const facepost::detail::CpuFeatures cpu = facepost::detail::detect_cpu_features();
  const std::string expected = cpu.avx512 ? "avx512" : cpu.avx2 ? "avx2" : "scalar";
  CHECK(std::string(facepost::backend_name()) == expected);
#endif
  // Every call sees the same table.
  CHECK(&facepost::active_kernels() == &facepost::active_kernels());
}
