// The MNO callbacks' HTTP(S) sender (callbacks.hpp).

#include <map>
#include <memory>
#include <mutex>

#include "rsp/net/client.hpp"
#include "rsp/smsr/callbacks.hpp"
#include "rsp/m2m_soap/callback.hpp"

namespace rsp::smsr {

namespace {

/// One keep-alive connection per callback server (scheme, host and port),
/// kept for the callbacks after it: a callback no longer costs a TLS
/// handshake of its own. Every new connection checks the server's
/// certificate as before; when a kept connection fails the callback is
/// sent once more on a new one, and a connection that failed is dropped. The outbox sends one MNO's callbacks one
/// at a time and different MNOs' at once: each connection has its own lock.
struct Connection {
  std::mutex mu;
  std::unique_ptr<net::HttpsClient> client;
};

struct Connections {
  std::mutex mu;
  std::map<std::string, std::shared_ptr<Connection>> by_server;
  std::shared_ptr<Connection> of(const std::string& server) {
    std::lock_guard lock(mu);
    auto& c = by_server[server];
    if (!c) c = std::make_shared<Connection>();
    return c;
  }
};

}  // namespace

service::OutboxSender mno_callback_sender(std::vector<Bytes> trust_anchors, std::chrono::milliseconds timeout,
                                          CallbackBindings bindings, std::optional<net::TlsIdentity> identity) {
  auto connections = std::make_shared<Connections>();
  return [trust_anchors = std::move(trust_anchors), timeout, connections, bindings = std::move(bindings),
          identity = std::move(identity)](const std::string& url,
                                          const std::string& json_body) -> expected<void, std::string> {
    std::string body = json_body;
    std::string content_type = "application/json";
    if (bindings.of_url && bindings.of_url(url) == CallbackBinding::Soap) {
      auto soap = m2m_soap::soap_callback(json_body, url, bindings.from);
      if (!soap) return unexpected(soap.error());
      body = std::move(soap->envelope);
      content_type = std::move(soap->content_type);
    }
    const bool tls = url.starts_with("https://");
    if (!tls && !url.starts_with("http://")) return unexpected(std::string("callback URL is not http(s)"));
    const auto host_end = url.find('/', tls ? 8 : 7);
    const std::string server = url.substr(0, host_end);
    auto connection = connections->of(server);
    std::lock_guard lock(connection->mu);
    const auto connect = [&]() -> expected<void, std::string> {
      net::HttpsClientOptions o;
      o.base_url = server;
      o.trust_anchors = trust_anchors;
      if (tls) o.identity = identity;
      // The client's own connection (lib/net), not cpp-httplib's: the
      // request in one TLS record, the response head parsed at once.
      o.own_connection = tls;
      o.connect_timeout = o.read_timeout = o.write_timeout = timeout;
      auto client = net::HttpsClient::create(std::move(o));
      if (!client) return unexpected(std::string("callback client: ") + net::kind_name(client.error().kind));
      connection->client = std::move(*client);
      return {};
    };
    const std::string path = host_end == std::string::npos ? "/" : url.substr(host_end);
    const bool reused = connection->client != nullptr;
    if (!reused)
      if (auto c = connect(); !c) return unexpected(c.error());
    auto r = connection->client->request("POST", path, body, content_type);
    if (!r && reused) {
      // The server may have closed the kept connection (its idle timeout or
      // request limit): once more at once on a new one, rather than waiting
      // for the outbox's back-off. A callback that did arrive before the
      // failure comes twice; the MNO drops it by functionCallIdentifier.
      if (auto c = connect(); !c) return unexpected(c.error());
      r = connection->client->request("POST", path, body, content_type);
    }
    if (!r) {
      connection->client.reset();
      return unexpected(std::string("callback not delivered: ") + net::kind_name(r.error().kind));
    }
    if (r->status < 200 || r->status > 299) return unexpected("HTTP status " + std::to_string(r->status));
    return {};
  };
}

}  // namespace rsp::smsr
