#pragma once
// Strict reading of a JSON object from the network, shared by the ES2 and
// ES3 bindings (es2.cpp, es3.cpp): each member taken once, unknown members
// refused; errors name the member, never quote its value. Private to rsp_m2m.

#include <algorithm>
#include <limits>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "rsp/common/bytes.hpp"
#include "rsp/common/expected.hpp"
#include "rsp/m2m/eis.hpp"
#include "rsp/m2m/eis_json.hpp"
#include "rsp/m2m/es3.hpp"
#include "rsp/m2m/es_status.hpp"

namespace rsp::m2m::detail {

using nlohmann::json;
using es3::Error;


inline constexpr std::size_t kMaxId = 256;  ///< functionCallIdentifier, mnoId, profileType
inline constexpr std::int64_t kMaxValidity = std::int64_t{1} << 40;

inline unexpected<Error> missing(std::string_view name) {
  return unexpected(Error{Error::Kind::Missing, std::string(name) + " is missing"});
}
inline unexpected<Error> invalid(std::string_view name, std::string_view what) {
  return unexpected(Error{Error::Kind::Invalid, std::string(name) + " must be " + std::string(what)});
}

inline bool digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

/// One request object: members taken once each, the rest refused.
class Body {
 public:
  explicit Body(const json& j) : j_(j) {}
  const json* take(std::string_view name) {
    auto it = j_.find(name);
    if (it == j_.end()) return nullptr;
    taken_.insert(std::string(name));
    return &*it;
  }
  expected<std::string, Error> text(std::string_view name, bool mandatory, std::size_t max,
                                    bool (*valid)(std::string_view) = nullptr, std::string_view what = {}) {
    const json* v = take(name);
    if (!v) {
      if (mandatory) return missing(name);
      return std::string();
    }
    if (!v->is_string()) return invalid(name, "a string");
    const auto& s = v->get_ref<const std::string&>();
    if (s.empty() || s.size() > max) return invalid(name, "1 to " + std::to_string(max) + " characters");
    if (valid && !valid(s)) return invalid(name, what);
    return s;
  }
  expected<Bytes, Error> hex(std::string_view name, std::size_t min, std::size_t max) {
    const json* v = take(name);
    if (!v) return missing(name);
    const std::string what = "hex of " + std::to_string(min) + " to " + std::to_string(max) + " bytes";
    if (!v->is_string() || v->get_ref<const std::string&>().size() > 2 * max) return invalid(name, what);
    auto b = from_hex(v->get_ref<const std::string&>());
    if (!b || b->size() < min || b->size() > max) return invalid(name, what);
    return std::move(*b);
  }
  expected<bool, Error> flag(std::string_view name) {
    const json* v = take(name);
    if (!v) return false;
    if (!v->is_boolean()) return invalid(name, "true or false");
    return v->get<bool>();
  }
  expected<std::int64_t, Error> integer(std::string_view name, std::int64_t min, std::int64_t max) {
    const json* v = take(name);
    if (!v) return missing(name);
    const std::string what = "an integer from " + std::to_string(min) + " to " + std::to_string(max);
    if (!v->is_number_integer()) return invalid(name, what);
    if (v->is_number_unsigned() && v->get<std::uint64_t>() > static_cast<std::uint64_t>(max))
      return invalid(name, what);
    const auto n = v->get<std::int64_t>();
    if (n < min || n > max) return invalid(name, what);
    return n;
  }
  expected<std::optional<std::int64_t>, Error> validity() {
    if (!j_.contains("validityPeriod")) return std::optional<std::int64_t>();
    RSP_TRY(auto n, integer("validityPeriod", 1, kMaxValidity));
    return std::optional<std::int64_t>(n);
  }
  expected<void, Error> done() const {
    for (const auto& item : j_.items())
      if (!taken_.contains(item.key())) return unexpected(Error{Error::Kind::Invalid, "unknown member " + item.key()});
    return {};
  }

 private:
  const json& j_;
  std::set<std::string, std::less<>> taken_;
};

inline bool is_eid(std::string_view s) { return s.size() == 32 && digits(s); }
inline bool is_iccid_text(std::string_view s) { return is_iccid(s); }

inline expected<std::string, Error> eid_of(Body& b) { return b.text("eid", true, 32, is_eid, "32 digits"); }
inline expected<std::string, Error> iccid_of(Body& b) { return b.text("iccid", true, 20, is_iccid_text, "18 to 20 digits"); }

/// functionExecutionStatus (SGP.02 §5.1.6): {"status", "statusCodeData"?:
/// {"subjectCode", "reasonCode", "message"?}}; `status` is checked to be an
/// SGP.02 status name (es_status.hpp).
struct ExecutionStatusFields {
  std::string status, subject_code, reason_code, message;
};
inline expected<ExecutionStatusFields, Error> execution_status(const json* status, bool allow_message) {
  if (!status) return missing("functionExecutionStatus");
  if (!status->is_object()) return invalid("functionExecutionStatus", "an object");
  ExecutionStatusFields out;
  Body s(*status);
  RSP_TRY(out.status, s.text("status", true, kMaxId));
  if (!parse_status(out.status)) return invalid("functionExecutionStatus.status", "an SGP.02 status name");
  if (const json* codes = s.take("statusCodeData")) {
    if (!codes->is_object()) return invalid("functionExecutionStatus.statusCodeData", "an object");
    Body c(*codes);
    RSP_TRY(out.subject_code, c.text("subjectCode", true, 16));
    RSP_TRY(out.reason_code, c.text("reasonCode", true, 16));
    if (allow_message) {
      RSP_TRY(out.message, c.text("message", false, 1024));
    }
    RSP_TRY_VOID(c.done());
  }
  RSP_TRY_VOID(s.done());
  return out;
}
inline json execution_status_json(std::string_view status, std::string_view subject, std::string_view reason,
                                  std::string_view message = {}) {
  json s{{"status", status}};
  if (!subject.empty()) {
    s["statusCodeData"] = {{"subjectCode", subject}, {"reasonCode", reason}};
    if (!message.empty()) s["statusCodeData"]["message"] = message;
  }
  return s;
}

}  // namespace rsp::m2m::detail
