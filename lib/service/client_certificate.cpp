#include "rsp/service/client_certificate.hpp"

#include <openssl/x509.h>

#include <memory>

namespace rsp::service {

namespace {

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;

X509Ptr parse(ByteView der) {
  const unsigned char* p = der.data();
  X509Ptr x(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (x && p != der.data() + der.size()) x.reset();  // trailing bytes
  return x;
}

}  // namespace

std::string normalize_subject(std::string_view subject) {
  std::string out;
  out.reserve(subject.size());
  for (std::size_t i = 0; i < subject.size(); ++i) {
    const char c = subject[i];
    if (c == ' ') {
      const char prev = out.empty() ? ',' : out.back();
      const char next = i + 1 < subject.size() ? subject[i + 1] : '=';
      if (prev == '=' || prev == ',' || next == '=' || next == ',' || next == ' ') continue;
    }
    out += c;
  }
  return out;
}

bool issued_by(ByteView cert, ByteView issuer) {
  auto c = parse(cert);
  auto i = parse(issuer);
  if (!c || !i) return false;
  if (cert.size() == issuer.size() && equal_ct(cert, issuer)) return true;
  if (X509_NAME_cmp(X509_get_issuer_name(c.get()), X509_get_subject_name(i.get())) != 0) return false;
  EVP_PKEY* key = X509_get0_pubkey(i.get());
  return key && X509_verify(c.get(), key) == 1;
}

std::optional<std::string> ClientCertificateAuthenticator::authenticate(const net::PeerCertificate& peer) const {
  if (peer.chain.empty()) return std::nullopt;
  const Bytes& leaf = peer.leaf();
  for (const auto& r : rules_)
    if (r.leaf && r.leaf->size() == leaf.size() && equal_ct(*r.leaf, leaf)) return r.caller;
  const std::string subject = normalize_subject(peer.subject);
  for (const auto& r : rules_) {
    if (r.leaf || !r.root || normalize_subject(r.subject) != subject) continue;
    // The chain as the client sent it ends at the root or at a certificate
    // the root issued (net verified every link below it).
    if (issued_by(peer.chain.back(), *r.root)) return r.caller;
  }
  return std::nullopt;
}

std::vector<Bytes> ClientCertificateAuthenticator::roots() const {
  std::vector<Bytes> out;
  for (const auto& r : rules_)
    if (r.root) out.push_back(*r.root);
  return out;
}

}  // namespace rsp::service
