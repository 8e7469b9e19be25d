// The service server over real sockets: routes with their per-function
// metrics, the admin listener (and 404 on the public port), authentication
// by client certificate (mutual TLS) and by API key, the access log, and the
// log line of a failed TLS handshake.

#include "rsp/service/server.hpp"

#include <gtest/gtest.h>

#include <mutex>
#include <thread>

#include "rsp/crypto/sha256.hpp"
#include "rsp/net/client.hpp"
#include "rsp/pki/test_pki.hpp"
#include "rsp/service/api_key.hpp"
#include "rsp/service/client_certificate.hpp"
#include "test_support/temp_dir.hpp"

namespace rsp::service {
namespace {

using namespace std::chrono_literals;

constexpr const char* kHost = "testsmdpplus1.example.com";
const std::string kKey = "the-api-key-0123456789";

class ServiceServer : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    for (auto** dir : {&ours_, &theirs_}) {
      *dir = new test_support::TempDir();
      pki::TestPkiOptions opt;
      opt.out_dir = (*dir)->path();
      opt.smdpp_address = kHost;
      opt.curves = {crypto::Curve::NistP256};
      ASSERT_TRUE(pki::make_test_pki(opt));
    }
  }
  static void TearDownTestSuite() {
    delete ours_;
    delete theirs_;
  }
  static net::TlsIdentity identity(const test_support::TempDir& dir, const std::string& stem) {
    auto id = net::TlsIdentity::load(dir.path() / ("CERT_" + stem + "_NIST.pem"), dir.path() / ("SK_" + stem + "_NIST.pem"));
    EXPECT_TRUE(id) << id.error().message;
    return *id;
  }
  static Bytes ci(const test_support::TempDir& dir) {
    return net::load_certificates(dir.path() / "CERT_CI_ECDSA_NIST.pem")->front();
  }

  /// A server with an open "Test.Open" route and an authenticated "Test.Who"
  /// route answering the caller; operator "op1" by its client certificate,
  /// "op2" by API key.
  std::unique_ptr<Server> start() {
    ServerConfig c;
    c.role = "test";
    net::TlsServerConfig tls;
    tls.identities = {identity(*ours_, "S_SM_DP_TLS")};
    tls.client_auth = net::ClientAuth::Optional;
    tls.client_roots = {ci(*ours_)};
    c.http.tls = tls;
    c.http.worker_threads = 2;
    c.routes.push_back(Route{"Test.Open", "POST", "/open", false,
                             [](const net::Request&, const std::optional<Caller>& caller) {
                               Reply r;
                               r.response.body = caller ? "caller" : "anonymous";
                               r.subject_code = "8.1";
                               r.reason_code = "3.9";
                               r.detail = "detail for the log";
                               return r;
                             }});
    c.routes.push_back(Route{"Test.Who", "GET", "/who", true,
                             [](const net::Request&, const std::optional<Caller>& caller) {
                               Reply r;
                               r.response.body = caller->id + " " + proof_name(caller->proof);
                               return r;
                             }});
    c.routes.push_back(Route{"Test.Throw", "GET", "/throw", false,
                             [](const net::Request&, const std::optional<Caller>&) -> Reply { throw 42; }});
    auto certs = std::make_shared<ClientCertificateAuthenticator>(
        std::vector<ClientCertificateRule>{{"op1", identity(*ours_, "OPERATOR_TLS").chain().front(), std::nullopt, {}}});
    auto keys = std::make_shared<ApiKeyAuthenticator>(std::vector<ApiKey>{{"op2", crypto::sha256(as_bytes(kKey))}});
    c.authenticate = [certs, keys](const net::Request& req) -> std::optional<Caller> {
      if (req.client_certificate)
        if (auto id = certs->authenticate(*req.client_certificate)) return Caller{*id, CallerProof::ClientCertificate};
      if (auto id = keys->authenticate(req.header("Authorization"))) return Caller{*id, CallerProof::ApiKey};
      return std::nullopt;
    };
    c.access_log = [this](std::string_view l) {
      std::lock_guard lock(mu_);
      access_.emplace_back(l);
    };
    c.log = [this](std::string_view l) {
      std::lock_guard lock(mu_);
      log_.emplace_back(l);
    };
    auto s = Server::start(std::move(c));
    EXPECT_TRUE(s) << s.error().message;
    return std::move(*s);
  }

  std::unique_ptr<net::HttpsClient> client(int port, std::optional<net::TlsIdentity> id) {
    net::HttpsClientOptions opt;
    opt.base_url = std::string("https://") + kHost + ":" + std::to_string(port);
    opt.connect_to = "127.0.0.1";
    opt.trust_anchors = {ci(*ours_)};
    opt.identity = std::move(id);
    opt.connect_timeout = 5s;
    opt.read_timeout = 10s;
    auto c = net::HttpsClient::create(std::move(opt));
    EXPECT_TRUE(c) << c.error().message;
    return std::move(*c);
  }
  std::vector<std::string> access() {
    std::lock_guard lock(mu_);
    return access_;
  }
  std::vector<std::string> log() {
    std::lock_guard lock(mu_);
    return log_;
  }

  static test_support::TempDir* ours_;
  static test_support::TempDir* theirs_;
  std::mutex mu_;
  std::vector<std::string> access_, log_;
};

test_support::TempDir* ServiceServer::ours_ = nullptr;
test_support::TempDir* ServiceServer::theirs_ = nullptr;

