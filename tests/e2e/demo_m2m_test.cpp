// `rsp demo m2m` (scripts/demo.sh runs it): every step of the M2M story
// completes on the embedded default, and no key is printed.

#include <gtest/gtest.h>

#include "run_tool.hpp"

namespace rsp::e2e {
namespace {

TEST(DemoM2m, EveryStepCompletes) {
  TempDir dir;
  auto r = rsp({"demo", "m2m", "--dir", dir.path().string()});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("all 9 steps completed"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("FAILED"), std::string::npos) << r.output;
  for (const char* needle : {"MNO callback: ES4.EnableProfile", "Executed-Success", "refused: 8.2.2/3.8",
                             "the eUICC answered 6985", "Expired"})
    EXPECT_NE(r.output.find(needle), std::string::npos) << needle << "\n" << r.output;
  // The card's keys are in its state; none of them shows in the demo's output.
  EXPECT_EQ(r.output.find("\"kic\""), std::string::npos);
  EXPECT_EQ(r.output.find("scp81Psk"), std::string::npos);
}

}  // namespace
}  // namespace rsp::e2e
