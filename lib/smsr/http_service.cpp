#include "rsp/smsr/http_service.hpp"

#include "rsp/smsr/es7_service.hpp"

#include <ctime>
#include <nlohmann/json.hpp>

#include "rsp/m2m/eis_json.hpp"
#include "rsp/pki/eid.hpp"
#include "rsp/smsr/callbacks.hpp"
#include "rsp/smsr/soap_service.hpp"
#include "json_functions.hpp"

namespace rsp::smsr {

using m2m::Es4Function;
using nlohmann::json;
namespace codes = m2m::codes;

namespace {

constexpr std::string_view kJson = "application/json;charset=UTF-8";

json status_header(m2m::ExecutionStatus status, const SmsrError* error = nullptr) {
  json s{{"status", m2m::status_name(status)}};
  if (error)
    s["statusCodeData"] = {
        {"subjectCode", error->subject_code}, {"reasonCode", error->reason_code}, {"message", error->message}};
  return json{{"functionExecutionStatus", std::move(s)}};
}

service::Reply answer(int status, json body) {
  service::Reply r;
  r.response.status = status;
  r.response.content_type = std::string(kJson);
  r.response.body = body.dump();
  return r;
}

service::Reply failed(const SmsrError& e) {
  // A storage failure decided nothing: 503, the caller may try again.
  service::Reply r =
      answer(e.storage ? 503 : 200, json{{"header", status_header(m2m::ExecutionStatus::Failed, &e)}});
  r.subject_code = e.subject_code;
  r.reason_code = e.reason_code;
  r.detail = e.message;
  return r;
}

service::Reply failed(m2m::Code c, std::string message) {
  return failed(SmsrError{c.subject, c.reason, std::move(message), false});
}

service::Reply success(json body = json::object()) {
  body["header"] = status_header(m2m::ExecutionStatus::ExecutedSuccess);
  return answer(200, std::move(body));
}

service::Reply accepted(const SmsrResult<Accepted>& r) {
  if (!r) return failed(r.error());
  // The answer of every accepted operation, written as json::dump() writes
  // it (members in name order) without building the document: a number, a
  // state name and a time, none of which needs escaping.
  service::Reply reply;
  reply.response.status = 202;
  reply.response.content_type = std::string(kJson);
  std::string& body = reply.response.body;
  body.reserve(80);
  body += "{\"operationId\":";
  body += std::to_string(r->operation_id);
  body += ",\"state\":\"";
  body += operation_state_name(OperationState::Accepted);
  body += "\",\"validUntil\":\"";
  body += iso_time(r->expires_at);
  body += "\"}";
  return reply;
}

/// A request body's members: each taken once, unknown ones refused.
struct Request {
  json body;
  std::string error;  ///< set when the body is unusable

