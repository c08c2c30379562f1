// fuzz_npy: facepost::io::parse_npy on arbitrary bytes.
//
// Invariants: parse_npy returns (never throws past a bad_alloc the size checks rule out); a
// failure carries io_error or size_overflow and a message; a success has non-negative dims whose
// product is data.size(), and serialize_npy -> parse_npy gives back the same shape and bits.
#include <cstdint>
#include <vector>

#include "facepost/io/npy.hpp"
#include "fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using facepost::Errc;
  facepost::io::NpyArray a;
  const facepost::Status s = facepost::io::parse_npy(data, size, a, "fuzz.npy");
  if (!s.ok()) {
    FUZZ_CHECK(s.code() == Errc::io_error || s.code() == Errc::size_overflow, "code %s: %s",
               facepost::errc_name(s.code()), s.message());
    FUZZ_CHECK(s.message()[0] != '\0', "failure without a message");
    FUZZ_CHECK(a.shape.empty() && a.data.empty(), "a failed parse left data behind");
    return 0;
  }
  std::uint64_t product = 1;
  for (std::int64_t d : a.shape) {
    FUZZ_CHECK(d >= 0, "negative dimension %lld", static_cast<long long>(d));
    product *= std::uint64_t(d);
  }
  FUZZ_CHECK(product == a.data.size(), "shape product %llu != %zu elements",
             static_cast<unsigned long long>(product), a.data.size());
  // What was read must leave room for it: 4 bytes per element, after at least a 10-byte preamble.
  FUZZ_CHECK(a.data.size() <= (size - 10) / 4, "%zu elements from a %zu-byte file", a.data.size(), size);

  const std::vector<unsigned char> bytes = facepost::io::serialize_npy(a.data.data(), a.shape);
  facepost::io::NpyArray b;
  const facepost::Status again = facepost::io::parse_npy(bytes.data(), bytes.size(), b, "round-trip");
  FUZZ_CHECK(again.ok(), "re-parse of the serialised array failed: %s", again.message());
  FUZZ_CHECK(b.shape == a.shape, "round-trip changed the rank %zu -> %zu (or a dimension)", a.shape.size(),
             b.shape.size());
  FUZZ_CHECK(b.data.size() == a.data.size(), "round-trip changed the element count");
  for (std::size_t i = 0; i < a.data.size(); ++i)
    FUZZ_CHECK(fuzz::same_bits(a.data[i], b.data[i]), "element %zu changed in the round trip", i);
  // serialize_npy pads the header so the data starts on a 64-byte boundary, as NumPy does.
  FUZZ_CHECK((bytes.size() - 4 * a.data.size()) % 64 == 0, "header of %zu bytes is not 64-aligned",
             bytes.size() - 4 * a.data.size());
  return 0;
}
