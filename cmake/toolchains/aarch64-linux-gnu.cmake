# Cross-compile for 64-bit Arm with Debian's g++-aarch64-linux-gnu and run the tests under
# qemu-user (Debian qemu-user): cmake -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/aarch64-linux-gnu.cmake
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu)
# Headers-only dependencies (Eigen, Catch2) come from the host's /usr; programs stay the host's.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
# An emulator with arguments: CMake 3.15.
if(CMAKE_VERSION VERSION_LESS 3.15)
  message(FATAL_ERROR "this toolchain file needs CMake 3.15 (CMAKE_CROSSCOMPILING_EMULATOR with arguments)")
endif()
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64 -L /usr/aarch64-linux-gnu)
