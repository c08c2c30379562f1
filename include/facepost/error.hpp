// facepost/error.hpp - error codes, Status (no-throw path) and Error (exception).
#pragma once

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <stdexcept>
#include <string>

#include "facepost/isa.hpp"

// 1 unless the translation unit is built without exceptions (-fno-exceptions, /EHs-c-): then the
// throwing calls abort with their message, and the no-throw (try_*) API is the one to use.
#if !defined(FACEPOST_EXCEPTIONS)
#if defined(__cpp_exceptions) || defined(__EXCEPTIONS) || defined(_CPPUNWIND)
#define FACEPOST_EXCEPTIONS 1
#else
#define FACEPOST_EXCEPTIONS 0
#endif
#endif

namespace facepost {

/// What went wrong. Every rejected input maps to exactly one code.
enum class Errc {
  ok = 0,
  prior_count_mismatch,  ///< tensors have a row count that differs from the priors of the input size
  row_mismatch,          ///< loc, conf and landms disagree on the number of rows
  empty_tensor,          ///< a tensor has no rows (or a null data pointer)
  bad_shape,             ///< wrong rank or wrong number of columns
  bad_size,              ///< input or image size is zero, negative or absurd
  size_overflow,         ///< the prior count (or a buffer size) would overflow
  bad_threshold,         ///< a threshold is NaN or outside [0, 1]
  bad_anchor_config,     ///< no levels, a level without min sizes, a step or min size <= 0
  bad_variance,          ///< a variance that is not finite and positive
  bad_mapping,           ///< a mapping scale that is not finite and positive, or a non-finite pad
  bad_argument,          ///< any other invalid argument (CLI and file parsing)
  io_error,              ///< a file could not be read or written, or is malformed
  device_error,          ///< a CUDA call failed (the message names the call and the CUDA error)
  bad_landmarks,         ///< align: a face's landmarks define no similarity (non-finite, all equal, ...)
  bad_element_type,      ///< an element type this path does not read (e.g. float64, or float16 on a GPU backend)
  bad_dequant,           ///< an int8 / uint8 scale or zero point that is invalid (or one given for a float tensor)
};

FACEPOST_ABI_BEGIN
inline const char* errc_name(Errc c) noexcept {
  switch (c) {
    case Errc::ok: return "ok";
    case Errc::prior_count_mismatch: return "prior_count_mismatch";
    case Errc::row_mismatch: return "row_mismatch";
    case Errc::empty_tensor: return "empty_tensor";
    case Errc::bad_shape: return "bad_shape";
    case Errc::bad_size: return "bad_size";
    case Errc::size_overflow: return "size_overflow";
    case Errc::bad_threshold: return "bad_threshold";
    case Errc::bad_anchor_config: return "bad_anchor_config";
    case Errc::bad_variance: return "bad_variance";
    case Errc::bad_mapping: return "bad_mapping";
    case Errc::bad_argument: return "bad_argument";
    case Errc::io_error: return "io_error";
    case Errc::device_error: return "device_error";
    case Errc::bad_landmarks: return "bad_landmarks";
    case Errc::bad_element_type: return "bad_element_type";
    case Errc::bad_dequant: return "bad_dequant";
  }
  return "unknown";
}
FACEPOST_ABI_END

/// Result of a no-throw call: a code and a message naming the problem.
/// Holds its message inline, so producing one never allocates.
class Status {
 public:
  FACEPOST_ABI_TAG Status() noexcept { message_[0] = '\0'; }

  FACEPOST_ABI_TAG static Status failure(Errc code, const char* fmt, ...) noexcept
#if defined(__GNUC__)
      __attribute__((format(printf, 2, 3)))
#endif
  {
    Status s;
    s.code_ = code;
    va_list args;
    va_start(args, fmt);
    std::vsnprintf(s.message_, sizeof s.message_, fmt, args);
    va_end(args);
    return s;
  }

  FACEPOST_ABI_TAG bool ok() const noexcept { return code_ == Errc::ok; }
  FACEPOST_ABI_TAG explicit operator bool() const noexcept { return ok(); }
  FACEPOST_ABI_TAG Errc code() const noexcept { return code_; }
  FACEPOST_ABI_TAG const char* message() const noexcept { return message_; }

 private:
  Errc code_ = Errc::ok;
  char message_[320];
};

/// Thrown by the throwing API; carries the same code and message as Status.
class Error : public std::invalid_argument {
 public:
  FACEPOST_ABI_TAG Error(Errc code, const std::string& message) : std::invalid_argument(message), code_(code) {}
  FACEPOST_ABI_TAG explicit Error(const Status& s) : Error(s.code(), s.message()) {}
  FACEPOST_ABI_TAG Errc code() const noexcept { return code_; }

 private:
  Errc code_;
};

FACEPOST_ABI_BEGIN
/// Throws Error if s is a failure. Built with -fno-exceptions (use the try_* functions there),
/// it prints the message and aborts instead.
inline void throw_if_error(const Status& s) {
  if (s.ok()) return;
#if FACEPOST_EXCEPTIONS
  throw Error(s);
#else
  std::fprintf(stderr, "facepost: %s (exceptions are disabled)\n", s.message());
  std::abort();
#endif
}

namespace detail {
/// body() as a Status, or on_out_of_memory() if it throws std::bad_alloc. Without exceptions an
/// allocation failure already aborts in operator new, so this is body().
template <class Body, class OnOutOfMemory>
Status guard_allocation(Body&& body, OnOutOfMemory&& on_out_of_memory) noexcept {
#if FACEPOST_EXCEPTIONS
  try {
    return body();
  } catch (const std::bad_alloc&) {
    return on_out_of_memory();
  }
#else
  (void)on_out_of_memory;
  return body();
#endif
}
}  // namespace detail
FACEPOST_ABI_END

}  // namespace facepost
