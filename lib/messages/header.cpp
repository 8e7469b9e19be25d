#include "rsp/messages/header.hpp"

#include <algorithm>
#include <utility>

#include "rsp/common/ascii.hpp"

namespace rsp::messages {
namespace {

using nlohmann::json;

unexpected<MessageError> fail(ErrorKind kind, std::string field, std::string detail) {
  return unexpected(make_error(kind, std::move(field), std::move(detail)));
}

/// Deepest nesting of arrays/objects, counted outside strings (so the parser
/// never recurses deeper than we allow).
std::size_t nesting_depth(std::string_view text) {
  std::size_t depth = 0, worst = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '{' || c == '[') worst = std::max(worst, ++depth);
    else if ((c == '}' || c == ']') && depth > 0) --depth;
  }
  return worst;
}

}  // namespace

std::string_view to_string(ExecutionStatus s) {
  switch (s) {
    case ExecutionStatus::ExecutedSuccess: return "Executed-Success";
    case ExecutionStatus::ExecutedWithWarning: return "Executed-WithWarning";
    case ExecutionStatus::Failed: return "Failed";
    case ExecutionStatus::Expired: return "Expired";
  }
  return "Failed";
}

std::optional<ExecutionStatus> execution_status_from_string(std::string_view s) {
  for (auto v : {ExecutionStatus::ExecutedSuccess, ExecutionStatus::ExecutedWithWarning,
                 ExecutionStatus::Failed, ExecutionStatus::Expired}) {
    if (to_string(v) == s) return v;
  }
  return std::nullopt;
}

ResponseHeader ResponseHeader::success() { return ResponseHeader{}; }

ResponseHeader ResponseHeader::failed(std::string subject_code, std::string reason_code,
                                      std::optional<std::string> message) {
  ResponseHeader h;
  h.function_execution_status.status = ExecutionStatus::Failed;
  h.function_execution_status.status_code_data =
      StatusCodeData{std::move(subject_code), std::move(reason_code), std::nullopt, std::move(message)};
  return h;
}

json to_json(const RequestHeader& h) {
  return json{{"functionRequesterIdentifier", h.function_requester_identifier},
              {"functionCallIdentifier", h.function_call_identifier}};
}

json to_json(const StatusCodeData& d) {
  json j{{"subjectCode", d.subject_code}, {"reasonCode", d.reason_code}};
  if (d.subject_identifier) j["subjectIdentifier"] = *d.subject_identifier;
  if (d.message) j["message"] = *d.message;
  return j;
}

json to_json(const ResponseHeader& h) {
  json status{{"status", std::string(to_string(h.function_execution_status.status))}};
  if (h.function_execution_status.status_code_data) {
    status["statusCodeData"] = to_json(*h.function_execution_status.status_code_data);
  }
  return json{{"functionExecutionStatus", std::move(status)}};
}

Result<RequestHeader> parse_request_header(const json& j) {
  if (!j.is_object()) return fail(ErrorKind::WrongType, "header", "not an object");
  ObjectReader r(j, "header");
  RequestHeader h;
  RSP_TRY(h.function_requester_identifier, r.string("functionRequesterIdentifier"));
  RSP_TRY(h.function_call_identifier, r.string("functionCallIdentifier"));
  RSP_TRY_VOID(r.finish());
  return h;
}

Result<StatusCodeData> parse_status_code_data(const json& j) {
  const char* where = "header.functionExecutionStatus.statusCodeData";
  if (!j.is_object()) return fail(ErrorKind::WrongType, where, "not an object");
  ObjectReader r(j, where);
  StatusCodeData d;
  RSP_TRY(d.subject_code, r.string("subjectCode"));
  RSP_TRY(d.reason_code, r.string("reasonCode"));
  RSP_TRY(d.subject_identifier, r.optional_string("subjectIdentifier"));
  RSP_TRY(d.message, r.optional_string("message"));
  RSP_TRY_VOID(r.finish());
  return d;
}

Result<ResponseHeader> parse_response_header(const json& j) {
  if (!j.is_object()) return fail(ErrorKind::WrongType, "header", "not an object");
  ObjectReader r(j, "header");
  RSP_TRY(const json* fes, r.object("functionExecutionStatus"));
  RSP_TRY_VOID(r.finish());
  ObjectReader s(*fes, "header.functionExecutionStatus");
  RSP_TRY(std::string status, s.string("status"));
  RSP_TRY(const json* scd, s.optional_object("statusCodeData"));
  RSP_TRY_VOID(s.finish());
  ResponseHeader h;
  auto st = execution_status_from_string(status);
  if (!st) return fail(ErrorKind::BadValue, "header.functionExecutionStatus.status", "unknown status");
  h.function_execution_status.status = *st;
  if (scd) {
    RSP_TRY(auto d, parse_status_code_data(*scd));
    h.function_execution_status.status_code_data = std::move(d);
  } else if (*st == ExecutionStatus::Failed || *st == ExecutionStatus::Expired) {
    return fail(ErrorKind::MissingField, "header.functionExecutionStatus.statusCodeData",
                "required when the function failed");
  }
  return h;
}

