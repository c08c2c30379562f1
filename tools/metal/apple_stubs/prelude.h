// Stub of an Apple SDK header: just enough for clang -fsyntax-only over metal-cpp on Linux
// (tools/metal/syntax_check.sh); never compiled into anything.
#pragma once
// What Apple SDK headers bring in transitively.
#include <stddef.h>
#include <math.h>
#include <stdint.h>
#include <dispatch/dispatch.h>
