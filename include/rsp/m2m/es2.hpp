#pragma once
/// ES2 (MNO -> SM-DP, SGP.02 v4.x §5.3 as we read it) in this project's JSON
/// binding, the one both ends read: the SM-DP decodes the requests and
/// encodes its answers and the callbacks to the MNO; an MNO (and our tests)
/// encodes the requests and decodes the rest. The style is ES3's
/// (rsp/m2m/es3.hpp) and ES4's (docs/smsr-openapi.yaml).
///
/// Members are camelCase of SGP.02's element names: "eid", "iccid",
/// "profileType", "smsrId" (SMSR-ID), "enableProfile", "pol2",
/// "subscriptionAddress", "iccidList" (AuditEIS's optional list),
/// "connectivityParameters" (UpdateConnectivityParameters, hex); every
/// request may carry "functionCallIdentifier" and, for a function the eUICC
/// executes, "validityPeriod" (seconds).
///
/// DownloadProfile names the profile by exactly one of "iccid" and
/// "profileType" (§5.3: the SM-DP picks a profile of that type).
///
/// Not yet checked against the SGP.02 text (no copy was reachable here): the
/// clause numbers of §5.3, the exact element names and the names of the
/// Handle...Notification functions; they follow the function names SGP.02
/// lists for ES2 and are this binding's.
///
/// Decoding is strict (input from the network): unknown members, wrong
/// types, values out of range are errors naming the member, never its value.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "rsp/common/expected.hpp"
#include "rsp/m2m/eis.hpp"
#include "rsp/m2m/es3.hpp"
#include "rsp/m2m/es_functions.hpp"

