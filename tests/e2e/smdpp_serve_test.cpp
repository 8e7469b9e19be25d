// `rsp smdpp serve` as an operator runs it: a PKI from `rsp pki init`, a JSON
// configuration, HTTPS checked by curl against the CI, SIGTERM ends it with 0.

#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "run_tool.hpp"
#include "test_support/free_port.hpp"
#include "serve_process.hpp"

namespace rsp::e2e {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class SmdppServe : public ::testing::Test {
 protected:
  void SetUp() override {
    auto r = rsp({"pki", "init", "--out", pki().string(), "--curves", "nist,brp"});
    ASSERT_EQ(r.exit_code, 0) << r.output;
  }
  fs::path pki() const { return dir_.path() / "pki"; }
  fs::path write_config(const std::string& json) {
    const auto file = dir_.path() / "smdpp.json";
    std::ofstream(file) << json;
    return file;
  }
  std::string ci(const char* curve) const { return (pki() / (std::string("CERT_CI_ECDSA_") + curve + ".pem")).string(); }

  TempDir dir_;
};

TEST_F(SmdppServe, ServesHealthAndMetricsOverHttpsAndStopsOnSigterm) {
  const auto config = write_config(R"({"listen": "127.0.0.1:0", "address": "localhost", "pki": ")" + pki().string() +
                                   R"(", "database": ")" + (dir_.path() / "smdpp.db").string() + R"("})");
  ServeProcess serve({"--config", config.string()});
  ASSERT_TRUE(serve.started());
  const std::string url = serve.wait_for("listening on ");
  ASSERT_EQ(url.rfind("https://127.0.0.1:", 0), 0u) << serve.output();
  const std::string port = url.substr(std::string("https://127.0.0.1:").size());
  ASSERT_FALSE(port.empty());

  const std::string admin = serve.admin_url();
  ASSERT_EQ(admin.rfind("http://127.0.0.1:", 0), 0u) << serve.output();

  if (on_path("curl")) {
    const std::vector<std::string> status_only{"-sS", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "20"};
    auto with = [&](std::vector<std::string> args) {
      std::vector<std::string> all = status_only;
      all.insert(all.end(), args.begin(), args.end());
      return all;
    };
    // The DPtls certificate verifies against the NIST CI for its host name;
    // /healthz and /metrics are not on the public port.
    auto health = run("curl", with({"--cacert", ci("NIST"), "--resolve", "localhost:" + port + ":127.0.0.1",
                                    "https://localhost:" + port + "/healthz"}));
    EXPECT_EQ(health.exit_code, 0) << health.output;
    EXPECT_EQ(health.output, "404");
    // A brainpool-only TLS 1.2 client gets the brainpool DPtls.
    auto brp = run("curl", with({"--tls-max", "1.2", "--curves", "brainpoolP256r1", "--cacert", ci("BRP"),
                                 url + "/metrics"}));
    EXPECT_EQ(brp.exit_code, 0) << brp.output;
    EXPECT_EQ(brp.output, "404");
    // Not trusted without the CI.
    auto untrusted = run("curl", {"-sS", "--max-time", "20", "--cacert", ci("BRP"), url + "/healthz"});
    EXPECT_NE(untrusted.exit_code, 0) << untrusted.output;
    // The admin listener (plain HTTP on loopback) has them.
    for (int i = 0; i < 2; ++i) {
      auto ok = run("curl", {"-sS", "--max-time", "20", admin + "/healthz"});
      EXPECT_EQ(ok.exit_code, 0) << ok.output;
      EXPECT_EQ(ok.output, "ok");
    }
    auto metrics = run("curl", {"-sS", "--max-time", "20", admin + "/metrics"});
    EXPECT_EQ(metrics.exit_code, 0) << metrics.output;
    EXPECT_NE(metrics.output.find("# TYPE rsp_http_requests_total counter"), std::string::npos) << metrics.output;
    EXPECT_NE(metrics.output.find("rsp_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 2"),
              std::string::npos)
        << metrics.output;
    EXPECT_NE(metrics.output.find("rsp_smdpp_info{address=\"localhost\""), std::string::npos) << metrics.output;
    // ES9+ is wired: a malformed request is a Failed function (HTTP 200) with
    // the X-Admin-Protocol header.
    auto es9 = run("curl", {"-sS", "-i", "--max-time", "20", "--cacert", ci("NIST"), "-H",
                            "Content-Type: application/json", "-H", "X-Admin-Protocol: gsma/rsp/v2.2.0", "-d", "{}",
                            url + "/gsma/rsp2/es9plus/initiateAuthentication"});
    EXPECT_EQ(es9.exit_code, 0) << es9.output;
    EXPECT_NE(es9.output.find("HTTP/1.1 200"), std::string::npos) << es9.output;
    EXPECT_NE(es9.output.find("X-Admin-Protocol: gsma/rsp/v2.2.2"), std::string::npos) << es9.output;
    EXPECT_NE(es9.output.find("\"Failed\""), std::string::npos) << es9.output;
  }
  EXPECT_TRUE(fs::exists(dir_.path() / "smdpp.db"));

  EXPECT_EQ(serve.signal_and_wait(SIGTERM), 0) << serve.output();
  EXPECT_NE(serve.output().find("stopped"), std::string::npos) << serve.output();
}

