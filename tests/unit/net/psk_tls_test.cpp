// PSK-TLS as SCP81 uses it (GlobalPlatform Amendment B §3.2, SGP.02 §2.4.4):
// our server with keys looked up by identity, our client (the eUICC's side)
// with one identity and key, each Amendment B suite; a wrong key or an unknown
// identity fails the handshake and is reported without the key.

#include <gtest/gtest.h>
#include <openssl/ssl.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "rsp/net/client.hpp"
#include "rsp/net/server.hpp"
#include "rsp/pki/test_pki.hpp"
#include "test_support/loopback.hpp"
#include "test_support/temp_dir.hpp"

namespace rsp::net {
namespace {

using namespace std::chrono_literals;

constexpr const char* kIdentity = "89049032123451234512345678901235";
constexpr const char* kKeyHex = "000102030405060708090a0b0c0d0e0f";
const Bytes kKey = from_hex(kKeyHex).value();

class PskTls : public ::testing::Test {
 protected:
  void SetUp() override {
    TlsServerConfig tls;
    tls.psk = PskServerConfig{[](std::string_view id) -> std::optional<Bytes> {
      if (id != kIdentity) return std::nullopt;
      return kKey;
    }};
    HttpServerOptions opt;
    opt.tls = tls;
    opt.on_tls_failure = [this](const std::string& peer, const std::string& reason) {
      std::lock_guard lock(mu_);
      failures_.push_back(peer + ": " + reason);
    };
    server_ = std::make_unique<HttpServer>(opt);
    server_->post("/gsma/adminagent", [](const Request& r) {
      return Response{200, "text/plain", {{"X-Tls-Version", r.tls_version}}, r.psk_identity + " " + r.body};
    });
    ASSERT_TRUE(server_->start());
  }

  NetResult<std::unique_ptr<HttpsClient>> client(std::string identity, Bytes key,
                                                 std::string ciphers = kPskTls12Ciphers) {
    HttpsClientOptions o;
    o.base_url = "https://127.0.0.1:" + std::to_string(server_->port());
    o.psk = PskClientConfig{std::move(identity), std::move(key), std::move(ciphers)};
    o.connect_timeout = 5s;
    o.read_timeout = 5s;
    return HttpsClient::create(std::move(o));
  }

  std::vector<std::string> failures() {
    for (int i = 0; i < 200; ++i) {
      {
        std::lock_guard lock(mu_);
        if (!failures_.empty()) return failures_;
      }
      std::this_thread::sleep_for(10ms);
    }
    return {};
  }

  std::unique_ptr<HttpServer> server_;
  std::mutex mu_;
  std::vector<std::string> failures_;
};

TEST_F(PskTls, EachAmendmentBSuiteCarriesARequest) {
  for (const char* suite : {"PSK-AES128-GCM-SHA256", "PSK-AES128-CBC-SHA256"}) {
    auto c = client(kIdentity, kKey, suite);
    ASSERT_TRUE(c) << c.error().message;
    auto r = (*c)->post("/gsma/adminagent", "hello", "text/plain");
    ASSERT_TRUE(r) << suite << ": " << r.error().message;
    EXPECT_EQ(r->body, std::string(kIdentity) + " hello");
    EXPECT_EQ(r->header("X-Tls-Version").value_or(""), "TLSv1.2");
  }
  EXPECT_TRUE(failures_.empty());
}

TEST_F(PskTls, AWrongKeyFailsAndIsReportedWithoutTheKey) {
  Bytes wrong = kKey;
  wrong[0] ^= 1;
  auto c = client(kIdentity, wrong);
  ASSERT_TRUE(c) << c.error().message;
  auto r = (*c)->post("/gsma/adminagent", "hello", "text/plain");
  ASSERT_FALSE(r);
  const auto seen = failures();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].rfind("127.0.0.1: ", 0), 0u) << seen[0];
  for (const std::string& key : {to_hex(kKey), to_hex(wrong)}) {
    EXPECT_EQ(seen[0].find(key), std::string::npos) << seen[0];
    EXPECT_EQ(r.error().message.find(key), std::string::npos) << r.error().message;
  }
  EXPECT_NE(server_->metrics().render().find("rsp_tls_handshake_failures_total 1"), std::string::npos);
}

TEST_F(PskTls, AnUnknownIdentityFails) {
  auto c = client("89049032000000000000000000000000", kKey);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_FALSE((*c)->post("/gsma/adminagent", "hello", "text/plain"));
  EXPECT_EQ(failures().size(), 1u);
}

TEST_F(PskTls, ACertificateClientIsNotServed) {
  test_support::TempDir dir;
  pki::TestPkiOptions po;
  po.out_dir = dir.path();
  ASSERT_TRUE(pki::make_test_pki(po));
  auto ci = load_certificates(dir.path() / "CERT_CI_ECDSA_NIST.pem");
  ASSERT_TRUE(ci) << ci.error().message;
  HttpsClientOptions o;
  o.base_url = "https://127.0.0.1:" + std::to_string(server_->port());
  o.trust_anchors = *ci;  // offers certificate suites only: none is shared
  o.connect_timeout = 5s;
  auto c = HttpsClient::create(std::move(o));
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_FALSE((*c)->get("/healthz"));
  EXPECT_EQ(failures().size(), 1u);
}

