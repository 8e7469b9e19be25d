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

/// The TLS groups the LPA offers, in OpenSSL 3's names: NIST P-256 and
/// brainpoolP256r1, the two curves of SGP.22 v2.2.2's certificates (§2.6.6,
/// §4.5.2), so that it reaches an SM-DP+ or SM-DS with brainpool TLS only
/// (over TLS 1.2); with OpenSSL 3.2 or later also RFC 8734's
/// brainpoolP256r1tls13 for TLS 1.3.
std::string lpa_tls_groups();

struct HttpsEs9Options {
  /// Trusted roots, DER: the CI certificates the eUICC lists (SGP.22 §2.6.6:
  /// TLS certificates of the SM-DP+ are issued under a GSMA CI; see
  /// tls_trust.hpp).
  std::vector<Bytes> trust_anchors;
  /// The server certificate is not checked at all (`rsp lpa --insecure`, a
  /// lab switch); trust_anchors may then be empty.
  bool insecure = false;
  /// Groups offered (OpenSSL list syntax).
  std::string groups = lpa_tls_groups();
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
