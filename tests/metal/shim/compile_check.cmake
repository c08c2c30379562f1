# compile_check.cmake (tests/metal/shim) - a ctest that compiles (and links) sources and expects
# success or failure, the failure with a message matching a regex.
#   cmake -DCXX=... -DARGS="a|b|c" -DEXPECT=success|failure [-DMESSAGE=regex] -DWORK=dir -P compile_check.cmake
# ARGS: the compiler's arguments, '|'-separated (sources, flags, -o ...).
# With -DMETAL=file.metal -DPYTHON=... -DGENERATOR=gen_bindings.py, the file goes the way the
# build takes it: gen_bindings.py writes its bindings TU, which is compiled (appended to ARGS).
string(REPLACE "|" ";" _args "${ARGS}")
file(MAKE_DIRECTORY "${WORK}")
if(DEFINED METAL)
  execute_process(COMMAND ${PYTHON} ${GENERATOR} ${METAL} ${WORK}/bindings.cpp RESULT_VARIABLE _grc
                  ERROR_VARIABLE _gerr)
  if(NOT _grc EQUAL 0)
    message(FATAL_ERROR "gen_bindings.py failed: ${_gerr}")
  endif()
  list(APPEND _args ${WORK}/bindings.cpp)
endif()
execute_process(COMMAND ${CXX} ${_args} WORKING_DIRECTORY "${WORK}" RESULT_VARIABLE _rc OUTPUT_VARIABLE _out
                ERROR_VARIABLE _err)
if(EXPECT STREQUAL "success")
  if(NOT _rc EQUAL 0)
    message(FATAL_ERROR "expected success, got ${_rc}:\n${_out}${_err}")
  endif()
else()
  if(_rc EQUAL 0)
    message(FATAL_ERROR "expected a failure, but it compiled")
  endif()
  if(DEFINED MESSAGE AND NOT "${_out}${_err}" MATCHES "${MESSAGE}")
    message(FATAL_ERROR "failed, but without the expected message '${MESSAGE}':\n${_out}${_err}")
  endif()
endif()
message(STATUS "as expected (${EXPECT})")
