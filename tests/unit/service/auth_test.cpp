// Caller authentication: API keys, and client certificates pinned or by root
// and subject, with certificates of real test PKIs (two operators under one
// CI, one under another CI).

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "rsp/crypto/ec_key.hpp"
#include "rsp/crypto/sha256.hpp"
#include "rsp/net/tls.hpp"
#include "rsp/pki/test_pki.hpp"
#include "rsp/service/api_key.hpp"
#include "rsp/service/client_certificate.hpp"
#include "test_support/temp_dir.hpp"

namespace rsp::service {
namespace {

namespace fs = std::filesystem;

class ClientCertificates : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dirs_ = new Dirs();
    pki::TestPkiOptions a;
    a.out_dir = dirs_->ours.path();
    a.curves = {crypto::Curve::NistP256};
    ASSERT_TRUE(pki::make_test_pki(a));
    // A second operator certificate under the same CI.
    auto ci = pki::Certificate::load_file(dirs_->ours.path() / "CERT_CI_ECDSA_NIST.pem");
    ASSERT_TRUE(ci);
    auto pem = net::load_certificates(dirs_->ours.path() / "CERT_CI_ECDSA_NIST.pem");
    ASSERT_TRUE(pem);
    std::ifstream key_in(dirs_->ours.path() / "SK_CI_ECDSA_NIST.pem");
    const std::string key_pem((std::istreambuf_iterator<char>(key_in)), std::istreambuf_iterator<char>());
    auto key = crypto::EcKey::from_pem(key_pem);
    ASSERT_TRUE(key);
    pki::TestPkiOptions b;
    b.out_dir = dirs_->sibling.path();
    b.ci = pki::TestPkiOptions::ExistingCi{ci->front(), std::move(*key)};
    ASSERT_TRUE(pki::make_test_pki(b));
    pki::TestPkiOptions c;
    c.out_dir = dirs_->theirs.path();
    c.curves = {crypto::Curve::NistP256};
    ASSERT_TRUE(pki::make_test_pki(c));
  }
  static void TearDownTestSuite() { delete dirs_; }

  static Bytes cert(const fs::path& dir, const std::string& name) {
    auto c = net::load_certificates(dir / name);
    EXPECT_TRUE(c) << c.error().message;
    return c->front();
  }
  static net::PeerCertificate peer(const fs::path& dir) {
    net::PeerCertificate p;
    p.chain = {cert(dir, "CERT_OPERATOR_TLS_NIST.pem")};
    p.subject = net::certificate_subject(p.chain.front());
    return p;
  }

  struct Dirs {
    test_support::TempDir ours, sibling, theirs;
  };
  static Dirs* dirs_;
};

ClientCertificates::Dirs* ClientCertificates::dirs_ = nullptr;

TEST_F(ClientCertificates, APinnedLeafNamesItsCallerOnly) {
  const auto op1 = peer(dirs_->ours.path());
  const auto op2 = peer(dirs_->sibling.path());
  ASSERT_EQ(op1.subject, op2.subject);  // the same subject, another key and certificate
  ClientCertificateAuthenticator auth({{"op1", op1.leaf(), std::nullopt, {}}, {"op2", op2.leaf(), std::nullopt, {}}});
  EXPECT_EQ(auth.authenticate(op1), std::optional<std::string>("op1"));
  EXPECT_EQ(auth.authenticate(op2), std::optional<std::string>("op2"));
  EXPECT_FALSE(auth.authenticate(peer(dirs_->theirs.path())));
  EXPECT_FALSE(auth.authenticate(net::PeerCertificate{}));
  EXPECT_TRUE(auth.roots().empty());
}

