// Certificate issuing with the SGP.22 §4.5.2 profile per role.

#include "rsp/pki/issuer.hpp"

#include <openssl/bn.h>
#include <openssl/rand.h>

#include <array>

#include "ossl_util.hpp"

namespace rsp::pki {

using detail::fail;
using Code = PkiError::Code;

namespace {

PkiResult<void> add_ext(X509* cert, X509V3_CTX* ctx, int nid, const std::string& value) {
  detail::X509ExtPtr ext(X509V3_EXT_nconf_nid(nullptr, ctx, nid, value.c_str()));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1)
    return fail(Code::InvalidArgument, std::string("cannot build extension ") + OBJ_nid2sn(nid) + " = " + value);
  return {};
}

PkiResult<void> set_serial(X509* cert, const Bytes& wanted) {
  Bytes serial = wanted;
  if (serial.empty()) {
    serial.resize(8);
    if (RAND_bytes(serial.data(), static_cast<int>(serial.size())) != 1)
      return fail(Code::Internal, "RAND_bytes failed");
    serial[0] = static_cast<std::uint8_t>((serial[0] & 0x7F) | 0x01);  // positive, full length
  }
  BIGNUM* bn = BN_bin2bn(serial.data(), static_cast<int>(serial.size()), nullptr);
  if (bn == nullptr) return fail(Code::Internal, "BN_bin2bn failed");
  detail::AsnIntPtr asn(BN_to_ASN1_INTEGER(bn, nullptr));
  BN_free(bn);
  if (!asn || X509_set_serialNumber(cert, asn.get()) != 1) return fail(Code::Internal, "cannot set serial number");
  return {};
}

PkiResult<void> set_validity(X509* cert, TimePoint from, TimePoint to) {
  detail::AsnTimePtr nb(ASN1_TIME_set(nullptr, static_cast<time_t>(from.time_since_epoch().count())));
  detail::AsnTimePtr na(ASN1_TIME_set(nullptr, static_cast<time_t>(to.time_since_epoch().count())));
  if (!nb || !na || X509_set1_notBefore(cert, nb.get()) != 1 || X509_set1_notAfter(cert, na.get()) != 1)
    return fail(Code::InvalidArgument, "cannot set validity");
  return {};
}

PkiResult<void> add_name_constraints(X509* cert, const EumPermittedName& permitted) {
  detail::X509NamePtr dn(X509_NAME_new());
  if (!dn) return fail(Code::Internal, "X509_NAME_new failed");
  auto add = [&](const char* field, const std::optional<std::string>& v) {
    return !v || X509_NAME_add_entry_by_txt(dn.get(), field, MBSTRING_UTF8,
                                            reinterpret_cast<const unsigned char*>(v->c_str()), -1, -1, 0) == 1;
  };
  if (!add("O", permitted.organization) || !add("serialNumber", permitted.eid_prefix))
    return fail(Code::InvalidArgument, "cannot build name constraints");
  detail::NameConstraintsPtr nc(NAME_CONSTRAINTS_new());
  GENERAL_SUBTREE* subtree = GENERAL_SUBTREE_new();
  if (!nc || subtree == nullptr) {
    GENERAL_SUBTREE_free(subtree);
    return fail(Code::Internal, "NAME_CONSTRAINTS_new failed");
  }
  GENERAL_NAME_set0_value(subtree->base, GEN_DIRNAME, dn.release());
  nc->permittedSubtrees = sk_GENERAL_SUBTREE_new_null();
  if (nc->permittedSubtrees == nullptr || sk_GENERAL_SUBTREE_push(nc->permittedSubtrees, subtree) == 0) {
    GENERAL_SUBTREE_free(subtree);
    return fail(Code::Internal, "cannot build name constraints");
  }
  if (X509_add1_ext_i2d(cert, NID_name_constraints, nc.get(), 1, X509V3_ADD_DEFAULT) != 1)
    return fail(Code::Internal, "cannot add name constraints");
  return {};
}

/// certificatePolicies with one policy OID and no qualifiers (SGP.22 §4.5.2.1).
/// Built directly: OpenSSL's config parser needs a config database for this extension.
PkiResult<void> add_policy(X509* cert, const std::string& oid, bool critical) {
  detail::PoliciesPtr pols(sk_POLICYINFO_new_null());
  POLICYINFO* info = POLICYINFO_new();
  if (!pols || info == nullptr || sk_POLICYINFO_push(pols.get(), info) == 0) {
    POLICYINFO_free(info);
    return fail(Code::Internal, "cannot build certificatePolicies");
  }
  ASN1_OBJECT_free(info->policyid);
  info->policyid = OBJ_txt2obj(oid.c_str(), 1);
  if (info->policyid == nullptr) return fail(Code::InvalidArgument, "invalid policy OID " + oid);
  if (X509_add1_ext_i2d(cert, NID_certificate_policies, pols.get(), critical ? 1 : 0, X509V3_ADD_DEFAULT) != 1)
    return fail(Code::Internal, "cannot add certificatePolicies");
  return {};
}

std::string subject_alt_names(const CertificateSpec& spec) {
  std::string san;
  auto append = [&](const std::string& item) { san += (san.empty() ? "" : ",") + item; };
  for (const auto& d : spec.dns_names) append("DNS:" + d);
  for (const auto& ip : spec.ip_addresses) append("IP:" + ip);
  if (spec.registered_id) append("RID:" + *spec.registered_id);
  return san;
}

/// Host names go into OpenSSL's extension config syntax, so only letters,
/// digits, '-', '.' and a leading wildcard label are allowed.
bool is_host_name(const std::string& s) {
  if (s.empty() || s.size() > 253) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                    c == '.' || (c == '*' && i == 0);
    if (!ok) return false;
  }
  return true;
}

