#include "rsp/smdpp/session_store.hpp"
#include "session.hpp"

namespace rsp::smdpp {

void MemorySessionStore::insert_locked(const SessionPtr& session) {
  Entry e{session, session->expires, std::nullopt, session->peer};
  if (session->state == Server::Session::State::Initiated) {
    e.waiting = next_rank_++;
    waiting_.emplace(*e.waiting, session->transaction_id);
    waiting_by_peer_[e.peer].insert(*e.waiting);
  }
  by_expiry_.emplace(e.expires, session->transaction_id);
  sessions_.insert_or_assign(session->transaction_id, std::move(e));
}

void MemorySessionStore::erase_locked(Iterator it) {
  const Entry& e = it->second;
  by_expiry_.erase({e.expires, it->first});
  if (e.waiting) {
    waiting_.erase(*e.waiting);
    if (auto peer = waiting_by_peer_.find(e.peer); peer != waiting_by_peer_.end()) {
      peer->second.erase(*e.waiting);
      if (peer->second.empty()) waiting_by_peer_.erase(peer);
    }
  }
  sessions_.erase(it);
}

std::size_t MemorySessionStore::purge_locked(TimePoint now) {
  std::size_t removed = 0;
  while (!by_expiry_.empty() && session_expired(by_expiry_.begin()->first, now)) {
    auto it = sessions_.find(by_expiry_.begin()->second);
    if (it == sessions_.end()) {  // cannot happen: the indexes move together
      by_expiry_.erase(by_expiry_.begin());
      continue;
    }
    erase_locked(it);
    ++removed;
  }
  return removed;
}

void MemorySessionStore::evict_locked(std::uint64_t rank) {
  auto w = waiting_.find(rank);
  if (w == waiting_.end()) return;
  auto it = sessions_.find(w->second);
  if (it != sessions_.end()) {
    erase_locked(it);
    ++evicted_;
  } else {
    waiting_.erase(w);
  }
}

SmdppResult<SessionStore::SessionPtr> MemorySessionStore::take(const Bytes& transaction_id, TimePoint now) {
  std::lock_guard lock(mu_);
  auto it = sessions_.find(transaction_id);
  if (it == sessions_.end()) return SessionPtr();
  auto s = it->second.session;
  const bool expired = session_expired(it->second.expires, now);
  erase_locked(it);
  if (expired) return SessionPtr();  // timed out: gone for good
  return s;
}

SmdppResult<void> MemorySessionStore::put(const SessionPtr& session) {
  std::lock_guard lock(mu_);
  if (auto it = sessions_.find(session->transaction_id); it != sessions_.end()) erase_locked(it);
  insert_locked(session);
  return {};
}

SmdppResult<void> MemorySessionStore::add(const SessionPtr& session, const SessionLimits& limits, TimePoint now) {
  std::lock_guard lock(mu_);
  purge_locked(now);
  if (auto peer = waiting_by_peer_.find(session->peer); peer != waiting_by_peer_.end()) {
    while (!peer->second.empty() && peer->second.size() >= limits.max_pending_per_peer) {
      const std::uint64_t oldest = *peer->second.begin();
      const bool last = peer->second.size() == 1;
      evict_locked(oldest);  // may erase `peer` when it held one
      if (last) break;
    }
  }
  while (sessions_.size() >= limits.max_sessions && !waiting_.empty()) evict_locked(waiting_.begin()->first);
  if (sessions_.size() >= limits.max_sessions)
    return smdpp_error(codes::kExecutionError, "too many open sessions");
  if (auto it = sessions_.find(session->transaction_id); it != sessions_.end()) erase_locked(it);
  insert_locked(session);
  return {};
}

void MemorySessionStore::erase(const Bytes& transaction_id) {
  std::lock_guard lock(mu_);
  if (auto it = sessions_.find(transaction_id); it != sessions_.end()) erase_locked(it);
}

std::size_t MemorySessionStore::purge(TimePoint now) {
  std::lock_guard lock(mu_);
  return purge_locked(now);
}

std::size_t MemorySessionStore::count() const {
  std::lock_guard lock(mu_);
  return sessions_.size();
}

std::size_t MemorySessionStore::evicted() const {
  std::lock_guard lock(mu_);
  return evicted_;
}

}  // namespace rsp::smdpp
