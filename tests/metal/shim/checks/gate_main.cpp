// The metal-cpp implementation gate: this TU defines NS/MTL_PRIVATE_IMPLEMENTATION (with
// gate_second.cpp too: multiple definition; without: fine; gate_user.cpp alone: undefined).
#ifndef GATE_NO_IMPLEMENTATION
#define NS_PRIVATE_IMPLEMENTATION
#define MTL_PRIVATE_IMPLEMENTATION
#endif
#include <Foundation/Foundation.hpp>
#include <Metal/Metal.hpp>
int gate_user();
int main() {
  MTL::Device* d = MTL::CreateSystemDefaultDevice();
  d->release();
  return gate_user();
}
