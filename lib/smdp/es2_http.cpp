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

service::Route es3_results_route(std::shared_ptr<Es3Results> results, std::string path,
                                 std::shared_ptr<Es3Notifications> notifications,
                                 std::optional<std::string> smsr_caller, std::string smsr_id) {
  const bool authenticated = smsr_caller.has_value();
  return service::Route{
      "ES3.Result", "POST", std::move(path), authenticated,
      [results, notifications, smsr_caller, smsr_id](const net::Request& req,
                                                     const std::optional<service::Caller>& caller) {
        service::Reply r;
        r.response.content_type = std::string(kJson);
        const auto answer = [&r](int status, std::string body, std::string detail) {
          r.response.status = status;
          r.response.body = std::move(body);
          r.detail = std::move(detail);
          return r;
        };
        if (smsr_caller &&
            (!caller || caller->id != *smsr_caller || caller->proof != service::CallerProof::ClientCertificate))
          return answer(403, R"({"error":"the SM-SR's callbacks only"})",
                        "refused: not the SM-SR's client certificate");
        auto callback = m2m::es3::decode_callback(req.body);
        if (!callback) return answer(400, R"({"error":"not an ES3 result or notification"})", callback.error().message);
        if (const auto* n = std::get_if<m2m::es3::Notification>(&*callback)) {
          if (!notifications)
            return answer(400, R"({"error":"notifications are not taken here"})", "an ES3 notification");
          auto handled = notifications->handle(*n, smsr_id);
          if (!handled) return answer(503, R"({"error":"not stored, try again"})", handled.error());
          if (handled->outcome == Es3Notifications::Outcome::Refused) {
            // The SGP.02 code we give a caller not allowed the function
            // (as ES2's refusal of a caller that is not an MNO).
            es2::Answer a;
            a.status = m2m::status_name(m2m::ExecutionStatus::Failed);
            a.subject_code = codes::kRequesterNotAllowed.subject;
            a.reason_code = codes::kRequesterNotAllowed.reason;
            a.message = "an SM-SR change is announced by the eUICC's new SM-SR only";
            return reply(403, a, handled->detail);
          }
          return answer(200, "{}", std::string(m2m::es3::notification_name(n->function)) + ": " + handled->detail);
        }
        results->deliver(std::move(std::get<m2m::es3::Result>(*callback)));
        return answer(200, "{}", "");
      }};
}

}  // namespace rsp::smdp
