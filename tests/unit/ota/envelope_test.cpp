#include "rsp/ota/envelope.hpp"

#include <gtest/gtest.h>

#include "../crypto/kat.hpp"

namespace rsp::ota {
namespace {

SmsPpDownload sample() {
  SmsPpDownload d;
  d.service_centre = international("4917000000");
  d.tpdu.originator = international("4912345678");
  d.tpdu.timestamp = {0x62, 0x21, 0x30, 0x51, 0x00, 0x00, 0x00};
  d.tpdu.user_data =
      binary_user_data(from_hex("027000001A0D00000000000000000000000000000000000000000000").value(), true);
  return d;
}

TEST(OtaEnvelope, EncodesAsTs102223Says) {
  auto d = sample();
  Bytes env = encode_envelope(d).value();
  Bytes tpdu = encode(d.tpdu).value();
  Bytes expect = concat({from_hex("D1").value(), Bytes{static_cast<std::uint8_t>(4 + 8 + 2 + tpdu.size())},
                         from_hex("82028381").value(), from_hex("8606919471000000").value(),
                         Bytes{0x8B, static_cast<std::uint8_t>(tpdu.size())}, tpdu});
  EXPECT_EQ(to_hex(env), to_hex(expect));
  EXPECT_EQ(decode_envelope(env).value(), d);
  auto cmd = envelope_command(d).value();
  EXPECT_EQ(to_hex(apdu::encode_command(cmd).value()).substr(0, 10),
            "80C20000" + to_hex(Bytes{static_cast<std::uint8_t>(env.size())}));
  EXPECT_EQ(decode_envelope_command(apdu::parse_command(apdu::encode_command(cmd).value()).value()).value(), d);
  // Without the address, and with the public pySim SMS-DELIVER.
  d.service_centre.reset();
  for (const auto& r : crypto::test::read_kat("sms_tpdu.txt", "ota"))
    if (r.has("deliver_ota")) d.tpdu = decode_sms_deliver(r.hex("deliver_ota")).value();
  EXPECT_EQ(d.tpdu.originator.digits, "12345678");
  EXPECT_EQ(decode_envelope(encode_envelope(d).value()).value(), d);
}

TEST(OtaEnvelope, LongFormLengthAndUnknownObjects) {
  auto d = sample();
  d.tpdu.user_data = binary_user_data(concat({from_hex("027000").value(), Bytes(137, 0x5A)}), true);
  Bytes env = encode_envelope(d).value();
  EXPECT_EQ(env[1], 0x81);
  EXPECT_EQ(decode_envelope(env).value(), d);
  // A non-comprehension-required unknown object is skipped; a required one is not.
  Bytes tpdu = encode(sample().tpdu).value();
  Bytes with_unknown = concat({from_hex("D1").value(), Bytes{static_cast<std::uint8_t>(4 + 3 + 2 + tpdu.size())},
                               from_hex("82028381").value(), from_hex("0D0141").value(),
                               Bytes{0x8B, static_cast<std::uint8_t>(tpdu.size())}, tpdu});
  EXPECT_TRUE(decode_envelope(with_unknown));
  with_unknown[6] = 0x8D;
  EXPECT_EQ(decode_envelope(with_unknown).error().code, OtaErrorCode::Unsupported);
}

TEST(OtaEnvelope, RejectsMalformed) {
  Bytes env = encode_envelope(sample()).value();
  for (std::size_t cut = 0; cut < env.size(); ++cut) EXPECT_FALSE(decode_envelope(ByteView(env).first(cut))) << cut;
  auto code = [](Bytes b) { return decode_envelope(b).error().code; };
  Bytes tag = env;
  tag[0] = 0xD0;
  EXPECT_EQ(code(tag), OtaErrorCode::InvalidValue);
  EXPECT_EQ(code(concat({env, Bytes{0}})), OtaErrorCode::TrailingBytes);
  Bytes wrong_ids = env;
  wrong_ids[4] = 0x82;
  EXPECT_EQ(code(wrong_ids), OtaErrorCode::InvalidValue);
  EXPECT_EQ(code(from_hex("D1058202838186").value()), OtaErrorCode::Truncated);
  EXPECT_EQ(code(from_hex("D10482028381").value()), OtaErrorCode::MissingElement);
  EXPECT_EQ(code(from_hex("D1038B0100").value()), OtaErrorCode::UnexpectedElement);
  EXPECT_EQ(code(from_hex("D1817F").value()), OtaErrorCode::InvalidValue);  // non-minimal length
  EXPECT_EQ(code(from_hex("D182007F").value()), OtaErrorCode::InvalidValue);
  EXPECT_EQ(code(from_hex("D10682028381FF00").value()), OtaErrorCode::Unsupported);
  // Two device identities.
  Bytes twice = from_hex("D1088202838182028381").value();
  EXPECT_EQ(code(twice), OtaErrorCode::UnexpectedElement);
  apdu::Command c = envelope_command(sample()).value();
  c.ins = 0xC3;
  EXPECT_EQ(decode_envelope_command(c).error().code, OtaErrorCode::InvalidValue);
  auto big = sample();  // the largest SMS-PP download still fits an ENVELOPE
  big.tpdu.user_data = binary_user_data(Bytes(140, 0), false);
  big.tpdu.originator = international(std::string(20, '9'));
  big.service_centre = international(std::string(20, '9'));
  EXPECT_EQ(decode_envelope(encode_envelope(big).value()).value(), big);
}

}  // namespace
}  // namespace rsp::ota
