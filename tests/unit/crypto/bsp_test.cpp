#include "rsp/crypto/bsp.hpp"

#include <gtest/gtest.h>

#include <optional>

#include "kat.hpp"
#include "rsp/crypto/aes.hpp"
#include "rsp/crypto/ecka.hpp"

namespace rsp::crypto {
namespace {

using Code = CryptoError::Code;
using test::read_kat;

TEST(Bsp, KeyDerivationAndProtectionMatchPublicTrace) {
  auto kat = read_kat("bsp_sgp22_trace.txt");
  ASSERT_EQ(kat.size(), 8u);
  std::optional<BspSession> sender, receiver;
  int segments = 0;
  for (const auto& r : kat) {
    const std::string& type = r.at("type");
    if (type == "kdf") {
      auto keys = derive_bsp_keys(r.hex("ShS"), r.hex("HostID"), r.hex("EID"));
      ASSERT_TRUE(keys);
      EXPECT_EQ(keys->s_enc, r.hex("S_ENC"));
      EXPECT_EQ(keys->s_mac, r.hex("S_MAC"));
      EXPECT_EQ(keys->initial_mcv, r.hex("MCV"));
    } else if (type == "session") {
      BspKeys keys(r.hex("S_ENC"), r.hex("S_MAC"), r.hex("MCV"));
      sender.emplace(keys);
      receiver.emplace(keys);
    } else {
      ASSERT_TRUE(sender && receiver);
      auto tag = static_cast<std::uint8_t>(r.hex("tag").at(0));
      bool enc = r.at("mode") == "E";
      auto out = enc ? sender->encrypt_and_mac(tag, r.hex("in")) : sender->mac_only(tag, r.hex("in"));
      ASSERT_TRUE(out) << out.error().message;
      EXPECT_EQ(to_hex(*out), to_hex(r.hex("out")));
      auto back = enc ? receiver->verify_and_decrypt(tag, *out)
                      : receiver->verify_mac_only(tag, *out);
      ASSERT_TRUE(back) << back.error().message;
      EXPECT_EQ(*back, r.hex("in"));
      ++segments;
    }
  }
  EXPECT_EQ(segments, 4);
}

class BspPair : public ::testing::Test {
 protected:
  void SetUp() override {
    auto smdp = EcKey::generate(Curve::NistP256);
    auto euicc = EcKey::generate(Curve::NistP256);
    ASSERT_TRUE(smdp && euicc);
    auto shs1 = ecka_shared_secret(*smdp, *euicc);
    auto shs2 = ecka_shared_secret(*euicc, *smdp);
    ASSERT_TRUE(shs1 && shs2);
    ASSERT_EQ(*shs1, *shs2);
    Bytes host_id = from_hex("0102030405060708").value();
    Bytes eid = from_hex("89049032123451234512345678901235").value();
    auto k1 = derive_bsp_keys(*shs1, host_id, eid);
    auto k2 = derive_bsp_keys(*shs2, host_id, eid);
    ASSERT_TRUE(k1 && k2);
    sender_.emplace(*k1);
    receiver_.emplace(*k2);
  }
  std::optional<BspSession> sender_, receiver_;
};

TEST_F(BspPair, RoundTripManySizesAndSegments) {
  for (std::size_t n : {0u, 1u, 15u, 16u, 17u, 127u, 200u, 1007u}) {
    Bytes data(n, static_cast<std::uint8_t>(n));
    auto seg = sender_->encrypt_and_mac(0x86, data);
    ASSERT_TRUE(seg) << n;
    EXPECT_LE(seg->size(), kBspMaxSegment);
    EXPECT_EQ(receiver_->verify_and_decrypt(0x86, *seg).value(), data);
  }
  EXPECT_FALSE(sender_->encrypt_and_mac(0x86, Bytes(1008, 0)));
  Bytes big(3000, 0x5a);
  auto segs = sender_->encrypt_and_mac_segments(0x86, big);
  ASSERT_TRUE(segs);
  EXPECT_EQ(segs->size(), 3u);
  Bytes joined;
  for (const auto& s : *segs) {
    auto p = receiver_->verify_and_decrypt(0x86, s);
    ASSERT_TRUE(p);
    joined.insert(joined.end(), p->begin(), p->end());
  }
  EXPECT_EQ(joined, big);
  auto m = sender_->mac_only(0x88, Bytes(1008, 1));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->size(), kBspMaxSegment);
  EXPECT_EQ(receiver_->verify_mac_only(0x88, *m).value(), Bytes(1008, 1));
  EXPECT_EQ(sender_->block_counter(), receiver_->block_counter());
}

// A server that overshoots: 1023 bytes of plaintext make a 1036-byte segment
// (1024 bytes of padded ciphertext, the MAC, tag and three length octets). A
// session at SGP.22's 1020 bytes refuses it without moving; one raised to a
// lenient card's bound verifies and decrypts it.
TEST_F(BspPair, MaxSegmentRaisedTakesA1036ByteSegment) {
  EXPECT_EQ(sender_->max_segment(), kBspMaxSegment);
  EXPECT_FALSE(sender_->encrypt_and_mac(0x86, Bytes(1008, 0)));
  sender_->set_max_segment(1036);
  const Bytes data(1023, 0x42);
  auto seg = sender_->encrypt_and_mac(0x86, data);
  ASSERT_TRUE(seg);
  EXPECT_EQ(seg->size(), 1036u);
  EXPECT_FALSE(sender_->encrypt_and_mac(0x86, Bytes(1024, 0)));
  auto strict = receiver_->verify_and_decrypt(0x86, *seg);
  ASSERT_FALSE(strict);
  EXPECT_EQ(strict.error().code, Code::InvalidInput);
  receiver_->set_max_segment(1052);
  EXPECT_EQ(receiver_->verify_and_decrypt(0x86, *seg).value(), data);
  EXPECT_EQ(sender_->block_counter(), receiver_->block_counter());
  // Never below SGP.22's bound.
  receiver_->set_max_segment(10);
  EXPECT_EQ(receiver_->max_segment(), kBspMaxSegment);
}

TEST_F(BspPair, TamperedByteIsMacMismatchAndStateIsKept) {
  auto seg = sender_->encrypt_and_mac(0x87, to_bytes("ConfigureISDP"));
  ASSERT_TRUE(seg);
  for (std::size_t i = 2; i < seg->size(); ++i) {
    Bytes bad = *seg;
    bad[i] ^= 0x01;
    auto r = receiver_->verify_and_decrypt(0x87, bad);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Code::MacMismatch) << i;
  }
  EXPECT_EQ(receiver_->block_counter(), 1u);
  EXPECT_EQ(to_string(receiver_->verify_and_decrypt(0x87, *seg).value()), "ConfigureISDP");
}

