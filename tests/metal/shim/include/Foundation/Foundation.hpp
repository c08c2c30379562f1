// Foundation/Foundation.hpp of the fake metal-cpp (tests/metal/shim) - the NS classes a Metal host
// program uses, with metal-cpp's names and ownership rules, on Linux, without Objective-C.
//
// Emulates: NS::Object reference counting (retain / release / autorelease / retainCount) with
// the checks Instruments would make: every object is counted live from alloc/new until its count
// reaches 0 (facepost_metal_fake::live_objects(), live_report()); a release of an object whose
// count is already 0 (an over-release) is counted (refcount_errors()) and printed, never freed
// twice (a released object's shell stays as a zombie); an autorelease without an
// NS::AutoreleasePool on the thread is counted (unpooled_autoreleases()) and leaks, as
// Objective-C's "autoreleased with no pool in place"; NS::AutoreleasePool (alloc()->init(),
// drain(), release()); NS::String (string(), alloc()->init(), utf8String(), length(),
// isEqualToString, MakeConstantString); NS::Error (domain(), code(), localizedDescription());
// NS::SharedPtr, NS::TransferPtr, NS::RetainPtr.
// metal-cpp needs NS_PRIVATE_IMPLEMENTATION (and MTL_PRIVATE_IMPLEMENTATION) defined in exactly
// one translation unit: here that TU defines a strong symbol, so a second one fails to link
// (multiple definition) and a program with none fails to link too (undefined reference).
// Does NOT emulate: Objective-C itself, NS::Array / Dictionary / URL / Bundle, thread safety of
// the pools beyond one stack per thread, and the fact that Foundation's methods are messages.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

// The implementation gate (see above): defined by the one TU with NS_PRIVATE_IMPLEMENTATION.
extern "C" volatile int facepost_fake_ns_private_implementation;
#ifdef NS_PRIVATE_IMPLEMENTATION
extern "C" {
volatile int facepost_fake_ns_private_implementation = 1;
}
#endif

namespace NS {
using UInteger = std::uintptr_t;
using Integer = std::intptr_t;
class Object;
}  // namespace NS

namespace facepost_metal_fake {

/// A Metal API validation failure (thrown when set_validation_mode(Validation::throw_error)).
struct ValidationError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
enum class Validation { abort_process, throw_error };

namespace state {
inline std::atomic<Validation> validation{Validation::abort_process};
inline std::atomic<long> live{0};
inline std::atomic<long> refcount_errors{0};
inline std::atomic<long> unpooled_autoreleases{0};
inline std::mutex objects_mutex;
inline std::unordered_map<const NS::Object*, const char*>& objects() {
  static std::unordered_map<const NS::Object*, const char*> m;
  return m;
}
/// Released objects' shells (zombies) and objects autoreleased without a pool (counted leaks),
/// kept reachable for the whole run: LeakSanitizer then reports only objects that were simply
/// never released.
inline std::vector<const NS::Object*>& zombies() {
  static auto* z = new std::vector<const NS::Object*>();
  return *z;
}
}  // namespace state

/// What a Metal API misuse does: abort with a message (Metal's API validation), or throw.
inline void set_validation_mode(Validation v) { state::validation = v; }
[[noreturn]] inline void validation_error(const std::string& what) {
  if (state::validation == Validation::throw_error) throw ValidationError(what);
  std::fprintf(stderr, "facepost_metal_fake: Metal API validation: %s\n", what.c_str());
  std::fflush(stderr);
  std::abort();
}
/// Objects allocated and not yet released to 0.
inline long live_objects() { return state::live; }
/// Over-releases so far.
inline long refcount_errors() { return state::refcount_errors; }
/// Autoreleases with no pool on the thread (leaks) so far.
inline long unpooled_autoreleases() { return state::unpooled_autoreleases; }
/// The classes of the live objects, one per line ("" when none).
inline std::string live_report() {
  std::lock_guard<std::mutex> lk(state::objects_mutex);
  std::string r;
  for (const auto& o : state::objects()) r += std::string(o.second) + "\n";
  return r;
}

}  // namespace facepost_metal_fake

