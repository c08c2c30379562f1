# cmake -P script behind the facepost_install_* tests.
#   MODE=find_package:     cmake --install FACEPOST_BUILD_DIR --prefix WORK_DIR/prefix, then build
#                          CONSUMER_DIR/consumer with CMAKE_PREFIX_PATH=WORK_DIR/prefix and run it;
#                          with PKG_CONFIG, also build it with `pkg-config --cflags facepost`.
#   MODE=without_build:    configure FACEPOST_SOURCE_DIR afresh as if only Eigen were installed
#                          (CMAKE_DISABLE_FIND_PACKAGE_<test, benchmark, example, Python packages>),
#                          install without building, then the consumers of MODE=find_package.
#   MODE=add_subdirectory: build CONSUMER_DIR/subdirectory (add_subdirectory(FACEPOST_SOURCE_DIR))
#                          and run it.
#   MODE=fetchcontent:     tools/make_source_tarball.sh, then CONSUMER_DIR/fetchcontent (FetchContent
#                          of that tarball, a static library exported with install(EXPORT)): build,
#                          run, install.
# EXPECT_VERSION: facepost's version, which the consumer must print (FACEPOST_VERSION_STRING).
foreach(var MODE FACEPOST_SOURCE_DIR FACEPOST_BUILD_DIR CONSUMER_DIR WORK_DIR CXX_COMPILER GENERATOR EXPECT_VERSION)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "run_consumer.cmake: ${var} is not set")
  endif()
endforeach()

