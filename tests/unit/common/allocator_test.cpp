#include "rsp/common/allocator.hpp"

#include <gtest/gtest.h>

#include <cstdlib>

namespace rsp {
namespace {

// The setting must really reach the C library where it has one: it once
// compiled to an empty function because the glibc test ran before any C
// library header had defined __GLIBC__.
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RSP_TEST_UNDER_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define RSP_TEST_UNDER_ASAN 1
#endif

TEST(Allocator, ServerTuningAppliesOnGlibc) {
#if defined(RSP_TEST_UNDER_ASAN)
  GTEST_SKIP() << "AddressSanitizer replaces the C library's allocator and its settings";
#elif defined(__GLIBC__)
  EXPECT_TRUE(tune_allocator_for_server());
#else
  EXPECT_FALSE(tune_allocator_for_server());
#endif
}

}  // namespace
}  // namespace rsp
