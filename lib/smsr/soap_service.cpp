#include "rsp/smsr/soap_service.hpp"

#include <cstdint>

#include "rsp/m2m/es3.hpp"
#include "rsp/m2m/es7.hpp"
#include "rsp/m2m_soap/endpoint.hpp"
#include "json_functions.hpp"

namespace rsp::smsr {

using m2m::Es4Function;
namespace es3 = m2m::es3;
namespace es7 = m2m::es7;

namespace {

/// The dotted names of table[from, to).
template <class Table>
std::vector<std::string> names(const Table& table, std::size_t from = 0, std::size_t to = SIZE_MAX) {
  std::vector<std::string> out;
  for (std::size_t i = from; i < to && i < std::size(table); ++i) out.emplace_back(table[i].name);
  return out;
}

/// The ES7 functions of es7::kFunctions (the ES4 ones follow them).
constexpr std::size_t kEs7Count = static_cast<std::size_t>(es7::Function::PrepareSmsrChange);

}  // namespace

bool is_soap_path(std::string_view path) {
  return path == kSoapEs1Path || path == kSoapEs3Path || path == kSoapEs4Path || path == kSoapEs7Path;
}

service::Reply soap_unauthenticated_reply(const net::Request& request) {
  return m2m_soap::unauthenticated_reply(request);
}

std::vector<service::Route> soap_routes(std::shared_ptr<Service> svc, CallerRoles roles,
                                        std::shared_ptr<Es3Service> es3_service, std::shared_ptr<Es7Service> es7_service) {
  std::vector<service::Route> out;
  out.push_back(m2m_soap::route(m2m_soap::Endpoint{
      "ES1.SOAP", std::string(kSoapEs1Path), std::string(kEs1ActionPrefix), {"ES1.RegisterEIS"}, roles.eums,
      "ES1 is for EUMs", [svc](std::size_t, std::string_view body, const std::string& eum) {
        return detail::json_es1_register(*svc, body, eum);
      }}));

  // ES4, with PrepareSMSRChange and SMSRChange (es7::kFunctions after the
  // ES7 ones) when ES7 is served.
  std::vector<std::string> es4 = names(m2m::kEs4Functions);
  const std::size_t es4_count = es4.size();
  if (es7_service)
    for (auto& n : names(es7::kFunctions, kEs7Count)) es4.push_back(std::move(n));
  out.push_back(m2m_soap::route(m2m_soap::Endpoint{
      "ES4.SOAP", std::string(kSoapEs4Path), std::string(kEs4ActionPrefix), std::move(es4), roles.mnos,
      "ES4 is for MNOs", [svc, es7_service, es4_count](std::size_t f, std::string_view body, const std::string& mno) {
        if (f < es4_count) return detail::json_es4(*svc, static_cast<Es4Function>(f), body, mno);
        return detail::json_es7(*es7_service, static_cast<es7::Function>(kEs7Count + f - es4_count), body, mno);
      }}));

  if (es3_service)
    out.push_back(m2m_soap::route(m2m_soap::Endpoint{
        "ES3.SOAP", std::string(kSoapEs3Path), std::string(kEs3ActionPrefix), names(es3::kFunctions), roles.smdps,
        "ES3 is for SM-DPs", [es3_service](std::size_t f, std::string_view body, const std::string& smdp) {
          return detail::json_es3(*es3_service, static_cast<es3::Function>(f), body, smdp);
        }}));
  if (es7_service)
    out.push_back(m2m_soap::route(m2m_soap::Endpoint{
        "ES7.SOAP", std::string(kSoapEs7Path), std::string(kEs7ActionPrefix), names(es7::kFunctions, 0, kEs7Count),
        roles.smsrs, "ES7 is for SM-SRs", [es7_service](std::size_t f, std::string_view body, const std::string& smsr) {
          return detail::json_es7(*es7_service, static_cast<es7::Function>(f), body, smsr);
        }}));
  return out;
}

}  // namespace rsp::smsr
