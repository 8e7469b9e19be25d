#include "rsp/smdp/es2_http.hpp"

#include "es2_json.hpp"

namespace rsp::smdp {

namespace es2 = m2m::es2;
namespace codes = m2m::codes;

namespace {

constexpr std::string_view kJson = "application/json;charset=UTF-8";

service::Reply reply(int status, const es2::Answer& a, std::string detail = {}) {
  service::Reply r;
  r.response.status = status;
  r.response.content_type = std::string(kJson);
  r.response.body = es2::encode_answer(a);
  r.subject_code = a.subject_code;
  r.reason_code = a.reason_code;
  r.detail = detail.empty() ? a.message : std::move(detail);
  return r;
}

service::Reply failed(m2m::Code c, std::string message) {
  es2::Answer a;
  a.status = m2m::status_name(m2m::ExecutionStatus::Failed);
  a.subject_code = c.subject;
  a.reason_code = c.reason;
  a.message = std::move(message);
  return reply(200, a);
}

bool json_content(const net::Request& req) {
  return req.header("Content-Type").value_or("").rfind("application/json", 0) == 0;
}

}  // namespace

service::Reply detail::json_es2(Es2Service& svc, es2::Function fn, std::string_view body, const std::string& mno) {
  auto request = es2::decode_request(fn, body);
  if (!request)
    return failed(request.error().kind == es2::Error::Kind::Missing ? codes::kMandatoryMissing
                                                                    : codes::kInvalidRequest,
                  request.error().message);
  auto r = svc.handle(*request, mno);
  return reply(r.storage ? 503 : r.answer.accepted() ? 202 : 200, r.answer);
}

service::Reply es2_unauthenticated_reply() {
  service::Reply r = failed(codes::kRequesterUnknown, "caller not authenticated");
  r.response.status = 401;
  r.response.headers.emplace_back("WWW-Authenticate", "Bearer");
  return r;
}

std::vector<service::Route> es2_routes(std::shared_ptr<Es2Service> svc, std::set<std::string> mnos) {
  auto shared_mnos = std::make_shared<const std::set<std::string>>(std::move(mnos));
  std::vector<service::Route> out;
  for (std::size_t i = 0; i < std::size(es2::kFunctions); ++i) {
    const auto fn = static_cast<es2::Function>(i);
    const auto& f = es2::kFunctions[i];
    out.push_back(service::Route{
        std::string(f.name), "POST", std::string(f.path), true,
        [svc, shared_mnos, fn](const net::Request& req, const std::optional<service::Caller>& caller) {
          if (!json_content(req)) return failed(codes::kInvalidRequest, "Content-Type must be application/json");
          if (!caller || !shared_mnos->contains(caller->id)) return failed(codes::kRequesterNotAllowed, "ES2 is for MNOs");
          return detail::json_es2(*svc, fn, req.body, caller->id);
        }});
  }
  return out;
}

service::Route es3_results_route(std::shared_ptr<Es3Results> results, std::string path) {
  return service::Route{
      "ES3.Result", "POST", std::move(path), false,
      [results](const net::Request& req, const std::optional<service::Caller>&) {
        service::Reply r;
        r.response.content_type = std::string(kJson);
        auto delivered = results->deliver(req.body);
        if (!delivered) {
          r.response.status = 400;
          r.response.body = R"({"error":"not an ES3 result"})";
          r.detail = delivered.error();
          return r;
        }
        r.response.status = 200;
        r.response.body = "{}";
        return r;
      }};
}

}  // namespace rsp::smdp