namespace NS {

enum StringEncoding : UInteger {
  ASCIIStringEncoding = 1,
  UTF8StringEncoding = 4,
};

class Object {
 public:
  Object(const Object&) = delete;
  Object& operator=(const Object&) = delete;
  virtual ~Object() = default;

  Object* retain() {
    if (refs_.fetch_add(1) <= 0) over_release("retain");
    return this;
  }
  void release() {
    (void)facepost_fake_ns_private_implementation;  // the implementation gate
    const long before = refs_.fetch_sub(1);
    if (before <= 0) {
      refs_.fetch_add(1);
      over_release("release");
      return;
    }
    if (before == 1) {
      dispose();
      {
        std::lock_guard<std::mutex> lk(facepost_metal_fake::state::objects_mutex);
        facepost_metal_fake::state::objects().erase(this);
        facepost_metal_fake::state::zombies().push_back(this);
      }
      --facepost_metal_fake::state::live;
      // The shell stays (a zombie): a later release is reported, not a use after free.
    }
  }
  Object* autorelease();
  UInteger retainCount() const { return static_cast<UInteger>(refs_.load()); }
  const char* className() const { return class_name_; }
  bool isZombie() const { return refs_.load() <= 0; }

 protected:
  explicit Object(const char* class_name) : class_name_(class_name) {
    ++facepost_metal_fake::state::live;
    std::lock_guard<std::mutex> lk(facepost_metal_fake::state::objects_mutex);
    facepost_metal_fake::state::objects()[this] = class_name;
  }
  /// Frees what the object owns, when its count reaches 0.
  virtual void dispose() {}

 private:
  void over_release(const char* op) {
    ++facepost_metal_fake::state::refcount_errors;
    std::fprintf(stderr, "facepost_metal_fake: %s of a deallocated %s (over-release)\n", op, class_name_);
  }
  std::atomic<long> refs_{1};
  const char* class_name_;
};

/// metal-cpp's typed retain / autorelease (class Buffer : public Referencing<Buffer, Resource>).
template <class C, class Base = Object>
class Referencing : public Base {
 public:
  C* retain() { return static_cast<C*>(Base::retain()); }
  C* autorelease() { return static_cast<C*>(Base::autorelease()); }

 protected:
  using Base::Base;
};

class AutoreleasePool : public Referencing<AutoreleasePool> {
 public:
  static AutoreleasePool* alloc() { return new AutoreleasePool(); }
  AutoreleasePool* init() {
    stack().push_back(this);
    return this;
  }
  void addObject(Object* o) { objects_.push_back(o); }
  /// Releases the objects autoreleased into it (and releases the pool: metal-cpp's drain).
  void drain() { release(); }
  static AutoreleasePool* current() { return stack().empty() ? nullptr : stack().back(); }

 protected:
  void dispose() override {
    std::vector<Object*> objs;
    objs.swap(objects_);
    for (Object* o : objs) o->release();
    auto& s = stack();
    for (auto it = s.begin(); it != s.end(); ++it)
      if (*it == this) {
        s.erase(it);
        break;
      }
  }

 private:
  AutoreleasePool() : Referencing("NS::AutoreleasePool") {}
  static std::vector<AutoreleasePool*>& stack() {
    static thread_local std::vector<AutoreleasePool*> s;
    return s;
  }
  std::vector<Object*> objects_;
};

inline Object* Object::autorelease() {
  if (AutoreleasePool* p = AutoreleasePool::current()) {
    p->addObject(this);
  } else {
    ++facepost_metal_fake::state::unpooled_autoreleases;
    std::fprintf(stderr, "facepost_metal_fake: %s autoreleased with no pool in place - just leaking\n", class_name_);
    std::lock_guard<std::mutex> lk(facepost_metal_fake::state::objects_mutex);
    facepost_metal_fake::state::zombies().push_back(this);  // counted above: not LeakSanitizer's to report
  }
  return this;
}

class String : public Referencing<String> {
 public:
  static String* alloc() { return new String(); }
  String* init() { return this; }
  String* init(const char* s, StringEncoding) {
    text_ = s != nullptr ? s : "";
    return this;
  }
  String* init(const String* s) {
    text_ = s != nullptr ? s->text_ : "";
    return this;
  }
  /// An autoreleased string.
  static String* string(const char* s, StringEncoding e) { return alloc()->init(s, e)->autorelease(); }
  static String* string(const String* s) { return alloc()->init(s)->autorelease(); }
  static String* string() { return alloc()->init()->autorelease(); }
  const char* utf8String() const { return text_.c_str(); }
  const char* cString(StringEncoding) const { return text_.c_str(); }
  UInteger length() const { return text_.size(); }
  bool isEqualToString(const String* o) const { return o != nullptr && o->text_ == text_; }
  /// The fake's accessor to the bytes (not metal-cpp).
  const std::string& str() const { return text_; }

