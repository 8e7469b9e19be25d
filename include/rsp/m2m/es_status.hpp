#pragma once
/// SGP.02 function execution status (v4.2 §5.1.6.1) and the subject/reason
/// codes the SM-SR answers with (§5.1.6.2 subject codes, §5.1.6.3 reason
/// codes), in the style of SGP.22's table (rsp/smdpp/es2_codes.hpp; SGP.22
/// took its code scheme from SGP.02). The functions' tables (§5.3 ES1,
/// §5.4 ES4) name which pair each refusal uses.
///
/// Checked (2026-12) against a public reproduction of the SGP.02 subject and
/// reason table (docs.connectedyou.io, "GSMA codes and descriptions"): 1.1/1.1,
/// 1.1/1.2, 1.2/4.2, 1.6/2.1, 1.6/2.2, 1.6/5.3, 1.6/5.4 and 8.1/3.8 are there.
/// Still not confirmed against the spec text (the part of that table we could
/// read stops at 8.1): the subject codes of the ISD-P (8.3.1) and of POL2
/// (8.2.2); they follow the numbering of §5.1.6.2 as we read it and are the
/// one place to change if a table says otherwise.

#include <optional>
#include <string>
#include <string_view>

namespace rsp::m2m {

/// §5.1.6.1 FunctionExecutionStatus.status.
enum class ExecutionStatus { ExecutedSuccess, ExecutedWithWarning, Failed, Expired };

/// "Executed-Success", "Executed-WithWarning", "Failed", "Expired".
std::string_view status_name(ExecutionStatus s);
std::optional<ExecutionStatus> parse_status(std::string_view name);

struct Code {
  const char* subject;
  const char* reason;
};

namespace codes {
// Generic subjects (§5.1.6.2): the requester, the provider, the function.
inline constexpr Code kRequesterUnknown{"1.1", "1.1"};     ///< unknown function requester
inline constexpr Code kRequesterNotAllowed{"1.1", "1.2"};  ///< requester not allowed (an EUM on ES4, an MNO on ES1)
inline constexpr Code kInvalidRequest{"1.6", "2.1"};       ///< malformed request / wrong value
inline constexpr Code kMandatoryMissing{"1.6", "2.2"};     ///< mandatory element missing
inline constexpr Code kUnknownFunction{"1.6", "3.9"};      ///< no such function
inline constexpr Code kExecutionError{"1.2", "4.2"};       ///< internal failure (storage)
/// The validity period ended before the eUICC answered: Function 1.6,
/// "Time to live expired" 5.3 (checked against a public reproduction of the
/// SGP.02 subject/reason table, docs.connectedyou.io "GSMA codes and
/// descriptions"; was 1.2/5.2 before, which that table does not list).
inline constexpr Code kExpired{"1.6", "5.3"};
/// The request reached the eUICC but no usable answer came back, after the
/// retries: Function 1.6, "Delivered With No Response" 5.4 (confirmed in the
/// same public reproduction of the SGP.02 table; the GSMA text itself was
/// not reachable here).
inline constexpr Code kDeliveredNoResponse{"1.6", "5.4"};
// eUICC (8.1) and its EID (8.1.1).
/// Unknown EID (or not one this SM-SR manages); as bagyenda/njiwa's ES2
/// answers an unknown EID.
inline constexpr Code kEidUnknown{"8.1.1", "3.9"};
inline constexpr Code kEidInvalid{"8.1.1", "2.1"};         ///< not an EID
inline constexpr Code kEidInUse{"8.1.1", "3.3"};           ///< RegisterEIS: the EID is registered already
/// RegisterEIS: the ECASD certificate does not chain to the configured
/// roots (eUICC certificate 8.1.3, verification failed 6.1, as in SGP.22).
inline constexpr Code kEcasdCertificateInvalid{"8.1.3", "6.1"};
/// The eUICC refused a command (an error status word): eUICC 8.1, "Refused"
/// 3.8 (confirmed in the public reproduction of the SGP.02 table named at
/// kExpired, which lists 8.1/3.8).
inline constexpr Code kEuiccRefused{"8.1", "3.8"};
/// RegisterEIS: the ISD-R's SCP81 PSK identity is held by another registered
/// eUICC, so neither administration session could be told apart. SGP.02
/// §5.3.1 names no code for this case that we could find; eUICC 8.1 with
/// "Already in use" 3.3 is our choice by analogy with 8.1.1/3.3 (EID).
inline constexpr Code kPskIdentityInUse{"8.1", "3.3"};
/// SM-SR change (ES7.HandoverEUICC): the eUICC's receipt of the new
/// SM-SR's key establishment does not verify (also the SM-DP's ES8 receipt,
/// told to the MNO). eUICC 8.1 with "Verification failed" 6.1 is our choice,
/// not yet checked against the SGP.02 text. bagyenda/njiwa names no code for
/// a bad receipt (its hand-over fails with its generic 8.4/4.2, its SCP81 key
/// creation with an exception); it uses the 6.x security reasons elsewhere
/// (8.5.2/6.3 for an expired SM-SR certificate), which 6.1 follows.
inline constexpr Code kKeysetReceiptInvalid{"8.1", "6.1"};
// Profile (8.2), its ICCID (8.2.1), POL2 (8.2.2), ISD-P (8.3.1).
/// Unknown ICCID, or another MNO's (nothing told); as bagyenda/njiwa's ES2
/// answers an unknown profile ICCID.
inline constexpr Code kIccidUnknown{"8.2.1", "3.9"};
inline constexpr Code kIccidInUse{"8.2.1", "3.3"};         ///< RegisterEIS: another eUICC holds the ICCID
/// The profile's state forbids the function (also: an ES3/ES2 function on
/// an ISD-P whose CreateISDP or download is still open). Profile 8.2 with
/// 3.5 is our reading, not checked against the SGP.02 text. bagyenda/njiwa
/// answers its one such case (UpdateConnectivityParameters on a profile
/// neither Enabled nor Disabled) with subject 8.2.1 and "1.2" in the field
/// it uses for the reason; not adopted, as 1.2 is the reason "Not allowed
/// (authorisation)" of a function caller in SGP.02's table (its public
/// reproduction), not a state.
inline constexpr Code kProfileInvalidTransition{"8.2", "3.5"};
inline constexpr Code kPol2Refused{"8.2.2", "3.8"};        ///< a POL2 rule forbids the function
inline constexpr Code kIsdpUnknown{"8.3.1", "3.9"};
}  // namespace codes

}  // namespace rsp::m2m
