// The typed GlobalPlatform commands: decoding the shapes an SM-SR sends to an
// M2M ISD-R, encoding them back, the status word of every refusal, and the
// generic security domain that requires the secure channel.
#include <gtest/gtest.h>

#include "rsp/apdu/response.hpp"
#include "rsp/card/card.hpp"
#include "rsp/card/gp_commands.hpp"
#include "rsp/card/gp_security_domain.hpp"

namespace rsp::card {
namespace {

Bytes hex(std::string_view h) { return from_hex(h).value(); }

/// "header|data" with Lc computed; a trailing "|" adds Le 00.
Bytes apdu_bytes(std::string_view spec) {
  const auto bar = spec.find('|');
  Bytes out = hex(spec.substr(0, bar));
  if (bar == std::string_view::npos) return out;
  std::string_view rest = spec.substr(bar + 1);
  const bool le = !rest.empty() && rest.back() == '|';
  if (le) rest.remove_suffix(1);
  const Bytes data = hex(rest);
  if (!data.empty()) {
    out.push_back(static_cast<std::uint8_t>(data.size()));
    out.insert(out.end(), data.begin(), data.end());
  }
  if (le) out.push_back(0x00);
  return out;
}

apdu::Command cmd(std::string_view spec) { return apdu::parse_command(apdu_bytes(spec)).value(); }

std::uint16_t refusal(std::string_view h) {
  auto r = gp::decode(cmd(h));
  EXPECT_FALSE(r.has_value()) << h;
  return r ? 0 : gp::status_word(r.error());
}

/// decode(encode(x)) == x for a decoded command.
void round_trips(const gp::Command& c) {
  auto encoded = gp::encode(c);
  ASSERT_TRUE(encoded);
  auto again = gp::decode(*encoded);
  ASSERT_TRUE(again) << to_hex(apdu::encode_command(*encoded).value());
  EXPECT_TRUE(*again == c);
}

TEST(GpCommands, InstallForInstallAndMakeSelectable) {
  // An ISD-P created from the ELF A0000005591010FFFFFFFF8900000D00 (SGP.02 style).
  auto r = gp::decode(cmd("80E60C00|" "10A0000005591010FFFFFFFF8900000D00" "10A0000005591010FFFFFFFF8900000E00"
                          "10A0000005591010FFFFFFFF8900001000" "03800000" "02C900" "00"));
  ASSERT_TRUE(r) << gp::message(r.error());
  const auto* in = std::get_if<gp::Install>(&*r);
  ASSERT_NE(in, nullptr);
  EXPECT_EQ(in->p1, gp::Install::kForInstall | gp::Install::kForMakeSelectable);
  EXPECT_EQ(to_hex(in->application_aid), "A0000005591010FFFFFFFF8900001000");
  EXPECT_EQ(to_hex(in->privileges), "800000");
  EXPECT_EQ(to_hex(in->parameters), "C900");
  round_trips(*r);

  auto perso = gp::decode(cmd("80E62000|00001110A0000005591010FFFFFFFF8900001000000000"));
  EXPECT_FALSE(perso.has_value());  // an AID length of 11 where 10 bytes follow
  auto p = gp::decode(cmd("80E62000|0000" "10A0000005591010FFFFFFFF8900001000" "000000"));
  ASSERT_TRUE(p);
  EXPECT_EQ(std::get<gp::Install>(*p).p1, gp::Install::kForPersonalization);
  round_trips(*p);
}

TEST(GpCommands, InstallRefusals) {
  EXPECT_EQ(refusal("80E60C01|0000"), 0x6A86);                 // P2 not 00
  EXPECT_EQ(refusal("80E60200|000000000000"), 0x6A86);               // [for load] is not handled
  EXPECT_EQ(refusal("80E60400"), 0x6700);                       // no data
  EXPECT_EQ(refusal("80E60400|0000050102"), 0x6A80);           // truncated AID
  EXPECT_EQ(refusal("80E60800|0000030102030000"), 0x6A80);     // AID too short
  EXPECT_EQ(refusal("00E60400|000000000000"), 0x6E00);           // interindustry class
}

TEST(GpCommands, DeleteWithRelatedObjects) {
  auto r = gp::decode(cmd("80E40080|4F10A0000005591010FFFFFFFF8900001000|"));
  ASSERT_TRUE(r);
  const auto& d = std::get<gp::Delete>(*r);
  EXPECT_TRUE(d.related_objects);
  EXPECT_EQ(to_hex(d.aid), "A0000005591010FFFFFFFF8900001000");
  round_trips(*r);
  EXPECT_EQ(refusal("80E40001|4F00"), 0x6A86);
  EXPECT_EQ(refusal("80E40000|4F03A000"), 0x6A80);  // the AID's length overruns the data
  EXPECT_EQ(refusal("80E40000|C10501020304054F00"), 0x6A80);
  EXPECT_EQ(refusal("80E40000||"), 0x6700);
}

TEST(GpCommands, PutKeyAesKeySet) {
  // Three AES keys (ENC, MAC, DEK) replacing version 30 by 31.
  const std::string key = "8811" "10" "00112233445566778899AABBCCDDEEFF" "03" "A1B2C3";
  auto r = gp::decode(cmd("80D83081|" "31" + key + key + key));
  ASSERT_TRUE(r) << gp::message(r.error());
  const auto& k = std::get<gp::PutKey>(*r);
  EXPECT_EQ(k.old_version, 0x30);
  EXPECT_EQ(k.key_id, 1);
  EXPECT_TRUE(k.multiple_keys);
  EXPECT_EQ(k.new_version, 0x31);
  ASSERT_EQ(k.keys.size(), 3u);
  EXPECT_EQ(k.keys[1].type, 0x88);
  EXPECT_EQ(to_hex(k.keys[1].check_value), "A1B2C3");
  round_trips(*r);
  EXPECT_EQ(refusal("80D83000|310000"), 0x6A86);          // key identifier 0
  EXPECT_EQ(refusal("80D83001|31"), 0x6A80);              // no key
  EXPECT_EQ(refusal("80D83001|318803AABB00"), 0x6A80);      // key data overruns
  EXPECT_EQ(refusal("80D83001|FF880100"), 0x6A80);        // version FF
  EXPECT_EQ(refusal("80D83001|" "31" "88010100" "88010100"), 0x6A80);  // two keys without P2 b8
}

TEST(GpCommands, StoreDataGetStatusGetDataSetStatus) {
  auto sd = gp::decode(cmd("80E29100|BF3E035C015A"));  // the SGP.22 coding, P1 91
  ASSERT_TRUE(sd);
  const auto& s = std::get<gp::StoreData>(*sd);
  EXPECT_TRUE(s.last_block);
  EXPECT_EQ(s.structure, 2);  // BER-TLV
  round_trips(*sd);
  EXPECT_EQ(refusal("80E2C000|AA"), 0x6A86);  // encryption coding 10 is RFU
  EXPECT_EQ(refusal("80E29000"), 0x6700);

  auto gs = gp::decode(cmd("80F24002|4F00|"));
  ASSERT_TRUE(gs);
  EXPECT_EQ(std::get<gp::GetStatus>(*gs).subset, gp::GetStatus::kApplications);
  EXPECT_TRUE(std::get<gp::GetStatus>(*gs).tlv_format);
  round_trips(*gs);
  auto gs2 = gp::decode(cmd("80F24002|" "4F00" "5C064F9F70C5EA"));
  ASSERT_FALSE(gs2.has_value());  // the tag list's length runs past the data
  auto gs3 = gp::decode(cmd("80F24002|" "4F00" "5C044F9F70C5" "00"));
  EXPECT_FALSE(gs3.has_value());  // a byte after the tag list
  EXPECT_EQ(refusal("80F20102|4F00"), 0x6A86);
  EXPECT_EQ(refusal("80F24006|4F00"), 0x6A86);
  EXPECT_EQ(refusal("80F24002|5C00"), 0x6A80);

  auto gd = gp::decode(cmd("80CA0066||"));
  ASSERT_TRUE(gd);
  EXPECT_EQ(std::get<gp::GetData>(*gd).tag, 0x0066);
  round_trips(*gd);
  EXPECT_EQ(refusal("80CA0000||"), 0x6A86);
  EXPECT_EQ(refusal("80CA0066|01"), 0x6700);

  auto ss = gp::decode(cmd("80F04007|" "A0000005591010FFFFFFFF8900001000"));
  ASSERT_TRUE(ss);
  EXPECT_EQ(std::get<gp::SetStatus>(*ss).state_control, 0x07);
  round_trips(*ss);
  EXPECT_EQ(refusal("80F01007|A000000559"), 0x6A86);
  EXPECT_EQ(refusal("80F04007"), 0x6700);
}

TEST(GpCommands, EnvelopeSmsPpDownload) {
  // D1 { 82 02 83 81 (network -> UICC), 06 address, 8B SMS-DELIVER TPDU }.
  auto r = gp::decode(cmd("80C20000|D11482028381060491214365" "8B080400048121436500|"));
  ASSERT_TRUE(r) << gp::message(r.error());
  const auto& e = std::get<gp::Envelope>(*r);
  EXPECT_EQ(to_hex(e.device_identities), "8381");
  ASSERT_TRUE(e.address);
  EXPECT_EQ(to_hex(e.tpdu), "0400048121436500");
  round_trips(*r);
  EXPECT_EQ(refusal("80C20000||"), 0x6700);
  EXPECT_EQ(refusal("80C20001|D3028201"), 0x6A86);
  EXPECT_EQ(refusal("80C20000|D30482028381"), 0x6A80);  // not SMS-PP
  EXPECT_EQ(refusal("80C20000|D10482028381"), 0x6A80);     // no TPDU
  EXPECT_EQ(refusal("80C20000|D106820283818B00"), 0x6A80);  // empty TPDU
  EXPECT_EQ(refusal("80C20000|D10BFE0100820283818B0101"), 0x6A80);  // unknown comprehension-required tag
}

TEST(GpCommands, EncodeRefusesWhatAShortApduCannotCarry) {
  gp::StoreData big;
  big.data = Bytes(300, 1);
  auto e = gp::encode(big);
  ASSERT_FALSE(e);
  EXPECT_EQ(gp::status_word(e.error()), 0x6700);
  gp::Install in;
  in.parameters = Bytes(256, 0);
  EXPECT_FALSE(gp::encode(in).has_value());
}

/// A security domain that accepts INSTALL and ENVELOPE.
class TestSd final : public GpSecurityDomain {
 public:
  TestSd() : GpSecurityDomain(hex("A0000005591010FFFFFFFF8900000100"), key_set()) {}
  static Scp03KeySet key_set() {
    Scp03KeySet k;
    k.keys = {hex("404142434445464748494A4B4C4D4E4F"), hex("505152535455565758595A5B5C5D5E5F")};
    return k;
  }
  int installs = 0;
  int envelopes = 0;

