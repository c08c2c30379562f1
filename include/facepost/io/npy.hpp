// facepost/io/npy.hpp - read and write float32 .npy files (NumPy format versions 1, 2 and 3).
//
// Not part of the post-processing core (facepost.hpp does not include it): the CLI, tests and
// benchmarks use it. Reads little- and big-endian float32 in C or Fortran order, always
// returning C order, and on request float16, int8 and uint8 (the low-precision heads); anything
// else is refused with a message that says why.
#pragma once

#include <cstdint>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "facepost/elements.hpp"
#include "facepost/error.hpp"
#include "facepost/isa.hpp"

namespace facepost {
FACEPOST_ABI_BEGIN
namespace io {

/// An array in C (row-major) order: float32 elements in `data`, float16 (binary16 bits), int8
/// or uint8 ones in `raw` (host byte order).
struct NpyArray {
  std::vector<std::int64_t> shape;
  std::vector<float> data;
  ElementType type = ElementType::float32;
  std::vector<unsigned char> raw;
  std::size_t size() const noexcept { return type == ElementType::float32 ? data.size() : raw.size() / element_size(type); }
  /// The first element, whatever the type.
  const void* elements() const noexcept {
    return type == ElementType::float32 ? static_cast<const void*>(data.data()) : raw.data();
  }
};

/// Which element types parse_npy / read_npy accept.
enum class NpyTypes { float32_only, low_precision };

namespace detail {

inline bool host_is_little_endian() noexcept {
  const std::uint16_t one = 1;
  unsigned char b;
  std::memcpy(&b, &one, 1);
  return b == 1;
}

inline std::string trim(const std::string& s) {
  std::size_t a = s.find_first_not_of(" \t\n\r"), b = s.find_last_not_of(" \t\n\r");
  return a == std::string::npos ? std::string() : s.substr(a, b - a + 1);
}

/// Finds the value text of 'key' in the header dict ("{'descr': '<f4', ...}").
inline bool dict_value(const std::string& header, const std::string& key, std::string& value) {
  const std::string k1 = "'" + key + "'", k2 = "\"" + key + "\"";
  std::size_t p = header.find(k1);
  std::size_t klen = k1.size();
  if (p == std::string::npos) {
    p = header.find(k2);
    klen = k2.size();
  }
  if (p == std::string::npos) return false;
  p = header.find(':', p + klen);
  if (p == std::string::npos) return false;
  ++p;
  while (p < header.size() && header[p] == ' ') ++p;
  if (p >= header.size()) return false;
  std::size_t end;
  if (header[p] == '(') {
    end = header.find(')', p);
    if (end == std::string::npos) return false;
    ++end;
  } else if (header[p] == '\'' || header[p] == '"') {
    end = header.find(header[p], p + 1);
    if (end == std::string::npos) return false;
    ++end;
  } else {
    end = header.find_first_of(",}", p);
    if (end == std::string::npos) return false;
  }
  value = trim(header.substr(p, end - p));
  return true;
}

}  // namespace detail

/// Parses a .npy file held in memory. Refuses: bad magic, unknown version, truncated data,
/// dtypes other than float32 (and float16, int8, uint8 with NpyTypes::low_precision), malformed
/// shapes, element counts that overflow.
inline Status parse_npy(const unsigned char* bytes, std::size_t size, NpyArray& out, const char* name = "npy",
                        NpyTypes types = NpyTypes::float32_only) {
  out = NpyArray{};
  static const unsigned char magic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
  if (size < 10 || std::memcmp(bytes, magic, 6) != 0)
    return Status::failure(Errc::io_error, "%s: not a .npy file (bad magic)", name);
  const unsigned major = bytes[6];
  std::size_t header_len, offset;
  if (major == 1) {
    header_len = std::size_t(bytes[8]) | (std::size_t(bytes[9]) << 8);
    offset = 10;
  } else if (major == 2 || major == 3) {
    if (size < 12) return Status::failure(Errc::io_error, "%s: truncated .npy header", name);
    header_len = std::size_t(bytes[8]) | (std::size_t(bytes[9]) << 8) | (std::size_t(bytes[10]) << 16) |
                 (std::size_t(bytes[11]) << 24);
    offset = 12;
  } else {
    return Status::failure(Errc::io_error, "%s: unsupported .npy version %u", name, major);
  }
  if (header_len > size - offset) return Status::failure(Errc::io_error, "%s: truncated .npy header", name);
  const std::string header(reinterpret_cast<const char*>(bytes + offset), header_len);
  std::string descr, fortran, shape_text;
  if (!detail::dict_value(header, "descr", descr) || !detail::dict_value(header, "fortran_order", fortran) ||
      !detail::dict_value(header, "shape", shape_text))
    return Status::failure(Errc::io_error, "%s: malformed .npy header", name);
  if (descr.size() < 2) return Status::failure(Errc::io_error, "%s: malformed dtype", name);
  descr = descr.substr(1, descr.size() - 2);  // strip quotes
  if (descr.empty()) return Status::failure(Errc::io_error, "%s: malformed dtype", name);
  // descr: a byte-order character ('<' '>' '=' '|') or none, then the kind and size.
  const char order = (descr[0] == '<' || descr[0] == '>' || descr[0] == '=' || descr[0] == '|') ? descr[0] : '=';
  const std::string kind = order == descr[0] ? descr.substr(1) : descr;
  ElementType type;
  if (kind == "f4") type = ElementType::float32;
  else if (kind == "f2") type = ElementType::float16;
  else if (kind == "i1") type = ElementType::int8;
  else if (kind == "u1") type = ElementType::uint8;
  else if (types == NpyTypes::low_precision)
    return Status::failure(Errc::io_error,
                           "%s: dtype '%s' is not float32, float16, int8 or uint8 (save with .astype(np.float32); "
                           "float64 is not narrowed silently)",
                           name, descr.c_str());
  else
    return Status::failure(Errc::io_error, "%s: dtype '%s' is not float32 (save with .astype(np.float32))", name,
                           descr.c_str());
  if (type != ElementType::float32 && types != NpyTypes::low_precision)
    return Status::failure(Errc::io_error, "%s: dtype '%s' is not float32 (save with .astype(np.float32))", name,
                           descr.c_str());
  const std::size_t es = element_size(type);
  if (es > 1 && order == '|')
    return Status::failure(Errc::io_error, "%s: malformed dtype '%s'", name, descr.c_str());
  const bool big_endian = order == '>' || (order == '=' && !detail::host_is_little_endian());
  bool fortran_order;
  if (fortran == "False") fortran_order = false;
  else if (fortran == "True") fortran_order = true;
  else return Status::failure(Errc::io_error, "%s: malformed fortran_order '%s'", name, fortran.c_str());

  // shape: "(a, b, c)" or "(a,)" or "()"
  if (shape_text.size() < 2 || shape_text.front() != '(' || shape_text.back() != ')')
    return Status::failure(Errc::io_error, "%s: malformed shape", name);
  std::vector<std::int64_t> shape;
  std::uint64_t count = 1;
  const std::string inner = shape_text.substr(1, shape_text.size() - 2);
  std::size_t p = 0;
  while (p < inner.size()) {
    while (p < inner.size() && (inner[p] == ' ' || inner[p] == ',')) ++p;
    if (p >= inner.size()) break;
    if (inner[p] < '0' || inner[p] > '9') return Status::failure(Errc::io_error, "%s: malformed shape", name);
    std::uint64_t v = 0;
    while (p < inner.size() && inner[p] >= '0' && inner[p] <= '9') {
      v = v * 10 + std::uint64_t(inner[p] - '0');
      if (v > (std::uint64_t(1) << 40)) return Status::failure(Errc::size_overflow, "%s: dimension too large", name);
      ++p;
    }
    if (p < inner.size() && inner[p] == 'L') ++p;  // Python 2 long suffix
    if (p < inner.size() && inner[p] != ',' && inner[p] != ' ')
      return Status::failure(Errc::io_error, "%s: malformed shape", name);
    if (shape.size() >= 32) return Status::failure(Errc::io_error, "%s: too many dimensions", name);
    shape.push_back(std::int64_t(v));
    if (v != 0 && count > (std::uint64_t(1) << 40) / v)
      return Status::failure(Errc::size_overflow, "%s: element count overflows", name);
    count *= v;
  }
  const std::size_t data_offset = offset + header_len;
  const std::uint64_t bytes_needed = count * es;
  if (bytes_needed > size - data_offset)
    return Status::failure(Errc::io_error, "%s: truncated data (%llu bytes expected, %zu present)", name,
                           static_cast<unsigned long long>(bytes_needed), size - data_offset);
  out.shape = shape;
  out.type = type;
  std::vector<unsigned char> elems(static_cast<std::size_t>(bytes_needed));
  if (count != 0)  // an empty vector's data() may be null, and memcpy from/to null is UB
    std::memcpy(elems.data(), bytes + data_offset, std::size_t(bytes_needed));
  if (es > 1 && big_endian == detail::host_is_little_endian())
    for (std::size_t i = 0; i < elems.size(); i += es)
      for (std::size_t a = 0, b = es - 1; a < b; ++a, --b) std::swap(elems[i + a], elems[i + b]);
  if (fortran_order && shape.size() > 1) {
    // Transpose to C order: element (i0..ik) lives at sum(i_d * fstride_d), fstride_0 = 1.
    std::vector<unsigned char> c(elems.size());
    const std::size_t rank = shape.size();
    std::vector<std::size_t> idx(rank, 0), fstride(rank, 1);
    for (std::size_t d = 1; d < rank; ++d) fstride[d] = fstride[d - 1] * std::size_t(shape[d - 1]);
    for (std::size_t lin = 0; lin < std::size_t(count); ++lin) {
      std::size_t src = 0;
      for (std::size_t d = 0; d < rank; ++d) src += idx[d] * fstride[d];
      std::memcpy(c.data() + lin * es, elems.data() + src * es, es);
      for (std::size_t d = rank; d-- > 0;) {  // advance the C-order index
        if (++idx[d] < std::size_t(shape[d])) break;
        idx[d] = 0;
      }
    }
    elems.swap(c);
  }
  if (type == ElementType::float32) {
    out.data.resize(std::size_t(count));
    if (count != 0) std::memcpy(out.data.data(), elems.data(), elems.size());
  } else {
    out.raw.swap(elems);
  }
  return Status{};
}

/// Reads a float32 .npy file (and float16, int8, uint8 ones with NpyTypes::low_precision).
inline Status read_npy(const std::string& path, NpyArray& out, NpyTypes types = NpyTypes::float32_only) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return Status::failure(Errc::io_error, "%s: cannot open file", path.c_str());
  std::vector<unsigned char> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (f.bad()) return Status::failure(Errc::io_error, "%s: read error", path.c_str());
  return parse_npy(bytes.data(), bytes.size(), out, path.c_str(), types);
}

/// Serialises a C-order float32 array as .npy version 1.0 (little-endian).
inline std::vector<unsigned char> serialize_npy(const float* data, const std::vector<std::int64_t>& shape) {
  std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (";
  std::size_t count = 1;
  for (std::size_t d = 0; d < shape.size(); ++d) {
    dict += std::to_string(shape[d]);
    if (shape.size() == 1 || d + 1 < shape.size()) dict += ",";
    if (d + 1 < shape.size()) dict += " ";
    count *= std::size_t(shape[d]);
  }
  dict += "), }";
  std::size_t total = 10 + dict.size() + 1;
  dict.append((64 - total % 64) % 64, ' ');
  dict += '\n';
  std::vector<unsigned char> out = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};
  out.push_back(static_cast<unsigned char>(dict.size() & 0xff));
  out.push_back(static_cast<unsigned char>(dict.size() >> 8));
  out.insert(out.end(), dict.begin(), dict.end());
  const std::size_t at = out.size();
  out.resize(at + 4 * count);
  if (count) std::memcpy(out.data() + at, data, 4 * count);
  if (!detail::host_is_little_endian())
    for (std::size_t i = 0; i < count; ++i) std::swap(out[at + 4 * i], out[at + 4 * i + 3]), std::swap(out[at + 4 * i + 1], out[at + 4 * i + 2]);
  return out;
}

/// Writes a C-order float32 array as .npy.
inline Status write_npy(const std::string& path, const float* data, const std::vector<std::int64_t>& shape) {
  const std::vector<unsigned char> bytes = serialize_npy(data, shape);
  std::ofstream f(path, std::ios::binary);
  if (!f) return Status::failure(Errc::io_error, "%s: cannot open for writing", path.c_str());
  f.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
  if (!f) return Status::failure(Errc::io_error, "%s: write error", path.c_str());
  return Status{};
}

}  // namespace io
FACEPOST_ABI_END
}  // namespace facepost
