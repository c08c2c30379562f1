// Tests of the Metal shim (tests/metal/shim): test_kernels.metal compiled as C++ against the
// shim's <metal_stdlib>, run through the fake metal-cpp exactly as a host program would drive
// Metal (device, library from source, pipelines, command buffers, encoders), results checked
// against host references at the SIMD width of the run (ctest runs 32 and 8). Every test checks
// that it leaves no live object, no over-release and no autorelease without a pool.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <numeric>
#include <sstream>
#include <string>
#include <vector>

#include <Foundation/Foundation.hpp>
#include <Metal/Metal.hpp>

namespace {

using facepost_metal_fake::ValidationError;

std::string read_text(const char* path) {
  std::ifstream f(path, std::ios::binary);
  REQUIRE(f.good());
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

/// Objects, over-releases and pool-less autoreleases must be back where they were.
struct LeakCheck {
  long live = facepost_metal_fake::live_objects();
  long errors = facepost_metal_fake::refcount_errors();
  long unpooled = facepost_metal_fake::unpooled_autoreleases();
  void verify() const {
    INFO("live objects:\n" << facepost_metal_fake::live_report());
    CHECK(facepost_metal_fake::live_objects() == live);
    CHECK(facepost_metal_fake::refcount_errors() == errors);
    CHECK(facepost_metal_fake::unpooled_autoreleases() == unpooled);
  }
};

/// The host side of the tests: what a Metal post-processor does, with metal-cpp.
struct Host {
  NS::SharedPtr<MTL::Device> device = NS::TransferPtr(MTL::CreateSystemDefaultDevice());
  NS::SharedPtr<MTL::CommandQueue> queue = NS::TransferPtr(device->newCommandQueue());
  NS::SharedPtr<MTL::Library> library;

  Host() {
    NS::AutoreleasePool* pool = NS::AutoreleasePool::alloc()->init();
    auto options = NS::TransferPtr(MTL::CompileOptions::alloc()->init());
    options->setFastMathEnabled(false);
    options->setMathMode(MTL::MathModeSafe);
    options->setMathFloatingPointFunctions(MTL::MathFloatingPointFunctionsPrecise);
    options->setLanguageVersion(MTL::LanguageVersion3_1);
    const std::string text = read_text(FACEPOST_METAL_TEST_KERNELS);
    NS::Error* error = nullptr;
    library = NS::TransferPtr(
        device->newLibrary(NS::String::string(text.c_str(), NS::UTF8StringEncoding), options.get(), &error));
    REQUIRE(library);
    REQUIRE(error == nullptr);
    pool->release();
  }
  NS::SharedPtr<MTL::ComputePipelineState> pipeline(const char* name) {
    NS::AutoreleasePool* pool = NS::AutoreleasePool::alloc()->init();
    auto fn = NS::TransferPtr(library->newFunction(NS::String::string(name, NS::UTF8StringEncoding)));
    REQUIRE(fn);
    NS::Error* error = nullptr;
    auto p = NS::TransferPtr(device->newComputePipelineState(fn.get(), &error));
    REQUIRE(p);
    pool->release();
    return p;
  }
  template <class T>
  NS::SharedPtr<MTL::Buffer> buffer(const std::vector<T>& v) {
    return NS::TransferPtr(device->newBuffer(v.data(), v.size() * sizeof(T), MTL::ResourceStorageModeShared));
  }
  NS::SharedPtr<MTL::Buffer> buffer(std::size_t bytes) {
    return NS::TransferPtr(device->newBuffer(bytes, MTL::ResourceStorageModeShared));
  }
  template <class T>
  static std::vector<T> read(MTL::Buffer* b) {
    std::vector<T> v(b->length() / sizeof(T));
    std::memcpy(v.data(), b->contents(), v.size() * sizeof(T));
    return v;
  }
  /// Encodes with f into one command buffer, commits it and waits.
  template <class F>
  void run(F&& f, MTL::DispatchType type = MTL::DispatchTypeSerial) {
    NS::AutoreleasePool* pool = NS::AutoreleasePool::alloc()->init();
    MTL::CommandBuffer* cb = queue->commandBuffer();
    MTL::ComputeCommandEncoder* enc = cb->computeCommandEncoder(type);
    f(enc);
    enc->endEncoding();
    cb->commit();
    cb->waitUntilCompleted();
    REQUIRE(cb->status() == MTL::CommandBufferStatusCompleted);
    pool->release();
  }
};

unsigned width() { return static_cast<unsigned>(facepost_msl::simd_width()); }

}  // namespace

TEST_CASE("metal shim: newLibrary compiles only the shim's own source and records the options", "[metal][tsan]") {
  LeakCheck leaks;
  {
    Host h;
    const auto records = facepost_metal_fake::compile_records();
    REQUIRE(!records.empty());
    const auto& r = records.back();
    CHECK(r.succeeded);
    CHECK(r.library == "test_kernels.metal");
    CHECK_FALSE(r.fast_math_enabled);
    CHECK(r.math_mode_set);
    CHECK(r.math_mode == MTL::MathModeSafe);
    CHECK(r.fp_functions == MTL::MathFloatingPointFunctionsPrecise);
    CHECK(r.language_version == MTL::LanguageVersion3_1);

    NS::AutoreleasePool* pool = NS::AutoreleasePool::alloc()->init();
    NS::Error* error = nullptr;
    std::string text = read_text(FACEPOST_METAL_TEST_KERNELS) + " ";  // not the same text
    MTL::Library* bad =
        h.device->newLibrary(NS::String::string(text.c_str(), NS::UTF8StringEncoding), nullptr, &error);
    CHECK(bad == nullptr);
    REQUIRE(error != nullptr);
    CHECK(error->code() == MTL::LibraryErrorCompileFailure);
    CHECK(std::string(error->localizedDescription()->utf8String()).find("not the text") != std::string::npos);
    const facepost_metal_fake::CompileRecord defaults = facepost_metal_fake::compile_records().back();
    CHECK_FALSE(defaults.succeeded);
    CHECK_FALSE(defaults.options_given);
    CHECK(defaults.fast_math_enabled);  // Metal's default, which a host must switch off

    CHECK(h.library->newFunction(NS::String::string("no_such_kernel", NS::UTF8StringEncoding)) == nullptr);
    auto fn = NS::TransferPtr(h.library->newFunction(NS::String::string("reduce_sum", NS::UTF8StringEncoding)));
    REQUIRE(fn);
    CHECK(std::string(fn->name()->utf8String()) == "reduce_sum");
    auto p = h.pipeline("reduce_sum");
    CHECK(p->threadExecutionWidth() == width());
    CHECK(p->maxTotalThreadsPerThreadgroup() == 1024);
    pool->release();
  }
  leaks.verify();
}

TEST_CASE("metal shim: threadgroup reduction with barriers", "[metal][tsan]") {
  LeakCheck leaks;
  {
    Host h;
    auto pipe = h.pipeline("reduce_sum");
    const unsigned n = 1000, group = 128, groups = (n + group - 1) / group;
    std::vector<std::uint32_t> in(n);
    for (unsigned i = 0; i < n; ++i) in[i] = i * 7u % 1013u;
    auto bin = h.buffer(in);
    auto bpart = h.buffer(groups * sizeof(std::uint32_t));
    struct {
      std::uint32_t n, scale;
    } params{n, 3};
    h.run([&](MTL::ComputeCommandEncoder* e) {
      e->setComputePipelineState(pipe.get());
      e->setBuffer(bin.get(), 0, 0);
      e->setBuffer(bpart.get(), 0, 1);
      e->setBytes(&params, sizeof params, 2);
      e->setThreadgroupMemoryLength(group * sizeof(std::uint32_t), 0);
      e->dispatchThreadgroups(MTL::Size(groups, 1, 1), MTL::Size(group, 1, 1));
    });
    const auto part = Host::read<std::uint32_t>(bpart.get());
    for (unsigned g = 0; g < groups; ++g) {
      std::uint32_t expect = 0;
      for (unsigned i = g * group; i < std::min(n, (g + 1) * group); ++i) expect += in[i] * 3u;
      INFO("threadgroup " << g);
      CHECK(part[g] == expect);
    }
  }
  leaks.verify();
}

TEST_CASE("metal shim: ballot compaction with an atomic per simdgroup", "[metal][tsan]") {
  LeakCheck leaks;
  {
    Host h;
    auto pipe = h.pipeline("compact");
    const unsigned n = 777;
    std::vector<float> values(n);
    std::vector<std::uint32_t> expect;
    for (unsigned i = 0; i < n; ++i) {
      values[i] = static_cast<float>((i * 37u) % 100u) / 100.0f;
      if (values[i] > 0.6f) expect.push_back(i);
    }
    auto bv = h.buffer(values);
    auto bout = h.buffer(n * sizeof(std::uint32_t));
    auto bcount = h.buffer(std::vector<std::uint32_t>{0});
    const float threshold = 0.6f;
    h.run([&](MTL::ComputeCommandEncoder* e) {
      e->setComputePipelineState(pipe.get());
      e->setBuffer(bv.get(), 0, 0);
      e->setBuffer(bout.get(), 0, 1);
      e->setBuffer(bcount.get(), 0, 2);
      e->setBytes(&threshold, sizeof threshold, 3);
      e->setBytes(&n, sizeof n, 4);
      e->dispatchThreads(MTL::Size(n, 1, 1), MTL::Size(64, 1, 1));  // the last threadgroup is partial
    });
    const std::uint32_t count = Host::read<std::uint32_t>(bcount.get())[0];
    REQUIRE(count == expect.size());
    auto out = Host::read<std::uint32_t>(bout.get());
    out.resize(count);
    std::sort(out.begin(), out.end());
    CHECK(out == expect);
  }
  leaks.verify();
}

TEST_CASE("metal shim: SIMD-group functions match a host reference", "[metal][tsan]") {
  LeakCheck leaks;
  {
    Host h;
    auto pipe = h.pipeline("simd_ops");
    const unsigned w = width();
    const unsigned group = 64, groups = 2, n = group * groups;  // full simdgroups (shuffles read every lane)
    std::vector<std::uint32_t> in(n);
    for (unsigned i = 0; i < n; ++i) in[i] = (i * 2654435761u) % 97u;
    auto bin = h.buffer(in);
    auto bout = h.buffer(n * 16 * sizeof(std::uint32_t));
    h.run([&](MTL::ComputeCommandEncoder* e) {
      e->setComputePipelineState(pipe.get());
      e->setBuffer(bin.get(), 0, 0);
      e->setBuffer(bout.get(), 0, 1);
      e->dispatchThreadgroups(MTL::Size(groups, 1, 1), MTL::Size(group, 1, 1));
    });
    const auto out = Host::read<std::uint32_t>(bout.get());
    for (unsigned g = 0; g < groups; ++g)
      for (unsigned t = 0; t < group; ++t) {
        const unsigned i = g * group + t, sg = t / w, lane = t % w;
        const unsigned first = g * group + sg * w, lanes = std::min(w, group - sg * w);
        auto at = [&](unsigned l) { return in[first + l]; };
        std::uint32_t sum = 0, ex = 0, mx = 0, mn = ~0u, orr = 0, andd = ~0u, ballot = 0;
        bool all = true, any7 = false;
        for (unsigned l = 0; l < lanes; ++l) {
          sum += at(l);
          if (l < lane) ex += at(l);
          mx = std::max(mx, at(l));
          mn = std::min(mn, at(l));
          orr |= at(l);
          andd &= at(l);
          if (at(l) & 1u) ballot |= 1u << l;
          all = all && at(l) < 1000u;
          any7 = any7 || at(l) == 7u;
        }
        const std::uint32_t* o = &out[i * 16];
        INFO("thread " << i << " lane " << lane << " width " << w);
        CHECK(o[0] == sum);
        CHECK(o[1] == ex);
        CHECK(o[2] == ex + at(lane));
        CHECK(o[3] == mx);
        CHECK(o[4] == mn);
        CHECK(o[5] == orr);
        CHECK(o[6] == andd);
        const unsigned common = std::min(w, 16u);
        CHECK(o[7] == at((lane * 3u) % common));
        CHECK(o[8] == at(common - 1));
        CHECK(o[9] == (lane + 1 < lanes ? at(lane + 1) : at(lane)));
        CHECK(o[10] == (lane >= 2 ? at(lane - 2) : at(lane)));
        if (w <= 32) CHECK(o[11] == ballot);
        CHECK(o[12] == ((all ? 1u : 0u) | (any7 ? 2u : 0u) | (lane == 0 ? 4u : 0u)));
        const unsigned x = lane ^ 1u;
        const float fx = static_cast<float>(x < w ? at(x) : at(lane)) * 2.0f;
        std::uint32_t fbits;
        std::memcpy(&fbits, &fx, sizeof fbits);
        CHECK(o[13] == fbits);
        const std::uint32_t v = at(lane);
        const std::uint32_t hi = static_cast<std::uint32_t>((std::uint64_t{v * 0x10001u} * 0x80000001ull) >> 32);
        const std::uint32_t clz = v == 0 ? 32u : static_cast<std::uint32_t>(__builtin_clz(v));
        const std::uint32_t ctz = v == 0 ? 32u : static_cast<std::uint32_t>(__builtin_ctz(v));
        CHECK(o[14] == (hi ^ clz ^ (ctz << 8)));
        CHECK(o[15] == (sg | (((group + w - 1) / w) << 16)));
      }
  }
  leaks.verify();
}

TEST_CASE("metal shim: memory is poisoned (new buffers / threadgroup memory before every threadgroup)",
          "[metal][tsan]") {
  LeakCheck leaks;
  {
    Host h;
    auto fresh = h.buffer(64);
    for (std::uint32_t u : Host::read<std::uint32_t>(fresh.get())) CHECK(u == 0xFFFFFFFFu);

    auto pipe = h.pipeline("tg_poison");
    const unsigned group = 32, groups = 3;
    auto bout = h.buffer(group * groups * sizeof(std::uint32_t));
    h.run([&](MTL::ComputeCommandEncoder* e) {
      e->setComputePipelineState(pipe.get());
      e->setBuffer(bout.get(), 0, 0);
      e->setThreadgroupMemoryLength(group * sizeof(std::uint32_t), 0);
      e->dispatchThreadgroups(MTL::Size(groups, 1, 1), MTL::Size(group, 1, 1));
    });
    const auto out = Host::read<std::uint32_t>(bout.get());
    for (unsigned i = 0; i < group * groups; ++i) {
      INFO("thread " << i);
      CHECK(out[i] == (i < group ? i : 0xFFFFFFFFu));  // threadgroups 1, 2 read unwritten memory
    }
  }
  leaks.verify();
}

TEST_CASE("metal shim: dispatchThreads positions / partial threadgroups", "[metal]") {
  LeakCheck leaks;
  {
    Host h;
    auto pipe = h.pipeline("positions");
    const unsigned gx = 10, gy = 7, tx = 4, ty = 3;
    auto bout = h.buffer(gx * gy * 4 * sizeof(std::uint32_t));
    h.run([&](MTL::ComputeCommandEncoder* e) {
      e->setComputePipelineState(pipe.get());
      e->setBuffer(bout.get(), 0, 0);
      e->setBytes(&gx, sizeof gx, 1);
      e->dispatchThreads(MTL::Size(gx, gy, 1), MTL::Size(tx, ty, 1));
    });
    const auto out = Host::read<std::uint32_t>(bout.get());
    for (unsigned y = 0; y < gy; ++y)
      for (unsigned x = 0; x < gx; ++x) {
        const std::uint32_t* o = &out[(y * gx + x) * 4];
        const unsigned w = std::min(tx, gx - x / tx * tx), hgt = std::min(ty, gy - y / ty * ty);
        INFO("x " << x << " y " << y);
        CHECK(o[0] == w);
        CHECK(o[1] == hgt);
        CHECK(o[2] == gx * 1000 + gy);
        CHECK(o[3] == (y % ty) * w + x % tx);
      }
  }
  leaks.verify();
}

TEST_CASE("metal shim: atomics on device and threadgroup memory", "[metal][tsan]") {
  LeakCheck leaks;
  {
    Host h;
    auto pipe = h.pipeline("histogram");
    const unsigned group = 64, groups = 5, n = group * groups;
    std::vector<std::uint32_t> in(n);
    for (unsigned i = 0; i < n; ++i) in[i] = (i * 31u + 5u) % 53u;
    auto bin = h.buffer(in);
    auto bbins = h.buffer(std::vector<std::uint32_t>(19, 0));
    auto blow = h.buffer(std::vector<std::int32_t>{1000});
    h.run([&](MTL::ComputeCommandEncoder* e) {
      e->setComputePipelineState(pipe.get());
      e->setBuffer(bin.get(), 0, 0);
      e->setBuffer(bbins.get(), 0, 1);
      e->setBuffer(blow.get(), 0, 2);
      e->setThreadgroupMemoryLength(16 * sizeof(std::uint32_t), 0);
      e->dispatchThreadgroups(MTL::Size(groups, 1, 1), MTL::Size(group, 1, 1));
    });
    const auto bins = Host::read<std::uint32_t>(bbins.get());
    std::vector<std::uint32_t> total(8, 0), most(8, 0);
    for (unsigned g = 0; g < groups; ++g) {
      std::vector<std::uint32_t> local(8, 0);
      for (unsigned t = 0; t < group; ++t) ++local[in[g * group + t] % 8u];
      for (unsigned b = 0; b < 8; ++b) total[b] += local[b], most[b] = std::max(most[b], local[b]);
    }
    for (unsigned b = 0; b < 8; ++b) {
      CHECK(bins[b] == total[b]);
      CHECK(bins[8 + b] == most[b]);
    }
    CHECK(bins[16] == 0xFFu);
    CHECK(bins[17] == 42u);
    CHECK(bins[18] == *std::max_element(most.begin(), most.end()));
    CHECK(Host::read<std::int32_t>(blow.get())[0] ==
          static_cast<std::int32_t>(*std::min_element(in.begin(), in.end())) - 100);
  }
  leaks.verify();
}

TEST_CASE("metal shim: encoder order (serial in order / concurrent needs memoryBarrier)", "[metal][tsan]") {
  LeakCheck leaks;
  {
    Host h;
    auto p1 = h.pipeline("first"), p2 = h.pipeline("second");
    const unsigned n = 16;
    auto encode = [&](MTL::Buffer* data, MTL::Buffer* out, bool barrier) {
      return [=, &p1, &p2](MTL::ComputeCommandEncoder* e) {
        e->setComputePipelineState(p1.get());
        e->setBuffer(data, 0, 0);
        e->dispatchThreads(MTL::Size(n, 1, 1), MTL::Size(n, 1, 1));
        if (barrier) e->memoryBarrier(MTL::BarrierScopeBuffers);
        e->setComputePipelineState(p2.get());
        e->setBuffer(out, 0, 1);
        e->dispatchThreads(MTL::Size(n, 1, 1), MTL::Size(n, 1, 1));
      };
    };
    std::vector<std::uint32_t> expect(n);
    for (unsigned i = 0; i < n; ++i) expect[i] = (i + 1) * 2;
    {
      auto data = h.buffer(n * 4), out = h.buffer(n * 4);
      h.run(encode(data.get(), out.get(), false));
      CHECK(Host::read<std::uint32_t>(out.get()) == expect);
    }
    {
      auto data = h.buffer(n * 4), out = h.buffer(n * 4);
      h.run(encode(data.get(), out.get(), true), MTL::DispatchTypeConcurrent);
      CHECK(Host::read<std::uint32_t>(out.get()) == expect);
    }
    {
      auto data = h.buffer(n * 4), out = h.buffer(n * 4);
      h.run(encode(data.get(), out.get(), false), MTL::DispatchTypeConcurrent);
      // No barrier: `second` ran first and read poison.
      CHECK(Host::read<std::uint32_t>(out.get()) == std::vector<std::uint32_t>(n, 0xFFFFFFFFu * 2u));
    }
  }
  leaks.verify();
}

TEST_CASE("metal shim: command buffers run asynchronously / with handlers / status and injected failure", "[metal][tsan]") {
  LeakCheck leaks;
  {
    Host h;
    auto p1 = h.pipeline("first");
    const unsigned n = 256;
    auto data = h.buffer(n * 4);
    NS::AutoreleasePool* pool = NS::AutoreleasePool::alloc()->init();
    std::atomic<int> handled{0};
    MTL::CommandBuffer* cb = h.queue->commandBuffer();
    CHECK(cb->status() == MTL::CommandBufferStatusNotEnqueued);
    MTL::ComputeCommandEncoder* e = cb->computeCommandEncoder();
    e->setComputePipelineState(p1.get());
    e->setBuffer(data.get(), 0, 0);
    e->dispatchThreadgroups(MTL::Size(4, 1, 1), MTL::Size(64, 1, 1));
    e->endEncoding();
    std::atomic<int> handled_status{-1};
    cb->addCompletedHandler([&](MTL::CommandBuffer* done) {  // on the GPU thread: no Catch macros
      handled_status = static_cast<int>(done->status());
      ++handled;
    });
    cb->commit();
    CHECK(cb->status() >= MTL::CommandBufferStatusCommitted);
    CHECK_THROWS_AS(cb->commit(), ValidationError);
    cb->waitUntilCompleted();
    CHECK(cb->status() == MTL::CommandBufferStatusCompleted);
    CHECK(handled == 1);
    CHECK(handled_status == MTL::CommandBufferStatusCompleted);
    CHECK(cb->error() == nullptr);
    const auto v = Host::read<std::uint32_t>(data.get());
    for (unsigned i = 0; i < n; ++i) CHECK(v[i] == i + 1);

    facepost_metal_fake::fail_next_command_buffers(1);
    MTL::CommandBuffer* bad = h.queue->commandBuffer();
    bad->commit();
    bad->waitUntilCompleted();
    CHECK(bad->status() == MTL::CommandBufferStatusError);
    REQUIRE(bad->error() != nullptr);
    CHECK(bad->error()->code() == MTL::CommandBufferErrorInternal);
    pool->release();
  }
  leaks.verify();
}

TEST_CASE("metal shim: Metal's validation errors fail loudly", "[metal]") {
  LeakCheck leaks;
  {
    Host h;
    auto reduce = h.pipeline("reduce_sum");
    auto in = h.buffer(1024 * 4), part = h.buffer(64);
    const std::uint32_t params[2] = {16, 1};
    NS::AutoreleasePool* pool = NS::AutoreleasePool::alloc()->init();
    auto message = [&](auto&& f) -> std::string {
      MTL::CommandBuffer* cb = h.queue->commandBuffer();
      MTL::ComputeCommandEncoder* e = cb->computeCommandEncoder();
      std::string what;
      try {
        f(e);
      } catch (const ValidationError& x) {
        what = x.what();
      }
      return what;
    };
    auto bind_all = [&](MTL::ComputeCommandEncoder* e) {
      e->setComputePipelineState(reduce.get());
      e->setBuffer(in.get(), 0, 0);
      e->setBuffer(part.get(), 0, 1);
      e->setBytes(params, sizeof params, 2);
      e->setThreadgroupMemoryLength(256, 0);
    };
    CHECK_THAT(message([&](MTL::ComputeCommandEncoder* e) {
                 bind_all(e);
                 e->dispatchThreadgroups(MTL::Size(1, 1, 1), MTL::Size(1025, 1, 1));
               }),
               Catch::Contains("threads per threadgroup"));
    CHECK_THAT(message([&](MTL::ComputeCommandEncoder* e) {
                 bind_all(e);
                 e->setThreadgroupMemoryLength(32768, 1);
                 e->dispatchThreadgroups(MTL::Size(1, 1, 1), MTL::Size(64, 1, 1));
               }),
               Catch::Contains("more than 32 KiB"));
    CHECK_THAT(message([&](MTL::ComputeCommandEncoder* e) { e->setThreadgroupMemoryLength(100, 0); }),
               Catch::Contains("multiple of 16"));
    CHECK_THAT(message([&](MTL::ComputeCommandEncoder* e) {
                 e->dispatchThreadgroups(MTL::Size(1, 1, 1), MTL::Size(64, 1, 1));
               }),
               Catch::Contains("without a pipeline"));
    CHECK_THAT(message([&](MTL::ComputeCommandEncoder* e) {
                 e->endEncoding();
                 e->setBuffer(in.get(), 0, 0);
               }),
               Catch::Contains("after endEncoding"));
    CHECK_THAT(message([&](MTL::ComputeCommandEncoder* e) {
                 bind_all(e);
                 e->setBuffer(nullptr, 0, 1);
                 e->dispatchThreadgroups(MTL::Size(1, 1, 1), MTL::Size(64, 1, 1));
               }),
               Catch::Contains("kernel reduce_sum: buffer index 1 (parameter partial) is not bound"));
    CHECK_THAT(message([&](MTL::ComputeCommandEncoder* e) {
                 bind_all(e);
                 e->setBytes(params, 4, 2);
                 e->dispatchThreadgroups(MTL::Size(1, 1, 1), MTL::Size(64, 1, 1));
               }),
               Catch::Contains("buffer index 2 (parameter p) holds 4 bytes, less than its type"));
    CHECK_THAT(message([&](MTL::ComputeCommandEncoder* e) {
                 e->setComputePipelineState(reduce.get());
                 e->setBuffer(in.get(), 0, 0);
                 e->setBuffer(part.get(), 0, 1);
                 e->setBytes(params, sizeof params, 2);
                 e->dispatchThreadgroups(MTL::Size(1, 1, 1), MTL::Size(64, 1, 1));
               }),
               Catch::Contains("threadgroup memory index 0 (parameter scratch) is not bound"));
    CHECK_THAT(message([&](MTL::ComputeCommandEncoder* e) {
                 std::vector<char> big(5000);
                 e->setBytes(big.data(), big.size(), 3);
               }),
               Catch::Contains("4 KiB"));
    CHECK_THAT(message([&](MTL::ComputeCommandEncoder*) { h.queue->commandBuffer()->waitUntilCompleted(); }),
               Catch::Contains("not committed"));
    pool->release();
  }
  leaks.verify();
}

TEST_CASE("metal shim: reference counting errors are reported", "[metal]") {
  const long errors = facepost_metal_fake::refcount_errors();
  const long live = facepost_metal_fake::live_objects();
  MTL::Device* d = MTL::CreateSystemDefaultDevice();
  MTL::Buffer* b = d->newBuffer(16, MTL::ResourceStorageModeShared);
  CHECK(facepost_metal_fake::live_objects() == live + 3);  // device, its name, the buffer
  CHECK(b->retainCount() == 1);
  b->release();
  b->release();  // over-release: reported, not a crash
  CHECK(facepost_metal_fake::refcount_errors() == errors + 1);
  CHECK(facepost_metal_fake::live_report().find("MTL::Device") != std::string::npos);  // a leak, until:
  d->release();
  CHECK(facepost_metal_fake::live_objects() == live);
  const long unpooled = facepost_metal_fake::unpooled_autoreleases();
  NS::String::string("no pool", NS::UTF8StringEncoding);  // leaks, and is counted
  CHECK(facepost_metal_fake::unpooled_autoreleases() == unpooled + 1);
}
