#include "rsp/smdp/soap_service.hpp"

#include "rsp/m2m/es2.hpp"
#include "rsp/m2m_soap/endpoint.hpp"
#include "rsp/smdp/es2_http.hpp"
#include "es2_json.hpp"

namespace rsp::smdp {

namespace es2 = m2m::es2;

service::Route soap_es2_route(std::shared_ptr<Es2Service> svc, std::set<std::string> mnos) {
  std::vector<std::string> functions;
  for (const auto& f : es2::kFunctions) functions.emplace_back(f.name);
  return m2m_soap::route(m2m_soap::Endpoint{
      "ES2.SOAP", std::string(kSoapEs2Path), std::string(kEs2ActionPrefix), std::move(functions), std::move(mnos),
      "ES2 is for MNOs", [svc](std::size_t f, std::string_view body, const std::string& mno) {
        return detail::json_es2(*svc, static_cast<es2::Function>(f), body, mno);
      }});
}

service::Reply smdp_unauthenticated_reply(const net::Request& request) {
  if (request.path == kSoapEs2Path) return m2m_soap::unauthenticated_reply(request);
  return es2_unauthenticated_reply();
}

}  // namespace rsp::smdp
