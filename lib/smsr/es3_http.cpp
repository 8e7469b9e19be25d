// ES3 on HTTPS: the SM-DP's calls (es3_service.hpp) in the JSON binding of
// rsp/m2m/es3.hpp, with the answers ES4's binding gives (http_service.hpp):
// a header with the function execution status, 202 with the operation id
// for a function the eUICC executes.

#include <nlohmann/json.hpp>

#include "rsp/m2m/eis_json.hpp"
#include "rsp/smsr/callbacks.hpp"
#include "rsp/smsr/es3_service.hpp"
#include "rsp/smsr/http_service.hpp"
#include "json_functions.hpp"

namespace rsp::smsr {

using m2m::es3::Function;
using nlohmann::json;
namespace es3 = m2m::es3;

namespace {

/// One answer: `status` with the body, whose header carries the execution
/// status and, for a refusal, its codes (never a key).
service::Reply reply(int status, json body, m2m::ExecutionStatus execution, const SmsrError* e = nullptr) {
  json header{{"status", m2m::status_name(execution)}};
  if (e) header["statusCodeData"] = {{"subjectCode", e->subject_code}, {"reasonCode", e->reason_code}, {"message", e->message}};
  body["header"] = json{{"functionExecutionStatus", std::move(header)}};
  service::Reply r;
  r.response.status = status;
  r.response.content_type = "application/json;charset=UTF-8";
  r.response.body = body.dump();
  if (e) {
    r.subject_code = e->subject_code;
    r.reason_code = e->reason_code;
    r.detail = e->message;
  }
  return r;
}

service::Reply refusal(const SmsrError& e) {
  return reply(e.storage ? 503 : 200, json::object(), m2m::ExecutionStatus::Failed, &e);
}

service::Reply of(const SmsrResult<Accepted>& r) {
  if (!r) return refusal(r.error());
  return reply(202,
               json{{"operationId", r->operation_id},
                    {"state", operation_state_name(OperationState::Accepted)},
                    {"validUntil", iso_time(r->expires_at)}},
               m2m::ExecutionStatus::ExecutedSuccess);
}

/// A function executed at once: its status, nothing else.
service::Reply done(const SmsrResult<void>& r) {
  if (!r) return refusal(r.error());
  return reply(200, json::object(), m2m::ExecutionStatus::ExecutedSuccess);
}

}  // namespace

service::Reply detail::json_es3(Es3Service& svc, Function f, std::string_view body, const std::string& smdp) {
  auto request = es3::decode_request(f, body);
  if (!request) {
    const auto code = request.error().kind == es3::Error::Kind::Missing ? m2m::codes::kMandatoryMissing
                                                                       : m2m::codes::kInvalidRequest;
    return refusal(SmsrError{code.subject, code.reason, request.error().message, false});
  }
  return std::visit(
      [&](const auto& r) -> service::Reply {
        using T = std::decay_t<decltype(r)>;
        if constexpr (std::is_same_v<T, es3::GetEis>) {
          auto eis = svc.get_eis(smdp, r.eid);
          if (!eis) return refusal(eis.error());
          return reply(200, json{{"eis", m2m::eis_to_json(*eis, m2m::Keys::Omit)}}, m2m::ExecutionStatus::ExecutedSuccess);
        } else if constexpr (std::is_same_v<T, es3::AuditEis>) {
          return of(svc.audit_eis(smdp, r));
        } else if constexpr (std::is_same_v<T, es3::UpdatePolicyRules>) {
          return done(svc.update_policy_rules(smdp, r));
        } else if constexpr (std::is_same_v<T, es3::UpdateSubscriptionAddress>) {
          return done(svc.update_subscription_address(smdp, r));
        } else if constexpr (std::is_same_v<T, es3::UpdateConnectivityParameters>) {
          return of(svc.update_connectivity_parameters(smdp, r));
        } else if constexpr (std::is_same_v<T, es3::CreateIsdp>) {
          return of(svc.create_isdp(smdp, r));
        } else if constexpr (std::is_same_v<T, es3::SendData>) {
          return of(svc.send_data(smdp, r));
        } else if constexpr (std::is_same_v<T, es3::ProfileDownloadCompleted>) {
          return done(svc.profile_download_completed(smdp, r));
        } else {
          return of(svc.on_profile(smdp, f, r.eid, r.iccid, r.validity));
        }
      },
      *request);
}

std::vector<service::Route> es3_routes(std::shared_ptr<Es3Service> svc, std::set<std::string> smdps) {
  auto callers = std::make_shared<const std::set<std::string>>(std::move(smdps));
  std::vector<service::Route> out;
  for (std::size_t i = 0; i < std::size(es3::kFunctions); ++i) {
    const auto f = static_cast<Function>(i);
    out.push_back(service::Route{
        std::string(es3::kFunctions[i].name), "POST", std::string(es3::kFunctions[i].path), true,
        [svc, callers, f](const net::Request& req, const std::optional<service::Caller>& caller) {
          const auto& bad = m2m::codes::kInvalidRequest;
          if (req.header("Content-Type").value_or("").rfind("application/json", 0) != 0)
            return refusal(SmsrError{bad.subject, bad.reason, "Content-Type must be application/json", false});
          const auto& no = m2m::codes::kRequesterNotAllowed;
          if (!caller || !callers->contains(caller->id))
            return refusal(SmsrError{no.subject, no.reason, "ES3 is for SM-DPs", false});
          return detail::json_es3(*svc, f, req.body, caller->id);
        }});
  }
  return out;
}

}  // namespace rsp::smsr
