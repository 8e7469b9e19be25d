#pragma once
/// Errors of the HTTP(S) component, returned as values.

#include <string>

#include "rsp/common/expected.hpp"

namespace rsp::net {

struct NetError {
  enum class Kind {
    InvalidArgument,  ///< a bad option, URL or configuration
    Io,               ///< a file could not be read
    Credentials,      ///< a certificate or key could not be parsed or do not match
    Bind,             ///< the server could not listen
    Connect,          ///< no TCP connection (refused, unreachable, name not resolved)
    Timeout,          ///< connect, read or write timed out
    Tls,              ///< TLS handshake failed for another reason than verification
    TlsVerification,  ///< the server certificate was not accepted (reason in message)
    Transport,        ///< the connection broke while sending or receiving
    HttpStatus,       ///< the server answered with a non-2xx status (http_status)
  };
  Kind kind = Kind::InvalidArgument;
  std::string message;
  int http_status = 0;  ///< for Kind::HttpStatus
};

template <class T>
using NetResult = expected<T, NetError>;

inline unexpected<NetError> net_error(NetError::Kind kind, std::string message, int http_status = 0) {
  return unexpected(NetError{kind, std::move(message), http_status});
}

/// "connect", "tls-verification", ... for logs and tests.
const char* kind_name(NetError::Kind kind);

}  // namespace rsp::net
