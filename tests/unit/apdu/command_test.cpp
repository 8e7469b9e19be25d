#include <gtest/gtest.h>

#include "rsp/apdu/class_byte.hpp"
#include "rsp/apdu/command.hpp"
#include "rsp/apdu/response.hpp"

namespace rsp::apdu {
namespace {

Bytes hex(std::string_view h) { return from_hex(h).value(); }

TEST(ApduCommand, Case1) {
  auto c = parse_command(hex("00A40400"));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->command_case(), Case::k1);
  EXPECT_EQ(c->ins, 0xA4);
  EXPECT_FALSE(c->le);
  EXPECT_FALSE(c->extended);
}

TEST(ApduCommand, Case2ShortLeZeroMeans256) {
  auto c = parse_command(hex("80C0000000"));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->command_case(), Case::k2);
  EXPECT_EQ(*c->le, 256u);
  c = parse_command(hex("0070000001"));
  ASSERT_TRUE(c);
  EXPECT_EQ(*c->le, 1u);
}

TEST(ApduCommand, Case3And4Short) {
  auto c = parse_command(hex("80E29100 03 BF2E00"));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->command_case(), Case::k3);
  EXPECT_EQ(to_hex(c->data), "BF2E00");
  c = parse_command(hex("80E29100 03 BF2E00 10"));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->command_case(), Case::k4);
  EXPECT_EQ(*c->le, 16u);
  c = parse_command(hex("80E29100 03 BF2E00 00"));
  ASSERT_TRUE(c);
  EXPECT_EQ(*c->le, 256u);
}

TEST(ApduCommand, ExtendedCases) {
  auto c = parse_command(hex("00B00000 000000"));
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->extended);
  EXPECT_EQ(c->command_case(), Case::k2);
  EXPECT_EQ(*c->le, 65536u);
  c = parse_command(hex("00B00000 000102"));
  ASSERT_TRUE(c);
  EXPECT_EQ(*c->le, 258u);

  Bytes big = hex("80E29100 000100");
  big.resize(big.size() + 256, 0xAB);
  c = parse_command(big);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->command_case(), Case::k3);
  EXPECT_EQ(c->data.size(), 256u);
  big.push_back(0x00);
  big.push_back(0x00);
  c = parse_command(big);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->command_case(), Case::k4);
  EXPECT_EQ(*c->le, 65536u);
}

TEST(ApduCommand, MalformedLengths) {
  EXPECT_EQ(parse_command(hex("")).error(), CommandError::kTooShort);
  EXPECT_EQ(parse_command(hex("00A404")).error(), CommandError::kTooShort);
  EXPECT_EQ(parse_command(hex("00A40400 05 0102")).error(), CommandError::kLengthMismatch);
  EXPECT_EQ(parse_command(hex("00A40400 02 010203 04")).error(), CommandError::kLengthMismatch);
  EXPECT_EQ(parse_command(hex("00A40400 0000")).error(), CommandError::kLengthMismatch);
  EXPECT_EQ(parse_command(hex("00A40400 000000 01")).error(), CommandError::kZeroExtendedLc);
  EXPECT_EQ(parse_command(hex("00A40400 000002 01")).error(), CommandError::kLengthMismatch);
  EXPECT_EQ(status_word(CommandError::kLengthMismatch), 0x6700);
  EXPECT_FALSE(message(CommandError::kTooShort).empty());
}

TEST(ApduCommand, EncodeRoundTrips) {
  for (const char* h : {"00A40400", "80C0000000", "80E2110003BF2E00", "80E2910003BF2E0000",
                        "00B00000000000", "00B00000000102"}) {
    auto c = parse_command(hex(h));
    ASSERT_TRUE(c) << h;
    auto e = encode_command(*c);
    ASSERT_TRUE(e) << h;
    EXPECT_EQ(to_hex(*e), to_hex(hex(h))) << h;
  }
  Command big{0x80, 0xE2, 0x91, 0x00, Bytes(300, 1), 65536u, false};
  auto e = encode_command(big);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->size(), 4u + 3 + 300 + 2);
  auto back = parse_command(*e);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->data, big.data);
  EXPECT_EQ(*back->le, 65536u);
  // Short data with a long Le goes extended too.
  Command le_only{0x00, 0xB0, 0, 0, {}, 1000u, false};
  EXPECT_EQ(to_hex(*encode_command(le_only)), "00B000000003E8");
  Command too_much{0x00, 0xB0, 0, 0, Bytes(65536, 0), std::nullopt, false};
  EXPECT_EQ(encode_command(too_much).error(), CommandError::kDataTooLong);
  Command bad_le{0x00, 0xB0, 0, 0, {}, 65537u, false};
  EXPECT_EQ(encode_command(bad_le).error(), CommandError::kExpectedTooLong);
}

TEST(ApduResponse, ParseAndEncode) {
  EXPECT_FALSE(parse_response(hex("90")));
  auto r = parse_response(hex("BF2E0061 10"));
  ASSERT_TRUE(r);
  EXPECT_EQ(to_hex(r->data), "BF2E00");
  EXPECT_EQ(r->sw, 0x6110);
  EXPECT_FALSE(r->ok());
  EXPECT_EQ(to_hex(encode_response(*r)), "BF2E006110");
  EXPECT_EQ(to_hex(encode_status(0x6A82)), "6A82");
  EXPECT_EQ(sw::bytes_available(300), 0x6100);
  EXPECT_EQ(sw::bytes_available(5), 0x6105);
}

TEST(ApduClass, InterindustryAndProprietary) {
  auto c = decode_class(0x00);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->channel, 0);
  EXPECT_FALSE(c->proprietary);
  c = decode_class(0x03);
  EXPECT_EQ(c->channel, 3);
  c = decode_class(0x0C);
  EXPECT_TRUE(c->secure_messaging);
  c = decode_class(0x10);
  EXPECT_TRUE(c->chaining);
  c = decode_class(0x40);
  EXPECT_EQ(c->channel, 4);
  c = decode_class(0x4F);
  EXPECT_EQ(c->channel, 19);
  EXPECT_FALSE(c->secure_messaging);
  c = decode_class(0x60);
  EXPECT_TRUE(c->secure_messaging);
  c = decode_class(0x81);
  EXPECT_TRUE(c->proprietary);
  EXPECT_EQ(c->channel, 1);
  c = decode_class(0x84);
  EXPECT_TRUE(c->secure_messaging);
  c = decode_class(0xC5);
  EXPECT_TRUE(c->proprietary);
  EXPECT_EQ(c->channel, 9);
  c = decode_class(0xE0);
  EXPECT_TRUE(c->secure_messaging);
  for (int bad : {0x20, 0x3F, 0x90, 0xA0, 0xB3, 0xD0, 0xF0, 0xFF}) {
    EXPECT_FALSE(decode_class(static_cast<std::uint8_t>(bad))) << bad;
  }
  EXPECT_EQ(class_for_channel(0, false), 0x00);
  EXPECT_EQ(class_for_channel(2, true), 0x82);
  EXPECT_EQ(class_for_channel(4, false), 0x40);
  EXPECT_EQ(class_for_channel(19, true), 0xCF);
  for (std::uint8_t ch = 0; ch < 20; ++ch) {
    EXPECT_EQ(decode_class(class_for_channel(ch, true))->channel, ch);
    EXPECT_EQ(decode_class(class_for_channel(ch, false))->channel, ch);
  }
}

}  // namespace
}  // namespace rsp::apdu
