// HTTPS round trips over real TLS on 127.0.0.1 with certificates from the
// project's test PKI (DPtls for testsmdpplus1.example.com and 127.0.0.1).

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <future>
#include <thread>

#include "rsp/common/file.hpp"
#include "rsp/net/client.hpp"
#include "rsp/net/server.hpp"
#include "rsp/pki/test_pki.hpp"
#include "test_support/temp_dir.hpp"

namespace rsp::net {
namespace {

using namespace std::chrono_literals;

constexpr const char* kHost = "testsmdpplus1.example.com";

/// Sends raw bytes to 127.0.0.1:port over plain TCP and reads until the
/// server closes (requests carry Connection: close; a half-closed socket would
/// make the server drop its answer).
std::string raw_exchange(int port, const std::string& request) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return {};
  }
  for (std::size_t sent = 0; sent < request.size();) {
    const ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<std::size_t>(n);
  }
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) out.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  return out;
}

std::string chunked_post(const std::string& path, std::size_t chunks, std::size_t chunk_size) {
  std::string r = "POST " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n";
  char size_hex[16];
  std::snprintf(size_hex, sizeof size_hex, "%zx", chunk_size);
  for (std::size_t i = 0; i < chunks; ++i) r += std::string(size_hex) + "\r\n" + std::string(chunk_size, 'c') + "\r\n";
  return r + "0\r\n\r\n";
}

class Https : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test_support::TempDir();
    pki::TestPkiOptions opt;
    opt.out_dir = dir_->path();
    opt.smdpp_address = kHost;
    auto made = pki::make_test_pki(opt);
    ASSERT_TRUE(made) << made.error().message;
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static std::filesystem::path file(const std::string& name) { return dir_->path() / name; }

  static TlsIdentity identity(const std::string& curve) {
    auto id = TlsIdentity::load(file("CERT_S_SM_DP_TLS_" + curve + ".pem"), file("SK_S_SM_DP_TLS_" + curve + ".pem"));
    EXPECT_TRUE(id) << id.error().message;
    return *id;
  }
  static std::vector<Bytes> ci(const std::string& curve) {
    auto certs = load_certificates(file("CERT_CI_ECDSA_" + curve + ".pem"));
    EXPECT_TRUE(certs) << certs.error().message;
    return *certs;
  }

  /// A started server with /echo (POST) answering with the TLS version seen.
  std::unique_ptr<HttpServer> serve(std::vector<TlsIdentity> ids, HttpServerOptions opt = {}) {
    TlsServerConfig tls;
    tls.identities = std::move(ids);
    opt.tls = tls;
    return serve_with(std::move(opt));
  }
  std::unique_ptr<HttpServer> serve_with(HttpServerOptions opt) {
    auto server = std::make_unique<HttpServer>(std::move(opt));
    server->post("/echo", [](const Request& r) {
      Response res;
      res.content_type = "text/plain";
      res.body = r.body;
      res.headers.emplace_back("X-Tls-Version", r.tls_version);
      return res;
    });
    auto started = server->start();
    EXPECT_TRUE(started) << started.error().message;
    return server;
  }

  std::unique_ptr<HttpsClient> client(int port, std::vector<Bytes> anchors, HttpsClientOptions opt = {}) {
    if (opt.base_url.empty()) opt.base_url = std::string("https://") + kHost + ":" + std::to_string(port);
    if (opt.connect_to.empty()) opt.connect_to = "127.0.0.1";
    opt.trust_anchors = std::move(anchors);
    opt.connect_timeout = 5s;
    opt.read_timeout = 10s;
    auto c = HttpsClient::create(std::move(opt));
    EXPECT_TRUE(c) << c.error().message;
    return c ? std::move(*c) : nullptr;
  }

  /// A client with `opt` on the NIST CI: /echo on TLS 1.3, the server's
  /// certificate seen.
  void expect_tls13_round_trip(const HttpServer& server, HttpsClientOptions opt) {
    auto c = client(server.port(), ci("NIST"), std::move(opt));
    ASSERT_TRUE(c);
    auto r = c->post("/echo", "hello", "text/plain");
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "hello");
    EXPECT_EQ(r->header("x-tls-version").value_or(""), "TLSv1.3");
    EXPECT_EQ(c->last_server_certificate(), identity("NIST").chain().front());
  }

  /// A server whose handler answers after 1.5 s: a client with `copt` and a
  /// read timeout of 300 ms gets a Timeout.
  void expect_read_timeout(HttpsClientOptions copt) {
    TlsServerConfig tls;
    tls.identities = {identity("NIST")};
    HttpServerOptions opt;
    opt.tls = tls;
    HttpServer server(opt);
    server.post("/slow", [](const Request&) {
      std::this_thread::sleep_for(1500ms);
      return Response{200, "text/plain", {}, "late"};
    });
    ASSERT_TRUE(server.start());
    copt.base_url = std::string("https://") + kHost + ":" + std::to_string(server.port());
    copt.connect_to = "127.0.0.1";
    copt.trust_anchors = ci("NIST");
    copt.read_timeout = 300ms;
    auto c = HttpsClient::create(copt);
    ASSERT_TRUE(c);
    auto r = (*c)->post("/slow", "x", "text/plain");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, NetError::Kind::Timeout) << r.error().message;
  }

  static test_support::TempDir* dir_;
};