 protected:
  apdu::Response on_install(const gp::Install&, const ApduCommand&) override {
    ++installs;
    return {{}, 0x9000};
  }
  apdu::Response on_envelope(const gp::Envelope&, const ApduCommand&) override {
    ++envelopes;
    return {hex("AA"), 0x9000};
  }
};

TEST(GpSecurityDomain, ContentManagementNeedsTheSecureChannel) {
  Card card;
  auto sd = std::make_shared<TestSd>();
  card.add_application(sd);
  auto tx = [&](ByteView a) { return apdu::parse_response(card.transmit(a)).value(); };
  ASSERT_EQ(tx(hex("00A4040C10A0000005591010FFFFFFFF8900000100")).sw, 0x9000);
  const Bytes install = apdu_bytes("80E60C00|" "10A0000005591010FFFFFFFF8900000D00" "10A0000005591010FFFFFFFF8900000E00"
                            "10A0000005591010FFFFFFFF8900001000" "03800000" "02C900" "00");
  EXPECT_EQ(tx(install).sw, 0x6982);  // in plain
  EXPECT_EQ(sd->installs, 0);
  EXPECT_EQ(tx(apdu_bytes("80C20000|D11482028381060491214365" "8B080400048121436500")).sw, 0x6101);  // ENVELOPE in plain
  EXPECT_EQ(sd->envelopes, 1);
  EXPECT_EQ(tx(hex("80D8300100")).sw, 0x6700);   // malformed: the decoder's status word
  EXPECT_EQ(tx(apdu_bytes("80CA0066||")).sw, 0x6A81);   // not implemented by this domain
  EXPECT_EQ(tx(hex("80AB000000")).sw, 0x6D00);

  // Over SCP03 with C-MAC the same INSTALL goes through.
  const Bytes host_challenge = hex("0102030405060708");
  auto iu = tx(hex("8050000008010203040506070800"));
  ASSERT_EQ(iu.sw, 0x9000);
  auto host = crypto::Scp03Host::establish(TestSd::key_set().keys, host_challenge, ByteView(iu.data).subspan(13, 8),
                                           ByteView(iu.data).subspan(21, 8), crypto::scp03_level::kCMac);
  ASSERT_TRUE(host);
  ASSERT_EQ(tx(host->external_authenticate().value()).sw, 0x9000);
  EXPECT_EQ(tx(host->wrap_command(install).value()).sw, 0x9000);
  EXPECT_EQ(sd->installs, 1);
}

}  // namespace
}  // namespace rsp::card