bool is_dotted_oid(const std::string& s) {
  if (s.empty() || s.size() > 128 || s.front() == '.' || s.back() == '.') return false;
  for (char c : s) {
    if (c != '.' && (c < '0' || c > '9')) return false;
  }
  return true;
}

bool is_ip_text(const std::string& s) {
  if (s.empty() || s.size() > 45) return false;
  for (char c : s) {
    const bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == '.' || c == ':';
    if (!ok) return false;
  }
  return true;
}

PkiResult<void> add_role_extensions(X509* cert, X509V3_CTX* ctx, const CertificateSpec& spec) {
  const Role r = spec.role;
  if (spec.key_usage_override) RSP_TRY_VOID(add_ext(cert, ctx, NID_key_usage, *spec.key_usage_override));
  const bool ku = !spec.key_usage_override;
  switch (r) {
    case Role::Ci:
      RSP_TRY_VOID(add_ext(cert, ctx, NID_basic_constraints, "critical,CA:TRUE"));
      if (ku) RSP_TRY_VOID(add_ext(cert, ctx, NID_key_usage, "critical,keyCertSign,cRLSign"));
      break;
    case Role::Eum:
      RSP_TRY_VOID(add_ext(cert, ctx, NID_basic_constraints, "critical,CA:TRUE,pathlen:0"));
      if (ku) RSP_TRY_VOID(add_ext(cert, ctx, NID_key_usage, "critical,keyCertSign"));
      if (!spec.eum_permitted) return fail(Code::InvalidArgument, "an EUM certificate needs name constraints");
      RSP_TRY_VOID(add_name_constraints(cert, *spec.eum_permitted));
      break;
    case Role::DpTls:
    case Role::DsTls:
    case Role::M2mTls:
      if (ku) RSP_TRY_VOID(add_ext(cert, ctx, NID_key_usage, "critical,digitalSignature"));
      RSP_TRY_VOID(add_ext(cert, ctx, NID_ext_key_usage, "critical,serverAuth,clientAuth"));
      break;
    case Role::Euicc:
    case Role::DpAuth:
    case Role::DpPb:
    case Role::DsAuth:
      if (ku) RSP_TRY_VOID(add_ext(cert, ctx, NID_key_usage, "critical,digitalSignature"));
      break;
  }
  // SGP.26 marks the policy critical except on TLS certificates, which
  // generic TLS stacks must be able to process.
  if (auto oid = policy_oid(r)) RSP_TRY_VOID(add_policy(cert, std::string(*oid), !is_tls_role(r)));
  const std::string san = subject_alt_names(spec);
  if (!san.empty()) {
    for (const auto& v : spec.dns_names)
      if (!is_host_name(v)) return fail(Code::InvalidArgument, "invalid DNS name " + v);
    for (const auto& v : spec.ip_addresses)
      if (!is_ip_text(v)) return fail(Code::InvalidArgument, "invalid IP address " + v);
    if (spec.registered_id && !is_dotted_oid(*spec.registered_id))
      return fail(Code::InvalidArgument, "invalid registeredID " + *spec.registered_id);
    RSP_TRY_VOID(add_ext(cert, ctx, NID_subject_alt_name, san));
  }
  return {};
}

}  // namespace

