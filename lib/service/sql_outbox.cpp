#include "rsp/service/sql_outbox.hpp"

#include <algorithm>
#include <array>

#include "rsp/store/locking.hpp"

namespace rsp::service {

using store::value;

namespace {

// Portable SQL with the dialect words of store/migrate.hpp. `destination`
// and `ref` are NULL when the role gives none; the partial index holds only
// the pending entries, in the order a lane takes them.
const store::Migration kMigrations[] = {
    {1, "the outbox of every role, by outbox name and recipient", R"sql(
CREATE TABLE service_outbox (
  id {ID},
  outbox TEXT NOT NULL,
  recipient TEXT NOT NULL,
  destination TEXT,
  ref TEXT,
  body TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts {INT} NOT NULL DEFAULT 0,
  next_try_at {INT} NOT NULL,
  claim_token TEXT,
  last_error TEXT,
  created_at {INT} NOT NULL,
  delivered_at {INT}
);
CREATE INDEX service_outbox_due ON service_outbox (outbox, recipient, next_try_at, id) WHERE status = 'pending';
)sql"},
};

constexpr const char* kItemColumns = "SELECT id, recipient, destination, body, attempts, ref FROM service_outbox ";

OutboxItem item_from(const store::Row& r) {
  OutboxItem item;
  item.id = r.int64(0);
  item.recipient = r.text(1);
  item.destination = r.opt_text(2).value_or("");
  item.body = r.text(3);
  item.attempts = static_cast<int>(r.int64(4));
  item.ref = r.opt_text(5).value_or("");
  return item;
}

std::string message(const store::DbError& e) { return "outbox storage: " + e.message; }

std::optional<std::string> opt(const std::string& s) { return s.empty() ? std::nullopt : std::optional(s); }

}  // namespace

std::span<const store::Migration> outbox_migrations() { return kMigrations; }

store::DbResult<int> migrate_outbox(store::Database& db) {
  return store::migrate(db, kOutboxSchemaComponent, outbox_migrations());
}

std::chrono::seconds outbox_retry_delay(int attempts, const OutboxPolicy& policy) {
  std::int64_t delay = policy.first_delay.count();
  for (int i = 0; i < attempts && delay < policy.max_delay.count(); ++i) delay *= 2;
  return std::chrono::seconds(std::min<std::int64_t>(delay, policy.max_delay.count()));
}

store::DbResult<std::shared_ptr<SqlOutbox>> SqlOutbox::open(std::shared_ptr<store::Database> db, std::string name,
                                                            const Clock& clock, Prepare prepare) {
  if (!db) return store::db_error(store::DbError::Kind::Misuse, "outbox without a database");
  if (name.empty()) return store::db_error(store::DbError::Kind::Misuse, "outbox without a name");
  RSP_TRY_VOID(migrate_outbox(*db));
  return std::shared_ptr<SqlOutbox>(new SqlOutbox(std::move(db), std::move(name), clock, std::move(prepare)));
}

std::int64_t SqlOutbox::now() const { return clock_.now().time_since_epoch().count(); }

namespace {

constexpr std::string_view kInsert =
    "INSERT INTO service_outbox (outbox, recipient, destination, ref, body, next_try_at, created_at)"
    " VALUES ($1, $2, $3, $4, $5, $6, $6)";

/// kInsert's parameters for `m` in outbox `name`, due at `now`.
std::array<store::Value, 6> insert_values(const std::string& name, const OutboxMessage& m, std::int64_t now) {
  return {value(name), value(m.recipient), value(opt(m.destination)), value(opt(m.ref)), value(m.body), value(now)};
}

}  // namespace

store::DbResult<std::int64_t> SqlOutbox::enqueue(store::Database& db, const OutboxMessage& m) const {
  if (m.recipient.empty()) return store::db_error(store::DbError::Kind::Misuse, "outbox entry without a recipient");
  RSP_TRY(auto rows, db.query(std::string(kInsert) + " RETURNING id", insert_values(name_, m, now())));
  if (rows.empty()) return store::db_error(store::DbError::Kind::Misuse, "outbox entry not stored");
  return rows.front().int64(0);
}

store::DbResult<void> SqlOutbox::add(store::Database& db, const OutboxMessage& m) const {
  if (m.recipient.empty()) return store::db_error(store::DbError::Kind::Misuse, "outbox entry without a recipient");
  RSP_TRY(const auto changed, db.execute(kInsert, insert_values(name_, m, now())));
  if (changed != 1) return store::db_error(store::DbError::Kind::Misuse, "outbox entry not stored");
  return {};
}

store::DbResult<std::vector<OutboxItem>> SqlOutbox::due(std::size_t limit) {
  RSP_TRY(auto rows, db_->query(std::string(kItemColumns) +
                                    "WHERE outbox = $1 AND status = 'pending' AND next_try_at <= $2 ORDER BY id LIMIT $3",
                                {value(name_), value(now()), value(static_cast<std::int64_t>(limit))}));
  std::vector<OutboxItem> out;
  out.reserve(rows.size());
  for (const auto& r : rows) out.push_back(item_from(r));
  return out;
}

expected<std::vector<std::string>, std::string> SqlOutbox::due_recipients(std::size_t limit) {
  auto rows = db_->query(
      "SELECT recipient FROM service_outbox WHERE outbox = $1 AND status = 'pending' AND next_try_at <= $2"
      " GROUP BY recipient ORDER BY MIN(id) LIMIT $3",
      {value(name_), value(now()), value(static_cast<std::int64_t>(limit))});
  if (!rows) return unexpected(message(rows.error()));
  std::vector<std::string> out;
  out.reserve(rows->size());
  for (const auto& r : *rows) out.push_back(r.text(0));
  return out;
}

store::DbResult<std::vector<OutboxItem>> SqlOutbox::claim(const std::string& recipient, std::chrono::seconds lease,
                                                          const std::string& claim, std::size_t max,
                                                          std::string& prepare_error) {
  // Of two senders (threads or instances) only one takes an entry: SQLite
  // runs one transaction at a time; on PostgreSQL the entry read is locked
  // until the claim commits, and one that another sender holds is passed
  // over (SKIP LOCKED). The update checks the row again all the same.
  // No disk flush of its own (store::Database::begin_deferred_flush): a
  // claim lost with the machine only makes the entry due again, and delivery
  // is at least once already (a sender may die between the recipient's
  // answer and delivered()), repeats carrying the same `ref`.
  RSP_TRY(auto tx, db_->begin_deferred_flush());
  RSP_TRY(auto out, claim_in(recipient, lease, claim, max, prepare_error));
  if (out.empty()) return out;  // rolled back: nothing claimed
  RSP_TRY_VOID(tx.commit());
  return out;
}

store::DbResult<std::vector<OutboxItem>> SqlOutbox::claim_in(const std::string& recipient, std::chrono::seconds lease,
                                                             const std::string& claim, std::size_t max,
                                                             std::string& prepare_error) {
  const std::int64_t t = now();
  RSP_TRY(auto rows, db_->query(std::string(kItemColumns) +
                                    "WHERE outbox = $1 AND recipient = $2 AND status = 'pending'"
                                    " AND next_try_at <= $3 ORDER BY next_try_at, id LIMIT $4" +
                                    store::row_lock(*db_, store::RowLock::SkipLocked),
                                {value(name_), value(recipient), value(t),
                                 value(static_cast<std::int64_t>(std::max<std::size_t>(max, 1)))}));
  std::vector<OutboxItem> out;
  for (const auto& row : rows) {
    OutboxItem item = item_from(row);
    item.claim = claim;
    RSP_TRY(auto n, db_->execute("UPDATE service_outbox SET next_try_at = $2, claim_token = $3"
                                 " WHERE id = $1 AND status = 'pending' AND next_try_at <= $4",
                                 {value(item.id), value(t + lease.count()), value(claim), value(t)}));
    if (n != 1) break;
    if (prepare_) {
      if (auto ready = prepare_(item); !ready) {
        // The entries before it stay claimed; this one and the rest are not.
        if (out.empty()) {
          prepare_error = ready.error();
          return out;  // the caller rolls back: nothing claimed
        }
        RSP_TRY_VOID(db_->execute("UPDATE service_outbox SET next_try_at = $2, claim_token = NULL WHERE id = $1",
                                  {value(item.id), value(t)}));
        break;
      }
    }
    out.push_back(std::move(item));
  }
  return out;
}

expected<std::optional<OutboxItem>, std::string> SqlOutbox::claim_next(const std::string& recipient,
                                                                       std::chrono::seconds lease,
                                                                       const std::string& claim) {
  if (claim.empty()) return unexpected(std::string("outbox claim without a token"));
  std::string prepare_error;
  auto r = this->claim(recipient, lease, claim, 1, prepare_error);
  if (!r) return unexpected(message(r.error()));
  if (!prepare_error.empty()) return unexpected(prepare_error);
  if (r->empty()) return std::optional<OutboxItem>();
  return std::optional<OutboxItem>(std::move(r->front()));
}

expected<std::vector<OutboxItem>, std::string> SqlOutbox::claim_batch(const std::string& recipient,
                                                                      std::chrono::seconds lease,
                                                                      const std::string& claim, std::size_t max) {
  if (claim.empty()) return unexpected(std::string("outbox claim without a token"));
  std::string prepare_error;
  auto r = this->claim(recipient, lease, claim, max, prepare_error);
  if (!r) return unexpected(message(r.error()));
  if (!prepare_error.empty()) return unexpected(prepare_error);
  return std::move(*r);
}

store::DbResult<std::size_t> SqlOutbox::mark_delivered(std::span<const OutboxItem> items) {
  std::size_t held = 0;
  const std::int64_t t = now();
  for (const auto& item : items) {
    RSP_TRY(auto n, db_->execute("UPDATE service_outbox SET status = 'delivered', attempts = attempts + 1,"
                                 " delivered_at = $2, claim_token = NULL"
                                 " WHERE id = $1 AND outbox = $3 AND status = 'pending' AND claim_token = $4",
                                 {value(item.id), value(t), value(name_), value(item.claim)}));
    held += n == 1 ? 1 : 0;
  }
  return held;
}

expected<std::size_t, std::string> SqlOutbox::delivered_batch(std::span<const OutboxItem> items) {
  // Without a flush of its own, as delivered() and claim(): lost with the
  // machine, the batch is delivered once more, in order (a crash loses the
  // last commits, never one before a kept one), each entry with its `ref`.
  auto run = [&]() -> store::DbResult<std::size_t> {
    RSP_TRY(auto tx, db_->begin_deferred_flush());
    RSP_TRY(auto held, mark_delivered(items));
    RSP_TRY_VOID(tx.commit());
    return held;
  };
  auto r = run();
  if (!r) return unexpected(message(r.error()));
  return *r;
}

expected<std::pair<std::size_t, std::vector<OutboxItem>>, std::string> SqlOutbox::delivered_and_claim(
    std::span<const OutboxItem> delivered, const std::string& recipient, std::chrono::seconds lease,
    const std::string& claim, std::size_t max) {
  using Result = std::pair<std::size_t, std::vector<OutboxItem>>;
  if (claim.empty()) return unexpected(std::string("outbox claim without a token"));
  // Without a flush of its own, as delivered_batch() and claim().
  std::string prepare_error;
  auto run = [&]() -> store::DbResult<Result> {
    RSP_TRY(auto tx, db_->begin_deferred_flush());
    RSP_TRY(auto held, mark_delivered(delivered));
    RSP_TRY(auto next, claim_in(recipient, lease, claim, max, prepare_error));
    // A claim its prepare hook refused at once is undone with the marks;
    // the marks then go on their own (below).
    if (!prepare_error.empty()) return Result{0, {}};
    if (held == 0 && next.empty()) return Result{0, {}};  // rolled back: nothing changed
    RSP_TRY_VOID(tx.commit());
    return Result{held, std::move(next)};
  };
  auto r = run();
  if (!r) return unexpected(message(r.error()));
  if (!prepare_error.empty()) {
    // As claim_batch(): nothing claimed (the lane ends; the entry is due
    // again at the next poll).
    auto held = delivered_batch(delivered);
    if (!held) return unexpected(held.error());
    return Result{*held, {}};
  }
  return std::move(*r);
}

expected<void, std::string> SqlOutbox::release(std::span<const OutboxItem> items) {
  // No flush either: lost with the machine, the entries are due again when
  // their lease ends, as an entry whose sender died.
  auto run = [&]() -> store::DbResult<void> {
    RSP_TRY(auto tx, db_->begin_deferred_flush());
    for (const auto& item : items) {
      RSP_TRY_VOID(db_->execute("UPDATE service_outbox SET next_try_at = $2, claim_token = NULL"
                                " WHERE id = $1 AND outbox = $3 AND status = 'pending' AND claim_token = $4",
                                {value(item.id), value(now()), value(name_), value(item.claim)}));
    }
    return tx.commit();
  };
  if (auto r = run(); !r) return unexpected(message(r.error()));
  return {};
}

expected<bool, std::string> SqlOutbox::delivered(const OutboxItem& item) {
  // Without a flush of its own, as claim(): lost with the machine, the entry
  // is delivered once more.
  auto tx = db_->begin_deferred_flush();
  if (!tx) return unexpected(message(tx.error()));
  auto n = db_->execute("UPDATE service_outbox SET status = 'delivered', attempts = attempts + 1, delivered_at = $2,"
                        " claim_token = NULL WHERE id = $1 AND outbox = $3 AND status = 'pending' AND claim_token = $4",
                        {value(item.id), value(now()), value(name_), value(item.claim)});
  if (!n) return unexpected(message(n.error()));
  if (auto c = tx->commit(); !c) return unexpected(message(c.error()));
  return *n == 1;
}

expected<bool, std::string> SqlOutbox::failed(const OutboxItem& item, const std::string& error,
                                              const OutboxPolicy& policy) {
  // Held under its claim, the entry has not changed since it was claimed:
  // item.attempts is the stored count.
  const int attempts = item.attempts + 1;
  const bool give_up = attempts >= policy.max_attempts;
  auto n = db_->execute(
      "UPDATE service_outbox SET attempts = $2, next_try_at = $3, last_error = $4, status = $5, claim_token = NULL"
      " WHERE id = $1 AND outbox = $6 AND status = 'pending' AND claim_token = $7",
      {value(item.id), value(attempts), value(now() + outbox_retry_delay(item.attempts, policy).count()), value(error),
       value(give_up ? "failed" : "pending"), value(name_), value(item.claim)});
  if (!n) return unexpected(message(n.error()));
  return *n == 1;
}

}  // namespace rsp::service