namespace rsp::m2m::es2 {

enum class Function {
  GetEis,
  DownloadProfile,
  UpdatePolicyRules,
  UpdateSubscriptionAddress,
  AuditEis,
  EnableProfile,
  DisableProfile,
  DeleteIsdp,
  UpdateConnectivityParameters,
};

/// In the order of Function.
inline constexpr FunctionPath kFunctions[] = {
    {"/gsma/m2m/es2/getEIS", "ES2.GetEIS"},
    {"/gsma/m2m/es2/downloadProfile", "ES2.DownloadProfile"},
    {"/gsma/m2m/es2/updatePolicyRules", "ES2.UpdatePolicyRules"},
    {"/gsma/m2m/es2/updateSubscriptionAddress", "ES2.UpdateSubscriptionAddress"},
    {"/gsma/m2m/es2/auditEIS", "ES2.AuditEIS"},
    {"/gsma/m2m/es2/enableProfile", "ES2.EnableProfile"},
    {"/gsma/m2m/es2/disableProfile", "ES2.DisableProfile"},
    {"/gsma/m2m/es2/deleteISDP", "ES2.DeleteISDP"},
    {"/gsma/m2m/es2/updateConnectivityParameters", "ES2.UpdateConnectivityParameters"},
};
inline constexpr const FunctionPath& function(Function f) { return kFunctions[static_cast<int>(f)]; }
/// The function named `name` ("ES2.DownloadProfile"), if any.
std::optional<Function> function_named(std::string_view name);
/// True for the functions answered at once with an operation id, their
/// result following as a callback (the eUICC executes them).
bool is_async(Function f);

/// The MNO's callbacks for what changed without its asking (§5.3, the
/// ES2 Handle...Notification functions as we read them).
inline constexpr std::string_view kProfileEnabledNotification = "ES2.HandleProfileEnabledNotification";
inline constexpr std::string_view kProfileDisabledNotification = "ES2.HandleProfileDisabledNotification";
inline constexpr std::string_view kProfileDeletedNotification = "ES2.HandleProfileDeletedNotification";
/// The eUICC moved to another SM-SR: the SM-DP passes on the SM-SR's
/// ES3.HandleSMSRChangeNotification to the MNOs whose profiles it downloaded
/// there (name as SGP.02 lists the ES2 functions, as we read it; not yet
/// checked against the SGP.02 text). It carries the EIS as that MNO may see
/// it (its own profiles, no key) and the completion time, as bagyenda/njiwa's
/// ES2 HandleSMSRChangeNotification (Eis, CompletionTimeStamp).
inline constexpr std::string_view kSmsrChangeNotification = "ES2.HandleSMSRChangeNotification";

using Error = es3::Error;

/// ES2.GetEIS: the EIS as the SM-SR `smsr_id` lets this MNO see it.
struct GetEis {
  std::string eid;
  std::string smsr_id;
  bool operator==(const GetEis&) const = default;
};
/// ES2.DownloadProfile: one of the MNO's profiles (by ICCID, or any of
/// `profile_type`) onto `eid` through the SM-SR `smsr_id`; enabled after
/// when `enable`.
struct DownloadProfile {
  std::string eid;
  std::string iccid;         ///< exactly one of iccid and profile_type
  std::string profile_type;
  std::string smsr_id;
  bool enable = false;
  std::optional<std::int64_t> validity;
  bool operator==(const DownloadProfile&) const = default;
};
struct UpdatePolicyRules {
  std::string eid;
  std::string iccid;
  std::string smsr_id;
  std::vector<PolicyRule> pol2;
  bool operator==(const UpdatePolicyRules&) const = default;
};
struct UpdateSubscriptionAddress {
  std::string eid;
  std::string iccid;
  std::string smsr_id;
  SubscriptionAddress subscription_address;
  bool operator==(const UpdateSubscriptionAddress&) const = default;
};
/// ES2.AuditEIS: the eUICC read again; `iccids`, when not empty, limits
/// the answer to those profiles.
struct AuditEis {
  std::string eid;
  std::string smsr_id;
  std::vector<std::string> iccids;
  std::optional<std::int64_t> validity;
  bool operator==(const AuditEis&) const = default;
};
template <Function F>
struct OnProfile {
  std::string eid;
  std::string iccid;
  std::string smsr_id;
  std::optional<std::int64_t> validity;
  bool operator==(const OnProfile&) const = default;
};
using EnableProfile = OnProfile<Function::EnableProfile>;
using DisableProfile = OnProfile<Function::DisableProfile>;
using DeleteIsdp = OnProfile<Function::DeleteIsdp>;
/// ES2.UpdateConnectivityParameters (SGP.02 §3.14 "Connectivity Parameters
/// Update using SCP03"; its §5.3 clause not yet checked): new connectivity
/// parameters ("connectivityParameters", hex: the 'A0' SMS, 'A1' CAT_TP,
/// 'A2' HTTP TLVs of m2m/es8_connectivity.hpp) for a profile the SM-DP
/// downloaded; asynchronous (the ISD-P executes them).
struct UpdateConnectivityParameters {
  std::string eid;
  std::string iccid;
  std::string smsr_id;
  Bytes connectivity_parameters;
  std::optional<std::int64_t> validity;
  bool operator==(const UpdateConnectivityParameters&) const = default;
};

/// In the order of Function.
using Request = std::variant<GetEis, DownloadProfile, UpdatePolicyRules, UpdateSubscriptionAddress, AuditEis,
                             EnableProfile, DisableProfile, DeleteIsdp, UpdateConnectivityParameters>;
inline Function function_of(const Request& r) { return static_cast<Function>(r.index()); }
/// The EID every request names.
const std::string& eid_in(const Request& r);
/// The SM-SR every request names.
const std::string& smsr_in(const Request& r);

/// Largest AuditEIS iccidList.
inline constexpr std::size_t kMaxIccids = 256;

/// The JSON body of `request`, with `call_id` as functionCallIdentifier when not empty.
std::string encode_request(const Request& request, std::string_view call_id = {});
/// Strict decoding of a request body of function `f`.
expected<Request, Error> decode_request(Function f, std::string_view body);

/// The SM-DP's immediate answer. Either the function's outcome
/// ({"header": {"functionExecutionStatus": ...}}, "eis" for GetEIS), or,
/// for an accepted asynchronous function, {"operationId", "state": "accepted"}
/// (HTTP 202), its outcome coming later as a Result callback.
struct Answer {
  std::string status;  ///< §5.1.6.1 status name; empty when accepted
  std::string subject_code, reason_code, message;
  std::int64_t operation_id = 0;  ///< > 0: accepted
  std::optional<nlohmann::json> eis;
  bool accepted() const { return operation_id > 0; }
  bool operator==(const Answer&) const = default;
};
std::string encode_answer(const Answer& answer);
expected<Answer, Error> decode_answer(std::string_view body);

/// The callback to the MNO once an accepted ES2 function ended:
///   {"functionCallIdentifier", "function": "ES2.DownloadProfile",
///    "operationId", "eid", "iccid"?, "functionExecutionStatus", "eis"?}
/// functionCallIdentifier is the same on every retry (the MNO drops
/// duplicates by it). DownloadProfile's result names the profile chosen.
struct Result {
  std::string call_id;
  Function function = Function::DownloadProfile;
  std::int64_t operation_id = 0;
  std::string eid;
  std::string iccid;  ///< may be empty
  std::string status;
  std::string subject_code, reason_code;
  std::optional<nlohmann::json> eis;  ///< AuditEIS
  bool operator==(const Result&) const = default;
};
/// A Handle...Notification to the MNO:
///   {"functionCallIdentifier", "function": "ES2.HandleProfileEnabledNotification",
///    "eid", "iccid", "completionTimestamp": "2026-12-04T17:00:00Z"}
/// kSmsrChangeNotification carries "eis" (the EIS without keys, its smsrId
/// the new SM-SR) instead of "eid" and "iccid":
///   {"functionCallIdentifier", "function": "ES2.HandleSMSRChangeNotification",
///    "eis": {...}, "completionTimestamp"}
struct Notification {
  std::string call_id;
  std::string function;  ///< one of the k...Notification names
  std::string eid;
  std::string iccid;  ///< empty for kSmsrChangeNotification
  std::string completion_timestamp;  ///< ISO 8601 UTC, seconds, "Z"
  /// kSmsrChangeNotification only (then set; eid is its eid): the EIS
  /// without keys, eis->smsr_id the eUICC's new SM-SR.
  std::optional<Eis> eis;
  bool operator==(const Notification&) const = default;
};
using Callback = std::variant<Result, Notification>;
std::string encode_callback(const Callback& callback);
expected<Callback, Error> decode_callback(std::string_view body);

}  // namespace rsp::m2m::es2
