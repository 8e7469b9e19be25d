// The certificate memos answer exactly what the work would: no hit for
// different bytes, no validity check skipped.

#include "rsp/pki/memo.hpp"

#include <gtest/gtest.h>

#include <vector>

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

TEST(CertificateMemo, EuiccChainAfterAHitStillNeedsItsIssuersAndTime) {
  clear_certificate_memos();
  const Issued ci = make_ci();
  const Issued other_ci = make_ci("Other CI");
  const Issued eum = make_eum(ci);
  const Issued euicc = make_euicc(eum, "89049032123451234512345678901235");
  const Certificate intermediates[] = {eum.cert};
  const Certificate trusted[] = {ci.cert};
  const Certificate other_trusted[] = {other_ci.cert};
  // Twice: the second run takes both signature checks from the memo.
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(validate_chain_der(euicc.cert.der(), intermediates, trusted, Role::Euicc));

  // Another CI as the only trust anchor: the memo of "EUM signed by CI" does not count.
  auto foreign = validate_chain_der(euicc.cert.der(), intermediates, other_trusted, Role::Euicc);
  ASSERT_FALSE(foreign);
  EXPECT_EQ(foreign.error().code, PkiError::Code::UnknownIssuer);
  // The same EUM name and key usage under the other CI: the eUICC certificate
  // was not signed by that EUM, whatever was remembered of its own EUM.
  const Issued other_eum = make_eum(other_ci);
  const Certificate other_intermediates[] = {other_eum.cert};
  auto wrong_eum = validate_chain_der(euicc.cert.der(), other_intermediates, other_trusted, Role::Euicc);
  ASSERT_FALSE(wrong_eum);
  // Without the EUM there is no path at all.
  EXPECT_FALSE(validate_chain_der(euicc.cert.der(), {}, trusted, Role::Euicc));
  // Past the certificates' validity, after hits: expired.
  auto later = validate_chain_der(euicc.cert.der(), intermediates, trusted, Role::Euicc,
                                  now_seconds() + std::chrono::days(365 * 40));
  ASSERT_FALSE(later);
  EXPECT_EQ(later.error().code, PkiError::Code::Expired);
  // And the memo still holds the good chain.
  EXPECT_TRUE(validate_chain_der(euicc.cert.der(), intermediates, trusted, Role::Euicc));
}

TEST(CertificateMemo, FailedVerificationIsNotRemembered) {
  clear_certificate_memos();
  const Issued ci = make_ci();
  const Issued other_ci = make_ci("Other CI");
  const Issued dp = make_leaf(ci, Role::DpPb);
  for (int i = 0; i < 2; ++i) {
    EXPECT_FALSE(signature_verifies_memo(dp.cert, other_ci.cert));
    EXPECT_EQ(certificate_memo_sizes().verified, 0u);
  }
  // A chain that fails on its signature leaves no entry either, and the
  // same chain under its real issuer is then checked afresh and accepted.
  const Certificate other_trusted[] = {other_ci.cert};
  const Issued forged = make_leaf(other_ci, Role::DpAuth);
  Bytes tampered = forged.cert.der();
  tampered[tampered.size() - 3] ^= 0x01;
  auto bad = validate_chain_der(tampered, {}, other_trusted, Role::DpAuth);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, PkiError::Code::BadSignature);
  const auto after_failure = certificate_memo_sizes().verified;
  EXPECT_FALSE(validate_chain_der(tampered, {}, other_trusted, Role::DpAuth));
  EXPECT_EQ(certificate_memo_sizes().verified, after_failure);
  EXPECT_TRUE(signature_verifies_memo(dp.cert, ci.cert));
  EXPECT_EQ(certificate_memo_sizes().verified, after_failure + 1);
}

TEST(CertificateMemo, EachMemoIsBounded) {
  const auto defaults = certificate_memo_sizes();
  EXPECT_GT(defaults.parsed_capacity, 0u);
  EXPECT_GT(defaults.verified_capacity, 0u);
  EXPECT_GT(defaults.keys_capacity, 0u);
  constexpr std::size_t kBound = 3;
  set_certificate_memo_capacity(kBound);
  const Issued ci = make_ci();
  std::vector<Issued> leaves;
  for (std::size_t i = 0; i < kBound + 2; ++i) leaves.push_back(make_leaf(ci, Role::DpAuth));
  for (const auto& l : leaves) {
    ASSERT_TRUE(parse_certificate_memo(l.cert.der()));
    ASSERT_TRUE(signature_verifies_memo(l.cert, ci.cert));
    ASSERT_TRUE(public_key_memo(l.cert));
  }
  const auto full = certificate_memo_sizes();
  EXPECT_EQ(full.parsed, kBound);
  EXPECT_EQ(full.verified, kBound);
  EXPECT_EQ(full.keys, kBound);
  // The oldest entries were forgotten, not refused: their certificates still
  // parse and verify (checked again), each answer the same as the first.
  auto first = parse_certificate_memo(leaves.front().cert.der());
  ASSERT_TRUE(first);
  EXPECT_EQ(first->der(), leaves.front().cert.der());
  EXPECT_TRUE(signature_verifies_memo(leaves.front().cert, ci.cert));
  EXPECT_FALSE(signature_verifies_memo(leaves.front().cert, make_ci("Other CI").cert));
  EXPECT_EQ(certificate_memo_sizes().verified, kBound);
  set_certificate_memo_capacity(0);
  const auto restored = certificate_memo_sizes();
  EXPECT_EQ(restored.parsed_capacity, defaults.parsed_capacity);
  EXPECT_EQ(restored.verified_capacity, defaults.verified_capacity);
  EXPECT_EQ(restored.keys_capacity, defaults.keys_capacity);
  EXPECT_EQ(restored.parsed, 0u);
}

}  // namespace
}  // namespace rsp::pki
