// A second TU using metal-cpp without the implementation defines (see gate_main.cpp).
#ifdef GATE_SECOND_IMPLEMENTATION
#define NS_PRIVATE_IMPLEMENTATION
#define MTL_PRIVATE_IMPLEMENTATION
#endif
#include <Foundation/Foundation.hpp>
#include <Metal/Metal.hpp>
int gate_user() {
  NS::String* s = NS::String::alloc()->init("x", NS::UTF8StringEncoding);
  const int n = static_cast<int>(s->length());
  s->release();
  return n - 1;
}
