#pragma once
// The SM-DP+ HTTP service over real TLS serving a core Server in process,
// and the LPA side: an rsp::net::HttpsClient (keep-alive) trusting only the
// test PKI's NIST CI, posting the messages component's ES9+ JSON.

#include <memory>
#include <string>

#include "fixture.hpp"
#include "rsp/messages/es9_json.hpp"
#include "rsp/net/client.hpp"
#include "rsp/smdpp/http_service.hpp"

namespace rsp::smdpp::testing {

class HttpsRig {
 public:
  /// Serves `server` (borrowed: the caller keeps it alive). `error` is set
  /// when the service or the client could not start.
  explicit HttpsRig(Server& server) {
    auto ids = load_tls_identities(test_pki_dir());
    if (!ids) {
      error = ids.error().message;
      return;
    }
    HttpServiceConfig config;
    config.tls_identities = *ids;
    config.address = kAddress;
    config.es9 = es9_dispatcher(std::shared_ptr<Server>(&server, [](Server*) {}));
    auto started = HttpService::start(config);
    if (!started) {
      error = started.error().message;
      return;
    }
    service = std::move(*started);
    net::HttpsClientOptions opt;
    opt.base_url = "https://" + kAddress + ":" + std::to_string(service->port());
    opt.connect_to = "127.0.0.1";
    auto ci = net::load_certificates(test_pki_dir() / "CERT_CI_ECDSA_NIST.pem");
    if (!ci) {
      error = ci.error().message;
      return;
    }
    opt.trust_anchors = *ci;
    auto c = net::HttpsClient::create(opt);
    if (!c) {
      error = c.error().message;
      return;
    }
    client = std::move(*c);
  }

  net::NetResult<net::HttpResponse> call(messages::es9::Function f, const std::string& body) {
    return client->post(std::string(messages::es9::path(f)), body, "application/json",
                        {{"X-Admin-Protocol", std::string(kAdminProtocol)}});
  }

  std::string error;
  std::unique_ptr<HttpService> service;
  std::unique_ptr<net::HttpsClient> client;
};

/// "subject/reason" of a Failed ES9+ answer, or what else the decoder said.
inline std::string failure_codes(const messages::MessageError& e) {
  if (e.kind != messages::ErrorKind::FunctionFailed) return "not a failed function: " + e.to_string();
  return e.subject_code + "/" + e.reason_code;
}

}  // namespace rsp::smdpp::testing
