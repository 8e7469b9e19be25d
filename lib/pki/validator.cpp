// RSP certificate chain validation (SGP.22 §4.5.2; RFC 5280 §6 reduced).

#include "rsp/pki/validator.hpp"

#include <openssl/x509.h>

#include <cstdio>

#include "ossl_util.hpp"
#include "rsp/pki/eid.hpp"
#include "rsp/pki/memo.hpp"

namespace rsp::pki {

using detail::fail;
using Code = PkiError::Code;

namespace {

std::string quoted(const Certificate& c) { return "'" + c.subject() + "'"; }

/// The SGP.22 §4.5.2 profile a certificate of `role` must follow, apart from
/// validity and signature.
PkiResult<void> check_profile(const Certificate& c, Role role) {
  if (!c.unknown_critical_extensions().empty())
    return fail(Code::UnsupportedCriticalExtension,
                quoted(c) + " has unsupported critical extension " + c.unknown_critical_extensions().front());
  if (role != Role::M2mTls) {
    if (c.policies().empty()) return fail(Code::MissingExtension, quoted(c) + " has no certificatePolicies");
    if (c.rsp_role_count() != 1 || c.role() != role) {
      const std::string actual = c.role() ? std::string(role_name(*c.role())) : "none";
      return fail(Code::WrongRole, quoted(c) + " has role " + actual + ", expected " + std::string(role_name(role)));
    }
  } else if (c.rsp_role_count() != 0 || c.role() != Role::M2mTls) {
    return fail(Code::WrongRole, quoted(c) + " is not a plain TLS certificate");
  }
  if (!c.signed_with_ecdsa_sha256())
    return fail(Code::WrongAlgorithm, quoted(c) + " is not signed with ecdsa-with-SHA256");
  if (!c.curve())
    return fail(Code::WrongCurve, quoted(c) + " key is on " + c.key_group() + ", expected P-256 or brainpoolP256r1");

  if (!c.has_key_usage()) return fail(Code::MissingExtension, quoted(c) + " has no keyUsage");
  const KeyUsageRule rule = key_usage_rule(role);
  if ((c.key_usage() & rule.required) != rule.required || (c.key_usage() & ~rule.allowed) != 0)
    return fail(Code::WrongKeyUsage, quoted(c) + " keyUsage does not fit role " + std::string(role_name(role)));
  if (is_ca_role(role)) {
    if (!c.has_basic_constraints()) return fail(Code::MissingExtension, quoted(c) + " has no basicConstraints");
    if (!c.is_ca()) return fail(Code::WrongKeyUsage, quoted(c) + " is not a CA (basicConstraints cA false)");
    if (!c.subject_key_id()) return fail(Code::MissingExtension, quoted(c) + " has no subjectKeyIdentifier");
  } else if (c.is_ca()) {
    return fail(Code::WrongKeyUsage, quoted(c) + " is a CA but role " + std::string(role_name(role)) + " is not");
  }
  if (role != Role::Ci && !c.authority_key_id())
    return fail(Code::MissingExtension, quoted(c) + " has no authorityKeyIdentifier");
  if (is_tls_role(role)) {
    if (!c.has_ext_key_usage()) return fail(Code::MissingExtension, quoted(c) + " has no extendedKeyUsage");
    if (!c.eku_server_auth()) return fail(Code::WrongKeyUsage, quoted(c) + " lacks id-kp-serverAuth");
  }
  if (role == Role::Eum && c.eum_permitted().empty())
    return fail(Code::MissingExtension, quoted(c) + " has no nameConstraints with a permitted directoryName");
  return {};
}

PkiResult<void> check_time(const Certificate& c, TimePoint at) {
  if (at > c.not_after())
    return fail(Code::Expired, "certificate expired: " + quoted(c) + " was valid until " + format_utc_time(c.not_after()));
  if (at < c.not_before())
    return fail(Code::NotYetValid,
                "certificate not yet valid: " + quoted(c) + " is valid from " + format_utc_time(c.not_before()));
  return {};
}

/// Whether `parent` is the issuer of `child` by name and key identifier.
bool issued_by(const Certificate& child, const Certificate& parent) {
  if (!child.issuer_is_subject_of(parent)) return false;
  if (child.authority_key_id() && parent.subject_key_id()) return *child.authority_key_id() == *parent.subject_key_id();
  return true;
}

bool verifies(const Certificate& child, const Certificate& parent) { return signature_verifies_memo(child, parent); }

/// SGP.22 §4.5.2.1.0.2: the EUM's permitted subtree names the EUM
/// organisation and an EID prefix (serialNumber); the eUICC's O must equal
/// it and its EID must start with the prefix.
PkiResult<std::string> check_eid(const Certificate& euicc, const Certificate& eum) {
  const auto& eid = euicc.subject_serial_number();
  if (!eid) return fail(Code::InvalidEid, quoted(euicc) + " has no serialNumber (EID) in its subject");
  if (!is_valid_eid(*eid)) return fail(Code::InvalidEid, "EID " + *eid + " is not 32 digits with valid check digits");
  for (const auto& p : eum.eum_permitted()) {
    if (!p.eid_prefix || !is_decimal(*p.eid_prefix)) continue;
    if (p.organization && euicc.subject_organization() != p.organization) continue;
    if (eid->compare(0, p.eid_prefix->size(), *p.eid_prefix) == 0) return *eid;
  }
  std::string range;
  for (const auto& p : eum.eum_permitted()) {
    range += " [O=" + p.organization.value_or("*") + ", EID prefix " + p.eid_prefix.value_or("?") + "]";
  }
  return fail(Code::EidOutOfRange, "EID " + *eid + " (O=" + euicc.subject_organization().value_or("") +
                                       ") is outside the EUM's permitted range:" + range);
}

/// RFC 5280 §4.2.1.9: a CA's pathLenConstraint bounds the intermediate CAs below it.
PkiResult<void> check_path_lengths(const std::vector<Certificate>& path) {
  for (std::size_t i = 1; i < path.size(); ++i) {
    const long limit = path[i].path_len();
    if (limit >= 0 && static_cast<long>(i - 1) > limit)
      return fail(Code::PathTooLong, quoted(path[i]) + " allows " + std::to_string(limit) + " intermediate CA(s)");
  }
  return {};
}

/// SGP.22 v2 chains: CI -> EUM -> eUICC is the only one with an intermediate.
PkiResult<void> check_intermediate(const Certificate& im, Role leaf_role, std::size_t depth, TimePoint when) {
  if (leaf_role != Role::Euicc || depth != 1)
    return fail(Code::WrongRole, "unexpected intermediate " + quoted(im) + " for a " +
                                     std::string(role_name(leaf_role)) + " certificate");
  RSP_TRY_VOID(check_profile(im, Role::Eum));
  return check_time(im, when);
}

TimePoint now() { return std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now()); }

}  // namespace

