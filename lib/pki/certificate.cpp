// Parsed view of an X.509 v3 certificate (RFC 5280 §4.1, §4.2).

#include "rsp/pki/certificate.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/provider.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <ctime>
#include <mutex>

#include "name_canon.hpp"
#include "ossl_util.hpp"
#include "rsp/common/file.hpp"
#include "rsp/crypto/ecdsa.hpp"
#include "rsp/crypto/sha256.hpp"
#include "rsp/tlv/tlv.hpp"

namespace rsp::pki {

using detail::fail;
using Code = PkiError::Code;

struct Certificate::X509Slot {
  std::once_flag made;
  X509* x509 = nullptr;
  ~X509Slot() { X509_free(x509); }
};

namespace {

/// More certificates than this in one file is not a certificate file we expect.
constexpr std::size_t kMaxCertsPerFile = 64;

/// A library context without algorithms (only the "null" provider, which also
/// keeps the default one from loading into it), for parsing. OpenSSL 3.0
/// decodes the subject key of every certificate it parses through its decoder
/// framework, which looks up decoders afresh each time: about 90 µs, more
/// than an ECDSA verification, and repeated for every eUICC certificate an
/// SM-DP+ meets. With no decoder to find, the parse skips that; parse() makes
/// the key itself from the point. The certificate's own operations (digest,
/// signature check) still run in the default context. Never freed.
OSSL_LIB_CTX* no_decoder_context() {
  static OSSL_LIB_CTX* const ctx = [] {
    OSSL_LIB_CTX* c = OSSL_LIB_CTX_new();
    if (c != nullptr && OSSL_PROVIDER_load(c, "null") == nullptr) {
      OSSL_LIB_CTX_free(c);
      c = nullptr;
    }
    return c;
  }();
  return ctx;
}

/// 04||X||Y on a 256-bit curve.
constexpr int kUncompressedPointBytes = 65;

std::optional<crypto::Curve> curve_of_nid(int nid) {
  if (nid == NID_X9_62_prime256v1) return crypto::Curve::NistP256;
  if (nid == NID_brainpoolP256r1) return crypto::Curve::BrainpoolP256r1;
  return std::nullopt;
}

std::string name_line(const X509_NAME* name) {
  detail::BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio) return {};
  // Readable rather than RFC 2253-escaped: the text is for output and messages only.
  const unsigned long flags = XN_FLAG_SEP_CPLUS_SPC | ASN1_STRFLGS_UTF8_CONVERT | ASN1_STRFLGS_ESC_CTRL;
  if (X509_NAME_print_ex(bio.get(), name, 0, flags) < 0) return {};
  return detail::bio_string(bio.get());
}

std::optional<std::string> asn1_utf8(const ASN1_STRING* s) {
  if (s == nullptr) return std::nullopt;
  unsigned char* out = nullptr;
  int n = ASN1_STRING_to_UTF8(&out, s);
  if (n < 0) return std::nullopt;
  std::string r(reinterpret_cast<const char*>(out), static_cast<std::size_t>(n));
  OPENSSL_free(out);
  return r;
}

/// The first attribute of type `nid` in a name, as UTF-8.
std::optional<std::string> name_attribute(const X509_NAME* name, int nid) {
  int idx = X509_NAME_get_index_by_NID(name, nid, -1);
  if (idx < 0) return std::nullopt;
  return asn1_utf8(X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx)));
}

std::optional<Bytes> octets(const ASN1_OCTET_STRING* s) {
  if (s == nullptr) return std::nullopt;
  const unsigned char* p = ASN1_STRING_get0_data(s);
  return Bytes(p, p + ASN1_STRING_length(s));
}

std::string oid_text(const ASN1_OBJECT* obj) {
  std::array<char, 128> buf{};
  int n = OBJ_obj2txt(buf.data(), static_cast<int>(buf.size()), obj, 1);
  if (n <= 0 || static_cast<std::size_t>(n) >= buf.size()) return "?";
  return std::string(buf.data(), static_cast<std::size_t>(n));
}

