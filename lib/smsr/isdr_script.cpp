// The ISD-R commands of each asynchronous ES4 function (SGP.02 §3.2 - §3.6,
// §4.1.1), built with the m2m command codec.

#include "rsp/m2m/es3.hpp"
#include "rsp/m2m/es_functions.hpp"
#include "rsp/m2m/isdr_commands.hpp"
#include "rsp/smsr/es5_link.hpp"

namespace rsp::smsr {

std::vector<Bytes> isdr_script(const Operation& op, const m2m::Eis& eis) {
  using m2m::Es4Function;
  const auto is = [&](Es4Function f) { return m2m::es3::acts_as(op.function, f); };
  std::optional<m2m::IsdrCommand> command;
  if (is(Es4Function::AuditEis)) {
    // §3.9 AuditEIS: GET STATUS of every ISD-P, then the free memory
    // (GET DATA 'FF21', ETSI TS 102 226 §8.2.1.7.2); read by parse_eis_audit.
    auto status = m2m::build_apdu(m2m::AuditIsdps{});
    auto memory = m2m::build_apdu(m2m::GetEuiccData{m2m::data_tag::kCardResources});
    if (!status || !memory) return {};
    return {std::move(*status), std::move(*memory)};
  } else {
    const m2m::ProfileInfo* p = eis.profile(op.iccid);
    if (!p || p->isdp_aid.empty()) return {};
    const Bytes& aid = p->isdp_aid;
    if (is(Es4Function::EnableProfile)) command = m2m::EnableProfile{aid};            // §4.1.1.2
    else if (is(Es4Function::DisableProfile)) command = m2m::DisableProfile{aid};     // §4.1.1.3
    else if (is(Es4Function::DeleteProfile)) command = m2m::DeleteProfile{aid};       // §4.1.1.4
    else if (is(Es4Function::SetFallbackAttribute)) command = m2m::SetFallbackAttribute{aid};
    else if (is(Es4Function::SetEmergencyProfileAttribute)) command = m2m::SetEmergencyProfileAttribute{aid};
  }
  if (!command) return {};
  auto apdu = m2m::build_apdu(*command);
  if (!apdu) return {};
  return {std::move(*apdu)};
}

}  // namespace rsp::smsr
