// The SM-DP+ HTTP service in process: DPtls from a test PKI folder, ES9+
// routes through a stand-in dispatcher, /healthz and /metrics on the admin
// listener (and not on the public port), the access log.

#include "rsp/smdpp/http_service.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>

#include "rsp/net/client.hpp"
#include "rsp/pki/test_pki.hpp"
#include "test_support/temp_dir.hpp"

namespace rsp::smdpp {
namespace {

constexpr const char* kHost = "testsmdpplus1.example.com";

class SmdppHttp : public ::testing::Test {
 protected:
  void SetUp() override {
    pki::TestPkiOptions opt;
    opt.out_dir = dir_.path();
    opt.smdpp_address = kHost;
    auto made = pki::make_test_pki(opt);
    ASSERT_TRUE(made) << made.error().message;
  }

  std::unique_ptr<net::HttpsClient> client(int port, const std::string& ci_curve, net::HttpsClientOptions opt = {}) {
    opt.base_url = std::string("https://") + kHost + ":" + std::to_string(port);
    opt.connect_to = "127.0.0.1";
    auto ci = net::load_certificates(dir_.path() / ("CERT_CI_ECDSA_" + ci_curve + ".pem"));
    EXPECT_TRUE(ci);
    opt.trust_anchors = *ci;
    auto c = net::HttpsClient::create(opt);
    EXPECT_TRUE(c) << c.error().message;
    return std::move(*c);
  }
  /// A plain HTTP client of the admin listener.
  static std::unique_ptr<net::HttpsClient> admin(const HttpService& service) {
    net::HttpsClientOptions opt;
    opt.base_url = service.admin_url();
    auto c = net::HttpsClient::create(opt);
    EXPECT_TRUE(c) << c.error().message;
    return std::move(*c);
  }

  test_support::TempDir dir_;
};

TEST_F(SmdppHttp, LoadsNistAndBrainpoolDpTls) {
  auto ids = load_tls_identities(dir_.path());
  ASSERT_TRUE(ids) << ids.error().message;
  ASSERT_EQ(ids->size(), 2u);
  EXPECT_FALSE((*ids)[0].is_brainpool());
  EXPECT_TRUE((*ids)[1].is_brainpool());

  test_support::TempDir empty;
  auto none = load_tls_identities(empty.path());
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().message.find("DPtls"), std::string::npos);
}

TEST_F(SmdppHttp, LoadsTheSgp26Layout) {
  const std::filesystem::path ref = std::filesystem::path(RSP_REFERENCE_DIR) / "certs";
  if (!std::filesystem::exists(ref / "DPtls")) GTEST_SKIP() << "SGP.26 reference certificates absent";
  auto ids = load_tls_identities(ref);
  ASSERT_TRUE(ids) << ids.error().message;
  EXPECT_GE(ids->size(), 1u);
}

TEST_F(SmdppHttp, ServesEs9WithAdminProtocolAndMetrics) {
  auto ids = load_tls_identities(dir_.path());
  ASSERT_TRUE(ids);
  HttpServiceConfig config;
  config.tls_identities = *ids;
  config.address = kHost;
  std::vector<std::string> seen;
  std::mutex mu;
  config.es9 = [&](std::string_view path, std::string_view body, std::string_view) {
    std::lock_guard lock(mu);
    seen.emplace_back(path);
    if (path.ends_with("handleNotification")) return Es9HttpResult{204, {}, {}, {}, {}};
    return Es9HttpResult{200, "{\"echo\":" + std::string(body) + "}", {}, {}, {}};
  };
  auto service = HttpService::start(config);
  ASSERT_TRUE(service) << service.error().message;
  EXPECT_TRUE((*service)->es9_enabled());
  EXPECT_EQ((*service)->url(), "https://127.0.0.1:" + std::to_string((*service)->port()));

  auto c = client((*service)->port(), "NIST");
  const net::Headers h{{"X-Admin-Protocol", std::string(kAdminProtocol)}};
  auto r = c->post("/gsma/rsp2/es9plus/initiateAuthentication", "{\"a\":1}", "application/json", h);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->body, "{\"echo\":{\"a\":1}}");
  EXPECT_EQ(r->header("X-Admin-Protocol").value_or(""), kAdminProtocol);
  EXPECT_EQ(r->header("Content-Type").value_or(""), "application/json;charset=UTF-8");
  auto n = c->post("/gsma/rsp2/es9plus/handleNotification", "{}", "application/json", h);
  ASSERT_TRUE(n) << n.error().message;
  EXPECT_EQ(n->status, 204);

