#pragma once
/// How the LPA reaches an SM-DP+ over ES9+ (SGP.22 §6.1): one HTTP POST of a
/// JSON body to https://<address><path>. The HTTPS implementation is
/// https_transport.hpp; tests reach an SM-DP+ in process through the test
/// support library.

#include <string>
#include <string_view>

#include "rsp/common/expected.hpp"

namespace rsp::lpa {

struct HttpReply {
  int status = 0;    ///< HTTP status code (200, 204, ...)
  std::string body;  ///< response body (JSON or empty)
};

/// The request never reached the server or no HTTP answer came back
/// (connection, TLS, timeout).
struct TransportError {
  std::string message;
  /// No answer within the transport's time limit (the LPA then cancels the
  /// session with reason timeout, SGP.22 v2.2.2 §5.7.14).
  bool timed_out = false;
};

class Es9Transport {
 public:
  virtual ~Es9Transport() = default;
  /// POSTs `json_body` to `path` (e.g. "/gsma/rsp2/es9plus/initiateAuthentication")
  /// on the SM-DP+ at `smdp_address` (an FQDN, optionally with ":port"), with
  /// the SGP.22 headers (Content-Type application/json, X-Admin-Protocol).
  /// Notifications may go to another address than the download.
  virtual expected<HttpReply, TransportError> post(std::string_view smdp_address, std::string_view path,
                                                   std::string_view json_body) = 0;
};

}  // namespace rsp::lpa
