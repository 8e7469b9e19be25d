#include "rsp/smds/session_store.hpp"

#include "db_try.hpp"
#include "rsp/store/sqlite.hpp"

namespace rsp::smds {

using store::value;

namespace {

std::int64_t seconds(service::TimePoint t) { return t.time_since_epoch().count(); }

}  // namespace

std::shared_ptr<store::Database> SessionStore::sessions_database(std::shared_ptr<store::Database> events) {
  if (!events || events->dialect() != "sqlite") return events;
  // The main database's file ("" for an in-memory one, which no second
  // connection can reach).
  auto list = events->query("PRAGMA database_list");
  if (!list) return events;
  for (const auto& row : *list) {
    if (row.text(1) != "main" || row.text(2).empty()) continue;
    store::SqliteOptions o;
    o.create = false;
    auto own = store::open_sqlite(row.text(2), o);
    if (!own || !(*own)->execute_script("PRAGMA synchronous=NORMAL")) return events;
    return std::shared_ptr<store::Database>(std::move(*own));
  }
  return events;
}

store::DbResult<store::Transaction> SessionStore::begin_relaxed() {
  auto tx = db_->begin();
  if (tx && db_->dialect() == "postgresql")
    if (auto set = db_->execute("SET LOCAL synchronous_commit TO OFF"); !set) return unexpected(set.error());
  return tx;
}

SmdsResult<void> SessionStore::add(const Bytes& transaction_id, const Bytes& server_challenge,
                                   service::TimePoint expires, service::TimePoint now, std::size_t max_sessions) {
  if (!db_) {
    std::lock_guard lock(mu_);
    while (!order_.empty()) {
      auto it = held_.find(order_.front());
      if (it != held_.end() && it->second.expires >= now && held_.size() < max_sessions) break;
      if (it != held_.end()) held_.erase(it);  // expired, or the oldest giving way
      order_.pop_front();
    }
    held_[transaction_id] = Held{server_challenge, expires};
    order_.push_back(transaction_id);
    return {};
  }
  SMDS_DB_TRY(auto tx, begin_relaxed());
  SMDS_DB_TRY_VOID(db_->execute("DELETE FROM smds_session WHERE expires_at < $1", {value(seconds(now))}));
  // Every session has the same timeout, so the earliest expiry is the oldest.
  SMDS_DB_TRY(auto row, db_->query_one("SELECT count(*) FROM smds_session"));
  const std::int64_t held = row ? row->int64(0) : 0;
  const auto max = static_cast<std::int64_t>(max_sessions);
  if (held >= max)
    SMDS_DB_TRY_VOID(db_->execute("DELETE FROM smds_session WHERE transaction_id IN (SELECT transaction_id FROM "
                                  "smds_session ORDER BY expires_at LIMIT $1)",
                                  {value(held - max + 1)}));
  SMDS_DB_TRY_VOID(db_->execute("INSERT INTO smds_session (transaction_id, server_challenge, expires_at) VALUES ($1, $2, $3)",
                                {value(transaction_id), value(server_challenge), value(seconds(expires))}));
  SMDS_DB_TRY_VOID(tx.commit());
  return {};
}

SmdsResult<std::optional<Bytes>> SessionStore::take(const Bytes& transaction_id, service::TimePoint now) {
  if (!db_) {
    std::lock_guard lock(mu_);
    auto it = held_.find(transaction_id);
    if (it == held_.end()) return std::optional<Bytes>();
    Held h = std::move(it->second);
    held_.erase(it);  // its id leaves `order_` when it reaches the front
    if (h.expires < now) return std::optional<Bytes>();
    return std::optional<Bytes>(std::move(h.server_challenge));
  }
  // One statement: of two instances taking the same session only one gets the row.
  SMDS_DB_TRY(auto tx, begin_relaxed());
  SMDS_DB_TRY(auto row, db_->query_one("DELETE FROM smds_session WHERE transaction_id = $1 RETURNING server_challenge, expires_at",
                                       {value(transaction_id)}));
  SMDS_DB_TRY_VOID(tx.commit());
  if (!row || row->int64(1) < seconds(now)) return std::optional<Bytes>();
  return std::optional<Bytes>(row->blob(0));
}

std::size_t SessionStore::count() const {
  if (!db_) {
    std::lock_guard lock(mu_);
    return held_.size();
  }
  auto row = db_->query_one("SELECT count(*) FROM smds_session");
  return row && *row ? static_cast<std::size_t>((*row)->int64(0)) : 0;
}

}  // namespace rsp::smds