std::optional<TimePoint> to_time_point(const ASN1_TIME* t) {
  std::tm tm{};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return std::nullopt;
  using namespace std::chrono;
  const year_month_day ymd{year{tm.tm_year + 1900}, month{static_cast<unsigned>(tm.tm_mon + 1)},
                           day{static_cast<unsigned>(tm.tm_mday)}};
  if (!ymd.ok()) return std::nullopt;
  return sys_days{ymd} + hours{tm.tm_hour} + minutes{tm.tm_min} + seconds{tm.tm_sec};
}

std::string ip_text(const ASN1_OCTET_STRING* ip) {
  const unsigned char* p = ASN1_STRING_get0_data(ip);
  const int n = ASN1_STRING_length(ip);
  std::array<char, 64> buf{};
  if (n == 4) {
    std::snprintf(buf.data(), buf.size(), "%u.%u.%u.%u", p[0], p[1], p[2], p[3]);
    return buf.data();
  }
  return to_hex(ByteView(p, static_cast<std::size_t>(n < 0 ? 0 : n)));
}

/// Exactly one DER X509, no trailing bytes; nullptr otherwise (OpenSSL's
/// errors dropped). Without the no-decoder context (its creation failed) the
/// parse is OpenSSL's usual one.
X509* decode_x509(ByteView der) {
  const unsigned char* p = der.data();
  X509* raw = reinterpret_cast<X509*>(
      ASN1_item_d2i_ex(nullptr, &p, static_cast<long>(der.size()), ASN1_ITEM_rptr(X509), no_decoder_context(), nullptr));
  if (raw != nullptr && p != der.data() + der.size()) {
    X509_free(raw);
    raw = nullptr;
  }
  ERR_clear_error();
  return raw;
}

/// The name's canonical form (name_canon.hpp), when it has one.
std::optional<std::string> canonical_name(const X509_NAME* name) {
  const int n = X509_NAME_entry_count(name);
  if (n <= 0) return std::nullopt;
  std::string canon;
  for (int i = 0; i < n; ++i) {
    const X509_NAME_ENTRY* e = X509_NAME_get_entry(name, i);
    if (X509_NAME_ENTRY_set(e) != i) return std::nullopt;  // one attribute per RDN
    const ASN1_OBJECT* type = X509_NAME_ENTRY_get_object(e);
    const ASN1_STRING* value = X509_NAME_ENTRY_get_data(e);
    if (type == nullptr || value == nullptr || OBJ_length(type) == 0) return std::nullopt;
    const ByteView oid(OBJ_get0_data(type), OBJ_length(type));
    const ByteView text(ASN1_STRING_get0_data(value), static_cast<std::size_t>(std::max(0, ASN1_STRING_length(value))));
    if (!detail::append_canonical_rdn(canon, oid, ASN1_STRING_type(value), text)) return std::nullopt;
  }
  return canon;
}

bool is_understood_extension(int nid) {
  switch (nid) {
    case NID_key_usage:
    case NID_ext_key_usage:
    case NID_basic_constraints:
    case NID_certificate_policies:
    case NID_name_constraints:
    case NID_subject_alt_name:
    case NID_subject_key_identifier:
    case NID_authority_key_identifier:
    case NID_crl_distribution_points:
      return true;
    default:
      return false;
  }
}

}  // namespace

PkiResult<Certificate> Certificate::from_der(ByteView der) {
  if (der.empty()) return fail(Code::Malformed, "empty certificate");
  if (der.size() > kMaxDerSize) return fail(Code::Malformed, "certificate too large");
  // An eUICC certificate is new to a server on every download or discovery:
  // OpenSSL's X509 (its template decoder, the extension cache with its SHA-1,
  // the names' canonical forms) cost about a tenth of an ES11 discovery.
  Certificate c;
  if (c.parse_der(der)) {
    c.x509_ = std::make_shared<X509Slot>();
    c.der_.assign(der.begin(), der.end());
    if (!crypto::sha256(der, c.der_sha256_)) return fail(Code::Internal, "SHA-256 of the certificate failed");
    return c;
  }
  return from_der_openssl(der);
}

