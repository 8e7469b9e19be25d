#pragma once
/// A parsed, read-only view of an X.509 v3 certificate (RFC 5280) with the
/// fields the RSP PKI cares about (SGP.22 §4.5.2): names, key identifiers,
/// certificate policies (role), keyUsage, basicConstraints, the EID in the
/// subject serialNumber and the EUM name constraints. Parsing is strict and
/// safe on hostile input; it does not validate (see validator.hpp).

#include <array>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rsp/common/bytes.hpp"
#include "rsp/crypto/ec_key.hpp"
#include "rsp/pki/error.hpp"
#include "rsp/pki/roles.hpp"

typedef struct x509_st X509;

namespace rsp::pki {

using TimePoint = std::chrono::sys_seconds;

/// One permitted directoryName subtree of an EUM certificate's name
/// constraints as SGP.22 §4.5.2.1.0.2 uses it: the EUM organisation and an
/// EID prefix carried in serialNumber.
struct EumPermittedName {
  std::optional<std::string> organization;
  std::optional<std::string> eid_prefix;
};

class Certificate {
 public:
  /// Upper bound on the size of one certificate we accept (RSP certificates are < 2 KiB).
  static constexpr std::size_t kMaxDerSize = 16 * 1024;

  /// Exactly one DER certificate, no trailing bytes. A certificate of the
  /// usual RSP leaf shape (certificate_der.cpp: v3, ecdsa-with-SHA256, a key
  /// on one of our curves, names of ASCII strings, and only the extensions
  /// an eUICC certificate carries, each once) is read by a strict DER walk
  /// of our own, its OpenSSL X509 made only when asked for (x509());
  /// anything else by OpenSSL, as from_der_openssl().
  static PkiResult<Certificate> from_der(ByteView der);
  /// OpenSSL's parse alone: the reference the DER walk of from_der() is
  /// checked against (tests, the certificate fuzz target).
  static PkiResult<Certificate> from_der_openssl(ByteView der);
  /// Every "CERTIFICATE" block of a PEM text (at least one).
  static PkiResult<std::vector<Certificate>> all_from_pem(std::string_view pem);
  /// PEM or DER, detected from the content.
  static PkiResult<std::vector<Certificate>> load(ByteView data);
  /// The certificates of a PEM or DER file (Io error when unreadable).
  static PkiResult<std::vector<Certificate>> load_file(const std::filesystem::path& file);

  const Bytes& der() const { return der_; }
  /// SHA-256 of der(), taken once when parsed: the process-wide memos
  /// (memo.hpp) are keyed by it on every chain validation.
  const std::array<std::uint8_t, 32>& der_sha256() const { return der_sha256_; }
  std::string to_pem() const;

  /// Distinguished names in RFC 2253 order-preserving one-line form ("C=ES, O=RSP Test EUM, CN=EUM Test").
  /// Made when asked (for output and messages only): a server meets a new
  /// eUICC certificate per download and seldom prints its names.
  std::string subject() const;
  std::string issuer() const;
  const std::optional<std::string>& subject_organization() const { return subject_o_; }
  /// Subject serialNumber attribute: the EID for eUICC certificates (SGP.22 §4.5.2.1.0.3).
  const std::optional<std::string>& subject_serial_number() const { return subject_serial_; }
  const std::optional<std::string>& subject_common_name() const { return subject_cn_; }
  bool self_issued() const { return self_issued_; }

  const std::optional<Bytes>& subject_key_id() const { return ski_; }
  const std::optional<Bytes>& authority_key_id() const { return aki_; }

  /// Dotted OIDs of the certificatePolicies extension, in order.
  const std::vector<std::string>& policies() const { return policies_; }
  /// The RSP role named by the policies (the first id-rspRole OID); M2mTls
  /// when there is none but the certificate is a TLS server certificate.
  std::optional<Role> role() const { return role_; }
  /// Number of id-rspRole OIDs (more than one is a profile violation).
  std::size_t rsp_role_count() const { return rsp_role_count_; }

  bool has_key_usage() const { return has_key_usage_; }
  unsigned key_usage() const { return key_usage_; }
  bool has_ext_key_usage() const { return has_eku_; }
  bool eku_server_auth() const { return eku_server_auth_; }
  bool eku_client_auth() const { return eku_client_auth_; }
  bool has_basic_constraints() const { return has_bc_; }
  bool is_ca() const { return is_ca_; }
  /// pathLenConstraint, or -1 when absent.
  long path_len() const { return path_len_; }

