// The DER walk of Certificate::from_der (RFC 5280 §4.1): the shape of an RSP
// leaf certificate (SGP.22 §4.5.2.1.0.3, the eUICC's) read field by field
// into the same view OpenSSL's parse gives, without an X509.
//
// It reads only what it can read exactly as OpenSSL would and gives up on
// anything else (the caller then parses with OpenSSL, whose verdict stands):
// version 3; a positive, minimally encoded serial; ecdsa-with-SHA256 without
// parameters in both signature fields; names of single-valued RDNs whose
// values are UTF8String, PrintableString or IA5String of printable ASCII;
// UTCTime / GeneralizedTime in their "Z" forms; an ecPublicKey on P-256 or
// brainpoolP256r1 as an uncompressed point on the curve; no unique IDs; and
// extensions among subjectKeyIdentifier, authorityKeyIdentifier (key id
// only), keyUsage, extendedKeyUsage, basicConstraints and certificatePolicies
// (policy OIDs only), each at most once, critical marked as DER marks it.
// Every length is strict DER (tlv::Reader) and every element is consumed.
// Whatever the walk accepts, OpenSSL accepts with the same fields: the
// certificate tests and the certificate fuzz target compare the two.

#include <algorithm>
#include <array>
#include <cstdint>
#include <span>

#include "rsp/crypto/ec_key.hpp"
#include "rsp/pki/certificate.hpp"
#include "name_canon.hpp"
#include "rsp/tlv/tlv.hpp"

