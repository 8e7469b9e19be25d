#include "rsp/service/outbox.hpp"

#include "rsp/crypto/random.hpp"

namespace rsp::service {

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
  while (!stopping()) {
    const std::string claim = claim_prefix_ + std::to_string(++claims_);
    auto next = store_->claim_next(recipient, config_.lease, claim);
    if (!next || !*next) return;  // none due, or storage failing: the next poll tries again
    const OutboxItem& item = **next;
    expected<void, std::string> sent = unexpected(config_.no_destination);
    if (!item.destination.empty()) sent = sender_(item.destination, item.body);
    if (sent) {
      auto done = store_->delivered(item);
      if (!done) return;  // storage failing: the next poll tries again
      ++delivered_;
      count("delivered");
    } else {
      auto done = store_->failed(item, sent.error(), config_.policy);
      if (!done) return;  // storage failing: the next poll tries again
      ++failed_;
      if (item.attempts + 1 >= config_.policy.max_attempts) {
        ++given_up_;
        count("given_up");
      } else {
        count("failed");
      }
    }
  }
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
