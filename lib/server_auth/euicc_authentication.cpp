#include "rsp/server_auth/euicc_authentication.hpp"

#include <algorithm>

#include "rsp/asn1/sgp22_signed.hpp"
#include "rsp/crypto/ecdsa.hpp"
#include "rsp/pki/memo.hpp"
#include "rsp/pki/validator.hpp"

namespace rsp::server_auth {

namespace {

bool contains(std::span<const Bytes> list, const Bytes& id) {
  return std::find(list.begin(), list.end(), id) != list.end();
}

unexpected<AuthError> refuse(messages::StatusCode code, std::string message) {
  return unexpected(AuthError{code, std::move(message)});
}

/// An EUM / eUICC validation failure as the §5.6.2 / §5.8.2 codes.
AuthError chain_error(const pki::PkiError& e, bool eum) {
  using C = pki::PkiError::Code;
  messages::StatusCode c = eum ? codes::kEumCertInvalid : codes::kEuiccCertInvalid;
  if (e.code == C::Expired) c = eum ? codes::kEumCertExpired : codes::kEuiccCertExpired;
  if (e.code == C::UnknownIssuer && eum) c = codes::kUnknownCiPk;
  return AuthError{c, std::string(eum ? "EUM" : "eUICC") + " certificate: " + e.message};
}

/// The checks SGP.22 v2.2.2 §5.6.2 names before the certificate profile, in
/// the order its table implies: a certificate issued under no CI we trust
/// is an unknown CI (8.11.1 / 3.9, EUM only: an eUICC certificate names its
/// EUM), then an expired one is expired (6.3), whatever else is wrong with
/// it; pki::validate_chain then checks role, profile and signatures (6.1).
std::optional<AuthError> precheck(const pki::Certificate& c, std::span<const pki::Certificate> cis,
                                  std::chrono::sys_seconds now, bool eum) {
  if (eum) {
    const auto& aki = c.authority_key_id();
    const bool known = aki && std::any_of(cis.begin(), cis.end(), [&](const pki::Certificate& ci) {
                         return ci.subject_key_id() == aki;
                       });
    if (!known)
      return chain_error(pki::PkiError{pki::PkiError::Code::UnknownIssuer, "issued by no trusted CI"}, true);
  }
  if (now > c.not_after())
    return chain_error(pki::PkiError{pki::PkiError::Code::Expired, "expired " + pki::format_utc_time(c.not_after())},
                       eum);
  return std::nullopt;
}

}  // namespace

AuthResult<std::size_t> choose_identity(std::span<const Bytes> identity_ci_pkids,
                                        std::span<const pki::Certificate> cis, std::span<const Bytes> verification,
                                        std::span<const Bytes> signing) {
  // The eUICC chain must end at a CI we trust and the eUICC signs with; an
  // empty signing list names no CI of its own and is taken as any.
  const bool signing_trusted =
      signing.empty() || std::any_of(cis.begin(), cis.end(), [&](const pki::Certificate& ci) {
        return ci.subject_key_id() && contains(signing, *ci.subject_key_id());
      });
  if (signing_trusted)
    for (std::size_t i = 0; i < identity_ci_pkids.size(); ++i)
      if (contains(verification, identity_ci_pkids[i])) return i;
  if (!signing_trusted)
    return refuse(codes::kSecurityConfigNotSupported,
                  "none of the eUICC's CIs (euiccCiPKIdListForSigning) is trusted");
  return refuse(codes::kServerCertUnavailable,
                "no server authentication certificate under a CI of euiccCiPKIdListForVerification");
}

AuthResult<AuthenticatedEuicc> authenticate_euicc(const asn1::sgp22::AuthenticateResponseOk& resp,
                                                  const Challenge& challenge, std::span<const pki::Certificate> cis,
                                                  std::chrono::sys_seconds now) {
  const auto& signed1 = resp.euiccSigned1;
  if (!equal_ct(signed1.transactionId, challenge.transaction_id))
    return refuse(codes::kUnknownTransactionId, "euiccSigned1 carries another transactionId");

  // Chain CI -> EUM -> eUICC.
  auto eum = pki::parse_certificate_memo(resp.eumCertificate.der);  // one EUM serves a whole fleet
  if (!eum) return unexpected(chain_error(eum.error(), true));
  if (auto refused = precheck(*eum, cis, now, true)) return unexpected(std::move(*refused));
  if (auto v = pki::validate_chain(*eum, {}, cis, pki::Role::Eum, now); !v)
    return unexpected(chain_error(v.error(), true));
  // Each eUICC certificate is new to a server (one per download or discovery):
  // parsed, not memoized, so that it does not push the EUM out of the memo.
  auto euicc = pki::Certificate::from_der(resp.euiccCertificate.der);
  if (!euicc) return unexpected(chain_error(euicc.error(), false));
  if (auto refused = precheck(*euicc, cis, now, false)) return unexpected(std::move(*refused));
  const pki::Certificate eums[] = {*eum};
  auto chain = pki::validate_chain(*euicc, eums, cis, pki::Role::Euicc, now);
  if (!chain) return unexpected(chain_error(chain.error(), false));

  if (!crypto::verify_plain(chain->public_key, asn1::encode(signed1), resp.euiccSignature1))
    return refuse(codes::kEuiccSignatureInvalid, "euiccSignature1 does not verify");
  // Checked after the signature so the comparison is over authenticated data.
  if (signed1.serverAddress != challenge.server_address ||
      !equal_ct(signed1.serverChallenge, challenge.server_challenge))
    return refuse(codes::kEuiccSignatureInvalid, "serverChallenge or serverAddress mismatch");
  if (!chain->eid) return refuse(codes::kEuiccCertInvalid, "eUICC certificate without EID");
  return AuthenticatedEuicc{*chain->eid, chain->public_key};
}

}  // namespace rsp::server_auth