test_support::TempDir* Https::dir_ = nullptr;

TEST_F(Https, NistTls13RoundTrip) {
  auto server = serve({identity("NIST")});
  expect_tls13_round_trip(*server, {});
}

TEST_F(Https, NistTls12RoundTrip) {
  auto server = serve({identity("NIST")});
  HttpsClientOptions opt;
  opt.max_version = TlsVersion::Tls12;
  auto c = client(server->port(), ci("NIST"), opt);
  auto r = c->post("/echo", "twelve", "text/plain");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->body, "twelve");
  EXPECT_EQ(r->header("X-Tls-Version").value_or(""), "TLSv1.2");
}

TEST_F(Https, BrainpoolTls12PickedPerHandshakeBesideNist) {
  auto server = serve({identity("NIST"), identity("BRP")});
  HttpsClientOptions opt;
  opt.max_version = TlsVersion::Tls12;
  opt.groups = "brainpoolP256r1:P-256";
  auto brp = client(server->port(), ci("BRP"), opt);
  auto r = brp->post("/echo", "brainpool", "text/plain");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->header("X-Tls-Version").value_or(""), "TLSv1.2");
  EXPECT_EQ(brp->last_server_certificate(), identity("BRP").chain().front());

  // A client that does not ask for brainpool gets the NIST certificate.
  auto nist = client(server->port(), ci("NIST"));
  auto n = nist->post("/echo", "nist", "text/plain");
  ASSERT_TRUE(n) << n.error().message;
  EXPECT_EQ(nist->last_server_certificate(), identity("NIST").chain().front());
}

TEST_F(Https, BrainpoolOnlyServerTls12) {
  auto server = serve({identity("BRP")});
  HttpsClientOptions opt;
  opt.max_version = TlsVersion::Tls12;
  opt.groups = "brainpoolP256r1";
  auto c = client(server->port(), ci("BRP"), opt);
  auto r = c->post("/echo", "b", "text/plain");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->header("X-Tls-Version").value_or(""), "TLSv1.2");
}

// A client ready for TLS 1.3 reaches a brainpool-only server: before
// OpenSSL 3.2 the server cannot sign TLS 1.3 with brainpool and speaks 1.2.
TEST_F(Https, BrainpoolOnlyServerReachedByATls13Client) {
  auto server = serve({identity("BRP")});
  HttpsClientOptions opt;
  opt.groups = "P-256:brainpoolP256r1";
  auto c = client(server->port(), ci("BRP"), opt);
  auto r = c->post("/echo", "b", "text/plain");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->header("X-Tls-Version").value_or(""), brainpool_tls13_supported() ? "TLSv1.3" : "TLSv1.2");
}

