# Runs one fuzzer over a fresh scratch corpus (libFuzzer writes new inputs into its first corpus
# folder only, so the committed corpora stay untouched) plus the committed corpus and regression
# folders that exist. Usage: cmake -DFUZZER=... -DWORK_DIR=... -DOPTIONS=... -DCORPORA=... -P this
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})
set(_dirs ${WORK_DIR})
foreach(_dir IN LISTS CORPORA)
  if(IS_DIRECTORY ${_dir})
    list(APPEND _dirs ${_dir})
  endif()
endforeach()
message(STATUS "${FUZZER} ${OPTIONS} ${_dirs}")
execute_process(COMMAND ${FUZZER} ${OPTIONS} ${_dirs} RESULT_VARIABLE _rc)
if(NOT _rc EQUAL 0)
  message(FATAL_ERROR "${FUZZER} failed (${_rc}); the crashing input is under the artifact prefix named above")
endif()
