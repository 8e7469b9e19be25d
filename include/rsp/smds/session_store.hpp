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
  explicit SessionStore(std::shared_ptr<store::Database> db) : db_(std::move(db)) {}

  /// Stores a session after dropping the expired ones; when `max_sessions`
  /// are held, the oldest give way (in the database: one transaction, so
  /// that instances sharing it bound the same rows).
  SmdsResult<void> add(const Bytes& transaction_id, const Bytes& server_challenge, service::TimePoint expires,
                       service::TimePoint now, std::size_t max_sessions);
  /// The session's serverChallenge, removed as it is read; nullopt when it is
  /// unknown, taken already or expired at `now`.
  SmdsResult<std::optional<Bytes>> take(const Bytes& transaction_id, service::TimePoint now);
  std::size_t count() const;

 private:
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
