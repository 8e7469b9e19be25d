// The card's SCP03 hook (GP Card Spec v2.3 §10, Amendment D) against a host
// session: the public pySim traces as known answers through the card, and
// round trips with tampered and replayed commands, wrong keys and levels.
#include <gtest/gtest.h>

#include <algorithm>

#include "../crypto/kat.hpp"
#include "rsp/apdu/response.hpp"
#include "rsp/card/card.hpp"
#include "rsp/card/secure_channel.hpp"

namespace rsp::card {
namespace {

namespace level = crypto::scp03_level;

Bytes hex(std::string_view h) { return from_hex(h).value(); }

const Bytes kSdAid = hex("A000000151000000");
const char* const kGetEidResponsePlain = "BF3E125A1089882119900000000000000000000005";

/// Hands out the bytes it was given, then zeros.
class FixedRandom final : public crypto::Random {
 public:
  explicit FixedRandom(Bytes b) : bytes_(std::move(b)) {}
  void fill(std::span<std::uint8_t> out) override {
    for (auto& o : out) o = at_ < bytes_.size() ? bytes_[at_++] : 0;
  }

 private:
  Bytes bytes_;
  std::size_t at_ = 0;
};

/// A security domain stand-in: offers one SCP03 key set (version 30), answers
/// the EID to STORE DATA BF3E, echoes every other command's data and records
/// what it received in plain with its security level.
class SdApp final : public Application {
 public:
  SdApp(crypto::Scp03StaticKeys keys, std::uint8_t key_version) {
    key_set_.keys = std::move(keys);
    key_set_.key_version = key_version;
  }
  ByteView aid() const override { return kSdAid; }
  const Scp03KeySet* scp03_key_set(std::uint8_t version) const override {
    return version == 0 || version == key_set_.key_version ? &key_set_ : nullptr;
  }
  apdu::Response process(const ApduCommand& c) override {
    seen.push_back(c);
    if (c.apdu.ins == 0xE2 && c.apdu.data == hex("BF3E035C015A")) return {hex(kGetEidResponsePlain), 0x9000};
    if (c.apdu.ins == 0xEE) return {{}, 0x6A80};
    return {c.apdu.data, 0x9000};
  }
  std::vector<ApduCommand> seen;

 private:
  Scp03KeySet key_set_;
};

crypto::Scp03StaticKeys test_keys() {
  return {hex("404142434445464748494A4B4C4D4E4F"), hex("505152535455565758595A5B5C5D5E5F")};
}

struct Rig {
  explicit Rig(Bytes card_challenge = Bytes(8, 0x5A), crypto::Scp03StaticKeys keys = test_keys(),
               std::uint8_t key_version = 0x30)
      : random(std::move(card_challenge)) {
    CardConfig cfg;
    cfg.random = &random;
    card = std::make_unique<Card>(cfg);
    app = std::make_shared<SdApp>(std::move(keys), key_version);
    card->add_application(app);
    Bytes select = hex("00A4040008");
    select.insert(select.end(), kSdAid.begin(), kSdAid.end());
    EXPECT_EQ(to_hex(card->transmit(select)), "9000");
  }
  apdu::Response tx(ByteView apdu) { return apdu::parse_response(card->transmit(apdu)).value(); }

  /// INITIALIZE UPDATE + EXTERNAL AUTHENTICATE from a host with `keys`.
  std::optional<crypto::Scp03Host> open(std::uint8_t lvl, const crypto::Scp03StaticKeys& keys = test_keys()) {
    const Bytes host_challenge = hex("0102030405060708");
    Bytes iu = hex("8050000008");
    iu.insert(iu.end(), host_challenge.begin(), host_challenge.end());
    iu.push_back(0x00);
    auto r = tx(iu);
    EXPECT_EQ(r.sw, 0x9000);
    if (r.data.size() != 32) return std::nullopt;
    auto host = crypto::Scp03Host::establish(keys, host_challenge, ByteView(r.data).subspan(13, 8),
                                             ByteView(r.data).subspan(21, 8), lvl);
    if (!host) return std::nullopt;
    auto ea = tx(host->external_authenticate().value());
    EXPECT_EQ(ea.sw, 0x9000);
    return std::move(host).value();
  }

