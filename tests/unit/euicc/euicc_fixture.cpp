#include "euicc_fixture.hpp"

#include <unistd.h>

#include <random>

#include "rsp/messages/iccid.hpp"
#include "test_support/shared_pki.hpp"

namespace rsp::euicc::test {
namespace fs = std::filesystem;

const fs::path& shared_pki_dir() { return test_support::shared_test_pki_dir(); }

EuiccStore make_euicc(const fs::path& dir) {
  auto sources = find_identity_sources(shared_pki_dir());
  EXPECT_TRUE(sources.has_value());
  CreateOptions o;
  o.dir = dir;
  o.sources = *sources;
  o.default_dp_address = "smdp.example.com";
  auto store = create_euicc(o);
  EXPECT_TRUE(store.has_value()) << (store ? "" : store.error().message);
  return *store;
}

ProfileRecord sample_profile(int n, bool with_notifications) {
  ProfileRecord p;
  p.isdp_aid = {0xA0, 0x00, 0x00, 0x05, 0x59, 0x10, 0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0x89, 0x00, 0x00, 0x10,
                static_cast<std::uint8_t>(n)};
  p.iccid = *messages::iccid_from_digits("8944476500000000" + std::to_string(1000 + n));
  p.service_provider_name = "Operator " + std::to_string(n);
  p.profile_name = "Profile " + std::to_string(n);
  if (with_notifications) p.notification_config.push_back({0x0F, "smdp" + std::to_string(n) + ".example.com"});
  return p;
}

void EuiccTest::SetUp() {
  store_ = std::make_unique<EuiccStore>(make_euicc(tmp_.path() / "card"));
  reopen();
}

void EuiccTest::reopen() {
  auto store = EuiccStore::open(tmp_.path() / "card");
  ASSERT_TRUE(store.has_value());
  card_ = std::make_unique<Card>();
  card_->add_application(std::make_shared<IsdR>(*store));
  card_->add_application(std::make_shared<MinimalEcasd>());
  Bytes select = {0x00, 0xA4, 0x04, 0x00, 0x10};
  select.insert(select.end(), std::begin(kIsdRAid), std::end(kIsdRAid));
  auto r = card_->transmit(select);
  ASSERT_GE(r.size(), 2u);
  EXPECT_TRUE(r[r.size() - 2] == 0x90 || r[r.size() - 2] == 0x61) << to_hex(r);
}

Bytes EuiccTest::es10(ByteView command) {
  auto r = apdu::send_es10(in_process_transmit(*card_), command, 0);
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message());
  return r ? *r : Bytes{};
}

std::uint16_t EuiccTest::es10_sw(ByteView command) {
  auto r = apdu::send_es10(in_process_transmit(*card_), command, 0);
  EXPECT_FALSE(r.has_value());
  return r ? 0x9000 : r.error().sw;
}

void EuiccTest::add_profiles(std::initializer_list<ProfileRecord> profiles) {
  auto s = store_->load();
  ASSERT_TRUE(s.has_value());
  for (const auto& p : profiles) s->profiles.push_back(p);
  ASSERT_TRUE(store_->save(*s).has_value());
}

EuiccState EuiccTest::state() const {
  auto s = store_->load();
  EXPECT_TRUE(s.has_value());
  return s ? *s : EuiccState{};
}

}  // namespace rsp::euicc::test