  // Brainpool LPA on TLS 1.2 reaches the same service.
  net::HttpsClientOptions brp;
  brp.max_version = net::TlsVersion::Tls12;
  brp.groups = "brainpoolP256r1:P-256";
  auto b = client((*service)->port(), "BRP", brp);
  auto cancel = b->post("/gsma/rsp2/es9plus/cancelSession", "{}", "application/json", h);
  ASSERT_TRUE(cancel) << cancel.error().message;

  // /metrics and /healthz are on the admin listener (loopback, plain HTTP) only.
  EXPECT_EQ((*service)->admin_url(), "http://127.0.0.1:" + std::to_string((*service)->admin_port()));
  EXPECT_NE((*service)->admin_port(), (*service)->port());
  auto a = admin(**service);
  auto metrics = a->get("/metrics");
  ASSERT_TRUE(metrics) << metrics.error().message;
  const auto& text = metrics->body;
  EXPECT_NE(text.find("rsp_function_calls_total{role=\"smdpp\",function=\"ES9+.InitiateAuthentication\",status=\"200\"} 1"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("rsp_function_duration_seconds_count{role=\"smdpp\",function=\"ES9+.HandleNotification\"} 1"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("rsp_smdpp_info{address=\"testsmdpplus1.example.com\""), std::string::npos) << text;
  auto health = a->get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->body, "ok");
  for (const char* path : {"/metrics", "/healthz"}) {
    auto pub = c->request("GET", path);
    ASSERT_TRUE(pub) << pub.error().message;
    EXPECT_EQ(pub->status, 404) << path;
    EXPECT_EQ(pub->body.find("rsp_"), std::string::npos);
  }
  std::lock_guard lock(mu);
  EXPECT_EQ(seen.size(), 3u);
}

// SGP.22 §6.5.1: ES9+ and ES2+ requests are JSON with an X-Admin-Protocol
// of a version we speak; others never reach a function.
TEST_F(SmdppHttp, RequestsNeedTheJsonContentTypeAndAnAdminProtocol) {
  auto ids = load_tls_identities(dir_.path());
  ASSERT_TRUE(ids);
  HttpServiceConfig config;
  config.tls_identities = *ids;
  int calls = 0;
  config.es9 = [&](std::string_view, std::string_view, std::string_view) {
    ++calls;
    return Es9HttpResult{200, "{}", {}, {}, {}};
  };
  config.es2 = [&](std::string_view, std::string_view, const std::string&) {
    ++calls;
    return Es9HttpResult{200, "{}", {}, {}, {}};
  };
  config.es2_authenticate = [](const net::Request& req) -> std::optional<service::Caller> {
    if (req.header("Authorization") == "Bearer k") return service::Caller{"op1", service::CallerProof::ApiKey};
    return std::nullopt;
  };
  auto service = HttpService::start(config);
  ASSERT_TRUE(service) << service.error().message;
  auto c = client((*service)->port(), "NIST");
  const std::string es9 = "/gsma/rsp2/es9plus/initiateAuthentication";
  const std::string es2 = "/gsma/rsp2/es2plus/downloadOrder";
  const net::Headers proto{{"X-Admin-Protocol", "gsma/rsp/v2.2.0"}};
  const net::Headers proto_auth{{"X-Admin-Protocol", "gsma/rsp/v2.5.1"}, {"Authorization", "Bearer k"}};
  struct Case {
    std::string path, content_type;
    net::Headers headers;
    int status;
  };
  const Case cases[] = {
      {es9, "application/json;charset=UTF-8", proto, 200},
      {es9, "application/json", proto, 200},  // lpac and curl leave the charset out
      {es9, "Application/JSON; charset=\"utf-8\"", proto, 200},
      {es9, "text/plain", proto, 415},
      {es9, "application/json;charset=ISO-8859-1", proto, 415},
      {es9, "application/jsonx", proto, 415},
      {es9, "application/json", {}, 400},
      {es9, "application/json", {{"X-Admin-Protocol", "gsma/rsp/v1.0.0"}}, 400},
      {es9, "application/json", {{"X-Admin-Protocol", "gsma/rsp/v2"}}, 400},
      {es9, "application/json", {{"X-Admin-Protocol", "other/v2.2.0"}}, 400},
      {es2, "application/json", proto_auth, 200},
      {es2, "application/json", {{"Authorization", "Bearer k"}}, 400},
      {es2, "text/xml", proto_auth, 415},
      {es2, "text/xml", {}, 401},  // the caller is checked first: nothing is said to strangers
  };
  int expected_calls = 0;
  for (const auto& k : cases) {
    auto r = c->request("POST", k.path, "{}", k.content_type, k.headers);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->status, k.status) << k.path << " " << k.content_type;
    if (k.status == 200) ++expected_calls;
    if (k.status == 400 || k.status == 415) {
      EXPECT_NE(r->body.find("\"1.2\""), std::string::npos) << r->body;
    }
  }
  EXPECT_EQ(calls, expected_calls);
}

