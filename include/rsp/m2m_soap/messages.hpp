#pragma once
/// SGP.02's SOAP message bodies and this project's JSON binding of the M2M
/// interfaces (ES1, ES2, ES3, ES4, ES7), one into the other; the shapes are
/// published in docs/smsr.xsd (ES1, ES3, ES4, ES7) and docs/smdp.xsd (ES2).
/// Each JSON member is an element in the GSMA namespace whose name is the
/// member's with a capital first letter (eid -> Eid, isdR -> IsdR,
/// functionExecutionStatus -> FunctionExecutionStatus), the SGP.02 element
/// names as far as our JSON follows them; a list is a wrapper element with
/// one element per item:
///   profiles     -> <Profiles><Profile>...</Profile>...</Profiles>
///   scp80KeySets -> <Scp80KeySets><Scp80KeySet>...</Scp80KeySet></Scp80KeySets>
///   pol2         -> <Pol2><PolicyRule>...</PolicyRule></Pol2>
///   iccidList    -> <IccidList><Iccid>...</Iccid></IccidList>
/// Numbers and booleans are their XML Schema lexical forms. The conversion
/// keeps values as they are: the JSON binding's own strict checks judge them
/// (an unknown element is an unknown member there, refused by name).

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "rsp/common/expected.hpp"
#include "rsp/soap/xml.hpp"

namespace rsp::m2m_soap {

/// The namespace of the GSMA messages, as bagyenda/njiwa's ES1-ES4/ES7 web
/// services declare it (checked there, not against the SGP.02 text).
inline constexpr std::string_view kGsmaNs = "http://namespaces.gsma.org/esim-messaging/1";

/// A request element's children as the JSON request object. An element
/// outside the GSMA namespace, a repeated element that is not a list item,
/// a list holding other elements, or an element with both text and child
/// elements is an error in words (never quoting the input).
expected<nlohmann::json, std::string> soap_to_json(const soap::Element& request);

/// A JSON object's members as children of `out` (in the GSMA namespace).
void json_to_soap(const nlohmann::json& object, soap::Element& out);

}  // namespace rsp::m2m_soap
