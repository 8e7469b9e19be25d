#include "rsp/common/utc_time.hpp"

#include <gtest/gtest.h>

namespace rsp {
namespace {

TEST(UtcTime, SecondsSinceTheEpochAsUtcText) {
  EXPECT_EQ(utc_time_text(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(utc_time_text(1'800'000'000), "2027-01-15T08:00:00Z");
  EXPECT_EQ(utc_time_text(951'782'400), "2000-02-29T00:00:00Z");  // a leap day
}

}  // namespace
}  // namespace rsp
