// The MNO callbacks' HTTP(S) sender (callbacks.hpp).

#include "rsp/net/client.hpp"
#include "rsp/smsr/callbacks.hpp"

namespace rsp::smsr {

service::OutboxSender mno_callback_sender(std::vector<Bytes> trust_anchors, std::chrono::milliseconds timeout) {
  return [trust_anchors = std::move(trust_anchors), timeout](const std::string& url,
                                                             const std::string& body) -> expected<void, std::string> {
    const bool tls = url.starts_with("https://");
    if (!tls && !url.starts_with("http://")) return unexpected(std::string("callback URL is not http(s)"));
    const auto host_end = url.find('/', tls ? 8 : 7);
    net::HttpsClientOptions o;
    o.base_url = url.substr(0, host_end);
    o.trust_anchors = trust_anchors;
    o.connect_timeout = o.read_timeout = o.write_timeout = timeout;
    o.keep_alive = false;
    auto client = net::HttpsClient::create(std::move(o));
    if (!client) return unexpected(std::string("callback client: ") + net::kind_name(client.error().kind));
    auto r = (*client)->request("POST", host_end == std::string::npos ? "/" : url.substr(host_end), body,
                                "application/json");
    if (!r) return unexpected(std::string("callback not delivered: ") + net::kind_name(r.error().kind));
    if (r->status < 200 || r->status > 299) return unexpected("HTTP status " + std::to_string(r->status));
    return {};
  };
}

}  // namespace rsp::smsr
