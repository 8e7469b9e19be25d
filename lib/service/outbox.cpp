#include "rsp/service/outbox.hpp"

#include "rsp/common/thread_name.hpp"
#include "rsp/crypto/random.hpp"

namespace rsp::service {

expected<std::vector<OutboxItem>, std::string> OutboxStore::claim_batch(const std::string& recipient,
                                                                        std::chrono::seconds lease,
                                                                        const std::string& claim, std::size_t) {
  RSP_TRY(auto one, claim_next(recipient, lease, claim));
  std::vector<OutboxItem> out;
  if (one) out.push_back(std::move(*one));
  return out;
}

expected<std::size_t, std::string> OutboxStore::delivered_batch(std::span<const OutboxItem> items) {
  std::size_t held = 0;
  for (const auto& item : items) {
    RSP_TRY(bool done, delivered(item));
    held += done ? 1 : 0;
  }
  return held;
}

expected<void, std::string> OutboxStore::release(std::span<const OutboxItem>) { return {}; }

expected<std::pair<std::size_t, std::vector<OutboxItem>>, std::string> OutboxStore::delivered_and_claim(
    std::span<const OutboxItem> delivered, const std::string& recipient, std::chrono::seconds lease,
    const std::string& claim, std::size_t max) {
  RSP_TRY(auto held, delivered_batch(delivered));
  RSP_TRY(auto next, claim_batch(recipient, lease, claim, max));
  return std::make_pair(held, std::move(next));
}

OutboxWorker::OutboxWorker(std::shared_ptr<OutboxStore> store, OutboxWorkerConfig config, OutboxSender sender)
    : store_(std::move(store)), config_(std::move(config)), sender_(std::move(sender)),
      claim_prefix_(to_hex(crypto::system_random().bytes(8)) + "-") {
  if (config_.metrics) counter_ = &config_.metrics->counter(config_.metric, config_.metric_help);
}

OutboxWorker::~OutboxWorker() { stop(); }

void OutboxWorker::count(const char* result) {
  if (counter_) counter_->inc({{"result", result}});
}

bool OutboxWorker::stopping() const {
  std::lock_guard lock(mu_);
  return stopping_;
}

void OutboxWorker::serve_recipient(const std::string& recipient) {
  using SteadyClock = std::chrono::steady_clock;
  const std::size_t batch = std::max<std::size_t>(config_.batch, 1);
  // A batch sent whole before a gather wait: still held under its claim,
  // marked delivered with the next claim (one transaction for both).
  std::vector<OutboxItem> sent_before;
  const auto count_delivered = [&](std::size_t n) {
    delivered_ += n;
    if (counter_ && n > 0) counter_->inc({{"result", "delivered"}}, static_cast<double>(n));
  };
  // After a short batch: more entries may come due meanwhile, claimed together.
  const auto wait_to_gather = [&] {
    std::unique_lock guard(mu_);
    cv_.wait_for(guard, config_.gather, [this] { return stopping_; });
  };
  while (!stopping()) {
    const std::string claim = claim_prefix_ + std::to_string(++claims_);
    const auto claimed_at = SteadyClock::now();
    expected<std::vector<OutboxItem>, std::string> items = std::vector<OutboxItem>();
    if (sent_before.empty()) {
      items = store_->claim_batch(recipient, config_.lease, claim, batch);
    } else {
      auto both = store_->delivered_and_claim(sent_before, recipient, config_.lease, claim, batch);
      // Storage failing: the batch is held until its lease ends, then sent
      // once more (at least once); the next poll tries again.
      if (!both) return;
      count_delivered(sent_before.size());
      sent_before.clear();
      items = std::move(both->second);
    }
    if (!items || items->empty()) return;  // none due, or storage failing: the next poll tries again
    std::size_t sent_count = 0;
    std::optional<std::string> error;  // of the send that stopped the batch
    for (; sent_count < items->size(); ++sent_count) {
      // Past half the lease the rest goes back, before another worker may
      // take it while this one still sends.
      if (sent_count > 0 && (stopping() || SteadyClock::now() - claimed_at > config_.lease / 2)) break;
      const OutboxItem& item = (*items)[sent_count];
      expected<void, std::string> sent = unexpected(config_.no_destination);
      if (!item.destination.empty()) sent = sender_(item.destination, item.body);
      if (!sent) {
        error = sent.error();
        break;
      }
    }
    const bool gather = config_.gather.count() > 0 && items->size() < batch && !error;
    if (sent_count == items->size()) {
      // All sent: marked with the next claim (after the wait, when the batch
      // came back short), or below when stopping.
      sent_before = std::move(*items);
      if (gather) wait_to_gather();
      continue;
    }
    const std::span<const OutboxItem> all(*items);
    if (sent_count > 0) {
      auto done = store_->delivered_batch(all.first(sent_count));
      if (!done) return;  // storage failing: the next poll tries again
      count_delivered(sent_count);
    }
    std::size_t rest = sent_count;
    if (error) {
      const OutboxItem& item = all[rest++];
      auto done = store_->failed(item, *error, config_.policy);
      if (!done) return;  // storage failing: the next poll tries again
      ++failed_;
      if (item.attempts + 1 >= config_.policy.max_attempts) {
        ++given_up_;
        count("given_up");
      } else {
        count("failed");
      }
    }
    if (rest < all.size())
      if (!store_->release(all.subspan(rest))) return;  // storage failing: due again when the lease ends
    if (gather) wait_to_gather();
  }
  // Stopping after a gather wait: the batch sent before it is marked now.
  if (!sent_before.empty())
    if (store_->delivered_batch(sent_before)) count_delivered(sent_before.size());
}

void OutboxWorker::join_lanes(bool all) {
  std::vector<std::unique_ptr<Lane>> ended;
  {
    std::lock_guard lock(lanes_mu_);
    for (auto it = lanes_.begin(); it != lanes_.end();) {
      if (all || it->second->done) {
        ended.push_back(std::move(it->second));
        it = lanes_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& lane : ended)
    if (lane->thread.joinable()) lane->thread.join();
}

expected<void, std::string> OutboxWorker::start_lanes() {
  join_lanes(false);
  // Up to max_parallel_recipients of them may already have a lane: asking for
  // twice as many still finds every recipient a free lane could take.
  RSP_TRY(auto recipients, store_->due_recipients(2 * config_.max_parallel_recipients));
  std::lock_guard lock(lanes_mu_);
  for (const auto& r : recipients) {
    if (lanes_.count(r) || lanes_.size() >= config_.max_parallel_recipients) continue;
    auto lane = std::make_unique<Lane>();
    Lane* raw = lane.get();
    lane->thread = std::thread([this, r, raw] {
      set_thread_name("outbox-lane");
      serve_recipient(r);
      raw->done = true;
    });
    lanes_.emplace(r, std::move(lane));
  }
  return {};
}

expected<std::size_t, std::string> OutboxWorker::run_once() {
  const std::uint64_t before = delivered_.load();
  auto started = start_lanes();
  join_lanes(true);
  RSP_TRY_VOID(started);
  return static_cast<std::size_t>(delivered_.load() - before);
}

void OutboxWorker::start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable() || stopping_) return;
  thread_ = std::thread([this] {
    set_thread_name("outbox");
    std::unique_lock guard(mu_);
    while (!stopping_) {
      guard.unlock();
      (void)start_lanes();  // a storage failure is retried on the next poll
      guard.lock();
      cv_.wait_for(guard, config_.poll_interval, [this] { return stopping_; });
    }
  });
}

void OutboxWorker::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
  join_lanes(true);  // each finishes the delivery in flight
}

}  // namespace rsp::service
