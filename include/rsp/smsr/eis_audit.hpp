#pragma once
/// ES4 AuditEIS (SGP.02 §3.9, §5.4.x): what the eUICC's answer to the audit
/// script says, and how it updates the EIS.
///
/// The script (isdr_script) is GET STATUS of every ISD-P (GlobalPlatform
/// Card Spec §11.4, P1 '40', TLV format: AID, life-cycle state, ICCID,
/// fallback and emergency attributes) and GET DATA of the extended card
/// resources (ETSI TS 102 226 §8.2.1.7.2 'FF21': free non-volatile memory).
/// The EIS takes from it each ISD-P's state and attributes, drops the
/// profiles whose ISD-P the card no longer lists, and takes the free memory
/// as its remainingMemory. An ISD-P the card lists but the EIS does not know
/// is left out (no ICCID owner or MNO can be told from the card).

#include <optional>
#include <string>
#include <vector>

#include "rsp/apdu/response.hpp"
#include "rsp/m2m/eis.hpp"
#include "rsp/m2m/isdr_commands.hpp"
#include "rsp/smsr/registry.hpp"

namespace rsp::smsr {

struct EisAudit {
  std::vector<m2m::IsdpStatus> isdps;
  std::optional<m2m::CardResources> resources;  ///< absent when the script did not ask
};

/// The audit in the R-APDUs of the AuditEIS script, in order; nullopt when
/// an answer is missing or malformed (untrusted input: never throws).
std::optional<EisAudit> parse_eis_audit(const std::vector<apdu::Response>& responses);

/// Applies `audit` to `eis` in place and records each changed profile in
/// `change.put`, each vanished one in `change.deleted` and the memory in
/// `change.remaining_memory`; returns a short summary for the audit trail
/// ("3 ISD-Ps, 1 changed, 0 removed, memory 120000").
std::string apply_eis_audit(const EisAudit& audit, m2m::Eis& eis, Change& change);

}  // namespace rsp::smsr