TEST(PskTlsConfig, BadSettingsAreRefused) {
  // A server with PSK and no lookup, or with a certificate as well.
  TlsServerConfig tls;
  tls.psk = PskServerConfig{};
  HttpServerOptions opt;
  opt.tls = tls;
  HttpServer no_lookup(opt);
  auto r = no_lookup.start();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, NetError::Kind::Credentials);
  tls.psk->lookup = [](std::string_view) -> std::optional<Bytes> { return std::nullopt; };
  tls.psk->ciphers = "NO-SUCH-CIPHER";
  opt.tls = tls;
  HttpServer bad_suite(opt);
  EXPECT_FALSE(bad_suite.start());
  // A client without a key, or with an empty identity.
  HttpsClientOptions o;
  o.base_url = "https://127.0.0.1:1";
  o.psk = PskClientConfig{kIdentity, {}};
  EXPECT_FALSE(HttpsClient::create(o));
  o.psk = PskClientConfig{"", kKey};
  EXPECT_FALSE(HttpsClient::create(o));
}

// cancel() reaches the own connection's socket (no duplicate of it is kept):
// the request in flight ends with an error, and the next request, on a new
// connection, is answered. The peer's address comes from the accept.
TEST_F(PskTls, CancelEndsTheRequestInFlightAndTheNextIsAnswered) {
  std::mutex mu;
  std::condition_variable cv;
  bool entered = false, release = false;
  server_->stop();
  HttpServerOptions opt;
  TlsServerConfig tls;
  tls.psk = PskServerConfig{[](std::string_view id) -> std::optional<Bytes> {
    if (id != kIdentity) return std::nullopt;
    return kKey;
  }};
  opt.tls = tls;
  server_ = std::make_unique<HttpServer>(opt);
  server_->post("/slow", [&](const Request&) {
    std::unique_lock lock(mu);
    entered = true;
    cv.notify_all();
    cv.wait(lock, [&] { return release; });
    return Response{200, "text/plain", {}, "late"};
  });
  server_->post("/peer", [](const Request& r) { return Response{200, "text/plain", {}, r.remote_address}; });
  ASSERT_TRUE(server_->start());
  auto c = client(kIdentity, kKey);
  ASSERT_TRUE(c) << c.error().message;
  NetResult<HttpResponse> slow = net_error(NetError::Kind::Transport, "not run");
  std::thread requester([&] { slow = (*c)->post("/slow", "x", "text/plain"); });
  {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return entered; });
  }
  (*c)->cancel();
  requester.join();
  EXPECT_FALSE(slow);
  {
    std::lock_guard lock(mu);
    release = true;
  }
  cv.notify_all();
  auto peer = (*c)->post("/peer", "", "text/plain");
  ASSERT_TRUE(peer) << peer.error().message;
  EXPECT_EQ(peer->body, "127.0.0.1");
  EXPECT_EQ((*c)->connections_opened(), 2u);
}

/// A raw OpenSSL PSK client's handshake on a new connection to `port`,
/// offering `resume` when set; the session (the caller frees it) or nullptr.
SSL_SESSION* psk_handshake(SSL_CTX* ctx, int port, SSL_SESSION* resume, bool& reused) {
  const int fd = test_support::connect_from(port);
  if (fd < 0) return nullptr;
  SSL* ssl = SSL_new(ctx);
  SSL_set_fd(ssl, fd);
  if (resume) SSL_set_session(ssl, resume);
  SSL_SESSION* session = nullptr;
  if (SSL_connect(ssl) == 1) {
    reused = SSL_session_reused(ssl) == 1;
    session = SSL_get1_session(ssl);
  }
  SSL_shutdown(ssl);
  SSL_free(ssl);
  ::close(fd);
  return session;
}

unsigned int raw_psk_client(SSL*, const char*, char* identity, unsigned int max_identity, unsigned char* psk,
                            unsigned int max_psk) {
  const std::string id = kIdentity;
  if (id.size() + 1 > max_identity || kKey.size() > max_psk) return 0;
  std::memcpy(identity, id.c_str(), id.size() + 1);
  std::memcpy(psk, kKey.data(), kKey.size());
  return static_cast<unsigned int>(kKey.size());
}

// Sessions are not resumed (no tickets, no session cache): the ServerHello
// names no session, and a client that offers its last one gets a full
// handshake, which succeeds.
TEST_F(PskTls, SessionsAreNotResumable) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  ASSERT_NE(ctx, nullptr);
  SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
  ASSERT_EQ(SSL_CTX_set_cipher_list(ctx, kPskTls12Ciphers), 1);
  SSL_CTX_set_psk_client_callback(ctx, raw_psk_client);
  bool reused = true;
  SSL_SESSION* first = psk_handshake(ctx, server_->port(), nullptr, reused);
  ASSERT_NE(first, nullptr);
  EXPECT_FALSE(reused);
  unsigned int id_length = 99;
  SSL_SESSION_get_id(first, &id_length);
  EXPECT_EQ(id_length, 0u);
  reused = true;
  SSL_SESSION* second = psk_handshake(ctx, server_->port(), first, reused);
  ASSERT_NE(second, nullptr);
  EXPECT_FALSE(reused);
  SSL_SESSION_free(second);
  SSL_SESSION_free(first);
  SSL_CTX_free(ctx);
  EXPECT_TRUE(failures_.empty());
}

}  // namespace
}  // namespace rsp::net
