#include "rsp/crypto/scp81_psk_tls.hpp"

#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <memory>

namespace rsp::crypto {
namespace {

struct CtxFree {
  void operator()(SSL_CTX* c) const { SSL_CTX_free(c); }
};
struct SslFree {
  void operator()(SSL* s) const { SSL_free(s); }
};
using CtxPtr = std::unique_ptr<SSL_CTX, CtxFree>;
using SslPtr = std::unique_ptr<SSL, SslFree>;

const Bytes kPsk = from_hex("000102030405060708090A0B0C0D0E0F").value();
const char* const kIdentity = "89049032123451234512345678901235";

PskLookup lookup_one(Bytes key) {
  return [key](std::string_view id) -> std::optional<Bytes> {
    if (id != kIdentity) return std::nullopt;
    return key;
  };
}

/// Runs the handshake between two SSL objects joined by a BIO pair, then
/// sends one message each way. Returns the negotiated cipher or "" on failure.
std::string handshake_and_exchange(SSL_CTX* server_ctx, SSL_CTX* client_ctx) {
  SslPtr server(SSL_new(server_ctx)), client(SSL_new(client_ctx));
  BIO *server_bio = nullptr, *client_bio = nullptr;
  if (!server || !client || BIO_new_bio_pair(&server_bio, 0, &client_bio, 0) != 1) return "";
  SSL_set_bio(server.get(), server_bio, server_bio);
  SSL_set_bio(client.get(), client_bio, client_bio);
  SSL_set_accept_state(server.get());
  SSL_set_connect_state(client.get());
  bool server_done = false, client_done = false;
  for (int round = 0; round < 50 && !(server_done && client_done); ++round) {
    if (!client_done) {
      int r = SSL_do_handshake(client.get());
      if (r == 1) client_done = true;
      else if (SSL_get_error(client.get(), r) != SSL_ERROR_WANT_READ) break;
    }
    if (!server_done) {
      int r = SSL_do_handshake(server.get());
      if (r == 1) server_done = true;
      else if (SSL_get_error(server.get(), r) != SSL_ERROR_WANT_READ) break;
    }
  }
  ERR_clear_error();
  if (!server_done || !client_done) return "";
  const char msg[] = "POST /gsma/adminagent HTTP/1.1";
  if (SSL_write(client.get(), msg, sizeof msg) != static_cast<int>(sizeof msg)) return "";
  char buf[64] = {};
  if (SSL_read(server.get(), buf, sizeof buf) != static_cast<int>(sizeof msg)) return "";
  if (std::string(buf) != msg) return "";
  if (SSL_write(server.get(), "ok", 2) != 2 || SSL_read(client.get(), buf, sizeof buf) != 2)
    return "";
  if (SSL_version(client.get()) != TLS1_2_VERSION) return "";
  return SSL_CIPHER_get_name(SSL_get_current_cipher(client.get()));
}

TEST(Scp81, PskHandshakeForEachCipherSuite) {
  for (const char* suite : {"PSK-AES128-GCM-SHA256", "PSK-AES128-CBC-SHA256"}) {
    CtxPtr server(SSL_CTX_new(TLS_server_method())), client(SSL_CTX_new(TLS_client_method()));
    ASSERT_TRUE(server && client);
    ASSERT_TRUE(configure_scp81_server(server.get(), lookup_one(kPsk)));
    ASSERT_TRUE(configure_scp81_client(client.get(), kIdentity, kPsk, suite));
    EXPECT_EQ(handshake_and_exchange(server.get(), client.get()), suite);
  }
}

TEST(Scp81, WrongPskOrUnknownIdentityFails) {
  CtxPtr server(SSL_CTX_new(TLS_server_method())), client(SSL_CTX_new(TLS_client_method()));
  ASSERT_TRUE(server && client);
  ASSERT_TRUE(configure_scp81_server(server.get(), lookup_one(kPsk)));
  Bytes wrong = kPsk;
  wrong[0] ^= 1;
  ASSERT_TRUE(configure_scp81_client(client.get(), kIdentity, wrong));
  EXPECT_EQ(handshake_and_exchange(server.get(), client.get()), "");

  CtxPtr client2(SSL_CTX_new(TLS_client_method()));
  ASSERT_TRUE(configure_scp81_client(client2.get(), "unknown-identity", kPsk));
  EXPECT_EQ(handshake_and_exchange(server.get(), client2.get()), "");

  // Reconfiguring replaces the previous key.
  ASSERT_TRUE(configure_scp81_client(client2.get(), kIdentity, kPsk));
  EXPECT_NE(handshake_and_exchange(server.get(), client2.get()), "");
}

TEST(Scp81, RejectsBadArguments) {
  CtxPtr client(SSL_CTX_new(TLS_client_method()));
  EXPECT_FALSE(configure_scp81_client(client.get(), kIdentity, {}));
  EXPECT_FALSE(configure_scp81_client(nullptr, kIdentity, kPsk));
  EXPECT_FALSE(configure_scp81_client(client.get(), kIdentity, kPsk, "NO-SUCH-CIPHER"));
  EXPECT_FALSE(configure_scp81_server(client.get(), nullptr));
}

}  // namespace
}  // namespace rsp::crypto
