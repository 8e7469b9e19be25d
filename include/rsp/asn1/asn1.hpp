#pragma once
/// The asn1 component in one include: the generated message types of
///   rsp::asn1::sgp22  (GSMA SGP.22 RSPDefinitions: ES8+, ES9+, ES10a/b/c, ES11),
///   rsp::asn1::saip   (TCA eUICC Profile Package v3.3.1 PEDefinitions),
///   rsp::asn1::pkix   (RFC 5280 PKIX1Explicit88 / PKIX1Implicit88),
/// with encode(value) -> DER, decode<T>(bytes[, options]) -> value or a typed
/// tlv::Error whose context names "Type.field", to_json(value), and the type
/// table (registry.hpp) and recognition helpers (inspect.hpp).
///
/// Mapping: SEQUENCE/SET -> struct with the ASN.1 member names ('-' -> '_');
/// OPTIONAL and DEFAULT -> std::optional (absent DEFAULT = the default value);
/// CHOICE -> struct with `alternative` (a std::variant), `alternative_name()`,
/// one getter and `set_<name>()` per alternative and, when extensible,
/// `unknown()`; SEQUENCE OF -> std::vector; INTEGER/ENUMERATED -> int64_t with
/// named values as `<Name>_values` constants; BIT STRING -> BitString; OCTET
/// STRING -> Bytes; strings and times -> std::string; OID -> Oid; NULL -> Null;
/// Certificate and CertificateList inside SGP.22 messages -> RawElement (the
/// exact DER, for signature checks); certificate serials -> BigInt.

#include "rsp/asn1/inspect.hpp"
#include "rsp/asn1/pkix.hpp"
#include "rsp/asn1/registry.hpp"
#include "rsp/asn1/runtime.hpp"
#include "rsp/asn1/saip.hpp"
#include "rsp/asn1/sgp22.hpp"
#include "rsp/asn1/text.hpp"
#include "rsp/asn1/upp.hpp"
