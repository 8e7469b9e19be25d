// Envelope encryption of profile packages: layout, key ids, and every way a
// stored envelope can fail to open (wrong key, no key, changed bytes, moved
// to another profile), each a typed error without key material.
#include "rsp/service/package_envelope.hpp"

#include <gtest/gtest.h>

#include "rsp/crypto/random.hpp"
#include "rsp/crypto/sha256.hpp"
#include "rsp/messages/iccid.hpp"
#include "test_euicc.hpp"

namespace rsp::smdpp {

using namespace rsp::service;
namespace {

using Kind = EnvelopeError::Kind;
using testing::make_test_upp;

constexpr const char* kIccid = "8949000000000000012";
constexpr std::size_t kHeader = 85;  // marker, version, KEK id, DEK nonce, wrapped DEK + tag, package nonce

KeyEncryptionKey kek_of(std::uint8_t fill) { return std::move(*KeyEncryptionKey::make(Bytes(32, fill))); }

class Envelope : public ::testing::Test {
 protected:
  crypto::DeterministicRandom rng{Bytes{0xE0}};
  KeyEncryptionKey a = kek_of(0xA1), b = kek_of(0xB2);
  Bytes upp = make_test_upp(*messages::iccid_from_digits(kIccid), 64);
  Bytes sealed = *seal_package(a, kIccid, upp, rng);

  /// The error of opening `stored` with `kek`, checked to name no key.
  EnvelopeError open_error(const KeyEncryptionKey* kek, ByteView stored, const std::string& iccid = kIccid) {
    auto r = open_package(kek, iccid, stored);
    EXPECT_FALSE(r);
    if (r) return {};
    for (std::uint8_t fill : {0xA1, 0xB2}) EXPECT_EQ(r.error().message.find(to_hex(Bytes(32, fill))), std::string::npos);
    EXPECT_NE(r.error().message.find(iccid), std::string::npos) << r.error().message;
    return r.error();
  }
};

TEST_F(Envelope, SealsUnderAFreshDataKeyAndOpens) {
  ASSERT_TRUE(is_sealed_package(sealed));
  EXPECT_EQ(to_string(ByteView(sealed).first(4)), "RSPE");
  EXPECT_EQ(sealed[4], 0x01);
  EXPECT_EQ(sealed_kek_id(sealed), a.id());
  EXPECT_EQ(sealed.size(), kHeader + upp.size() + 16);
  EXPECT_EQ(*open_package(&a, kIccid, sealed), upp);
  // The same package sealed again shares nothing but the header's fixed part.
  const Bytes again = *seal_package(a, kIccid, upp, rng);
  EXPECT_NE(Bytes(again.begin() + 13, again.end()), Bytes(sealed.begin() + 13, sealed.end()));
}

TEST_F(Envelope, TheKeyIdNamesTheKeyWithoutRevealingIt) {
  const Bytes key(32, 0xA1);
  Bytes labelled = to_bytes("rsp smdpp key-encryption key id");
  labelled.insert(labelled.end(), key.begin(), key.end());
  const Bytes digest = crypto::sha256(labelled);
  EXPECT_EQ(a.id(), Bytes(digest.begin(), digest.begin() + 8));
  EXPECT_EQ(a.id_hex(), to_hex(a.id()));
  EXPECT_NE(a.id(), b.id());
  EXPECT_FALSE(KeyEncryptionKey::make(Bytes(31, 1)));
  EXPECT_FALSE(KeyEncryptionKey::make(Bytes(33, 1)));
}

TEST_F(Envelope, AnotherKeyOrNoKeyIsATypedError) {
  const auto other = open_error(&b, sealed);
  EXPECT_EQ(other.kind, Kind::OtherKey);
  EXPECT_NE(other.message.find(a.id_hex()), std::string::npos) << other.message;
  EXPECT_NE(other.message.find(b.id_hex()), std::string::npos) << other.message;
  const auto none = open_error(nullptr, sealed);
  EXPECT_EQ(none.kind, Kind::NoKey);
  EXPECT_NE(none.message.find(a.id_hex()), std::string::npos) << none.message;
}

TEST_F(Envelope, EveryChangedByteIsFound) {
  for (std::size_t i = 0; i < sealed.size(); ++i) {
    Bytes changed = sealed;
    changed[i] ^= 0x01;
    const auto e = open_error(&a, changed);
    // The marker and version make it no envelope; the id names another key;
    // everything else is covered by a tag.
    const Kind expected = i < 5 ? Kind::Malformed : i < 13 ? Kind::OtherKey : Kind::Tampered;
    EXPECT_EQ(e.kind, expected) << "byte " << i << ": " << e.message;
  }
  EXPECT_EQ(open_error(&a, ByteView(sealed).first(sealed.size() - 1)).kind, Kind::Tampered);
  EXPECT_EQ(open_error(&a, ByteView(sealed).first(kHeader + 15)).kind, Kind::Malformed);
}

TEST_F(Envelope, AnEnvelopeMovedToAnotherProfileDoesNotOpen) {
  EXPECT_EQ(open_error(&a, sealed, "8949000000000000024").kind, Kind::Tampered);
}

TEST_F(Envelope, APackageInClearIsReadAsItIs) {
  ASSERT_EQ(upp.front(), 0xA0);  // a ProfileHeader first
  EXPECT_FALSE(is_sealed_package(upp));
  EXPECT_FALSE(sealed_kek_id(upp));
  EXPECT_EQ(*open_package(&a, kIccid, upp), upp);
  EXPECT_EQ(*open_package(nullptr, kIccid, upp), upp);
  EXPECT_EQ(open_error(&a, to_bytes("neither")).kind, Kind::Malformed);
  EXPECT_EQ(open_error(&a, Bytes{}).kind, Kind::Malformed);
}

TEST_F(Envelope, RewrapChangesTheWrappedKeyOnly) {
  auto moved = rewrap_package(&a, b, kIccid, sealed, rng);
  ASSERT_TRUE(moved) << moved.error().message;
  EXPECT_EQ(sealed_kek_id(*moved), b.id());
  EXPECT_EQ(Bytes(moved->begin() + 73, moved->end()), Bytes(sealed.begin() + 73, sealed.end()));  // package kept
  EXPECT_EQ(*open_package(&b, kIccid, *moved), upp);
  EXPECT_EQ(open_error(&a, *moved).kind, Kind::OtherKey);
  // A package in clear is sealed; a wrong old key or a changed envelope stops it.
  auto from_clear = rewrap_package(nullptr, b, kIccid, upp, rng);
  ASSERT_TRUE(from_clear);
  EXPECT_EQ(*open_package(&b, kIccid, *from_clear), upp);
  EXPECT_EQ(rewrap_package(&b, a, kIccid, sealed, rng).error().kind, Kind::OtherKey);
  EXPECT_EQ(rewrap_package(nullptr, b, kIccid, sealed, rng).error().kind, Kind::NoKey);
  Bytes changed = sealed;
  changed.back() ^= 0x01;
  EXPECT_EQ(rewrap_package(&a, b, kIccid, changed, rng).error().kind, Kind::Tampered);
}

}  // namespace
}  // namespace rsp::smdpp
