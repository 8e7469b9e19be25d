#pragma once
/// SCP81 key material (GlobalPlatform Card Specification Amendment B; SGP.02
/// §2.4.4): the PSK identity an eUICC presents in its admin HTTPS session and
/// the pre-shared key for TLS 1.2 with AES-128 PSK suites. The TLS itself is
/// the net component's (TlsServerConfig::psk, HttpsClientOptions::psk).

#include <string>
#include <string_view>

#include "rsp/common/bytes.hpp"
#include "rsp/crypto/ec_key.hpp"

namespace rsp::crypto {

struct Scp81Psk {
  std::string identity;
  Bytes key;  ///< never logged or put in an error
};

/// Key lengths accepted: AES-128 (16 bytes) up to 32 bytes.
inline constexpr std::size_t kScp81PskMinBytes = 16;
inline constexpr std::size_t kScp81PskMaxBytes = 32;

/// Parses the text of a PSK file, lines "identity=<text>" and "key=<hex>"
/// (as `rsp pki init` writes PSK_M2M_SCP81.txt). Errors name the problem,
/// never the key.
CryptoResult<Scp81Psk> parse_scp81_psk(std::string_view text);

}  // namespace rsp::crypto
