// Mutual TLS (SGP.22 §2.6.6, ES2+): the server verifies the client's chain
// against its client roots and hands the verified certificate to the handler.
// Real TLS on 127.0.0.1 with two test PKIs (two CIs) from the project's issuer.

#include <gtest/gtest.h>

#include <mutex>
#include <thread>

#include "rsp/net/client.hpp"
#include "rsp/net/server.hpp"
#include "rsp/pki/test_pki.hpp"
#include "test_support/temp_dir.hpp"

namespace rsp::net {
namespace {

using namespace std::chrono_literals;

constexpr const char* kHost = "testsmdpplus1.example.com";

class MutualTls : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    for (auto** dir : {&ours_, &theirs_}) {
      *dir = new test_support::TempDir();
      pki::TestPkiOptions opt;
      opt.out_dir = (*dir)->path();
      opt.smdpp_address = kHost;
      opt.curves = {crypto::Curve::NistP256};
      auto made = pki::make_test_pki(opt);
      ASSERT_TRUE(made) << made.error().message;
    }
  }
  static void TearDownTestSuite() {
    delete ours_;
    delete theirs_;
  }

  static TlsIdentity load(const test_support::TempDir& dir, const std::string& stem) {
    auto id = TlsIdentity::load(dir.path() / ("CERT_" + stem + "_NIST.pem"), dir.path() / ("SK_" + stem + "_NIST.pem"));
    EXPECT_TRUE(id) << id.error().message;
    return *id;
  }
  static std::vector<Bytes> ci(const test_support::TempDir& dir) {
    auto certs = load_certificates(dir.path() / "CERT_CI_ECDSA_NIST.pem");
    EXPECT_TRUE(certs) << certs.error().message;
    return *certs;
  }

  /// A server whose /who answers the verified client subject ("-" without one).
  std::unique_ptr<HttpServer> serve(ClientAuth mode) {
    HttpServerOptions opt;
    TlsServerConfig tls;
    tls.identities = {load(*ours_, "S_SM_DP_TLS")};
    tls.client_auth = mode;
    tls.client_roots = ci(*ours_);
    opt.tls = tls;
    opt.on_tls_failure = [this](const std::string& peer, const std::string& reason) {
      std::lock_guard lock(mu_);
      failures_.push_back(peer + ": " + reason);
    };
    auto server = std::make_unique<HttpServer>(std::move(opt));
    server->get("/who", [](const Request& r) {
      Response res;
      res.content_type = "text/plain";
      res.body = r.client_certificate ? r.client_certificate->subject : "-";
      return res;
    });
    auto started = server->start();
    EXPECT_TRUE(started) << started.error().message;
    return server;
  }

  NetResult<HttpResponse> ask(int port, std::optional<TlsIdentity> identity, TlsVersion max = TlsVersion::Tls13,
                              bool own_connection = false) {
    HttpsClientOptions opt;
    opt.own_connection = own_connection;
    opt.base_url = std::string("https://") + kHost + ":" + std::to_string(port);
    opt.connect_to = "127.0.0.1";
    opt.trust_anchors = ci(*ours_);
    opt.identity = std::move(identity);
    opt.max_version = max;
    opt.connect_timeout = 5s;
    opt.read_timeout = 10s;
    auto c = HttpsClient::create(std::move(opt));
    if (!c) return unexpected(c.error());
    return (*c)->get("/who");
  }

  std::vector<std::string> failures() {
    std::lock_guard lock(mu_);
    return failures_;
  }

  static test_support::TempDir* ours_;
  static test_support::TempDir* theirs_;
  std::mutex mu_;
  std::vector<std::string> failures_;
};

test_support::TempDir* MutualTls::ours_ = nullptr;
test_support::TempDir* MutualTls::theirs_ = nullptr;

TEST_F(MutualTls, TheHandlerSeesTheVerifiedClient) {
  auto server = serve(ClientAuth::Required);
  for (auto max : {TlsVersion::Tls13, TlsVersion::Tls12}) {
    for (bool own : {false, true}) {
      auto r = ask(server->port(), load(*ours_, "OPERATOR_TLS"), max, own);
      ASSERT_TRUE(r) << r.error().message;
      EXPECT_NE(r->body.find("CN = Test Operator 1"), std::string::npos) << r->body;
    }
  }
  EXPECT_TRUE(failures().empty());
}

TEST_F(MutualTls, NoCertificateFailsTheHandshakeWhenRequired) {
  auto server = serve(ClientAuth::Required);
  auto r = ask(server->port(), std::nullopt);
  EXPECT_FALSE(r);
  // TLS 1.3: the client learns of the refusal on its first read, the server logs it at once.
  for (int i = 0; i < 100 && failures().empty(); ++i) std::this_thread::sleep_for(10ms);
  ASSERT_EQ(failures().size(), 1u);
  EXPECT_NE(failures()[0].find("127.0.0.1: "), std::string::npos);
}

TEST_F(MutualTls, ACertificateOfAnotherRootFailsAndIsLoggedWithoutTheKey) {
  auto server = serve(ClientAuth::Optional);
  auto r = ask(server->port(), load(*theirs_, "OPERATOR_TLS"));
  EXPECT_FALSE(r);
  for (int i = 0; i < 100 && failures().empty(); ++i) std::this_thread::sleep_for(10ms);
  ASSERT_EQ(failures().size(), 1u);
  EXPECT_NE(failures()[0].find("certificate"), std::string::npos) << failures()[0];
  EXPECT_EQ(failures()[0].find("PRIVATE KEY"), std::string::npos);
  EXPECT_NE(server->metrics().render().find("rsp_tls_handshake_failures_total 1"), std::string::npos);
}

TEST_F(MutualTls, OptionalLetsAClientWithoutCertificateIn) {
  auto server = serve(ClientAuth::Optional);
  auto r = ask(server->port(), std::nullopt);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->body, "-");
  auto with = ask(server->port(), load(*ours_, "OPERATOR_TLS"));
  ASSERT_TRUE(with) << with.error().message;
  EXPECT_NE(with->body.find("Test Operator 1"), std::string::npos);
}

TEST_F(MutualTls, ClientAuthWithoutRootsDoesNotStart) {
  HttpServerOptions opt;
  TlsServerConfig tls;
  tls.identities = {load(*ours_, "S_SM_DP_TLS")};
  tls.client_auth = ClientAuth::Required;
  opt.tls = tls;
  HttpServer server(std::move(opt));
  auto started = server.start();
  ASSERT_FALSE(started);
  EXPECT_NE(started.error().message.find("client roots"), std::string::npos) << started.error().message;
}

}  // namespace
}  // namespace rsp::net
