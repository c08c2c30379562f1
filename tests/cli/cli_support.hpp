// tests/cli/cli_support.hpp - what the CLI tests need around the built tool: a scratch folder,
// running the tool as a child process (no shell), a byte-level .npy writer for layouts
// facepost's own writer never produces, and readers for the tool's JSON line and meta.json.
#pragma once

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <regex>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/low_precision.hpp"

extern char** environ;

#ifndef FACEPOST_CLI_PATH
#error "FACEPOST_CLI_PATH must name the built facepost executable"
#endif

namespace cli_test {

/// A fresh folder under the system temp dir, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "facepost-cli-XXXXXX").string();
    std::vector<char> buf(pattern.begin(), pattern.end());
    buf.push_back('\0');
    if (!::mkdtemp(buf.data())) throw std::runtime_error("mkdtemp failed for " + pattern);
    path_ = buf.data();
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

inline std::string read_text(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

struct RunResult {
  int exit_code = -1;   ///< the tool's exit status; -1 if it did not exit normally
  int signal = 0;       ///< the signal that killed it, if any
  std::string out, err;
};

/// Runs the built tool with `args` (no shell, so no quoting issues), stdin from /dev/null,
/// stdout and stderr captured through files in `scratch`.
inline RunResult run_cli(const std::vector<std::string>& args, const TempDir& scratch) {
  static int counter = 0;
  const std::string out_path = scratch.file("stdout" + std::to_string(counter));
  const std::string err_path = scratch.file("stderr" + std::to_string(counter++));
  std::vector<std::string> argv_text = {FACEPOST_CLI_PATH};
  argv_text.insert(argv_text.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : argv_text) argv.push_back(a.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = 0;
  const int spawn_error = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawn_error != 0)
    throw std::runtime_error(std::string("cannot start ") + FACEPOST_CLI_PATH + ": " + std::strerror(spawn_error));
  int status = 0;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) throw std::runtime_error("waitpid failed");
  RunResult r;
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
  r.out = read_text(out_path);
  r.err = read_text(err_path);
  return r;
}

/// How a test .npy file is laid out on disk.
struct NpyLayout {
  bool big_endian = false;
  bool fortran_order = false;
  const char* dtype = "f4";  ///< f4, f8, f2, i4, i1 or u1: values are converted to it (f2: rounded to nearest even)
  int version = 1;           ///< 1 (16-bit header length) or 2 (32-bit)
};

/// Writes `values` (C order, shape `shape`) as a .npy file with the given layout, byte by byte.
inline void write_npy_file(const std::string& path, const std::vector<std::int64_t>& shape,
                           const std::vector<double>& values, const NpyLayout& layout) {
  std::string dict = std::string("{'descr': '") + (layout.big_endian ? ">" : "<") + layout.dtype +
                     "', 'fortran_order': " + (layout.fortran_order ? "True" : "False") + ", 'shape': (";
  for (std::size_t d = 0; d < shape.size(); ++d)
    dict += std::to_string(shape[d]) + (shape.size() == 1 ? "," : d + 1 < shape.size() ? ", " : "");
  dict += "), }";
  const std::size_t prefix = layout.version == 1 ? 10 : 12;
  dict.append((64 - (prefix + dict.size() + 1) % 64) % 64, ' ');
  dict += '\n';

  std::vector<unsigned char> bytes = {0x93, 'N', 'U', 'M', 'P', 'Y', static_cast<unsigned char>(layout.version), 0};
  const std::size_t len = dict.size();
  for (std::size_t b = 0; b < prefix - 8; ++b) bytes.push_back(static_cast<unsigned char>(len >> (8 * b)));
  bytes.insert(bytes.end(), dict.begin(), dict.end());

  // Element order on disk: C order, or Fortran order (first index fastest).
  std::size_t count = 1;
  for (std::int64_t d : shape) count *= std::size_t(d);
  if (values.size() != count) throw std::runtime_error("write_npy_file: value count does not match the shape");
  std::vector<std::size_t> order(count);
  const std::size_t rank = shape.size();
  std::vector<std::size_t> c_stride(rank, 1), f_stride(rank, 1);
  for (std::size_t d = rank; d-- > 1;) c_stride[d - 1] = c_stride[d] * std::size_t(shape[d]);
  for (std::size_t d = 1; d < rank; ++d) f_stride[d] = f_stride[d - 1] * std::size_t(shape[d - 1]);
  for (std::size_t lin = 0; lin < count; ++lin) {
    std::size_t dest = lin;
    if (layout.fortran_order) {
      dest = 0;
      for (std::size_t d = 0; d < rank; ++d) dest += (lin / c_stride[d]) % std::size_t(shape[d]) * f_stride[d];
    }
    order[dest] = lin;
  }
  const std::string dtype = layout.dtype;
  const std::size_t width = dtype == "f8" ? 8 : dtype == "f2" ? 2 : (dtype == "i1" || dtype == "u1") ? 1 : 4;
  const std::uint16_t one = 1;
  unsigned char first_byte = 0;
  std::memcpy(&first_byte, &one, 1);
  const bool reverse = layout.big_endian == (first_byte == 1);  // file order differs from the host's
  for (std::size_t pos = 0; pos < count; ++pos) {
    const double v = values[order[pos]];
    unsigned char raw[8];
    if (dtype == "f8") {
      std::memcpy(raw, &v, 8);
    } else if (dtype == "i4") {
      const std::int32_t i = static_cast<std::int32_t>(v);
      std::memcpy(raw, &i, 4);
    } else if (dtype == "f2") {
      const std::uint16_t h = lowp::to_f16(static_cast<float>(v));
      std::memcpy(raw, &h, 2);
    } else if (dtype == "i1" || dtype == "u1") {
      raw[0] = static_cast<unsigned char>(static_cast<int>(v));
    } else {
      const float f = static_cast<float>(v);
      std::memcpy(raw, &f, 4);
    }
    for (std::size_t b = 0; b < width; ++b) bytes.push_back(raw[reverse ? width - 1 - b : b]);
  }
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
  if (!f) throw std::runtime_error("cannot write " + path);
}

/// The tool's stdout JSON line, parsed strictly (keys, order, one line, nothing else).
struct Summary {
  bool valid = false;
  std::uint64_t priors = 0, candidates = 0, detections = 0;
  double median_us = -1, min_us = -1;
};

inline Summary parse_summary(const std::string& out) {
  static const std::regex line(
      R"(^\{"priors":(\d+),"candidates":(\d+),"detections":(\d+),"median_us":(\d+(?:\.\d+)?),"min_us":(\d+(?:\.\d+)?)\}\n$)");
  std::smatch m;
  Summary s;
  if (!std::regex_match(out, m, line)) return s;
  s.valid = true;
  s.priors = std::stoull(m[1]);
  s.candidates = std::stoull(m[2]);
  s.detections = std::stoull(m[3]);
  s.median_us = std::stod(m[4]);
  s.min_us = std::stod(m[5]);
  return s;
}

/// An integer in meta.json found by walking `keys` in order ("golden", set name, field); -1 if
/// absent. meta.json is flat enough that the first match after each key is the right one.
inline long long meta_integer(const std::string& meta, const std::vector<std::string>& keys) {
  std::size_t at = 0;
  for (const std::string& k : keys) {
    at = meta.find("\"" + k + "\"", at);
    if (at == std::string::npos) return -1;
    at += k.size() + 2;
  }
  at = meta.find(':', at);
  if (at == std::string::npos) return -1;
  ++at;
  while (at < meta.size() && (meta[at] == ' ' || meta[at] == '\n')) ++at;
  std::size_t end = at;
  while (end < meta.size() && meta[end] >= '0' && meta[end] <= '9') ++end;
  if (end == at) return -1;
  return std::stoll(meta.substr(at, end - at));
}

/// True when `err` is exactly one line "facepost: ...".
inline bool one_error_line(const std::string& err) {
  return err.rfind("facepost: ", 0) == 0 && err.size() > 11 && err.back() == '\n' &&
         err.find('\n') == err.size() - 1;
}

}  // namespace cli_test
