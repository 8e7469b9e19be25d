#include "rsp/m2m/es2.hpp"

#include <limits>

#include "rsp/m2m/eis_json.hpp"
#include "rsp/m2m/es8_connectivity.hpp"
#include "rsp/m2m/es_status.hpp"
#include "strict_json.hpp"

namespace rsp::m2m::es2 {

using nlohmann::json;

namespace {

using detail::kMaxId;
using detail::put_validity;
using Body = detail::Body<Error>;
unexpected<Error> invalid(std::string_view name, std::string_view what) { return detail::invalid<Error>(name, what); }
unexpected<Error> missing(std::string_view name) { return detail::missing<Error>(name); }
using detail::is_eid;
using detail::is_timestamp;

bool is_iccid_text(std::string_view s) { return is_iccid(s); }

expected<std::string, Error> eid_of(Body& b) { return b.text("eid", true, 32, is_eid, "32 digits"); }
expected<std::string, Error> iccid_of(Body& b) { return b.text("iccid", true, 20, is_iccid_text, "18 to 20 digits"); }

/// functionExecutionStatus with the SM-DP's answer's optional
/// statusCodeData.message (the shared reader, used for the callbacks,
/// takes no message).
json status_json(const std::string& status, const std::string& subject, const std::string& reason,
                 const std::string& message) {
  json s = detail::execution_status_json(status, subject, reason);
  if (!subject.empty() && !message.empty()) s["statusCodeData"]["message"] = message;
  return s;
}
expected<void, Error> answer_status(const json* v, Answer& a) {
  if (!v) return missing("functionExecutionStatus");
  if (!v->is_object()) return invalid("functionExecutionStatus", "an object");
  Body s(*v);
  RSP_TRY(a.status, s.text("status", true, kMaxId));
  if (!parse_status(a.status)) return invalid("functionExecutionStatus.status", "an SGP.02 status name");
  if (const json* codes = s.take("statusCodeData")) {
    if (!codes->is_object()) return invalid("functionExecutionStatus.statusCodeData", "an object");
    Body c(*codes);
    RSP_TRY(a.subject_code, c.text("subjectCode", true, 16));
    RSP_TRY(a.reason_code, c.text("reasonCode", true, 16));
    RSP_TRY(a.message, c.text("message", false, 1024));
    RSP_TRY_VOID(c.done());
  }
  return s.done();
}

expected<std::string, Error> smsr_id_of(Body& b) { return b.text("smsrId", true, kMaxId); }

template <Function F>
expected<Request, Error> on_profile(Body& b) {
  OnProfile<F> r;
  RSP_TRY(r.eid, eid_of(b));
  RSP_TRY(r.iccid, iccid_of(b));
  RSP_TRY(r.smsr_id, smsr_id_of(b));
  RSP_TRY(r.validity, b.validity());
  return Request(std::in_place_index<static_cast<std::size_t>(F)>, std::move(r));
}

expected<std::vector<std::string>, Error> iccid_list(const json& v) {
  const std::string what = "a list of at most " + std::to_string(kMaxIccids) + " ICCIDs";
  if (!v.is_array() || v.size() > kMaxIccids) return invalid("iccidList", what);
  std::vector<std::string> out;
  for (const auto& item : v) {
    if (!item.is_string() || !is_iccid(item.get_ref<const std::string&>())) return invalid("iccidList", what);
    out.push_back(item.get<std::string>());
  }
  return out;
}

expected<Request, Error> decode(Function f, Body& b, const json& j) {
  switch (f) {
    case Function::GetEis: {
      GetEis r;
      RSP_TRY(r.eid, eid_of(b));
      RSP_TRY(r.smsr_id, smsr_id_of(b));
      return Request(std::move(r));
    }
    case Function::DownloadProfile: {
      DownloadProfile r;
      RSP_TRY(r.eid, eid_of(b));
      if (j.contains("iccid")) {
        RSP_TRY(r.iccid, iccid_of(b));
      }
      RSP_TRY(r.profile_type, b.text("profileType", false, kMaxId));
      if (r.iccid.empty() == r.profile_type.empty()) {
        if (r.iccid.empty()) return missing("iccid or profileType");
        return invalid("iccid", "given without profileType");
      }
      RSP_TRY(r.smsr_id, smsr_id_of(b));
      RSP_TRY(r.enable, b.flag("enableProfile"));
      RSP_TRY(r.validity, b.validity());
      return Request(std::move(r));
    }
    case Function::UpdatePolicyRules: {
      UpdatePolicyRules r;
      RSP_TRY(r.eid, eid_of(b));
      RSP_TRY(r.iccid, iccid_of(b));
      RSP_TRY(r.smsr_id, smsr_id_of(b));
      const json* p = b.take("pol2");
      if (!p) return missing("pol2");
      auto rules = pol2_from_json(*p, "pol2");
      if (!rules) return invalid(rules.error().path, rules.error().message);
      r.pol2 = std::move(*rules);
      return Request(std::move(r));
    }
    case Function::UpdateSubscriptionAddress: {
      UpdateSubscriptionAddress r;
      RSP_TRY(r.eid, eid_of(b));
      RSP_TRY(r.iccid, iccid_of(b));
      RSP_TRY(r.smsr_id, smsr_id_of(b));
      const json* a = b.take("subscriptionAddress");
      if (!a) return missing("subscriptionAddress");
      auto address = subscription_address_from_json(*a, "subscriptionAddress");
      if (!address) return invalid(address.error().path, address.error().message);
      r.subscription_address = std::move(*address);
      return Request(std::move(r));
    }
    case Function::AuditEis: {
      AuditEis r;
      RSP_TRY(r.eid, eid_of(b));
      RSP_TRY(r.smsr_id, smsr_id_of(b));
      if (const json* list = b.take("iccidList")) {
        RSP_TRY(r.iccids, iccid_list(*list));
      }
      RSP_TRY(r.validity, b.validity());
      return Request(std::move(r));
    }
    case Function::EnableProfile: return on_profile<Function::EnableProfile>(b);
    case Function::DisableProfile: return on_profile<Function::DisableProfile>(b);
    case Function::DeleteIsdp: return on_profile<Function::DeleteIsdp>(b);
    case Function::UpdateConnectivityParameters: {
      UpdateConnectivityParameters r;
      RSP_TRY(r.eid, eid_of(b));
      RSP_TRY(r.iccid, iccid_of(b));
      RSP_TRY(r.smsr_id, smsr_id_of(b));
      RSP_TRY(r.connectivity_parameters, b.hex("connectivityParameters", 1, es8::kMaxConnectivityParameters));
      if (!es8::check_connectivity_parameters(r.connectivity_parameters))
        return invalid("connectivityParameters", "'A0' SMS, 'A1' CAT_TP and 'A2' HTTP parameters, each at most once");
      RSP_TRY(r.validity, b.validity());
      return Request(std::move(r));
    }
  }
  return unexpected(Error{Error::Kind::Invalid, "no such function"});
}

bool is_notification(std::string_view name) {
  return name == kProfileEnabledNotification || name == kProfileDisabledNotification ||
         name == kProfileDeletedNotification || name == kSmsrChangeNotification;
}

}  // namespace

std::optional<Function> function_named(std::string_view name) {
  for (std::size_t i = 0; i < std::size(kFunctions); ++i)
    if (kFunctions[i].name == name) return static_cast<Function>(i);
  return std::nullopt;
}

bool is_async(Function f) {
  return f == Function::DownloadProfile || f == Function::AuditEis || f == Function::EnableProfile ||
         f == Function::DisableProfile || f == Function::DeleteIsdp || f == Function::UpdateConnectivityParameters;
}

const std::string& eid_in(const Request& r) {
  return std::visit([](const auto& x) -> const std::string& { return x.eid; }, r);
}
const std::string& smsr_in(const Request& r) {
  return std::visit([](const auto& x) -> const std::string& { return x.smsr_id; }, r);
}

std::string encode_request(const Request& request, std::string_view call_id) {
  json j = std::visit(
      [](const auto& r) -> json {
        using T = std::decay_t<decltype(r)>;
        json o{{"eid", r.eid}, {"smsrId", r.smsr_id}};
        if constexpr (std::is_same_v<T, DownloadProfile>) {
          if (!r.iccid.empty()) o["iccid"] = r.iccid;
          if (!r.profile_type.empty()) o["profileType"] = r.profile_type;
          o["enableProfile"] = r.enable;
          put_validity(o, r.validity);
        } else if constexpr (std::is_same_v<T, UpdatePolicyRules>) {
          o["iccid"] = r.iccid;
          o["pol2"] = pol2_to_json(r.pol2);
        } else if constexpr (std::is_same_v<T, UpdateSubscriptionAddress>) {
          o["iccid"] = r.iccid;
          o["subscriptionAddress"] = subscription_address_to_json(r.subscription_address);
        } else if constexpr (std::is_same_v<T, UpdateConnectivityParameters>) {
          o["iccid"] = r.iccid;
          o["connectivityParameters"] = to_hex(r.connectivity_parameters);
          put_validity(o, r.validity);
        } else if constexpr (std::is_same_v<T, AuditEis>) {
          if (!r.iccids.empty()) o["iccidList"] = r.iccids;
          put_validity(o, r.validity);
        } else if constexpr (!std::is_same_v<T, GetEis>) {
          o["iccid"] = r.iccid;
          put_validity(o, r.validity);
        }
        return o;
      },
      request);
  if (!call_id.empty()) j["functionCallIdentifier"] = call_id;
  return j.dump();
}

expected<Request, Error> decode_request(Function f, std::string_view body) {
  return detail::read_request<Error>(body, [f](Body& b, const json& j) { return decode(f, b, j); });
}

std::string encode_answer(const Answer& a) {
  if (a.accepted()) return json{{"operationId", a.operation_id}, {"state", "accepted"}}.dump();
  json j{{"header", {{"functionExecutionStatus", status_json(a.status, a.subject_code, a.reason_code, a.message)}}}};
  if (a.eis) j["eis"] = *a.eis;
  return j.dump();
}

expected<Answer, Error> decode_answer(std::string_view body) {
  RSP_TRY(auto j, detail::object_of<Error>(body));
  Body b(j);
  Answer a;
  if (j.contains("operationId")) {
    RSP_TRY(a.operation_id, b.integer("operationId", 1, std::numeric_limits<std::int64_t>::max()));
    RSP_TRY(auto state, b.text("state", true, kMaxId));
    if (state != "accepted") return invalid("state", "accepted");
    RSP_TRY_VOID(b.done());
    return a;
  }
  const json* header = b.take("header");
  if (!header) return missing("header");
  if (!header->is_object()) return invalid("header", "an object");
  Body h(*header);
  RSP_TRY_VOID(answer_status(h.take("functionExecutionStatus"), a));
  RSP_TRY_VOID(h.done());
  if (const json* eis = b.take("eis")) {
    if (!eis->is_object()) return invalid("eis", "an object");
    a.eis = *eis;
  }
  RSP_TRY_VOID(b.done());
  return a;
}

std::string encode_callback(const Callback& callback) {
  if (const auto* n = std::get_if<Notification>(&callback)) {
    json j{{"functionCallIdentifier", n->call_id}, {"function", n->function}};
    if (n->function == kSmsrChangeNotification) {
      j["eis"] = eis_to_json(n->eis ? *n->eis : Eis{}, Keys::Omit);
    } else {
      j["eid"] = n->eid;
      j["iccid"] = n->iccid;
    }
    j["completionTimestamp"] = n->completion_timestamp;
    return j.dump();
  }
  const auto& r = std::get<Result>(callback);
  json j{{"functionCallIdentifier", r.call_id},
         {"function", function(r.function).name},
         {"operationId", r.operation_id},
         {"eid", r.eid},
         {"functionExecutionStatus", detail::execution_status_json(r.status, r.subject_code, r.reason_code)}};
  if (!r.iccid.empty()) j["iccid"] = r.iccid;
  if (r.eis) j["eis"] = *r.eis;
  return j.dump();
}

expected<Callback, Error> decode_callback(std::string_view body) {
  RSP_TRY(auto j, detail::object_of<Error>(body));
  Body b(j);
  RSP_TRY(auto call_id, b.text("functionCallIdentifier", true, kMaxId));
  RSP_TRY(auto name, b.text("function", true, kMaxId));
  if (is_notification(name)) {
    Notification n;
    n.call_id = std::move(call_id);
    n.function = std::move(name);
    if (n.function == kSmsrChangeNotification) {
      RSP_TRY(n.eis, detail::keyless_eis<Error>(b, "eis"));
      n.eid = n.eis->eid;
    } else {
      RSP_TRY(n.eid, eid_of(b));
      RSP_TRY(n.iccid, iccid_of(b));
    }
    RSP_TRY(n.completion_timestamp, b.text("completionTimestamp", true, 20, is_timestamp, "YYYY-MM-DDThh:mm:ssZ"));
    RSP_TRY_VOID(b.done());
    return Callback(std::move(n));
  }
  auto f = function_named(name);
  if (!f || !is_async(*f)) return invalid("function", "an asynchronous ES2 function or an ES2 notification");
  Result r;
  r.call_id = std::move(call_id);
  r.function = *f;
  RSP_TRY(r.operation_id, b.integer("operationId", 1, std::numeric_limits<std::int64_t>::max()));
  RSP_TRY(r.eid, eid_of(b));
  if (j.contains("iccid")) {
    RSP_TRY(r.iccid, iccid_of(b));
  }
  RSP_TRY_VOID(detail::execution_status(b, r.status, r.subject_code, r.reason_code));
  if (const json* eis = b.take("eis")) {
    if (!eis->is_object()) return invalid("eis", "an object");
    r.eis = *eis;
  }
  RSP_TRY_VOID(b.done());
  return Callback(std::move(r));
}

}  // namespace rsp::m2m::es2
