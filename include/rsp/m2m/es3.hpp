#pragma once
/// ES3 (SM-DP -> SM-SR, SGP.02 v4.x §5.4) in this project's JSON binding,
/// the one both ends read: the SM-SR decodes the requests, the SM-DP encodes
/// them and decodes the results the SM-SR calls back with.
///
/// Members are camelCase of SGP.02's element names: "eid", "iccid",
/// "mnoId" (Mno-id), "requiredMemory", "moreToDo", "sdAid" (sd-aid), "data",
/// "profileType", "subscriptionAddress", "pol2", "isdpAid" (Isd-p-aid),
/// "euiccResponseData", "connectivityParameters"; every request may carry "functionCallIdentifier"
/// and, for a function the eUICC executes, "validityPeriod" (seconds), as
/// ES4 in this binding does (rsp/smsr/http_service.hpp).
///
/// SendData's "data" is the command script for the security domain `sdAid`
/// (§5.4.4: the SM-SR builds the final script from it): here an expanded
/// remote-APDU command script ('AA', ETSI TS 102 226 §5.2.1) in hex, and the
/// result's "euiccResponseData" is the response script ('AB') in hex.
///
/// Confirmed: §5.4.4 is ES3.SendData (v4.2, as quoted in public questions
/// on it). The other clause numbers of §5.4 and the exact element names
/// could not be read here (no copy of the SGP.02 text was reachable); they
/// follow the function names SGP.02 lists for ES3 and are this binding's.
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

#include "rsp/common/bytes.hpp"
#include "rsp/common/expected.hpp"
#include "rsp/m2m/eis.hpp"
#include "rsp/m2m/es_functions.hpp"

