// X.690 primitive encodings through the generated codecs and the value helpers.

#include "asn1_test_util.hpp"
#include "rsp/asn1/rt.hpp"
#include "rsp/asn1/sgp22.hpp"

namespace rsp::asn1 {
namespace {

using test::hex;

Bytes put_int(std::int64_t v) {
  tlv::Writer w;
  rt::put_int(w, tlv::Tag::universal(2), v);
  return w.take();
}

TEST(Asn1Primitives, IntegerIsMinimalTwosComplement) {
  EXPECT_EQ(to_hex(put_int(0)), "020100");
  EXPECT_EQ(to_hex(put_int(127)), "02017F");
  EXPECT_EQ(to_hex(put_int(128)), "02020080");
  EXPECT_EQ(to_hex(put_int(-1)), "0201FF");
  EXPECT_EQ(to_hex(put_int(-128)), "020180");
  EXPECT_EQ(to_hex(put_int(-129)), "0202FF7F");
  EXPECT_EQ(to_hex(put_int(INT64_MIN)), "02088000000000000000");
  for (std::int64_t v : std::initializer_list<std::int64_t>{0, 1, -1, 255, 256, -256, 65535, INT64_MAX, INT64_MIN}) {
    Bytes der = put_int(v);
    auto t = tlv::parse_one(der);
    ASSERT_TRUE(t);
    std::int64_t back = 0;
    ASSERT_TRUE(rt::get_int(*t, back, "x"));
    EXPECT_EQ(back, v);
  }
}

TEST(Asn1Primitives, RejectsNonMinimalAndOversizedIntegers) {
  for (const char* bad : {"02020001", "0202FF80", "0200", "0209010000000000000000"}) {
    Bytes der = hex(bad);
    auto t = tlv::parse_one(der);
    ASSERT_TRUE(t) << bad;
    std::int64_t v = 0;
    auto r = rt::get_int(*t, v, "T.f");
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, tlv::ErrorCode::InvalidValue);
    EXPECT_EQ(r.error().context, "T.f");
  }
}

TEST(Asn1Primitives, BooleanIsDer) {
  tlv::Writer w;
  rt::put_bool(w, tlv::Tag::universal(1), true);
  EXPECT_EQ(to_hex(w.bytes()), "0101FF");
  bool v = false;
  EXPECT_FALSE(rt::get_bool(*tlv::parse_one(hex("010101")), v, "b"));
  EXPECT_TRUE(rt::get_bool(*tlv::parse_one(hex("010100")), v, "b"));
  EXPECT_FALSE(v);
}

TEST(Asn1Primitives, BitStringNamedBitsAndUnusedBits) {
  // RspCapability { additionalProfile(0), crlSupport(1), testProfileSupport(3) }
  BitString b = BitString::from_bits({0, 1, 3});
  EXPECT_EQ(to_hex(b.bytes), "D0");
  EXPECT_EQ(b.unused_bits, 4);
  EXPECT_TRUE(b.test(3));
  EXPECT_FALSE(b.test(2));
  tlv::Writer w;
  rt::put_bits(w, tlv::Tag::universal(3), b);
  EXPECT_EQ(to_hex(w.bytes()), "030204D0");
  BitString back;
  ASSERT_TRUE(rt::get_bits(*tlv::parse_one(w.bytes()), back, "b"));
  EXPECT_EQ(back, b);
  // Unused bits that are not zero, or more than 7, are refused.
  EXPECT_FALSE(rt::get_bits(*tlv::parse_one(hex("030204D8")), back, "b"));
  EXPECT_FALSE(rt::get_bits(*tlv::parse_one(hex("030208D0")), back, "b"));
  EXPECT_EQ(rt::json_bits(b, {{"additionalProfile", 0}, {"crlSupport", 1}, {"rpmSupport", 2},
                              {"testProfileSupport", 3}}).dump(),
            R"(["additionalProfile","crlSupport","testProfileSupport"])");
}

TEST(Asn1Primitives, ObjectIdentifierArcs) {
  auto oid = Oid::from_string(sgp22::values::id_rspRole_dp_auth);
  ASSERT_TRUE(oid);
  EXPECT_EQ(std::string(sgp22::values::id_rspRole_dp_auth), "2.23.146.1.2.1.4");
  EXPECT_EQ(to_hex(oid->content), "67811201020104");
  EXPECT_EQ(oid->to_string(), "2.23.146.1.2.1.4");
  auto big = Oid::from_string("1.2.840.10045.4.3.2");
  ASSERT_TRUE(big);
  EXPECT_EQ(to_hex(big->content), "2A8648CE3D040302");
  EXPECT_FALSE(Oid::from_string("1"));
  EXPECT_FALSE(Oid::from_string("3.1"));
  EXPECT_FALSE(Oid::from_string("1..2"));
  Oid v;
  EXPECT_FALSE(rt::get_oid(*tlv::parse_one(hex("06028001")), v, "o"));  // leading 0x80
  EXPECT_FALSE(rt::get_oid(*tlv::parse_one(hex("060181")), v, "o"));    // unterminated
}

TEST(Asn1Primitives, NullHasNoContents) {
  Null n;
  EXPECT_TRUE(rt::get_null(*tlv::parse_one(hex("0500")), n, "n"));
  EXPECT_FALSE(rt::get_null(*tlv::parse_one(hex("050100")), n, "n"));
}

}  // namespace
}  // namespace rsp::asn1
