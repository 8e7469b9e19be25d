#pragma once
/// Validation of a SOAP message's body element against an XML Schema file
/// (libxml2's xmlSchemaValidateOneElement), for the tests that check every
/// message we write against our published XSD (docs/smsr.xsd). The schema is
/// ours and read from disk; the envelope is parsed as strictly as
/// parse_envelope() does.

#include <string>
#include <string_view>

#include "rsp/common/expected.hpp"

namespace rsp::soap {

/// Validates the element inside the Body of `envelope` against the schema in
/// `xsd_path`; the error names what libxml2 found wrong (its first message).
expected<void, std::string> validate_body(std::string_view envelope, const std::string& xsd_path);

}  // namespace rsp::soap
