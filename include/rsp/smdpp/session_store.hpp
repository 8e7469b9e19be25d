#pragma once
/// Where the SM-DP+ core keeps its ES9+ download sessions between calls
/// (SGP.22 §3.1.3). A session is taken out of the store while a function
/// works on it and put back when the download continues, so a replayed or
/// concurrent call with the same transactionId finds nothing.
///
/// The in-memory store serves one process. The SQL store keeps sessions in
/// the SM-DP+ database (table smdpp_sessions, migration 2 of the inventory)
/// so that instances sharing a PostgreSQL database continue each other's
/// downloads; its take is one `DELETE ... RETURNING`, atomic across
/// instances. A stored session holds no private key: the SM-DP+ one-time
/// key pair lives only inside GetBoundProfilePackage, and a prepared
/// profile (with its Profile Protection Key) is looked up again from the
/// catalog rather than stored.

#include <cstddef>
#include <map>
#include <memory>
#include <mutex>

#include "rsp/smdpp/server.hpp"
#include "rsp/store/database.hpp"

namespace rsp::smdpp {

class SessionStore {
 public:
  using SessionPtr = std::shared_ptr<Server::Session>;
  virtual ~SessionStore() = default;

  /// Removes the session and returns it; nullptr when unknown or expired at
  /// `now` (an expired session is removed as well).
  virtual SmdppResult<SessionPtr> take(const Bytes& transaction_id, TimePoint now) = 0;
  /// Stores the session under its transactionId, replacing one stored there.
  virtual SmdppResult<void> put(const SessionPtr& session) = 0;
  /// Stores a new session unless `max` are held after removing the expired ones.
  virtual SmdppResult<void> add(const SessionPtr& session, std::size_t max, TimePoint now) = 0;
  virtual void erase(const Bytes& transaction_id) = 0;
  /// Removes the sessions expired at `now`; returns how many.
  virtual std::size_t purge(TimePoint now) = 0;
  virtual std::size_t count() const = 0;
};

class MemorySessionStore final : public SessionStore {
 public:
  SmdppResult<SessionPtr> take(const Bytes& transaction_id, TimePoint now) override;
  SmdppResult<void> put(const SessionPtr& session) override;
  SmdppResult<void> add(const SessionPtr& session, std::size_t max, TimePoint now) override;
  void erase(const Bytes& transaction_id) override;
  std::size_t purge(TimePoint now) override;
  std::size_t count() const override;

 private:
  std::size_t purge_locked(TimePoint now);
  mutable std::mutex mu_;
  std::map<Bytes, SessionPtr> sessions_;
};

class SqlSessionStore final : public SessionStore {
 public:
  /// `db` must be migrated with inventory_migrations(); `identities` resolves
  /// the identity a stored session chose (every instance loads the same set).
  SqlSessionStore(std::shared_ptr<store::Database> db, std::shared_ptr<const IdentitySet> identities);

  SmdppResult<SessionPtr> take(const Bytes& transaction_id, TimePoint now) override;
  SmdppResult<void> put(const SessionPtr& session) override;
  SmdppResult<void> add(const SessionPtr& session, std::size_t max, TimePoint now) override;
  void erase(const Bytes& transaction_id) override;
  std::size_t purge(TimePoint now) override;
  std::size_t count() const override;

 private:
  std::shared_ptr<store::Database> db_;
  std::shared_ptr<const IdentitySet> identities_;
};

}  // namespace rsp::smdpp