namespace rsp::pki {

namespace {

using tlv::Reader;
using tlv::Tag;
using tlv::Tlv;
namespace u = tlv::universal;

using Oid = std::span<const std::uint8_t>;

/// AlgorithmIdentifier ecdsa-with-SHA256 (1.2.840.10045.4.3.2), parameters
/// absent (RFC 5758 §3.2).
constexpr std::uint8_t kEcdsaWithSha256[] = {0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02};
constexpr std::uint8_t kEcPublicKey[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01};             // 1.2.840.10045.2.1
constexpr std::uint8_t kPrime256v1[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};        // 1.2.840.10045.3.1.7
constexpr std::uint8_t kBrainpoolP256r1[] = {0x2b, 0x24, 0x03, 0x03, 0x02, 0x08, 0x01, 0x01, 0x07};  // 1.3.36.3.3.2.8.1.1.7
constexpr std::uint8_t kOrganization[] = {0x55, 0x04, 0x0a};                                    // 2.5.4.10
constexpr std::uint8_t kSerialNumber[] = {0x55, 0x04, 0x05};                                    // 2.5.4.5
constexpr std::uint8_t kCommonName[] = {0x55, 0x04, 0x03};                                      // 2.5.4.3
constexpr std::uint8_t kServerAuth[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01};        // id-kp-serverAuth
constexpr std::uint8_t kClientAuth[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x02};        // id-kp-clientAuth
/// id-ce (2.5.29): the extensions the walk reads are 2.5.29.<n>.
constexpr std::uint8_t kIdCe[] = {0x55, 0x1d};
enum Ext : std::uint8_t {
  kSubjectKeyId = 14,
  kKeyUsage = 15,
  kBasicConstraints = 19,
  kCertificatePolicies = 32,
  kAuthorityKeyId = 35,
  kExtKeyUsage = 37
};

bool same(ByteView a, Oid b) { return std::equal(a.begin(), a.end(), b.begin(), b.end()); }

/// The next element if it has tag `t`.
std::optional<Tlv> take(Reader& r, Tag t) {
  auto e = r.expect(t);
  if (!e) return std::nullopt;
  return *e;
}

std::optional<Reader> inside(const Reader& r, const Tlv& e) {
  auto in = r.enter(e);
  if (!in) return std::nullopt;
  return *in;
}

/// Exactly one element of tag `t` fills `data`.
std::optional<Tlv> only(ByteView data, Tag t) {
  Reader r(data);
  auto e = take(r, t);
  if (!e || !r.empty()) return std::nullopt;
  return e;
}

constexpr Tag kSequence = Tag::universal(u::kSequence, true);

/// An OBJECT IDENTIFIER's contents as X.690 §8.19 allows them: whole
/// subidentifiers, each minimal. (OpenSSL refuses the others.)
bool valid_oid(ByteView oid) {
  if (oid.empty() || (oid.back() & 0x80) != 0) return false;
  bool start = true;
  for (std::uint8_t b : oid) {
    if (start && b == 0x80) return false;
    start = (b & 0x80) == 0;
  }
  return true;
}

/// OBJ_obj2txt(…, 1): dotted decimal. nullopt for a subidentifier past 2^56
/// (OpenSSL switches to big numbers there) or text the 128-byte buffer of
/// certificate.cpp would not hold.
std::optional<std::string> dotted(ByteView oid) {
  if (!valid_oid(oid)) return std::nullopt;
  std::string out;
  std::uint64_t v = 0;
  bool first = true;
  for (std::uint8_t b : oid) {
    if (v >> 56) return std::nullopt;
    v = (v << 7) | (b & 0x7f);
    if (b & 0x80) continue;
    if (first) {
      const std::uint64_t arc = v < 40 ? 0 : v < 80 ? 1 : 2;
      out = std::to_string(arc) + "." + std::to_string(v - 40 * arc);
      first = false;
    } else {
      out += "." + std::to_string(v);
    }
    v = 0;
  }
  if (out.size() >= 127) return std::nullopt;
  return out;
}

struct NameView {
  std::optional<std::string> organization, serial_number, common_name;
  std::string canon;  ///< per RDN: OID length, OID, value length (2 octets), canonical value
};

/// Name ::= SEQUENCE OF RelativeDistinguishedName, each one
/// AttributeTypeAndValue here; values ASCII strings (printable or white space).
bool read_name(const Reader& parent, const Tlv& name, NameView& out) {
  auto rdns = inside(parent, name);
  if (!rdns || rdns->empty()) return false;
  while (!rdns->empty()) {
    auto set = take(*rdns, Tag::universal(u::kSet, true));
    if (!set) return false;
    auto in_set = inside(*rdns, *set);
    if (!in_set) return false;
    auto atv = take(*in_set, kSequence);
    if (!atv || !in_set->empty()) return false;
    auto fields = inside(*in_set, *atv);
    if (!fields) return false;
    auto type = take(*fields, Tag::universal(u::kOid));
    auto value = fields->next();
    if (!type || !value || !fields->empty() || !valid_oid(type->value) || value->tag.constructed ||
        value->tag.cls != tlv::TagClass::Universal ||
        !detail::append_canonical_rdn(out.canon, type->value, static_cast<int>(value->tag.number), value->value))
      return false;
    const std::string text(value->value.begin(), value->value.end());
    std::optional<std::string>* field = same(type->value, kOrganization)   ? &out.organization
                                        : same(type->value, kSerialNumber) ? &out.serial_number
                                        : same(type->value, kCommonName)   ? &out.common_name
                                                                           : nullptr;
    if (field && !*field) *field = text;  // the first, as X509_NAME_get_index_by_NID finds it
  }
  return true;
}

/// UTCTime YYMMDDHHMMSSZ (years 1950-2049) or GeneralizedTime YYYYMMDDHHMMSSZ.
std::optional<TimePoint> read_time(const Tlv& t) {
  const ByteView v = t.value;
  std::size_t year_digits = 0;
  if (t.tag == Tag::universal(u::kUtcTime) && v.size() == 13) year_digits = 2;
  else if (t.tag == Tag::universal(u::kGeneralizedTime) && v.size() == 15) year_digits = 4;
  else return std::nullopt;
  if (v.back() != 'Z') return std::nullopt;
  for (std::size_t i = 0; i + 1 < v.size(); ++i)
    if (v[i] < '0' || v[i] > '9') return std::nullopt;
  const auto num = [&](std::size_t at, std::size_t n) {
    int x = 0;
    for (std::size_t i = at; i < at + n; ++i) x = x * 10 + (v[i] - '0');
    return x;
  };
  int year = num(0, year_digits);
  if (year_digits == 2) year += year < 50 ? 2000 : 1900;
  const std::size_t at = year_digits;
  const int mon = num(at, 2), day = num(at + 2, 2), h = num(at + 4, 2), mi = num(at + 6, 2), s = num(at + 8, 2);
  if (mon < 1 || mon > 12 || day < 1 || h > 23 || mi > 59 || s > 59) return std::nullopt;
  using namespace std::chrono;
  const year_month_day ymd{std::chrono::year{year}, month{static_cast<unsigned>(mon)}, std::chrono::day{static_cast<unsigned>(day)}};
  if (!ymd.ok()) return std::nullopt;
  return sys_days{ymd} + hours{h} + minutes{mi} + seconds{s};
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'; }

}  // namespace

bool detail::append_canonical_rdn(std::string& canon, ByteView oid, int string_tag, ByteView value) {
  if (string_tag != u::kUtf8String && string_tag != u::kPrintableString && string_tag != u::kIa5String) return false;
  if (oid.empty() || oid.size() > 64 || value.size() > 1024) return false;
  for (std::uint8_t b : value)
    if (b >= 0x7f || (b < 0x20 && !is_space(static_cast<char>(b)))) return false;
  std::string_view v(reinterpret_cast<const char*>(value.data()), value.size());
  while (!v.empty() && is_space(v.front())) v.remove_prefix(1);
  while (!v.empty() && is_space(v.back())) v.remove_suffix(1);
  std::string folded;
  folded.reserve(v.size());
  for (std::size_t i = 0; i < v.size();) {
    if (is_space(v[i])) {
      folded += ' ';
      while (i < v.size() && is_space(v[i])) ++i;
      continue;
    }
    const char c = v[i++];
    folded += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  }
  canon += static_cast<char>(oid.size());
  canon.append(oid.begin(), oid.end());
  canon += static_cast<char>(folded.size() >> 8);
  canon += static_cast<char>(folded.size() & 0xff);
  canon += folded;
  return true;
}

bool Certificate::parse_der(ByteView der) {
  Reader top(der);
  auto cert = take(top, kSequence);
  if (!cert || !top.empty()) return false;
  auto outer = inside(top, *cert);
  if (!outer) return false;
  auto tbs = take(*outer, kSequence);
  auto outer_alg = take(*outer, kSequence);
  auto signature = take(*outer, Tag::universal(u::kBitString));
  if (!tbs || !outer_alg || !signature || !outer->empty() || !same(outer_alg->encoded, kEcdsaWithSha256)) return false;
  // Whole octets (no unused bits), a DER ECDSA-Sig-Value left to verify_der.
  if (signature->value.size() < 2 || signature->value[0] != 0) return false;

  auto f = inside(*outer, *tbs);
  if (!f) return false;
  auto version = take(*f, Tag::context(0, true));
  if (!version || !same(version->value, std::array<std::uint8_t, 3>{0x02, 0x01, 0x02})) return false;  // v3
  auto serial = take(*f, Tag::universal(u::kInteger));
  if (!serial || serial->value.empty() || (serial->value[0] & 0x80) != 0) return false;  // positive
  ByteView magnitude = serial->value;
  if (magnitude.size() > 1 && magnitude[0] == 0) {
    if ((magnitude[1] & 0x80) == 0) return false;  // not minimal
    magnitude = magnitude.subspan(1);
  }
  auto inner_alg = take(*f, kSequence);
  auto issuer = take(*f, kSequence);
  auto validity = take(*f, kSequence);
  auto subject = take(*f, kSequence);
  auto spki = take(*f, kSequence);
  auto extensions = take(*f, Tag::context(3, true));  // no issuer/subject unique IDs before it
  if (!inner_alg || !issuer || !validity || !subject || !spki || !extensions || !f->empty() ||
      !same(inner_alg->encoded, kEcdsaWithSha256))
    return false;

  NameView issuer_name, subject_name;
  if (!read_name(*f, *issuer, issuer_name) || !read_name(*f, *subject, subject_name)) return false;

  auto times = inside(*f, *validity);
  if (!times) return false;
  auto nb_tlv = times->next();
  auto na_tlv = times->next();
  if (!nb_tlv || !na_tlv || !times->empty()) return false;
  const auto nb = read_time(*nb_tlv), na = read_time(*na_tlv);
  if (!nb || !na) return false;

  // SubjectPublicKeyInfo: ecPublicKey, a named curve of ours, 04||X||Y.
  auto key_info = inside(*f, *spki);
  if (!key_info) return false;
  auto alg = take(*key_info, kSequence);
  auto bits = take(*key_info, Tag::universal(u::kBitString));
  if (!alg || !bits || !key_info->empty()) return false;
  auto alg_fields = inside(*key_info, *alg);
  if (!alg_fields) return false;
  auto alg_oid = take(*alg_fields, Tag::universal(u::kOid));
  auto curve_oid = take(*alg_fields, Tag::universal(u::kOid));
  if (!alg_oid || !curve_oid || !alg_fields->empty() || !same(alg_oid->value, kEcPublicKey)) return false;
  crypto::Curve curve;
  if (same(curve_oid->value, kPrime256v1)) curve = crypto::Curve::NistP256;
  else if (same(curve_oid->value, kBrainpoolP256r1)) curve = crypto::Curve::BrainpoolP256r1;
  else return false;
  if (bits->value.size() != 66 || bits->value[0] != 0 || bits->value[1] != 0x04) return false;

  // Extensions ::= SEQUENCE SIZE (1..MAX) OF Extension.
  auto ext_seq = only(extensions->value, kSequence);
  if (!ext_seq) return false;
  Reader exts(ext_seq->value);
  if (exts.empty()) return false;
  std::uint64_t seen = 0;
  std::optional<Bytes> ski, aki;
  bool has_ku = false, has_eku = false, server_auth = false, client_auth = false, has_bc = false, ca = false;
  unsigned ku = 0;
  long path_len = -1;
  std::vector<std::string> policies;
  while (!exts.empty()) {
    auto ext = take(exts, kSequence);
    if (!ext) return false;
    auto e = inside(exts, *ext);
    if (!e) return false;
    auto id = take(*e, Tag::universal(u::kOid));
    if (!id) return false;
    if (auto crit = e->optional(Tag::universal(u::kBoolean)); !crit) {
      return false;
    } else if (*crit && !same((*crit)->value, std::array<std::uint8_t, 1>{0xff})) {
      return false;  // DER: TRUE as FF, FALSE (the default) absent
    }
    auto value = take(*e, Tag::universal(u::kOctetString));
    if (!value || !e->empty()) return false;
    if (id->value.size() != 3 || !std::equal(std::begin(kIdCe), std::end(kIdCe), id->value.begin())) return false;
    const std::uint8_t which = id->value[2];
    if (which >= 64 || (seen >> which) & 1) return false;  // a second one is OpenSSL's to refuse
    seen |= std::uint64_t{1} << which;
    switch (which) {
      case kSubjectKeyId: {
        auto k = only(value->value, Tag::universal(u::kOctetString));
        if (!k || k->value.empty()) return false;
        ski = Bytes(k->value.begin(), k->value.end());
        break;
      }
      case kAuthorityKeyId: {  // SEQUENCE { keyIdentifier [0] } and nothing else
        auto s = only(value->value, kSequence);
        if (!s) return false;
        auto k = only(s->value, Tag::context(0));
        if (!k || k->value.empty()) return false;
        aki = Bytes(k->value.begin(), k->value.end());
        break;
      }
      case kKeyUsage: {  // X509_get_key_usage: the first two octets, unused bits cleared
        auto b = only(value->value, Tag::universal(u::kBitString));
        if (!b || b->value.size() < 2 || b->value[0] > 7) return false;
        const std::size_t n = b->value.size() - 1;
        const auto octet = [&](std::size_t i) -> unsigned {
          const unsigned x = b->value[1 + i];
          return i + 1 == n ? x & (0xffu << b->value[0]) & 0xffu : x;
        };
        ku = octet(0) | (n > 1 ? octet(1) << 8 : 0u);
        if (ku == 0) return false;  // RFC 5280 §4.2.1.3: OpenSSL marks an empty one invalid
        has_ku = true;
        break;
      }
      case kExtKeyUsage: {
        auto s = only(value->value, kSequence);
        if (!s) return false;
        Reader purposes(s->value);
        if (purposes.empty()) return false;
        while (!purposes.empty()) {
          auto p = take(purposes, Tag::universal(u::kOid));
          if (!p || !valid_oid(p->value)) return false;
          server_auth = server_auth || same(p->value, kServerAuth);
          client_auth = client_auth || same(p->value, kClientAuth);
        }
        has_eku = true;
        break;
      }
      case kBasicConstraints: {  // {} | { cA TRUE } | { cA TRUE, pathLen 0..127 }
        const ByteView v = value->value;
        if (same(v, std::array<std::uint8_t, 2>{0x30, 0x00})) {
        } else if (same(v, std::array<std::uint8_t, 5>{0x30, 0x03, 0x01, 0x01, 0xff})) {
          ca = true;
        } else if (v.size() == 8 && same(v.first(7), std::array<std::uint8_t, 7>{0x30, 0x06, 0x01, 0x01, 0xff, 0x02, 0x01}) &&
                   v[7] < 0x80) {
          ca = true;
          path_len = v[7];
        } else {
          return false;
        }
        has_bc = true;
        break;
      }
      case kCertificatePolicies: {  // PolicyInformation without qualifiers
        auto s = only(value->value, kSequence);
        if (!s) return false;
        Reader infos(s->value);
        if (infos.empty()) return false;
        while (!infos.empty()) {
          auto info = take(infos, kSequence);
          if (!info) return false;
          auto oid = only(info->value, Tag::universal(u::kOid));
          if (!oid) return false;
          auto text = dotted(oid->value);
          if (!text) return false;
          policies.push_back(std::move(*text));
        }
        break;
      }
      default:
        return false;
    }
  }

  auto key = crypto::EcKey::from_public_point(curve, bits->value.subspan(1));
  if (!key) return false;  // OpenSSL's parse reports it

  subject_o_ = std::move(subject_name.organization);
  subject_serial_ = std::move(subject_name.serial_number);
  subject_cn_ = std::move(subject_name.common_name);
  self_issued_ = subject_name.canon == issuer_name.canon;
  subject_canon_ = std::move(subject_name.canon);
  issuer_canon_ = std::move(issuer_name.canon);
  serial_hex_ = to_hex(magnitude);
  ski_ = std::move(ski);
  aki_ = std::move(aki);
  has_key_usage_ = has_ku;
  key_usage_ = ku;
  has_eku_ = has_eku;
  eku_server_auth_ = server_auth;
  eku_client_auth_ = client_auth;
  has_bc_ = has_bc;
  is_ca_ = ca;
  path_len_ = path_len;
  for (auto& p : policies) {
    if (auto r = role_from_policy(p)) {
      if (rsp_role_count_++ == 0) role_ = r;
    }
    policies_.push_back(std::move(p));
  }
  not_before_ = *nb;
  not_after_ = *na;
  ecdsa_sha256_ = true;
  curve_ = curve;
  key_group_ = crypto::openssl_name(curve);
  key_ = std::move(*key);
  if (!role_ && has_eku_ && eku_server_auth_ && !is_ca_) role_ = Role::M2mTls;
  tbs_at_ = tbs->offset;
  tbs_len_ = tbs->encoded.size();
  sig_at_ = signature->offset + (signature->encoded.size() - signature->value.size()) + 1;
  sig_len_ = signature->value.size() - 1;
  return true;
}

}  // namespace rsp::pki
