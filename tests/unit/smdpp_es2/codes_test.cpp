// ES2+ codes checked against SGP.22 v2.2.2 §5.3.1 and §5.3.2.
#include <gtest/gtest.h>

#include "rsp/smdpp/es2_codes.hpp"
#include "world.hpp"

namespace rsp::smdpp::testing {
namespace {

TEST(Es2Codes, ProfileTypeNotTheIccidsIsRefused) {
  StoreWorld w;
  const std::string iccid = w.add(1, "op1", "gold");
  // §5.3.1: 8.2.5/3.8, the profileType is not that of the ICCID's profile.
  auto r = w.es2->download_order("op1", {std::nullopt, iccid, std::string("silver")});
  ASSERT_FALSE(r);
  EXPECT_TRUE(is(r.error(), es2codes::kProfileTypeRefused)) << r.error().subject_code << "/" << r.error().reason_code;
  EXPECT_EQ(r.error().subject_code, "8.2.5");
  EXPECT_EQ(r.error().reason_code, "3.8");
  EXPECT_EQ(w.state(iccid), ProfileState::Available);
}

TEST(Es2Codes, SmdsEventWithoutEidIsMissingTheEid) {
  StoreWorld w;
  const std::string iccid = w.add(1);
  ASSERT_TRUE(w.es2->download_order("op1", {std::nullopt, iccid, std::nullopt}));
  ConfirmOrderRequest cr;
  cr.iccid = iccid;
  cr.smds_address = "smds.example";
  cr.release_flag = true;
  auto r = w.es2->confirm_order("op1", cr);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().subject_code, "8.1.1");
  EXPECT_EQ(r.error().reason_code, "2.2");
  EXPECT_EQ(w.state(iccid), ProfileState::Allocated);
  cr.eid = kEid;
  EXPECT_TRUE(w.es2->confirm_order("op1", cr));
}

}  // namespace
}  // namespace rsp::smdpp::testing
