#pragma once
// The strict JSON reading the M2M bindings share (ES3 es3.cpp, ES7 es7.cpp):
// each member taken once, unknown members refused, errors naming the member
// and never quoting its value (a value may be a key). Private to lib/m2m.
// `Error` is the binding's error type (Kind::Missing / Kind::Invalid, message).

#include <algorithm>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>

#include "rsp/common/bytes.hpp"
#include "rsp/common/expected.hpp"
#include "rsp/m2m/eis.hpp"
#include "rsp/m2m/eis_json.hpp"
#include "rsp/m2m/es_status.hpp"

namespace rsp::m2m::detail {

using nlohmann::json;

/// functionCallIdentifier, mnoId, profileType, SM-SR identifiers.
inline constexpr std::size_t kMaxId = 256;
/// The longest validityPeriod accepted (seconds).
inline constexpr std::int64_t kMaxValidity = std::int64_t{1} << 40;

inline bool digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}
inline bool is_eid(std::string_view s) { return s.size() == 32 && digits(s); }
/// "YYYY-MM-DDTHH:MM:SSZ" with digits where digits go (a notification's
/// completionTimestamp).
inline bool is_timestamp(std::string_view s) {
  static constexpr std::string_view kShape = "dddd-dd-ddTdd:dd:ddZ";
  if (s.size() != kShape.size()) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (kShape[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != kShape[i]) return false;
  }
  return true;
}

template <class Error>
unexpected<Error> missing(std::string_view name) {
  return unexpected(Error{Error::Kind::Missing, std::string(name) + " is missing"});
}
template <class Error>
unexpected<Error> invalid(std::string_view name, std::string_view what) {
  return unexpected(Error{Error::Kind::Invalid, std::string(name) + " must be " + std::string(what)});
}

/// One request object: members taken once each, the rest refused.
template <class Error>
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
      if (mandatory) return missing<Error>(name);
      return std::string();
    }
    if (!v->is_string()) return invalid<Error>(name, "a string");
    const auto& s = v->get_ref<const std::string&>();
    if (s.empty() || s.size() > max) return invalid<Error>(name, "1 to " + std::to_string(max) + " characters");
    if (valid && !valid(s)) return invalid<Error>(name, what);
    return s;
  }
  expected<Bytes, Error> hex(std::string_view name, std::size_t min, std::size_t max) {
    const json* v = take(name);
    if (!v) return missing<Error>(name);
    const std::string what = "hex of " + std::to_string(min) + " to " + std::to_string(max) + " bytes";
    if (!v->is_string() || v->get_ref<const std::string&>().size() > 2 * max) return invalid<Error>(name, what);
    auto b = from_hex(v->get_ref<const std::string&>());
    if (!b || b->size() < min || b->size() > max) return invalid<Error>(name, what);
    return std::move(*b);
  }
  /// An optional hex member: nullopt when absent, else as hex().
  expected<std::optional<Bytes>, Error> hex_opt(std::string_view name, std::size_t min, std::size_t max) {
    if (j_.find(std::string(name)) == j_.end()) return std::optional<Bytes>();
    auto b = hex(name, min, max);
    if (!b) return unexpected(b.error());
    return std::optional<Bytes>(std::move(*b));
  }
  expected<bool, Error> flag(std::string_view name) {
    const json* v = take(name);
    if (!v) return false;
    if (!v->is_boolean()) return invalid<Error>(name, "true or false");
    return v->get<bool>();
  }
  expected<std::int64_t, Error> integer(std::string_view name, std::int64_t min, std::int64_t max) {
    const json* v = take(name);
    if (!v) return missing<Error>(name);
    const std::string what = "an integer from " + std::to_string(min) + " to " + std::to_string(max);
    if (!v->is_number_integer()) return invalid<Error>(name, what);
    if (v->is_number_unsigned() && v->get<std::uint64_t>() > static_cast<std::uint64_t>(max))
      return invalid<Error>(name, what);
    const auto n = v->get<std::int64_t>();
    if (n < min || n > max) return invalid<Error>(name, what);
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

/// SGP.02 §5.1.6.1 FunctionExecutionStatus as this binding writes it:
/// {"status", "statusCodeData": {"subjectCode", "reasonCode"}} (the codes
/// only when there are some).
inline json execution_status_json(const std::string& status, const std::string& subject, const std::string& reason) {
  json s{{"status", status}};
  if (!subject.empty()) s["statusCodeData"] = {{"subjectCode", subject}, {"reasonCode", reason}};
  return s;
}

/// Takes the mandatory "functionExecutionStatus" member of `b`, strictly.
template <class Error>
expected<void, Error> execution_status(Body<Error>& b, std::string& status, std::string& subject,
                                       std::string& reason) {
  const json* v = b.take("functionExecutionStatus");
  if (!v) return missing<Error>("functionExecutionStatus");
  if (!v->is_object()) return invalid<Error>("functionExecutionStatus", "an object");
  Body<Error> s(*v);
  RSP_TRY(status, s.text("status", true, kMaxId));
  if (!parse_status(status)) return invalid<Error>("functionExecutionStatus.status", "an SGP.02 status name");
  if (const json* codes = s.take("statusCodeData")) {
    if (!codes->is_object()) return invalid<Error>("functionExecutionStatus.statusCodeData", "an object");
    Body<Error> c(*codes);
    RSP_TRY(subject, c.text("subjectCode", true, 16));
    RSP_TRY(reason, c.text("reasonCode", true, 16));
    RSP_TRY_VOID(c.done());
  }
  return s.done();
}

/// The request or answer body as a JSON object, or why it is not one.
template <class Error>
expected<json, Error> object_of(std::string_view body) {
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded()) return unexpected(Error{Error::Kind::Invalid, "the body is not JSON"});
  if (!j.is_object()) return unexpected(Error{Error::Kind::Invalid, "the body must be a JSON object"});
  return j;
}

