#include "rsp/smdpp/sql_catalog.hpp"
// The SQL catalog's download state transitions: a refused confirmation
// code, the BPP issued, the installation result, a cancelled session, each
// in one transaction with the operator's HandleDownloadProgressInfo; and the
// download an installation result's transactionId names. The order reads are
// in sql_catalog_orders.cpp, the one-time keys in sql_catalog_keys.cpp, the
// later notifications in sql_catalog_notifications.cpp, the progress body in
// sql_catalog_progress.cpp.

#include "rsp/asn1/runtime.hpp"
#include "rsp/messages/iccid.hpp"
#include "rsp/smdpp/es2_codes.hpp"
#include "sql_catalog_detail.hpp"

namespace rsp::smdpp {

using store::value;
using namespace sql_catalog_detail;

SqlProfileCatalog::SqlProfileCatalog(std::shared_ptr<Inventory> inventory, crypto::Random& rng,
                                     SqlCatalogOptions options)
    : inv_(std::move(inventory)), rng_(rng), options_(options) {}

void SqlProfileCatalog::note(const SmdppError& e) {
  std::lock_guard lock(mu_);
  last_error_ = e.subject_code + "/" + e.reason_code + " " + e.message;
}

std::string SqlProfileCatalog::last_error() const {
  std::lock_guard lock(mu_);
  return last_error_;
}

SmdppResult<int> SqlProfileCatalog::cc_failure(const std::string& matching_id) {
  RSP_DB_TRY(auto tx, inv_->db().begin());
  RSP_TRY(auto order, order_by_key(inv_->db(), matching_id));
  if (!order) return 0;
  const int left = std::max(0, order->cc_attempts_left - 1);
  RSP_DB_TRY_VOID(inv_->db().execute("UPDATE orders SET cc_attempts_left = $1, updated_at = $2 WHERE id = $3",
                                     {value(left), value(inv_->now()), value(order->id)}));
  const ProfileRecord& profile = order->profile;
  SmdppError failure{codes::kConfirmationCodeRefused.subject, codes::kConfirmationCodeRefused.reason,
                     "confirmation code refused"};
  if (left == 0) {
    failure = SmdppError{codes::kConfirmationCodeRetriesExceeded.subject,
                         codes::kConfirmationCodeRetriesExceeded.reason, "confirmation code attempts exhausted"};
    RSP_DB_TRY_VOID(inv_->db().execute("UPDATE orders SET state = 'blocked' WHERE id = $1", {value(order->id)}));
    if (profile.state == ProfileState::Released)
      RSP_TRY_VOID(inv_->transition(profile.iccid, ProfileState::Error, "confirmation code attempts exhausted",
                                    order->id, profile.state));
  }
  RSP_TRY_VOID(inv_->enqueue_progress_to(
      profile.operator_name,
      progress_payload(order->eid, profile.iccid, profile.profile_type, inv_->now(), kPointConfirmationFailure, failure)));
  RSP_DB_TRY_VOID(tx.commit());
  return left;
}

SmdppResult<int> SqlProfileCatalog::record_cc_failure(const std::string& matching_id) {
  auto r = retried([&] { return cc_failure(matching_id); });
  if (!r) note(r.error());
  return r;
}

SmdppResult<InstallOutcome> SqlProfileCatalog::record_checked(const std::string& matching_id, OrderEvent event,
                                                              const asn1::sgp22::ProfileInstallationResult* pir) {
  // An installation result (SGP.22 §5.6.4) needs no disk flush of its own:
  // it survives kill -9 as it is, and the next flushed commit (the next
  // download's BPP) takes it to disk. Lost with the machine before that, the
  // order is back where the result had not arrived: downloaded by this eUICC
  // only, its keys kept, which a retry by the card already handles (§5.7.6:
  // "ICCID already exists" from the card the BPP went to counts as
  // installed). So one download costs one flush, at GetBoundProfilePackage.
  RSP_DB_TRY(auto tx, pir ? inv_->db().begin_deferred_flush() : inv_->db().begin());
  std::optional<OrderRow> order;
  if (const auto id = order_id_of(matching_id); pir && id) {
    if (auto issued = take_issued(*id)) {
      // The order is still the active one (ES2+ or a reinstatement may have
      // ended it since, and a new order of the same profile may be under
      // way): its row only, kept as read like order_by_key's.
      RSP_DB_TRY(auto active, inv_->db().query_one("SELECT r.id FROM orders r WHERE r.id = $1 AND r.active = 1" +
                                                       store::row_lock(inv_->db(), store::RowLock::Wait, "r"),
                                                   {value(*id)}));
      if (active) {
        order.emplace();
        order->id = *id;
        order->eid = std::move(issued->eid);
        order->profile.iccid = std::move(issued->iccid);
        order->profile.profile_type = std::move(issued->profile_type);
        order->profile.operator_name = std::move(issued->operator_name);
        // As bpp_issued left it; transition() moves it on only from there.
        order->profile.state = ProfileState::Downloaded;
      }
    }
  }
  if (!order) {
    RSP_TRY(order, order_by_key(inv_->db(), matching_id));
  }
  if (!order) return smdpp_error(es2codes::kExecutionError, "event for an unknown order");
  const ProfileRecord& profile = order->profile;
  // An installation result decides its event with the order's ICCID.
  InstallOutcome outcome = event == OrderEvent::Installed ? InstallOutcome::Installed : InstallOutcome::Failed;
  Bytes result_data;
  if (pir) {
    outcome = install_outcome(*pir, messages::iccid_from_digits(profile.iccid).value_or(Bytes{}));
    event = outcome == InstallOutcome::Failed ? OrderEvent::InstallFailed : OrderEvent::Installed;
    result_data = asn1::encode(*pir);
  }
  std::optional<ProfileState> to;
  std::string cause;
  int point = kPointBppDownload;
  std::optional<SmdppError> failure;
  switch (event) {
    case OrderEvent::BppIssued:
      to = ProfileState::Downloaded;
      cause = "bound profile package issued";
      break;
    case OrderEvent::Installed:
      to = ProfileState::Installed;
      // SGP.22 §5.7.6: the eUICC refuses a package whose ICCID it holds; from
      // the eUICC this BPP went to, about this ICCID, that refusal means the
      // profile is on that card (an earlier installation whose notification
      // was lost). The operator is told of an installation (Executed-Success);
      // resultData carries the eUICC's result as it came.
      cause = outcome == InstallOutcome::AlreadyOnEuicc
                  ? "installation result: the ICCID already exists on the eUICC the BPP was issued to"
                  : "installation result: success";
      point = kPointBppInstallation;
      break;
    case OrderEvent::InstallFailed:
      to = ProfileState::Error;
      cause = "installation result: failure";
      point = kPointBppInstallation;
      failure = SmdppError{"8.2", "4.2", "profile installation failed on the eUICC"};
      break;
    case OrderEvent::Cancelled:
      if (profile.state == ProfileState::Downloaded) to = ProfileState::Error;
      cause = "download session cancelled";
      failure = SmdppError{"8.8", "4.2", "download session cancelled"};
      break;
    case OrderEvent::CcRefused:
      point = kPointConfirmationFailure;
      failure = SmdppError{codes::kConfirmationCodeRefused.subject, codes::kConfirmationCodeRefused.reason,
                           "confirmation code refused"};
      break;
  }
  if (event == OrderEvent::Installed) {
    // With the order done and the state on the eUICC, in the transition's own statements.
    Inventory::InstalledWrites writes;
    writes.done_order = order->id;
    if (pir) writes.card_seq = pir->profileInstallationResultData.notificationMetadata.seqNumber;
    RSP_TRY_VOID(inv_->transition_to_installed(profile.iccid, cause, profile.state, writes));
  } else if (to) {
    RSP_TRY_VOID(inv_->transition(profile.iccid, *to, cause, order->id, profile.state));
  }
  RSP_TRY_VOID(inv_->enqueue_progress_to(
      profile.operator_name, progress_payload(order->eid, profile.iccid, profile.profile_type, inv_->now(), point, failure,
                                      pir ? &result_data : nullptr)));
  RSP_DB_TRY_VOID(tx.commit());
  return outcome;
}

SmdppResult<void> SqlProfileCatalog::record(const std::string& matching_id, OrderEvent event) {
  auto r = retried([&] { return record_checked(matching_id, event); });
  if (!r) {
    note(r.error());
    return unexpected(r.error());
  }
  return {};
}

SmdppResult<InstallOutcome> SqlProfileCatalog::record_install_result(const std::string& matching_id,
                                                                     const asn1::sgp22::ProfileInstallationResult& pir) {
  auto r = retried([&] { return record_checked(matching_id, OrderEvent::InstallFailed, &pir); });
  if (!r) note(r.error());
  return r;
}

SmdppResult<void> SqlProfileCatalog::record_bpp_issued(const IssuedDownload& d) {
  return retried([&] { return bpp_issued(d); });
}

SmdppResult<void> SqlProfileCatalog::bpp_issued(const IssuedDownload& d) {
  RSP_DB_TRY(auto tx, inv_->db().begin());
  RSP_TRY(auto order, order_by_key(inv_->db(), d.matching_id));
  if (!order) return smdpp_error(es2codes::kExecutionError, "BPP issued for an unknown order");
  const ProfileRecord& profile = order->profile;
  // find() decided before; decided again here, in the transaction, against a
  // concurrent session and an order that expired or ran out of attempts since.
  const auto block = order_block(*order, d.eid, inv_->now(), options_.max_download_attempts);
  if (block != OrderBlock::None) {
    // Only a retry by the same eUICC may have another BPP.
    const auto code = block ? order_block_code(*block).value_or(codes::kProfileNotReleased) : codes::kProfileNotReleased;
    const SmdppError e{code.subject, code.reason,
                       "profile " + profile.iccid + " is " + std::string(to_string(profile.state)) +
                           (block ? "" : " for another eUICC")};
    note(e);
    return unexpected(e);
  }
  if (profile.state == ProfileState::Released)
    RSP_TRY_VOID(inv_->transition(profile.iccid, ProfileState::Downloaded, "bound profile package issued", order->id,
                                  profile.state));
  // The eUICC it went to and, unless a kept key pair was reused (then kept
  // as it is), the new one-time key pair replacing the one kept: one UPDATE.
  static const std::string kIssued =
      "UPDATE orders SET download_eid = $2, download_tid = $3, download_curve = $4, download_key = $5, updated_at = $6,"
      " download_attempts = download_attempts + 1";
  if (d.ot_key_reused) {
    RSP_DB_TRY_VOID(inv_->db().execute(
        kIssued + " WHERE id = $1",
        {value(order->id), value(d.eid), value(d.transaction_id), value(std::string(crypto::short_name(d.curve))),
         value(d.euicc_public_point), value(inv_->now())}));
  } else {
    auto kept = seal_one_time_key(order->id, profile.iccid, d);
    RSP_DB_TRY_VOID(inv_->db().execute(
        kIssued + ", bpp_euicc_otpk = $7, bpp_smdp_otsk = $8 WHERE id = $1",
        {value(order->id), value(d.eid), value(d.transaction_id), value(std::string(crypto::short_name(d.curve))),
         value(d.euicc_public_point), value(inv_->now()), kept ? value(d.euicc_otpk) : store::Value{},
         kept ? value(std::move(*kept)) : store::Value{}}));
  }
  RSP_TRY_VOID(inv_->enqueue_progress_to(
      profile.operator_name,
      progress_payload(order->eid, profile.iccid, profile.profile_type, inv_->now(), kPointBppDownload, std::nullopt)));
  RSP_DB_TRY_VOID(tx.commit());
  remember_issued(order->id, IssuedOrder{profile.iccid, profile.profile_type, profile.operator_name, order->eid});
  return {};
}

void SqlProfileCatalog::remember_issued(std::int64_t order_id, IssuedOrder o) {
  std::lock_guard lock(mu_);
  issued_[order_id] = std::move(o);
  issued_fifo_.push_back(order_id);
  while (issued_fifo_.size() > kIssuedOrdersKept) {
    // An id remembered again since stays in the deque twice; dropping the
    // older copy drops the newer entry too, which only costs its shortcut.
    issued_.erase(issued_fifo_.front());
    issued_fifo_.pop_front();
  }
}

std::optional<SqlProfileCatalog::IssuedOrder> SqlProfileCatalog::take_issued(std::int64_t order_id) {
  std::lock_guard lock(mu_);
  const auto it = issued_.find(order_id);
  if (it == issued_.end()) return std::nullopt;
  IssuedOrder o = std::move(it->second);
  issued_.erase(it);
  return o;
}

SmdppResult<void> SqlProfileCatalog::cancel(const std::string& matching_id, std::int64_t reason) {
  RSP_DB_TRY(auto tx, inv_->db().begin());
  RSP_TRY(auto order, order_by_key(inv_->db(), matching_id));
  if (!order) return smdpp_error(es2codes::kExecutionError, "cancel for an unknown order");
  const ProfileRecord& profile = order->profile;
  const std::string cause = "download session cancelled by the eUICC: " + cancel_reason_name(reason);
  const bool downloading = profile.state == ProfileState::Released || profile.state == ProfileState::Downloaded;
  if (downloading && !cancel_keeps_order(reason))
    RSP_TRY_VOID(inv_->transition(profile.iccid, ProfileState::Error, cause, order->id, profile.state));
  // SGP.22 §5.6.5: the operator hears of the cancelled session. The status
  // code data stays the execution error the other cancels report; the
  // reason is in its message (no code per reason could be confirmed).
  RSP_TRY_VOID(inv_->enqueue_progress_to(
      profile.operator_name, progress_payload(order->eid, profile.iccid, profile.profile_type, inv_->now(), kPointBppDownload,
                                      SmdppError{"8.8", "4.2", cause})));
  RSP_DB_TRY_VOID(tx.commit());
  return {};
}

SmdppResult<void> SqlProfileCatalog::record_cancel(const std::string& matching_id, std::int64_t reason) {
  auto r = retried([&] { return cancel(matching_id, reason); });
  if (!r) note(r.error());
  return r;
}

SmdppResult<std::optional<IssuedDownload>> SqlProfileCatalog::issued_download(const Bytes& transaction_id) {
  auto row = inv_->db().query_one(
      "SELECT r.id, r.download_eid, r.download_curve, r.download_key FROM orders r"
      " JOIN profiles p ON p.iccid = r.iccid WHERE r.download_tid = $1 AND r.active = 1 AND p.state = 'downloaded'",
      {value(transaction_id)});
  if (!row) {
    // Not "unknown transaction": the result must not be dropped for a read
    // that failed.
    const SmdppError e = storage_error(row.error());
    note(e);
    return unexpected(e);
  }
  if (!*row) return std::optional<IssuedDownload>();
  const auto& r = **row;
  IssuedDownload d;
  d.matching_id = "#" + std::to_string(r.int64(0));
  d.eid = r.opt_text(1).value_or("");
  d.transaction_id = transaction_id;
  d.curve = r.opt_text(2).value_or("") == crypto::short_name(crypto::Curve::BrainpoolP256r1)
                ? crypto::Curve::BrainpoolP256r1
                : crypto::Curve::NistP256;
  d.euicc_public_point = r.opt_blob(3).value_or(Bytes{});
  return std::optional<IssuedDownload>(std::move(d));
}

}  // namespace rsp::smdpp
