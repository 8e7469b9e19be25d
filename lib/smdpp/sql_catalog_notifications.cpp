// The SQL catalog's profile notifications after the installation (enable,
// disable, delete): the profile's state on its eUICC and the operator's
// HandleDownloadProgressInfo, in one transaction.

#include "rsp/messages/iccid.hpp"
#include "sql_catalog_detail.hpp"

namespace rsp::smdpp {

using store::value;
using namespace sql_catalog_detail;

SmdppResult<NotificationRecord> SqlProfileCatalog::profile_notification(const ProfileNotification& n) {
  const std::string iccid = messages::iccid_to_digits(n.iccid);
  RSP_DB_TRY(auto tx, inv_->db().begin());
  // The profile with the last order that issued it a BPP (the eUICC it went to).
  RSP_DB_TRY(auto row, inv_->db().query_one(
                           "SELECT p.state, p.profile_type, p.card_state, p.card_seq, r.download_eid, r.eid"
                           " FROM profiles p JOIN orders r ON r.iccid = p.iccid"
                           " WHERE p.iccid = $1 AND r.download_eid IS NOT NULL ORDER BY r.id DESC LIMIT 1" +
                               store::row_lock(inv_->db(), store::RowLock::Wait, "p"),
                           {value(iccid)}));
  if (!row || profile_state_from_string(row->text(0)) != ProfileState::Installed)
    return NotificationRecord::UnknownProfile;
  if (row->opt_text(4) != std::optional<std::string>(n.eid)) return NotificationRecord::OtherEuicc;
  const auto card_state = row->opt_text(2);
  const auto last_seq = row->opt_int64(3);
  // §5.7.9: the eUICC numbers its notifications from one counter, so a
  // seqNumber at or below the last recorded one is a replay (or older news).
  if (card_state == std::optional<std::string>("deleted") || (last_seq && n.seq_number <= *last_seq))
    return NotificationRecord::Replayed;
  std::string to = "enabled";
  int point = kPointProfileEnabled;
  if (n.event == notification_event::kDisable) to = "disabled", point = kPointProfileDisabled;
  if (n.event == notification_event::kDelete) to = "deleted", point = kPointProfileDeleted;
  RSP_DB_TRY_VOID(inv_->db().execute("UPDATE profiles SET card_state = $2, card_seq = $3 WHERE iccid = $1",
                                     {value(iccid), value(to), value(n.seq_number)}));
  RSP_TRY_VOID(inv_->enqueue_progress(iccid, progress_payload(n.eid, iccid, row->text(1), inv_->now(), point,
                                                              std::nullopt, &n.signed_notification)));
  RSP_DB_TRY_VOID(tx.commit());
  return NotificationRecord::Recorded;
}

SmdppResult<NotificationRecord> SqlProfileCatalog::record_profile_notification(const ProfileNotification& n) {
  auto r = retried([&] { return profile_notification(n); });
  if (!r) note(r.error());
  return r;
}

}  // namespace rsp::smdpp
