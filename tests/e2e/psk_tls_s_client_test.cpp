// PSK-TLS (SCP81, GlobalPlatform Amendment B §3.2) against an independent
// client: `openssl s_client -psk ... -tls1_2` reaches our server's handler
// with the right key; with a wrong key the handshake fails and the failure is
// reported without the key.

#include <gtest/gtest.h>

#include <mutex>
#include <thread>

#include "rsp/net/server.hpp"
#include "run_tool.hpp"

namespace rsp::e2e {
namespace {

using namespace std::chrono_literals;

constexpr const char* kIdentity = "card-4711";
constexpr const char* kKeyHex = "5a1f0c9e33d2b8a7604e1d2c3b4a5968";

class PskSClient : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!on_path("openssl")) GTEST_SKIP() << "openssl is not on PATH";
    net::TlsServerConfig tls;
    tls.psk = net::PskServerConfig{[](std::string_view id) -> std::optional<Bytes> {
      if (id != kIdentity) return std::nullopt;
      return from_hex(kKeyHex);
    }};
    net::HttpServerOptions opt;
    opt.tls = tls;
    opt.on_tls_failure = [this](const std::string& peer, const std::string& reason) {
      std::lock_guard lock(mu_);
      failures_.push_back(peer + ": " + reason);
    };
    server_ = std::make_unique<net::HttpServer>(opt);
    server_->get("/gsma/adminagent", [](const net::Request& r) {
      return net::Response{200, "text/plain", {}, "hello " + r.psk_identity + " over " + r.tls_version};
    });
    ASSERT_TRUE(server_->start());
  }

  /// One GET through s_client with `key_hex`; its output.
  RunResult s_client(const std::string& key_hex) {
    const std::string cmd = "printf 'GET /gsma/adminagent HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n' | "
                            "timeout 20 openssl s_client -quiet -tls1_2 -psk " + key_hex + " -psk_identity " +
                            kIdentity + " -connect 127.0.0.1:" + std::to_string(server_->port());
    return run("sh", {"-c", cmd});
  }

  std::unique_ptr<net::HttpServer> server_;
  std::mutex mu_;
  std::vector<std::string> failures_;
};

TEST_F(PskSClient, TheRightKeyGetsAnAnswer) {
  const auto r = s_client(kKeyHex);
  EXPECT_NE(r.output.find("HTTP/1.1 200 OK"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("hello card-4711 over TLSv1.2"), std::string::npos) << r.output;
  std::lock_guard lock(mu_);
  EXPECT_TRUE(failures_.empty());
}

TEST_F(PskSClient, AWrongKeyFailsTheHandshakeAndIsReportedWithoutTheKey) {
  const std::string wrong = "00112233445566778899aabbccddeeff";
  const auto r = s_client(wrong);
  EXPECT_EQ(r.output.find("HTTP/1.1"), std::string::npos) << r.output;
  std::vector<std::string> seen;
  for (int i = 0; i < 200 && seen.empty(); ++i) {
    {
      std::lock_guard lock(mu_);
      seen = failures_;
    }
    if (seen.empty()) std::this_thread::sleep_for(10ms);
  }
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].rfind("127.0.0.1: ", 0), 0u) << seen[0];
  EXPECT_EQ(seen[0].find(wrong), std::string::npos) << seen[0];
  EXPECT_EQ(seen[0].find(kKeyHex), std::string::npos) << seen[0];
  std::printf("reported: %s\n", seen[0].c_str());
}

}  // namespace
}  // namespace rsp::e2e
