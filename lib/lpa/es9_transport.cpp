#include "rsp/lpa/es9_transport.hpp"

#include "rsp/smdpp/es9_http.hpp"

namespace rsp::lpa {

InProcessEs9Transport::InProcessEs9Transport(smdpp::Server& server, std::string address)
    : server_(server), address_(std::move(address)) {}

expected<HttpReply, TransportError> InProcessEs9Transport::post(std::string_view smdp_address,
                                                                std::string_view path,
                                                                std::string_view json_body) {
  if (smdp_address != address_) return unexpected(TransportError{"unknown host"});
  if (fail_request && fail_request(path)) return unexpected(TransportError{"connection failed (injected)"});
  ++delivered_;
  auto r = smdpp::handle_es9(server_, path, json_body);
  return HttpReply{r.status, std::move(r.body)};
}

}  // namespace rsp::lpa
