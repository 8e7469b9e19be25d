#include "rsp/smdpp/callback_worker.hpp"

#include <nlohmann/json.hpp>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "rsp/crypto/random.hpp"

#include "rsp/messages/header.hpp"
#include "rsp/net/client.hpp"

namespace rsp::smdpp {

namespace {

/// "https://host:port/path?q" -> ("https://host:port", "/path?q").
std::pair<std::string, std::string> split_url(const std::string& url) {
  const auto scheme = url.find("://");
  const auto slash = scheme == std::string::npos ? std::string::npos : url.find('/', scheme + 3);
  if (slash == std::string::npos) return {url, "/"};
  return {url.substr(0, slash), url.substr(slash)};
}

}  // namespace

CallbackSender https_callback_sender(std::vector<Bytes> trust_anchors, std::chrono::milliseconds timeout) {
  return [trust_anchors = std::move(trust_anchors), timeout](const std::string& url,
                                                             const std::string& body) -> expected<void, std::string> {
    if (url.rfind("https://", 0) != 0 && url.rfind("http://", 0) != 0)
      return unexpected(std::string("callback URL is not http(s)"));
    const auto [base, path] = split_url(url);
    net::HttpsClientOptions o;
    o.base_url = base;
    o.trust_anchors = trust_anchors;
    o.connect_timeout = timeout;
    o.read_timeout = timeout;
    o.write_timeout = timeout;
    o.keep_alive = false;
    o.user_agent = "rsp-smdpp/0.1";
    auto client = net::HttpsClient::create(std::move(o));
    if (!client) {
      // Parse errors quote the URL, which may hold credentials: not stored.
      if (client.error().kind == net::NetError::Kind::InvalidArgument &&
          client.error().message.find(base) != std::string::npos)
        return unexpected(std::string("invalid callback URL"));
      return unexpected(client.error().message);
    }
    // A watchdog ends the request at the deadline: the client's own timeouts
    // apply to each read and write, not to the delivery as a whole.
    std::mutex m;
    std::condition_variable cv;
    bool finished = false;
    bool cancelled = false;
    std::thread watchdog([&] {
      std::unique_lock lock(m);
      if (!cv.wait_for(lock, timeout, [&] { return finished; })) {
        cancelled = true;
        (*client)->cancel();
      }
    });
    auto r = (*client)->request("POST", path, body, std::string(messages::kJsonContentType),
                                {{"X-Admin-Protocol", std::string(messages::kAdminProtocol)}});
    {
      std::lock_guard lock(m);
      finished = true;
    }
    cv.notify_all();
    watchdog.join();
    if (!r) return unexpected(cancelled ? std::string("no answer within the delivery timeout") : r.error().message);
    if (r->status < 200 || r->status > 299) return unexpected("HTTP status " + std::to_string(r->status));
    return {};
  };
}

std::string progress_request_body(const OutboxEntry& entry, const std::string& requester_identifier) {
  auto j = nlohmann::json::parse(entry.payload, nullptr, false);
  if (j.is_discarded() || !j.is_object()) j = nlohmann::json::object();
  j["header"] = messages::to_json(messages::RequestHeader{requester_identifier, "hdpi-" + std::to_string(entry.id)});
  return messages::dump(j);
}

CallbackWorker::CallbackWorker(std::shared_ptr<Inventory> inventory, CallbackWorkerConfig config, CallbackSender sender)
    : inv_(std::move(inventory)), config_(std::move(config)), sender_(std::move(sender)),
      claim_prefix_(to_hex(crypto::system_random().bytes(8)) + "-") {
  if (config_.metrics)
    counter_ = &config_.metrics->counter("rsp_smdpp_callbacks_total",
                                         "ES2+ HandleDownloadProgressInfo deliveries to operators, by result "
                                         "(delivered, failed attempt, given_up after the last attempt).");
}

CallbackWorker::~CallbackWorker() { stop(); }

void CallbackWorker::count(const char* result) {
  if (counter_) counter_->inc({{"result", result}});
}

bool CallbackWorker::stopping() const {
  std::lock_guard lock(mu_);
  return stopping_;
}

void CallbackWorker::serve_operator(const std::string& operator_name) {
  while (!stopping()) {
    const std::string claim = claim_prefix_ + std::to_string(++claims_);
    auto next = inv_->claim_next_outbox(operator_name, config_.lease, claim);
    if (!next || !*next) return;  // none due, or storage failing: the next poll tries again
    const OutboxEntry& e = **next;
    expected<void, std::string> sent = unexpected(std::string("the operator has no callback URL"));
    if (e.callback_url && !e.callback_url->empty())
      sent = sender_(*e.callback_url, progress_request_body(e, config_.requester_identifier));
    if (sent) {
      if (!inv_->outbox_delivered(e.id, e.claim)) return;
      ++delivered_;
      count("delivered");
    } else {
      if (!inv_->outbox_failed(e.id, sent.error(), config_.policy, e.claim)) return;
      ++failed_;
      if (e.attempts + 1 >= config_.policy.max_attempts) {
        ++given_up_;
        count("given_up");
      } else {
        count("failed");
      }
    }
  }
}

void CallbackWorker::join_lanes(bool all) {
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

SmdppResult<void> CallbackWorker::start_lanes() {
  join_lanes(false);
  // Up to max_parallel_operators of them may already have a lane: asking for
  // twice as many still finds every operator a free lane could take.
  RSP_TRY(auto operators, inv_->due_operators(2 * config_.max_parallel_operators));
  std::lock_guard lock(lanes_mu_);
  for (const auto& op : operators) {
    if (lanes_.count(op) || lanes_.size() >= config_.max_parallel_operators) continue;
    auto lane = std::make_unique<Lane>();
    Lane* raw = lane.get();
    lane->thread = std::thread([this, op, raw] {
      serve_operator(op);
      raw->done = true;
    });
    lanes_.emplace(op, std::move(lane));
  }
  return {};
}

SmdppResult<std::size_t> CallbackWorker::run_once() {
  const std::uint64_t before = delivered_.load();
  auto started = start_lanes();
  join_lanes(true);
  RSP_TRY_VOID(started);
  return static_cast<std::size_t>(delivered_.load() - before);
}

void CallbackWorker::start() {
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

void CallbackWorker::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
  join_lanes(true);  // each finishes the delivery in flight
}

}  // namespace rsp::smdpp
