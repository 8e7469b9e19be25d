#include "rsp/smdp/es3_notifications.hpp"

#include <ctime>
#include <set>

#include "rsp/m2m/eis.hpp"

#include "rsp/m2m/es2.hpp"

namespace rsp::smdp {

using store::value;
namespace es2 = m2m::es2;
namespace es3 = m2m::es3;
using es3::NotificationFunction;

namespace {

const store::Migration kMigrations[] = {
    {1, "the SM-SR's ES3 notifications, by call identifier (each handled once)",
     R"(
CREATE TABLE smdp_es3_notification (
  id {ID},
  call_id TEXT NOT NULL UNIQUE,
  function TEXT NOT NULL,
  eid TEXT NOT NULL,
  iccid TEXT NOT NULL,
  outcome TEXT NOT NULL,
  received_at {INT} NOT NULL
);
)"},
};

/// The profile's state on the eUICC after `f`, and the ES2 callback that tells its MNO.
struct Effect {
  EuiccState state;
  std::string_view es2_function;
};
Effect effect_of(NotificationFunction f) {
  switch (f) {
    case NotificationFunction::ProfileEnabled: return {EuiccState::Enabled, es2::kProfileEnabledNotification};
    case NotificationFunction::ProfileDisabled: return {EuiccState::Disabled, es2::kProfileDisabledNotification};
    case NotificationFunction::ProfileDeleted: return {EuiccState::Deleted, es2::kProfileDeletedNotification};
    case NotificationFunction::SmsrChange: break;
  }
  return {EuiccState::Unknown, {}};
}

}  // namespace

expected<std::unique_ptr<Es3Notifications>, std::string> Es3Notifications::open(
    std::shared_ptr<store::Database> db, std::shared_ptr<Inventory> inventory,
    std::shared_ptr<service::SqlOutbox> callbacks, std::function<std::string(const std::string&)> callback_url) {
  if (!db || !inventory) return unexpected(std::string("no database or inventory"));
  auto migrated = store::migrate(*db, kEs3NotificationSchemaComponent, kMigrations);
  if (!migrated) return unexpected("storage: " + migrated.error().message);
  return std::unique_ptr<Es3Notifications>(
      new Es3Notifications(std::move(db), std::move(inventory), std::move(callbacks), std::move(callback_url)));
}

expected<Es3Notifications::Handled, std::string> Es3Notifications::handle(const es3::Notification& n,
                                                                         std::string_view sender) {
  const auto storage = [](const std::string& m) { return unexpected("storage: " + m); };
  // Only the eUICC's new SM-SR announces the change (the EIS it sends names
  // it as smsrId): another SM-SR naming it is refused before anything is
  // read or written.
  const std::string new_smsr = n.eis ? n.eis->smsr_id : std::string();
  if (n.function == NotificationFunction::SmsrChange && (!n.eis || new_smsr != sender))
    return Handled{Outcome::Refused,
                   "an SM-SR change naming " + new_smsr + " sent by SM-SR " + std::string(sender) + ": refused"};
  auto tx = db_->begin();
  if (!tx) return storage(tx.error().message);
  auto seen = db_->query_one("SELECT outcome FROM smdp_es3_notification WHERE call_id = $1", {value(n.call_id)});
  if (!seen) return storage(seen.error().message);
  if (*seen) return Handled{Outcome::Duplicate, "seen already (" + (*seen)->text(0) + ")"};

  Handled h;
  const Effect effect = effect_of(n.function);
  std::set<std::string> told;  // SmsrChange: the MNOs of this SM-DP's profiles on the eUICC
  if (n.function == NotificationFunction::SmsrChange) {
    auto on = inventory_->on_euicc(n.eid);
    if (!on) return storage(on.error().message);
    if (on->empty()) {
      h.outcome = Outcome::Ignored;
      h.detail = "no profile of this SM-DP on that eUICC";
    } else {
      // Later ES3 calls about this eUICC go to its new SM-SR (Es2Service).
      auto recorded = inventory_->record_smsr(n.eid, new_smsr);
      if (!recorded) return storage(recorded.error().message);
      for (const auto& p : *on) told.insert(p.mno_id);
      h.detail = "the eUICC's SM-SR is now " + new_smsr;
    }
  } else {
    auto profile = inventory_->find(n.iccid);
    if (!profile) return storage(profile.error().message);
    // Reserved: the SM-DP's own download is still running (the eUICC's
    // confirmation of the enable may come before the SM-SR's result).
    const bool ours = *profile && (*profile)->eid == n.eid &&
                      ((*profile)->state == ProfileState::Downloaded || (*profile)->state == ProfileState::Reserved);
    if (!ours) {
      h.outcome = Outcome::Ignored;
      h.detail = *profile ? "the profile was not downloaded to that eUICC" : "no such profile in the inventory";
    } else {
      auto recorded = inventory_->record_euicc_state(n.iccid, effect.state);
      if (!recorded) return storage(recorded.error().message);
      h.detail = "profile " + n.iccid + " " + std::string(euicc_state_name(effect.state));
    }
  }
  auto row = db_->query(
      "INSERT INTO smdp_es3_notification (call_id, function, eid, iccid, outcome, received_at) "
      "VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
      {value(n.call_id), value(es3::notification_name(n.function)), value(n.eid), value(n.iccid),
       value(h.outcome == Outcome::Ignored ? "ignored" : "recorded"), value(static_cast<std::int64_t>(std::time(nullptr)))});
  if (!row) return storage(row.error().message);
  if (row->empty()) return storage("no id for the notification");
  const auto queue = [&](const es2::Notification& out, const std::string& mno) -> expected<void, std::string> {
    service::OutboxMessage m;
    m.recipient = mno;
    m.body = es2::encode_callback(out);
    m.destination = callback_url_ ? callback_url_(m.recipient) : std::string();
    m.ref = out.call_id;
    auto queued = callbacks_->add(*db_, m);
    if (!queued) return storage(queued.error().message);
    h.detail += ", " + out.function + " queued for " + m.recipient;
    return {};
  };
  if (h.outcome == Outcome::Recorded && n.function == NotificationFunction::SmsrChange && callbacks_) {
    // One ES2.HandleSMSRChangeNotification per MNO (whatever the number of
    // its profiles there), its identifier the same on every attempt.
    for (const auto& mno : told) {
      es2::Notification out;
      out.call_id = "note-" + std::to_string(row->front().int64(0)) + "-" + mno;
      out.function = std::string(es2::kSmsrChangeNotification);
      out.eid = n.eid;
      // The EIS as that MNO may see it: the SM-SR showed this SM-DP its own
      // ISD-Ps, of which the MNO sees its own profiles (no key either way).
      out.eis = *n.eis;
      std::erase_if(out.eis->profiles, [&](const m2m::ProfileInfo& p) { return p.mno_id != mno; });
      out.completion_timestamp = n.completion_timestamp;
      RSP_TRY_VOID(queue(out, mno));
    }
  }
  if (h.outcome == Outcome::Recorded && !effect.es2_function.empty() && callbacks_) {
    auto profile = inventory_->find(n.iccid);
    if (!profile || !*profile) return storage(profile ? "the profile is gone" : profile.error().message);
    es2::Notification out;
    // One identifier per notification handled, the same on every attempt.
    out.call_id = "note-" + std::to_string(row->front().int64(0));
    out.function = std::string(effect.es2_function);
    out.eid = n.eid;
    out.iccid = n.iccid;
    out.completion_timestamp = n.completion_timestamp;
    RSP_TRY_VOID(queue(out, (*profile)->mno_id));
  }
  auto committed = tx->commit();
  if (!committed) return storage(committed.error().message);
  return h;
}

}  // namespace rsp::smdp
