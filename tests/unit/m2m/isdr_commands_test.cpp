// The ISD-R platform command codec (SGP.02 §4.1.1): every command built by the
// SM-SR side parses back to itself on the card side, the exact bytes of the
// commands whose coding the spec fixes, and the status word of each malformed
// or foreign command.
#include <gtest/gtest.h>

#include "rsp/apdu/status_words.hpp"
#include "rsp/m2m/isdr_commands.hpp"

namespace rsp::m2m {
namespace {

Bytes hex(std::string_view h) { return from_hex(h).value(); }

const Bytes kAid = hex("A0000005591010FFFFFFFF8900001100");

/// The card's answer to raw APDU bytes: the status word, 9000 when parsed.
std::uint16_t answer(std::string_view apdu_hex) {
  auto c = apdu::parse_command(hex(apdu_hex));
  if (!c) return apdu::status_word(c.error());
  auto p = parse_command(*c);
  return p ? apdu::sw::kOk : p.error();
}

void round_trips(const IsdrCommand& command) {
  auto built = build_command(command);
  ASSERT_TRUE(built) << command.index();
  auto parsed = parse_command(*built);
  ASSERT_TRUE(parsed) << command.index() << " " << std::hex << parsed.error();
  EXPECT_TRUE(*parsed == command) << command.index();
  // and through the bytes, on a logical channel
  auto bytes = build_apdu(command, 0x81);
  ASSERT_TRUE(bytes);
  auto again = parse_command(apdu::parse_command(*bytes).value());
  ASSERT_TRUE(again);
  EXPECT_TRUE(*again == command);
}

TEST(IsdrCommands, EveryCommandRoundTrips) {
  round_trips(CreateIsdp{kAid, std::nullopt});
  round_trips(CreateIsdp{kAid, 0x1234});
  round_trips(CreateIsdp{kAid, 0x123456});
  round_trips(EnableProfile{kAid});
  round_trips(DisableProfile{kAid});
  round_trips(SetFallbackAttribute{kAid});
  round_trips(SetEmergencyProfileAttribute{kAid});
  round_trips(UpdateConnectivityParameters{kAid, hex("A00A8008" "0891214365870900")});
  round_trips(UpdatePolicyRules{kAid, pol1::kDisableNotAllowed | pol1::kDeleteNotAllowed});
  round_trips(UpdatePolicyRules{kAid, 0});
  round_trips(ConfirmNotification{1});
  round_trips(ConfirmNotification{0x01020304});
  round_trips(DeleteProfile{kAid});
  round_trips(AuditIsdps{});
  round_trips(AuditIsdps{kAid});
  round_trips(GetEuiccData{data_tag::kEid});
  round_trips(GetEuiccData{data_tag::kCardResources});
  round_trips(GetEuiccData{data_tag::kCertificate});
}

TEST(IsdrCommands, BytesOfTheSpecShapes) {
  // SGP.02 §4.1.1.2: STORE DATA, P1 88 (last block, DGI), DGI 3A03 { 4F AID }.
  EXPECT_EQ(to_hex(build_apdu(EnableProfile{kAid}).value()),
            "80E2880015" "3A0312" "4F10A0000005591010FFFFFFFF8900001100");
  EXPECT_EQ(to_hex(build_apdu(DisableProfile{kAid}).value()),
            "80E2880015" "3A0412" "4F10A0000005591010FFFFFFFF8900001100");
  // INSTALL [for install and make selectable] from the ISD-P ELF / EM (SGP.02 Annex H).
  EXPECT_EQ(to_hex(build_apdu(CreateIsdp{kAid, 0x2000}).value()),
            "80E60C0041" "10A0000005591010FFFFFFFF8900000D00" "10A0000005591010FFFFFFFF8900000E00"
            "10A0000005591010FFFFFFFF8900001100" "0380C000" "08C900EF04C8022000" "00" "00");
  EXPECT_EQ(to_hex(build_apdu(DeleteProfile{kAid}).value()), "80E4008012" "4F10A0000005591010FFFFFFFF8900001100" "00");
  EXPECT_EQ(to_hex(build_apdu(AuditIsdps{}).value()), "80F24002024F0000");
  EXPECT_EQ(to_hex(build_apdu(GetEuiccData{data_tag::kCardResources}).value()), "80CAFF2100");
}

TEST(IsdrCommands, BuilderRefusesWhatCannotBeCoded) {
  EXPECT_EQ(build_command(EnableProfile{hex("A000")}).error(), apdu::sw::kWrongData);
  EXPECT_EQ(build_command(CreateIsdp{Bytes(17, 0xA0), std::nullopt}).error(), apdu::sw::kWrongData);
  EXPECT_EQ(build_command(UpdatePolicyRules{kAid, 0x80}).error(), apdu::sw::kWrongData);
  EXPECT_EQ(build_command(UpdateConnectivityParameters{kAid, {}}).error(), apdu::sw::kWrongData);
  EXPECT_EQ(build_command(UpdateConnectivityParameters{kAid, Bytes(201, 0x80)}).error(), apdu::sw::kWrongData);
}

TEST(IsdrCommands, MalformedCommandsAnswerTheirStatusWord) {
  using namespace apdu::sw;
  EXPECT_EQ(answer("00E2880015" "3A0312" "4F10A0000005591010FFFFFFFF8900001100"), kClaNotSupported);
  EXPECT_EQ(answer("80D8000000"), kIncorrectP1P2);              // PUT KEY of key id 0
  EXPECT_EQ(answer("80F0400005A000000559"), kInsNotSupported);  // SET STATUS: not an ES5 platform command
  EXPECT_EQ(answer("80B0000000"), kInsNotSupported);
  // STORE DATA: P1 other than 88, a second block, a short or overlong DGI, an unknown DGI.
  EXPECT_EQ(answer("80E2900015" "3A0312" "4F10A0000005591010FFFFFFFF8900001100"), kIncorrectP1P2);
  EXPECT_EQ(answer("80E2880115" "3A0312" "4F10A0000005591010FFFFFFFF8900001100"), kIncorrectP1P2);
  EXPECT_EQ(answer("80E2880002" "3A03"), kWrongData);
  EXPECT_EQ(answer("80E2880015" "3A0313" "4F10A0000005591010FFFFFFFF8900001100"), kWrongData);
  EXPECT_EQ(answer("80E2880015" "3A0F12" "4F10A0000005591010FFFFFFFF8900001100"), kReferencedDataNotFound);
  // the AID: missing, too short, another tag, trailing bytes.
  EXPECT_EQ(answer("80E2880003" "3A0300"), kWrongData);
  EXPECT_EQ(answer("80E2880007" "3A0304" "4F02A000"), kWrongData);
  EXPECT_EQ(answer("80E2880015" "3A0312" "4E10A0000005591010FFFFFFFF8900001100"), kWrongData);
  EXPECT_EQ(answer("80E2880016" "3A0313" "4F10A0000005591010FFFFFFFF890000110000"), kWrongData);
  EXPECT_EQ(answer("80E2880015" "3A0312" "4F11A0000005591010FFFFFFFF8900001100"), kWrongData);
  // POL1 with an undefined bit, a seq number with a leading zero.
  EXPECT_EQ(answer("80E2880018" "3AF115" "4F10A0000005591010FFFFFFFF8900001100" "810180"), kWrongData);
  EXPECT_EQ(answer("80E2880007" "3A0804" "4E020001"), kWrongData);
  // INSTALL: only for install and make selectable, only from the ISD-P load file.
  const std::string body = "10A0000005591010FFFFFFFF8900000D00" "10A0000005591010FFFFFFFF8900000E00"
                           "10A0000005591010FFFFFFFF8900001100" "0380C000" "02C900" "00";
  EXPECT_EQ(answer("80E60C003B" + body), kOk);
  EXPECT_EQ(answer("80E604003B" + body), kIncorrectP1P2);
  std::string other_elf = body;
  other_elf[31] = '1';
  EXPECT_EQ(answer("80E60C003B" + other_elf), kReferencedDataNotFound);
  EXPECT_EQ(answer("80E60C003B" + body.substr(0, 102) + "0300C000" "02C900" "00"), kWrongData);  // no SD privilege
  EXPECT_EQ(answer("80E60C003B" + body.substr(0, 110) + "02C800" "00"), kWrongData);  // no C9
  EXPECT_EQ(answer("80E60C003C" + body.substr(0, 110) + "02C900" "0100"), kWrongData);  // a token
  // DELETE with a delete token; GET STATUS of the load files or next occurrence; unknown GET DATA.
  EXPECT_EQ(answer("80E4008016" "4F10A0000005591010FFFFFFFF8900001100" "9E0100" "00"), kWrongData);
  EXPECT_EQ(answer("80F22002024F0000"), kIncorrectP1P2);
  EXPECT_EQ(answer("80F24003024F0000"), kIncorrectP1P2);
  EXPECT_EQ(answer("80CA00E000"), kReferencedDataNotFound);
}

TEST(IsdrCommands, IsdpStatusRoundTripsAndIsStrict) {
  std::vector<IsdpStatus> list = {
      {kAid, IsdpState::kEnabled, hex("98001032547698103214"), true, false, pol1::kDisableNotAllowed},
      {hex("A0000005591010FFFFFFFF8900001200"), IsdpState::kSelectable, {}, false, true, 0},
  };
  const Bytes data = encode_isdp_status(list);
  auto parsed = parse_isdp_status(data);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(*parsed, list);
  EXPECT_TRUE(parse_isdp_status({}).value().empty());
  Bytes cut(data.begin(), data.end() - 1);
  EXPECT_FALSE(parse_isdp_status(cut));
  EXPECT_FALSE(parse_isdp_status(hex("E3039F7001" "3F")));           // no AID
  EXPECT_FALSE(parse_isdp_status(hex("E30A4F05A0000005599F700142")));  // an unknown state
  EXPECT_FALSE(parse_isdp_status(hex("E30B4F05A0000005599F70013F" "99")));
}

TEST(IsdrCommands, ResourcesEidAndNotificationRoundTrip) {
  CardResources r{2, 0x12345, 300};
  EXPECT_EQ(parse_card_resources(encode_card_resources(r)).value(), r);
  EXPECT_FALSE(parse_card_resources(hex("FF2103810102")));
  const Bytes eid = hex("89049032123451234512345678901235");
  EXPECT_EQ(parse_eid(encode_eid(eid)).value(), eid);
  EXPECT_FALSE(parse_eid(hex("5A0289")));
  Notification n{eid, NotificationType::kProfileChangeAfterFallback, 7, kAid};
  EXPECT_EQ(parse_notification(encode_notification(n)).value(), n);
  Notification bare{eid, NotificationType::kEuiccDeclaration, 1, {}};
  EXPECT_EQ(parse_notification(encode_notification(bare)).value(), bare);
  Bytes bad = encode_notification(n);
  bad[2 + 2 + 16 + 2] = 0x04;  // type 04 is not defined
  EXPECT_FALSE(parse_notification(bad));
}

TEST(IsdrCommands, DeleteKeySetOfTheSmsrChange) {
  // GP v2.3 §11.2.2.3: DELETE with 'D2' key version number, P1 P2 '00 00'.
  const auto c = build_delete_key_set(0x02);
  EXPECT_EQ(to_hex(apdu::encode_command(c).value()), "80E4000003D20102");
  EXPECT_EQ(parse_delete_key_set(c), 0x02);
  // Not one: the ISD-P's DELETE, another key tag, a longer field, another P2.
  EXPECT_FALSE(parse_delete_key_set(build_command(DeleteProfile{Bytes(16, 0xA0)}).value()));
  auto other = c;
  other.data[0] = 0xD0;
  EXPECT_FALSE(parse_delete_key_set(other));
  other = c;
  other.data.push_back(0x00);
  EXPECT_FALSE(parse_delete_key_set(other));
  other = c;
  other.p2 = 0x80;
  EXPECT_FALSE(parse_delete_key_set(other));
  // Nor is it one of the ISD-R's platform commands.
  EXPECT_FALSE(parse_command(c));
}

}  // namespace
}  // namespace rsp::m2m
