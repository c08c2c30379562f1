// Stub of an Apple SDK header: just enough for clang -fsyntax-only over metal-cpp on Linux
// (tools/metal/syntax_check.sh); never compiled into anything.
#pragma once
#define TARGET_OS_MAC 1
#define TARGET_OS_OSX 1
#define TARGET_OS_IPHONE 0
