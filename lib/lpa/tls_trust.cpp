#include "rsp/lpa/tls_trust.hpp"

#include <algorithm>

#include "rsp/lpa/es10_client.hpp"
#include "rsp/net/tls.hpp"

namespace rsp::lpa {

namespace {

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ", ") + i;
  return out;
}

}  // namespace

expected<CiAnchors, std::string> ci_anchors(const std::vector<Bytes>& candidates, const std::vector<Bytes>& pkids) {
  CiAnchors out;
  std::vector<Bytes> seen;
  for (const auto& der : candidates) {
    const Bytes ski = net::certificate_subject_key_id(der);
    if (!ski.empty() && std::find(seen.begin(), seen.end(), ski) != seen.end()) continue;
    const bool listed = !ski.empty() && std::find(pkids.begin(), pkids.end(), ski) != pkids.end();
    (listed ? out.used : out.unlisted).push_back(net::certificate_label(der));
    if (!listed) continue;
    seen.push_back(ski);
    out.anchors.push_back(der);
  }
  if (out.anchors.empty()) {
    std::vector<std::string> listed;
    for (const auto& p : pkids) listed.push_back(to_hex(p));
    return unexpected("none of the CI certificates given is one the eUICC lists for verification (its CI PKIds: " +
                      (listed.empty() ? std::string("none") : join(listed)) + "; given: " +
                      (out.unlisted.empty() ? std::string("none") : join(out.unlisted)) + ")");
  }
  return out;
}

expected<CiAnchors, std::string> ci_anchors(const std::vector<Bytes>& candidates, Es10Client& es10) {
  auto info = es10.get_euicc_info1();
  if (!info) return unexpected("cannot read the eUICC's CI PKIds (GetEUICCInfo1): " + info.error().message);
  return ci_anchors(candidates, info->euiccCiPKIdListForVerification);
}

}  // namespace rsp::lpa
