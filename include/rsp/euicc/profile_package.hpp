#pragma once
/// The SAIP profile-package checks every simulated eUICC runs before it
/// installs a profile (TCA eUICC Profile Package v3.3.1 §2.2: ProfileHeader
/// first, End last, every element one this card knows, the header's ICCID the
/// one expected): the consumer ISD-R's LoadBoundProfilePackage (SGP.22 §2.5.6)
/// and the M2M ISD-P's ES8 download (SGP.02 §4.1.3) share them.

#include <cstdint>
#include <optional>

#include "rsp/common/bytes.hpp"
#include "rsp/common/expected.hpp"

namespace rsp::euicc {

/// Checks `upp`; `iccid` in EF.ICCID coding (asn1/iccid_coding.hpp). Returns
/// the number of profile elements, or the SGP.22 ErrorReason of the refusal
/// (installFailedDueToIccidMismatch, installFailedDueToPEProcessingError).
expected<std::uint32_t, std::int64_t> check_profile_package(ByteView upp, ByteView iccid);

/// The ICCID of the package's ProfileHeader in EF.ICCID coding; nullopt when
/// the package does not start with a ProfileHeader.
std::optional<Bytes> profile_package_iccid(ByteView upp);

}  // namespace rsp::euicc
