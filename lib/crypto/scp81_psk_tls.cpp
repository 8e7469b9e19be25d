#include "rsp/crypto/scp81_psk_tls.hpp"

#include <openssl/ssl.h>

#include <algorithm>
#include <cstring>

#include "ossl.hpp"

namespace rsp::crypto {

using detail::fail;
using Code = CryptoError::Code;

namespace {

/// What the PSK callbacks need, owned by the SSL_CTX through its ex_data.
struct PskState {
  PskLookup lookup;
  std::string identity;
  Bytes psk;
  ~PskState() { wipe(psk); }
};

void free_state(void*, void* ptr, CRYPTO_EX_DATA*, int, long, void*) {
  delete static_cast<PskState*>(ptr);
}

int state_index() {
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, &free_state);
  return index;
}

PskState* state_of(SSL* ssl) {
  SSL_CTX* ctx = SSL_get_SSL_CTX(ssl);
  return ctx == nullptr ? nullptr : static_cast<PskState*>(SSL_CTX_get_ex_data(ctx, state_index()));
}

unsigned int server_callback(SSL* ssl, const char* identity, unsigned char* psk,
                             unsigned int max_psk_len) {
  PskState* st = state_of(ssl);
  if (st == nullptr || !st->lookup || identity == nullptr) return 0;
  std::optional<Bytes> key = st->lookup(std::string_view(identity));
  if (!key || key->empty() || key->size() > max_psk_len) return 0;
  std::copy(key->begin(), key->end(), psk);
  auto len = static_cast<unsigned int>(key->size());
  wipe(*key);
  return len;
}

unsigned int client_callback(SSL* ssl, const char*, char* identity, unsigned int max_identity_len,
                             unsigned char* psk, unsigned int max_psk_len) {
  PskState* st = state_of(ssl);
  if (st == nullptr || st->psk.empty() || st->psk.size() > max_psk_len ||
      st->identity.size() + 1 > max_identity_len)
    return 0;
  std::memcpy(identity, st->identity.c_str(), st->identity.size() + 1);
  std::copy(st->psk.begin(), st->psk.end(), psk);
  return static_cast<unsigned int>(st->psk.size());
}

CryptoResult<void> common_setup(SSL_CTX* ctx, const char* suites, PskState* state) {
  if (ctx == nullptr) {
    delete state;
    return fail(Code::InvalidInput, "no SSL_CTX");
  }
  if (state_index() < 0) {
    delete state;
    return fail(Code::Internal, "SSL_CTX ex_data index unavailable");
  }
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
      SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION) != 1 ||
      SSL_CTX_set_cipher_list(ctx, suites) != 1) {
    delete state;
    return fail(Code::InvalidInput, "TLS 1.2 PSK cipher suites not accepted");
  }
  delete static_cast<PskState*>(SSL_CTX_get_ex_data(ctx, state_index()));
  if (SSL_CTX_set_ex_data(ctx, state_index(), state) != 1) {
    delete state;
    return fail(Code::Internal, "SSL_CTX_set_ex_data failed");
  }
  return {};
}

}  // namespace

CryptoResult<void> configure_scp81_server(SSL_CTX* ctx, PskLookup lookup,
                                          const char* cipher_suites) {
  if (!lookup) return fail(Code::InvalidInput, "no PSK lookup");
  auto* state = new PskState{std::move(lookup), {}, {}};
  RSP_TRY_VOID(common_setup(ctx, cipher_suites, state));
  SSL_CTX_set_psk_server_callback(ctx, &server_callback);
  return {};
}

CryptoResult<void> configure_scp81_client(SSL_CTX* ctx, std::string identity, Bytes psk,
                                          const char* cipher_suites) {
  if (psk.empty() || psk.size() > PSK_MAX_PSK_LEN || identity.size() > PSK_MAX_IDENTITY_LEN)
    return fail(Code::InvalidInput, "PSK or identity length out of range");
  auto* state = new PskState{{}, std::move(identity), std::move(psk)};
  RSP_TRY_VOID(common_setup(ctx, cipher_suites, state));
  SSL_CTX_set_psk_client_callback(ctx, &client_callback);
  return {};
}

}  // namespace rsp::crypto
