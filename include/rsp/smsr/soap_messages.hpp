#pragma once
/// The SM-SR's SOAP message bodies and this project's JSON binding, one into
/// the other (the shapes: docs/smsr.xsd). Each JSON member is an element in
/// the GSMA namespace whose name is the member's with a capital first letter
/// (eid -> Eid, isdR -> IsdR, functionExecutionStatus ->
/// FunctionExecutionStatus), the SGP.02 element names as far as our JSON
/// follows them; a list is a wrapper element with one element per item:
///   profiles     -> <Profiles><Profile>...</Profile>...</Profiles>
///   scp80KeySets -> <Scp80KeySets><Scp80KeySet>...</Scp80KeySet></Scp80KeySets>
///   pol2         -> <Pol2><PolicyRule>...</PolicyRule></Pol2>
/// Numbers and booleans are their XML Schema lexical forms. The conversion
/// keeps values as they are: the JSON binding's own checks judge them.

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "rsp/common/expected.hpp"
#include "rsp/soap/xml.hpp"

namespace rsp::smsr {

/// A request element's children as the JSON request object. An element
/// outside the GSMA namespace, a repeated element that is not a list item,
/// or a list holding other elements is an error in words.
expected<nlohmann::json, std::string> soap_to_json(const soap::Element& request);

/// A JSON object's members as children of `out` (in the GSMA namespace).
void json_to_soap(const nlohmann::json& object, soap::Element& out);

}  // namespace rsp::smsr
