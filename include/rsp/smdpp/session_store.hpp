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
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "rsp/smdpp/server.hpp"
#include "rsp/store/database.hpp"

namespace rsp::smdpp {

/// Bounds on the sessions a store holds (ServerConfig).
struct SessionLimits {
  std::size_t max_sessions = 100000;
  /// Sessions waiting for AuthenticateClient (state Initiated) per peer address.
  std::size_t max_pending_per_peer = 10000;
};

class SessionStore {
 public:
  using SessionPtr = std::shared_ptr<Server::Session>;
  virtual ~SessionStore() = default;

  /// Removes the session and returns it; nullptr when unknown or expired at
  /// `now` (an expired session is removed as well).
  virtual SmdppResult<SessionPtr> take(const Bytes& transaction_id, TimePoint now) = 0;
  /// Stores the session under its transactionId, replacing one stored there.
  virtual SmdppResult<void> put(const SessionPtr& session) = 0;
  /// Stores a new session (state Initiated) within `limits`, after removing
  /// the expired ones: when its peer already holds max_pending_per_peer
  /// waiting sessions, that peer's oldest gives way; when max_sessions are
  /// held, the oldest waiting session of any peer gives way. Refused only
  /// when every session held is past AuthenticateClient.
  virtual SmdppResult<void> add(const SessionPtr& session, const SessionLimits& limits, TimePoint now) = 0;
  virtual void erase(const Bytes& transaction_id) = 0;
  /// Removes the sessions expired at `now`; returns how many.
  virtual std::size_t purge(TimePoint now) = 0;
  virtual std::size_t count() const = 0;
};

/// Every operation is O(log n): sessions are indexed by expiry (purging
/// visits only expired ones) and the waiting ones by age, overall and per
/// peer, so a flood of InitiateAuthentication costs the same per call at
/// any table size.
class MemorySessionStore final : public SessionStore {
 public:
  SmdppResult<SessionPtr> take(const Bytes& transaction_id, TimePoint now) override;
  SmdppResult<void> put(const SessionPtr& session) override;
  SmdppResult<void> add(const SessionPtr& session, const SessionLimits& limits, TimePoint now) override;
  void erase(const Bytes& transaction_id) override;
  std::size_t purge(TimePoint now) override;
  std::size_t count() const override;
  /// Waiting sessions pushed out by add() so far.
  std::size_t evicted() const;

 private:
  struct Entry {
    SessionPtr session;
    TimePoint expires;           ///< as indexed (the session object may change while taken out)
    std::optional<std::uint64_t> waiting;  ///< age rank while state Initiated
    std::string peer;
  };
  using Iterator = std::map<Bytes, Entry>::iterator;

  void insert_locked(const SessionPtr& session);
  void erase_locked(Iterator it);
  std::size_t purge_locked(TimePoint now);
  /// Removes the waiting session of rank `rank`.
  void evict_locked(std::uint64_t rank);

  mutable std::mutex mu_;
  std::map<Bytes, Entry> sessions_;
  std::set<std::pair<TimePoint, Bytes>> by_expiry_;
  std::map<std::uint64_t, Bytes> waiting_;  ///< rank -> transactionId, oldest first
  std::map<std::string, std::set<std::uint64_t>> waiting_by_peer_;
  std::uint64_t next_rank_ = 0;
  std::size_t evicted_ = 0;
};

class SqlSessionStore final : public SessionStore {
 public:
  /// `db` must be migrated with inventory_migrations(); `identities` resolves
  /// the identity a stored session chose (every instance loads the same set).
  SqlSessionStore(std::shared_ptr<store::Database> db, std::shared_ptr<const IdentitySet> identities);

  SmdppResult<SessionPtr> take(const Bytes& transaction_id, TimePoint now) override;
  SmdppResult<void> put(const SessionPtr& session) override;
  SmdppResult<void> add(const SessionPtr& session, const SessionLimits& limits, TimePoint now) override;
  void erase(const Bytes& transaction_id) override;
  std::size_t purge(TimePoint now) override;
  std::size_t count() const override;

 private:
  std::shared_ptr<store::Database> db_;
  std::shared_ptr<const IdentitySet> identities_;
};

}  // namespace rsp::smdpp
