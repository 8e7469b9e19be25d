#pragma once
/// The ES11 sessions (SGP.22 v2.2.2 §5.8.1, §5.8.2): the serverChallenge an
/// InitiateAuthentication answered, kept until its AuthenticateClient.
/// Either in this instance's memory (one instance: a session costs no disk
/// write), or in the event store's database, so that instances sharing a
/// PostgreSQL database (or a SQLite file) may take each other's sessions;
/// there a session is deleted as it is taken, in one statement, so of two
/// instances taking the same transactionId only one gets it. Single use and
/// expiry are the same in both. Only public values are kept (the challenge
/// travels in clear inside serverSigned1).
///
/// Session rows are written without waiting for the disk (sessions_database()
/// below): a session lost in a crash costs the LPA one more discovery, which
/// SGP.22 lets it run anyway (v2.2.2 §5.8.2: an unknown transactionId is
/// answered 8.10.1 / 3.9, and the LPA starts again with
/// InitiateAuthentication). Events stay durable.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>

#include "rsp/common/bytes.hpp"
#include "rsp/service/clock.hpp"
#include "rsp/smds/error.hpp"
#include "rsp/store/database.hpp"

namespace rsp::smds {

class SessionStore {
 public:
  /// In a database the event store migrated (its migration 2 made the
  /// table); in memory when `db` is null.
  explicit SessionStore(std::shared_ptr<store::Database> db) : db_(sessions_database(std::move(db))) {}

  /// Stores a session after dropping the expired ones; when `max_sessions`
  /// are held, the oldest give way (in the database: one transaction, so
  /// that instances sharing it bound the same rows).
  SmdsResult<void> add(const Bytes& transaction_id, const Bytes& server_challenge, service::TimePoint expires,
                       service::TimePoint now, std::size_t max_sessions);
  /// The session's serverChallenge, removed as it is read; nullopt when it is
  /// unknown, taken already or expired at `now`.
  SmdsResult<std::optional<Bytes>> take(const Bytes& transaction_id, service::TimePoint now);
  std::size_t count() const;

  /// The connection session rows go through, for `events` (the event
  /// store's database; null stays null): for a SQLite file, a connection of
  /// its own to the same file with synchronous=NORMAL (in WAL mode a commit
  /// then skips the fsync, and the events' next durable commit syncs it with
  /// theirs; the file stays consistent); for PostgreSQL, the same database,
  /// each session transaction setting synchronous_commit off for itself.
  /// Falls back to `events` itself (durable, slower) when the file cannot be
  /// opened again (an in-memory database).
  static std::shared_ptr<store::Database> sessions_database(std::shared_ptr<store::Database> events);

 private:
  /// Begins a session transaction (PostgreSQL: without waiting for its commit
  /// to reach the disk, SET LOCAL synchronous_commit, so only this one).
  store::DbResult<store::Transaction> begin_relaxed();

  std::shared_ptr<store::Database> db_;
  /// In memory: the sessions, and their ids in the order they came, which
  /// is the order they expire in (one timeout for all), so that dropping
  /// the expired and the oldest looks at the front only. An id taken
  /// already stays in `order_` until it reaches the front.
  struct Held {
    Bytes server_challenge;
    service::TimePoint expires{};
  };
  mutable std::mutex mu_;
  std::map<Bytes, Held> held_;
  std::deque<Bytes> order_;
};

}  // namespace rsp::smds
