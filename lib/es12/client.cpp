#include "rsp/es12/client.hpp"

#include <nlohmann/json.hpp>

#include "rsp/messages/es12_json.hpp"
#include "rsp/messages/es9_json.hpp"
#include "rsp/messages/header.hpp"
#include "rsp/net/client.hpp"

namespace rsp::es12 {

expected<void, CallError> call(const ClientConfig& config, const std::string& base_url, std::string_view path,
                               const std::string& request_json) {
  const std::string what = "ES12 " + std::string(path);
  net::HttpsClientOptions o;
  o.base_url = base_url;
  o.trust_anchors = config.trust_anchors;
  o.identity = config.identity;
  o.connect_timeout = config.timeout;
  o.read_timeout = config.timeout;
  o.write_timeout = config.timeout;
  o.connect_to = config.connect_to;
  o.keep_alive = false;
  o.user_agent = config.user_agent;
  auto client = net::HttpsClient::create(std::move(o));
  if (!client) return unexpected(CallError{{}, {}, "ES12 client: " + client.error().message});
  net::Headers headers{{"X-Admin-Protocol", std::string(messages::kAdminProtocol)}};
  auto res = (*client)->post(std::string(path), request_json, std::string(messages::kJsonContentType), headers);
  if (!res) return unexpected(CallError{{}, {}, what + ": " + res.error().message});
  if (res->status != 200) return unexpected(CallError{{}, {}, what + ": HTTP " + std::to_string(res->status)});
  auto header = messages::es9::decode_response_header(res->body);
  if (!header) return unexpected(CallError{{}, {}, what + ": " + header.error().to_string()});
  if (!header->succeeded()) {
    CallError e{{}, {}, what + ": refused"};
    if (const auto& d = header->function_execution_status.status_code_data) {
      e.subject_code = d->subject_code;
      e.reason_code = d->reason_code;
      e.message += " " + d->subject_code + "/" + d->reason_code;
    }
    return unexpected(std::move(e));
  }
  return {};
}

std::string outbox_body(std::string_view path, const std::string& request_json) {
  return messages::dump(nlohmann::json{{"path", std::string(path)}, {"request", request_json}});
}

service::OutboxSender outbox_sender(ClientConfig config, std::optional<messages::StatusCode> event_unknown) {
  return [config = std::move(config), event_unknown](const std::string& destination,
                                                     const std::string& body) -> expected<void, std::string> {
    auto j = nlohmann::json::parse(body, nullptr, false);
    if (!j.is_object() || !j.contains("path") || !j["path"].is_string() || !j.contains("request") ||
        !j["request"].is_string())
      return unexpected(std::string("malformed outbox entry"));
    const auto path = j["path"].get<std::string>();
    auto r = call(config, destination, path, j["request"].get<std::string>());
    if (r) return {};
    if (event_unknown && path == messages::es12::kDeleteEventPath && r.error().is(*event_unknown)) return {};
    return unexpected(std::move(r.error().message));
  };
}

}  // namespace rsp::es12