 private:
  String() : Referencing("NS::String") {}
  friend String* MakeConstantString(const char*);
  std::string text_;
};

/// A string that is never released (metal-cpp: a constant CFString).
inline String* MakeConstantString(const char* s) {
  String* r = String::alloc()->init(s, UTF8StringEncoding);
  {
    std::lock_guard<std::mutex> lk(facepost_metal_fake::state::objects_mutex);
    facepost_metal_fake::state::objects().erase(r);
  }
  --facepost_metal_fake::state::live;  // immortal: not a leak
  r->retain();
  return r;
}

class Error : public Referencing<Error> {
 public:
  static Error* alloc() { return new Error(); }
  Error* init(const char* domain, Integer code, const std::string& description) {
    domain_ = String::alloc()->init(domain, UTF8StringEncoding);
    description_ = String::alloc()->init(description.c_str(), UTF8StringEncoding);
    code_ = code;
    return this;
  }
  Integer code() const { return code_; }
  String* domain() const { return domain_; }
  String* localizedDescription() const { return description_; }

 protected:
  void dispose() override {
    if (domain_) domain_->release();
    if (description_) description_->release();
    domain_ = description_ = nullptr;
  }

 private:
  Error() : Referencing("NS::Error") {}
  String* domain_ = nullptr;
  String* description_ = nullptr;
  Integer code_ = 0;
};

/// metal-cpp's NS::SharedPtr: owns one reference.
template <class T>
class SharedPtr {
 public:
  SharedPtr() = default;
  ~SharedPtr() { reset(); }
  SharedPtr(const SharedPtr& o) : p_(o.p_) {
    if (p_) p_->retain();
  }
  SharedPtr(SharedPtr&& o) noexcept : p_(o.p_) { o.p_ = nullptr; }
  SharedPtr& operator=(const SharedPtr& o) {
    if (o.p_) o.p_->retain();
    reset();
    p_ = o.p_;
    return *this;
  }
  SharedPtr& operator=(SharedPtr&& o) noexcept {
    if (this != &o) {
      reset();
      p_ = o.p_;
      o.p_ = nullptr;
    }
    return *this;
  }
  T* get() const { return p_; }
  T* operator->() const { return p_; }
  explicit operator bool() const { return p_ != nullptr; }
  void reset() {
    if (p_) p_->release();
    p_ = nullptr;
  }
  void detach() { p_ = nullptr; }
  template <class U>
  friend SharedPtr<U> TransferPtr(U* p);
  template <class U>
  friend SharedPtr<U> RetainPtr(U* p);

 private:
  T* p_ = nullptr;
};
/// Takes over the caller's reference (of an alloc/new/copy result).
template <class T>
SharedPtr<T> TransferPtr(T* p) {
  SharedPtr<T> s;
  s.p_ = p;
  return s;
}
/// Retains p (an autoreleased or borrowed object).
template <class T>
SharedPtr<T> RetainPtr(T* p) {
  SharedPtr<T> s;
  s.p_ = p;
  if (p) p->retain();
  return s;
}
template <class T, class U>
bool operator==(const SharedPtr<T>& a, const SharedPtr<U>& b) {
  return a.get() == b.get();
}
template <class T, class U>
bool operator!=(const SharedPtr<T>& a, const SharedPtr<U>& b) {
  return a.get() != b.get();
}

}  // namespace NS
