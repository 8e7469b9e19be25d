// Typed errors on malformed input, and X.680 extensibility: unknown trailing
// elements skipped, unknown CHOICE alternatives kept.

#include "samples.hpp"
#include "rsp/asn1/inspect.hpp"

namespace rsp::asn1 {
namespace {

using namespace test;

template <class T>
tlv::Error decode_error(const Bytes& der, DecodeOptions o = {}) {
  auto r = decode<T>(der, o);
  EXPECT_FALSE(r.has_value()) << to_hex(der);
  return r ? tlv::Error{} : r.error();
}

TEST(Asn1Errors, Truncated) {
  Bytes der = encode(euicc_info1());
  der.pop_back();
  EXPECT_EQ(decode_error<sgp22::EUICCInfo1>(der).code, tlv::ErrorCode::Truncated);
}

TEST(Asn1Errors, WrongTag) {
  auto e = decode_error<sgp22::GetEuiccDataRequest>(hex("BF3F035C015A"));
  EXPECT_EQ(e.code, tlv::ErrorCode::UnexpectedTag);
  EXPECT_EQ(e.context, "GetEuiccDataRequest");
  auto inner = decode_error<sgp22::GetEuiccDataRequest>(hex("BF3E035D015A"));
  EXPECT_EQ(inner.code, tlv::ErrorCode::UnexpectedTag);
  EXPECT_EQ(inner.context, "GetEuiccDataRequest.tagList");
}

TEST(Asn1Errors, NonMinimalLengthOnlyInBer) {
  Bytes der = hex("BF3E81035C015A");
  EXPECT_EQ(decode_error<sgp22::GetEuiccDataRequest>(der).code, tlv::ErrorCode::NonMinimalLength);
  DecodeOptions ber;
  ber.mode = tlv::Mode::Ber;
  auto v = decode<sgp22::GetEuiccDataRequest>(der, ber);
  ASSERT_TRUE(v) << v.error().to_string();
  EXPECT_EQ(to_hex(v->tagList), "5A");
  // Indefinite length is BER only as well.
  Bytes indefinite = hex("BF3E805C015A0000");
  EXPECT_FALSE(decode<sgp22::GetEuiccDataRequest>(indefinite));
  EXPECT_TRUE(decode<sgp22::GetEuiccDataRequest>(indefinite, ber));
}

TEST(Asn1Errors, TrailingBytes) {
  EXPECT_EQ(decode_error<sgp22::GetEuiccDataRequest>(hex("BF3E035C015A00")).code, tlv::ErrorCode::TrailingBytes);
}

TEST(Asn1Errors, MissingMandatoryField) {
  // GetEuiccDataResponse without its eidValue.
  auto e = decode_error<sgp22::GetEuiccDataResponse>(hex("BF3E00"));
  EXPECT_EQ(e.code, tlv::ErrorCode::MissingElement);
  EXPECT_EQ(e.context, "GetEuiccDataResponse.eidValue");
}

TEST(Asn1Errors, InvalidValuesAndSizes) {
  // eidValue is Octet16: 15 octets break the SIZE constraint.
  auto e = decode_error<sgp22::GetEuiccDataResponse>(hex("BF3E115A0F" + std::string(30, '1')));
  EXPECT_EQ(e.code, tlv::ErrorCode::InvalidValue);
  EXPECT_EQ(e.context, "GetEuiccDataResponse.eidValue");
  // BOOLEAN 0x01 is not DER.
  auto b = decode_error<sgp22::EnableProfileRequest>(hex("BF3111A00C5A0A98001032547698103214810101"));
  EXPECT_EQ(b.code, tlv::ErrorCode::InvalidValue);
  EXPECT_EQ(b.context, "EnableProfileRequest.refreshFlag");
}

TEST(Asn1Errors, TooDeep) {
  // 40 nested [0] constructed elements: deeper than the default limit of 32.
  Bytes der;
  for (int i = 0; i < 40; ++i) der.insert(der.begin(), {0xA0, static_cast<std::uint8_t>(2 * i)});
  auto tree = tlv_tree(der);
  ASSERT_FALSE(tree);
  EXPECT_EQ(tree.error().code, tlv::ErrorCode::NestingTooDeep);
  // Typed decoders stop at the same limit.
  DecodeOptions shallow;
  shallow.limits.max_depth = 1;
  auto deep = decode<sgp22::EUICCInfo1>(encode(euicc_info1()), shallow);
  ASSERT_FALSE(deep);
  EXPECT_EQ(deep.error().code, tlv::ErrorCode::NestingTooDeep);
}

TEST(Asn1Errors, MemoryBudget) {
  sgp22::RetrieveNotificationsListResponse r;
  auto& list = r.set_notificationList();
  for (int i = 0; i < 50; ++i) list.emplace_back().set_profileInstallationResult(profile_installation_result());
  DecodeOptions tight;
  tight.max_memory = 4096;
  auto v = decode<sgp22::RetrieveNotificationsListResponse>(encode(r), tight);
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().code, tlv::ErrorCode::InvalidValue);
  EXPECT_TRUE(decode<sgp22::RetrieveNotificationsListResponse>(encode(r)));
}

TEST(Asn1Extensibility, UnknownTrailingElementsAreSkipped) {
  // An SGP.22 v3 eUICC adds members to EUICCInfo2 after certificationDataObject.
  Bytes base = encode(euicc_info2());
  auto outer = tlv::parse_one(base);
  ASSERT_TRUE(outer);
  Bytes contents(outer->value.begin(), outer->value.end());
  for (const char* extra : {"9F7F0101", "BF7E03800101", "0500"}) {
    Bytes x = hex(extra);
    contents.insert(contents.end(), x.begin(), x.end());
  }
  Bytes extended = tlv::encode(outer->tag, contents);
  DecodeStats stats;
  auto v = decode<sgp22::EUICCInfo2>(extended, {}, &stats);
  ASSERT_TRUE(v) << v.error().to_string();
  EXPECT_EQ(*v, euicc_info2());
  EXPECT_EQ(stats.unknown_elements, 3u);
  // PKIX types are not extensible: the same trick is an error there.
  auto time = decode<pkix::Validity>(hex("3020170D3230303130313030303030305A170D3330303130313030303030305A0500"));
  ASSERT_FALSE(time);
  EXPECT_EQ(time.error().code, tlv::ErrorCode::TrailingBytes);
}

TEST(Asn1Extensibility, UnknownChoiceAlternativeIsKept) {
  // AuthenticateServerResponse with an alternative [5] a later version might add.
  Bytes der = hex("BF3805A503800101");
  DecodeStats stats;
  auto v = decode<sgp22::AuthenticateServerResponse>(der, {}, &stats);
  ASSERT_TRUE(v) << v.error().to_string();
  ASSERT_NE(v->unknown(), nullptr);
  EXPECT_STREQ(v->alternative_name(), "unknown");
  EXPECT_EQ(to_hex(v->unknown()->der), "A503800101");
  EXPECT_EQ(stats.unknown_elements, 1u);
  EXPECT_EQ(to_hex(encode(*v)), to_hex(der));
  EXPECT_EQ(to_json(*v).dump(), R"({"unknown":"A503800101"})");
}

}  // namespace
}  // namespace rsp::asn1
