// Stub of an Apple SDK header: just enough for clang -fsyntax-only over metal-cpp on Linux
// (tools/metal/syntax_check.sh); never compiled into anything.
#pragma once
typedef struct dispatch_queue_s* dispatch_queue_t;
typedef struct dispatch_data_s* dispatch_data_t;
