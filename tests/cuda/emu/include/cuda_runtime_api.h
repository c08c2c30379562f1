// Emulated CUDA runtime (tests/cuda/emu): see facepost_emu/runtime.hpp.
#pragma once
#include "facepost_emu/runtime.hpp"
