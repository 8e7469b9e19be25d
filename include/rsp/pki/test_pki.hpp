#pragma once
/// Generation of a complete test PKI shaped like GSMA SGP.26 (used by
/// `rsp pki init`). For each curve C in {NIST, BRP} it writes into the output
/// directory (certificates 0644 PEM, private keys 0600 PKCS#8 PEM):
///
///   CERT_CI_ECDSA_C.pem            SK_CI_ECDSA_C.pem           CI, self-signed (no SK file when
///                                                              issuing under an existing CI)
///   CERT_EUM_ECDSA_C.pem           SK_EUM_ECDSA_C.pem          EUM, name constraints O + EID prefix
///   CERT_EUICC_ECDSA_C.pem         SK_EUICC_ECDSA_C.pem        eUICC, EID in subject serialNumber
///   CERT_S_SM_DPauth_ECDSA_C.pem   SK_S_SM_DPauth_ECDSA_C.pem  SM-DP+ authentication
///   CERT_S_SM_DPpb_ECDSA_C.pem     SK_S_SM_DPpb_ECDSA_C.pem    SM-DP+ profile binding
///   CERT_S_SM_DP_TLS_C.pem         SK_S_SM_DP_TLS_C.pem        SM-DP+ TLS (SAN: address + 127.0.0.1)
///   CERT_S_SM_DSauth_ECDSA_C.pem   SK_S_SM_DSauth_ECDSA_C.pem  SM-DS authentication
///   CERT_S_SM_DS_TLS_C.pem         SK_S_SM_DS_TLS_C.pem        SM-DS TLS
///   CERT_M2M_SM_SR_TLS_C.pem       SK_M2M_SM_SR_TLS_C.pem      SGP.02 SM-SR TLS (no RSP policy)
///   CERT_M2M_SM_DP_TLS_C.pem       SK_M2M_SM_DP_TLS_C.pem      SGP.02 SM-DP TLS (no RSP policy)
///   CERT_OPERATOR_TLS_C.pem        SK_OPERATOR_TLS_C.pem       an operator's ES2+ client certificate
///                                                              (mutual TLS; no RSP policy)
///
/// and once: PSK_M2M_SCP81.txt (0600), "identity=<hex>\nkey=<32 hex digits>\n", the
/// PSK-TLS key shared by the SM-SR and the eUICC's ISD-R for SCP81 (SGP.02 §2.4.4).
/// Every chain verifies with `openssl verify -CAfile CERT_CI_ECDSA_C.pem` except
/// the eUICC one (OpenSSL applies RFC 5280 subtree matching to the EUM's
/// SGP.22-style name constraints, exactly as with the SGP.26 set).

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "rsp/pki/certificate.hpp"

namespace rsp::pki {

struct TestPkiOptions {
  std::filesystem::path out_dir;
  std::vector<crypto::Curve> curves{crypto::Curve::NistP256, crypto::Curve::BrainpoolP256r1};
  /// Host name or IP address of the SM-DP+ (DPtls subjectAltName and CN).
  std::string smdpp_address = "localhost";
  /// The eUICC's EID; default a fresh valid EID under `eid_prefix`.
  std::optional<std::string> eid;
  /// The EUM's EID prefix (SGP.29: "89" + country code + issuer id); taken
  /// from the first 8 digits of `eid` when that is given.
  std::string eid_prefix = "89049032";
  /// Issue under an existing CI instead of creating one; its curve replaces `curves`.
  struct ExistingCi {
    Certificate cert;
    crypto::EcKey key;
  };
  std::optional<ExistingCi> ci;
  /// Issuing time (default: the system clock).
  std::optional<TimePoint> now;
};

struct TestPkiItem {
  Role role;
  crypto::Curve curve;
  std::filesystem::path cert_file;
  std::filesystem::path key_file;  ///< empty for an existing CI
  std::string subject;
  TimePoint not_after;
};

struct TestPki {
  std::vector<TestPkiItem> items;
  std::string eid;
  std::string eid_prefix;
  std::filesystem::path psk_file;
};

PkiResult<TestPki> make_test_pki(const TestPkiOptions& options);

}  // namespace rsp::pki
