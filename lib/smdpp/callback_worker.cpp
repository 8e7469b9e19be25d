#include "rsp/smdpp/callback_worker.hpp"

#include <nlohmann/json.hpp>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "rsp/smdpp/es2_codes.hpp"
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

namespace {

/// The inventory's outbox table as the service kit's outbox store; the
/// recipients are the operators.
class InventoryOutbox : public service::OutboxStore {
 public:
  InventoryOutbox(std::shared_ptr<Inventory> inventory, std::string requester)
      : inv_(std::move(inventory)), requester_(std::move(requester)) {}

  expected<std::vector<std::string>, std::string> due_recipients(std::size_t limit) override {
    auto r = inv_->due_operators(limit);
    if (!r) return unexpected(r.error().message);
    return std::move(*r);
  }
  expected<std::optional<service::OutboxItem>, std::string> claim_next(const std::string& recipient,
                                                                       std::chrono::seconds lease,
                                                                       const std::string& claim) override {
    auto r = inv_->claim_next_outbox(recipient, lease, claim);
    if (!r) return unexpected(r.error().message);
    if (!*r) return std::optional<service::OutboxItem>();
    const OutboxEntry& e = **r;
    return std::optional<service::OutboxItem>(service::OutboxItem{
        e.id, e.operator_name, e.callback_url.value_or(""), progress_request_body(e, requester_), e.attempts, e.claim});
  }
  expected<bool, std::string> delivered(const service::OutboxItem& item) override {
    auto r = inv_->outbox_delivered(item.id, item.claim);
    if (!r) return unexpected(r.error().message);
    return *r;
  }
  expected<bool, std::string> failed(const service::OutboxItem& item, const std::string& error,
                                     const service::OutboxPolicy& policy) override {
    auto r = inv_->outbox_failed(item.id, error, policy, item.claim);
    if (!r) return unexpected(r.error().message);
    return *r;
  }

 private:
  std::shared_ptr<Inventory> inv_;
  std::string requester_;
};

}  // namespace

CallbackWorker::CallbackWorker(std::shared_ptr<Inventory> inventory, CallbackWorkerConfig config, CallbackSender sender) {
  service::OutboxWorkerConfig c;
  c.policy = config.policy;
  c.poll_interval = config.poll_interval;
  c.max_parallel_recipients = config.max_parallel_operators;
  c.lease = config.lease;
  c.metrics = config.metrics;
  c.metric = "rsp_smdpp_callbacks_total";
  c.metric_help =
      "ES2+ HandleDownloadProgressInfo deliveries to operators, by result (delivered, failed attempt, given_up after "
      "the last attempt).";
  c.no_destination = "the operator has no callback URL";
  worker_ = std::make_unique<service::OutboxWorker>(
      std::make_shared<InventoryOutbox>(std::move(inventory), config.requester_identifier), std::move(c),
      std::move(sender));
}

CallbackWorker::~CallbackWorker() { stop(); }

SmdppResult<std::size_t> CallbackWorker::run_once() {
  auto r = worker_->run_once();
  if (!r) return smdpp_error(es2codes::kExecutionError, r.error());
  return *r;
}

void CallbackWorker::start() { worker_->start(); }

void CallbackWorker::stop() { worker_->stop(); }

}  // namespace rsp::smdpp
