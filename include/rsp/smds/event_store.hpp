#pragma once
/// The SM-DS's event records (SGP.22 v2.2.2 §3.6: EID, eventId, RSP server
/// address), with the registrar that may delete each (§5.7.2: only the
/// SM-DP+ or SM-DS that registered an event). SQLite or PostgreSQL through
/// rsp::store, schema component "smds". A registration or deletion that must
/// reach the next SM-DS (§3.6, forwarding) enqueues its ES12 call in the
/// same transaction on the durable outbox, so it is neither lost nor sent
/// for a change that did not happen.

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "rsp/service/sql_outbox.hpp"
#include "rsp/smds/error.hpp"
#include "rsp/store/database.hpp"
#include "rsp/store/migrate.hpp"

namespace rsp::smds {

inline constexpr std::string_view kSchemaComponent = "smds";
std::span<const store::Migration> event_migrations();

struct Event {
  std::string registrar;  ///< the authenticated ES12 caller
  std::string event_id;
  std::string eid;
  std::string rsp_server_address;
  bool forwarded = false;  ///< registered at the next SM-DS as well
  std::int64_t created_at = 0;
};

class EventStore {
 public:
  /// Migrates the schema (and the outbox table when `outbox` is given).
  static SmdsResult<std::shared_ptr<EventStore>> open(std::shared_ptr<store::Database> db,
                                                      std::shared_ptr<service::SqlOutbox> outbox = nullptr);

  /// Adds `event`, with `forward` enqueued in the same transaction.
  /// kEventAlreadyInUse when its registrar has this eventId already.
  SmdsResult<void> add(const Event& event, const std::optional<service::OutboxMessage>& forward = std::nullopt);
  /// Removes the registrar's event `event_id` for `eid` and returns it;
  /// `forward(event)` may give an outbox entry to enqueue in the same
  /// transaction. kEventUnknown when there is none (another registrar's
  /// event is unknown to this one).
  SmdsResult<Event> remove(const std::string& registrar, const std::string& eid, const std::string& event_id,
                           const std::function<std::optional<service::OutboxMessage>(const Event&)>& forward = {});
  /// The events of `eid`, in the order they were registered (SGP.22 §3.6: first in, first out).
  SmdsResult<std::vector<Event>> for_eid(const std::string& eid);
  SmdsResult<std::int64_t> count();
  /// A committed write, for /healthz.
  SmdsResult<void> check_writable();
  /// The database, which also holds the ES11 sessions (session_store.hpp).
  const std::shared_ptr<store::Database>& database() const { return db_; }

 private:
  EventStore(std::shared_ptr<store::Database> db, std::shared_ptr<service::SqlOutbox> outbox)
      : db_(std::move(db)), outbox_(std::move(outbox)) {}
  std::shared_ptr<store::Database> db_;
  std::shared_ptr<service::SqlOutbox> outbox_;
};

}  // namespace rsp::smds
