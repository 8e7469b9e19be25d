#pragma once
/// The ES11 sessions (SGP.22 v2.2.2 §5.8.1, §5.8.2): the serverChallenge an
/// InitiateAuthentication answered, kept until its AuthenticateClient, in
/// the event store's database, so that instances sharing a PostgreSQL
/// database (or a SQLite file) may take each other's sessions. Single use: a
/// session is deleted as it is taken, in one statement, so of two instances
/// taking the same transactionId only one gets it. Only public values are
/// kept (the challenge travels in clear inside serverSigned1).

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>

#include "rsp/common/bytes.hpp"
#include "rsp/service/clock.hpp"
#include "rsp/smds/error.hpp"
#include "rsp/store/database.hpp"

namespace rsp::smds {

class SessionStore {
 public:
  /// Over a database the event store migrated (its migration 2 made the table).
  explicit SessionStore(std::shared_ptr<store::Database> db) : db_(std::move(db)) {}

  /// Stores a session after dropping the expired ones; when `max_sessions`
  /// are held, the oldest give way (one transaction, so that instances
  /// sharing the database bound the same rows).
  SmdsResult<void> add(const Bytes& transaction_id, const Bytes& server_challenge, service::TimePoint expires,
                       service::TimePoint now, std::size_t max_sessions);
  /// The session's serverChallenge, removed as it is read; nullopt when it is
  /// unknown, taken already or expired at `now`.
  SmdsResult<std::optional<Bytes>> take(const Bytes& transaction_id, service::TimePoint now);
  std::size_t count() const;

 private:
  std::shared_ptr<store::Database> db_;
};

}  // namespace rsp::smds
