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

std::string progress_request_body(const service::OutboxItem& item, const std::string& requester_identifier) {
  auto j = nlohmann::json::parse(item.body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) j = nlohmann::json::object();
  const std::string call = item.ref.empty() ? "hdpi-" + std::to_string(item.id) : item.ref;
  j["header"] = messages::to_json(messages::RequestHeader{requester_identifier, call});
  return messages::dump(j);
}

namespace {

/// The inventory's callback outbox with each claimed entry's body made the
/// whole HandleDownloadProgressInfo request; the recipients are the
/// operators, the destinations their callback URLs (Inventory::callback_outbox).
class ProgressOutbox : public service::OutboxStore {
 public:
  ProgressOutbox(std::shared_ptr<service::SqlOutbox> outbox, std::string requester)
      : outbox_(std::move(outbox)), requester_(std::move(requester)) {}

  expected<std::vector<std::string>, std::string> due_recipients(std::size_t limit) override {
    return outbox_->due_recipients(limit);
  }
  expected<std::optional<service::OutboxItem>, std::string> claim_next(const std::string& recipient,
                                                                       std::chrono::seconds lease,
                                                                       const std::string& claim) override {
    auto r = outbox_->claim_next(recipient, lease, claim);
    if (r && *r) (*r)->body = progress_request_body(**r, requester_);
    return r;
  }
  expected<bool, std::string> delivered(const service::OutboxItem& item) override { return outbox_->delivered(item); }
  expected<bool, std::string> failed(const service::OutboxItem& item, const std::string& error,
                                     const service::OutboxPolicy& policy) override {
    return outbox_->failed(item, error, policy);
  }

 private:
  std::shared_ptr<service::SqlOutbox> outbox_;
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
      std::make_shared<ProgressOutbox>(inventory->callback_outbox(), config.requester_identifier), std::move(c),
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