// The wire gets the code and a neutral text; the detail goes to the log.
TEST_F(SmdppHttp, FailuresAreLoggedWithTheirDetail) {
  auto ids = load_tls_identities(dir_.path());
  ASSERT_TRUE(ids);
  HttpServiceConfig config;
  config.tls_identities = *ids;
  config.es9 = [](std::string_view, std::string_view, std::string_view) {
    return Es9HttpResult{200, R"({"header":{}})", "8.8", "4.2", "storage: commit: disk I/O error"};
  };
  std::vector<std::string> lines;
  std::mutex mu;
  config.log = [&](std::string_view line) {
    std::lock_guard lock(mu);
    lines.emplace_back(line);
  };
  config.log_lines_per_second = 3;
  auto service = HttpService::start(config);
  ASSERT_TRUE(service) << service.error().message;
  auto c = client((*service)->port(), "NIST");
  const net::Headers h{{"X-Admin-Protocol", std::string(kAdminProtocol)}};
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(c->post("/gsma/rsp2/es9plus/getBoundProfilePackage", "{}", "application/json", h));
  std::lock_guard lock(mu);
  ASSERT_GE(lines.size(), 1u);
  EXPECT_LE(lines.size(), 6u);  // at most 3 a second (the run may straddle a second)
  EXPECT_NE(lines[0].find("ES9+.GetBoundProfilePackage from 127.0.0.1: 8.8/4.2 storage: commit: disk I/O error"),
            std::string::npos)
      << lines[0];
}

TEST_F(SmdppHttp, HealthReportsADatabaseThatCannotCommit) {
  auto ids = load_tls_identities(dir_.path());
  ASSERT_TRUE(ids);
  HttpServiceConfig config;
  config.tls_identities = *ids;
  std::atomic<bool> healthy{true};
  config.database_healthy = [&] { return healthy.load(); };
  auto service = HttpService::start(config);
  ASSERT_TRUE(service) << service.error().message;
  auto c = admin(**service);
  auto ok = c->get("/healthz");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  healthy = false;
  auto down = c->request("GET", "/healthz");  // get() takes a non-2xx answer for an error
  ASSERT_TRUE(down) << down.error().message;
  EXPECT_EQ(down->status, 503);
  EXPECT_EQ(down->body, "unavailable: database");
}

