// The certificate memos answer exactly what the work would: no hit for
// different bytes, no validity check skipped.

#include "rsp/pki/memo.hpp"

#include <gtest/gtest.h>

#include "pki_test_util.hpp"

namespace rsp::pki {
namespace {

using namespace testing;

TEST(CertificateMemo, ParsesLikeFromDerAndKeepsNoFailures) {
  clear_certificate_memos();
  const Issued ci = make_ci();
  const Issued dp = make_leaf(ci, Role::DpAuth);
  auto first = parse_certificate_memo(dp.cert.der());
  auto again = parse_certificate_memo(dp.cert.der());
  ASSERT_TRUE(first && again);
  EXPECT_EQ(first->der(), dp.cert.der());
  EXPECT_EQ(again->subject(), dp.cert.subject());
  EXPECT_EQ(again->role(), Role::DpAuth);

  Bytes truncated(dp.cert.der().begin(), dp.cert.der().end() - 1);
  for (int i = 0; i < 2; ++i) {
    auto bad = parse_certificate_memo(truncated);
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code, PkiError::Code::Malformed);
  }
}

TEST(CertificateMemo, VerifiedSignatureIsBoundToBothCertificates) {
  clear_certificate_memos();
  const Issued ci = make_ci();
  const Issued other_ci = make_ci("Other CI");
  const Issued dp = make_leaf(ci, Role::DpPb);
  EXPECT_TRUE(signature_verifies_memo(dp.cert, ci.cert));
  EXPECT_TRUE(signature_verifies_memo(dp.cert, ci.cert));
  EXPECT_FALSE(signature_verifies_memo(dp.cert, other_ci.cert));

  // The same certificate with one signature bit flipped is other bytes: checked afresh.
  Bytes tampered = dp.cert.der();
  tampered[tampered.size() - 3] ^= 0x01;
  auto t = Certificate::from_der(tampered);
  ASSERT_TRUE(t);
  EXPECT_FALSE(signature_verifies_memo(*t, ci.cert));
}

TEST(CertificateMemo, PublicKeyIsTheCertificatesOwn) {
  clear_certificate_memos();
  const Issued ci = make_ci();
  const Issued dp = make_leaf(ci, Role::DpAuth);
  for (int i = 0; i < 2; ++i) {
    auto k = public_key_memo(dp.cert);
    auto c = public_key_memo(ci.cert);
    ASSERT_TRUE(k && c);
    EXPECT_EQ(k->public_point(), dp.cert.public_key()->public_point());
    EXPECT_EQ(c->public_point(), ci.cert.public_key()->public_point());
    EXPECT_NE(k->public_point(), c->public_point());
    EXPECT_FALSE(k->has_private());
  }
}

TEST(CertificateMemo, ValidationAfterAHitStillChecksTime) {
  clear_certificate_memos();
  const Issued ci = make_ci();
  const Issued dp = make_leaf(ci, Role::DpAuth);
  const Certificate trusted[] = {ci.cert};
  ASSERT_TRUE(validate_chain_der(dp.cert.der(), {}, trusted, Role::DpAuth));
  auto later = validate_chain_der(dp.cert.der(), {}, trusted, Role::DpAuth, now_seconds() + std::chrono::days(400));
  ASSERT_FALSE(later);
  EXPECT_EQ(later.error().code, PkiError::Code::Expired);
  auto wrong_role = validate_chain_der(dp.cert.der(), {}, trusted, Role::DpPb);
  ASSERT_FALSE(wrong_role);
  EXPECT_EQ(wrong_role.error().code, PkiError::Code::WrongRole);
}

}  // namespace
}  // namespace rsp::pki
