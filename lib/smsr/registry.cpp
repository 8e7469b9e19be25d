#include "registry_sql.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "rsp/crypto/random.hpp"
#include "rsp/common/thread_name.hpp"
#include "rsp/m2m/eis_json.hpp"
#include "rsp/smsr/notification_sequence.hpp"

namespace rsp::smsr {

using nlohmann::json;
using store::value;
using namespace registry_detail;

namespace {

/// The stored form of the EIS without its keys and its profiles (those have
/// rows of their own).
std::string eis_document(const m2m::Eis& eis) {
  json j = m2m::eis_to_json(eis, m2m::Keys::Omit);
  j.erase("profiles");
  return j.dump();
}

}  // namespace

namespace registry_detail {

SmsrError corrupt(std::string_view eid, const std::string& what) {
  return SmsrError{m2m::codes::kExecutionError.subject, m2m::codes::kExecutionError.reason,
                   "the stored EIS of " + std::string(eid) + " does not read back: " + what, true};
}

}  // namespace registry_detail

SmsrResult<std::unique_ptr<Registry>> Registry::open(std::shared_ptr<store::Database> db, RegistryOptions options) {
  if (!db) return smsr_error(m2m::codes::kExecutionError, "no database");
  if (!options.kek) return smsr_error(m2m::codes::kExecutionError, "no key-encryption key for the EIS keys");
  SMSR_DB_TRY_VOID(store::migrate(*db, kSchemaComponent, registry_migrations()));
  if (!options.clock) options.clock = std::make_shared<service::SystemClock>();
  std::unique_ptr<Registry> r(new Registry(db, std::move(options)));
  auto urls = r->options_.callback_url;
  SMSR_DB_TRY(r->outbox_, service::SqlOutbox::open(
                              db, std::string(kCallbackOutbox), *r->options_.clock,
                              [urls](service::OutboxItem& item) -> expected<void, std::string> {
                                if (item.destination.empty() && urls) item.destination = urls(item.recipient);
                                return {};
                              }));
  RSP_TRY_VOID(r->index_psk_identities());
  r->audit_writer_ = std::thread([raw = r.get()] {
    set_thread_name("smsr-audit");
    raw->write_audit_lines();
  });
  return r;
}

Registry::~Registry() {
  {
    std::lock_guard lock(audit_mu_);
    audit_stopping_ = true;
  }
  audit_cv_.notify_all();
  if (audit_writer_.joinable()) audit_writer_.join();
  (void)flush_audit();
}

SmsrResult<void> Registry::index_psk_identities() {
  SMSR_DB_TRY(auto rows, db_->query("SELECT e.eid FROM smsr_eis e WHERE NOT EXISTS "
                                    "(SELECT 1 FROM smsr_psk p WHERE p.eid = e.eid)"));
  for (const auto& row : rows) {
    const std::string eid = row.text(0);
    RSP_TRY(auto eis, this->eis(eid));
    if (!eis || !eis->isd_r.scp81_psk) continue;
    SMSR_DB_TRY_VOID(db_->execute("INSERT INTO smsr_psk (identity, eid) VALUES ($1, $2)",
                                  {value(to_hex(eis->isd_r.scp81_psk->identity)), value(eid)}));
  }
  return {};
}

crypto::Random& Registry::rng() { return options_.rng ? *options_.rng : crypto::system_random(); }

SmsrResult<void> Registry::register_eis(const m2m::Eis& eis, std::int64_t now,
                                        std::span<const service::OutboxMessage> callbacks) {
  std::string keys_json = m2m::isdr_keys_to_json(eis.isd_r).dump();
  auto sealed = service::seal_package(*options_.kek, eis.eid, as_bytes(keys_json), rng());
  std::fill(keys_json.begin(), keys_json.end(), '\0');
  if (!sealed) return smsr_error(m2m::codes::kExecutionError, sealed.error().message);
  SMSR_DB_TRY(auto tx, db_->begin());
  SMSR_DB_TRY(auto existing, db_->query_one("SELECT 1 FROM smsr_eis WHERE eid = $1", {value(eis.eid)}));
  if (existing) return smsr_error(m2m::codes::kEidInUse, "EID " + eis.eid + " is registered already");
  for (const auto& p : eis.profiles) {
    SMSR_DB_TRY(auto held, db_->query_one("SELECT eid FROM smsr_isdp WHERE iccid = $1", {value(p.iccid)}));
    if (held) return smsr_error(m2m::codes::kIccidInUse, "ICCID " + p.iccid + " is on another eUICC");
  }
  // The PSK identity names the eUICC in its PSK-TLS handshake (GP
  // Amendment B): one held twice would make both sessions unusable.
  if (const auto& psk = eis.isd_r.scp81_psk) {
    SMSR_DB_TRY(auto held, db_->query_one("SELECT eid FROM smsr_psk WHERE identity = $1",
                                          {value(to_hex(psk->identity))}));
    if (held) return smsr_error(m2m::codes::kPskIdentityInUse, "the SCP81 PSK identity is another eUICC's");
  }
  SMSR_DB_TRY_VOID(db_->execute(
      "INSERT INTO smsr_eis (eid, eum_id, document, isdr_keys, registered_at) VALUES ($1, $2, $3, $4, $5)",
      {value(eis.eid), value(eis.eum_id), value(eis_document(eis)), value(std::move(*sealed)), value(now)}));
  if (const auto& psk = eis.isd_r.scp81_psk) {
    SMSR_DB_TRY_VOID(db_->execute("INSERT INTO smsr_psk (identity, eid) VALUES ($1, $2)",
                                  {value(to_hex(psk->identity)), value(eis.eid)}));
  }
  for (const auto& p : eis.profiles) {
    SMSR_DB_TRY_VOID(db_->execute(
        "INSERT INTO smsr_isdp (iccid, eid, isdp_aid, mno_id, document) VALUES ($1, $2, $3, $4, $5)",
        {value(p.iccid), value(eis.eid), value(to_hex(p.isdp_aid)), value(p.mno_id),
         value(m2m::profile_to_json(p).dump())}));
  }
  for (const auto& m : callbacks) SMSR_DB_TRY_VOID(outbox_->add(*db_, m));
  SMSR_DB_TRY_VOID(tx.commit());
  drop_cached_eis(eis.eid);
  // A notification number of an earlier registration not written yet is not
  // this one's (it starts without, notification_seq()). Should a batch
  // taken before still land on the new row, that number is the same card's,
  // whose counter goes on across registrations (an SM-SR change does not
  // reset it): its notifications to come are later ones all the same.
  std::lock_guard lock(audit_mu_);
  unwritten_seqs_.erase(eis.eid);
  return {};
}

SmsrResult<std::optional<m2m::Eis>> Registry::eis(std::string_view eid, bool with_keys) {
  store::Database& db = reader();
  std::optional<m2m::Eis> eis = cached_eis(eid);
  if (eis && !with_keys) return eis;
  std::optional<store::Row> row;
  std::size_t keys_column = 1;
  if (eis) {
    // The keys are never cached: read and opened for each caller that asks.
    SMSR_DB_TRY(row, db.query_one("SELECT isdr_keys FROM smsr_eis WHERE eid = $1", {value(eid)}));
    if (!row) return std::optional<m2m::Eis>();
    keys_column = 0;
  } else {
    const std::uint64_t epoch = eis_epoch();
    SMSR_DB_TRY(row, db.query_one(with_keys ? "SELECT document, isdr_keys, notification_seq FROM smsr_eis WHERE eid = $1"
                                            : "SELECT document, notification_seq FROM smsr_eis WHERE eid = $1",
                                  {value(eid)}));
    if (!row) return std::optional<m2m::Eis>();
    SMSR_DB_TRY(auto profiles,
                db.query("SELECT document FROM smsr_isdp WHERE eid = $1 ORDER BY isdp_aid", {value(eid)}));
    json doc = json::parse(row->text(0), nullptr, false);
    if (doc.is_discarded()) return unexpected(corrupt(eid, "not JSON"));
    doc["profiles"] = json::array();
    for (const auto& p : profiles) {
      json pj = json::parse(p.text(0), nullptr, false);
      if (pj.is_discarded()) return unexpected(corrupt(eid, "a profile is not JSON"));
      doc["profiles"].push_back(std::move(pj));
    }
    auto parsed = m2m::eis_from_json(doc);
    if (!parsed) return unexpected(corrupt(eid, parsed.error().path + " " + parsed.error().message));
    eis = std::move(*parsed);
    std::optional<std::uint32_t> seq;
    if (auto v = row->opt_int64(with_keys ? 2 : 1)) seq = static_cast<std::uint32_t>(*v);
    cache_eis(eid, *eis, epoch, std::nullopt, seq);
    if (!with_keys) return eis;
  }
  auto keys = service::open_package(options_.kek.get(), eid, row->blob(keys_column));
  if (!keys) return unexpected(corrupt(eid, keys.error().message));
  json kj = json::parse(to_string(*keys), nullptr, false);
  wipe(*keys);
  if (kj.is_discarded()) return unexpected(corrupt(eid, "its keys are not JSON"));
  auto opened = m2m::isdr_keys_from_json(kj, eis->isd_r);
  if (!opened) return unexpected(corrupt(eid, "its keys: " + opened.error().path + " " + opened.error().message));
  return std::optional<m2m::Eis>(std::move(*eis));
}

SmsrResult<std::optional<std::string>> Registry::eid_of_psk_identity(ByteView identity) {
  SMSR_DB_TRY(auto rows,
              reader().query("SELECT eid FROM smsr_psk WHERE identity = $1 LIMIT 2", {value(to_hex(identity))}));
  if (rows.empty()) return std::optional<std::string>();
  // Two eUICCs with one identity: neither session can be told apart.
  if (rows.size() > 1) return smsr_error(m2m::codes::kInvalidRequest, "SCP81 PSK identity held by several eUICCs");
  return std::optional<std::string>(rows.front().text(0));
}

SmsrResult<void> Registry::write_profile(std::string_view eid, const m2m::ProfileInfo& p) {
  SMSR_DB_TRY(auto n, db_->execute("UPDATE smsr_isdp SET document = $3, mno_id = $4, isdp_aid = $5 "
                                   "WHERE eid = $1 AND iccid = $2",
                                   {value(eid), value(p.iccid), value(m2m::profile_to_json(p).dump()),
                                    value(p.mno_id), value(to_hex(p.isdp_aid))}));
  if (n == 0) return smsr_error(m2m::codes::kIccidUnknown, "no profile " + p.iccid + " on " + std::string(eid));
  return {};
}

SmsrResult<void> Registry::put_profile(std::string_view eid, const m2m::ProfileInfo& p) {
  RSP_TRY_VOID(write_profile(eid, p));
  drop_cached_eis(eid);
  return {};
}

SmsrResult<void> Registry::erase_profile(std::string_view eid, std::string_view iccid) {
  SMSR_DB_TRY(auto n, db_->execute("DELETE FROM smsr_isdp WHERE eid = $1 AND iccid = $2", {value(eid), value(iccid)}));
  if (n == 0)
    return smsr_error(m2m::codes::kIccidUnknown, "no profile " + std::string(iccid) + " on " + std::string(eid));
  return {};
}

SmsrResult<void> Registry::delete_profile(std::string_view eid, std::string_view iccid) {
  RSP_TRY_VOID(erase_profile(eid, iccid));
  drop_cached_eis(eid);
  return {};
}

SmsrResult<bool> Registry::mno_has_profile_on(std::string_view eid, std::string_view mno) {
  SMSR_DB_TRY(auto row, reader().query_one("SELECT 1 FROM smsr_isdp WHERE eid = $1 AND mno_id = $2 LIMIT 1",
                                       {value(eid), value(mno)}));
  return row.has_value();
}

std::int64_t Registry::eis_count() {
  auto row = reader().query_one("SELECT COUNT(*) FROM smsr_eis");
  return row && *row ? (*row)->int64(0) : -1;
}

SmsrResult<bool> Registry::apply(std::string_view eid, const Change& c, std::int64_t now) {
  bool deferred_start = false;
  if (c.operation_id != 0) {
    std::lock_guard lock(starts_mu_);
    deferred_start = std::find(deferred_starts_.begin(), deferred_starts_.end(), c.operation_id) != deferred_starts_.end();
  }
  SMSR_DB_TRY(auto tx, db_->begin());
  if (c.operation_id != 0) {
    if (!is_final(c.state)) return smsr_error(m2m::codes::kExecutionError, "an operation ends in a final state");
    SMSR_DB_TRY(auto n, db_->execute("UPDATE smsr_operation SET state = $2, status = $3, subject_code = $4, "
                                     "reason_code = $5, finished_at = $6 WHERE id = $1 AND " + open_states_sql(),
                                     {value(c.operation_id), value(operation_state_name(c.state)), value(c.status),
                                      value(c.subject_code), value(c.reason_code), value(now)}));
    if (n == 0) return false;
    SMSR_DB_TRY_VOID(db_->execute("DELETE FROM smsr_command WHERE operation_id = $1", {value(c.operation_id)}));
    if (deferred_start) SMSR_DB_TRY_VOID(db_->execute("DELETE FROM smsr_wake_up WHERE eid = $1", {value(eid)}));
  }
  for (const auto& p : c.added)
    SMSR_DB_TRY_VOID(db_->execute(
        "INSERT INTO smsr_isdp (iccid, eid, isdp_aid, mno_id, document) VALUES ($1, $2, $3, $4, $5)",
        {value(p.iccid), value(eid), value(to_hex(p.isdp_aid)), value(p.mno_id), value(m2m::profile_to_json(p).dump())}));
  for (const auto& p : c.put) RSP_TRY_VOID(write_profile(eid, p));
  for (const auto& iccid : c.deleted) RSP_TRY_VOID(erase_profile(eid, iccid));
  if (c.remaining_memory) {
    SMSR_DB_TRY(auto row, db_->query_one("SELECT document FROM smsr_eis WHERE eid = $1", {value(eid)}));
    if (!row) return smsr_error(m2m::codes::kEidUnknown, "unknown EID");
    json doc = json::parse(row->text(0), nullptr, false);
    if (doc.is_discarded()) return unexpected(corrupt(eid, "not JSON"));
    doc["remainingMemory"] = *c.remaining_memory;
    SMSR_DB_TRY_VOID(db_->execute("UPDATE smsr_eis SET document = $2 WHERE eid = $1", {value(eid), value(doc.dump())}));
  }
  if (c.notification_seq) RSP_TRY_VOID(store_notification_seq(eid, *c.notification_seq));
  for (const auto& m : c.callbacks) SMSR_DB_TRY_VOID(outbox_->add(*db_, m));
  for (const auto& a : c.audit) RSP_TRY_VOID(insert_audit(*db_, a));
  if (c.handed_over) {
    for (const char* table : {"smsr_command", "smsr_isdp", "smsr_psk", "smsr_scp80_counter", "smsr_eis"})
      SMSR_DB_TRY_VOID(db_->execute(std::string("DELETE FROM ") + table + " WHERE eid = $1", {value(eid)}));
  }
  const bool changes_eis = !c.added.empty() || !c.put.empty() || !c.deleted.empty() || c.remaining_memory ||
                           c.handed_over || c.notification_seq;
  const std::uint64_t ticket = eis_change_ticket();  // in the transaction: in commit order
  // The commit is visible before its flush ends and commit() returns; what
  // it tells (a callback, claimed once the flush is over) may be acted on
  // before the cached copy below is updated: until then readers go to the
  // database.
  if (changes_eis) begin_eis_change(eid);
  if (auto committed = tx.commit(); !committed) {
    drop_cached_eis(eid);  // a failed flush may leave the change in place
    if (changes_eis) end_eis_change(eid);
    return unexpected(storage_error(committed.error()));
  }
  if (deferred_start) (void)take_deferred_start(c.operation_id);
  // After the commit: a read that began before it does not fill the cache.
  if (changes_eis) {
    update_cached_eis(eid, c, ticket);
    end_eis_change(eid);
  }
  if (c.handed_over) {
    {
      std::lock_guard lock(audit_mu_);
      unwritten_seqs_.erase(std::string(eid));  // its row is gone (the batch's update finds none)
    }
    // Its counters went with the EIS: none is reserved here any more.
    const std::string prefix = std::string(eid) + "/";
    std::lock_guard lock(counters_mu_);
    std::erase_if(counters_, [&](const auto& e) { return e.first.starts_with(prefix); });
  }
  return true;
}

SmsrResult<void> Registry::store_notification_seq(std::string_view eid, std::uint32_t seq) {
  SMSR_DB_TRY_VOID(db_->execute("UPDATE smsr_eis SET notification_seq = $2 WHERE eid = $1 AND " +
                                    sql_sequence_after("$2", "notification_seq"),
                                {value(eid), value(static_cast<std::int64_t>(seq))}));
  return {};
}

SmsrResult<std::optional<std::uint32_t>> Registry::notification_seq(std::string_view eid) {
  std::optional<std::uint32_t> last;
  if (auto cached = cached_notification_seq(eid)) {
    last = *cached;
  } else {
    SMSR_DB_TRY(auto row, reader().query_one("SELECT notification_seq FROM smsr_eis WHERE eid = $1", {value(eid)}));
    if (row)
      if (auto v = row->opt_int64(0)) last = static_cast<std::uint32_t>(*v);
  }
  // One that changed nothing may wait for its audit batch still.
  std::lock_guard lock(audit_mu_);
  if (auto it = unwritten_seqs_.find(std::string(eid)); it != unwritten_seqs_.end())
    last = later_sequence(last, it->second);
  return last;
}

}  // namespace rsp::smsr
