#pragma once
/// What the SM-SR tells the MNOs asynchronously (SGP.02 §3, §5.4): the
/// result of an accepted ES4 function once the eUICC answered or its
/// validity ended, and the ES4 Handle...Notification calls (§5.4) when a
/// profile of theirs changed state without their asking (another MNO's
/// EnableProfile, a fallback). Each becomes an outbox entry (recipient: the
/// MNO) queued in the registry transaction of the change; the callback
/// outbox worker (rsp/service/outbox.hpp) sends it with mno_callback_sender().
///
/// This project's JSON binding (docs/smsr-openapi.yaml, "callbacks"), POSTed
/// to the MNO's callback_url; functionCallIdentifier is the same on every
/// retry, so the MNO drops duplicates by it:
///   {"functionCallIdentifier": "op-12", "function": "ES4.EnableProfile",
///    "operationId": 12, "eid", "iccid",
///    "functionExecutionStatus": {"status", "statusCodeData"?}, "eis"? (AuditEIS)}
///   {"functionCallIdentifier", "function": "ES4.HandleProfileEnabledNotification",
///    "eid", "iccid", "completionTimestamp"}
/// The notification function names follow SGP.02 v4 §5.4 as we read it
/// (not checked against the text here).

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rsp/m2m/eis.hpp"
#include "rsp/m2m/es3.hpp"
#include "rsp/net/tls.hpp"
#include "rsp/service/outbox.hpp"
#include "rsp/service/sql_outbox.hpp"
#include "rsp/smsr/registry.hpp"

namespace rsp::smsr {

inline constexpr std::string_view kProfileEnabledNotification = "ES4.HandleProfileEnabledNotification";
inline constexpr std::string_view kProfileDisabledNotification = "ES4.HandleProfileDisabledNotification";
inline constexpr std::string_view kProfileDeletedNotification = "ES4.HandleProfileDeletedNotification";
/// The eUICC moved to another SM-SR (SGP.02 §5.4 ES4 function list as we
/// read it; not yet checked against the SGP.02 text):
///   {"functionCallIdentifier", "function": "ES4.HandleSMSRChangeNotification",
///    "eis" (as ES4.GetEIS shows it to that MNO: its profiles, no key; its
///    smsrId the new SM-SR), "completionTimestamp"}
/// The input as bagyenda/njiwa's SGP.02 SM-SR sends it (Eis, CompletionTimeStamp).
inline constexpr std::string_view kSmsrChangeNotification = "ES4.HandleSMSRChangeNotification";

/// How the callbacks to an MNO are written: this project's JSON, or SGP.02's
/// SOAP binding (rsp/m2m_soap/callback.hpp). `of_url` says which for a callback URL
/// (unset: JSON for every MNO); `from` is the SM-SR's own address for
/// wsa:From.
enum class CallbackBinding { Json, Soap };
struct CallbackBindings {
  std::function<CallbackBinding(const std::string& url)> of_url;
  std::string from;
};

/// Sends a callback body to an MNO's URL (https://, or http:// for lab use):
/// a POST with the JSON body, success only for a 2xx answer; the server's
/// certificate checked against `trust_anchors` (DER); `timeout` bounds each
/// connect, read and write. One keep-alive connection per callback server is
/// kept for the next callbacks; a callback that fails on a kept connection
/// goes once more on a new one. Errors never quote the URL.
///
/// `identity`, when set, is the TLS client certificate and key presented to
/// a callback server that asks for one: the SM-SR's own, by which an SM-DP
/// knows that its ES3 results and notifications come from its SM-SR
/// (mutual TLS; `rsp smdp serve`'s smsr_callback_cert).
service::OutboxSender mno_callback_sender(std::vector<Bytes> trust_anchors,
                                          std::chrono::milliseconds timeout = std::chrono::seconds(10),
                                          CallbackBindings bindings = {},
                                          std::optional<net::TlsIdentity> identity = std::nullopt);

/// The callback outbox worker's settings (`rsp smsr serve`, bench/smsr):
/// an MNO's callbacks claimed and marked delivered 64 at a time (two disk
/// flushes per batch, not two per callback; still sent one by one, in
/// order), and the outbox looked at every 20 ms when idle, so that a
/// callback waits for no one-second poll.
service::OutboxWorkerConfig callback_worker_config();

/// Seconds since the epoch as ISO 8601 UTC, "2026-12-03T17:00:00Z".
std::string iso_time(std::int64_t t);

/// The result of operation `op` (its final status and codes as given) for its
/// MNO; `eis_json`, when not empty, is the EIS as that MNO may see it (a JSON
/// object without keys, as GetEIS answers), sent as "eis" (AuditEIS).
service::OutboxMessage operation_result(const Operation& op, std::string_view status, std::string_view subject_code,
                                        std::string_view reason_code, std::string_view eis_json = {});
/// A Handle...Notification to `p`'s MNO about `p` on `eid`.
service::OutboxMessage profile_notification(std::string_view function, const std::string& eid,
                                            const m2m::ProfileInfo& p, std::int64_t at);

/// An ES3 Handle...Notification (rsp/m2m/es3.hpp) to the SM-DP that
/// downloaded `p` (p.smdp_id, not empty) about `p` on `eid`. `event` names
/// what caused it ("seq7" for the eUICC's notification of that sequence
/// number, "op12" for operation 12): the call identifier is made of it, so
/// the same event reported again carries the same identifier and the SM-DP
/// drops it.
service::OutboxMessage smdp_notification(m2m::es3::NotificationFunction function, const std::string& eid,
                                         const m2m::ProfileInfo& p, std::string_view event, std::int64_t at);

/// What the NEW SM-SR tells once it holds the EIS of `eis` (ES7
/// HandoverEUICC done; es7_service.hpp), eis.smsr_id its own identifier:
///  - ES3.HandleSMSRChangeNotification to every SM-DP that downloaded a
///    profile on the eUICC (ProfileInfo::smdp_id), once per SM-DP, with the
///    EIS as ES3.GetEIS shows it to that SM-DP (Es3Service::visible_to);
///  - ES4.HandleSMSRChangeNotification to every MNO with a profile there
///    that no SM-DP downloaded (a pre-installed one), with the EIS as
///    ES4.GetEIS shows it to that MNO (Service::visible_to): an MNO whose profile
///    came through an SM-DP hears it from that SM-DP (ES2), not twice.
///    SGP.02 has a notification reach an MNO "directly or through the
///    SM-DP"; which path for which MNO is our reading, not yet checked
///    against the SGP.02 text.
/// `event` names the change (the key version the new SM-SR was given:
/// "kv2"); the call identifiers are made of it, the same on every retry.
std::vector<service::OutboxMessage> smsr_change_notifications(const m2m::Eis& eis, std::string_view event,
                                                              std::int64_t at);

}  // namespace rsp::smsr
