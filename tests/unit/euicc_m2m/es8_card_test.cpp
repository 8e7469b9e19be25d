// The card side of ES8 on its own (the whole flow with the SM-DP is in
// tests/unit/smdp): the ISD-P record change it commits through, kept or
// refused as one durable write, and the STORE DATA framing it refuses;
// ES8.UpdateConnectivityParameters under SCP03 (m2m/es8_connectivity.hpp):
// accepted once, refused for a bad MAC, a replay, another counter, another
// key version, an unknown ISD-P or one without keys, each refusal leaving
// the parameters and the counter as they were.
#include <fstream>

#include "m2m_fixture.hpp"
#include "rsp/apdu/status_words.hpp"
#include "rsp/euicc_m2m/es8_card.hpp"
#include "rsp/m2m/es8_connectivity.hpp"

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

/// ES8.UpdateConnectivityParameters against the second ISD-P (a loaded
/// profile), its key set set by hand as the key establishment would.
class ConnectivityTest : public M2mTest {
 protected:
  void SetUp() override {
    M2mTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_FALSE(set_keys(card_->isd_r(), second_, 0x42));
    keys_.enc = Bytes(16, 0x42);
    keys_.mac = Bytes(16, 0x42);
    open_es8();
  }
  void open_es8() {
    es8_.reset();
    auto store = M2mStore::open(dir_);
    ASSERT_TRUE(store);
    auto es8 = Es8Card::open(card_->isd_r_shared(), *store);
    ASSERT_TRUE(es8) << es8.error().message;
    es8_ = std::move(*es8);
  }
  std::vector<Bytes> script(std::uint32_t counter, const Bytes& params, std::uint8_t version = 0x30) {
    auto s = m2m::es8::secure_connectivity_parameters(keys_, version, second_, counter, Bytes(8, 0x11), params);
    EXPECT_TRUE(s);
    return s ? *s : std::vector<Bytes>{};
  }
  /// Runs the C-APDUs on ISD-P `aid`; every status word.
  std::vector<std::uint16_t> run(const std::vector<Bytes>& c_apdus, const Bytes& aid) {
    std::vector<std::uint16_t> out;
    for (const auto& c : c_apdus) {
      auto r = apdu::parse_response(es8_->execute(aid, c));
      out.push_back(r ? r->sw : 0);
    }
    return out;
  }
  std::vector<std::uint16_t> run(const std::vector<Bytes>& c_apdus) { return run(c_apdus, second_); }

  m2m::es8::DerivedKeys keys_;
  std::unique_ptr<Es8Card> es8_;
  const Bytes params_ = from_hex("A00A80080891214365870900" "A1058103010203").value();
  const Bytes other_ = from_hex("A0038001FF").value();
};

TEST_F(ConnectivityTest, SecuredParametersAreStoredWithTheCounter) {
  auto s = script(1, params_);
  ASSERT_EQ(s.size(), 3U);
  // INITIALIZE UPDATE answers with the counter it uses.
  auto init = apdu::parse_response(es8_->execute(second_, s[0]));
  ASSERT_TRUE(init);
  EXPECT_EQ(init->sw, sw::kOk);
  EXPECT_EQ(m2m::es8::answered_counter(*init), 1U);
  EXPECT_EQ(run({s[1], s[2]}), (std::vector<std::uint16_t>{sw::kOk, sw::kOk}));
  EXPECT_EQ(isdp(second_).connectivity, params_);
  EXPECT_EQ(isdp(second_).scp03_counter, 1U);
  reopen();
  open_es8();
  EXPECT_EQ(isdp(second_).connectivity, params_);
  EXPECT_EQ(isdp(second_).scp03_counter, 1U);
  // The next one uses counter 2.
  EXPECT_EQ(run(script(2, other_)), (std::vector<std::uint16_t>{sw::kOk, sw::kOk, sw::kOk}));
  EXPECT_EQ(isdp(second_).connectivity, other_);
  EXPECT_EQ(isdp(second_).scp03_counter, 2U);
}

TEST_F(ConnectivityTest, ABadMacIsRefusedAndChangesNothing) {
  const Bytes before = isdp(second_).connectivity;
  auto s = script(1, params_);
  s[2][8] ^= 0x01;  // one enciphered byte of the STORE DATA
  EXPECT_EQ(run(s), (std::vector<std::uint16_t>{sw::kOk, sw::kOk, sw::kSecurityStatusNotSatisfied}));
  s = script(1, params_);
  s[2].back() ^= 0x01;  // its C-MAC
  EXPECT_EQ(run(s).back(), sw::kSecurityStatusNotSatisfied);
  s = script(1, params_);
  s[1][7] ^= 0x01;  // the host cryptogram
  EXPECT_EQ(run(s), (std::vector<std::uint16_t>{sw::kOk, sw::kVerificationFailed, sw::kConditionsNotSatisfied}));
  reopen();
  EXPECT_EQ(isdp(second_).connectivity, before);
  EXPECT_EQ(isdp(second_).scp03_counter, 0U);
}