TEST_F(BspPair, OutOfOrderSegmentIsMacMismatch) {
  auto first = sender_->encrypt_and_mac(0x86, to_bytes("first"));
  auto second = sender_->encrypt_and_mac(0x86, to_bytes("second"));
  ASSERT_TRUE(first && second);
  auto r = receiver_->verify_and_decrypt(0x86, *second);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::MacMismatch);
  EXPECT_TRUE(receiver_->verify_and_decrypt(0x86, *first));
  EXPECT_TRUE(receiver_->verify_and_decrypt(0x86, *second));
  // Replaying an accepted segment fails: the MCV has moved on.
  EXPECT_EQ(receiver_->verify_and_decrypt(0x86, *second).error().code, Code::MacMismatch);
}

TEST_F(BspPair, WrongTagAndMalformedSegments) {
  auto seg = sender_->encrypt_and_mac(0x87, to_bytes("x"));
  ASSERT_TRUE(seg);
  EXPECT_EQ(receiver_->verify_and_decrypt(0x86, *seg).error().code, Code::InvalidInput);
  Bytes truncated(seg->begin(), seg->end() - 1);
  EXPECT_EQ(receiver_->verify_and_decrypt(0x87, truncated).error().code, Code::InvalidInput);
  EXPECT_FALSE(receiver_->verify_and_decrypt(0x87, from_hex("87").value()));
  EXPECT_FALSE(receiver_->verify_and_decrypt(0x87, from_hex("878100").value()));  // non-minimal
  EXPECT_FALSE(receiver_->verify_and_decrypt(0x87, from_hex("8784").value()));
  EXPECT_FALSE(receiver_->verify_and_decrypt(0x87, Bytes(2000, 0x87)));
  EXPECT_TRUE(receiver_->verify_and_decrypt(0x87, *seg));
}

TEST(Bsp, WrongPaddingIsReported) {
  // Build a correctly MACed segment whose plaintext lacks the '80' padding.
  BspKeys keys(Bytes(16, 1), Bytes(16, 2), Bytes(16, 3));
  BspSession receiver(keys);
  auto icv = aes_encrypt_block(keys.s_enc, counter_block(1));
  auto cipher = aes_cbc_encrypt(keys.s_enc, *icv, Bytes(16, 0x00));
  ASSERT_TRUE(cipher);
  Bytes header{0x86, static_cast<std::uint8_t>(cipher->size() + kBspMacSize)};
  auto mac = aes_cmac(keys.s_mac, concat({keys.initial_mcv, header, *cipher}));
  Bytes seg = concat({header, *cipher, ByteView(*mac).first(8)});
  auto r = receiver.verify_and_decrypt(0x86, seg);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::InvalidPadding);
}

}  // namespace
}  // namespace rsp::crypto
