#pragma once
// TEST DOUBLE of the LPA's HTTPS transport: calls smdpp::handle_es9 on a
// Server in the same process, as if the Server were reachable at `address`
// (no network, no TLS). Used by tests and benchmarks; it lives here so that
// the LPA library does not link the SM-DP+.

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "rsp/lpa/es9_transport.hpp"

namespace rsp::smdpp {
class Server;
}

namespace rsp::test_support {

class InProcessEs9Transport final : public lpa::Es9Transport {
 public:
  InProcessEs9Transport(smdpp::Server& server, std::string address);

  expected<lpa::HttpReply, lpa::TransportError> post(std::string_view smdp_address, std::string_view path,
                                                     std::string_view json_body) override;

  /// Fault injection: when set and it returns true for a request's path,
  /// that request fails as a transport error (the server never sees it).
  std::function<bool(std::string_view path)> fail_request;
  /// Number of requests that reached the server.
  std::size_t delivered() const { return delivered_; }

 private:
  smdpp::Server& server_;
  std::string address_;
  std::size_t delivered_ = 0;
};

}  // namespace rsp::test_support
