// facepost/detail/buffer.hpp - scratch storage that grows and is never zero-filled.
#pragma once

#include <cstddef>
#include <memory>

#include "facepost/isa.hpp"

namespace facepost {
FACEPOST_ABI_BEGIN
namespace detail {

/// A grow-only array of trivial T left uninitialised: reserving buffers sized for every prior
/// costs no memset (a std::vector would zero megabytes on the first frame), and pages are only
/// touched as the pipeline writes them. Contents are not kept across a growth.
template <class T>
class Buffer {
 public:
  void reserve(std::size_t n) {
    if (n <= size_) return;
    data_.reset(new T[n]);  // default-initialised: no zeroing for trivial T
    size_ = n;
  }
  std::size_t capacity() const noexcept { return size_; }
  T* data() noexcept { return data_.get(); }
  const T* data() const noexcept { return data_.get(); }
  T& operator[](std::size_t i) noexcept { return data_[i]; }
  const T& operator[](std::size_t i) const noexcept { return data_[i]; }

 private:
  std::unique_ptr<T[]> data_;
  std::size_t size_ = 0;
};

}  // namespace detail
FACEPOST_ABI_END
}  // namespace facepost