PkiResult<Certificate> Certificate::from_der_openssl(ByteView der) {
  if (der.empty()) return fail(Code::Malformed, "empty certificate");
  if (der.size() > kMaxDerSize) return fail(Code::Malformed, "certificate too large");
  X509* raw = decode_x509(der);
  if (raw == nullptr) return fail(Code::Malformed, "not a DER X.509 certificate");
  Certificate c;
  c.x509_ = std::make_shared<X509Slot>();
  std::call_once(c.x509_->made, [&] { c.x509_->x509 = raw; });
  c.der_.assign(der.begin(), der.end());
  if (!crypto::sha256(der, c.der_sha256_)) return fail(Code::Internal, "SHA-256 of the certificate failed");
  RSP_TRY_VOID(c.parse());
  return c;
}

PkiResult<std::vector<Certificate>> Certificate::all_from_pem(std::string_view pem) {
  if (pem.size() > kMaxCertsPerFile * kMaxDerSize * 2) return fail(Code::Malformed, "PEM text too large");
  detail::BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return fail(Code::Internal, "BIO_new_mem_buf failed");
  std::vector<Certificate> out;
  while (out.size() < kMaxCertsPerFile) {
    // PEM_read_bio_X509 skips blocks of other types (keys) and stops at the end.
    detail::X509Ptr x(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!x) break;
    unsigned char* der = nullptr;
    int n = i2d_X509(x.get(), &der);
    if (n <= 0) return fail(Code::Malformed, "certificate cannot be re-encoded");
    auto cert = from_der(ByteView(der, static_cast<std::size_t>(n)));
    OPENSSL_free(der);
    if (!cert) return unexpected(std::move(cert).error());
    out.push_back(std::move(*cert));
  }
  ERR_clear_error();
  if (out.empty()) return fail(Code::Malformed, "no CERTIFICATE block in PEM text");
  return out;
}

PkiResult<std::vector<Certificate>> Certificate::load(ByteView data) {
  static constexpr std::string_view kBegin = "-----BEGIN ";
  const std::string_view text(reinterpret_cast<const char*>(data.data()), data.size());
  if (text.find(kBegin) != std::string_view::npos) return all_from_pem(text);
  RSP_TRY(auto one, from_der(data));
  std::vector<Certificate> v;
  v.push_back(std::move(one));
  return v;
}

PkiResult<std::vector<Certificate>> Certificate::load_file(const std::filesystem::path& file) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(file, ec);
  if (ec) return fail(Code::Io, "cannot read " + file.string() + ": " + ec.message());
  if (size > kMaxCertsPerFile * kMaxDerSize * 2) return fail(Code::Malformed, file.string() + " is too large");
  auto data = read_file(file);
  if (!data) return fail(Code::Io, "cannot read " + file.string() + ": " + data.error().message);
  auto certs = load(*data);
  if (!certs) return fail(certs.error().code, file.string() + ": " + certs.error().message);
  return certs;
}

std::string Certificate::to_pem() const {
  detail::BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || x509() == nullptr || PEM_write_bio_X509(bio.get(), x509()) != 1) return {};
  return detail::bio_string(bio.get());
}

X509* Certificate::x509() const {
  if (!x509_) return nullptr;
  std::call_once(x509_->made, [this] {
    X509* x = decode_x509(der_);
    // The extension cache OpenSSL's own users of the X509 (issuing under
    // it, name constraints) expect, as parse() leaves it.
    if (x != nullptr) X509_check_purpose(x, -1, 0);
    ERR_clear_error();
    x509_->x509 = x;
  });
  return x509_->x509;
}

bool Certificate::issuer_is_subject_of(const Certificate& parent) const {
  if (issuer_canon_ && parent.subject_canon_) return *issuer_canon_ == *parent.subject_canon_;
  X509* child = x509();
  X509* issuer = parent.x509();
  return child != nullptr && issuer != nullptr &&
         X509_NAME_cmp(X509_get_issuer_name(child), X509_get_subject_name(issuer)) == 0;
}