namespace rsp::m2m::es3 {

enum class Function {
  GetEis,
  AuditEis,
  CreateIsdp,
  SendData,
  ProfileDownloadCompleted,
  EnableProfile,
  DisableProfile,
  DeleteIsdp,
  UpdatePolicyRules,
  UpdateSubscriptionAddress,
  UpdateConnectivityParameters,
};

/// In the order of Function.
inline constexpr FunctionPath kFunctions[] = {
    {"/gsma/m2m/es3/getEIS", "ES3.GetEIS"},
    {"/gsma/m2m/es3/auditEIS", "ES3.AuditEIS"},
    {"/gsma/m2m/es3/createISDP", "ES3.CreateISDP"},
    {"/gsma/m2m/es3/sendData", "ES3.SendData"},
    {"/gsma/m2m/es3/profileDownloadCompleted", "ES3.ProfileDownloadCompleted"},
    {"/gsma/m2m/es3/enableProfile", "ES3.EnableProfile"},
    {"/gsma/m2m/es3/disableProfile", "ES3.DisableProfile"},
    {"/gsma/m2m/es3/deleteISDP", "ES3.DeleteISDP"},
    // The three below: ES3-UpdatePolicyRules and ES3-UpdateConnectivity-
    // Parameters are bagyenda/njiwa's SOAP actions, ES3-UpdateSubscription-
    // Address a message type of another public Java SGP.02 implementation
    // (not checked against the SGP.02 text); the JSON paths are this
    // binding's own, SGP.02 binds ES3 to SOAP only.
    {"/gsma/m2m/es3/updatePolicyRules", "ES3.UpdatePolicyRules"},
    {"/gsma/m2m/es3/updateSubscriptionAddress", "ES3.UpdateSubscriptionAddress"},
    {"/gsma/m2m/es3/updateConnectivityParameters", "ES3.UpdateConnectivityParameters"},
};
inline constexpr const FunctionPath& function(Function f) { return kFunctions[static_cast<int>(f)]; }
/// The function named `name` ("ES3.SendData"), if any.
std::optional<Function> function_named(std::string_view name);

/// Largest decoded SendData script: the SM-DP sends a profile in segments.
inline constexpr std::size_t kMaxScript = 64 * 1024;

struct GetEis {
  std::string eid;
  bool operator==(const GetEis&) const = default;
};
struct AuditEis {
  std::string eid;
  std::optional<std::int64_t> validity;
  bool operator==(const AuditEis&) const = default;
};
/// ES3.CreateISDP: a new ISD-P for the profile `iccid` of `mno_id`.
struct CreateIsdp {
  std::string eid;
  std::string iccid;
  std::string mno_id;
  std::uint32_t required_memory = 0;  ///< bytes; the ISD-P's non-volatile quota
  bool more_to_do = false;
  std::optional<std::int64_t> validity;
  bool operator==(const CreateIsdp&) const = default;
};
/// ES3.SendData (§5.4.4): a command script for the ISD-P `sd_aid`.
struct SendData {
  std::string eid;
  Bytes sd_aid;  ///< 5..16 bytes
  Bytes data;    ///< 'AA' command script, 1..kMaxScript bytes
  bool more_to_do = false;
  std::optional<std::int64_t> validity;
  bool operator==(const SendData&) const = default;
};
/// ES3.ProfileDownloadCompleted: the profile is on the eUICC; the SM-SR
/// records it in the EIS with its subscription address and POL2.
struct ProfileDownloadCompleted {
  std::string eid;
  std::string iccid;
  std::string profile_type;  ///< may be empty
  std::optional<SubscriptionAddress> subscription_address;
  std::vector<PolicyRule> pol2;
  bool operator==(const ProfileDownloadCompleted&) const = default;
};
/// ES3.EnableProfile / DisableProfile / DeleteISDP: as ES4's, the SM-DP the caller.
template <Function F>
struct OnProfile {
  std::string eid;
  std::string iccid;
  std::optional<std::int64_t> validity;
  bool operator==(const OnProfile&) const = default;
};
using EnableProfile = OnProfile<Function::EnableProfile>;
using DisableProfile = OnProfile<Function::DisableProfile>;
using DeleteIsdp = OnProfile<Function::DeleteIsdp>;

/// ES3.UpdatePolicyRules (SGP.02 §5.4, ES4.UpdatePolicyRules' counterpart
/// for the SM-DP; clause not yet checked against the SGP.02 text): POL2 of
/// the caller's profile `iccid`, kept in the EIS. "pol2" is mandatory (an
/// empty list clears the rules).
struct UpdatePolicyRules {
  std::string eid;
  std::string iccid;
  std::vector<PolicyRule> pol2;
  bool operator==(const UpdatePolicyRules&) const = default;
};
/// ES3.UpdateSubscriptionAddress (SGP.02 §5.4; clause not yet checked
/// against the SGP.02 text): the MSISDN / IMSI of the caller's profile in the EIS.
struct UpdateSubscriptionAddress {
  std::string eid;
  std::string iccid;
  SubscriptionAddress subscription_address;
  bool operator==(const UpdateSubscriptionAddress&) const = default;
};
/// ES3.UpdateConnectivityParameters (SGP.02 §5.4; clause not yet checked
/// against the SGP.02 text): new connectivity parameters (SMS, CAT_TP, HTTP
/// TLVs) for the caller's ISD-P of profile `iccid`: the SM-DP's ES8.UpdateConnectivityParameters
/// secured with that ISD-P's SCP03 keys (SGP.02 §3.14,
/// m2m/es8_connectivity.hpp), as an expanded command script ('AA', as
/// SendData's data) the SM-SR forwards unchanged to the ISD-P. bagyenda/njiwa
/// has the SM-SR build the STORE DATA from plain parameters instead; SGP.02
/// §3.14 (SCP03) has the SM-DP secure it, which we follow (the evidence is in
/// es8_connectivity.hpp's header).
struct UpdateConnectivityParameters {
  std::string eid;
  std::string iccid;
  Bytes connectivity_parameters;  ///< the command script, 1..kMaxConnectivityParameters bytes
  std::optional<std::int64_t> validity;
  bool operator==(const UpdateConnectivityParameters&) const = default;
};
/// INITIALIZE UPDATE, EXTERNAL AUTHENTICATE and one short STORE DATA in a
/// command script take about 300 bytes; this leaves room.
inline constexpr std::size_t kMaxConnectivityParameters = 1024;

/// In the order of Function.
using Request = std::variant<GetEis, AuditEis, CreateIsdp, SendData, ProfileDownloadCompleted, EnableProfile,
                             DisableProfile, DeleteIsdp, UpdatePolicyRules, UpdateSubscriptionAddress,
                             UpdateConnectivityParameters>;
inline Function function_of(const Request& r) { return static_cast<Function>(r.index()); }

struct Error {
  enum class Kind { Missing, Invalid };
  Kind kind = Kind::Invalid;
  std::string message;  ///< names the member, never quotes its value
};

/// The JSON body of `request`, with `call_id` as functionCallIdentifier when not empty.
std::string encode_request(const Request& request, std::string_view call_id = {});
/// Strict decoding of a request body of function `f`.
expected<Request, Error> decode_request(Function f, std::string_view body);

/// What the SM-SR calls back with once an accepted ES3 function ended (the
/// ES4 callback shape of rsp/smsr/callbacks.hpp, with the ES3 outputs).
struct Result {
  std::string call_id;  ///< functionCallIdentifier, the same on every retry
  Function function = Function::CreateIsdp;
  std::int64_t operation_id = 0;
  std::string eid;
  std::string iccid;   ///< may be empty
  std::string status;  ///< SGP.02 §5.1.6.1 status name
  std::string subject_code, reason_code;
  Bytes isdp_aid;              ///< CreateISDP: the new ISD-P
  Bytes euicc_response_data;   ///< SendData: the 'AB' response script
  std::optional<nlohmann::json> eis;  ///< AuditEIS: the EIS as the caller may see it
  bool operator==(const Result&) const = default;
};
std::string encode_result(const Result& result);
expected<Result, Error> decode_result(std::string_view body);

}  // namespace rsp::m2m::es3