PkiResult<void> validate_ci(const Certificate& ci, std::optional<TimePoint> at) {
  RSP_TRY_VOID(check_profile(ci, Role::Ci));
  if (!ci.self_issued()) return fail(Code::UnknownIssuer, quoted(ci) + " is not self-signed");
  if (!verifies(ci, ci)) return fail(Code::BadSignature, "self-signature of " + quoted(ci) + " does not verify");
  return check_time(ci, at.value_or(now()));
}

PkiResult<ValidatedChain> validate_chain(const Certificate& leaf, std::span<const Certificate> intermediates,
                                         std::span<const Certificate> trusted_cis, Role expected_role,
                                         std::optional<TimePoint> at) {
  const TimePoint when = at.value_or(now());
  if (expected_role == Role::Ci) {
    RSP_TRY_VOID(validate_ci(leaf, when));
    for (const auto& ci : trusted_cis) {
      if (ci.der() == leaf.der()) {
        auto key = public_key_memo(leaf);
        if (!key) return fail(Code::WrongCurve, quoted(leaf) + " public key unusable: " + key.error().message);
        return ValidatedChain{Role::Ci, std::move(*key), std::nullopt, {leaf}};
      }
    }
    return fail(Code::UnknownIssuer, quoted(leaf) + " is not one of the trusted CIs");
  }
  RSP_TRY_VOID(check_profile(leaf, expected_role));
  RSP_TRY_VOID(check_time(leaf, when));

  std::vector<Certificate> path{leaf};
  while (true) {
    if (path.size() >= kMaxChainLength)
      return fail(Code::PathTooLong, "no trusted CI within " + std::to_string(kMaxChainLength) + " certificates");
    const Certificate& cur = path.back();
    // Several candidates may match (a re-issued CI or EUM certificate for the
    // same key): take the first that is acceptable, else report the first problem.
    bool name_match = false;
    std::optional<PkiError> first_problem;
    const Certificate* anchor = nullptr;
    for (const auto& ci : trusted_cis) {
      if (!issued_by(cur, ci)) continue;
      name_match = true;
      if (!verifies(cur, ci)) continue;
      auto ok = validate_ci(ci, when);
      if (ok) {
        anchor = &ci;
        break;
      }
      if (!first_problem) first_problem = ok.error();
    }
    if (anchor != nullptr) {
      path.push_back(*anchor);
      break;
    }
    const Certificate* parent = nullptr;
    for (const auto& im : intermediates) {
      if (im.der() == cur.der() || im.self_issued() || !issued_by(cur, im)) continue;
      name_match = true;
      if (!verifies(cur, im)) continue;
      auto ok = check_intermediate(im, expected_role, path.size(), when);
      if (ok) {
        parent = &im;
        break;
      }
      if (!first_problem) first_problem = ok.error();
    }
    if (parent == nullptr) {
      if (first_problem) return unexpected(*first_problem);
      if (name_match) return fail(Code::BadSignature, "signature of " + quoted(cur) + " does not verify");
      return fail(Code::UnknownIssuer, "issuer '" + cur.issuer() + "' of " + quoted(cur) +
                                           " is not a trusted CI (nor issued by one)");
    }
    path.push_back(*parent);
  }
  RSP_TRY_VOID(check_path_lengths(path));

  std::optional<std::string> eid;
  if (expected_role == Role::Euicc) {
    if (path.size() != 3) return fail(Code::UnknownIssuer, quoted(leaf) + " is not issued by an EUM");
    RSP_TRY(eid, check_eid(leaf, path[1]));
  }
  // The leaf's own key, as parsed: a leaf (an eUICC's, a server's) seldom
  // recurs, and would only push the recurring issuer keys out of the memo.
  auto key = leaf.public_key();
  if (!key) return fail(Code::WrongCurve, quoted(leaf) + " public key unusable: " + key.error().message);
  return ValidatedChain{expected_role, std::move(*key), std::move(eid), std::move(path)};
}