// One access-log line per request: function, caller, status and code, and
// nothing of the request itself (no key, body or header).
TEST_F(SmdppHttp, EveryRequestHasOneAccessLogLine) {
  auto ids = load_tls_identities(dir_.path());
  ASSERT_TRUE(ids);
  HttpServiceConfig config;
  config.tls_identities = *ids;
  config.es9 = [](std::string_view path, std::string_view, std::string_view) {
    if (path.ends_with("cancelSession")) return Es9HttpResult{200, "{}", "8.10.1", "3.9", "unknown transaction"};
    return Es9HttpResult{200, "{}", {}, {}, {}};
  };
  config.es2 = [](std::string_view, std::string_view, const std::string&) { return Es9HttpResult{200, "{}", {}, {}, {}}; };
  config.es2_authenticate = [](const net::Request& req) -> std::optional<service::Caller> {
    if (req.header("Authorization") == "Bearer secret-key-0123456789") return service::Caller{"op1", service::CallerProof::ApiKey};
    return std::nullopt;
  };
  std::vector<std::string> lines;
  std::mutex mu;
  config.access_log = [&](std::string_view line) {
    std::lock_guard lock(mu);
    lines.emplace_back(line);
  };
  auto service = HttpService::start(config);
  ASSERT_TRUE(service) << service.error().message;
  auto c = client((*service)->port(), "NIST");
  const net::Headers h{{"X-Admin-Protocol", std::string(kAdminProtocol)}};
  const net::Headers key{{"X-Admin-Protocol", std::string(kAdminProtocol)},
                         {"Authorization", "Bearer secret-key-0123456789"}};
  ASSERT_TRUE(c->post("/gsma/rsp2/es9plus/initiateAuthentication", R"({"matchingId":"MATCH-1234"})", "application/json", h));
  ASSERT_TRUE(c->post("/gsma/rsp2/es9plus/cancelSession", "{}", "application/json", h));
  ASSERT_TRUE(c->post("/gsma/rsp2/es2plus/downloadOrder", "{}", "application/json", key));
  auto refused = c->request("POST", "/gsma/rsp2/es2plus/confirmOrder", "{}", "application/json", h);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 401);
  ASSERT_TRUE(admin(**service)->get("/metrics"));  // the admin listener is not in the access log
  (*service)->stop();  // the access log is written by a thread of its own: stop() writes what is queued
  std::lock_guard lock(mu);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_NE(lines[0].find(" smdpp ES9+.InitiateAuthentication caller=- peer=127.0.0.1 status=200 result=- "),
            std::string::npos)
      << lines[0];
  EXPECT_NE(lines[1].find(" smdpp ES9+.CancelSession caller=- peer=127.0.0.1 status=200 result=8.10.1/3.9 "),
            std::string::npos)
      << lines[1];
  EXPECT_NE(lines[2].find(" smdpp ES2+.DownloadOrder caller=op1 peer=127.0.0.1 status=200 result=- "),
            std::string::npos)
      << lines[2];
  EXPECT_NE(lines[3].find(" smdpp ES2+.ConfirmOrder caller=- peer=127.0.0.1 status=401 result=- "), std::string::npos)
      << lines[3];
  for (const auto& l : lines) {
    EXPECT_EQ(l.find("secret-key"), std::string::npos) << l;
    EXPECT_EQ(l.find("MATCH-1234"), std::string::npos) << l;
    EXPECT_EQ(l.find("unknown transaction"), std::string::npos) << l;  // the detail is for the failure log
    EXPECT_EQ(l.substr(23, 1), "Z") << l;                               // 2026-12-03T12:40:01.123Z
    EXPECT_EQ(l.back(), 's') << l;                                      // "... 1.2ms"
  }
}

TEST_F(SmdppHttp, WithoutDispatcherOnlyHealthAndMetrics) {
  auto ids = load_tls_identities(dir_.path());
  ASSERT_TRUE(ids);
  HttpServiceConfig config;
  config.tls_identities = *ids;
  auto service = HttpService::start(config);
  ASSERT_TRUE(service) << service.error().message;
  auto c = client((*service)->port(), "NIST");
  auto r = c->request("POST", "/gsma/rsp2/es9plus/initiateAuthentication", "{}", "application/json");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, 404);
  EXPECT_TRUE(admin(**service)->get("/healthz"));
}

TEST_F(SmdppHttp, PlainHttpNeedsTheFlag) {
  HttpServiceConfig config;
  auto refused = HttpService::start(config);
  ASSERT_FALSE(refused);
  config.insecure_http = true;
  auto service = HttpService::start(config);
  ASSERT_TRUE(service) << service.error().message;
  EXPECT_EQ((*service)->url().rfind("http://", 0), 0u);
}

}  // namespace
}  // namespace rsp::smdpp
