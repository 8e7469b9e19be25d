#pragma once
/// SAIP unprotected profile packages: a concatenation of DER ProfileElement
/// values whose first is the ProfileHeader (TCA eUICC Profile Package v3.3.1 §2.2).

#include <vector>

#include "rsp/asn1/saip.hpp"

namespace rsp::asn1 {

tlv::Result<std::vector<saip::ProfileElement>> decode_profile_package(ByteView in,
                                                                       const DecodeOptions& options = {});
Bytes encode_profile_package(const std::vector<saip::ProfileElement>& elements);

}  // namespace rsp::asn1