TEST_F(ConnectivityTest, AReplayedOrMistimedScriptIsRefused) {
  auto s = script(1, params_);
  ASSERT_EQ(run(s).back(), sw::kOk);
  // The same script again: the card's counter moved on, its challenge too.
  EXPECT_EQ(run(s), (std::vector<std::uint16_t>{sw::kOk, sw::kVerificationFailed, sw::kConditionsNotSatisfied}));
  // A script for a counter ahead of the card's.
  EXPECT_EQ(run(script(5, other_))[1], sw::kVerificationFailed);
  // Steps out of order: no session, or not authenticated.
  auto next = script(2, other_);
  EXPECT_EQ(run({next[1]}).back(), sw::kConditionsNotSatisfied);
  EXPECT_EQ(run({next[0], next[2]}).back(), sw::kSecurityStatusNotSatisfied);
  EXPECT_EQ(isdp(second_).connectivity, params_);
  EXPECT_EQ(isdp(second_).scp03_counter, 1U);
  // Still usable with the right counter.
  EXPECT_EQ(run(script(2, other_)).back(), sw::kOk);
  EXPECT_EQ(isdp(second_).connectivity, other_);
}

TEST_F(ConnectivityTest, UnknownIsdpKeyVersionOrKeylessIsdpIsRefused) {
  auto s = script(1, params_);
  EXPECT_EQ(run(s, isdp_aid(9)).front(), sw::kReferencedDataNotFound);
  EXPECT_EQ(run(s, boot_).front(), sw::kConditionsNotSatisfied);  // no ES8 keys
  EXPECT_EQ(run(script(1, params_, 0x31)).front(), sw::kReferencedDataNotFound);
  EXPECT_TRUE(isdp(boot_).connectivity.empty() || isdp(boot_).connectivity != params_);
  EXPECT_NE(isdp(second_).connectivity, params_);
  EXPECT_EQ(isdp(second_).scp03_counter, 0U);
}

TEST(ConnectivityParameters, CheckedAndFramedInTheirDgi) {
  namespace es8 = m2m::es8;
  const Bytes p = from_hex("A0038001FF" "A2038401AA").value();
  EXPECT_TRUE(es8::check_connectivity_parameters(p));
  auto dgi = es8::encode_connectivity_dgi(p);
  ASSERT_TRUE(dgi);
  EXPECT_EQ(to_hex(*dgi), "3A070A" + to_hex(p));
  EXPECT_EQ(es8::decode_connectivity_dgi(*dgi).value(), p);
  for (const char* bad : {"", "A0", "A00580", "A0038001FFA0038001FF", "A3038001FF", "80020102", "A08000"}) {
    EXPECT_FALSE(es8::check_connectivity_parameters(from_hex(bad).value())) << bad;
  }
  EXPECT_FALSE(es8::check_connectivity_parameters(Bytes(es8::kMaxConnectivityParameters + 1, 0xA0)));
  EXPECT_FALSE(es8::decode_connectivity_dgi(from_hex("3A0805A0038001FF").value()));  // another DGI
  EXPECT_FALSE(es8::decode_connectivity_dgi(from_hex("3A0706A0038001FF").value()));  // length past the end
  EXPECT_FALSE(es8::decode_connectivity_dgi(from_hex("3A0705A0038001FF00").value()));  // bytes after it
  // The card challenge depends on the counter and the ISD-P.
  const Bytes k(16, 0x42);
  auto c1 = es8::pseudo_random_card_challenge(k, 1, isdp_aid(1));
  ASSERT_TRUE(c1);
  EXPECT_EQ(c1->size(), 8U);
  EXPECT_NE(*c1, es8::pseudo_random_card_challenge(k, 2, isdp_aid(1)).value());
  EXPECT_NE(*c1, es8::pseudo_random_card_challenge(k, 1, isdp_aid(2)).value());
  EXPECT_FALSE(es8::pseudo_random_card_challenge(k, es8::kMaxScp03Counter + 1, isdp_aid(1)));
  EXPECT_FALSE(es8::answered_counter(apdu::Response{Bytes(31, 0), sw::kOk}));
}

}  // namespace
}  // namespace rsp::euicc_m2m::test
