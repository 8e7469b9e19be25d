#pragma once
/// The trust anchors of the LPA's TLS to an SM-DP+ or an SM-DS (SGP.22 v2.2.2
/// §2.6.6: their TLS certificates are issued under a GSMA CI). The LPA holds
/// CI certificates (`rsp lpa --ci FILE|DIR`) and anchors the handshake only on
/// those whose SubjectKeyIdentifier, the CI's PKId, the eUICC lists in
/// euiccCiPKIdListForVerification (EUICCInfo1, ES10b.GetEUICCInfo §5.7.8), so
/// that a server under a CI the card does not trust fails at the handshake,
/// before any ES9+ or ES11 call. That the LPA must restrict its TLS trust to
/// the listed CIs is our reading of §2.6.6 with §4.5.2.1 (the PKId is the
/// SKI), not a sentence we could quote.
///
///   auto anchors = ci_anchors(candidates, es10);   // the listed ones, or why none
///   options.trust_anchors = anchors->anchors;

#include <string>
#include <vector>

#include "rsp/common/bytes.hpp"
#include "rsp/common/expected.hpp"

namespace rsp::lpa {

class Es10Client;

struct CiAnchors {
  std::vector<Bytes> anchors;         ///< DER: the candidates the eUICC lists
  std::vector<std::string> used;      ///< "subject (SKI hex)" of each anchor
  std::vector<std::string> unlisted;  ///< the same for candidates the eUICC does not list
};

/// The certificates of `candidates` (DER) whose SKI is one of `pkids`, in
/// their order, each once; an error in words naming the PKIds and the
/// candidates when none is.
expected<CiAnchors, std::string> ci_anchors(const std::vector<Bytes>& candidates, const std::vector<Bytes>& pkids);

/// The same, with the eUICC's euiccCiPKIdListForVerification read over ES10b
/// (GetEUICCInfo1).
expected<CiAnchors, std::string> ci_anchors(const std::vector<Bytes>& candidates, Es10Client& es10);

}  // namespace rsp::lpa
