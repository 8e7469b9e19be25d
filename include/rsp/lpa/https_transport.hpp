#pragma once
/// ES9+ over HTTPS (SGP.22 §6.1, §2.6.6): the LPA's real transport to an
/// SM-DP+. The server certificate must chain to one of the given trust
/// anchors (the GSMA CI certificates the eUICC trusts) and carry the SM-DP+'s
/// name; one keep-alive connection per SM-DP+ address.

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "rsp/common/bytes.hpp"
#include "rsp/lpa/es9_transport.hpp"

namespace rsp::net {
class HttpsClient;
}

namespace rsp::lpa {

struct HttpsEs9Options {
  /// Trusted roots, DER: the CI certificates (SGP.22 §2.6.6: TLS certificates
  /// of the SM-DP+ are issued under a GSMA CI).
  std::vector<Bytes> trust_anchors;
  /// SM-DP+ host -> "IP" or "IP:port" to connect to instead of resolving the
  /// name (the certificate must still carry the name), like curl --connect-to;
  /// the port only for an address without one of its own.
  std::map<std::string, std::string> resolve;
  /// Plain HTTP, for lab SM-DP+ servers started with --insecure-http.
  bool insecure_http = false;
};

class HttpsEs9Transport final : public Es9Transport {
 public:
  explicit HttpsEs9Transport(HttpsEs9Options options);
  ~HttpsEs9Transport() override;

  expected<HttpReply, TransportError> post(std::string_view smdp_address, std::string_view path,
                                           std::string_view json_body) override;

 private:
  HttpsEs9Options options_;
  std::mutex mu_;
  std::map<std::string, std::unique_ptr<net::HttpsClient>, std::less<>> clients_;
};

}  // namespace rsp::lpa
