#pragma once
/// SGP.02 function execution status (v4.2 §5.1.6.1) and the subject/reason
/// codes the SM-SR answers with (§5.1.6.2 subject codes, §5.1.6.3 reason
/// codes), in the style of SGP.22's table (rsp/smdpp/es2_codes.hpp; SGP.22
/// took its code scheme from SGP.02). The functions' tables (§5.3 ES1,
/// §5.4 ES4) name which pair each refusal uses.
///
/// Not confirmed against the spec text here: the subject codes of the ISD-P
/// (8.3.1) and of POL2 (8.2.2); they follow the numbering of §5.1.6.2 as we
/// read it and are the one place to change if a table says otherwise.

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
inline constexpr Code kExpired{"1.2", "5.2"};              ///< the validity period ended (transport timeout)
/// The request reached the eUICC but no usable answer came back, after the
/// retries (§5.1.6.2 function 1.6, §5.1.6.3 "Delivered With No Response"
/// 5.4; as a public copy of the table gives them, not checked against the text).
inline constexpr Code kDeliveredNoResponse{"1.6", "5.4"};
// eUICC (8.1) and its EID (8.1.1).
inline constexpr Code kEidUnknown{"8.1.1", "3.9"};         ///< unknown EID (or not one this SM-SR manages)
inline constexpr Code kEidInvalid{"8.1.1", "2.1"};         ///< not an EID
inline constexpr Code kEidInUse{"8.1.1", "3.3"};           ///< RegisterEIS: the EID is registered already
/// RegisterEIS: the ECASD certificate does not chain to the configured
/// roots (eUICC certificate 8.1.3, verification failed 6.1, as in SGP.22).
inline constexpr Code kEcasdCertificateInvalid{"8.1.3", "6.1"};
/// The eUICC refused a command (an error status word; §5.1.6.2 eUICC 8.1,
/// §5.1.6.3 "Refused" 3.8, as a public copy of the table gives them).
inline constexpr Code kEuiccRefused{"8.1", "3.8"};
// Profile (8.2), its ICCID (8.2.1), POL2 (8.2.2), ISD-P (8.3.1).
inline constexpr Code kIccidUnknown{"8.2.1", "3.9"};       ///< unknown, or another MNO's (nothing told)
inline constexpr Code kIccidInUse{"8.2.1", "3.3"};         ///< RegisterEIS: another eUICC holds the ICCID
inline constexpr Code kProfileInvalidTransition{"8.2", "3.5"};  ///< its state forbids the function
inline constexpr Code kPol2Refused{"8.2.2", "3.8"};        ///< a POL2 rule forbids the function
inline constexpr Code kIsdpUnknown{"8.3.1", "3.9"};
}  // namespace codes

}  // namespace rsp::m2m
