#include "test_support/in_process_es9.hpp"

#include "rsp/smdpp/es9_http.hpp"

namespace rsp::test_support {

InProcessEs9Transport::InProcessEs9Transport(smdpp::Server& server, std::string address)
    : server_(server), address_(std::move(address)) {}

expected<lpa::HttpReply, lpa::TransportError> InProcessEs9Transport::post(std::string_view smdp_address,
                                                                          std::string_view path,
                                                                          std::string_view json_body) {
  if (smdp_address != address_) return unexpected(lpa::TransportError{"unknown host"});
  if (fail_request && fail_request(path)) return unexpected(lpa::TransportError{"connection failed (injected)"});
  ++delivered_;
  auto r = smdpp::handle_es9(server_, path, json_body);
  return lpa::HttpReply{r.status, std::move(r.body)};
}

}  // namespace rsp::test_support
