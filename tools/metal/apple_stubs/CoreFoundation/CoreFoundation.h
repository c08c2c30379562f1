// Stub of an Apple SDK header: just enough for clang -fsyntax-only over metal-cpp on Linux
// (tools/metal/syntax_check.sh); never compiled into anything.
#pragma once
#include <stdint.h>
typedef double CFTimeInterval;
typedef const struct __CFString* CFStringRef;
typedef long CFIndex;
typedef unsigned long CFTypeID;
