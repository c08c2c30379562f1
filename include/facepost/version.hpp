// facepost/version.hpp - generated from project(VERSION) in CMakeLists.txt (template
// cmake/version.hpp.in): change the version there, configure rewrites this file.
#pragma once

#define FACEPOST_VERSION_MAJOR 0
#define FACEPOST_VERSION_MINOR 1
#define FACEPOST_VERSION_PATCH 0
#define FACEPOST_VERSION_STRING "0.1.0"
// MAJOR * 10000 + MINOR * 100 + PATCH, for #if comparisons (0.1.0 is 100).
#define FACEPOST_VERSION 100
