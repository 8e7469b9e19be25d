#pragma once
/// SCP81 (GlobalPlatform Card Specification Amendment B): TLS 1.2 with a
/// pre-shared key, as SGP.02 ES5 uses between the SM-SR (server side of the
/// admin HTTPS session) and the eUICC's ISD-R. These helpers only configure an
/// OpenSSL SSL_CTX: protocol pinned to TLS 1.2, the Amendment B PSK cipher
/// suites, and a PSK callback. Transport and HTTP stay with the caller.

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "rsp/common/bytes.hpp"
#include "rsp/crypto/ec_key.hpp"

typedef struct ssl_ctx_st SSL_CTX;

namespace rsp::crypto {

/// TLS_PSK_WITH_AES_128_GCM_SHA256 and TLS_PSK_WITH_AES_128_CBC_SHA256
/// (GP Amendment B §3.2), in OpenSSL's names, preferred first.
inline constexpr const char* kScp81CipherSuites = "PSK-AES128-GCM-SHA256:PSK-AES128-CBC-SHA256";

/// Maps a client's PSK identity to its key (16 or 32 bytes typically);
/// nullopt refuses the identity and fails the handshake.
using PskLookup = std::function<std::optional<Bytes>(std::string_view identity)>;

/// Server side: TLS 1.2 only, SCP81 suites, keys from `lookup`.
CryptoResult<void> configure_scp81_server(SSL_CTX* ctx, PskLookup lookup,
                                          const char* cipher_suites = kScp81CipherSuites);
/// Client side: TLS 1.2 only, SCP81 suites, one identity and key.
CryptoResult<void> configure_scp81_client(SSL_CTX* ctx, std::string identity, Bytes psk,
                                          const char* cipher_suites = kScp81CipherSuites);

}  // namespace rsp::crypto
