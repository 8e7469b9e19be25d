#include "rsp/smsr/callbacks.hpp"

#include <set>

#include <nlohmann/json.hpp>

#include "rsp/common/utc_time.hpp"
#include "rsp/m2m/eis_json.hpp"
#include "rsp/smsr/es3_service.hpp"
#include "rsp/smsr/service.hpp"

namespace rsp::smsr {

service::OutboxWorkerConfig callback_worker_config() {
  service::OutboxWorkerConfig c;
  c.batch = 64;
  c.poll_interval = std::chrono::milliseconds(20);
  // A busy MNO's callbacks go in batches of what arrived in the last 20 ms:
  // a claim and a delivery transaction per batch, not per one or two.
  c.gather = std::chrono::milliseconds(20);
  return c;
}

using nlohmann::json;

std::string iso_time(std::int64_t t) { return utc_time_text(t); }

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

std::vector<service::OutboxMessage> smsr_change_notifications(const m2m::Eis& eis, std::string_view event,
                                                              std::int64_t at) {
  std::set<std::string> smdps, via_smdp, direct;
  for (const auto& p : eis.profiles) {
    if (p.smdp_id.empty()) {
      if (!p.mno_id.empty()) direct.insert(p.mno_id);
    } else {
      smdps.insert(p.smdp_id);
      if (!p.mno_id.empty()) via_smdp.insert(p.mno_id);
    }
  }
  std::vector<service::OutboxMessage> out;
  const std::string change = eis.eid + "-smsr-change-" + eis.smsr_id + "-" + std::string(event);
  for (const auto& smdp : smdps) {
    m2m::es3::Notification n;
    n.call_id = "es3-" + change;
    n.function = m2m::es3::NotificationFunction::SmsrChange;
    n.eid = eis.eid;
    // As ES3.GetEIS shows it to that SM-DP: its ISD-Ps, no key.
    n.eis = Es3Service::visible_to(eis, smdp);
    n.completion_timestamp = iso_time(at);
    out.push_back(service::OutboxMessage{smdp, m2m::es3::encode_notification(n), {}, n.call_id});
  }
  for (const auto& mno : direct) {
    if (via_smdp.contains(mno)) continue;  // its SM-DP tells it (ES2)
    const std::string call = "note-" + change;
    // As ES4.GetEIS shows it to that MNO: its profiles, no key.
    json body{{"functionCallIdentifier", call},
              {"function", kSmsrChangeNotification},
              {"eis", m2m::eis_to_json(Service::visible_to(eis, mno), m2m::Keys::Omit)},
              {"completionTimestamp", iso_time(at)}};
    out.push_back(service::OutboxMessage{mno, body.dump(), {}, call});
  }
  return out;
}

}  // namespace rsp::smsr
