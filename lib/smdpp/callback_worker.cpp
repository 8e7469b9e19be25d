#include "rsp/smdpp/callback_worker.hpp"

#include <nlohmann/json.hpp>

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
    auto r = (*client)->request("POST", path, body, std::string(messages::kJsonContentType),
                                {{"X-Admin-Protocol", std::string(messages::kAdminProtocol)}});
    if (!r) return unexpected(r.error().message);
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
    : inv_(std::move(inventory)), config_(std::move(config)), sender_(std::move(sender)) {
  if (config_.metrics)
    counter_ = &config_.metrics->counter("rsp_smdpp_callbacks_total",
                                         "ES2+ HandleDownloadProgressInfo deliveries to operators, by result "
                                         "(delivered, failed attempt, given_up after the last attempt).");
}

CallbackWorker::~CallbackWorker() { stop(); }

void CallbackWorker::count(const char* result) {
  if (counter_) counter_->inc({{"result", result}});
}

SmdppResult<std::size_t> CallbackWorker::run_once() {
  RSP_TRY(auto due, inv_->claim_due_outbox(config_.batch, config_.lease));
  std::size_t delivered = 0;
  for (const auto& e : due) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) break;
    }
    expected<void, std::string> sent = unexpected(std::string("the operator has no callback URL"));
    if (e.callback_url && !e.callback_url->empty())
      sent = sender_(*e.callback_url, progress_request_body(e, config_.requester_identifier));
    if (sent) {
      RSP_TRY_VOID(inv_->outbox_delivered(e.id));
      ++delivered;
      ++delivered_;
      count("delivered");
    } else {
      RSP_TRY_VOID(inv_->outbox_failed(e.id, sent.error(), config_.policy));
      ++failed_;
      if (e.attempts + 1 >= config_.policy.max_attempts) {
        ++given_up_;
        count("given_up");
      } else {
        count("failed");
      }
    }
  }
  return delivered;
}

void CallbackWorker::start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable() || stopping_) return;
  thread_ = std::thread([this] {
    std::unique_lock guard(mu_);
    while (!stopping_) {
      guard.unlock();
      (void)run_once();  // a storage failure is retried on the next poll
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
}

}  // namespace rsp::smdpp
