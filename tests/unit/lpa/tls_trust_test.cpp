// The LPA's TLS to an SM-DP+ (SGP.22 v2.2.2 §2.6.6): the server chain is
// checked against the CI certificates the eUICC lists for verification, over
// real TLS on 127.0.0.1; brainpool-only servers are reached; a handshake that
// fails says what was offered and checked.

#include <gtest/gtest.h>

#include "rsp/lpa/https_transport.hpp"
#include "rsp/lpa/tls_trust.hpp"
#include "rsp/net/server.hpp"
#include "rsp/net/tls.hpp"
#include "rsp/pki/test_pki.hpp"
#include "test_support/temp_dir.hpp"

namespace rsp::lpa {
namespace {

namespace fs = std::filesystem;

class LpaTls : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test_support::TempDir();
    for (const char* name : {"pki", "other"}) {
      pki::TestPkiOptions o;
      o.out_dir = dir_->path() / name;
      o.smdpp_address = "localhost";
      auto made = pki::make_test_pki(o);
      ASSERT_TRUE(made) << made.error().message;
    }
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static Bytes ci(const std::string& pki, const std::string& curve) {
    auto c = net::load_certificates(dir_->path() / pki / ("CERT_CI_ECDSA_" + curve + ".pem"));
    EXPECT_TRUE(c && c->size() == 1);
    return c && !c->empty() ? c->front() : Bytes{};
  }
  static Bytes pkid(const Bytes& ci_cert) { return net::certificate_subject_key_id(ci_cert); }
  static net::TlsIdentity dptls(const std::string& pki, const std::string& curve) {
    const fs::path d = dir_->path() / pki;
    auto id = net::TlsIdentity::load(d / ("CERT_S_SM_DP_TLS_" + curve + ".pem"), d / ("SK_S_SM_DP_TLS_" + curve + ".pem"));
    EXPECT_TRUE(id) << id.error().message;
    return *id;
  }

  /// An SM-DP+ stand-in: HTTPS with these DPtls identities (and groups), /ping answers 200.
  std::unique_ptr<net::HttpServer> serve(std::vector<net::TlsIdentity> ids, std::string groups = "") {
    net::TlsServerConfig tls;
    tls.identities = std::move(ids);
    if (!groups.empty()) tls.groups = std::move(groups);
    net::HttpServerOptions o;
    o.tls = tls;
    o.worker_threads = 1;
    auto s = std::make_unique<net::HttpServer>(std::move(o));
    s->post("/ping", [](const net::Request&) {
      net::Response r;
      r.content_type = "application/json";
      r.body = "{}";
      return r;
    });
    auto started = s->start();
    EXPECT_TRUE(started) << started.error().message;
    return s;
  }

  /// One POST through the LPA's transport to localhost (connecting to 127.0.0.1:port).
  static expected<HttpReply, TransportError> ping(int port, HttpsEs9Options o) {
    o.resolve["localhost"] = "127.0.0.1:" + std::to_string(port);
    HttpsEs9Transport t(std::move(o));
    return t.post("localhost", "/ping", "{}");
  }

  static test_support::TempDir* dir_;
};

test_support::TempDir* LpaTls::dir_ = nullptr;

TEST_F(LpaTls, AnchorsAreTheGivenCisTheEuiccLists) {
  const Bytes nist = ci("pki", "NIST"), brp = ci("pki", "BRP"), other = ci("other", "NIST");
  ASSERT_EQ(pkid(nist).size(), 20u);
  auto a = ci_anchors({nist, brp, other, nist}, {pkid(brp), pkid(nist)});
  ASSERT_TRUE(a) << a.error();
  EXPECT_EQ(a->anchors, (std::vector<Bytes>{nist, brp}));  // given order, each once
  ASSERT_EQ(a->used.size(), 2u);
  EXPECT_NE(a->used[0].find("SKI " + to_hex(pkid(nist))), std::string::npos) << a->used[0];
  ASSERT_EQ(a->unlisted.size(), 1u);

  // None of them listed: why, in words, with the eUICC's PKIds and what was given.
  auto none = ci_anchors({other}, {pkid(nist)});
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().find("none of the CI certificates given"), std::string::npos) << none.error();
  EXPECT_NE(none.error().find(to_hex(pkid(nist))), std::string::npos) << none.error();
  EXPECT_NE(none.error().find(to_hex(pkid(other))), std::string::npos) << none.error();
  EXPECT_FALSE(ci_anchors({}, {pkid(nist)}));
  EXPECT_FALSE(ci_anchors({Bytes{0x30, 0x00}}, {pkid(nist)}));  // not a certificate: never an anchor
}