Result<json> parse_json(std::string_view text, std::size_t max_depth) {
  if (nesting_depth(text) > max_depth) return fail(ErrorKind::MalformedJson, "", "nested too deeply");
  json j = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return fail(ErrorKind::MalformedJson, "", "not valid JSON");
  return j;
}

Result<json> parse_json_object(std::string_view text, std::size_t max_depth) {
  RSP_TRY(json j, parse_json(text, max_depth));
  if (!j.is_object()) return fail(ErrorKind::MalformedJson, "", "not a JSON object");
  return j;
}

std::string dump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

ObjectReader::ObjectReader(const json& object, std::string where)
    : object_(object), where_(std::move(where)) {}

std::string ObjectReader::path(std::string_view name) const {
  return where_.empty() ? std::string(name) : where_ + "." + std::string(name);
}

const json* ObjectReader::find(std::string_view name) {
  if (!object_.is_object()) return nullptr;
  auto it = object_.find(std::string(name));
  if (it == object_.end()) return nullptr;
  taken_.emplace_back(name);
  return &*it;
}

Result<std::string> ObjectReader::string(std::string_view name) {
  const json* v = find(name);
  if (!v) return fail(ErrorKind::MissingField, path(name), "missing");
  if (!v->is_string()) return fail(ErrorKind::WrongType, path(name), "not a string");
  return v->get_ref<const std::string&>();
}

Result<std::optional<std::string>> ObjectReader::optional_string(std::string_view name) {
  const json* v = find(name);
  if (!v) return std::optional<std::string>{};
  if (!v->is_string()) return fail(ErrorKind::WrongType, path(name), "not a string");
  return std::optional<std::string>(v->get_ref<const std::string&>());
}

Result<const json*> ObjectReader::object(std::string_view name) {
  const json* v = find(name);
  if (!v) return fail(ErrorKind::MissingField, path(name), "missing");
  if (!v->is_object()) return fail(ErrorKind::WrongType, path(name), "not an object");
  return v;
}

Result<const json*> ObjectReader::optional_object(std::string_view name) {
  const json* v = find(name);
  if (!v) return static_cast<const json*>(nullptr);
  if (!v->is_object()) return fail(ErrorKind::WrongType, path(name), "not an object");
  return v;
}

Result<void> ObjectReader::finish() const {
  if (!object_.is_object()) return fail(ErrorKind::WrongType, where_, "not an object");
  for (auto it = object_.begin(); it != object_.end(); ++it) {
    if (std::find(taken_.begin(), taken_.end(), it.key()) == taken_.end()) {
      // The name comes from the peer: keep errors short.
      return fail(ErrorKind::UnknownField, path(it.key().substr(0, 64)), "not defined for this message");
    }
  }
  return {};
}

namespace {

bool digits(std::string_view v) {
  if (v.empty() || v.size() > 4) return false;
  for (char c : v)
    if (c < '0' || c > '9') return false;
  return true;
}

}  // namespace

bool is_json_content_type(std::string_view value) {
  const auto semicolon = value.find(';');
  if (!iequals(trim_ows(value.substr(0, semicolon)), "application/json")) return false;
  if (semicolon == std::string_view::npos) return true;
  const std::string_view param = trim_ows(value.substr(semicolon + 1));
  const auto eq = param.find('=');
  if (eq == std::string_view::npos || !iequals(trim_ows(param.substr(0, eq)), "charset")) return false;
  std::string_view charset = trim_ows(param.substr(eq + 1));
  if (charset.size() >= 2 && charset.front() == '"' && charset.back() == '"') charset = charset.substr(1, charset.size() - 2);
  return iequals(charset, "utf-8");
}

bool is_supported_admin_protocol(std::string_view value) {
  value = trim_ows(value);
  constexpr std::string_view kPrefix = "gsma/rsp/v2.";
  if (value.substr(0, kPrefix.size()) != kPrefix) return false;
  const std::string_view version = value.substr(kPrefix.size());
  const auto dot = version.find('.');
  return dot != std::string_view::npos && digits(version.substr(0, dot)) && digits(version.substr(dot + 1));
}

std::string_view reason_text(std::string_view reason_code) {
  // SGP.22 v2.2.2 §5.2.6.2, the reasons our servers answer with.
  static constexpr std::pair<std::string_view, std::string_view> kReasons[] = {
      {"1.1", "Not Allowed (Authorisation)"},
      {"1.2", "Not Allowed (Authorisation)"},
      {"2.1", "Invalid"},
      {"2.2", "Mandatory Element Missing"},
      {"2.3", "Conditional Element Missing"},
      {"3.1", "Unsupported"},
      {"3.3", "Already in Use"},
      {"3.5", "Invalid Transition"},
      {"3.7", "Unavailable"},
      {"3.8", "Refused"},
      {"3.9", "Unknown"},
      {"3.10", "Invalid Association"},
      {"4.2", "Execution Error"},
      {"4.10", "Time to Live Expired"},
      {"6.1", "Verification Failed"},
      {"6.3", "Expired"},
      {"6.4", "Maximum number of retries exceeded"},
  };
  for (const auto& [code, text] : kReasons)
    if (code == reason_code) return text;
  return "Failed";
}

}  // namespace rsp::messages