namespace rsp::m2m::es3 {

/// The ES4 function an ES3 function does to the eUICC with the SM-DP as
/// caller (§5.4: AuditEIS, EnableProfile, DisableProfile, DeleteISDP as
/// ES4's AuditEIS, EnableProfile, DisableProfile, DeleteProfile); nullopt for
/// the ES3-only functions.
std::optional<Es4Function> es4_counterpart(Function f);
/// True when the operation function `name` ("ES4.EnableProfile" or
/// "ES3.EnableProfile") does what ES4 function `f` does.
bool acts_as(std::string_view name, Es4Function f);

}  // namespace rsp::m2m::es3

namespace rsp::m2m::es3 {

/// The SM-SR's ES3 Handle...Notification calls to an SM-DP (SGP.02 §5.4,
/// the SM-DP the function provider): a profile that SM-DP downloaded changed
/// state on the eUICC without the SM-DP's asking (the eUICC's notification
/// after an enable or a fall-back, another caller's Disable or Delete), or
/// the eUICC moved to another SM-SR. The names are those SGP.02 lists for
/// ES3 as we read them; their clause numbers and exact input elements are
/// not yet checked against the SGP.02 text (no copy was reachable here).
///
/// This binding's JSON, POSTed to the SM-DP's callback URL as the results are:
///   {"functionCallIdentifier", "function": "ES3.HandleProfileEnabledNotification",
///    "eid", "iccid", "completionTimestamp": "2026-12-04T17:00:00Z"}
///   {"functionCallIdentifier", "function": "ES3.HandleSMSRChangeNotification",
///    "eis": {...}, "completionTimestamp"}
/// HandleSMSRChangeNotification carries the EIS as the new SM-SR now holds
/// it and the time the change completed, as bagyenda/njiwa's SGP.02 SM-SR
/// sends its ES2/ES4 HandleSMSRChangeNotification (Eis, CompletionTimeStamp;
/// njiwa has no ES3 one, ours has the same input): the EID is the EIS's, the
/// new SM-SR its smsrId. The EIS is the one ES3.GetEIS shows that SM-DP (its
/// own ISD-Ps, never a key); a notification whose EIS carries keys is refused.
/// Element list not yet checked against the SGP.02 text.
/// functionCallIdentifier is the same on every retry and names the event
/// (the eUICC's notification sequence number, or the operation that caused
/// it), so the SM-DP drops duplicates by it.
enum class NotificationFunction { ProfileEnabled, ProfileDisabled, ProfileDeleted, SmsrChange };
/// In the order of NotificationFunction.
inline constexpr std::string_view kNotificationNames[] = {
    "ES3.HandleProfileEnabledNotification",
    "ES3.HandleProfileDisabledNotification",
    "ES3.HandleProfileDeletedNotification",
    "ES3.HandleSMSRChangeNotification",
};
inline constexpr std::string_view notification_name(NotificationFunction f) {
  return kNotificationNames[static_cast<int>(f)];
}
std::optional<NotificationFunction> notification_named(std::string_view name);

struct Notification {
  std::string call_id;
  NotificationFunction function = NotificationFunction::ProfileEnabled;
  std::string eid;      ///< SmsrChange: eis.eid (the JSON carries it there only)
  std::string iccid;    ///< the profile; empty for SmsrChange
  std::optional<Eis> eis;  ///< SmsrChange only: the EIS without keys; eis->smsr_id is the new SM-SR
  std::string completion_timestamp;  ///< ISO 8601 UTC, seconds, "Z"
  bool operator==(const Notification&) const = default;
};
/// For SmsrChange, `n.eis` must be set (its keys are never written).
std::string encode_notification(const Notification& n);
/// Strict decoding of a notification body.
expected<Notification, Error> decode_notification(std::string_view body);

/// Whatever the SM-SR calls an SM-DP back with: an operation's result or a
/// notification, told apart by "function".
using Callback = std::variant<Result, Notification>;
expected<Callback, Error> decode_callback(std::string_view body);

}  // namespace rsp::m2m::es3
