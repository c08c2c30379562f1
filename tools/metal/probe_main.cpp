// tools/metal/probe_main.cpp - runs probe.metal on the Mac's GPU and compares every result bit
// for bit with the CPU's IEEE arithmetic (the same operations, -ffp-contract=off). Build and run
// with tools/metal/probe_mac.sh. Exit status 0: the GPU divides correctly rounded, keeps
// subnormals and does not contract; otherwise each mismatch is printed.
#define NS_PRIVATE_IMPLEMENTATION
#define MTL_PRIVATE_IMPLEMENTATION
#include <Foundation/Foundation.hpp>
#include <Metal/Metal.hpp>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

static std::uint32_t bits(float x) {
  std::uint32_t u;
  std::memcpy(&u, &x, 4);
  return u;
}
static float from_bits(std::uint32_t u) {
  float x;
  std::memcpy(&x, &u, 4);
  return x;
}

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s probe.metal\n", argv[0]);
    return 2;
  }
  std::ifstream f(argv[1]);
  const std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  NS::AutoreleasePool* pool = NS::AutoreleasePool::alloc()->init();
  MTL::Device* device = MTL::CreateSystemDefaultDevice();
  MTL::CompileOptions* options = MTL::CompileOptions::alloc()->init();
  options->setFastMathEnabled(false);
  options->setMathMode(MTL::MathModeSafe);
  options->setMathFloatingPointFunctions(MTL::MathFloatingPointFunctionsPrecise);
  options->setLanguageVersion(MTL::LanguageVersion3_2);
  NS::Error* error = nullptr;
  MTL::Library* lib = device->newLibrary(NS::String::string(text.c_str(), NS::UTF8StringEncoding), options, &error);
  if (lib == nullptr) {
    std::fprintf(stderr, "compile failed: %s\n", error->localizedDescription()->utf8String());
    return 1;
  }
  MTL::Function* fn = lib->newFunction(NS::String::string("facepost_probe", NS::UTF8StringEncoding));
  MTL::ComputePipelineState* ps = device->newComputePipelineState(fn, &error);

  // Random operands across the whole range, plus subnormal-producing and midpoint cases.
  const std::size_t n = 1 << 20;
  std::vector<float> a(n), b(n), c(n);
  std::mt19937 rng(1);
  for (std::size_t i = 0; i < n; ++i) {
    a[i] = from_bits(rng() & 0xBFFFFFFFu);  // finite, |x| < 2
    b[i] = from_bits((rng() & 0x3FFFFFFFu) | 0x00800000u);
    c[i] = from_bits(rng() & 0xBFFFFFFFu);
    if (i % 4 == 1) a[i] = std::ldexp(1.f + float(rng() % 1024) / 1024.f, -70), b[i] = std::ldexp(1.f, -60);
    if (i % 4 == 2) a[i] = std::ldexp(float(rng() % 4096), -149), b[i] = std::ldexp(float(rng() % 4096), -149);
  }
  auto buffer = [&](const std::vector<float>& v) {
    return device->newBuffer(v.data(), v.size() * 4, MTL::ResourceStorageModeShared);
  };
  MTL::Buffer *ba = buffer(a), *bb = buffer(b), *bc = buffer(c);
  MTL::Buffer* out = device->newBuffer(4 * n * 4, MTL::ResourceStorageModeShared);
  MTL::CommandQueue* queue = device->newCommandQueue();
  MTL::CommandBuffer* cb = queue->commandBuffer();
  MTL::ComputeCommandEncoder* enc = cb->computeCommandEncoder();
  enc->setComputePipelineState(ps);
  enc->setBuffer(ba, 0, 0);
  enc->setBuffer(bb, 0, 1);
  enc->setBuffer(bc, 0, 2);
  enc->setBuffer(out, 0, 3);
  enc->dispatchThreadgroups(MTL::Size(n / 256, 1, 1), MTL::Size(256, 1, 1));
  enc->endEncoding();
  cb->commit();
  cb->waitUntilCompleted();

  const auto* got = static_cast<const std::uint32_t*>(out->contents());
  const char* what[4] = {"a / b (division rounding)", "a * b + c (contraction)", "a * b (subnormal products)",
                         "a - b (subnormal differences)"};
  std::size_t bad[4] = {0, 0, 0, 0};
  for (std::size_t i = 0; i < n; ++i) {
    volatile float p = a[i] * b[i];  // volatile: two roundings on the host too
    const std::uint32_t want[4] = {bits(a[i] / b[i]), bits(p + c[i]), bits(p), bits(a[i] - b[i])};
    for (int k = 0; k < 4; ++k)
      if (got[4 * i + k] != want[k] && !(want[k] << 1 > 0xFF000000u && got[4 * i + k] << 1 > 0xFF000000u)) {
        if (bad[k]++ < 5)
          std::printf("%s: a=%a b=%a c=%a: gpu %08x cpu %08x\n", what[k], a[i], b[i], c[i], got[4 * i + k], want[k]);
      }
  }
  int rc = 0;
  for (int k = 0; k < 4; ++k) {
    std::printf("%-32s %zu of %zu differ\n", what[k], bad[k], n);
    rc |= bad[k] != 0;
  }
  pool->release();
  return rc;
}
