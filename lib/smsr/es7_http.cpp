// ES7 (and ES4 PrepareSMSRChange / SMSRChange) on HTTPS: the routes of the
// Es7Service and the client another SM-SR is called with (es7_service.hpp).
// Both ends speak the JSON of rsp/m2m/es7.hpp; the answer's body is an
// es7::Response (200; 503 when this SM-SR's storage failed).

#include <mutex>

#include "rsp/net/client.hpp"
#include "rsp/smsr/es7_service.hpp"
#include "rsp/smsr/http_service.hpp"
#include "json_functions.hpp"

namespace rsp::smsr {

namespace es7 = m2m::es7;

namespace {

service::Reply answer(const SmsrResult<es7::Response>& r) {
  service::Reply out;
  out.response.content_type = "application/json;charset=UTF-8";
  if (r) {
    out.response.status = 200;
    out.response.body = es7::encode_response(*r);
    return out;
  }
  const SmsrError& e = r.error();
  out.response.status = e.storage ? 503 : 200;
  out.response.body = es7::encode_response(es7::Response{"Failed", e.subject_code, e.reason_code, {}, {}, 0});
  out.subject_code = e.subject_code;
  out.reason_code = e.reason_code;
  out.detail = e.message;
  return out;
}

SmsrResult<es7::Response> refused(m2m::Code c, std::string message) { return smsr_error(c, std::move(message)); }

class HttpsPeer final : public Es7Peer {
 public:
  explicit HttpsPeer(std::unique_ptr<net::HttpsClient> http) : http_(std::move(http)) {}
  SmsrResult<es7::Response> call(const es7::Request& request) override {
    const auto& f = es7::function(es7::function_of(request));
    auto response = [&] {
      std::lock_guard lock(mu_);
      return http_->request("POST", std::string(f.path), es7::encode_request(request), "application/json");
    }();
    if (!response) return refused(m2m::codes::kExecutionError, "the target SM-SR did not answer");
    auto r = es7::decode_response(response->body);
    if (!r) return refused(m2m::codes::kExecutionError, "the target SM-SR answered HTTP " +
                                                            std::to_string(response->status) + ": " + r.error().message);
    return std::move(*r);
  }

 private:
  std::mutex mu_;
  std::unique_ptr<net::HttpsClient> http_;
};

}  // namespace

service::Reply detail::json_es7(Es7Service& svc, es7::Function f, std::string_view body, const std::string& caller) {
  auto request = es7::decode_request(f, body);
  if (!request)
    return answer(refused(request.error().kind == es7::Error::Kind::Missing ? m2m::codes::kMandatoryMissing
                                                                           : m2m::codes::kInvalidRequest,
                          request.error().message));
  return answer(svc.handle(caller, *request));
}

std::vector<service::Route> es7_routes(std::shared_ptr<Es7Service> svc, std::set<std::string> smsrs,
                                       std::set<std::string> mnos) {
  auto peers = std::make_shared<const std::set<std::string>>(std::move(smsrs));
  auto operators = std::make_shared<const std::set<std::string>>(std::move(mnos));
  std::vector<service::Route> out;
  for (std::size_t i = 0; i < std::size(es7::kFunctions); ++i) {
    const auto f = static_cast<es7::Function>(i);
    const bool es4 = f == es7::Function::PrepareSmsrChange || f == es7::Function::SmsrChange;
    out.push_back(service::Route{
        std::string(es7::kFunctions[i].name), "POST", std::string(es7::kFunctions[i].path), true,
        [svc, peers, operators, f, es4](const net::Request& req, const std::optional<service::Caller>& caller) {
          if (req.header("Content-Type").value_or("").rfind("application/json", 0) != 0)
            return answer(refused(m2m::codes::kInvalidRequest, "Content-Type must be application/json"));
          const auto& allowed = es4 ? *operators : *peers;
          if (!caller || !allowed.contains(caller->id))
            return answer(refused(m2m::codes::kRequesterNotAllowed, es4 ? "for MNOs" : "ES7 is for SM-SRs"));
          return detail::json_es7(*svc, f, req.body, caller->id);
        }});
  }
  return out;
}

net::NetResult<std::shared_ptr<Es7Peer>> https_es7_peer(Es7PeerOptions options) {
  net::HttpsClientOptions o;
  o.base_url = std::move(options.url);
  o.trust_anchors = std::move(options.trust_anchors);
  o.identity = std::move(options.identity);
  o.connect_timeout = options.timeout;
  o.read_timeout = options.timeout;
  o.write_timeout = options.timeout;
  o.user_agent = "rsp-smsr/0.1";
  auto http = net::HttpsClient::create(std::move(o));
  if (!http) return unexpected(http.error());
  return std::shared_ptr<Es7Peer>(std::make_shared<HttpsPeer>(std::move(*http)));
}

}  // namespace rsp::smsr
