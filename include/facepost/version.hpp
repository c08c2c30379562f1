// facepost/version.hpp
#pragma once

#define FACEPOST_VERSION_MAJOR 0
#define FACEPOST_VERSION_MINOR 1
#define FACEPOST_VERSION_PATCH 0
#define FACEPOST_VERSION_STRING "0.1.0"
