#include "rsp/m2m/eis.hpp"

#include <algorithm>

namespace rsp::m2m {

const ProfileInfo* Eis::profile(std::string_view iccid) const {
  auto it = std::find_if(profiles.begin(), profiles.end(), [&](const ProfileInfo& p) { return p.iccid == iccid; });
  return it == profiles.end() ? nullptr : &*it;
}

ProfileInfo* Eis::profile(std::string_view iccid) {
  return const_cast<ProfileInfo*>(static_cast<const Eis&>(*this).profile(iccid));
}

bool pol2_forbids(const ProfileInfo& p, PolicyAction action) {
  return std::any_of(p.pol2.begin(), p.pol2.end(), [&](const PolicyRule& r) {
    return r.action == action && r.qualification == PolicyQualification::NotAllowed;
  });
}

bool pol2_auto_delete(const ProfileInfo& p) {
  return std::any_of(p.pol2.begin(), p.pol2.end(), [](const PolicyRule& r) {
    return r.action == PolicyAction::Delete && r.qualification == PolicyQualification::AutoDelete;
  });
}

}  // namespace rsp::m2m