/// A request body read strictly: a JSON object, its optional
/// functionCallIdentifier (ignored here: the binding's caller keeps it), then
/// what `read(body, object)` takes for the function, and nothing left over.
template <class Error, class Read>
auto read_request(std::string_view text, Read&& read)
    -> decltype(read(std::declval<Body<Error>&>(), std::declval<const json&>())) {
  RSP_TRY(const json j, object_of<Error>(text));
  Body<Error> b(j);
  RSP_TRY_VOID(b.text("functionCallIdentifier", false, kMaxId));
  RSP_TRY(auto r, read(b, j));
  RSP_TRY_VOID(b.done());
  return r;
}

/// The mandatory EIS member `name` of `b` (eis_json.hpp, strictly) as a
/// notification carries it to an SM-DP or MNO: keys there are refused, the
/// sender must have left them out (SGP.02: an EIS shown to an SM-DP or MNO
/// never carries the ISD-R's keys).
template <class Error>
expected<Eis, Error> keyless_eis(Body<Error>& b, std::string_view name) {
  const json* v = b.take(name);
  if (!v) return missing<Error>(name);
  auto eis = eis_from_json(*v);
  if (!eis) {
    const std::string at = eis.error().path.empty() ? std::string(name) : std::string(name) + "." + eis.error().path;
    return unexpected(Error{Error::Kind::Invalid, at + ": " + eis.error().message});
  }
  if (!eis->isd_r.scp80_key_sets.empty() || eis->isd_r.scp81_psk)
    return invalid<Error>(std::string(name) + ".isdR", "an EIS without the ISD-R's keys");
  return std::move(*eis);
}

/// validityPeriod, written only when there is one.
inline void put_validity(json& j, const std::optional<std::int64_t>& v) {
  if (v) j["validityPeriod"] = *v;
}

}  // namespace rsp::m2m::detail