TEST_F(Https, UnverifiedClientTakesAnyServerAndSaysSoOnFailure) {
  auto server = serve({identity("NIST")});
  HttpsClientOptions opt;
  opt.verify_server = false;
  opt.server_name = "other.example.com";  // neither chain nor name checked
  auto c = client(server->port(), {}, opt);
  auto r = c->post("/echo", "x", "text/plain");
  ASSERT_TRUE(r) << r.error().message;
  // A failed handshake of such a client says the certificate was not verified.
  HttpsClientOptions none;
  none.verify_server = false;
  none.groups = "brainpoolP256r1";
  none.max_version = TlsVersion::Tls12;
  auto nist_only = serve_with([&] {
    HttpServerOptions o;
    TlsServerConfig tls;
    tls.identities = {identity("NIST")};
    tls.groups = "P-256";
    o.tls = tls;
    return o;
  }());
  auto f = client(nist_only->port(), {}, none)->post("/echo", "x", "text/plain");
  ASSERT_FALSE(f);
  EXPECT_EQ(f.error().kind, NetError::Kind::Tls) << f.error().message;
  EXPECT_NE(f.error().message.find("groups offered: brainpoolP256r1; server certificate not verified"),
            std::string::npos)
      << f.error().message;
}

TEST_F(Https, ClientRefusesUntrustedCa) {
  auto server = serve({identity("NIST")});
  auto c = client(server->port(), ci("BRP"));
  auto r = c->post("/echo", "x", "text/plain");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, NetError::Kind::TlsVerification) << r.error().message;
  EXPECT_NE(r.error().message.find("issuer"), std::string::npos) << r.error().message;
}

TEST_F(Https, ClientRefusesWrongServerName) {
  auto server = serve({identity("NIST")});
  HttpsClientOptions opt;
  opt.server_name = "other.example.com";
  auto c = client(server->port(), ci("NIST"), opt);
  auto r = c->post("/echo", "x", "text/plain");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, NetError::Kind::TlsVerification) << r.error().message;
  EXPECT_NE(r.error().message.find("hostname mismatch"), std::string::npos) << r.error().message;
}

TEST_F(Https, IpAddressInSubjectAltNameVerifies) {
  auto server = serve({identity("NIST")});
  HttpsClientOptions opt;
  opt.base_url = "https://127.0.0.1:" + std::to_string(server->port());
  auto c = client(server->port(), ci("NIST"), opt);
  auto r = c->post("/echo", "ip", "text/plain");
  ASSERT_TRUE(r) << r.error().message;
}

TEST_F(Https, ConnectionRefusedIsAConnectError) {
  int port = 0;
  {
    auto server = serve({identity("NIST")});
    port = server->port();
  }
  auto c = client(port, ci("NIST"));
  auto r = c->post("/echo", "x", "text/plain");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, NetError::Kind::Connect) << r.error().message;
}

TEST_F(Https, SlowServerIsAReadTimeout) { expect_read_timeout({}); }

TEST_F(Https, KeepAliveReusesTheConnection) {
  auto server = serve({identity("NIST")});
  auto c = client(server->port(), ci("NIST"));
  for (int i = 0; i < 5; ++i) {
    auto r = c->post("/echo", std::to_string(i), "text/plain");
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->body, std::to_string(i));
  }
  EXPECT_EQ(c->connections_opened(), 1u);
  EXPECT_EQ(server->connections_accepted(), 1u);
}

TEST_F(Https, AClientOnItsOwnConnectionVerifiesKeepsAliveAndRefusesAsHttplibsDoes) {
  auto server = serve({identity("NIST")});
  for (auto max : {TlsVersion::Tls13, TlsVersion::Tls12}) {
    HttpsClientOptions opt;
    opt.own_connection = true;
    opt.max_version = max;
    auto c = client(server->port(), ci("NIST"), opt);
    for (int i = 0; i < 3; ++i) {
      auto r = c->post("/echo", std::string(i * 5000, 'x') + std::to_string(i), "text/plain");
      ASSERT_TRUE(r) << r.error().message;
      EXPECT_EQ(r->status, 200);
      EXPECT_EQ(r->body, std::string(i * 5000, 'x') + std::to_string(i));
      EXPECT_EQ(r->header("x-tls-version").value_or(""), max == TlsVersion::Tls13 ? "TLSv1.3" : "TLSv1.2");
    }
    EXPECT_EQ(c->connections_opened(), 1u);
    EXPECT_EQ(c->last_server_certificate(), identity("NIST").chain().front());
    // Closed: the next request opens another connection.
    c->close();
    ASSERT_TRUE(c->post("/echo", "again", "text/plain"));
    EXPECT_EQ(c->connections_opened(), 2u);
    auto missing = c->post("/nothing-here", "x", "text/plain");
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().kind, NetError::Kind::HttpStatus);
  }
  HttpsClientOptions opt;
  opt.own_connection = true;
  auto untrusted = client(server->port(), ci("BRP"), opt);
  auto r = untrusted->post("/echo", "x", "text/plain");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, NetError::Kind::TlsVerification) << r.error().message;
  EXPECT_NE(r.error().message.find("issuer"), std::string::npos) << r.error().message;
  opt.server_name = "other.example.com";
  auto misnamed = client(server->port(), ci("NIST"), opt);
  r = misnamed->post("/echo", "x", "text/plain");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, NetError::Kind::TlsVerification) << r.error().message;
  EXPECT_NE(r.error().message.find("hostname mismatch"), std::string::npos) << r.error().message;
}