TEST_F(SmdppServe, EnvironmentAndInsecureHttpFlag) {
  const auto config = write_config(R"({"listen": "127.0.0.1:1", "pki": "/nonexistent"})");
  ::setenv("RSP_SMDPP_LISTEN", "127.0.0.1:0", 1);
  ::setenv("RSP_SMDPP_PKI", pki().c_str(), 1);
  const int admin_port = test_support::free_port();
  ::setenv("RSP_SMDPP_ADMIN_PORT", std::to_string(admin_port).c_str(), 1);
  ServeProcess serve({"--config", config.string(), "--insecure-http"});
  ::unsetenv("RSP_SMDPP_LISTEN");
  ::unsetenv("RSP_SMDPP_PKI");
  ::unsetenv("RSP_SMDPP_ADMIN_PORT");
  ASSERT_TRUE(serve.started());
  const std::string url = serve.wait_for("listening on ");
  ASSERT_EQ(url.rfind("http://127.0.0.1:", 0), 0u) << serve.output();
  // The admin port from the environment.
  EXPECT_EQ(serve.admin_url(), "http://127.0.0.1:" + std::to_string(admin_port)) << serve.output();
  if (on_path("curl")) {
    auto health = run("curl", {"-sS", "--max-time", "20", serve.admin_url() + "/healthz"});
    EXPECT_EQ(health.output, "ok") << health.output;
    auto public_health = run("curl", {"-sS", "--max-time", "20", url + "/healthz"});
    EXPECT_EQ(public_health.output.find("ok"), std::string::npos) << public_health.output;
  }
  EXPECT_EQ(serve.signal_and_wait(SIGINT), 0) << serve.output();
}

TEST_F(SmdppServe, BadConfigurationsFailClearly) {
  auto unknown = write_config(R"({"listen": "127.0.0.1:0", "pki": ")" + pki().string() + R"(", "colour": "blue"})");
  auto r = rsp({"smdpp", "serve", "--config", unknown.string()});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("unknown configuration key 'colour'"), std::string::npos) << r.output;

  auto not_json = write_config("{listen");
  r = rsp({"smdpp", "serve", "--config", not_json.string()});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("not valid JSON"), std::string::npos) << r.output;

  auto no_pki = write_config(R"({"listen": "127.0.0.1:0", "pki": ")" + (dir_.path() / "missing").string() + R"("})");
  r = rsp({"smdpp", "serve", "--config", no_pki.string()});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("identities"), std::string::npos) << r.output;

  auto bad_listen = write_config(R"({"listen": "127.0.0.1", "pki": ")" + pki().string() + R"("})");
  r = rsp({"smdpp", "serve", "--config", bad_listen.string()});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("host:port"), std::string::npos) << r.output;

  auto wrong_type = write_config(R"({"insecure_http": "yes", "pki": ")" + pki().string() + R"("})");
  r = rsp({"smdpp", "serve", "--config", wrong_type.string()});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("true or false"), std::string::npos) << r.output;

  auto no_timeout = write_config(R"({"session_timeout": 0, "pki": ")" + pki().string() + R"("})");
  r = rsp({"smdpp", "serve", "--config", no_timeout.string()});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("session_timeout must be 1..86400 seconds"), std::string::npos) << r.output;

  r = rsp({"smdpp", "serve", "--config", (dir_.path() / "absent.json").string()});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("cannot read the configuration"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace rsp::e2e
