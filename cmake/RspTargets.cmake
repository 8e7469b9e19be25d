# Helpers shared by every component's CMakeLists.

# Warnings as errors on our own code only (not on generated or system headers).
add_library(rsp_warnings INTERFACE)
target_compile_options(rsp_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Werror -Wshadow -Wnon-virtual-dtor -Wold-style-cast
  -Wcast-align -Woverloaded-virtual -Wnull-dereference -Wimplicit-fallthrough)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  # GCC 12 reports false positives inside libstdc++ at -O2/-O3 (string insert,
  # vector copy and compare); clang keeps checking these.
  target_compile_options(rsp_warnings INTERFACE
    -Wno-maybe-uninitialized -Wno-restrict -Wno-null-dereference
    -Wno-stringop-overread -Wno-stringop-overflow -Wno-array-bounds)
endif()

# rsp_add_library(<component> SOURCES ... DEPS ...)
# Creates the static library rsp_<component> with public headers in include/.
function(rsp_add_library comp)
  cmake_parse_arguments(A "" "" "SOURCES;DEPS" ${ARGN})
  add_library(rsp_${comp} STATIC ${A_SOURCES})
  target_include_directories(rsp_${comp} PUBLIC ${PROJECT_SOURCE_DIR}/include)
  target_link_libraries(rsp_${comp} PUBLIC ${A_DEPS} PRIVATE rsp_warnings)
endfunction()

# rsp_add_unittest(<name> SOURCES ... DEPS ... [LABELS ...] [LOCK <resource> <filter>])
# A GoogleTest executable whose tests ctest discovers. LOCK: the tests that the
# GoogleTest <filter> names hold the ctest RESOURCE_LOCK <resource>, so they run
# one at a time with every other test that holds it (e.g. the one pcscd with
# its one vpcd reader port); the executable's other tests still run in parallel.
function(rsp_add_unittest name)
  cmake_parse_arguments(A "" "" "SOURCES;DEPS;LABELS;LOCK" ${ARGN})
  add_executable(${name} ${A_SOURCES})
  target_link_libraries(${name} PRIVATE ${A_DEPS} rsp_test_support GTest::gtest GTest::gtest_main rsp_warnings)
  target_compile_definitions(${name} PRIVATE
    RSP_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
    RSP_REFERENCE_DIR="${RSP_REFERENCE_DIR}"
    RSP_BINARY_DIR="${PROJECT_BINARY_DIR}")
  if(NOT A_LABELS)
    set(A_LABELS unit)
  endif()
  if(A_LOCK)
    list(GET A_LOCK 0 lock_resource)
    list(GET A_LOCK 1 lock_filter)
    gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 TEST_FILTER "-${lock_filter}"
                         PROPERTIES LABELS "${A_LABELS}")
    gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 TEST_FILTER "${lock_filter}"
                         PROPERTIES LABELS "${A_LABELS}" RESOURCE_LOCK "${lock_resource}")
  else()
    gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES LABELS "${A_LABELS}")
  endif()
endfunction()

# rsp_add_fuzzer(<name> SOURCES ... DEPS ...)
function(rsp_add_fuzzer name)
  cmake_parse_arguments(A "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${A_SOURCES})
  target_link_libraries(${name} PRIVATE ${A_DEPS} rsp_warnings)
  target_link_options(${name} PRIVATE -fsanitize=fuzzer)
  set_property(GLOBAL APPEND PROPERTY RSP_FUZZERS ${name})
endfunction()