PkiResult<void> Certificate::parse() {
  X509* x = x509();
  if (X509_get_version(x) != X509_VERSION_3) return fail(Code::Malformed, "not an X.509 v3 certificate");
  // Computes the cached extension flags; EXFLAG_INVALID marks undecodable or duplicate extensions.
  X509_check_purpose(x, -1, 0);
  const uint32_t flags = X509_get_extension_flags(x);
  if ((flags & EXFLAG_INVALID) != 0) return fail(Code::Malformed, "invalid or duplicate extension");

  subject_o_ = name_attribute(X509_get_subject_name(x), NID_organizationName);
  subject_serial_ = name_attribute(X509_get_subject_name(x), NID_serialNumber);
  subject_cn_ = name_attribute(X509_get_subject_name(x), NID_commonName);
  self_issued_ = X509_NAME_cmp(X509_get_subject_name(x), X509_get_issuer_name(x)) == 0;
  // For issuer_is_subject_of() against certificates read by the DER walk.
  subject_canon_ = canonical_name(X509_get_subject_name(x));
  issuer_canon_ = canonical_name(X509_get_issuer_name(x));
  if (const ASN1_INTEGER* sn = X509_get0_serialNumber(x)) {
    serial_hex_ = to_hex(ByteView(ASN1_STRING_get0_data(sn), static_cast<std::size_t>(ASN1_STRING_length(sn))));
  }

  ski_ = octets(X509_get0_subject_key_id(x));
  aki_ = octets(X509_get0_authority_key_id(x));

  has_key_usage_ = (flags & EXFLAG_KUSAGE) != 0;
  key_usage_ = has_key_usage_ ? X509_get_key_usage(x) : 0;
  has_eku_ = (flags & EXFLAG_XKUSAGE) != 0;
  if (has_eku_) {
    const uint32_t xku = X509_get_extended_key_usage(x);
    eku_server_auth_ = (xku & XKU_SSL_SERVER) != 0;
    eku_client_auth_ = (xku & XKU_SSL_CLIENT) != 0;
  }
  has_bc_ = (flags & EXFLAG_BCONS) != 0;
  is_ca_ = (flags & EXFLAG_CA) != 0;
  path_len_ = X509_get_pathlen(x);

  int crit = 0;
  detail::PoliciesPtr pols(static_cast<CERTIFICATEPOLICIES*>(
      X509_get_ext_d2i(x, NID_certificate_policies, &crit, nullptr)));
  if (!pols && crit != -1) return fail(Code::Malformed, "undecodable certificatePolicies");
  for (int i = 0; pols && i < sk_POLICYINFO_num(pols.get()); ++i) {
    policies_.push_back(oid_text(sk_POLICYINFO_value(pols.get(), i)->policyid));
    if (auto r = role_from_policy(policies_.back())) {
      if (rsp_role_count_++ == 0) role_ = r;
    }
  }

  detail::NameConstraintsPtr nc(
      static_cast<NAME_CONSTRAINTS*>(X509_get_ext_d2i(x, NID_name_constraints, &crit, nullptr)));
  if (!nc && crit != -1) return fail(Code::Malformed, "undecodable nameConstraints");
  has_name_constraints_ = nc != nullptr;
  for (int i = 0; nc && nc->permittedSubtrees && i < sk_GENERAL_SUBTREE_num(nc->permittedSubtrees); ++i) {
    const GENERAL_NAME* base = sk_GENERAL_SUBTREE_value(nc->permittedSubtrees, i)->base;
    if (base == nullptr || base->type != GEN_DIRNAME) continue;
    eum_permitted_.push_back({name_attribute(base->d.directoryName, NID_organizationName),
                              name_attribute(base->d.directoryName, NID_serialNumber)});
  }

  detail::GeneralNamesPtr san(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(x, NID_subject_alt_name, &crit, nullptr)));
  if (!san && crit != -1) return fail(Code::Malformed, "undecodable subjectAltName");
  for (int i = 0; san && i < sk_GENERAL_NAME_num(san.get()); ++i) {
    const GENERAL_NAME* gn = sk_GENERAL_NAME_value(san.get(), i);
    if (gn->type == GEN_DNS) {
      if (auto s = asn1_utf8(gn->d.dNSName)) dns_names_.push_back(*s);
    } else if (gn->type == GEN_IPADD) {
      ip_addresses_.push_back(ip_text(gn->d.iPAddress));
    } else if (gn->type == GEN_RID && gn->d.registeredID != nullptr) {
      const unsigned char* oid = OBJ_get0_data(gn->d.registeredID);
      registered_ids_.emplace_back(oid, oid + OBJ_length(gn->d.registeredID));
    }
  }

  for (int i = 0; i < X509_get_ext_count(x); ++i) {
    X509_EXTENSION* ext = X509_get_ext(x, i);
    if (X509_EXTENSION_get_critical(ext) == 1 &&
        !is_understood_extension(OBJ_obj2nid(X509_EXTENSION_get_object(ext)))) {
      unknown_critical_.push_back(oid_text(X509_EXTENSION_get_object(ext)));
    }
  }

  auto nb = to_time_point(X509_get0_notBefore(x));
  auto na = to_time_point(X509_get0_notAfter(x));
  if (!nb || !na) return fail(Code::Malformed, "invalid validity time");
  not_before_ = *nb;
  not_after_ = *na;

  // The outer and TBS signature algorithms must agree (RFC 5280 §4.1.1.2).
  const X509_ALGOR* outer = nullptr;
  X509_get0_signature(nullptr, &outer, x);
  const X509_ALGOR* inner = X509_get0_tbs_sigalg(x);
  if (outer == nullptr || inner == nullptr || X509_ALGOR_cmp(outer, inner) != 0)
    return fail(Code::Malformed, "signature algorithm fields disagree");
  ecdsa_sha256_ = X509_get_signature_nid(x) == NID_ecdsa_with_SHA256;

  RSP_TRY_VOID(parse_subject_key());
  if (!role_ && has_eku_ && eku_server_auth_ && !is_ca_) role_ = Role::M2mTls;
  ERR_clear_error();
  return {};
}

