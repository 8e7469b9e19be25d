#include "rsp/m2m/es3.hpp"

#include <algorithm>
#include <limits>
#include <set>

#include "rsp/m2m/eis_json.hpp"
#include "rsp/m2m/es_status.hpp"
#include "strict_json.hpp"

namespace rsp::m2m::es3 {

using nlohmann::json;

namespace {

using detail::kMaxId;
using detail::put_validity;
using Body = detail::Body<Error>;
unexpected<Error> invalid(std::string_view name, std::string_view what) { return detail::invalid<Error>(name, what); }
using detail::is_eid;

bool is_iccid_text(std::string_view s) { return is_iccid(s); }

expected<std::string, Error> eid_of(Body& b) { return b.text("eid", true, 32, is_eid, "32 digits"); }
expected<std::string, Error> iccid_of(Body& b) { return b.text("iccid", true, 20, is_iccid_text, "18 to 20 digits"); }

template <Function F>
expected<Request, Error> on_profile(Body& b) {
  OnProfile<F> r;
  RSP_TRY(r.eid, eid_of(b));
  RSP_TRY(r.iccid, iccid_of(b));
  RSP_TRY(r.validity, b.validity());
  return Request(std::in_place_index<static_cast<std::size_t>(F)>, std::move(r));
}

/// UpdatePolicyRules, UpdateSubscriptionAddress, UpdateConnectivityParameters.
expected<Request, Error> decode_update(Function f, Body& b) {
  RSP_TRY(auto eid, eid_of(b));
  RSP_TRY(auto iccid, iccid_of(b));
  if (f == Function::UpdatePolicyRules) {
    const json* p = b.take("pol2");
    if (!p) return detail::missing<Error>("pol2");
    auto rules = pol2_from_json(*p, "pol2");
    if (!rules) return invalid(rules.error().path, rules.error().message);
    return Request(UpdatePolicyRules{std::move(eid), std::move(iccid), std::move(*rules)});
  }
  if (f == Function::UpdateSubscriptionAddress) {
    const json* a = b.take("subscriptionAddress");
    if (!a) return detail::missing<Error>("subscriptionAddress");
    auto address = subscription_address_from_json(*a, "subscriptionAddress");
    if (!address) return invalid(address.error().path, address.error().message);
    return Request(UpdateSubscriptionAddress{std::move(eid), std::move(iccid), std::move(*address)});
  }
  UpdateConnectivityParameters r{std::move(eid), std::move(iccid), {}, std::nullopt};
  RSP_TRY(r.connectivity_parameters, b.hex("connectivityParameters", 1, kMaxConnectivityParameters));
  RSP_TRY(r.validity, b.validity());
  return Request(std::move(r));
}

expected<Request, Error> decode(Function f, Body& b) {
  switch (f) {
    case Function::GetEis: {
      GetEis r;
      RSP_TRY(r.eid, eid_of(b));
      return Request(std::move(r));
    }
    case Function::AuditEis: {
      AuditEis r;
      RSP_TRY(r.eid, eid_of(b));
      RSP_TRY(r.validity, b.validity());
      return Request(std::move(r));
    }
    case Function::CreateIsdp: {
      CreateIsdp r;
      RSP_TRY(r.eid, eid_of(b));
      RSP_TRY(r.iccid, iccid_of(b));
      RSP_TRY(r.mno_id, b.text("mnoId", true, kMaxId));
      RSP_TRY(auto memory, b.integer("requiredMemory", 0, std::numeric_limits<std::uint32_t>::max()));
      r.required_memory = static_cast<std::uint32_t>(memory);
      RSP_TRY(r.more_to_do, b.flag("moreToDo"));
      RSP_TRY(r.validity, b.validity());
      return Request(std::move(r));
    }
    case Function::SendData: {
      SendData r;
      RSP_TRY(r.eid, eid_of(b));
      // ISO/IEC 7816-5: an AID is 5 to 16 bytes.
      RSP_TRY(r.sd_aid, b.hex("sdAid", 5, 16));
      RSP_TRY(r.data, b.hex("data", 1, kMaxScript));
      RSP_TRY(r.more_to_do, b.flag("moreToDo"));
      RSP_TRY(r.validity, b.validity());
      return Request(std::move(r));
    }
    case Function::ProfileDownloadCompleted: {
      ProfileDownloadCompleted r;
      RSP_TRY(r.eid, eid_of(b));
      RSP_TRY(r.iccid, iccid_of(b));
      RSP_TRY(r.profile_type, b.text("profileType", false, kMaxId));
      if (const json* a = b.take("subscriptionAddress")) {
        auto address = subscription_address_from_json(*a, "subscriptionAddress");
        if (!address) return invalid(address.error().path, address.error().message);
        r.subscription_address = std::move(*address);
      }
      if (const json* p = b.take("pol2")) {
        auto rules = pol2_from_json(*p, "pol2");
        if (!rules) return invalid(rules.error().path, rules.error().message);
        r.pol2 = std::move(*rules);
      }
      return Request(std::move(r));
    }
    case Function::EnableProfile: return on_profile<Function::EnableProfile>(b);
    case Function::DisableProfile: return on_profile<Function::DisableProfile>(b);
    case Function::DeleteIsdp: return on_profile<Function::DeleteIsdp>(b);
    case Function::UpdatePolicyRules:
    case Function::UpdateSubscriptionAddress:
    case Function::UpdateConnectivityParameters: return decode_update(f, b);
  }
  return unexpected(Error{Error::Kind::Invalid, "no such function"});
}

}  // namespace

std::optional<Function> function_named(std::string_view name) {
  for (std::size_t i = 0; i < std::size(kFunctions); ++i)
    if (kFunctions[i].name == name) return static_cast<Function>(i);
  return std::nullopt;
}

std::string encode_request(const Request& request, std::string_view call_id) {
  json j = std::visit(
      [](const auto& r) -> json {
        using T = std::decay_t<decltype(r)>;
        json o{{"eid", r.eid}};
        if constexpr (std::is_same_v<T, AuditEis>) {
          put_validity(o, r.validity);
        } else if constexpr (std::is_same_v<T, CreateIsdp>) {
          o["iccid"] = r.iccid;
          o["mnoId"] = r.mno_id;
          o["requiredMemory"] = r.required_memory;
          o["moreToDo"] = r.more_to_do;
          put_validity(o, r.validity);
        } else if constexpr (std::is_same_v<T, SendData>) {
          o["sdAid"] = to_hex(r.sd_aid);
          o["data"] = to_hex(r.data);
          o["moreToDo"] = r.more_to_do;
          put_validity(o, r.validity);
        } else if constexpr (std::is_same_v<T, ProfileDownloadCompleted>) {
          o["iccid"] = r.iccid;
          if (!r.profile_type.empty()) o["profileType"] = r.profile_type;
          if (r.subscription_address) o["subscriptionAddress"] = subscription_address_to_json(*r.subscription_address);
          if (!r.pol2.empty()) o["pol2"] = pol2_to_json(r.pol2);
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
  return detail::read_request<Error>(body, [f](Body& b, const json&) { return decode(f, b); });
}

std::string encode_result(const Result& r) {
  json j{{"functionCallIdentifier", r.call_id},
         {"function", function(r.function).name},
         {"operationId", r.operation_id},
         {"eid", r.eid},
         {"functionExecutionStatus", detail::execution_status_json(r.status, r.subject_code, r.reason_code)}};
  if (!r.iccid.empty()) j["iccid"] = r.iccid;
  if (!r.isdp_aid.empty()) j["isdpAid"] = to_hex(r.isdp_aid);
  if (!r.euicc_response_data.empty()) j["euiccResponseData"] = to_hex(r.euicc_response_data);
  if (r.eis) j["eis"] = *r.eis;
  return j.dump();
}

expected<Result, Error> decode_result(std::string_view body) {
  const json j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return unexpected(Error{Error::Kind::Invalid, "the body is not a JSON object"});
  Body b(j);
  Result r;
  RSP_TRY(r.call_id, b.text("functionCallIdentifier", true, kMaxId));
  RSP_TRY(auto name, b.text("function", true, kMaxId));
  auto f = function_named(name);
  if (!f) return invalid("function", "an ES3 function");
  r.function = *f;
  RSP_TRY(r.operation_id, b.integer("operationId", 1, std::numeric_limits<std::int64_t>::max()));
  RSP_TRY(r.eid, eid_of(b));
  if (j.contains("iccid")) {
    RSP_TRY(r.iccid, iccid_of(b));
  }
  RSP_TRY_VOID(detail::execution_status(b, r.status, r.subject_code, r.reason_code));
  if (j.contains("isdpAid")) {
    RSP_TRY(r.isdp_aid, b.hex("isdpAid", 5, 16));
  }
  if (j.contains("euiccResponseData")) {
    RSP_TRY(r.euicc_response_data, b.hex("euiccResponseData", 1, kMaxScript));
  }
  if (const json* eis = b.take("eis")) {
    if (!eis->is_object()) return invalid("eis", "an object");
    r.eis = *eis;
  }
  RSP_TRY_VOID(b.done());
  return r;
}

}  // namespace rsp::m2m::es3

namespace rsp::m2m::es3 {

std::optional<Es4Function> es4_counterpart(Function f) {
  switch (f) {
    case Function::AuditEis: return Es4Function::AuditEis;
    case Function::EnableProfile: return Es4Function::EnableProfile;
    case Function::DisableProfile: return Es4Function::DisableProfile;
    case Function::DeleteIsdp: return Es4Function::DeleteProfile;
    default: return std::nullopt;
  }
}

bool acts_as(std::string_view name, Es4Function f) {
  if (name == es4_function(f).name) return true;
  const auto es3 = function_named(name);
  return es3 && es4_counterpart(*es3) == f;
}

}  // namespace rsp::m2m::es3

namespace rsp::m2m::es3 {

std::optional<NotificationFunction> notification_named(std::string_view name) {
  for (std::size_t i = 0; i < std::size(kNotificationNames); ++i)
    if (kNotificationNames[i] == name) return static_cast<NotificationFunction>(i);
  return std::nullopt;
}

std::string encode_notification(const Notification& n) {
  json j{{"functionCallIdentifier", n.call_id}, {"function", notification_name(n.function)}};
  if (n.function == NotificationFunction::SmsrChange) {
    j["eis"] = eis_to_json(n.eis ? *n.eis : Eis{}, Keys::Omit);
  } else {
    j["eid"] = n.eid;
    j["iccid"] = n.iccid;
  }
  j["completionTimestamp"] = n.completion_timestamp;
  return j.dump();
}

namespace {

expected<Notification, Error> notification_from(const json& j) {
  detail::Body<Error> b(j);
  Notification n;
  RSP_TRY(n.call_id, b.text("functionCallIdentifier", true, detail::kMaxId));
  RSP_TRY(auto name, b.text("function", true, detail::kMaxId));
  const auto f = notification_named(name);
  if (!f) return detail::invalid<Error>("function", "an ES3 notification");
  n.function = *f;
  if (n.function == NotificationFunction::SmsrChange) {
    RSP_TRY(n.eis, detail::keyless_eis<Error>(b, "eis"));
    n.eid = n.eis->eid;
  } else {
    RSP_TRY(n.eid, b.text("eid", true, 32, detail::is_eid, "32 digits"));
    RSP_TRY(n.iccid, b.text("iccid", true, 20, is_iccid_text, "18 to 20 digits"));
  }
  RSP_TRY(n.completion_timestamp,
          b.text("completionTimestamp", true, 20, detail::is_timestamp, "YYYY-MM-DDThh:mm:ssZ"));
  RSP_TRY_VOID(b.done());
  return n;
}

}  // namespace

expected<Notification, Error> decode_notification(std::string_view body) {
  RSP_TRY(const json j, detail::object_of<Error>(body));
  return notification_from(j);
}

expected<Callback, Error> decode_callback(std::string_view body) {
  RSP_TRY(const json j, detail::object_of<Error>(body));
  const auto f = j.find("function");
  if (f != j.end() && f->is_string() && notification_named(f->get_ref<const std::string&>())) {
    RSP_TRY(auto n, notification_from(j));
    return Callback(std::move(n));
  }
  RSP_TRY(auto r, decode_result(body));
  return Callback(std::move(r));
}

}  // namespace rsp::m2m::es3
