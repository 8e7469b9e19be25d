#pragma once
/// Certificate roles of the RSP PKI and the certificate profile each one must
/// follow (SGP.22 §4.5.2 "Certificates" and Annex A/B id-rspRole; SGP.26 shows
/// the profile on the GSMA test PKI).

#include <optional>
#include <string>
#include <string_view>

namespace rsp::pki {

/// The certificate policy OID of each role: id-rspRole = 2.23.146.1.2.1,
/// id-rspRole-<role> = id-rspRole.x (SGP.22 RSPDefinitions ASN.1 module).
/// `M2mTls` is not an SGP.22 role: it names the plain TLS server/client
/// certificates of the SGP.02 M2M interfaces (SM-SR, SM-DP), which carry no
/// RSP policy and are recognised by their extended key usage instead.
enum class Role { Ci, Euicc, Eum, DpTls, DpAuth, DpPb, DsTls, DsAuth, M2mTls };

inline constexpr std::string_view kRspRoleArc = "2.23.146.1.2.1";

/// Dotted policy OID ("2.23.146.1.2.1.4"); nullopt for M2mTls.
std::optional<std::string_view> policy_oid(Role r);
/// The role whose policy OID is `oid` (dotted form); nullopt for other OIDs.
std::optional<Role> role_from_policy(std::string_view oid);

/// Short lower-case name used in output and on the command line
/// ("ci", "euicc", "eum", "dp-tls", "dp-auth", "dp-pb", "ds-tls", "ds-auth", "m2m-tls").
std::string_view role_name(Role r);
std::optional<Role> role_from_name(std::string_view name);

/// Whether certificates of this role sign other certificates (CI, EUM).
bool is_ca_role(Role r);
/// Whether the role is a TLS server role (needs id-kp-serverAuth and a SAN).
bool is_tls_role(Role r);

/// X.509 keyUsage bits (RFC 5280 §4.2.1.3), as OpenSSL's X509_get_key_usage
/// reports them.
enum KeyUsageBit : unsigned {
  kKuDigitalSignature = 0x80,
  kKuKeyAgreement = 0x08,
  kKuKeyCertSign = 0x04,
  kKuCrlSign = 0x02,
};

/// The keyUsage a role's certificate must carry and the bits it may carry in
/// addition (SGP.22 §4.5.2.1: CI keyCertSign + cRLSign; EUM keyCertSign;
/// eUICC, SM-DP+ and SM-DS certificates digitalSignature only; TLS
/// certificates may also have keyAgreement).
struct KeyUsageRule {
  unsigned required;
  unsigned allowed;  ///< superset of required
};
KeyUsageRule key_usage_rule(Role r);

}  // namespace rsp::pki