PkiResult<Certificate> issue_certificate(const CertificateSpec& spec, EVP_PKEY* subject_key,
                                         const Certificate* issuer, const crypto::EcKey& issuer_key) {
  if (subject_key == nullptr || issuer_key.evp() == nullptr || !issuer_key.has_private())
    return fail(Code::InvalidArgument, "issuing needs a subject key and the issuer's private key");
  detail::X509Ptr cert(X509_new());
  detail::X509NamePtr name(X509_NAME_new());
  if (!cert || !name) return fail(Code::Internal, "X509_new failed");
  for (const auto& [field, value] : spec.subject) {
    if (X509_NAME_add_entry_by_txt(name.get(), field.c_str(), MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(value.c_str()), -1, -1, 0) != 1)
      return fail(Code::InvalidArgument, "invalid subject attribute " + field);
  }
  if (X509_set_version(cert.get(), X509_VERSION_3) != 1 || X509_set_subject_name(cert.get(), name.get()) != 1 ||
      X509_set_issuer_name(cert.get(), issuer ? X509_get_subject_name(issuer->x509()) : name.get()) != 1 ||
      X509_set_pubkey(cert.get(), subject_key) != 1)
    return fail(Code::Internal, "cannot fill certificate");
  RSP_TRY_VOID(set_serial(cert.get(), spec.serial));
  RSP_TRY_VOID(set_validity(cert.get(), spec.not_before, spec.not_after));

  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer ? issuer->x509() : cert.get(), cert.get(), nullptr, nullptr, 0);
  RSP_TRY_VOID(add_ext(cert.get(), &ctx, NID_subject_key_identifier, "hash"));
  if (issuer != nullptr) RSP_TRY_VOID(add_ext(cert.get(), &ctx, NID_authority_key_identifier, "keyid:always"));
  RSP_TRY_VOID(add_role_extensions(cert.get(), &ctx, spec));

  if (X509_sign(cert.get(), issuer_key.evp(), EVP_sha256()) <= 0) return fail(Code::Internal, "signing failed");
  unsigned char* der = nullptr;
  const int n = i2d_X509(cert.get(), &der);
  if (n <= 0) return fail(Code::Internal, "cannot encode certificate");
  auto out = Certificate::from_der(ByteView(der, static_cast<std::size_t>(n)));
  OPENSSL_free(der);
  return out;
}

bool key_matches_certificate(const Certificate& cert, const crypto::EcKey& key) {
  auto pub = cert.public_key();
  const bool ok = key.evp() != nullptr && pub && EVP_PKEY_eq(pub->evp(), key.evp()) == 1;
  ERR_clear_error();
  return ok;
}

}  // namespace rsp::pki
