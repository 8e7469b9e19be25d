#include "rsp/smds/event_store.hpp"

#include "db_try.hpp"

namespace rsp::smds {

namespace {

using store::value;

const store::Migration kMigrations[] = {
    {1, "event records with their registrar",
     R"(
CREATE TABLE smds_event (
  id {ID},
  registrar TEXT NOT NULL,
  event_id TEXT NOT NULL,
  eid TEXT NOT NULL,
  rsp_server_address TEXT NOT NULL,
  forwarded {INT} NOT NULL,
  created_at {INT} NOT NULL,
  UNIQUE (registrar, event_id)
);
CREATE INDEX smds_event_eid ON smds_event(eid, id);
CREATE TABLE smds_health (
  id {INT} PRIMARY KEY,
  at {INT} NOT NULL
);
)"},
    {2, "ES11 sessions shared by the instances of one database (session_store.hpp)",
     R"(
CREATE TABLE smds_session (
  transaction_id {BLOB} PRIMARY KEY,
  server_challenge {BLOB} NOT NULL,
  expires_at {INT} NOT NULL
);
CREATE INDEX smds_session_expiry ON smds_session(expires_at);
)"}};

Event event_from(const store::Row& r) {
  return Event{r.text(0), r.text(1), r.text(2), r.text(3), r.int64(4) != 0, r.int64(5)};
}

constexpr const char* kColumns = "registrar, event_id, eid, rsp_server_address, forwarded, created_at";

}  // namespace

std::span<const store::Migration> event_migrations() { return kMigrations; }

SmdsResult<std::shared_ptr<EventStore>> EventStore::open(std::shared_ptr<store::Database> db,
                                                         std::shared_ptr<service::SqlOutbox> outbox) {
  SMDS_DB_TRY_VOID(store::migrate(*db, kSchemaComponent, event_migrations()));
  SMDS_DB_TRY_VOID(service::migrate_outbox(*db));
  return std::shared_ptr<EventStore>(new EventStore(std::move(db), std::move(outbox)));
}

SmdsResult<void> EventStore::add(const Event& e, const std::optional<service::OutboxMessage>& forward) {
  SMDS_DB_TRY(auto tx, db_->begin());
  SMDS_DB_TRY(auto existing, db_->query_one("SELECT 1 FROM smds_event WHERE registrar = $1 AND event_id = $2",
                                            {value(e.registrar), value(e.event_id)}));
  if (existing) return smds_error(codes::kEventAlreadyInUse, "this registrar has registered the eventId already");
  SMDS_DB_TRY_VOID(db_->execute(
      "INSERT INTO smds_event (registrar, event_id, eid, rsp_server_address, forwarded, created_at) "
      "VALUES ($1, $2, $3, $4, $5, $6)",
      {value(e.registrar), value(e.event_id), value(e.eid), value(e.rsp_server_address), value(e.forwarded),
       value(e.created_at)}));
  if (forward) {
    if (!outbox_) return smds_error(codes::kExecutionError, "no outbox to forward the event with");
    SMDS_DB_TRY_VOID(outbox_->add(*db_, *forward));
  }
  SMDS_DB_TRY_VOID(tx.commit());
  return {};
}

SmdsResult<Event> EventStore::remove(const std::string& registrar, const std::string& eid,
                                     const std::string& event_id,
                                     const std::function<std::optional<service::OutboxMessage>(const Event&)>& forward) {
  SMDS_DB_TRY(auto tx, db_->begin());
  SMDS_DB_TRY(auto row, db_->query_one(std::string("SELECT ") + kColumns +
                                           " FROM smds_event WHERE registrar = $1 AND event_id = $2 AND eid = $3",
                                       {value(registrar), value(event_id), value(eid)}));
  if (!row) return smds_error(codes::kEventUnknown, "no such event of this registrar for this EID");
  Event e = event_from(*row);
  SMDS_DB_TRY_VOID(db_->execute("DELETE FROM smds_event WHERE registrar = $1 AND event_id = $2",
                                {value(registrar), value(event_id)}));
  if (forward)
    if (auto message = forward(e)) {
      if (!outbox_) return smds_error(codes::kExecutionError, "no outbox to forward the deletion with");
      SMDS_DB_TRY_VOID(outbox_->add(*db_, *message));
    }
  SMDS_DB_TRY_VOID(tx.commit());
  return e;
}

SmdsResult<std::vector<Event>> EventStore::for_eid(const std::string& eid) {
  SMDS_DB_TRY(auto rows, db_->query(std::string("SELECT ") + kColumns + " FROM smds_event WHERE eid = $1 ORDER BY id",
                                    {value(eid)}));
  std::vector<Event> out;
  out.reserve(rows.size());
  for (const auto& r : rows) out.push_back(event_from(r));
  return out;
}

SmdsResult<std::int64_t> EventStore::count() {
  SMDS_DB_TRY(auto row, db_->query_one("SELECT COUNT(*) FROM smds_event"));
  return row ? row->int64(0) : 0;
}

SmdsResult<void> EventStore::check_writable() {
  SMDS_DB_TRY(auto tx, db_->begin());
  SMDS_DB_TRY_VOID(db_->execute("DELETE FROM smds_health WHERE id = 1"));
  SMDS_DB_TRY_VOID(db_->execute("INSERT INTO smds_health (id, at) VALUES (1, 0)"));
  SMDS_DB_TRY_VOID(tx.commit());
  return {};
}

}  // namespace rsp::smds
