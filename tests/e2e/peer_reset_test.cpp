// A peer that resets its connections never ends an `rsp` process (SIGPIPE):
// the SM-DP+ whose operator callback endpoint resets every delivery keeps
// serving, and the LPA and the ES2+ client against a resetting server report
// the failure and exit 1. Each `rsp` runs with SIGPIPE at its default action
// (DefaultSignals), as a shell would start it.

#include <gtest/gtest.h>

#include <fstream>
#include <thread>
#include <nlohmann/json.hpp>

#include "resetting_tls_server.hpp"
#include "rsp/common/file.hpp"
#include "rsp/net/client.hpp"
#include "run_tool.hpp"
#include "serve_process.hpp"

namespace rsp::e2e {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;

const std::string kKey = "reset-test-key-40c9d1e2f3a4b5c6";

class PeerReset : public ::testing::Test {
 protected:
  void SetUp() override {
    auto r = rsp({"pki", "init", "--out", pki().string()});
    ASSERT_EQ(r.exit_code, 0) << r.output;
    port_ = resetter_.start(pki() / "CERT_S_SM_DP_TLS_NIST.pem", pki() / "SK_S_SM_DP_TLS_NIST.pem");
    ASSERT_NE(port_, 0);
    key_ = dir_.path() / "op1.key";
    ASSERT_TRUE(write_file_atomic(key_, as_bytes(kKey + "\n"), fs::perms::owner_read | fs::perms::owner_write));
  }
  fs::path pki() const { return dir_.path() / "pki"; }
  std::string ci() const { return (pki() / "CERT_CI_ECDSA_NIST.pem").string(); }
  std::string resetting_url() const { return "https://127.0.0.1:" + std::to_string(port_); }

  TempDir dir_;
  ResettingTlsServer resetter_;
  int port_ = 0;
  fs::path key_;
};

TEST_F(PeerReset, SmdppKeepsServingWhenTheCallbackEndpointResets) {
  auto r = rsp({"profile", "sample", "--out", (dir_.path() / "upp").string(), "--count", "1", "--type", "e2e"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string db = (dir_.path() / "smdpp.db").string();
  r = rsp({"smdpp", "profiles", "import", (dir_.path() / "upp").string(), "--operator", "op1", "--db", db});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const json cfg = {{"listen", "127.0.0.1:0"},
                    {"address", "localhost"},
                    {"pki", pki().string()},
                    {"database", db},
                    {"callback_trust", ci()},
                    {"operators",
                     {{{"name", "op1"}, {"api_key_file", key_.string()}, {"callback_url", resetting_url() + "/cb"}}}}};
  const auto file = dir_.path() / "smdpp.json";
  std::ofstream(file) << cfg.dump();
  ServeProcess serve({"--config", file.string()});
  const std::string url = serve.url();
  ASSERT_FALSE(url.empty()) << serve.output();
  const std::string port = url.substr(url.rfind(':') + 1);

  const fs::path card = dir_.path() / "euicc";
  r = rsp({"euicc", "create", "--dir", card.string(), "--pki", pki().string()});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = rsp({"smdpp", "es2", "order", "--url", url, "--trust", ci(), "--operator", "op1", "--api-key-file",
           key_.string(), "--type", "e2e"});
  ASSERT_EQ(r.exit_code, 0) << r.output << serve.output();
  const auto ac_at = r.output.find("LPA:1$localhost$");
  ASSERT_NE(ac_at, std::string::npos) << r.output;
  const std::string ac = r.output.substr(ac_at, r.output.find('\n', ac_at) - ac_at);
  // The download queues two progress callbacks; each delivery meets a reset.
  auto dl = rsp({"lpa", "download", "--euicc", card.string(), "--ac", ac, "--resolve", "localhost:127.0.0.1:" + port});
  ASSERT_EQ(dl.exit_code, 0) << dl.output << serve.output();

  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (resetter_.resets() < 2 && serve.alive() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(50ms);
  EXPECT_GE(resetter_.resets(), 2);
  std::this_thread::sleep_for(300ms);  // time for a write after the reset to land
  ASSERT_TRUE(serve.alive()) << "exit status " << serve.exit_status() << "\n" << serve.output();

  // Still serving: health, metrics with the failed attempts, and ES2+.
  net::HttpsClientOptions o;
  o.base_url = serve.admin_url();
  auto client = net::HttpsClient::create(std::move(o));
  ASSERT_TRUE(client);
  auto health = (*client)->get("/healthz");
  ASSERT_TRUE(health) << health.error().message;
  EXPECT_EQ(health->status, 200);
  auto metrics = (*client)->get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("rsp_smdpp_callbacks_total{result=\"failed\"} 2"), std::string::npos) << metrics->body;
  r = rsp({"smdpp", "es2", "download-order", "--url", url, "--trust", ci(), "--operator", "op1", "--api-key-file",
           key_.string(), "--type", "e2e"});
  EXPECT_EQ(r.exit_code, 1) << r.output;  // no profile of the type left: a proper refusal
  EXPECT_NE(r.output.find("8.2.5/3.7"), std::string::npos) << r.output;
  EXPECT_EQ(serve.stop(), 0) << serve.output();
}

TEST_F(PeerReset, LpaDownloadReportsAResettingServer) {
  const fs::path card = dir_.path() / "euicc";
  auto r = rsp({"euicc", "create", "--dir", card.string(), "--pki", pki().string()});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = rsp({"lpa", "download", "--euicc", card.string(), "--ac", "LPA:1$localhost$RESET-TEST", "--resolve",
           "localhost:127.0.0.1:" + std::to_string(port_)});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("initiateAuthentication"), std::string::npos) << r.output;
  EXPECT_GE(resetter_.resets(), 1);
}

TEST_F(PeerReset, Es2ClientReportsAResettingServer) {
  auto r = rsp({"smdpp", "es2", "order", "--url", resetting_url(), "--trust", ci(), "--operator", "op1",
                "--api-key-file", key_.string(), "--type", "e2e"});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_FALSE(r.output.empty());
  EXPECT_GE(resetter_.resets(), 1);
}

}  // namespace
}  // namespace rsp::e2e
