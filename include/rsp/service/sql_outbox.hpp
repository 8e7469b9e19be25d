#pragma once
/// A durable outbox in SQL, shared by every server role that calls back:
/// the store side of the outbox worker (outbox.hpp) over rsp::store.
///
/// One table, `service_outbox`, with its own schema component
/// (kOutboxSchemaComponent), so that it sits beside any role's tables and
/// several roles may share one database. Every entry carries the name of
/// its outbox (a role and topic, e.g. "smdpp.hdpi"); a SqlOutbox serves one
/// name and never sees another's entries.
///
/// Enqueueing is a plain INSERT on the database the caller passes: run inside
/// the role's own open transaction (store::Database::begin), the entry
/// commits or rolls back with the state change that caused it, so a callback
/// is never lost nor sent for a change that did not happen.
///
/// Delivery follows outbox.hpp: an entry is claimed under a token unique to
/// the sender and leased (its next_try_at moved to the lease's end), so two
/// workers, in one process or in several sharing the database, never hold it
/// at once, and one whose sender died is due again when the lease ends;
/// delivered() and failed() change it only while it is still held under that
/// token. A failed attempt is retried after first_delay, doubling up to
/// max_delay; after max_attempts it stays, status 'failed', for the audit.
/// Times are whole seconds of the injected clock.

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "rsp/service/clock.hpp"
#include "rsp/service/outbox.hpp"
#include "rsp/store/database.hpp"
#include "rsp/store/migrate.hpp"

namespace rsp::service {

/// The outbox table's schema version is kept under this name (store::migrate).
inline constexpr std::string_view kOutboxSchemaComponent = "service.outbox";
/// The outbox schema, oldest migration first.
std::span<const store::Migration> outbox_migrations();
/// Creates or upgrades the outbox table; harmless when it is current.
store::DbResult<int> migrate_outbox(store::Database& db);

/// One entry to send.
struct OutboxMessage {
  std::string recipient;    ///< the lane: one recipient's entries go out in order
  std::string body;         ///< text (JSON, XML; binary as base64)
  std::string destination;  ///< empty: the role's prepare hook gives it at send time
  /// The role's own name for the entry, the same on every attempt (e.g. the
  /// function call identifier a recipient drops duplicates by); may be empty.
  std::string ref;
};

class SqlOutbox final : public OutboxStore {
 public:
  /// Completes a claimed item before it is sent: e.g. the recipient's
  /// callback URL as configured now, or a header naming the entry. Runs in
  /// the claim's transaction, on the thread that claims, so it may read the
  /// same database; an error undoes the claim. The message is for the log.
  using Prepare = std::function<expected<void, std::string>(OutboxItem& item)>;

  /// Migrates the table (migrate_outbox) and serves the entries of outbox
  /// `name`. `clock` must outlive the outbox.
  static store::DbResult<std::shared_ptr<SqlOutbox>> open(std::shared_ptr<store::Database> db, std::string name,
                                                          const Clock& clock, Prepare prepare = {});

  /// Adds an entry to this outbox, due now, with a plain INSERT on `db`:
  /// pass the database whose transaction is open on this thread (usually the
  /// one this outbox was opened on) and the entry joins that transaction.
  /// Returns the entry's id.
  store::DbResult<std::int64_t> enqueue(store::Database& db, const OutboxMessage& message) const;
  /// enqueue() for a caller that needs no id: the INSERT alone. SQLite runs
  /// the RETURNING that reads the id back through a temporary table it
  /// builds and drops on every call (a page cache of its own each time),
  /// which cost the SM-DP+ more than the INSERT on every download.
  store::DbResult<void> add(store::Database& db, const OutboxMessage& message) const;

  /// Entries due now (pending, not leased), oldest first, at most `limit`;
  /// for inspection: nothing is claimed, and they are not prepared.
  store::DbResult<std::vector<OutboxItem>> due(std::size_t limit = 100);

  const std::string& name() const { return name_; }

  // OutboxStore
  expected<std::vector<std::string>, std::string> due_recipients(std::size_t limit) override;
  expected<std::optional<OutboxItem>, std::string> claim_next(const std::string& recipient, std::chrono::seconds lease,
                                                              const std::string& claim) override;
  expected<bool, std::string> delivered(const OutboxItem& item) override;
  expected<bool, std::string> failed(const OutboxItem& item, const std::string& error,
                                     const OutboxPolicy& policy) override;
  /// In one transaction each.
  expected<std::vector<OutboxItem>, std::string> claim_batch(const std::string& recipient, std::chrono::seconds lease,
                                                             const std::string& claim, std::size_t max) override;
  expected<std::size_t, std::string> delivered_batch(std::span<const OutboxItem> items) override;
  expected<void, std::string> release(std::span<const OutboxItem> items) override;
  /// In one transaction.
  expected<std::pair<std::size_t, std::vector<OutboxItem>>, std::string> delivered_and_claim(
      std::span<const OutboxItem> delivered, const std::string& recipient, std::chrono::seconds lease,
      const std::string& claim, std::size_t max) override;

 private:
  SqlOutbox(std::shared_ptr<store::Database> db, std::string name, const Clock& clock, Prepare prepare)
      : db_(std::move(db)), name_(std::move(name)), clock_(clock), prepare_(std::move(prepare)) {}
  std::int64_t now() const;
  store::DbResult<std::vector<OutboxItem>> claim(const std::string& recipient, std::chrono::seconds lease,
                                                 const std::string& claim, std::size_t max, std::string& prepare_error);
  /// delivered()'s statement for each of `items` in the caller's
  /// transaction; how many were still held.
  store::DbResult<std::size_t> mark_delivered(std::span<const OutboxItem> items);
  /// claim()'s statements in the caller's transaction; with `prepare_error`
  /// set or nothing claimed, the caller rolls back what they did.
  store::DbResult<std::vector<OutboxItem>> claim_in(const std::string& recipient, std::chrono::seconds lease,
                                                    const std::string& claim, std::size_t max,
                                                    std::string& prepare_error);

  std::shared_ptr<store::Database> db_;
  std::string name_;
  const Clock& clock_;
  Prepare prepare_;
};

/// The delay before attempt `attempts + 1` after `attempts` failed ones:
/// policy.first_delay doubled per earlier failure, at most policy.max_delay.
std::chrono::seconds outbox_retry_delay(int attempts, const OutboxPolicy& policy);

}  // namespace rsp::service
