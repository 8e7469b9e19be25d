// The SM-DP+ HTTP service in process: DPtls from a test PKI folder, ES9+
// routes through a stand-in dispatcher, /healthz and /metrics.

#include "rsp/smdpp/http_service.hpp"

#include <gtest/gtest.h>

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
  config.es9 = [&](std::string_view path, std::string_view body) {
    std::lock_guard lock(mu);
    seen.emplace_back(path);
    if (path.ends_with("handleNotification")) return Es9HttpResult{204, {}, {}, {}};
    return Es9HttpResult{200, "{\"echo\":" + std::string(body) + "}", {}, {}};
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

  auto metrics = c->get("/metrics");
  ASSERT_TRUE(metrics) << metrics.error().message;
  const auto& text = metrics->body;
  EXPECT_NE(text.find("rsp_smdpp_es9_requests_total{function=\"initiateAuthentication\",status=\"200\"} 1"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("rsp_smdpp_es9_duration_seconds_count{function=\"handleNotification\"} 1"), std::string::npos)
      << text;
  EXPECT_NE(text.find("rsp_smdpp_info{address=\"testsmdpplus1.example.com\""), std::string::npos) << text;
  auto health = c->get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->body, "ok");
  std::lock_guard lock(mu);
  EXPECT_EQ(seen.size(), 3u);
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
  EXPECT_TRUE(c->get("/healthz"));
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
