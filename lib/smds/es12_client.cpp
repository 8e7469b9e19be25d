#include "rsp/smds/es12_client.hpp"

#include <nlohmann/json.hpp>

#include "rsp/messages/es9_json.hpp"
#include "rsp/messages/header.hpp"
#include "rsp/net/client.hpp"

namespace rsp::smds {

expected<void, std::string> es12_call(const Es12ClientConfig& config, const std::string& base_url,
                                      std::string_view path, const std::string& request_json) {
  net::HttpsClientOptions o;
  o.base_url = base_url;
  o.trust_anchors = config.trust_anchors;
  o.identity = config.identity;
  o.connect_timeout = config.timeout;
  o.read_timeout = config.timeout;
  o.write_timeout = config.timeout;
  o.connect_to = config.connect_to;
  o.keep_alive = false;
  o.user_agent = "rsp-smds/0.1";
  auto client = net::HttpsClient::create(std::move(o));
  if (!client) return unexpected("ES12 client: " + client.error().message);
  net::Headers headers{{"X-Admin-Protocol", std::string(messages::kAdminProtocol)}};
  auto res = (*client)->post(std::string(path), request_json, std::string(messages::kJsonContentType), headers);
  if (!res) return unexpected("ES12 " + std::string(path) + ": " + res.error().message);
  if (res->status != 200) return unexpected("ES12 " + std::string(path) + ": HTTP " + std::to_string(res->status));
  auto header = messages::es9::decode_response_header(res->body);
  if (!header) return unexpected("ES12 " + std::string(path) + ": " + header.error().to_string());
  if (!header->succeeded()) {
    std::string code;
    if (const auto& d = header->function_execution_status.status_code_data) code = " " + d->subject_code + "/" + d->reason_code;
    return unexpected("ES12 " + std::string(path) + ": refused" + code);
  }
  return {};
}

service::OutboxSender forward_sender(Es12ClientConfig config) {
  return [config = std::move(config)](const std::string& destination, const std::string& body) -> expected<void, std::string> {
    auto j = nlohmann::json::parse(body, nullptr, false);
    if (!j.is_object() || !j.contains("path") || !j["path"].is_string() || !j.contains("request") ||
        !j["request"].is_string())
      return unexpected(std::string("malformed outbox entry"));
    return es12_call(config, destination, j["path"].get<std::string>(), j["request"].get<std::string>());
  };
}

}  // namespace rsp::smds
