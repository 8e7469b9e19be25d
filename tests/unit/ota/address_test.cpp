#include "rsp/ota/address.hpp"

#include <gtest/gtest.h>

#include "../crypto/kat.hpp"

namespace rsp::ota {
namespace {

using crypto::test::read_kat;

TEST(OtaAddress, PublicVectors) {
  int n = 0;
  for (const auto& r : read_kat("sms_tpdu.txt", "ota")) {
    if (!r.has("address")) continue;
    ++n;
    Bytes in = r.hex("address");
    std::size_t used = 0;
    auto a = decode_tp_address(in, used);
    ASSERT_TRUE(a) << a.error().to_string();
    EXPECT_EQ(static_cast<int>(a->ton), std::stoi(r.at("address_ton")));
    EXPECT_EQ(a->npi, std::stoi(r.at("address_npi")));
    EXPECT_EQ(a->digits, r.at("address_digits"));
    EXPECT_EQ(used, std::stoul(r.at("address_consumed")));
    Bytes out;
    ASSERT_TRUE(encode_tp_address(*a, out));
    EXPECT_EQ(out, Bytes(in.begin(), in.begin() + static_cast<std::ptrdiff_t>(used)));
  }
  EXPECT_EQ(n, 3);
}

TEST(OtaAddress, SpecialDigitsAndAddressValue) {
  Address a{Ton::National, kNpiIsdn, "12*#abc", {}, 0};
  Bytes out;
  ASSERT_TRUE(encode_tp_address(a, out));
  EXPECT_EQ(to_hex(out), "07A121BADCFE");
  auto value = encode_address_value(international("4915112345678")).value();
  EXPECT_EQ(to_hex(value), "91945111325476F8");
  EXPECT_EQ(decode_address_value(value).value(), international("4915112345678"));
  EXPECT_EQ(decode_address_value(from_hex("91").value()).value().digits, "");
}

TEST(OtaAddress, RejectsMalformed) {
  std::size_t used = 0;
  auto code = [&](const char* hex) {
    auto r = decode_tp_address(from_hex(hex).value(), used);
    return r ? static_cast<OtaErrorCode>(-1) : r.error().code;
  };
  EXPECT_EQ(code(""), OtaErrorCode::Truncated);
  EXPECT_EQ(code("04"), OtaErrorCode::Truncated);
  EXPECT_EQ(code("048021"), OtaErrorCode::Truncated);
  EXPECT_EQ(code("15912143658709214365870921"), OtaErrorCode::TooLong);  // 21 digits
  EXPECT_EQ(code("04112143"), OtaErrorCode::InvalidValue);              // bit 8 clear
  EXPECT_EQ(code("0491F143"), OtaErrorCode::InvalidValue);              // filler inside
  EXPECT_EQ(code("03912143"), OtaErrorCode::InvalidValue);              // odd count, no filler
  EXPECT_FALSE(decode_address_value(from_hex("9121F3F4").value()));     // filler inside
  EXPECT_FALSE(decode_address_value({}));
  EXPECT_EQ(decode_address_value(from_hex("D04142").value()).error().code, OtaErrorCode::Unsupported);
  Bytes out;
  EXPECT_EQ(encode_tp_address(international("12x"), out).error().code, OtaErrorCode::InvalidValue);
  EXPECT_EQ(encode_tp_address(international(std::string(21, '1')), out).error().code, OtaErrorCode::TooLong);
  Address alnum{Ton::Alphanumeric, 0, {}, Bytes{0x41}, 5};
  EXPECT_EQ(encode_tp_address(alnum, out).error().code, OtaErrorCode::InvalidValue);
}

}  // namespace
}  // namespace rsp::ota
