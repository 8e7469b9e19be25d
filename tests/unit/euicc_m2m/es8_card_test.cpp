// The card side of ES8 on its own (the whole flow with the SM-DP is in
// tests/unit/smdp): the ISD-P record change it commits through, kept or
// refused as one durable write, and the STORE DATA framing it refuses.
#include <fstream>

#include "m2m_fixture.hpp"
#include "rsp/apdu/status_words.hpp"
#include "rsp/euicc_m2m/es8_card.hpp"

namespace rsp::euicc_m2m::test {
namespace {

namespace fs = std::filesystem;
namespace sw = apdu::sw;

std::optional<std::uint16_t> set_keys(M2mIsdR& isd_r, const Bytes& aid, std::uint8_t fill) {
  return isd_r.change_isdp(aid, [&](IsdpRecord& r) -> std::optional<std::uint16_t> {
    r.scp03_version = 0x30;
    r.scp03_enc = Bytes(16, fill);
    r.scp03_mac = Bytes(16, fill);
    r.scp03_dek = Bytes(16, fill);
    return std::nullopt;
  });
}

TEST_F(M2mTest, IsdpKeysAreSavedAndSurviveAReopen) {
  const Bytes aid = isdp_aid(5);
  ASSERT_EQ(sw(m2m::CreateIsdp{aid, std::nullopt}), sw::kOk);
  EXPECT_FALSE(set_keys(card_->isd_r(), aid, 0x42));
  reopen();
  EXPECT_EQ(isdp(aid).scp03_version, 0x30);
  EXPECT_EQ(isdp(aid).scp03_enc, Bytes(16, 0x42));
  // The older ISD-Ps, made before any key establishment, have none.
  EXPECT_EQ(isdp(boot_).scp03_version, 0);
  EXPECT_TRUE(isdp(boot_).scp03_enc.empty());
}

TEST_F(M2mTest, RefusedIsdpChangeLeavesTheStateAsItWas) {
  const Bytes aid = isdp_aid(5);
  ASSERT_EQ(sw(m2m::CreateIsdp{aid, std::nullopt}), sw::kOk);
  auto refused = card_->isd_r().change_isdp(aid, [](IsdpRecord& r) -> std::optional<std::uint16_t> {
    r.scp03_version = 0x30;
    r.state = m2m::IsdpState::kDisabled;
    return sw::kConditionsNotSatisfied;
  });
  EXPECT_EQ(refused, sw::kConditionsNotSatisfied);
  EXPECT_EQ(isdp(aid).scp03_version, 0);
  EXPECT_EQ(isdp(aid).state, m2m::IsdpState::kSelectable);
  EXPECT_EQ(set_keys(card_->isd_r(), isdp_aid(9), 1), sw::kReferencedDataNotFound);
}

TEST_F(M2mTest, ATornKeySaveLeavesTheIsdpWithoutKeys) {
  const Bytes aid = isdp_aid(5);
  ASSERT_EQ(sw(m2m::CreateIsdp{aid, std::nullopt}), sw::kOk);
  ASSERT_FALSE(set_keys(card_->isd_r(), aid, 0x42));
  const fs::path slot = newest_slot(dir_ / "m2m");
  ASSERT_FALSE(slot.empty());
  fs::resize_file(slot, fs::file_size(slot) / 2);
  reopen();
  EXPECT_EQ(isdp(aid).state, m2m::IsdpState::kSelectable);
  EXPECT_EQ(isdp(aid).scp03_version, 0);
  EXPECT_TRUE(isdp(aid).scp03_enc.empty());
}

TEST_F(M2mTest, Es8CardRefusesWhatIsNotItsStoreData) {
  const Bytes aid = isdp_aid(5);
  ASSERT_EQ(sw(m2m::CreateIsdp{aid, std::nullopt}), sw::kOk);
  auto store = M2mStore::open(dir_);
  ASSERT_TRUE(store);
  auto es8 = Es8Card::open(card_->isd_r_shared(), *store);
  ASSERT_TRUE(es8) << es8.error().message;
  auto send = [&](const std::string& hex) {
    auto r = apdu::parse_response((*es8)->execute(aid, from_hex(hex).value()));
    return r ? r->sw : std::uint16_t{0};
  };
  EXPECT_EQ(send("00E2900003010203"), sw::kClaNotSupported);
  EXPECT_EQ(send("80CA00000100"), sw::kInsNotSupported);
  EXPECT_EQ(send("80E2000003010203"), sw::kIncorrectP1P2);  // no BER-TLV structure
  EXPECT_EQ(send("80E2900000"), sw::kWrongData);  // no data
  EXPECT_NE(send("FF"), sw::kOk);                  // not an APDU
  // Blocks without a last one: bounded, then refused and forgotten.
  const std::string block = "80E21000FF" + std::string(255 * 2, 'A');
  std::uint16_t last = sw::kOk;
  for (int i = 0; i < 20 && last == sw::kOk; ++i) {
    std::string b = block;
    const char digits[] = "0123456789ABCDEF";
    b[6] = digits[(i >> 4) & 0xF];
    b[7] = digits[i & 0xF];
    last = send(b);
  }
  EXPECT_EQ(last, sw::kWrongData);
  EXPECT_EQ(send("80E2900003010203"), sw::kWrongData);  // a new message from block 0: not an ES8 one
  EXPECT_EQ(isdp(aid).scp03_version, 0);
}

}  // namespace
}  // namespace rsp::euicc_m2m::test
