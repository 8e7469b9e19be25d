#include "rsp/smdpp/session_store.hpp"
#include "session.hpp"

namespace rsp::smdpp {

std::size_t MemorySessionStore::purge_locked(TimePoint now) {
  std::size_t removed = 0;
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    if (session_expired(it->second->expires, now)) {
      it = sessions_.erase(it);
      ++removed;
    } else {
      ++it;
    }
  }
  return removed;
}

SmdppResult<SessionStore::SessionPtr> MemorySessionStore::take(const Bytes& transaction_id, TimePoint now) {
  std::lock_guard lock(mu_);
  auto it = sessions_.find(transaction_id);
  if (it == sessions_.end()) return SessionPtr();
  auto s = std::move(it->second);
  sessions_.erase(it);
  if (session_expired(s->expires, now)) return SessionPtr();  // timed out: gone for good
  return s;
}

SmdppResult<void> MemorySessionStore::put(const SessionPtr& session) {
  std::lock_guard lock(mu_);
  sessions_[session->transaction_id] = session;
  return {};
}

SmdppResult<void> MemorySessionStore::add(const SessionPtr& session, std::size_t max, TimePoint now) {
  std::lock_guard lock(mu_);
  if (sessions_.size() >= max) purge_locked(now);
  if (sessions_.size() >= max) return smdpp_error(codes::kExecutionError, "too many open sessions");
  sessions_[session->transaction_id] = session;
  return {};
}

void MemorySessionStore::erase(const Bytes& transaction_id) {
  std::lock_guard lock(mu_);
  sessions_.erase(transaction_id);
}

std::size_t MemorySessionStore::purge(TimePoint now) {
  std::lock_guard lock(mu_);
  return purge_locked(now);
}

std::size_t MemorySessionStore::count() const {
  std::lock_guard lock(mu_);
  return sessions_.size();
}

}  // namespace rsp::smdpp
