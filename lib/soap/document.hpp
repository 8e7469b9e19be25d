#pragma once
// The strict libxml2 read both the envelope parser and the schema check use.

#include <libxml/parser.h>
#include <libxml/tree.h>

#include <memory>
#include <string_view>

#include "rsp/soap/envelope.hpp"

namespace rsp::soap::detail {

struct DocFree {
  void operator()(xmlDoc* d) const { xmlFreeDoc(d); }
};
using Doc = std::unique_ptr<xmlDoc, DocFree>;

/// `xml` as a libxml2 document: no network, no DTD loaded, no entity
/// substituted, any DTD or entity reference refused, within the limits.
expected<Doc, SoapError> read_document(std::string_view xml, const ParseOptions& options);

/// The envelope's root, checked: its namespace gives the version.
expected<Version, SoapError> envelope_version(const xmlNode* root);

/// Local name and namespace of a node, as views.
std::string_view local_name(const xmlNode* n);
std::string_view ns_of(const xmlNode* n);

}  // namespace rsp::soap::detail
