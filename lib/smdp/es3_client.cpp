#include "rsp/smdp/es3_client.hpp"

#include <nlohmann/json.hpp>

#include "rsp/m2m/es_status.hpp"

namespace rsp::smdp {

using nlohmann::json;
namespace es3 = m2m::es3;

expected<void, std::string> Es3Results::deliver(std::string_view body) {
  auto r = es3::decode_result(body);
  if (!r) return unexpected("not an ES3 result: " + r.error().message);
  deliver(std::move(*r));
  return {};
}

void Es3Results::deliver(es3::Result result) {
  {
    std::lock_guard lock(mu_);
    const std::int64_t id = result.operation_id;
    if (!results_.contains(id)) {
      while (results_.size() >= capacity_) {
        results_.erase(results_.begin());
        ++dropped_;
      }
      results_.emplace(id, std::move(result));
    }
  }
  cv_.notify_all();
}

std::size_t Es3Results::size() {
  std::lock_guard lock(mu_);
  return results_.size();
}

std::uint64_t Es3Results::dropped() {
  std::lock_guard lock(mu_);
  return dropped_;
}

std::optional<es3::Result> Es3Results::wait(std::int64_t id, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  if (!cv_.wait_for(lock, timeout, [&] { return results_.contains(id); })) return std::nullopt;
  auto node = results_.extract(id);
  return std::move(node.mapped());
}

expected<std::unique_ptr<Es3Client>, std::string> Es3Client::create(Es3ClientOptions options,
                                                                     std::shared_ptr<Es3Results> results) {
  if (!results) return unexpected(std::string("no callback results to wait on"));
  net::HttpsClientOptions o;
  o.base_url = options.smsr_url;
  o.trust_anchors = std::move(options.trust_anchors);
  o.identity = std::move(options.identity);
  o.connect_timeout = options.timeout;
  o.read_timeout = options.timeout;
  o.write_timeout = options.timeout;
  o.user_agent = "rsp-smdp/0.1";
  auto http = net::HttpsClient::create(std::move(o));
  if (!http) return unexpected("ES3 client: " + http.error().message);
  return std::unique_ptr<Es3Client>(new Es3Client(std::move(*http), std::move(results), options.result_timeout));
}

expected<es3::Result, std::string> Es3Client::call(const es3::Request& request) {
  const auto& f = es3::function(es3::function_of(request));
  net::NetResult<net::HttpResponse> response = [&] {
    std::lock_guard lock(mu_);
    return http_->request("POST", std::string(f.path), es3::encode_request(request), "application/json");
  }();
  if (!response) return unexpected("the SM-SR did not answer: " + response.error().message);
  const json body = json::parse(response->body, nullptr, false);
  if (body.is_discarded() || !body.is_object())
    return unexpected("the SM-SR answered HTTP " + std::to_string(response->status) + " without a JSON object");
  if (response->status == 202) {
    // Accepted: the result comes by callback.
    const auto id = body.value("operationId", std::int64_t{0});
    if (id <= 0) return unexpected(std::string("the SM-SR accepted the call without an operation id"));
    auto result = results_->wait(id, result_timeout_);
    if (!result) return unexpected("no result for operation " + std::to_string(id) + " in time");
    return std::move(*result);
  }
  if (response->status != 200) return unexpected("the SM-SR answered HTTP " + std::to_string(response->status));
  // Executed at once (GetEIS, ProfileDownloadCompleted) or refused: the header says which.
  const json status = body.value("header", json::object()).value("functionExecutionStatus", json::object());
  es3::Result r;
  r.function = es3::function_of(request);
  r.status = status.value("status", std::string());
  if (!m2m::parse_status(r.status)) return unexpected(std::string("the SM-SR's answer has no execution status"));
  const json codes = status.value("statusCodeData", json::object());
  r.subject_code = codes.value("subjectCode", std::string());
  r.reason_code = codes.value("reasonCode", std::string());
  if (auto eis = body.find("eis"); eis != body.end() && eis->is_object()) r.eis = *eis;
  return r;
}

}  // namespace rsp::smdp
