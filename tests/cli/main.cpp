// Catch2 main of the CLI tests.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
