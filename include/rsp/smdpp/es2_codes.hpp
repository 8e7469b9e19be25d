#pragma once
/// ES2+ status codes (SGP.22 v2.2.2 §5.2.6 subject/reason codes and the
/// function tables of §5.3.1 DownloadOrder, §5.3.2 ConfirmOrder, §5.3.3
/// CancelOrder, §5.3.4 ReleaseProfile). The ES9+ codes stay in error.hpp.
///
/// Another operator's ICCID is answered like an unknown one (8.2.1/3.9),
/// not with 8.2.1/1.2 "not allowed": an operator learns nothing about the
/// inventory of the others. The 8.x/2.1 pairs name the offending field
/// where §5.2.6 would otherwise only give 1.6/2.1 with its name in the message.

#include "rsp/smdpp/error.hpp"

namespace rsp::smdpp::es2codes {

using codes::Code;

// Generic (§5.2.6): the caller, the request itself, the provider.
inline constexpr Code kRequesterUnknown{"1.1", "1.1"};         ///< unknown function requester
inline constexpr Code kRequesterNotAllowed{"1.1", "1.2"};      ///< requester not allowed
inline constexpr Code kInvalidParameter{"1.6", "2.1"};         ///< parameter with a wrong format or value
inline constexpr Code kMandatoryMissing{"1.6", "2.2"};         ///< mandatory parameter missing
inline constexpr Code kConditionalMissing{"1.6", "2.3"};       ///< conditional parameter missing
inline constexpr Code kUnknownFunction{"1.6", "3.9"};           ///< no such ES2+ function (HTTP 404)
inline constexpr Code kExecutionError{"1.2", "4.2"};           ///< internal failure (storage)

// EID (8.1.1).
inline constexpr Code kEidInvalid{"8.1.1", "2.1"};             ///< not 32 decimal digits
inline constexpr Code kEidInvalidAssociation{"8.1.1", "3.10"};  ///< not the EID of the order
/// §5.3.2: no EID known for an order that needs one (smdsAddress given).
inline constexpr Code kEidMissing{"8.1.1", "2.2"};
// Profile ICCID (8.2.1).
inline constexpr Code kIccidUnknown{"8.2.1", "3.9"};           ///< unknown (or another operator's)
inline constexpr Code kIccidInUse{"8.2.1", "3.3"};             ///< already in use (not available), §5.3.1
/// §5.3.4 "the target Profile cannot be released"; used alike by
/// ConfirmOrder and CancelOrder when the profile's state forbids them.
inline constexpr Code kIccidInvalidTransition{"8.2.1", "3.5"};
inline constexpr Code kIccidInvalid{"8.2.1", "2.1"};           ///< not an ICCID
// Profile Type (8.2.5).
inline constexpr Code kProfileTypeUnknown{"8.2.5", "3.9"};
inline constexpr Code kProfileTypeUnavailable{"8.2.5", "3.7"};  ///< no profile of that type left
/// §5.3.1: profileType given with an ICCID whose profile is of another type.
inline constexpr Code kProfileTypeRefused{"8.2.5", "3.8"};
// Matching ID (8.2.6).
inline constexpr Code kMatchingIdInUse{"8.2.6", "3.3"};        ///< §5.3.2 conflicting matchingId
inline constexpr Code kMatchingIdInvalidAssociation{"8.2.6", "3.10"};
inline constexpr Code kMatchingIdInvalid{"8.2.6", "2.1"};
// Confirmation Code (8.2.7).
inline constexpr Code kConfirmationCodeInvalid{"8.2.7", "2.1"};

}  // namespace rsp::smdpp::es2codes
