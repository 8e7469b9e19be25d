#include "rsp/ota/por.hpp"

#include <gtest/gtest.h>

#include "../crypto/kat.hpp"
#include "rsp/ota/concat.hpp"

namespace rsp::ota {
namespace {

using crypto::scp80::Spi;

struct Case {
  CommandHeader command;
  Keys keys;
  Bytes user_data;  // 02 71 00 || response packet
  Bytes data;
};

/// The 3DES PoRs of the public pySim trace (tests/data/crypto/scp80_3des.txt).
std::vector<Case> public_cases() {
  std::vector<Case> out;
  for (const auto& r : crypto::test::read_kat("scp80_3des.txt")) {
    if (!r.has("response")) continue;
    Case c;
    Bytes spi = r.hex("SPI"), tar = r.hex("TAR");
    c.command.spi = Spi::decode(spi[0], spi[1]).value();
    c.command.kic = r.hex("KIc")[0];
    c.command.kid = r.hex("KID")[0];
    c.command.tar = {tar[0], tar[1], tar[2]};
    c.keys = Keys(r.hex("KIc_key"), r.hex("KID_key"));
    c.user_data = concat({r.hex("udh"), r.hex("response")});
    c.data = r.hex("response_data");
    out.push_back(std::move(c));
  }
  return out;
}

TEST(OtaPor, PublicTraceOpensAndRebuilds) {
  auto cases = public_cases();
  ASSERT_EQ(cases.size(), 3u);
  for (const auto& c : cases) {
    auto por = open_por_user_data(c.user_data, c.command, c.keys);
    ASSERT_TRUE(por) << por.error().to_string();
    EXPECT_EQ(por->params.status, Status::PorOk);
    EXPECT_EQ(por->data, c.data);
    EXPECT_EQ(build_por_user_data(c.command, Status::PorOk, c.keys, c.data).value(), c.user_data);
  }
}

TEST(OtaPor, SmsSubmitAndEnvelopeResponse) {
  const auto c = public_cases().at(0);
  auto submit = build_por_sms_submit(c.command, Status::PorOk, c.keys, c.data, international("491710000"), 7).value();
  EXPECT_EQ(submit.pid, kPidSimDataDownload);
  EXPECT_EQ(submit.dcs, kDcsClass2Data);
  EXPECT_TRUE(submit.user_data.header_present);
  Bytes tpdu = encode(submit).value();
  EXPECT_EQ(open_por_sms_submit(tpdu, c.command, c.keys).value().data, c.data);

  auto rapdu = build_por_response_apdu(c.command, Status::CounterLow, c.keys, {}).value();
  EXPECT_EQ(rapdu.sw, 0x9000);
  auto opened = open_por_response_apdu(apdu::encode_response(rapdu), c.command, c.keys).value();
  EXPECT_EQ(opened.params.status, Status::CounterLow);
}

TEST(OtaPor, RejectsForeignOrDamaged) {
  const auto c = public_cases().at(0);
  CommandHeader other = c.command;
  other.tar[2] ^= 1;
  EXPECT_EQ(open_por_user_data(c.user_data, other, c.keys).error().code, OtaErrorCode::InvalidValue);
  other = c.command;
  other.counter = 5;
  EXPECT_EQ(open_por_user_data(c.user_data, other, c.keys).error().code, OtaErrorCode::InvalidValue);
  Bytes flipped = c.user_data;
  flipped.back() ^= 0x01;
  auto e = open_por_user_data(flipped, c.command, c.keys).error();
  EXPECT_EQ(e.code, OtaErrorCode::SecuredPacket);
  ASSERT_TRUE(e.status);
  // The checksum covers the header: another (valid) header breaks it.
  Bytes reheaded = concat({from_hex("0471000500").value(), ByteView(c.user_data).subspan(3)});
  auto rh = open_por_user_data(reheaded, c.command, c.keys).error();
  EXPECT_EQ(rh.code, OtaErrorCode::SecuredPacket);
  EXPECT_EQ(rh.status, Status::IntegrityFailed);
  Bytes marker70 = c.user_data;
  marker70[1] = kIeiCommandPacket;
  EXPECT_EQ(open_por_user_data(marker70, c.command, c.keys).error().code, OtaErrorCode::MissingElement);
  auto segs = segment_packet(Bytes(300, 1), kIeiResponsePacket, 1).value();
  EXPECT_EQ(open_por_user_data(segs[0], c.command, c.keys).error().code, OtaErrorCode::Unsupported);
  EXPECT_EQ(open_por_response_apdu(from_hex("90").value(), c.command, c.keys).error().code,
            OtaErrorCode::Truncated);
  EXPECT_EQ(open_por_response_apdu(concat({c.user_data, from_hex("6F00").value()}), c.command, c.keys).error().code,
            OtaErrorCode::InvalidValue);
  EXPECT_TRUE(open_por_response_apdu(concat({c.user_data, from_hex("9110").value()}), c.command, c.keys));
  // Status codes: TS 31.115 §7's 0B and 0C pass, reserved ones do not.
  for (int code : {0x0B, 0x0C, 0x0D, 0xFF}) {
    auto ud = build_por_user_data(c.command, static_cast<Status>(code), c.keys, {}).value();
    EXPECT_EQ(open_por_user_data(ud, c.command, c.keys).has_value(), code <= 0x0C) << code;
  }
  EXPECT_EQ(build_por_user_data(c.command, Status::PorOk, c.keys, Bytes(140, 0)).error().code,
            OtaErrorCode::TooLong);
  SmsSubmit s = build_por_sms_submit(c.command, Status::PorOk, c.keys, c.data, international("1"), 1).value();
  s.dcs = 0xF2;
  s.user_data.septets = 0;
  Bytes seven = encode(s).has_value() ? encode(s).value() : Bytes{};
  EXPECT_FALSE(open_por_sms_submit(seven, c.command, c.keys));
  s.dcs = kDcsClass2Data;
  s.user_data.header_present = false;
  EXPECT_EQ(open_por_sms_submit(encode(s).value(), c.command, c.keys).error().code, OtaErrorCode::MissingElement);
}

}  // namespace
}  // namespace rsp::ota
