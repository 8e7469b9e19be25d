#pragma once
/// The canonical form of a distinguished name that X509_NAME_cmp compares
/// (OpenSSL's x509_name_canon: each value as UTF-8, white space trimmed and
/// runs of it made one space, letters lower case), built by the DER walk
/// (certificate_der.cpp) and by the OpenSSL parse alike, for the names both
/// can spell: single-valued RDNs whose values are UTF8String,
/// PrintableString or IA5String of printable ASCII. Not a public header.

#include <cstdint>
#include <string>

#include "rsp/common/bytes.hpp"

namespace rsp::pki::detail {

/// Appends one RDN (attribute type `oid`, a value of universal tag
/// `string_tag`) to `canon`; false when the value is outside what the form
/// covers (the names are then compared by OpenSSL).
bool append_canonical_rdn(std::string& canon, ByteView oid, int string_tag, ByteView value);

}  // namespace rsp::pki::detail