  explicit Request(std::string_view text) {
    body = json::parse(text, nullptr, false);
    if (body.is_discarded()) {
      error = "the body is not JSON";
    } else if (!body.is_object()) {
      error = "the body must be a JSON object";
    } else {
      // Optional in every request: the caller's own identifier of the call.
      if (auto it = body.find("functionCallIdentifier"); it != body.end()) {
        if (!it->is_string() || it->get_ref<const std::string&>().size() > 256)
          error = "functionCallIdentifier must be a string of at most 256 characters";
        body.erase(it);
      }
    }
  }
  const json* take(const char* name) {
    auto it = body.find(name);
    if (it == body.end()) return nullptr;
    taken.push_back(name);
    return &*it;
  }
  std::optional<std::string> unknown() const {
    for (const auto& item : body.items())
      if (std::find(taken.begin(), taken.end(), item.key()) == taken.end()) return item.key();
    return std::nullopt;
  }
  std::vector<std::string> taken;
};

/// The string member `name` (mandatory), checked by `valid`.
std::optional<service::Reply> text(Request& req, const char* name, std::string& out, bool (*valid)(std::string_view),
                                   const char* what) {
  const json* v = req.take(name);
  if (!v) return failed(codes::kMandatoryMissing, std::string(name) + " is missing");
  if (!v->is_string() || !valid(v->get_ref<const std::string&>()))
    return failed(codes::kInvalidRequest, std::string(name) + " must be " + what);
  out = v->get<std::string>();
  return std::nullopt;
}

bool is_eid_text(std::string_view s) {
  return s.size() == 32 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}
bool is_iccid_text(std::string_view s) { return m2m::is_iccid(s); }

/// The answer to a function of `fn` from `caller`, on `body`.
service::Reply es4(Service& svc, Es4Function fn, std::string_view body, const std::string& mno) {
  Request req(body);
  if (!req.error.empty()) return failed(codes::kInvalidRequest, req.error);
  std::string eid, iccid;
  std::optional<std::int64_t> validity;
  const bool needs_eid = fn != Es4Function::GetOperation;
  const bool needs_iccid = fn != Es4Function::GetOperation && fn != Es4Function::GetEis && fn != Es4Function::AuditEis;
  const bool async = fn == Es4Function::AuditEis || fn == Es4Function::EnableProfile ||
                     fn == Es4Function::DisableProfile || fn == Es4Function::DeleteProfile ||
                     fn == Es4Function::SetFallbackAttribute || fn == Es4Function::SetEmergencyProfileAttribute;
  if (needs_eid)
    if (auto bad = text(req, "eid", eid, is_eid_text, "32 digits")) return std::move(*bad);
  if (needs_iccid)
    if (auto bad = text(req, "iccid", iccid, is_iccid_text, "18 to 20 digits")) return std::move(*bad);
  if (async) {
    if (const json* v = req.take("validityPeriod")) {
      if (!v->is_number_integer()) return failed(codes::kInvalidRequest, "validityPeriod must be whole seconds");
      validity = v->is_number_unsigned() && v->get<std::uint64_t>() > (1ull << 40) ? (std::int64_t{1} << 40)
                                                                                  : v->get<std::int64_t>();
    }
  }
  std::vector<m2m::PolicyRule> pol2;
  m2m::SubscriptionAddress address;
  std::int64_t operation_id = 0;
  if (fn == Es4Function::UpdatePolicyRules) {
    const json* v = req.take("pol2");
    if (!v) return failed(codes::kMandatoryMissing, "pol2 is missing");
    auto r = m2m::pol2_from_json(*v, "pol2");
    if (!r) return failed(codes::kInvalidRequest, r.error().path + " " + r.error().message);
    pol2 = std::move(*r);
  } else if (fn == Es4Function::UpdateSubscriptionAddress) {
    const json* v = req.take("subscriptionAddress");
    if (!v) return failed(codes::kMandatoryMissing, "subscriptionAddress is missing");
    auto r = m2m::subscription_address_from_json(*v, "subscriptionAddress");
    if (!r) return failed(codes::kInvalidRequest, r.error().path + " " + r.error().message);
    address = std::move(*r);
  } else if (fn == Es4Function::GetOperation) {
    const json* v = req.take("operationId");
    if (!v) return failed(codes::kMandatoryMissing, "operationId is missing");
    if (!v->is_number_integer() || v->get<std::int64_t>() <= 0)
      return failed(codes::kInvalidRequest, "operationId must be a positive integer");
    operation_id = v->get<std::int64_t>();
  }
  if (auto extra = req.unknown()) return failed(codes::kInvalidRequest, "unknown member " + *extra);

  switch (fn) {
    case Es4Function::GetEis: {
      auto r = svc.get_eis(mno, eid);
      if (!r) return failed(r.error());
      return success(json{{"eis", m2m::eis_to_json(*r, m2m::Keys::Omit)}});
    }
    case Es4Function::AuditEis: return accepted(svc.audit_eis(mno, eid, validity));
    case Es4Function::EnableProfile: return accepted(svc.enable_profile(mno, eid, iccid, validity));
    case Es4Function::DisableProfile: return accepted(svc.disable_profile(mno, eid, iccid, validity));
    case Es4Function::DeleteProfile: return accepted(svc.delete_profile(mno, eid, iccid, validity));
    case Es4Function::SetFallbackAttribute: return accepted(svc.set_fallback_attribute(mno, eid, iccid, validity));
    case Es4Function::SetEmergencyProfileAttribute:
      return accepted(svc.set_emergency_profile_attribute(mno, eid, iccid, validity));
    case Es4Function::UpdatePolicyRules: {
      auto r = svc.update_policy_rules(mno, eid, iccid, pol2);
      return r ? success() : failed(r.error());
    }
    case Es4Function::UpdateSubscriptionAddress: {
      auto r = svc.update_subscription_address(mno, eid, iccid, address);
      return r ? success() : failed(r.error());
    }
    case Es4Function::GetOperation: {
      auto r = svc.operation(mno, operation_id);
      if (!r) return failed(r.error());
      json op{{"operationId", r->id},
              {"function", r->function},
              {"eid", r->eid},
              {"state", operation_state_name(r->state)},
              {"validUntil", iso_time(r->expires_at)}};
      if (!r->iccid.empty()) op["iccid"] = r->iccid;
      if (is_final(r->state)) {
        json s{{"status", r->status}};
        if (!r->subject_code.empty())
          s["statusCodeData"] = {{"subjectCode", r->subject_code}, {"reasonCode", r->reason_code}};
        op["functionExecutionStatus"] = std::move(s);
      }
      return success(json{{"operation", std::move(op)}});
    }
  }
  return failed(codes::kUnknownFunction, "no such function");
}

service::Reply es1_register(Service& svc, std::string_view body, const std::string& eum) {
  Request req(body);
  if (!req.error.empty()) return failed(codes::kInvalidRequest, req.error);
  const json* eis_json = req.take("eis");
  if (!eis_json) return failed(codes::kMandatoryMissing, "eis is missing");
  if (auto extra = req.unknown()) return failed(codes::kInvalidRequest, "unknown member " + *extra);
  auto eis = m2m::eis_from_json(*eis_json);
  if (!eis) {
    const std::string where = "eis" + (eis.error().path.empty() ? "" : "." + eis.error().path);
    return failed(eis.error().path == "eid" ? codes::kEidInvalid : codes::kInvalidRequest,
                  where + ": " + eis.error().message);
  }
  // SGP.29 / SGP.02 §2.2.2: the EID's last two digits check the others.
  if (!pki::is_valid_eid(eis->eid)) return failed(codes::kEidInvalid, "eis.eid: its check digits are wrong");
  auto r = svc.register_eis(eum, *eis);
  return r ? success() : failed(r.error());
}

bool json_content(const net::Request& req) {
  const std::string ct = req.header("Content-Type").value_or("");
  return ct.rfind("application/json", 0) == 0;
}

}  // namespace

service::Reply detail::json_es4(Service& svc, Es4Function fn, std::string_view body, const std::string& mno) {
  return es4(svc, fn, body, mno);
}
service::Reply detail::json_es1_register(Service& svc, std::string_view body, const std::string& eum) {
  return es1_register(svc, body, eum);
}

service::Reply unauthenticated_reply() {
  service::Reply r = failed(codes::kRequesterUnknown, "caller not authenticated");
  r.response.status = 401;
  r.response.headers.emplace_back("WWW-Authenticate", "Bearer");
  return r;
}

std::vector<service::Route> routes(std::shared_ptr<Service> svc, CallerRoles roles, bool get_eis_inline) {
  auto shared_roles = std::make_shared<const CallerRoles>(std::move(roles));
  std::vector<service::Route> out;
  out.push_back(service::Route{
      std::string(m2m::kEs1RegisterEis.name), "POST", std::string(m2m::kEs1RegisterEis.path), true,
      [svc, shared_roles](const net::Request& req, const std::optional<service::Caller>& caller) {
        if (!json_content(req)) return failed(codes::kInvalidRequest, "Content-Type must be application/json");
        if (!caller || !shared_roles->eums.contains(caller->id))
          return failed(codes::kRequesterNotAllowed, "ES1 is for EUMs");
        return es1_register(*svc, req.body, caller->id);
      }});
  for (std::size_t i = 0; i < std::size(m2m::kEs4Functions); ++i) {
    const auto fn = static_cast<Es4Function>(i);
    const auto& f = m2m::kEs4Functions[i];
    out.push_back(service::Route{
        std::string(f.name), "POST", std::string(f.path), true,
        [svc, shared_roles, fn](const net::Request& req, const std::optional<service::Caller>& caller) {
          if (!json_content(req)) return failed(codes::kInvalidRequest, "Content-Type must be application/json");
          if (!caller || !shared_roles->mnos.contains(caller->id))
            return failed(codes::kRequesterNotAllowed, "ES4 is for MNOs");
          return es4(*svc, fn, req.body, caller->id);
        }});
    if (fn == Es4Function::GetEis && get_eis_inline) out.back().threads = net::HandlerThreads::Inline;
  }
  return out;
}

HttpService::~HttpService() {
  if (server_) server_->stop();
}

net::NetResult<std::unique_ptr<HttpService>> HttpService::start(std::shared_ptr<Service> svc, HttpConfig config) {
  service::ServerConfig sc;
  sc.role = "smsr";
  if (auto listener = service::take_listener(sc, config); !listener) return unexpected(listener.error());
  auto smdps = config.roles.smdps;
  auto smsrs = config.roles.smsrs;
  auto mnos = config.roles.mnos;
  sc.routes = routes(svc, config.roles, config.get_eis_inline);
  for (auto& r : soap_routes(svc, config.roles, config.es3, config.es7)) sc.routes.push_back(std::move(r));
  if (config.es3)
    for (auto& r : es3_routes(std::move(config.es3), std::move(smdps))) sc.routes.push_back(std::move(r));
  if (config.es7)
    for (auto& r : es7_routes(std::move(config.es7), std::move(smsrs), std::move(mnos))) sc.routes.push_back(std::move(r));
  sc.authenticate = std::move(config.authenticate);
  sc.unauthenticated = [](const net::Request& r) {
    return is_soap_path(r.path) ? soap_unauthenticated_reply(r) : unauthenticated_reply();
  };
  sc.log = std::move(config.log);
  sc.access_log = std::move(config.access_log);
  std::unique_ptr<HttpService> out(new HttpService());
  RSP_TRY(out->server_, service::Server::start(std::move(sc)));
  return out;
}

}  // namespace rsp::smsr
