#include "rsp/common/allocator.hpp"

#include <gtest/gtest.h>

#include <cstdlib>

namespace rsp {
namespace {

// The setting must really reach the C library where it has one: it once
// compiled to an empty function because the glibc test ran before any C
// library header had defined __GLIBC__.
TEST(Allocator, ServerTuningAppliesOnGlibc) {
#if defined(__GLIBC__)
  EXPECT_TRUE(tune_allocator_for_server());
#else
  EXPECT_FALSE(tune_allocator_for_server());
#endif
}

}  // namespace
}  // namespace rsp
