#pragma once
// The simulated consumer eUICC itself (ISD-R + ECASD on a fresh folder with a
// test PKI identity), for the tests that drive it through a real lpac.

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "rsp/card/card.hpp"
#include "rsp/euicc/isd_r.hpp"
#include "rsp/euicc/store.hpp"
#include "rsp/pki/test_pki.hpp"
#include "test_support/temp_dir.hpp"

namespace rsp::card::testing {

struct SimulatedEuicc {
  test_support::TempDir dir;
  Card card;
  std::string eid;

  SimulatedEuicc() {
    pki::TestPkiOptions po;
    po.out_dir = dir.path() / "pki";
    EXPECT_TRUE(pki::make_test_pki(po));
    auto sources = euicc::find_identity_sources(po.out_dir);
    EXPECT_TRUE(sources);
    if (!sources) return;
    euicc::CreateOptions co;
    co.dir = dir.path() / "card";
    co.sources = std::move(*sources);
    auto store = euicc::create_euicc(co);
    EXPECT_TRUE(store);
    if (!store) return;
    eid = store->eid().value_or("");
    card.add_application(std::make_shared<euicc::IsdR>(*store));
    card.add_application(std::make_shared<MinimalEcasd>());
  }
};

/// What a real lpac answered for `chip info` must name the card's EID.
inline void expect_chip_info_names(const std::string& lpac_output, const std::string& eid) {
  ASSERT_EQ(eid.size(), 32u);
  EXPECT_NE(lpac_output.find(R"("code":0,"message":"success")"), std::string::npos) << lpac_output;
  EXPECT_NE(lpac_output.find("\"eidValue\":\"" + eid + "\""), std::string::npos) << lpac_output;
}

/// `profile list` of a fresh card: success with no profiles.
inline void expect_empty_profile_list(const std::string& lpac_output) {
  EXPECT_NE(lpac_output.find(R"("code":0,"message":"success","data":[])"), std::string::npos) << lpac_output;
}

}  // namespace rsp::card::testing
