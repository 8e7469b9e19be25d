#pragma once
// A simulated eUICC (rsp_euicc) in a temporary folder, its identity from the
// SM-DP+ test fixture's PKI, reached over ES10 APDUs like a real card.

#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "fixture.hpp"
#include "rsp/asn1/runtime.hpp"
#include "rsp/asn1/sgp22.hpp"
#include "rsp/card/card.hpp"
#include "rsp/euicc/isd_r.hpp"
#include "rsp/euicc/store.hpp"
#include "rsp/lpa/es10_channel.hpp"
#include "test_support/temp_dir.hpp"

namespace rsp::lpa {

struct SimEuicc {
  explicit SimEuicc(const std::filesystem::path& pki) {
    auto sources = euicc::find_identity_sources(pki);
    EXPECT_TRUE(sources.has_value());
    euicc::CreateOptions o;
    o.dir = tmp.path() / "card";
    if (sources) o.sources = *sources;
    o.default_dp_address = smdpp::testing::kAddress;
    auto created = euicc::create_euicc(o);
    EXPECT_TRUE(created.has_value()) << (created ? "" : created.error().message);
    if (created) store = *created;
    card.add_application(std::make_shared<euicc::IsdR>(*created));
    card.add_application(std::make_shared<card::MinimalEcasd>());
    auto sel = channel.select_isd_r();
    EXPECT_TRUE(sel.has_value()) << (sel ? "" : sel.error().message);
  }

  template <class Resp, class Req>
  Resp call(const Req& req) {
    auto data = channel.send(asn1::encode(req));
    EXPECT_TRUE(data.has_value());
    if (!data) return Resp{};
    auto r = asn1::decode<Resp>(*data);
    EXPECT_TRUE(r.has_value()) << to_hex(*data);
    return r ? *r : Resp{};
  }

  std::vector<asn1::sgp22::ProfileInfo> profiles() {
    auto r = call<asn1::sgp22::ProfileInfoListResponse>(asn1::sgp22::ProfileInfoListRequest{});
    const auto* l = r.profileInfoListOk();
    return l ? *l : std::vector<asn1::sgp22::ProfileInfo>{};
  }

  std::vector<asn1::sgp22::NotificationMetadata> notifications() {
    auto r = call<asn1::sgp22::ListNotificationResponse>(asn1::sgp22::ListNotificationRequest{});
    const auto* l = r.notificationMetadataList();
    return l ? *l : std::vector<asn1::sgp22::NotificationMetadata>{};
  }

  std::string eid() const { return store ? store->eid().value_or("") : ""; }

  test_support::TempDir tmp;
  std::optional<euicc::EuiccStore> store;
  card::Card card;
  ApduEs10Channel channel = card_channel(card);
};

}  // namespace rsp::lpa
