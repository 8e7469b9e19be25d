#pragma once
/// The two codings of an ICCID's 10 octets that a download meets.
///
/// SAIP's ProfileHeader.iccid is plain BCD, first digit in the high nibble
/// (TS.48 packages carry 89 49 44 ...). SGP.22's `Iccid` in StoreMetadata,
/// ProfileInfo and notifications is "coded in EFiccid": nibble-swapped BCD
/// (ETSI TS 102 221 §13.2, 98 94 44 ...). Every ICCID starts with the
/// industry digits 89 (ITU-T E.118), so the first octet, 0x89 or 0x98, tells
/// the two apart; a value starting otherwise is left as it is.

#include "rsp/common/bytes.hpp"

namespace rsp::asn1 {

/// `iccid` in SGP.22's EF.ICCID coding (a plain BCD value swapped, any other unchanged).
Bytes iccid_in_ef_coding(ByteView iccid);

/// `iccid` in the plain BCD of a SAIP profile header (an EF.ICCID value swapped, any other unchanged).
Bytes iccid_in_plain_bcd(ByteView iccid);

}  // namespace rsp::asn1
