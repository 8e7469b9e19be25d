#include "rsp/crypto/scp03.hpp"

#include <gtest/gtest.h>

#include "kat.hpp"

namespace rsp::crypto {
namespace {

using Code = CryptoError::Code;
using test::read_kat;

const char* const kGetEidPlain = "80E2910006BF3E035C015A00";
const char* const kGetEidResponsePlain = "bf3e125a1089882119900000000000000000000005";
const char* const kCasesPlain[] = {"80F22002", "80ca006600", "80F220020a4f0212345c054f9f70c5",
                                   "80f28002024f0000"};

Bytes hex(const std::string& h) { return from_hex(h).value(); }

struct InitUpdate {
  Bytes host_challenge, card_challenge, card_cryptogram;
};

InitUpdate parse_init_update(const test::KatRecord& r) {
  Bytes cmd = r.hex("INIT_UPDATE_CMD"), rsp = r.hex("INIT_UPDATE_RSP");
  // Response: key diversification data (10) || key info (3) || card challenge (8)
  //           || card cryptogram (8) || sequence counter (3).
  return {Bytes(cmd.begin() + 5, cmd.begin() + 13), Bytes(rsp.begin() + 13, rsp.begin() + 21),
          Bytes(rsp.begin() + 21, rsp.begin() + 29)};
}

TEST(Scp03, HostMatchesPublicCardTraces) {
  auto kat = read_kat("scp03_trace.txt");
  ASSERT_EQ(kat.size(), 5u);
  for (const auto& r : kat) {
    SCOPED_TRACE(r.at("keys") + " level " + r.at("level"));
    Scp03StaticKeys keys{r.hex("K_ENC"), r.hex("K_MAC")};
    InitUpdate iu = parse_init_update(r);
    auto level = static_cast<std::uint8_t>(hex(r.at("level"))[0]);
    auto host = Scp03Host::establish(keys, iu.host_challenge, iu.card_challenge,
                                     iu.card_cryptogram, level);
    ASSERT_TRUE(host) << host.error().message;
    EXPECT_EQ(to_hex(host->external_authenticate().value()), to_hex(r.hex("EXT_AUTH")));
    EXPECT_EQ(to_hex(host->wrap_command(hex(kGetEidPlain)).value()), to_hex(r.hex("GET_EID_CMD")));
    auto eid = host->unwrap_response(r.hex("GET_EID_RSP"), 0x9000);
    ASSERT_TRUE(eid) << eid.error().message;
    EXPECT_EQ(*eid, hex(kGetEidResponsePlain));
    const char* names[] = {"CASE1", "CASE2", "CASE3", "CASE4"};
    for (int i = 0; i < 4; ++i)
      EXPECT_EQ(to_hex(host->wrap_command(hex(kCasesPlain[i])).value()), to_hex(r.hex(names[i])))
          << names[i];
  }
}

TEST(Scp03, CardSideUnwrapsTheTraceAndAnswers) {
  auto kat = read_kat("scp03_trace.txt");
  for (const auto& r : kat) {
    SCOPED_TRACE(r.at("keys") + " level " + r.at("level"));
    Scp03StaticKeys keys{r.hex("K_ENC"), r.hex("K_MAC")};
    InitUpdate iu = parse_init_update(r);
    auto card = Scp03Card::establish(keys, iu.host_challenge, iu.card_challenge);
    ASSERT_TRUE(card);
    EXPECT_EQ(card->card_cryptogram(), iu.card_cryptogram);
    ASSERT_TRUE(card->verify_external_authenticate(r.hex("EXT_AUTH")));
    auto cmd = card->unwrap_command(r.hex("GET_EID_CMD"));
    ASSERT_TRUE(cmd) << cmd.error().message;
    EXPECT_EQ(to_hex(*cmd), to_hex(hex(kGetEidPlain)));
    EXPECT_EQ(to_hex(card->wrap_response(hex(kGetEidResponsePlain), 0x9000).value()),
              to_hex(r.hex("GET_EID_RSP")));
    const char* names[] = {"CASE1", "CASE2", "CASE3", "CASE4"};
    for (int i = 0; i < 4; ++i)
      EXPECT_EQ(to_hex(card->unwrap_command(r.hex(names[i])).value()), to_hex(hex(kCasesPlain[i])));
  }
}

TEST(Scp03, RejectsWrongCryptogramsAndMacs) {
  auto kat = read_kat("scp03_trace.txt");
  const auto& r = kat.at(2);  // level 33
  Scp03StaticKeys keys{r.hex("K_ENC"), r.hex("K_MAC")};
  InitUpdate iu = parse_init_update(r);
  Bytes bad_crypto = iu.card_cryptogram;
  bad_crypto[7] ^= 1;
  EXPECT_EQ(Scp03Host::establish(keys, iu.host_challenge, iu.card_challenge, bad_crypto, 0x33)
                .error()
                .code,
            Code::MacMismatch);

  auto card = Scp03Card::establish(keys, iu.host_challenge, iu.card_challenge);
  ASSERT_TRUE(card);
  EXPECT_FALSE(card->unwrap_command(r.hex("GET_EID_CMD")));  // not yet authenticated
  Bytes ea = r.hex("EXT_AUTH");
  ea[6] ^= 1;
  EXPECT_EQ(card->verify_external_authenticate(ea).error().code, Code::MacMismatch);
  ASSERT_TRUE(card->verify_external_authenticate(r.hex("EXT_AUTH")));
  Bytes cmd = r.hex("GET_EID_CMD");
  cmd[8] ^= 1;
  EXPECT_EQ(card->unwrap_command(cmd).error().code, Code::MacMismatch);
  EXPECT_FALSE(card->unwrap_command(from_hex("84").value()));
  EXPECT_FALSE(card->unwrap_command(from_hex("84e2910003010203").value()));

  auto host = Scp03Host::establish(keys, iu.host_challenge, iu.card_challenge,
                                   iu.card_cryptogram, 0x33);
  ASSERT_TRUE(host);
  ASSERT_TRUE(host->external_authenticate());
  ASSERT_TRUE(host->wrap_command(hex(kGetEidPlain)));
  Bytes rsp = r.hex("GET_EID_RSP");
  EXPECT_EQ(host->unwrap_response(rsp, 0x6A88).error().code, Code::MacMismatch);
  rsp[0] ^= 1;
  EXPECT_EQ(host->unwrap_response(rsp, 0x9000).error().code, Code::MacMismatch);
  EXPECT_FALSE(host->unwrap_response(Bytes(4, 0), 0x9000));
}

}  // namespace
}  // namespace rsp::crypto
