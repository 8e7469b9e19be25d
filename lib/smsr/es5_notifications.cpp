// The eUICC's notifications into the EIS, the audit trail and the MNOs
// (es5_link.hpp).

#include "rsp/smsr/callbacks.hpp"
#include "rsp/smsr/es5_link.hpp"
#include "rsp/smsr/notification_sequence.hpp"

namespace rsp::smsr {

namespace {

std::string_view type_name(m2m::NotificationType t) {
  switch (t) {
    case m2m::NotificationType::kEuiccDeclaration: return "eUICC declaration";
    case m2m::NotificationType::kProfileChangeSucceeded: return "profile change succeeded";
    case m2m::NotificationType::kProfileChangeFailedAndRollback: return "profile change failed, rolled back";
    case m2m::NotificationType::kProfileChangeAfterFallback: return "profile change after fallback";
  }
  return "unknown";
}

}  // namespace

void Es5Link::notification(const std::string& eid, const m2m::Notification& n) {
  const std::int64_t t = now();
  auto eis = config_.registry->eis(eid, false);
  if (!eis || !*eis) {
    log("ES5 notification of " + eid + ": " + (eis ? std::string("unknown EID") : eis.error().message));
    return;
  }
  Change change;
  change.audit.push_back({t, "eUICC", "ES5.HandleNotification", eid, to_hex(n.isdp_aid),
                          std::string(type_name(n.type)) + ", sequence " + std::to_string(n.seq_number)});
  // The card re-sends a notification until it is confirmed, so one seen
  // already can come again after a later change was applied: a later
  // notification, or the answer to a later operation (whose own
  // notification the card numbers after it). Only a notification numbered
  // after the last one applied says what the card is now; an older one, or
  // the same again, changes nothing and tells nobody. It is confirmed all
  // the same (the session does), so the card stops sending it. The last
  // number unknown (a storage error): applied, as without the guard.
  auto last = config_.registry->notification_seq(eid);
  if (!last) log("ES5 notification of " + eid + ": its last sequence number: " + last.error().message);
  if (last && *last && !sequence_after(n.seq_number, **last)) {
    auto& line = change.audit.front();
    line.result = std::string(type_name(n.type)) + ", stale, sequence " + std::to_string(n.seq_number) +
                  ", last applied " + std::to_string(**last);
    if (logging()) log("ES5 notification of " + eid + ": " + line.result + ", ignored");
    config_.registry->audit_later(std::move(line));
    return;
  }
  change.notification_seq = n.seq_number;
  // SGP.02 §4.1.1.11 / §3.x: after a profile change (by the SM-SR, a
  // rollback or the fallback) the ISD-P named is the enabled one.
  const bool profile_change = n.type != m2m::NotificationType::kEuiccDeclaration;
  bool known = false;
  for (const auto& p : (*eis)->profiles) known = known || p.isdp_aid == n.isdp_aid;
  if (profile_change && !known) change.audit.back().result += ", no such ISD-P in the EIS";
  if (profile_change && known) {
    // The event's name in the SM-DPs' notifications: the eUICC's sequence
    // number, so a notification the card repeats is dropped by the SM-DP.
    const std::string event = "seq" + std::to_string(n.seq_number);
    using m2m::es3::NotificationFunction;
    for (auto p : (*eis)->profiles) {
      const bool enabled_now = p.isdp_aid == n.isdp_aid;
      // ES3 (SGP.02 §5.4): the eUICC confirms the profile it enabled; its
      // SM-DP hears it also when the EIS says so already (the operation's
      // answer came first).
      if (enabled_now && !p.smdp_id.empty())
        change.callbacks.push_back(smdp_notification(NotificationFunction::ProfileEnabled, eid, p, event, t));
      if (enabled_now == (p.state == m2m::ProfileState::Enabled)) continue;
      p.state = enabled_now ? m2m::ProfileState::Enabled : m2m::ProfileState::Disabled;
      change.put.push_back(p);
      // Its MNO hears it once: over ES4 for a pre-installed profile, from
      // the SM-DP (ES3 here, ES2 there) for one an SM-DP downloaded (as
      // Service::apply_to_eis).
      if (p.smdp_id.empty())
        change.callbacks.push_back(profile_notification(
            enabled_now ? kProfileEnabledNotification : kProfileDisabledNotification, eid, p, t));
      if (!enabled_now && !p.smdp_id.empty())
        change.callbacks.push_back(smdp_notification(NotificationFunction::ProfileDisabled, eid, p, event, t));
    }
  }
  if (change.put.empty() && change.callbacks.empty()) {
    // Nothing in the EIS changes (it shows already what the card reports,
    // e.g. the profile change of an operation the SM-SR completed from the
    // card's answer) and no MNO is told: like a read, only its audit line is
    // left, which goes with the next batch (Registry::audit_later) instead
    // of a write transaction and a disk flush of its own.
    config_.registry->audit_later(std::move(change.audit.front()), n.seq_number);
    if (logging())
      log("ES5 notification of " + eid + ": " + std::string(type_name(n.type)) + ", sequence " +
          std::to_string(n.seq_number) + ", no change");
    return;
  }
  auto applied = config_.registry->apply(eid, change, t);
  if (logging())
    log("ES5 notification of " + eid + ": " + std::string(type_name(n.type)) + ", sequence " +
        std::to_string(n.seq_number) + ", ISD-P " + to_hex(n.isdp_aid) + ", " + std::to_string(change.put.size()) +
        " profile(s) changed" +
        (applied ? std::string() : ", not recorded: " + applied.error().message));
}

}  // namespace rsp::smsr
