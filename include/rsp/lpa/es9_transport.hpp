#pragma once
/// How the LPA reaches an SM-DP+ over ES9+ (SGP.22 §6.1): one HTTP POST of a
/// JSON body to https://<address><path>. The HTTPS implementation lives with
/// the network component; this header gives the interface and an in-process
/// implementation that calls the SM-DP+'s ES9+ handler directly.

#include <functional>
#include <string>
#include <string_view>

#include "rsp/common/expected.hpp"

namespace rsp::smdpp {
class Server;
}

namespace rsp::lpa {

struct HttpReply {
  int status = 0;    ///< HTTP status code (200, 204, ...)
  std::string body;  ///< response body (JSON or empty)
};

/// The request never reached the server or no HTTP answer came back
/// (connection, TLS, timeout).
struct TransportError {
  std::string message;
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

/// TEST DOUBLE of the HTTPS transport: calls smdpp::handle_es9 on a Server in
/// the same process, as if the Server were reachable at `address`. Used by
/// tests and the demo; no network, no TLS.
class InProcessEs9Transport final : public Es9Transport {
 public:
  InProcessEs9Transport(smdpp::Server& server, std::string address);

  expected<HttpReply, TransportError> post(std::string_view smdp_address, std::string_view path,
                                           std::string_view json_body) override;

  /// Fault injection for tests: when set and it returns true for a request's
  /// path, that request fails as a transport error (the server never sees it).
  std::function<bool(std::string_view path)> fail_request;
  /// Number of requests that reached the server, per call of post().
  std::size_t delivered() const { return delivered_; }

 private:
  smdpp::Server& server_;
  std::string address_;
  std::size_t delivered_ = 0;
};

}  // namespace rsp::lpa