function(run_step what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${what} failed (${rc}):\n${ARGN}\n--- stdout\n${out}\n--- stderr\n${err}")
  endif()
  message(STATUS "${what}: ok")
  set(step_output "${out}" PARENT_SCOPE)
  set(step_errors "${err}" PARENT_SCOPE)
endfunction()

function(require_files root)
  foreach(f IN LISTS ARGN)
    if(NOT EXISTS "${root}/${f}")
      message(FATAL_ERROR "${root}/${f} is missing")
    endif()
  endforeach()
endfunction()

# Runs the consumer program; it must say ok and print this version.
function(run_consumer exe)
  run_step("run consumer ${exe}" "${exe}")
  message(STATUS "${step_output}")
  if(NOT step_output MATCHES "-> ok")
    message(FATAL_ERROR "consumer output unexpected: ${step_output}")
  endif()
  if(NOT step_output MATCHES "^facepost ${EXPECT_VERSION} ")
    message(FATAL_ERROR "the consumer compiled against facepost '${step_output}', expected version ${EXPECT_VERSION}")
  endif()
endfunction()

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
set(consumer_build "${WORK_DIR}/build")
set(configure_args -G "${GENERATOR}" -DCMAKE_CXX_COMPILER=${CXX_COMPILER} -DCMAKE_BUILD_TYPE=Release)
set(prefix "${WORK_DIR}/prefix")

if(MODE STREQUAL "without_build")
  # facepost as configured on a machine with Eigen and nothing else it can use: every optional
  # part asked for, each package it needs hidden. Configure must pass and name what it turned off.
  set(facepost_build "${WORK_DIR}/facepost-build")
  set(hidden Catch2 benchmark OpenCV pybind11 Python Python3)
  set(hide)
  foreach(p IN LISTS hidden)
    list(APPEND hide -DCMAKE_DISABLE_FIND_PACKAGE_${p}=ON)
  endforeach()
  run_step("configure facepost with only Eigen" ${CMAKE_COMMAND} -S "${FACEPOST_SOURCE_DIR}" -B "${facepost_build}"
           ${configure_args} ${hide} -DFACEPOST_BUILD_TESTS=ON -DFACEPOST_BUILD_TOOLS=ON
           -DFACEPOST_BUILD_BENCHMARKS=ON -DFACEPOST_BUILD_EXAMPLES=ON -DFACEPOST_PYTHON=ON -DFACEPOST_METAL_EMULATED=ON)
  set(configure_log "${step_output}${step_errors}")
  string(REGEX REPLACE "[ \t\r\n]+" " " configure_log "${configure_log}")  # messages wrap
  foreach(option FACEPOST_BUILD_TESTS FACEPOST_METAL_EMULATED FACEPOST_BUILD_BENCHMARKS FACEPOST_PYTHON)
    if(NOT configure_log MATCHES "${option} turned off")
      message(FATAL_ERROR "configure did not say that ${option} turned off:\n${configure_log}")
    endif()
  endforeach()
  if(NOT configure_log MATCHES "OpenCV.*not found")
    message(FATAL_ERROR "configure did not say that OpenCV is missing for the examples:\n${configure_log}")
  endif()
  run_step("install facepost without building" ${CMAKE_COMMAND} --install "${facepost_build}" --prefix "${prefix}")
  file(GLOB_RECURSE built_programs "${facepost_build}/tools/facepost" "${facepost_build}/*.so")
  if(built_programs)
    message(FATAL_ERROR "something was built: ${built_programs}")
  endif()
  if(EXISTS "${prefix}/bin/facepost")
    message(FATAL_ERROR "the install without a build installed a CLI")
  endif()
  set(MODE find_package)
elseif(MODE STREQUAL "find_package")
  run_step("install facepost" ${CMAKE_COMMAND} --install "${FACEPOST_BUILD_DIR}" --prefix "${prefix}")
  if(EXPECT_CLI AND NOT EXISTS "${prefix}/bin/facepost")
    message(FATAL_ERROR "the CLI was built but not installed (${prefix}/bin/facepost)")
  endif()
endif()

if(MODE STREQUAL "find_package")
  require_files("${prefix}" include/facepost/facepost.hpp include/facepost/version.hpp share/pkgconfig/facepost.pc
                share/doc/facepost/LICENSE)
  file(GLOB_RECURSE config_files "${prefix}/*/facepostConfig.cmake")
  if(NOT config_files)
    message(FATAL_ERROR "install did not produce facepostConfig.cmake under ${prefix}")
  endif()
  run_step("configure consumer" ${CMAKE_COMMAND} -S "${CONSUMER_DIR}/consumer" -B "${consumer_build}"
           ${configure_args} -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_FIND_PACKAGE_NO_PACKAGE_REGISTRY=ON
           -DEXPECT_VERSION=${EXPECT_VERSION})
elseif(MODE STREQUAL "add_subdirectory")
  run_step("configure consumer" ${CMAKE_COMMAND} -S "${CONSUMER_DIR}/subdirectory" -B "${consumer_build}"
           ${configure_args} -DFACEPOST_SOURCE_DIR=${FACEPOST_SOURCE_DIR})
  # Vendored, facepost must not add its own tests or tools to the host project.
  if(EXISTS "${consumer_build}/facepost/tests" OR EXISTS "${consumer_build}/facepost/tools")
    message(FATAL_ERROR "facepost added its tests or tools to the consumer's build")
  endif()
elseif(MODE STREQUAL "fetchcontent")
  set(tarball_dir "${WORK_DIR}/dist")
  run_step("make the source tarball" bash "${FACEPOST_SOURCE_DIR}/tools/make_source_tarball.sh" "${tarball_dir}")
  file(GLOB tarball "${tarball_dir}/facepost-${EXPECT_VERSION}.tar.gz")
  if(NOT tarball)
    message(FATAL_ERROR "tools/make_source_tarball.sh made no facepost-${EXPECT_VERSION}.tar.gz in ${tarball_dir}")
  endif()
  file(SIZE "${tarball}" tarball_size)
  message(STATUS "${tarball}: ${tarball_size} bytes")
  # Headers and build files only: the fixtures, models and photos stay out (the repository is ~24 MB).
  if(tarball_size GREATER 1000000)
    message(FATAL_ERROR "the source tarball is ${tarball_size} bytes; it should hold only the headers and CMake files")
  endif()
  file(SHA256 "${tarball}" tarball_sha256)
  run_step("configure consumer" ${CMAKE_COMMAND} -S "${CONSUMER_DIR}/fetchcontent" -B "${consumer_build}"
           ${configure_args} "-DFACEPOST_URL=${tarball}" -DFACEPOST_URL_HASH=SHA256=${tarball_sha256})
  if(EXISTS "${consumer_build}/_deps/facepost-build/tests")
    message(FATAL_ERROR "facepost added its tests to the consumer's build")
  endif()
else()
  message(FATAL_ERROR "run_consumer.cmake: unknown MODE '${MODE}'")
endif()

run_step("build consumer" ${CMAKE_COMMAND} --build "${consumer_build}" --config Release)
find_program(consumer_exe facepost_consumer PATHS "${consumer_build}" "${consumer_build}/Release" NO_DEFAULT_PATH)
if(NOT consumer_exe)
  message(FATAL_ERROR "the consumer's executable was not built in ${consumer_build}")
endif()
run_consumer("${consumer_exe}")

if(MODE STREQUAL "fetchcontent")
  # The consumer exports a library that links facepost::facepost: its install carries facepost
  # (FACEPOST_INSTALL is ON in a subproject too), so find_package(consumer) can find facepost.
  set(consumer_prefix "${WORK_DIR}/consumer-prefix")
  run_step("install consumer" ${CMAKE_COMMAND} --install "${consumer_build}" --prefix "${consumer_prefix}")
  require_files("${consumer_prefix}" include/facepost/facepost.hpp lib/cmake/facepost_consumer/facepost_consumerTargets.cmake)
  file(GLOB_RECURSE config_files "${consumer_prefix}/*/facepostConfig.cmake")
  if(NOT config_files)
    message(FATAL_ERROR "the consumer's install has no facepostConfig.cmake")
  endif()
  file(READ "${consumer_prefix}/lib/cmake/facepost_consumer/facepost_consumerTargets.cmake" exported)
  if(NOT exported MATCHES "facepost::facepost")
    message(FATAL_ERROR "the consumer's exported library does not name facepost::facepost")
  endif()
endif()

# The same program compiled by hand with the installed pkg-config file.
if(MODE STREQUAL "find_package" AND PKG_CONFIG)
  set(pc_env ${CMAKE_COMMAND} -E env "PKG_CONFIG_PATH=${prefix}/share/pkgconfig")
  run_step("pkg-config --modversion facepost" ${pc_env} ${PKG_CONFIG} --modversion facepost)
  string(STRIP "${step_output}" pc_version)
  if(NOT pc_version STREQUAL EXPECT_VERSION)
    message(FATAL_ERROR "facepost.pc says version '${pc_version}', expected ${EXPECT_VERSION}")
  endif()
  run_step("pkg-config --cflags facepost" ${pc_env} ${PKG_CONFIG} --cflags facepost)
  string(STRIP "${step_output}" pc_cflags)
  message(STATUS "pkg-config --cflags facepost: ${pc_cflags}")
  separate_arguments(pc_cflags UNIX_COMMAND "${pc_cflags}")
  set(found_include OFF)
  foreach(flag IN LISTS pc_cflags)
    if(flag MATCHES "^-I(.*)$")
      get_filename_component(dir "${CMAKE_MATCH_1}" REALPATH)
      get_filename_component(expected "${prefix}/include" REALPATH)
      if(dir STREQUAL expected)
        set(found_include ON)
      endif()
    endif()
  endforeach()
  if(NOT found_include)
    message(FATAL_ERROR "pkg-config --cflags facepost (${pc_cflags}) does not name ${prefix}/include")
  endif()
  set(pc_exe "${WORK_DIR}/facepost_consumer_pkg_config")
  run_step("compile consumer with pkg-config" ${CXX_COMPILER} -std=c++17 -O2 ${pc_cflags}
           "${CONSUMER_DIR}/consumer/main.cpp" -o "${pc_exe}")
  run_consumer("${pc_exe}")
endif()