PkiResult<ValidatedChain> validate_chain_der(ByteView leaf_der, std::span<const Certificate> intermediates,
                                             std::span<const Certificate> trusted_cis, Role expected_role,
                                             std::optional<TimePoint> at) {
  RSP_TRY(auto leaf, parse_certificate_memo(leaf_der));
  return validate_chain(leaf, intermediates, trusted_cis, expected_role, at);
}

std::optional<TimePoint> parse_utc_time(std::string_view t) {
  auto num = [&](std::size_t pos, std::size_t len) -> int {
    int v = 0;
    for (std::size_t i = pos; i < pos + len; ++i) {
      if (t[i] < '0' || t[i] > '9') return -1;
      v = v * 10 + (t[i] - '0');
    }
    return v;
  };
  if (t.size() != 10 && t.size() != 20) return std::nullopt;
  if (t[4] != '-' || t[7] != '-') return std::nullopt;
  const int y = num(0, 4), mo = num(5, 2), d = num(8, 2);
  int h = 0, mi = 0, s = 0;
  if (t.size() == 20) {
    if (t[10] != 'T' || t[13] != ':' || t[16] != ':' || t[19] != 'Z') return std::nullopt;
    h = num(11, 2);
    mi = num(14, 2);
    s = num(17, 2);
  }
  if (y < 0 || mo < 0 || d < 0 || h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 || s > 59) return std::nullopt;
  using namespace std::chrono;
  const year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!ymd.ok()) return std::nullopt;
  return sys_days{ymd} + hours{h} + minutes{mi} + seconds{s};
}

std::string format_utc_time(TimePoint t) {
  using namespace std::chrono;
  const auto days = floor<std::chrono::days>(t);
  const year_month_day ymd{days};
  const hh_mm_ss hms{t - days};
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02ld:%02ld:%02lldZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<long>(hms.hours().count()), static_cast<long>(hms.minutes().count()),
                static_cast<long long>(hms.seconds().count()));
  return buf;
}

}  // namespace rsp::pki
