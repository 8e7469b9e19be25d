// The SM-SR registry's cache of parsed EIS (never their keys): filled by
// reads, updated in place after a change commits, dropped on doubt.

#include "registry_sql.hpp"

#include <algorithm>
#include <mutex>

#include "rsp/smsr/notification_sequence.hpp"
#include "rsp/smsr/scp80_key_choice.hpp"

namespace rsp::smsr {

using nlohmann::json;
using store::value;
using namespace registry_detail;

std::optional<m2m::Eis> Registry::cached_eis(std::string_view eid) {
  if (options_.eis_cache == 0) return std::nullopt;
  std::lock_guard lock(eis_cache_mu_);
  std::string key(eid);
  if (eis_changing_.contains(key)) return std::nullopt;  // the database has it as it commits
  auto it = eis_cache_.find(key);
  if (it == eis_cache_.end()) return std::nullopt;
  eis_lru_.splice(eis_lru_.begin(), eis_lru_, it->second.lru);  // used now
  return it->second.eis;
}

void Registry::begin_eis_change(std::string_view eid) {
  if (options_.eis_cache == 0) return;
  std::lock_guard lock(eis_cache_mu_);
  ++eis_changing_[std::string(eid)];
}

void Registry::end_eis_change(std::string_view eid) {
  if (options_.eis_cache == 0) return;
  std::lock_guard lock(eis_cache_mu_);
  auto it = eis_changing_.find(std::string(eid));
  if (it != eis_changing_.end() && --it->second <= 0) eis_changing_.erase(it);
}

std::uint64_t Registry::eis_epoch() {
  std::lock_guard lock(eis_cache_mu_);
  return eis_epoch_;
}

std::size_t Registry::eis_drop_slot(std::string_view eid) {
  return std::hash<std::string_view>{}(eid) % kEisDropSlots;
}

Registry::WakeUpKeys::~WakeUpKeys() {
  wipe(key_set.kic);
  wipe(key_set.kid);
  wipe(psk_identity);
}

void Registry::cache_eis(std::string_view eid, const m2m::Eis& eis, std::uint64_t epoch,
                         std::optional<std::shared_ptr<const WakeUpKeys>> keys,
                         std::optional<std::optional<std::uint32_t>> seq) {
  if (options_.eis_cache == 0) return;
  std::lock_guard lock(eis_cache_mu_);
  // This EIS (or one sharing its slot) changed since the read began: the
  // read may predate the change. Other eUICCs' changes do not matter.
  if (eis_dropped_at_[eis_drop_slot(eid)] > epoch) return;
  std::string key(eid);
  // A change of it is committing: what was read may be from before it.
  if (eis_changing_.contains(key)) return;
  auto it = eis_cache_.find(key);
  if (it != eis_cache_.end()) {
    it->second.eis = eis;
    it->second.stamp = eis_epoch_;
    if (keys) it->second.keys = std::move(keys);
    // Never back: a number noted since the read began is a later one.
    auto& kept = it->second.notification_seq;
    if (seq && kept && *kept) {
      if (*seq) *kept = later_sequence(*kept, **seq);
    } else if (seq) {
      kept = seq;
    }
    eis_lru_.splice(eis_lru_.begin(), eis_lru_, it->second.lru);
    return;
  }
  // Full: the EIS used longest ago goes (the eUICCs in service stay).
  if (eis_cache_.size() >= options_.eis_cache && !eis_lru_.empty()) {
    eis_cache_.erase(eis_lru_.back());
    eis_lru_.pop_back();
  }
  eis_lru_.push_front(key);
  eis_cache_.emplace(std::move(key), CachedEis{eis, eis_lru_.begin(), eis_epoch_, std::move(keys), seq});
}

std::optional<std::optional<std::uint32_t>> Registry::cached_notification_seq(std::string_view eid) {
  if (options_.eis_cache == 0) return std::nullopt;
  std::lock_guard lock(eis_cache_mu_);
  auto it = eis_cache_.find(std::string(eid));
  if (it == eis_cache_.end()) return std::nullopt;
  return it->second.notification_seq;
}

void Registry::note_cached_notification_seq(std::string_view eid, std::uint32_t seq) {
  if (options_.eis_cache == 0) return;
  std::lock_guard lock(eis_cache_mu_);
  // A read that began before may carry an earlier number: it fills nothing.
  eis_dropped_at_[eis_drop_slot(eid)] = ++eis_epoch_;
  auto it = eis_cache_.find(std::string(eid));
  // Without the stored one it stays unknown: notification_seq() reads it.
  if (it == eis_cache_.end() || !it->second.notification_seq) return;
  *it->second.notification_seq = later_sequence(*it->second.notification_seq, seq);
}

void Registry::drop_cached_eis(std::string_view eid) {
  if (options_.eis_cache == 0) return;
  std::lock_guard lock(eis_cache_mu_);
  eis_dropped_at_[eis_drop_slot(eid)] = ++eis_epoch_;
  if (auto it = eis_cache_.find(std::string(eid)); it != eis_cache_.end()) {
    eis_lru_.erase(it->second.lru);
    eis_cache_.erase(it);
  }
}

std::uint64_t Registry::eis_change_ticket() {
  std::lock_guard lock(eis_cache_mu_);
  return ++eis_epoch_;
}

void Registry::update_cached_eis(std::string_view eid, const Change& c, std::uint64_t ticket) {
  if (options_.eis_cache == 0) return;
  std::lock_guard lock(eis_cache_mu_);
  // A read that began before this commit does not fill the cache.
  eis_dropped_at_[eis_drop_slot(eid)] = ++eis_epoch_;
  auto it = eis_cache_.find(std::string(eid));
  if (it == eis_cache_.end()) return;
  const auto drop = [&] {
    eis_lru_.erase(it->second.lru);
    eis_cache_.erase(it);
  };
  // Filled after this change's ticket, or a later change applied already:
  // which of the two is newer is not known here.
  if (c.handed_over || ticket <= it->second.stamp) return drop();
  auto& profiles = it->second.eis.profiles;
  const auto find = [&](std::string_view iccid) {
    return std::find_if(profiles.begin(), profiles.end(), [&](const m2m::ProfileInfo& p) { return p.iccid == iccid; });
  };
  for (const auto& p : c.added) {
    if (auto at = find(p.iccid); at != profiles.end()) *at = p;
    else profiles.push_back(p);
  }
  for (const auto& p : c.put) {
    auto at = find(p.iccid);
    if (at == profiles.end()) return drop();  // not as the database has it: read it again
    *at = p;
  }
  for (const auto& iccid : c.deleted)
    if (auto at = find(iccid); at != profiles.end()) profiles.erase(at);
  if (c.remaining_memory) it->second.eis.remaining_memory = *c.remaining_memory;
  if (auto& kept = it->second.notification_seq; c.notification_seq && kept)
    *kept = later_sequence(*kept, *c.notification_seq);
  // As eis() reads them: ordered by ISD-P AID (its hex, the same order).
  std::stable_sort(profiles.begin(), profiles.end(),
                   [](const m2m::ProfileInfo& a, const m2m::ProfileInfo& b) { return a.isdp_aid < b.isdp_aid; });
  it->second.stamp = ticket;
}

SmsrResult<std::optional<std::shared_ptr<const Registry::WakeUpKeys>>> Registry::open_wake_up_keys(
    std::string_view eid) {
  // The keys only change with a new registration, which drops the entry: a
  // key set noted on an entry not dropped since the read began is current.
  const std::uint64_t epoch = eis_epoch();
  RSP_TRY(auto eis, this->eis(eid, true));
  if (!eis) return std::optional<std::shared_ptr<const WakeUpKeys>>();
  std::shared_ptr<const WakeUpKeys> found;
  if (const m2m::Scp80KeySet* k = choose_scp80_key_set(eis->isd_r)) {
    auto keys = std::make_shared<WakeUpKeys>();
    keys->key_set = *k;
    if (eis->isd_r.scp81_psk) {
      keys->has_psk = true;
      keys->psk_identity = eis->isd_r.scp81_psk->identity;
    }
    found = std::move(keys);
  }
  // Without the keys: the cached EIS never holds them.
  for (auto& k : eis->isd_r.scp80_key_sets) {
    wipe(k.kic);
    wipe(k.kid);
  }
  eis->isd_r.scp80_key_sets.clear();
  if (eis->isd_r.scp81_psk) wipe(eis->isd_r.scp81_psk->key);
  eis->isd_r.scp81_psk.reset();
  cache_eis(eid, *eis, epoch, found);
  return std::optional<std::shared_ptr<const WakeUpKeys>>(std::move(found));
}

SmsrResult<std::shared_ptr<const Registry::WakeUpKeys>> Registry::wake_up_keys(std::string_view eid) {
  if (options_.eis_cache != 0) {
    std::lock_guard lock(eis_cache_mu_);
    if (auto it = eis_cache_.find(std::string(eid)); it != eis_cache_.end() && it->second.keys)
      return *it->second.keys;
  }
  RSP_TRY(auto opened, open_wake_up_keys(eid));
  if (!opened) return std::shared_ptr<const WakeUpKeys>();
  return std::move(*opened);
}

SmsrResult<std::optional<Registry::WakeUpKeySet>> Registry::wake_up_key_set(std::string_view eid) {
  // Version and counter of the keys kept (or opened now): never a key.
  RSP_TRY(auto keys, wake_up_keys(eid));
  if (!keys) return std::optional<WakeUpKeySet>();
  return std::optional<WakeUpKeySet>(WakeUpKeySet{keys->key_set.version, keys->key_set.counter});
}

}  // namespace rsp::smsr
