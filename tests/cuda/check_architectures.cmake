# check_architectures.cmake - cmake -DBINARY=... -DEXPECT_SM="75;80" -DEXPECT_PTX=90 -P ...
# Fails unless BINARY's fatbinary carries a cubin for every EXPECT_SM and PTX for EXPECT_PTX (the
# image headers name them: sm_NN for cubins, compute_NN for PTX).
file(STRINGS "${BINARY}" names REGEX "(sm|compute)_[0-9]+")
string(JOIN " " text ${names})
set(missing "")
foreach(sm IN LISTS EXPECT_SM)
  if(NOT text MATCHES "sm_${sm}([^0-9]|$)")
    list(APPEND missing "sm_${sm}")
  endif()
endforeach()
if(NOT text MATCHES "compute_${EXPECT_PTX}([^0-9]|$)")
  list(APPEND missing "compute_${EXPECT_PTX} (PTX)")
endif()
if(missing)
  message(FATAL_ERROR "${BINARY} lacks device code for: ${missing}")
endif()
message(STATUS "${BINARY}: cubins for sm_${EXPECT_SM}, PTX compute_${EXPECT_PTX}")
