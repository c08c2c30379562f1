// fuzz_npy: facepost::io::parse_npy on arbitrary bytes.
//
// Invariants: parse_npy returns (never throws past a bad_alloc the size checks rule out); a
// failure carries io_error or size_overflow and a message; a success has non-negative dims whose
// product is data.size(), and serialize_npy -> parse_npy gives back the same shape and bits.
// With NpyTypes::low_precision: a float32 file parses as before; a float16, int8 or uint8 one
// holds product x element-size bytes, and the float32-only parse refused it.
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "facepost/io/npy.hpp"
#include "fuzz_check.hpp"

namespace {

void check_low_precision(const std::uint8_t* data, std::size_t size, const facepost::Status& plain,
                         const facepost::io::NpyArray& a) {
  facepost::io::NpyArray l;
  const facepost::Status s = facepost::io::parse_npy(data, size, l, "fuzz.npy", facepost::io::NpyTypes::low_precision);
  if (plain.ok()) {
    FUZZ_CHECK(s.ok(), "a float32 file fails with low_precision: %s", s.message());
    FUZZ_CHECK(l.type == facepost::ElementType::float32 && l.shape == a.shape && l.data.size() == a.data.size() &&
                   (a.data.empty() || std::memcmp(l.data.data(), a.data.data(), 4 * a.data.size()) == 0),
               "low_precision reads a float32 file differently");
    return;
  }
  if (!s.ok()) {
    FUZZ_CHECK(l.shape.empty() && l.data.empty() && l.raw.empty(), "a failed parse left data behind");
    return;
  }
  FUZZ_CHECK(l.type != facepost::ElementType::float32, "float32 parsed only with low_precision: %s", plain.message());
  FUZZ_CHECK(std::string(plain.message()).find("is not float32") != std::string::npos, "float32-only refusal: %s",
             plain.message());
  std::uint64_t product = 1;
  for (std::int64_t d : l.shape) product *= std::uint64_t(d);
  FUZZ_CHECK(l.data.empty() && l.raw.size() == product * facepost::element_size(l.type) && l.size() == product,
             "%zu bytes for %llu %s elements", l.raw.size(), static_cast<unsigned long long>(product),
             facepost::element_type_name(l.type));
  FUZZ_CHECK(l.raw.size() <= size - 10, "%zu bytes from a %zu-byte file", l.raw.size(), size);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using facepost::Errc;
  facepost::io::NpyArray a;
  const facepost::Status s = facepost::io::parse_npy(data, size, a, "fuzz.npy");
  check_low_precision(data, size, s, a);
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
