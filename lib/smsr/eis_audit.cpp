// AuditEIS: the eUICC's answer parsed and applied to the EIS (eis_audit.hpp).

#include "rsp/smsr/eis_audit.hpp"

#include <algorithm>

#include "rsp/m2m/isdp_profile_state.hpp"

namespace rsp::smsr {

std::optional<EisAudit> parse_eis_audit(const std::vector<apdu::Response>& responses) {
  if (responses.empty() || !responses[0].ok()) return std::nullopt;
  EisAudit audit;
  auto isdps = m2m::parse_isdp_status(responses[0].data);
  // An eUICC always holds an ISD-P (the bootstrap profile's, which cannot be
  // deleted): an empty list is no answer, and would empty the EIS.
  if (!isdps || isdps->empty()) return std::nullopt;
  audit.isdps = std::move(*isdps);
  if (responses.size() > 1) {
    if (!responses[1].ok()) return std::nullopt;
    auto resources = m2m::parse_card_resources(responses[1].data);
    if (!resources) return std::nullopt;
    audit.resources = *resources;
  }
  return audit;
}

std::string apply_eis_audit(const EisAudit& audit, m2m::Eis& eis, Change& change) {
  std::size_t changed = 0, removed = 0;
  for (auto& p : eis.profiles) {
    const auto it = std::find_if(audit.isdps.begin(), audit.isdps.end(),
                                 [&](const m2m::IsdpStatus& s) { return s.isdp_aid == p.isdp_aid; });
    if (it == audit.isdps.end()) {
      change.deleted.push_back(p.iccid);
      ++removed;
      continue;
    }
    const m2m::ProfileInfo before = p;
    p.state = m2m::profile_state_of(it->state);
    p.fallback_attribute = it->fallback;
    p.emergency_profile_attribute = it->emergency;
    if (p != before) {
      change.put.push_back(p);
      ++changed;
    }
  }
  if (audit.resources) {
    eis.remaining_memory = audit.resources->free_non_volatile;
    change.remaining_memory = eis.remaining_memory;
  }
  std::string summary = std::to_string(audit.isdps.size()) + " ISD-Ps, " + std::to_string(changed) + " changed, " +
                        std::to_string(removed) + " removed";
  if (audit.resources) summary += ", memory " + std::to_string(eis.remaining_memory);
  return summary;
}

}  // namespace rsp::smsr