TEST_F(Https, OversizeBodyIs413AndUnknownPathIs404) {
  HttpServerOptions opt;
  opt.max_body_bytes = 1024;
  auto server = serve({identity("NIST")}, opt);
  auto c = client(server->port(), ci("NIST"));
  auto big = c->post("/echo", std::string(4096, 'x'), "text/plain");
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error().kind, NetError::Kind::HttpStatus);
  EXPECT_EQ(big.error().http_status, 413);

  auto c2 = client(server->port(), ci("NIST"));
  auto missing = c2->request("GET", "/nope");
  ASSERT_TRUE(missing) << missing.error().message;
  EXPECT_EQ(missing->status, 404);
  auto wrong_method = c2->request("GET", "/echo");
  ASSERT_TRUE(wrong_method) << wrong_method.error().message;
  EXPECT_EQ(wrong_method->status, 405);
  auto ok = c2->post("/echo", std::string(1024, 'y'), "text/plain");
  ASSERT_TRUE(ok) << ok.error().message;
}

TEST_F(Https, HandlerExceptionIs500AndCounted) {
  TlsServerConfig tls;
  tls.identities = {identity("NIST")};
  HttpServerOptions opt;
  opt.tls = tls;
  HttpServer server(opt);
  server.post("/boom", [](const Request&) -> Response { throw std::runtime_error("secret detail"); });
  ASSERT_TRUE(server.start());
  auto c = client(server.port(), ci("NIST"));
  auto r = c->request("POST", "/boom", "{}", "application/json");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, 500);
  EXPECT_EQ(r->body.find("secret"), std::string::npos);
  EXPECT_EQ(server.metrics().counter("rsp_http_handler_exceptions_total", "").value({{"route", "/boom"}}), 1);
  // The server still works.
  auto again = c->request("POST", "/boom", "{}", "application/json");
  ASSERT_TRUE(again);
}

TEST_F(Https, GracefulStopFinishesTheRequestInFlight) {
  TlsServerConfig tls;
  tls.identities = {identity("NIST")};
  HttpServerOptions opt;
  opt.tls = tls;
  HttpServer server(opt);
  std::atomic<bool> entered{false};
  server.post("/slow", [&entered](const Request& r) {
    entered = true;
    std::this_thread::sleep_for(700ms);
    return Response{200, "text/plain", {}, "done " + r.body};
  });
  ASSERT_TRUE(server.start());
  auto c = client(server.port(), ci("NIST"));
  auto pending = std::async(std::launch::async, [&c] { return c->post("/slow", "1", "text/plain"); });
  for (int i = 0; i < 5000 && !entered; ++i) std::this_thread::sleep_for(1ms);
  ASSERT_TRUE(entered);
  const auto t0 = std::chrono::steady_clock::now();
  server.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 4s);
  auto r = pending.get();
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->body, "done 1");
  EXPECT_FALSE(server.running());
  // Nothing listens any more.
  auto after = client(server.port(), ci("NIST"))->post("/slow", "2", "text/plain");
  EXPECT_FALSE(after);
}

