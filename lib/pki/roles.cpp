// SGP.22 certificate roles (id-rspRole) and their keyUsage rules.

#include "rsp/pki/roles.hpp"

#include <array>
#include <utility>

namespace rsp::pki {
namespace {

struct RoleInfo {
  Role role;
  std::string_view name;
  std::string_view oid;  // empty: no RSP policy
};

constexpr std::array<RoleInfo, 9> kRoles{{
    {Role::Ci, "ci", "2.23.146.1.2.1.0"},
    {Role::Euicc, "euicc", "2.23.146.1.2.1.1"},
    {Role::Eum, "eum", "2.23.146.1.2.1.2"},
    {Role::DpTls, "dp-tls", "2.23.146.1.2.1.3"},
    {Role::DpAuth, "dp-auth", "2.23.146.1.2.1.4"},
    {Role::DpPb, "dp-pb", "2.23.146.1.2.1.5"},
    {Role::DsTls, "ds-tls", "2.23.146.1.2.1.6"},
    {Role::DsAuth, "ds-auth", "2.23.146.1.2.1.7"},
    {Role::M2mTls, "m2m-tls", ""},
}};

const RoleInfo& info(Role r) {
  for (const auto& i : kRoles) {
    if (i.role == r) return i;
  }
  return kRoles.back();  // unreachable: every enumerator is in the table
}

}  // namespace

std::optional<std::string_view> policy_oid(Role r) {
  const auto& i = info(r);
  if (i.oid.empty()) return std::nullopt;
  return i.oid;
}

std::optional<Role> role_from_policy(std::string_view oid) {
  for (const auto& i : kRoles) {
    if (!i.oid.empty() && i.oid == oid) return i.role;
  }
  return std::nullopt;
}

std::string_view role_name(Role r) { return info(r).name; }

std::optional<Role> role_from_name(std::string_view name) {
  for (const auto& i : kRoles) {
    if (i.name == name) return i.role;
  }
  return std::nullopt;
}

bool is_ca_role(Role r) { return r == Role::Ci || r == Role::Eum; }

bool is_tls_role(Role r) { return r == Role::DpTls || r == Role::DsTls || r == Role::M2mTls; }

KeyUsageRule key_usage_rule(Role r) {
  switch (r) {
    case Role::Ci:
      return {kKuKeyCertSign, kKuKeyCertSign | kKuCrlSign};
    case Role::Eum:
      return {kKuKeyCertSign, kKuKeyCertSign | kKuCrlSign};
    case Role::DpTls:
    case Role::DsTls:
    case Role::M2mTls:
      return {kKuDigitalSignature, kKuDigitalSignature | kKuKeyAgreement};
    case Role::Euicc:
    case Role::DpAuth:
    case Role::DpPb:
    case Role::DsAuth:
      break;
  }
  return {kKuDigitalSignature, kKuDigitalSignature};
}

}  // namespace rsp::pki
