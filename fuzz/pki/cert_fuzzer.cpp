// Fuzzes certificate parsing (DER and PEM) and chain validation with
// arbitrary bytes as the leaf, against a fixed CI + EUM trust set whose seed
// leaves are in the corpus; and holds from_der's DER walk to OpenSSL's parse.

#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "rsp/common/file.hpp"
#include "rsp/pki/validator.hpp"

namespace {

struct Trust {
  std::vector<rsp::pki::Certificate> cis;
  std::vector<rsp::pki::Certificate> intermediates;
};

const Trust& trust() {
  static const Trust t = [] {
    Trust out;
    auto data = rsp::read_file(RSP_PKI_FUZZ_TRUST);
    if (!data) std::abort();
    auto certs = rsp::pki::Certificate::load(*data);
    if (!certs) std::abort();
    for (auto& c : *certs) (c.self_issued() ? out.cis : out.intermediates).push_back(c);
    return out;
  }();
  return t;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const rsp::ByteView input(data, size);
  // Fixed time: results must not depend on the clock.
  static const auto at = rsp::pki::parse_utc_time("2027-01-01T00:00:00Z");
  const Trust& t = trust();
  auto leaf = rsp::pki::Certificate::from_der(input);
  // from_der's DER walk must agree with OpenSSL's parse on every input: the
  // same verdict, the same view.
  auto reference = rsp::pki::Certificate::from_der_openssl(input);
  if (leaf.has_value() != reference.has_value()) std::abort();
  if (leaf && !rsp::pki::same_view(*leaf, *reference)) std::abort();
  if (leaf) {
    (void)leaf->to_pem();
    const auto claimed = leaf->role().value_or(rsp::pki::Role::DpAuth);
    auto r = rsp::pki::validate_chain(*leaf, t.intermediates, t.cis, claimed, at);
    if (r && r->path.empty()) std::abort();  // a valid chain always has its leaf and CI
    (void)rsp::pki::validate_chain(*leaf, t.intermediates, t.cis, rsp::pki::Role::Euicc, at);
  }
  (void)rsp::pki::Certificate::load(input);
  return 0;
}
