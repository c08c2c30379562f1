// tests/fuzz/fuzz_check.hpp - what the fuzzers share: an invariant check that aborts (so
// libFuzzer records the input) and a reader that turns the fuzz bytes into values.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

/// Aborts with the failed condition and a note when an invariant does not hold.
#define FUZZ_CHECK(cond, ...)                                                            \
  do {                                                                                   \
    if (!(cond)) {                                                                       \
      std::fprintf(stderr, "%s:%d: invariant failed: %s\n  ", __FILE__, __LINE__, #cond); \
      std::fprintf(stderr, __VA_ARGS__);                                                 \
      std::fprintf(stderr, "\n");                                                        \
      std::abort();                                                                      \
    }                                                                                    \
  } while (0)

namespace fuzz {

/// Reads fixed-size values from the front of the fuzz input; past the end it yields zeros, so
/// every input, however short, decodes to something.
class ByteReader {
 public:
  ByteReader(const std::uint8_t* data, std::size_t size) noexcept : data_(data), size_(size) {}

  std::uint8_t u8() noexcept { return pos_ < size_ ? data_[pos_++] : 0; }
  std::uint16_t u16() noexcept { return std::uint16_t(u8() | (unsigned(u8()) << 8)); }
  std::uint32_t u32() noexcept { return u16() | (std::uint32_t(u16()) << 16); }
  std::int32_t i32() noexcept {
    const std::uint32_t u = u32();
    std::int32_t i;
    std::memcpy(&i, &u, 4);
    return i;
  }
  float f32() noexcept {
    const std::uint32_t u = u32();
    float f;
    std::memcpy(&f, &u, 4);
    return f;
  }
  double f64() noexcept {
    const std::uint64_t u = u32() | (std::uint64_t(u32()) << 32);
    double d;
    std::memcpy(&d, &u, 8);
    return d;
  }
  /// The bytes not read yet.
  const std::uint8_t* rest() const noexcept { return data_ + pos_; }
  std::size_t rest_size() const noexcept { return size_ - (pos_ < size_ ? pos_ : size_); }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
};

/// True when two floats have the same bits (NaN payloads included).
inline bool same_bits(float a, float b) noexcept { return std::memcmp(&a, &b, 4) == 0; }

}  // namespace fuzz