TEST_F(ClientCertificates, ARootAndSubjectNameEveryCertificateItIssuedWithThatSubject) {
  const Bytes ci = cert(dirs_->ours.path(), "CERT_CI_ECDSA_NIST.pem");
  const Bytes other_ci = cert(dirs_->theirs.path(), "CERT_CI_ECDSA_NIST.pem");
  ClientCertificateAuthenticator auth({{"opR", std::nullopt, ci, "O=RSP Test Operator,  CN =Test Operator 1"}});
  EXPECT_EQ(auth.authenticate(peer(dirs_->ours.path())), std::optional<std::string>("opR"));
  EXPECT_EQ(auth.authenticate(peer(dirs_->sibling.path())), std::optional<std::string>("opR"));
  // Another CI's certificate with the same subject is not the caller's.
  EXPECT_FALSE(auth.authenticate(peer(dirs_->theirs.path())));
  ClientCertificateAuthenticator other_subject({{"opR", std::nullopt, ci, "O = RSP Test Operator, CN = Test Operator 2"}});
  EXPECT_FALSE(other_subject.authenticate(peer(dirs_->ours.path())));
  ClientCertificateAuthenticator other_root({{"opR", std::nullopt, other_ci, "O = RSP Test Operator, CN = Test Operator 1"}});
  EXPECT_FALSE(other_root.authenticate(peer(dirs_->ours.path())));
  ASSERT_EQ(auth.roots().size(), 1u);
  EXPECT_EQ(auth.roots()[0], ci);
}

TEST_F(ClientCertificates, PinnedComesBeforeRootAndSubject) {
  const Bytes ci = cert(dirs_->ours.path(), "CERT_CI_ECDSA_NIST.pem");
  const auto op1 = peer(dirs_->ours.path());
  ClientCertificateAuthenticator auth(
      {{"opR", std::nullopt, ci, op1.subject}, {"op1", op1.leaf(), std::nullopt, {}}});
  EXPECT_EQ(auth.authenticate(op1), std::optional<std::string>("op1"));
  EXPECT_EQ(auth.authenticate(peer(dirs_->sibling.path())), std::optional<std::string>("opR"));
}

TEST_F(ClientCertificates, IssuedByChecksTheSignature) {
  const Bytes ci = cert(dirs_->ours.path(), "CERT_CI_ECDSA_NIST.pem");
  const Bytes other_ci = cert(dirs_->theirs.path(), "CERT_CI_ECDSA_NIST.pem");
  const Bytes leaf = peer(dirs_->ours.path()).leaf();
  EXPECT_TRUE(issued_by(leaf, ci));
  EXPECT_TRUE(issued_by(ci, ci));
  EXPECT_FALSE(issued_by(leaf, other_ci));  // same issuer name, another key
  EXPECT_FALSE(issued_by(ci, leaf));
  EXPECT_FALSE(issued_by(Bytes{0x30, 0x03, 0x02, 0x01, 0x01}, ci));
  EXPECT_FALSE(issued_by(Bytes{}, Bytes{}));
  Bytes trailing = leaf;
  trailing.push_back(0);
  EXPECT_FALSE(issued_by(trailing, ci));
}

TEST(Subjects, SpacesAroundSeparatorsDoNotMatter) {
  EXPECT_EQ(normalize_subject("O = RSP Test, CN = op 1"), "O=RSP Test,CN=op 1");
  EXPECT_EQ(normalize_subject("O=RSP Test,CN=op 1"), "O=RSP Test,CN=op 1");
  EXPECT_NE(normalize_subject("CN = op1"), normalize_subject("CN = op 1"));
}

TEST(ApiKeys, ABearerKeyNamesItsCallerOnly) {
  const std::string k1 = "key-one-0123456789abcdef", k2 = "key-two-0123456789abcdef";
  ApiKeyAuthenticator auth({{"a", crypto::sha256(as_bytes(k1))}, {"b", crypto::sha256(as_bytes(k2))}});
  EXPECT_EQ(auth.authenticate("Bearer " + k1), std::optional<std::string>("a"));
  EXPECT_EQ(auth.authenticate("Bearer " + k2), std::optional<std::string>("b"));
  EXPECT_FALSE(auth.authenticate(std::nullopt));
  EXPECT_FALSE(auth.authenticate("Bearer "));
  EXPECT_FALSE(auth.authenticate("Basic " + k1));
  EXPECT_FALSE(auth.authenticate("Bearer " + k1 + " "));
  EXPECT_FALSE(ApiKeyAuthenticator({}).authenticate("Bearer " + k1));
}

}  // namespace
}  // namespace rsp::service