TEST_F(LpaTls, AcceptedUnderAListedCi) {
  auto server = serve({dptls("pki", "NIST")});
  HttpsEs9Options o;
  o.trust_anchors = ci_anchors({ci("pki", "NIST"), ci("pki", "BRP")}, {pkid(ci("pki", "NIST"))})->anchors;
  auto r = ping(server->port(), o);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, 200);
}

TEST_F(LpaTls, RefusedUnderACiTheEuiccDoesNotList) {
  // The eUICC lists only the brainpool CI: the NIST chain has no anchor.
  auto server = serve({dptls("pki", "NIST")});
  HttpsEs9Options o;
  o.trust_anchors = ci_anchors({ci("pki", "NIST"), ci("pki", "BRP")}, {pkid(ci("pki", "BRP"))})->anchors;
  auto r = ping(server->port(), o);
  ASSERT_FALSE(r);
  const std::string& m = r.error().message;
  EXPECT_NE(m.find("TLS certificate of localhost was refused"), std::string::npos) << m;
  EXPECT_NE(m.find("unable to get local issuer certificate"), std::string::npos) << m;
  EXPECT_NE(m.find("trust anchors: "), std::string::npos) << m;
  EXPECT_NE(m.find("SKI " + to_hex(pkid(ci("pki", "BRP")))), std::string::npos) << m;
  EXPECT_EQ(m.find("SKI " + to_hex(pkid(ci("pki", "NIST")))), std::string::npos) << m;
  EXPECT_NE(m.find("groups offered: " + lpa_tls_groups()), std::string::npos) << m;
}

TEST_F(LpaTls, RefusedWithAnUnknownRoot) {
  // A server whose DPtls comes from another PKI, its CI unknown to the eUICC.
  auto server = serve({dptls("other", "NIST")});
  HttpsEs9Options o;
  o.trust_anchors = {ci("pki", "NIST"), ci("pki", "BRP")};
  auto r = ping(server->port(), o);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("was refused"), std::string::npos) << r.error().message;
  // Without anchors the transport refuses to start a verified connection at all.
  HttpsEs9Options none;
  auto n = ping(server->port(), none);
  ASSERT_FALSE(n);
  EXPECT_NE(n.error().message.find("trust anchor"), std::string::npos) << n.error().message;
}

TEST_F(LpaTls, InsecureAcceptsAnyServer) {
  auto server = serve({dptls("other", "NIST")});
  HttpsEs9Options o;
  o.insecure = true;
  auto r = ping(server->port(), o);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, 200);
}

TEST_F(LpaTls, BrainpoolOnlyServerIsReached) {
  EXPECT_NE(lpa_tls_groups().find("brainpoolP256r1"), std::string::npos);
  EXPECT_NE(lpa_tls_groups().find("P-256"), std::string::npos);
  auto server = serve({dptls("pki", "BRP")}, "brainpoolP256r1");
  HttpsEs9Options o;
  o.trust_anchors = ci_anchors({ci("pki", "NIST"), ci("pki", "BRP")}, {pkid(ci("pki", "BRP"))})->anchors;
  auto r = ping(server->port(), o);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, 200);
}

TEST_F(LpaTls, AFailedHandshakeSaysWhatWasOfferedAndChecked) {
  // A client offering P-256 only meets a brainpool-only server: no group in common.
  auto server = serve({dptls("pki", "BRP")}, "brainpoolP256r1");
  HttpsEs9Options o;
  o.groups = "P-256";
  o.trust_anchors = {ci("pki", "BRP")};
  auto r = ping(server->port(), o);
  ASSERT_FALSE(r);
  const std::string& m = r.error().message;
  EXPECT_NE(m.find("TLS handshake with localhost:"), std::string::npos) << m;
  EXPECT_NE(m.find("groups offered: P-256;"), std::string::npos) << m;
  EXPECT_NE(m.find("trust anchors: "), std::string::npos) << m;
  EXPECT_NE(m.find("SKI " + to_hex(pkid(ci("pki", "BRP")))), std::string::npos) << m;
  EXPECT_NE(m.find("SSL routines"), std::string::npos) << "OpenSSL's reason: " << m;
  EXPECT_EQ(m.find('\n'), std::string::npos) << m;
}

}  // namespace
}  // namespace rsp::lpa
