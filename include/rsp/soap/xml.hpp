#pragma once
/// A parsed XML element as the SOAP layer hands it on: namespace URI, local
/// name, its text (the concatenated character data, surrounding whitespace
/// trimmed) and its child elements in order. Attributes are not kept: the
/// SGP.02 message shapes carry their data in elements only. Produced from
/// libxml2's tree by envelope.cpp and turned back into XML by it; no XML is
/// read or written by hand.

#include <string>
#include <string_view>
#include <vector>

namespace rsp::soap {

struct Element {
  std::string ns;    ///< namespace URI, "" for none
  std::string name;  ///< local name
  std::string text;
  std::vector<Element> children;

  /// The first child named `name` in `ns`, or null.
  const Element* child(std::string_view ns_uri, std::string_view local) const;
  /// How many children are named `name` in `ns`.
  std::size_t count(std::string_view ns_uri, std::string_view local) const;
  /// Appends a child in the same namespace as this element.
  Element& add(std::string local, std::string value = {});
};

}  // namespace rsp::soap