  bool has_name_constraints() const { return has_name_constraints_; }
  const std::vector<EumPermittedName>& eum_permitted() const { return eum_permitted_; }
  /// OIDs of critical extensions other than those this view understands.
  const std::vector<std::string>& unknown_critical_extensions() const { return unknown_critical_; }

  const std::vector<std::string>& dns_names() const { return dns_names_; }
  const std::vector<std::string>& ip_addresses() const { return ip_addresses_; }
  /// subjectAltName registeredID values as OID contents (X.690 §8.19): the
  /// SM-DP+ OID of DPauth/DPpb certificates (SGP.22 §4.5.2.1.0.x).
  const std::vector<Bytes>& registered_ids() const { return registered_ids_; }

  TimePoint not_before() const { return not_before_; }
  TimePoint not_after() const { return not_after_; }
  /// Serial number in upper-case hex.
  const std::string& serial_hex() const { return serial_hex_; }

  /// ecdsa-with-SHA256 (SGP.22 §2.6.5).
  bool signed_with_ecdsa_sha256() const { return ecdsa_sha256_; }
  /// Curve of the subject key; nullopt when not an EC key on P-256 / brainpoolP256r1.
  std::optional<crypto::Curve> curve() const { return curve_; }
  /// Name of the subject key's group as OpenSSL reports it (for messages).
  const std::string& key_group() const { return key_group_; }
  /// The subject public key (only for a supported curve).
  crypto::CryptoResult<crypto::EcKey> public_key() const;
  /// Whether `issuer_key` verifies this certificate's signature.
  bool signature_verifies_with(const crypto::EcKey& issuer_key) const;

  /// Whether this certificate's issuer name is `parent`'s subject name, as
  /// X509_NAME_cmp compares them (RFC 5280 §7.1: case and white space
  /// folded), without making either X509 when both were read by the DER walk.
  bool issuer_is_subject_of(const Certificate& parent) const;

  /// The OpenSSL certificate, made from der() on first use for one read by
  /// the DER walk (nullptr if OpenSSL refuses what the walk accepted, which
  /// the differential tests rule out). Thread-safe.
  X509* x509() const;

 private:
  /// The OpenSSL certificate, shared by the copies of one parse; made once.
  struct X509Slot;
  Certificate() = default;
  /// The DER walk (certificate_der.cpp): true when it read the whole
  /// certificate, false when from_der() must leave it to OpenSSL.
  bool parse_der(ByteView der);
  PkiResult<void> parse();
  /// Sets key_, curve_ and key_group_ from the SubjectPublicKeyInfo.
  PkiResult<void> parse_subject_key();

  std::shared_ptr<X509Slot> x509_;  // immutable once made, so sharing is safe
  Bytes der_;
  /// Canonical forms of the names (X509_NAME_cmp's rules) when the DER walk
  /// read them, compared instead of the X509 names.
  std::optional<std::string> subject_canon_, issuer_canon_;
  /// Where the TBSCertificate and the signature (DER ECDSA-Sig-Value) lie
  /// in der_, when the DER walk read them (length 0: ask OpenSSL).
  std::size_t tbs_at_ = 0, tbs_len_ = 0, sig_at_ = 0, sig_len_ = 0;
  std::array<std::uint8_t, 32> der_sha256_{};
  std::string serial_hex_, key_group_;
  std::optional<std::string> subject_o_, subject_serial_, subject_cn_;
  bool self_issued_ = false;
  std::optional<Bytes> ski_, aki_;
  std::vector<std::string> policies_;
  std::optional<Role> role_;
  std::size_t rsp_role_count_ = 0;
  bool has_key_usage_ = false, has_eku_ = false, eku_server_auth_ = false, eku_client_auth_ = false;
  unsigned key_usage_ = 0;
  bool has_bc_ = false, is_ca_ = false;
  long path_len_ = -1;
  bool has_name_constraints_ = false;
  std::vector<EumPermittedName> eum_permitted_;
  std::vector<std::string> unknown_critical_, dns_names_, ip_addresses_;
  std::vector<Bytes> registered_ids_;
  TimePoint not_before_{}, not_after_{};
  bool ecdsa_sha256_ = false;
  std::optional<crypto::Curve> curve_;
  std::optional<crypto::EcKey> key_;  ///< the subject key (none when not an EC key)
};

/// Whether two parses of one certificate give the same view (every accessor
/// above but x509()): how the tests and the fuzz target hold from_der()'s
/// DER walk to OpenSSL's parse (from_der_openssl()).
bool same_view(const Certificate& a, const Certificate& b);

}  // namespace rsp::pki