  FixedRandom random;
  std::unique_ptr<Card> card;
  std::shared_ptr<SdApp> app;
};

TEST(CardScp03, PublicTracesThroughTheCard) {
  auto kat = crypto::test::read_kat("scp03_trace.txt");
  ASSERT_EQ(kat.size(), 5u);
  for (const auto& r : kat) {
    SCOPED_TRACE(r.at("keys") + " level " + r.at("level"));
    const Bytes iu_rsp = r.hex("INIT_UPDATE_RSP");
    Rig rig(Bytes(iu_rsp.begin() + 13, iu_rsp.begin() + 21), {r.hex("K_ENC"), r.hex("K_MAC")},
            r.hex("INIT_UPDATE_CMD").at(2));
    auto iu = rig.tx(r.hex("INIT_UPDATE_CMD"));
    ASSERT_EQ(iu.sw, 0x9000);
    // Diversification data, key information (30 03 70), card challenge and
    // card cryptogram as the real card answered; the sequence counter is ours.
    ASSERT_EQ(iu.data.size(), iu_rsp.size());
    EXPECT_EQ(to_hex(ByteView(iu.data).first(29)), to_hex(ByteView(iu_rsp).first(29)));
    EXPECT_EQ(rig.tx(r.hex("EXT_AUTH")).sw, 0x9000);
    auto eid = rig.tx(r.hex("GET_EID_CMD"));
    EXPECT_EQ(eid.sw, 0x9000);
    EXPECT_EQ(to_hex(eid.data), to_hex(r.hex("GET_EID_RSP")));
    const char* names[] = {"CASE1", "CASE2", "CASE3", "CASE4"};
    const char* plain[] = {"80F22002", "80CA006600", "80F220020A4F0212345C054F9F70C5", "80F28002024F0000"};
    for (int i = 0; i < 4; ++i) {
      auto resp = rig.tx(r.hex(names[i]));
      // Case 1 and 3 commands whose answer carries an R-MAC announce it with 61xx.
      EXPECT_TRUE(resp.sw == 0x9000 || resp.sw1() == 0x61) << names[i] << " " << resp.sw;
      const auto& seen = rig.app->seen.back();
      EXPECT_EQ(to_hex(apdu::encode_command(seen.apdu).value()), plain[i]) << names[i];
      EXPECT_EQ(seen.security_level, static_cast<std::uint8_t>(hex(r.at("level"))[0]));
    }
  }
}

TEST(CardScp03, AllLevelsRoundTrip) {
  for (std::uint8_t lvl : {level::kCMac, std::uint8_t(level::kCMac | level::kCDecryption),
                           std::uint8_t(level::kCMac | level::kRMac),
                           std::uint8_t(level::kCMac | level::kCDecryption | level::kRMac | level::kREncryption)}) {
    SCOPED_TRACE(static_cast<int>(lvl));
    Rig rig;
    auto host = rig.open(lvl);
    ASSERT_TRUE(host);
    const Bytes data = hex("4F0212345C054F9F70C5AABBCCDDEEFF0011");
    Bytes plain = hex("80F2200212");
    plain.insert(plain.end(), data.begin(), data.end());
    plain.push_back(0x00);
    auto r = rig.tx(host->wrap_command(plain).value());
    ASSERT_EQ(r.sw, 0x9000);
    EXPECT_EQ(rig.app->seen.back().apdu.data, data);
    EXPECT_EQ(rig.app->seen.back().security_level, lvl);
    auto back = host->unwrap_response(r.data, r.sw);
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(*back, data);
    if (lvl & level::kREncryption) {
      EXPECT_EQ(std::search(r.data.begin(), r.data.end(), data.begin(), data.end()), r.data.end());
    }
  }
}

TEST(CardScp03, TamperedMacIsRefusedAndEndsTheSession) {
  Rig rig;
  auto host = rig.open(level::kCMac);
  ASSERT_TRUE(host);
  Bytes cmd = host->wrap_command(hex("80CA006600")).value();
  cmd[cmd.size() - 2] ^= 0x01;  // last C-MAC byte (before Le)
  EXPECT_EQ(rig.tx(cmd).sw, 0x6982);
  // The session is gone: even a good command under SM is refused.
  EXPECT_EQ(rig.tx(host->wrap_command(hex("80CA006600")).value()).sw, 0x6882);
}

TEST(CardScp03, ReplayedCommandIsRefused) {
  Rig rig;
  auto host = rig.open(level::kCMac | level::kCDecryption);
  ASSERT_TRUE(host);
  const Bytes first = host->wrap_command(hex("80F22002024F0000")).value();
  EXPECT_EQ(rig.tx(first).sw, 0x9000);
  EXPECT_EQ(rig.tx(first).sw, 0x6982);  // the MAC chaining value moved on
}

TEST(CardScp03, WrongKeysFailAuthentication) {
  Rig rig;
  crypto::Scp03StaticKeys wrong{hex("000102030405060708090A0B0C0D0E0F"), hex("101112131415161718191A1B1C1D1E1F")};
  // The host sees the card cryptogram does not match its keys ...
  EXPECT_FALSE(rig.open(level::kCMac, wrong).has_value());
  // ... and a host cryptogram made without the card's keys is refused.
  auto iu = rig.tx(hex("8050000008010203040506070800"));
  ASSERT_EQ(iu.sw, 0x9000);
  EXPECT_EQ(rig.tx(hex("848201001000000000000000000000000000000000")).sw, 0x6300);
  EXPECT_EQ(rig.tx(hex("848201001000000000000000000000000000000000")).sw, 0x6882);  // session closed
}

TEST(CardScp03, RefusalsWithTheirStatusWords) {
  Rig rig;
  EXPECT_EQ(rig.tx(hex("84CA006608000000")).sw, 0x6700);             // malformed: length mismatch
  EXPECT_EQ(rig.tx(hex("84CA0066080000000000000000")).sw, 0x6882);   // no session
  EXPECT_EQ(rig.tx(hex("805000000401020304")).sw, 0x6700);           // short host challenge
  EXPECT_EQ(rig.tx(hex("80500001080102030405060708")).sw, 0x6A86);   // P2 not 00
  EXPECT_EQ(rig.tx(hex("80503100080102030405060708")).sw, 0x6A88);   // unknown key version
  // A command under SM before EXTERNAL AUTHENTICATE ends the session.
  ASSERT_EQ(rig.tx(hex("80500000080102030405060708")).sw, 0x6120);
  EXPECT_EQ(rig.tx(hex("84CA0066080000000000000000")).sw, 0x6982);
  // An undefined security level (R-ENCRYPTION alone).
  ASSERT_EQ(rig.tx(hex("80500000080102030405060708")).sw, 0x6120);
  EXPECT_EQ(rig.tx(hex("848220001000000000000000000000000000000000")).sw, 0x6A86);
  // Application errors pass through without R-MAC.
  auto host = rig.open(level::kCMac | level::kRMac);
  ASSERT_TRUE(host);
  EXPECT_EQ(rig.tx(host->wrap_command(hex("80EE0000")).value()).sw, 0x6A80);
}

TEST(CardScp03, SelectAndResetEndTheSessionAndPlainCommandsCarryNoLevel) {
  Rig rig;
  auto host = rig.open(level::kCMac);
  ASSERT_TRUE(host);
  EXPECT_EQ(rig.tx(hex("80CA006600")).sw, 0x9000);  // plain beside the session
  EXPECT_EQ(rig.app->seen.back().security_level, 0);
  EXPECT_EQ(rig.tx(host->wrap_command(hex("80CA006600")).value()).sw, 0x9000);
  EXPECT_EQ(rig.app->seen.back().security_level, level::kCMac);
  Bytes select = hex("00A4040C08");
  select.insert(select.end(), kSdAid.begin(), kSdAid.end());
  EXPECT_EQ(rig.tx(select).sw, 0x9000);
  EXPECT_EQ(rig.tx(host->wrap_command(hex("80CA006600")).value()).sw, 0x6882);

  auto again = rig.open(level::kCMac);
  ASSERT_TRUE(again);
  rig.card->reset();
  EXPECT_EQ(rig.tx(again->wrap_command(hex("80CA006600")).value()).sw, 0x6882);
}

}  // namespace
}  // namespace rsp::card