PkiResult<void> Certificate::parse_subject_key() {
  // An uncompressed point on a curve of ours (every RSP certificate): the
  // key from the point, checked on the curve.
  const unsigned char* bits = nullptr;
  int bits_len = 0;
  X509_ALGOR* alg = nullptr;
  const ASN1_OBJECT* alg_oid = nullptr;
  int param_type = 0;
  const void* param = nullptr;
  if (X509_PUBKEY_get0_param(nullptr, &bits, &bits_len, &alg, X509_get_X509_PUBKEY(x509())) == 1 &&
      alg != nullptr) {
    X509_ALGOR_get0(&alg_oid, &param_type, &param, alg);
  }
  if (alg_oid != nullptr && OBJ_obj2nid(alg_oid) == NID_X9_62_id_ecPublicKey && param_type == V_ASN1_OBJECT) {
    const auto curve = curve_of_nid(OBJ_obj2nid(static_cast<const ASN1_OBJECT*>(param)));
    if (curve && bits != nullptr && bits_len == kUncompressedPointBytes && bits[0] == 0x04) {
      auto key = crypto::EcKey::from_public_point(*curve, ByteView(bits, static_cast<std::size_t>(bits_len)));
      if (!key) return fail(Code::Malformed, "undecodable subject public key");
      curve_ = curve;
      key_group_ = crypto::openssl_name(*curve);
      key_ = std::move(*key);
      return {};
    }
  }
  // Anything else (other curves or algorithms, compressed points): OpenSSL's
  // decoder, as for any key.
  unsigned char* spki = nullptr;
  const int spki_len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x509()), &spki);
  const unsigned char* q = spki;
  crypto::EvpPkeyPtr pk(spki_len > 0 ? d2i_PUBKEY(nullptr, &q, spki_len) : nullptr);
  OPENSSL_free(spki);
  if (!pk) return fail(Code::Malformed, "undecodable subject public key");
  if (EVP_PKEY_is_a(pk.get(), "EC")) {
    std::array<char, 64> group{};
    size_t len = 0;
    if (EVP_PKEY_get_group_name(pk.get(), group.data(), group.size(), &len) == 1) {
      key_group_.assign(group.data(), len);
      if (key_group_ == "prime256v1") curve_ = crypto::Curve::NistP256;
      if (key_group_ == "brainpoolP256r1") curve_ = crypto::Curve::BrainpoolP256r1;
    }
  } else {
    key_group_ = EVP_PKEY_get0_type_name(pk.get()) ? EVP_PKEY_get0_type_name(pk.get()) : "unknown";
  }
  if (auto key = crypto::EcKey::adopt(std::move(pk))) key_ = std::move(*key);
  return {};
}

