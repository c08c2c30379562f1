// Stub of an Apple SDK header: just enough for clang -fsyntax-only over metal-cpp on Linux
// (tools/metal/syntax_check.sh); never compiled into anything.
#pragma once
#include <objc/runtime.h>
extern "C" {
void objc_msgSend(void);
void objc_msgSend_stret(void);
void objc_msgSend_fpret(void);
}