TEST_F(Https, HealthAndMetricsEndpoints) {
  auto server = serve({identity("NIST")});
  auto c = client(server->port(), ci("NIST"));
  auto health = c->get("/healthz");
  ASSERT_TRUE(health) << health.error().message;
  EXPECT_EQ(health->body, "ok");
  ASSERT_TRUE(c->post("/echo", "m", "text/plain"));
  auto metrics = c->get("/metrics");
  ASSERT_TRUE(metrics) << metrics.error().message;
  EXPECT_EQ(metrics->header("Content-Type").value_or(""), Metrics::content_type());
  EXPECT_NE(metrics->body.find("# TYPE rsp_http_requests_total counter"), std::string::npos) << metrics->body;
  EXPECT_NE(metrics->body.find("rsp_http_requests_total{method=\"POST\",route=\"/echo\",status=\"200\"} 1"),
            std::string::npos)
      << metrics->body;
  EXPECT_NE(metrics->body.find("rsp_http_request_duration_seconds_bucket{method=\"POST\",route=\"/echo\",le=\"+Inf\"} 1"),
            std::string::npos)
      << metrics->body;
  EXPECT_NE(metrics->body.find("rsp_tls_handshakes_total{version=\"TLSv1.3\"}"), std::string::npos) << metrics->body;
}

TEST_F(Https, PlainHttpOnlyWhenAskedFor) {
  HttpServer refused(HttpServerOptions{});
  auto r = refused.start();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, NetError::Kind::InvalidArgument);

  HttpServerOptions opt;
  opt.insecure_plain_http = true;
  auto server = serve_with(opt);
  EXPECT_EQ(server->url().rfind("http://127.0.0.1:", 0), 0u) << server->url();
  HttpsClientOptions copt;
  copt.base_url = server->url();
  auto c = HttpsClient::create(copt);
  ASSERT_TRUE(c) << c.error().message;
  auto e = (*c)->post("/echo", "plain", "text/plain");
  ASSERT_TRUE(e) << e.error().message;
  EXPECT_EQ(e->body, "plain");
  EXPECT_EQ(e->header("X-Tls-Version").value_or(""), "");
}

TEST_F(Https, ChunkedBodiesAreLimitedToo) {
  HttpServerOptions opt;
  opt.insecure_plain_http = true;
  opt.max_body_bytes = 2048;
  auto server = serve_with(opt);
  const std::string small = raw_exchange(server->port(), chunked_post("/echo", 2, 1000));
  EXPECT_EQ(small.rfind("HTTP/1.1 200", 0), 0u) << small.substr(0, 200);
  EXPECT_NE(small.find(std::string(2000, 'c')), std::string::npos);
  const std::string big = raw_exchange(server->port(), chunked_post("/echo", 20, 1000));
  EXPECT_EQ(big.rfind("HTTP/1.1 413", 0), 0u) << big.substr(0, 200);
  EXPECT_NE(big.find("Connection: close"), std::string::npos) << big.substr(0, 300);
  // Unknown paths and other methods are refused before their body is read.
  const std::string unknown = raw_exchange(server->port(), chunked_post("/nope", 200, 1000));
  EXPECT_EQ(unknown.rfind("HTTP/1.1 404", 0), 0u) << unknown.substr(0, 200);
  const std::string put = raw_exchange(server->port(), "PUT /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 3\r\n\r\nabc");
  EXPECT_EQ(put.rfind("HTTP/1.1 405", 0), 0u) << put.substr(0, 200);
  EXPECT_NE(put.find("Allow: POST"), std::string::npos) << put.substr(0, 200);
}

TEST_F(Https, IdleKeepAliveConnectionsHoldNoWorker) {
  HttpServerOptions opt;
  opt.worker_threads = 1;
  opt.keep_alive_timeout = 30s;
  auto server = serve({identity("NIST")}, opt);
  auto first = client(server->port(), ci("NIST"));
  ASSERT_TRUE(first->post("/echo", "a", "text/plain"));
  // The first client's connection stays open and idle; with a single worker
  // a second client is still served at once.
  auto second = client(server->port(), ci("NIST"));
  const auto t0 = std::chrono::steady_clock::now();
  auto r = second->post("/echo", "b", "text/plain");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->body, "b");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  EXPECT_EQ(server->connections_open(), 2u);
  // The first client goes on over its kept-alive connection.
  auto again = first->post("/echo", "c", "text/plain");
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(again->body, "c");
  EXPECT_EQ(first->connections_opened(), 1u);
}