std::string Certificate::subject() const { return x509() ? name_line(X509_get_subject_name(x509())) : std::string(); }
std::string Certificate::issuer() const { return x509() ? name_line(X509_get_issuer_name(x509())) : std::string(); }

crypto::CryptoResult<crypto::EcKey> Certificate::public_key() const {
  if (!key_) return unexpected(crypto::CryptoError{crypto::CryptoError::Code::InvalidKey, "no public key"});
  return *key_;  // shares the immutable OpenSSL key
}

bool Certificate::signature_verifies_with(const crypto::EcKey& issuer_key) const {
  if (sig_len_ != 0)  // read by the DER walk: ecdsa-with-SHA256, no unused bits
    return static_cast<bool>(crypto::verify_der(issuer_key, ByteView(der_).subspan(tbs_at_, tbs_len_),
                                                ByteView(der_).subspan(sig_at_, sig_len_)));
  if (!ecdsa_sha256_) {
    const bool ok = x509() != nullptr && X509_verify(x509(), issuer_key.evp()) == 1;
    ERR_clear_error();
    return ok;
  }
  // ecdsa-with-SHA256, as every RSP certificate is signed: our ECDSA over the
  // TBSCertificate as received (RFC 5280 §4.1.1.3), so that a brainpool
  // signature is checked by our curve code and not by OpenSSL 3.0's generic
  // one, about twice as slow.
  auto outer = tlv::parse_one(der_);
  if (!outer) return false;
  tlv::Reader fields(outer->value);
  auto tbs = fields.next();
  if (!tbs) return false;
  const ASN1_BIT_STRING* signature = nullptr;
  X509_get0_signature(&signature, nullptr, x509());
  // A signature is whole octets: no unused bits in its BIT STRING.
  if (signature == nullptr || (signature->flags & 0x07) != 0) return false;
  return static_cast<bool>(crypto::verify_der(
      issuer_key, tbs->encoded, ByteView(signature->data, static_cast<std::size_t>(signature->length))));
}

bool same_view(const Certificate& a, const Certificate& b) {
  const auto key_point = [](const Certificate& c) {
    auto k = c.public_key();
    return k ? k->public_point() : Bytes();
  };
  return a.der() == b.der() && a.der_sha256() == b.der_sha256() && a.subject() == b.subject() &&
         a.issuer() == b.issuer() && a.subject_organization() == b.subject_organization() &&
         a.subject_serial_number() == b.subject_serial_number() && a.subject_common_name() == b.subject_common_name() &&
         a.self_issued() == b.self_issued() && a.subject_key_id() == b.subject_key_id() &&
         a.authority_key_id() == b.authority_key_id() && a.policies() == b.policies() && a.role() == b.role() &&
         a.rsp_role_count() == b.rsp_role_count() && a.has_key_usage() == b.has_key_usage() &&
         a.key_usage() == b.key_usage() && a.has_ext_key_usage() == b.has_ext_key_usage() &&
         a.eku_server_auth() == b.eku_server_auth() && a.eku_client_auth() == b.eku_client_auth() &&
         a.has_basic_constraints() == b.has_basic_constraints() && a.is_ca() == b.is_ca() &&
         a.path_len() == b.path_len() && a.has_name_constraints() == b.has_name_constraints() &&
         std::equal(a.eum_permitted().begin(), a.eum_permitted().end(), b.eum_permitted().begin(),
                    b.eum_permitted().end(),
                    [](const EumPermittedName& x, const EumPermittedName& y) {
                      return x.organization == y.organization && x.eid_prefix == y.eid_prefix;
                    }) &&
         a.unknown_critical_extensions() == b.unknown_critical_extensions() && a.dns_names() == b.dns_names() &&
         a.ip_addresses() == b.ip_addresses() && a.registered_ids() == b.registered_ids() &&
         a.not_before() == b.not_before() && a.not_after() == b.not_after() && a.serial_hex() == b.serial_hex() &&
         a.signed_with_ecdsa_sha256() == b.signed_with_ecdsa_sha256() && a.curve() == b.curve() &&
         a.key_group() == b.key_group() && key_point(a) == key_point(b) && a.to_pem() == b.to_pem();
}

}  // namespace rsp::pki
