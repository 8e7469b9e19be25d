// The SM-SR registry's audit trail: lines written in the caller's
// transaction, or buffered and written in batches by the audit writer thread.

#include "registry_sql.hpp"

#include "rsp/smsr/notification_sequence.hpp"

#include <chrono>
#include <iterator>
#include <mutex>

namespace rsp::smsr {

using nlohmann::json;
using store::value;
using namespace registry_detail;

namespace {

/// Audit lines buffered by audit_later() before a batch is written.
constexpr std::size_t kAuditBatch = 256;

}  // namespace

namespace registry_detail {

SmsrResult<void> insert_audit(store::Database& db, const AuditEntry& e) {
  SMSR_DB_TRY_VOID(db.execute(
      "INSERT INTO smsr_audit (at, caller, function, eid, isdp_aid, result) VALUES ($1, $2, $3, $4, $5, $6)",
      {value(e.at), value(e.caller), value(e.function), value(e.eid), value(e.isdp_aid), value(e.result)}));
  return {};
}

}  // namespace registry_detail

void Registry::write_audit_lines() {
  constexpr auto kAuditAge = std::chrono::seconds(1);  // the longest a buffered line waits
  std::unique_lock lock(audit_mu_);
  while (!audit_stopping_) {
    audit_cv_.wait_for(lock, kAuditAge, [this] { return audit_stopping_ || audit_buffer_.size() >= kAuditBatch; });
    if (audit_stopping_) return;
    if (audit_buffer_.empty()) continue;
    lock.unlock();
    (void)flush_audit();  // a failed batch stays buffered for the next
    lock.lock();
  }
}

SmsrResult<void> Registry::audit(const AuditEntry& e) {
  // In a transaction, to share a flush with other threads' commits (start_operation).
  SMSR_DB_TRY(auto tx, db_->begin());
  RSP_TRY_VOID(insert_audit(*db_, e));
  SMSR_DB_TRY_VOID(tx.commit());
  return {};
}

void Registry::audit_later(AuditEntry entry, std::optional<std::uint32_t> notification_seq) {
  bool full = false;
  // In memory at once, where notification_seq() looks: the EIS shows already
  // what that notification says, so the number is never ahead of it.
  if (notification_seq) note_cached_notification_seq(entry.eid, *notification_seq);
  {
    std::lock_guard lock(audit_mu_);
    if (notification_seq) {
      auto [it, added] = unwritten_seqs_.try_emplace(entry.eid, *notification_seq);
      if (!added) it->second = *later_sequence(it->second, *notification_seq);
    }
    audit_buffer_.push_back(std::move(entry));
    full = audit_buffer_.size() >= kAuditBatch;
  }
  // The writer thread flushes it: the read that filled the buffer does not wait.
  if (full) audit_cv_.notify_all();
}

SmsrResult<void> Registry::flush_audit() {
  std::vector<AuditEntry> batch;
  // Copied, not taken: notification_seq() finds them there until they are
  // committed (a later one noted meanwhile stays for the next batch).
  std::vector<std::pair<std::string, std::uint32_t>> seqs;
  {
    std::lock_guard lock(audit_mu_);
    batch.swap(audit_buffer_);
    seqs.assign(unwritten_seqs_.begin(), unwritten_seqs_.end());
  }
  if (batch.empty() && seqs.empty()) return {};
  auto written = [&]() -> SmsrResult<void> {
    SMSR_DB_TRY(auto tx, db_->begin());
    for (const auto& e : batch) RSP_TRY_VOID(insert_audit(*db_, e));
    for (const auto& [eid, seq] : seqs) RSP_TRY_VOID(store_notification_seq(eid, seq));
    SMSR_DB_TRY_VOID(tx.commit());
    return {};
  }();
  if (written) {
    for (const auto& [eid, seq] : seqs) note_cached_notification_seq(eid, seq);  // as stored now
    std::lock_guard lock(audit_mu_);
    for (const auto& [eid, seq] : seqs)
      if (auto it = unwritten_seqs_.find(eid); it != unwritten_seqs_.end() && it->second == seq) unwritten_seqs_.erase(it);
  } else {
    // Kept for the next batch, ahead of the lines that came meanwhile.
    std::lock_guard lock(audit_mu_);
    audit_buffer_.insert(audit_buffer_.begin(), std::make_move_iterator(batch.begin()),
                         std::make_move_iterator(batch.end()));
  }
  return written;
}

SmsrResult<std::vector<AuditEntry>> read_audit_trail(store::Database& db, std::string_view eid) {
  SMSR_DB_TRY(auto rows, db.query("SELECT at, caller, function, eid, isdp_aid, result FROM smsr_audit "
                                  "WHERE eid = $1 ORDER BY id",
                                  {value(eid)}));
  std::vector<AuditEntry> out;
  for (const auto& r : rows) out.push_back({r.int64(0), r.text(1), r.text(2), r.text(3), r.text(4), r.text(5)});
  return out;
}

SmsrResult<std::vector<AuditEntry>> Registry::audit_trail(std::string_view eid) {
  RSP_TRY_VOID(flush_audit());
  return read_audit_trail(reader(), eid);
}

}  // namespace rsp::smsr
