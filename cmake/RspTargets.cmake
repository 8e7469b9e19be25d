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

# rsp_add_unittest(<name> SOURCES ... DEPS ... [LABELS ...])
# A GoogleTest executable whose tests ctest discovers.
function(rsp_add_unittest name)
  cmake_parse_arguments(A "" "" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${A_SOURCES})
  target_link_libraries(${name} PRIVATE ${A_DEPS} rsp_test_support GTest::gtest GTest::gtest_main rsp_warnings)
  target_compile_definitions(${name} PRIVATE
    RSP_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
    RSP_REFERENCE_DIR="${RSP_REFERENCE_DIR}"
    RSP_BINARY_DIR="${PROJECT_BINARY_DIR}")
  if(NOT A_LABELS)
    set(A_LABELS unit)
  endif()
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES LABELS "${A_LABELS}")
endfunction()

# rsp_add_fuzzer(<name> SOURCES ... DEPS ...)
function(rsp_add_fuzzer name)
  cmake_parse_arguments(A "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${A_SOURCES})
  target_link_libraries(${name} PRIVATE ${A_DEPS} rsp_warnings)
  target_link_options(${name} PRIVATE -fsanitize=fuzzer)
  set_property(GLOBAL APPEND PROPERTY RSP_FUZZERS ${name})
endfunction()