TEST_F(Https, GarbageAndHalfRequestsLeaveTheServerServing) {
  auto server = serve({identity("NIST")});
  // Plain HTTP to the TLS port: the handshake fails and the connection ends.
  const std::string plain = raw_exchange(server->port(), "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(plain.find("HTTP/1.1 200"), std::string::npos);
  // A client that goes away in the middle of its TLS handshake.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(server->port()));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  const char hello_start[] = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00};
  ASSERT_EQ(::send(fd, hello_start, sizeof hello_start, MSG_NOSIGNAL), static_cast<ssize_t>(sizeof hello_start));
  ::close(fd);
  // The server still answers properly.
  auto c = client(server->port(), ci("NIST"));
  auto r = c->post("/echo", "still here", "text/plain");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->body, "still here");
}

TEST_F(Https, ContinuePipeliningAndMalformedHeads) {
  HttpServerOptions opt;
  opt.insecure_plain_http = true;
  auto server = serve_with(opt);
  // Expect: 100-continue gets its interim answer before the final one.
  const std::string cont = raw_exchange(
      server->port(), "POST /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nhi");
  EXPECT_EQ(cont.rfind("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n", 0), 0u) << cont;
  // Two requests in one send are answered in order on the same connection.
  const std::string two = raw_exchange(server->port(),
                                       "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\none"
                                       "POST /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 3\r\n\r\ntwo");
  const auto first = two.find("\r\n\r\none");
  ASSERT_NE(first, std::string::npos) << two;
  EXPECT_NE(two.find("\r\n\r\ntwo", first), std::string::npos) << two;
  EXPECT_EQ(server->connections_accepted(), 2u);
  // Malformed or smuggling-shaped heads: refused, connection closed.
  const std::string smuggle = raw_exchange(
      server->port(), "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\nabc");
  EXPECT_EQ(smuggle.rfind("HTTP/1.1 400", 0), 0u) << smuggle;
  EXPECT_NE(smuggle.find("Connection: close"), std::string::npos) << smuggle;
  EXPECT_EQ(raw_exchange(server->port(), "GET / HTTP/3.0\r\nHost: x\r\n\r\n").rfind("HTTP/1.1 505", 0), 0u);
  EXPECT_EQ(raw_exchange(server->port(), "GET /healthz HTTP/1.1\r\nX: " + std::string(20000, 'a') + "\r\n\r\n")
                .rfind("HTTP/1.1 431", 0),
            0u);
  // HEAD: the GET route's headers, no body.
  const std::string head = raw_exchange(server->port(), "HEAD /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(head.rfind("HTTP/1.1 200", 0), 0u) << head;
  EXPECT_NE(head.find("Content-Length: 2\r\n"), std::string::npos) << head;
  EXPECT_EQ(head.substr(head.size() - 4), "\r\n\r\n") << head;
}

TEST_F(Https, IdentityLoadingChecksFilesAndKeys) {
  // A DER certificate works as well as PEM.
  auto pem = identity("NIST");
  const auto der_file = dir_->path() / "tls_nist.der";
  ASSERT_TRUE(write_file_atomic(der_file, pem.chain().front()));
  auto der = TlsIdentity::load(der_file, file("SK_S_SM_DP_TLS_NIST.pem"));
  ASSERT_TRUE(der) << der.error().message;
  EXPECT_EQ(der->curve(), "prime256v1");
  EXPECT_TRUE(identity("BRP").is_brainpool());

  auto mismatch = TlsIdentity::load(file("CERT_S_SM_DP_TLS_NIST.pem"), file("SK_S_SM_DP_TLS_BRP.pem"));
  ASSERT_FALSE(mismatch);
  EXPECT_EQ(mismatch.error().kind, NetError::Kind::Credentials);
  auto missing = TlsIdentity::load(file("nope.pem"), file("SK_S_SM_DP_TLS_NIST.pem"));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind, NetError::Kind::Io);
  auto garbage = TlsIdentity::from_data(as_bytes("not a cert"), as_bytes("not a key"));
  ASSERT_FALSE(garbage);
  // The key's content never shows in the message.
  auto bad_key = TlsIdentity::from_data(pem.chain().front(), as_bytes("-----BEGIN PRIVATE KEY-----\nSECRETSTUFF\n"));
  ASSERT_FALSE(bad_key);
  EXPECT_EQ(bad_key.error().message.find("SECRETSTUFF"), std::string::npos);

  HttpServerOptions opt;
  opt.tls = TlsServerConfig{};
  HttpServer no_identity(opt);
  EXPECT_FALSE(no_identity.start());
}

