#include "rsp/smsr/callbacks.hpp"

#include <ctime>

#include <nlohmann/json.hpp>

namespace rsp::smsr {

service::OutboxWorkerConfig callback_worker_config() {
  service::OutboxWorkerConfig c;
  c.batch = 64;
  c.poll_interval = std::chrono::milliseconds(20);
  return c;
}

using nlohmann::json;

std::string iso_time(std::int64_t t) {
  const std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

service::OutboxMessage operation_result(const Operation& op, std::string_view status, std::string_view subject_code,
                                        std::string_view reason_code, std::string_view eis_json) {
  json s{{"status", status}};
  if (!subject_code.empty()) s["statusCodeData"] = {{"subjectCode", subject_code}, {"reasonCode", reason_code}};
  // The same call identifier on every attempt: the MNO drops duplicates by it.
  const std::string call = "op-" + std::to_string(op.id);
  json body{{"functionCallIdentifier", call}, {"function", op.function}, {"operationId", op.id},
            {"eid", op.eid}, {"functionExecutionStatus", s}};
  if (!op.iccid.empty()) body["iccid"] = op.iccid;
  if (!eis_json.empty()) body["eis"] = json::parse(eis_json, nullptr, false);
  return service::OutboxMessage{op.caller, body.dump(), {}, call};
}

service::OutboxMessage profile_notification(std::string_view function, const std::string& eid,
                                            const m2m::ProfileInfo& p, std::int64_t at) {
  const std::string call = "note-" + eid + "-" + p.iccid + "-" + std::to_string(at);
  json body{{"functionCallIdentifier", call}, {"function", function}, {"eid", eid}, {"iccid", p.iccid},
            {"completionTimestamp", iso_time(at)}};
  return service::OutboxMessage{p.mno_id, body.dump(), {}, call};
}

service::OutboxMessage smdp_notification(m2m::es3::NotificationFunction function, const std::string& eid,
                                         const m2m::ProfileInfo& p, std::string_view event, std::int64_t at) {
  static constexpr std::string_view kShort[] = {"enabled", "disabled", "deleted", "smsr-change"};
  m2m::es3::Notification n;
  n.call_id = "es3-" + eid + "-" + std::string(event) + "-" + p.iccid + "-" +
              std::string(kShort[static_cast<int>(function)]);
  n.function = function;
  n.eid = eid;
  n.iccid = p.iccid;
  n.completion_timestamp = iso_time(at);
  return service::OutboxMessage{p.smdp_id, m2m::es3::encode_notification(n), {}, n.call_id};
}

}  // namespace rsp::smsr