TEST_F(ServiceServer, TheClientCertificateNamesTheCaller) {
  auto s = start();
  auto with = client(s->port(), identity(*ours_, "OPERATOR_TLS"));
  auto r = with->get("/who");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->body, "op1 client-certificate");
  // Without a certificate, the API key.
  auto keyed = client(s->port(), std::nullopt);
  auto k = keyed->request("GET", "/who", "", "", {{"Authorization", "Bearer " + kKey}});
  ASSERT_TRUE(k) << k.error().message;
  EXPECT_EQ(k->body, "op2 api-key");
  // Neither: the default refusal, and the handler never runs.
  auto none = keyed->request("GET", "/who");
  ASSERT_TRUE(none) << none.error().message;
  EXPECT_EQ(none->status, 401);
  s->stop();  // writes the queued access-log lines
  const auto lines = access();
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_NE(lines[0].find(" test Test.Who caller=op1 peer=127.0.0.1 status=200 result=- "), std::string::npos) << lines[0];
  EXPECT_NE(lines[1].find(" test Test.Who caller=op2 "), std::string::npos) << lines[1];
  EXPECT_NE(lines[2].find(" test Test.Who caller=- peer=127.0.0.1 status=401 "), std::string::npos) << lines[2];
  for (const auto& l : lines) EXPECT_EQ(l.find(kKey), std::string::npos) << l;
  EXPECT_EQ(s->metrics().counter("rsp_function_unauthenticated_total", "").value({{"role", "test"}, {"function", "Test.Who"}}),
            1.0);
}

TEST_F(ServiceServer, ACertificateOfAnotherCiFailsTheHandshakeAndIsLogged) {
  auto s = start();
  auto stranger = client(s->port(), identity(*theirs_, "OPERATOR_TLS"));
  EXPECT_FALSE(stranger->get("/who"));
  for (int i = 0; i < 200 && log().empty(); ++i) std::this_thread::sleep_for(10ms);
  const auto lines = log();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].rfind("TLS handshake from 127.0.0.1", 0), 0u) << lines[0];
  EXPECT_NE(lines[0].find("failed: "), std::string::npos) << lines[0];
  EXPECT_EQ(lines[0].find("PRIVATE"), std::string::npos) << lines[0];
  s->stop();
  EXPECT_TRUE(access().empty());  // no request was answered
}

TEST_F(ServiceServer, MetricsAndHealthAreOnTheAdminListenerOnly) {
  auto s = start();
  auto c = client(s->port(), std::nullopt);
  auto open = c->post("/open", "{}", "application/json");
  ASSERT_TRUE(open) << open.error().message;
  EXPECT_EQ(open->body, "anonymous");
  auto boom = c->request("GET", "/throw");
  ASSERT_TRUE(boom);
  EXPECT_EQ(boom->status, 500);
  for (const char* path : {"/metrics", "/healthz"}) {
    auto r = c->request("GET", path);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->status, 404) << path;
  }
  net::HttpsClientOptions ao;
  ao.base_url = s->admin_url();
  EXPECT_EQ(s->admin_url().rfind("http://127.0.0.1:", 0), 0u);
  auto admin = net::HttpsClient::create(ao);
  ASSERT_TRUE(admin);
  auto health = (*admin)->get("/healthz");
  ASSERT_TRUE(health) << health.error().message;
  EXPECT_EQ(health->body, "ok");
  auto m = (*admin)->get("/metrics");
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_NE(m->body.find("rsp_function_calls_total{role=\"test\",function=\"Test.Open\",status=\"200\"} 1"),
            std::string::npos)
      << m->body;
  EXPECT_NE(m->body.find("rsp_function_failures_total{role=\"test\",function=\"Test.Open\",subject=\"8.1\",reason=\"3.9\"} 1"),
            std::string::npos)
      << m->body;
  EXPECT_NE(m->body.find("rsp_function_calls_total{role=\"test\",function=\"Test.Throw\",status=\"500\"} 1"),
            std::string::npos)
      << m->body;
  EXPECT_NE(m->body.find("rsp_function_duration_seconds_count{role=\"test\",function=\"Test.Open\"} 1"),
            std::string::npos);
  const auto lines = log();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], "Test.Open from 127.0.0.1: 8.1/3.9 detail for the log");
  EXPECT_EQ(lines[1], "Test.Throw from 127.0.0.1: HTTP 500 exception in the handler");
  s->stop();
  s->stop();  // idempotent
  const auto acc = access();
  // Two functions and the two probes of paths no function serves; the admin
  // listener is not logged.
  ASSERT_EQ(acc.size(), 4u);
  EXPECT_NE(acc[0].find(" result=8.1/3.9 "), std::string::npos) << acc[0];
  for (std::size_t i : {2u, 3u}) {
    EXPECT_NE(acc[i].find("(no function)"), std::string::npos) << acc[i];
    EXPECT_NE(acc[i].find("status=404"), std::string::npos) << acc[i];
    EXPECT_EQ(acc[i].find("/metrics"), std::string::npos) << acc[i];  // never the caller's path
  }
  EXPECT_FALSE((*admin)->get("/healthz"));
}

TEST_F(ServiceServer, AHealthCheckReasonIsA503) {
  ServerConfig c;
  c.role = "test";
  c.http.insecure_plain_http = true;
  c.health_check = [] { return std::optional<std::string>("database"); };
  auto s = Server::start(std::move(c));
  ASSERT_TRUE(s) << s.error().message;
  net::HttpsClientOptions ao;
  ao.base_url = (*s)->admin_url();
  auto admin = net::HttpsClient::create(ao);
  ASSERT_TRUE(admin);
  auto r = (*admin)->request("GET", "/healthz");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(r->body, "unavailable: database");
}

TEST_F(ServiceServer, ABusyAdminPortIsAnError) {
  auto first = start();
  ServerConfig c;
  c.role = "test";
  c.http.insecure_plain_http = true;
  c.admin_port = first->admin_port();
  EXPECT_FALSE(Server::start(std::move(c)));
}

}  // namespace
}  // namespace rsp::service