TEST_F(Https, ClientOptionsAreChecked) {
  HttpsClientOptions opt;
  opt.base_url = "ftp://x";
  EXPECT_FALSE(HttpsClient::create(opt));
  opt.base_url = "https://x:99999";
  opt.trust_anchors = ci("NIST");
  EXPECT_FALSE(HttpsClient::create(opt));
  opt.base_url = "https://x:443";
  opt.trust_anchors.clear();
  EXPECT_FALSE(HttpsClient::create(opt));
}

// The client's own connection code (HttpsClientOptions::own_connection, as
// the PSK-TLS mode runs) with certificates: the same round trips, checks and
// errors as on cpp-httplib's.
HttpsClientOptions own(HttpsClientOptions opt = {}) {
  opt.own_connection = true;
  return opt;
}

TEST_F(Https, OwnConnectionRoundTripsOnTls13AndTls12) {
  auto server = serve({identity("NIST")});
  expect_tls13_round_trip(*server, own());
  HttpsClientOptions twelve;
  twelve.max_version = TlsVersion::Tls12;
  auto c12 = client(server->port(), ci("NIST"), own(twelve));
  auto r12 = c12->post("/echo", std::string(40000, 'x'), "text/plain");  // several records each way
  ASSERT_TRUE(r12) << r12.error().message;
  EXPECT_EQ(r12->body, std::string(40000, 'x'));
  EXPECT_EQ(r12->header("X-Tls-Version").value_or(""), "TLSv1.2");
}

TEST_F(Https, OwnConnectionKeepsItAlive) {
  auto server = serve({identity("NIST")});
  for (auto max : {TlsVersion::Tls13, TlsVersion::Tls12}) {
    HttpsClientOptions opt;
    opt.max_version = max;
    auto c = client(server->port(), ci("NIST"), own(opt));
    for (int i = 0; i < 5; ++i) {
      auto r = c->post("/echo", std::to_string(i), "text/plain");
      ASSERT_TRUE(r) << r.error().message;
      EXPECT_EQ(r->body, std::to_string(i));
    }
    EXPECT_EQ(c->connections_opened(), 1u);
    c->close();  // the next request opens a new connection on the same client
    auto again = c->post("/echo", "again", "text/plain");
    ASSERT_TRUE(again) << again.error().message;
    EXPECT_EQ(c->connections_opened(), 2u);
  }
}

TEST_F(Https, OwnConnectionRefusesAnUntrustedCaAndAWrongName) {
  auto server = serve({identity("NIST")});
  auto untrusted = client(server->port(), ci("BRP"), own())->post("/echo", "x", "text/plain");
  ASSERT_FALSE(untrusted);
  EXPECT_EQ(untrusted.error().kind, NetError::Kind::TlsVerification) << untrusted.error().message;
  EXPECT_NE(untrusted.error().message.find("issuer"), std::string::npos) << untrusted.error().message;
  HttpsClientOptions other;
  other.server_name = "other.example.com";
  auto wrong = client(server->port(), ci("NIST"), own(other))->post("/echo", "x", "text/plain");
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().kind, NetError::Kind::TlsVerification) << wrong.error().message;
  EXPECT_NE(wrong.error().message.find("hostname mismatch"), std::string::npos) << wrong.error().message;
  HttpsClientOptions ip;
  ip.base_url = "https://127.0.0.1:" + std::to_string(server->port());
  auto by_ip = client(server->port(), ci("NIST"), own(ip))->post("/echo", "ip", "text/plain");
  ASSERT_TRUE(by_ip) << by_ip.error().message;
}

TEST_F(Https, OwnConnectionRefusedAndTimedOut) {
  int port = 0;
  {
    auto server = serve({identity("NIST")});
    port = server->port();
  }
  auto refused = client(port, ci("NIST"), own())->post("/echo", "x", "text/plain");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().kind, NetError::Kind::Connect) << refused.error().message;

  expect_read_timeout(own());
}

}  // namespace
}  // namespace rsp::net
