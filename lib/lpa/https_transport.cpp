#include "rsp/lpa/https_transport.hpp"

#include "rsp/messages/header.hpp"
#include "rsp/net/client.hpp"
#include "rsp/net/tls.hpp"

namespace rsp::lpa {

namespace {
/// "host", "host:port" or "[v6]:port" -> host.
std::string host_of(std::string_view address) {
  if (!address.empty() && address.front() == '[') return std::string(address.substr(1, address.find(']') - 1));
  const auto colon = address.rfind(':');
  return std::string(colon == std::string_view::npos ? address : address.substr(0, colon));
}
}  // namespace

std::string lpa_tls_groups() {
  return net::brainpool_tls13_supported() ? "P-256:brainpoolP256r1:brainpoolP256r1tls13" : "P-256:brainpoolP256r1";
}

HttpsEs9Transport::HttpsEs9Transport(HttpsEs9Options options) : options_(std::move(options)) {}
HttpsEs9Transport::~HttpsEs9Transport() = default;

expected<HttpReply, TransportError> HttpsEs9Transport::post(std::string_view smdp_address, std::string_view path,
                                                            std::string_view json_body) {
  std::lock_guard lock(mu_);
  auto it = clients_.find(smdp_address);
  if (it == clients_.end()) {
    net::HttpsClientOptions o;
    std::string authority(smdp_address);
    const std::string host = host_of(smdp_address);
    if (auto r = options_.resolve.find(host); r != options_.resolve.end()) {
      // "ip" or "ip:port": connect there, still expecting `host` in the certificate
      const std::string& to = r->second;
      const bool has_port = to.starts_with('[') ? to.find("]:") != std::string::npos
                                                : to.find(':') != std::string::npos;
      o.connect_to = has_port ? host_of(to) : to;
      // An address with its own port keeps it (an SM-DS beside the SM-DP+ on one host).
      if (has_port && authority == host) authority = host + to.substr(to.rfind(':'));
    }
    o.base_url = std::string(options_.insecure_http ? "http://" : "https://") + authority;
    o.server_name = host;
    o.trust_anchors = options_.trust_anchors;
    o.verify_server = !options_.insecure;
    o.groups = options_.groups;
    auto client = net::HttpsClient::create(std::move(o));
    if (!client) return unexpected(TransportError{client.error().message});
    it = clients_.emplace(std::string(smdp_address), std::move(*client)).first;
  }
  auto r = it->second->request("POST", std::string(path), std::string(json_body), "application/json",
                               {{"X-Admin-Protocol", std::string(messages::kAdminProtocol)}});
  if (!r) {
    clients_.erase(it);  // a broken connection is not reused
    if (r.error().kind == net::NetError::Kind::TlsVerification) {
      return unexpected(TransportError{"the TLS certificate of " + std::string(smdp_address) +
                                       " was refused (checked against the CIs the eUICC lists): " +
                                       r.error().message});
    }
    return unexpected(TransportError{std::string(net::kind_name(r.error().kind)) + ": " + r.error().message,
                                     r.error().kind == net::NetError::Kind::Timeout});
  }
  return HttpReply{r->status, std::move(r->body)};
}

}  // namespace rsp::lpa
