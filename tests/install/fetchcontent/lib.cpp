// A library of the consumer's own that uses facepost (tests/install/fetchcontent).
#include <facepost/facepost.hpp>

const char* facepost_consumer_lib_version() { return FACEPOST_VERSION_STRING; }
