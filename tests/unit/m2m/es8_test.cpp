// The ES8 key-establishment messages (m2m/es8.hpp): encode / decode round
// trips, strict refusals, STORE DATA blocking, and the derivation both ends
// share (same inputs, same keys; any input changed, other keys / receipt).

#include <gtest/gtest.h>

#include "rsp/m2m/es8.hpp"

namespace rsp::m2m::es8 {
namespace {

const Bytes kPoint = [] {
  Bytes p(65, 0x11);
  p[0] = 0x04;
  return p;
}();

TEST(Es8Messages, KeyAgreementRoundTrip) {
  auto body = encode_key_agreement_body(0x31, kPoint);
  auto message = encode_key_agreement_message(body, Bytes(64, 0x22));
  auto k = decode_key_agreement_message(message);
  ASSERT_TRUE(k);
  EXPECT_EQ(k->key_version, 0x31);
  EXPECT_EQ(k->ephemeral_point, kPoint);
  EXPECT_EQ(k->signature, Bytes(64, 0x22));
  EXPECT_EQ(k->signed_part, body);
  // The CRT as this project codes it (es8.hpp): scenario, usage, type, length, version.
  EXPECT_EQ(to_hex(Bytes(body.begin(), body.begin() + 18)), "A6109002030A9501" "5C800188810110830131");
}

TEST(Es8Messages, KeyAgreementRefusals) {
  auto body = encode_key_agreement_body(0x30, kPoint);
  EXPECT_EQ(decode_key_agreement_message(body).error(), Es8Error::Malformed);  // no signature
  auto good = encode_key_agreement_message(body, Bytes(64, 1));
  Bytes trailing = good;
  trailing.push_back(0x00);
  EXPECT_EQ(decode_key_agreement_message(trailing).error(), Es8Error::Malformed);
  Bytes other_type = good;
  other_type[11] = 0x80;  // key type '80' value: DES instead of AES
  EXPECT_EQ(decode_key_agreement_message(other_type).error(), Es8Error::Unsupported);
  Bytes other_scenario = good;
  other_scenario[4] = 0x02;
  EXPECT_EQ(decode_key_agreement_message(other_scenario).error(), Es8Error::Unsupported);
  EXPECT_EQ(decode_key_agreement_message(encode_key_agreement_message(body, {})).error(), Es8Error::Malformed);
  EXPECT_FALSE(decode_key_agreement_message({}));
}

TEST(Es8Messages, CertificateAndReceipt) {
  auto m = encode_certificate_message(Bytes(300, 0x30));
  auto der = decode_certificate_message(m);
  ASSERT_TRUE(der);
  EXPECT_EQ(der->size(), 300U);
  EXPECT_FALSE(decode_certificate_message(from_hex("7F2100").value()));
  EXPECT_FALSE(decode_certificate_message(from_hex("7F220101").value()));

  Receipt r{Bytes(16, 1), Bytes(16, 2)};
  auto back = decode_receipt(encode_receipt(r));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->dr, r.dr);
  EXPECT_EQ(back->receipt, r.receipt);
  EXPECT_FALSE(decode_receipt(encode_receipt({Bytes(15, 1), Bytes(16, 2)})));
  EXPECT_FALSE(decode_receipt(encode_receipt({Bytes(16, 1), Bytes(8, 2)})));
}

TEST(Es8Messages, StoreDataBlocks) {
  auto blocks = store_data_blocks(Bytes(600, 0xAB));
  ASSERT_EQ(blocks.size(), 3U);
  EXPECT_EQ(blocks[0].p1, 0x10);
  EXPECT_EQ(blocks[1].p2, 1);
  EXPECT_EQ(blocks[2].p1, 0x90);
  EXPECT_EQ(blocks[0].data.size() + blocks[1].data.size() + blocks[2].data.size(), 600U);
  EXPECT_EQ(blocks[0].ins, 0xE2);
  auto one = store_data_blocks(Bytes(255, 1));
  ASSERT_EQ(one.size(), 1U);
  EXPECT_EQ(one[0].p1, 0x90);
}

TEST(Es8Derivation, SameInputsSameKeysElseDifferent) {
  const Bytes shs(32, 0x5A), dr(16, 0x01);
  auto a = derive_keys(shs, dr);
  auto b = derive_keys(shs, dr);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->enc, b->enc);
  EXPECT_EQ(a->receipt_key.size(), 16U);
  EXPECT_NE(a->enc, a->mac);
  EXPECT_NE(a->mac, a->dek);
  auto c = derive_keys(shs, Bytes(16, 0x02));
  EXPECT_NE(a->enc, c->enc);
  EXPECT_EQ(derive_keys(shs, Bytes(15, 0)).error(), Es8Error::Malformed);

  auto body = encode_key_agreement_body(0x30, kPoint);
  auto r1 = compute_receipt(a->receipt_key, body, dr);
  auto r2 = compute_receipt(a->receipt_key, body, Bytes(16, 0x02));
  ASSERT_TRUE(r1 && r2);
  EXPECT_EQ(r1->size(), kReceiptSize);
  EXPECT_NE(*r1, *r2);
}

}  // namespace
}  // namespace rsp::m2m::es8
