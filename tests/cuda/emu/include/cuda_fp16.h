// Emulated cuda_fp16.h (tests/cuda/emu): see facepost_emu/half.hpp.
#pragma once
#include "facepost_emu/runtime.hpp"
#include "facepost_emu/half.hpp"
