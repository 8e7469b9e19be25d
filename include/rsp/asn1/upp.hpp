#pragma once
/// SAIP unprotected profile packages: a concatenation of DER ProfileElement
/// values whose first is the ProfileHeader (TCA eUICC Profile Package v3.3.1 §2.2).

#include <cstddef>
#include <functional>
#include <vector>

#include "rsp/asn1/saip.hpp"

namespace rsp::asn1 {

tlv::Result<std::vector<saip::ProfileElement>> decode_profile_package(ByteView in,
                                                                       const DecodeOptions& options = {});
/// Decodes the elements one at a time, each handed to `visit` and dropped
/// before the next is decoded (`visit` returns false to stop); returns how
/// many were decoded. For checking a package without holding its whole tree.
tlv::Result<std::size_t> for_each_profile_element(ByteView in, const DecodeOptions& options,
                                                  const std::function<bool(const saip::ProfileElement&)>& visit);
Bytes encode_profile_package(const std::vector<saip::ProfileElement>& elements);

}  // namespace rsp::asn1
