#include "document.hpp"

#include <mutex>

namespace rsp::soap::detail {

namespace {

SoapError err(ErrorKind k, std::string m) { return SoapError{k, std::move(m)}; }

/// Walks the tree: no entity references, no DTD nodes, depth and count bounded.
expected<void, SoapError> check_tree(const xmlNode* n, std::size_t depth, std::size_t& elements,
                                     const ParseOptions& o) {
  for (; n; n = n->next) {
    switch (n->type) {
      case XML_ENTITY_REF_NODE:
      case XML_ENTITY_NODE:
      case XML_ENTITY_DECL:
      case XML_DTD_NODE:
      case XML_DOCUMENT_TYPE_NODE:
        return unexpected(err(ErrorKind::Dtd, "entity references and document types are not accepted"));
      case XML_ELEMENT_NODE:
        if (depth > o.max_depth) return unexpected(err(ErrorKind::TooDeep, "the XML is nested too deeply"));
        if (++elements > o.max_elements) return unexpected(err(ErrorKind::TooDeep, "the XML has too many elements"));
        if (auto r = check_tree(n->children, depth + 1, elements, o); !r) return r;
        break;
      default: break;
    }
  }
  return {};
}

}  // namespace

std::string_view local_name(const xmlNode* n) { return n->name ? reinterpret_cast<const char*>(n->name) : ""; }
std::string_view ns_of(const xmlNode* n) {
  return n->ns && n->ns->href ? reinterpret_cast<const char*>(n->ns->href) : "";
}

expected<Doc, SoapError> read_document(std::string_view xml, const ParseOptions& options) {
  static std::once_flag init;
  std::call_once(init, [] { xmlInitParser(); });
  if (xml.size() > options.max_bytes)
    return unexpected(err(ErrorKind::TooLarge, "the message is larger than " + std::to_string(options.max_bytes) +
                                                   " bytes"));
  // The byte-level check libxml2 would miss when told nothing: a document type
  // declaration is refused before it is parsed at all.
  if (xml.find("<!DOCTYPE") != std::string_view::npos || xml.find("<!ENTITY") != std::string_view::npos)
    return unexpected(err(ErrorKind::Dtd, "document type declarations are not accepted"));
  struct CtxtFree {
    void operator()(xmlParserCtxt* c) const { xmlFreeParserCtxt(c); }
  };
  std::unique_ptr<xmlParserCtxt, CtxtFree> ctxt(xmlNewParserCtxt());
  if (!ctxt) return unexpected(err(ErrorKind::NotXml, "out of memory"));
  // XML_PARSE_NONET: nothing fetched from the network; without NOENT and
  // DTDLOAD no entity is substituted and no external subset read.
  const int flags = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOCDATA;
  Doc doc(xmlCtxtReadMemory(ctxt.get(), xml.data(), static_cast<int>(xml.size()), nullptr, "UTF-8", flags));
  if (!doc || !ctxt->wellFormed) return unexpected(err(ErrorKind::NotXml, "the message is not well-formed XML"));
  // Namespaces in XML 1.0 §5: a prefix must be declared. libxml2 reports an
  // undeclared one without clearing wellFormed and keeps "prefix:name" as the
  // element's name, in no namespace: refused, so no name means two things.
  if (!ctxt->nsWellFormed)
    return unexpected(err(ErrorKind::NotXml, "the message uses a namespace prefix it does not declare"));
  if (doc->intSubset || doc->extSubset)
    return unexpected(err(ErrorKind::Dtd, "document type declarations are not accepted"));
  std::size_t elements = 0;
  if (auto r = check_tree(doc->children, 1, elements, options); !r) return unexpected(r.error());
  if (!xmlDocGetRootElement(doc.get())) return unexpected(err(ErrorKind::NotXml, "the document has no element"));
  return doc;
}

expected<Version, SoapError> envelope_version(const xmlNode* root) {
  if (local_name(root) != "Envelope")
    return unexpected(err(ErrorKind::NotEnvelope, "the root element is not a SOAP Envelope"));
  const auto ns = ns_of(root);
  if (ns == kSoap11Ns) return Version::Soap11;
  if (ns == kSoap12Ns) return Version::Soap12;
  return unexpected(err(ErrorKind::NotEnvelope, "the Envelope is in neither the SOAP 1.1 nor the SOAP 1.2 namespace"));
}

}  // namespace rsp::soap::detail
