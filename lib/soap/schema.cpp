#include "rsp/soap/schema.hpp"

#include <libxml/xmlschemas.h>

#include <memory>

#include "document.hpp"

namespace rsp::soap {

namespace {

/// Keeps libxml2's first message instead of printing it.
void keep_first(void* ctx, const xmlError* e) {
  auto* out = static_cast<std::string*>(ctx);
  if (out->empty() && e && e->message) {
    *out = e->message;
    while (!out->empty() && (out->back() == '\n' || out->back() == ' ')) out->pop_back();
  }
}
void keep_first_mutable(void* ctx, xmlError* e) { keep_first(ctx, e); }

}  // namespace

expected<void, std::string> validate_body(std::string_view envelope, const std::string& xsd_path) {
  ParseOptions o;
  o.require_action = o.require_message_id = false;
  auto doc = detail::read_document(envelope, o);
  if (!doc) return unexpected("envelope: " + doc.error().message);
  const xmlNode* root = xmlDocGetRootElement(doc->get());
  if (auto v = detail::envelope_version(root); !v) return unexpected(v.error().message);
  xmlNode* body_element = nullptr;
  for (xmlNode* c = root->children; c; c = c->next)
    if (c->type == XML_ELEMENT_NODE && detail::local_name(c) == "Body")
      for (xmlNode* b = c->children; b && !body_element; b = b->next)
        if (b->type == XML_ELEMENT_NODE) body_element = b;
  if (!body_element) return unexpected(std::string("the Body holds no element"));

  std::string message;
  struct ParserFree {
    void operator()(xmlSchemaParserCtxt* p) const { xmlSchemaFreeParserCtxt(p); }
  };
  struct SchemaFree {
    void operator()(xmlSchema* s) const { xmlSchemaFree(s); }
  };
  struct ValidFree {
    void operator()(xmlSchemaValidCtxt* v) const { xmlSchemaFreeValidCtxt(v); }
  };
  std::unique_ptr<xmlSchemaParserCtxt, ParserFree> parser(xmlSchemaNewParserCtxt(xsd_path.c_str()));
  if (!parser) return unexpected(std::string("schema: cannot open"));
  xmlSchemaSetParserStructuredErrors(parser.get(), keep_first_mutable, &message);
  std::unique_ptr<xmlSchema, SchemaFree> schema(xmlSchemaParse(parser.get()));
  if (!schema) return unexpected("schema: " + message);
  std::unique_ptr<xmlSchemaValidCtxt, ValidFree> valid(xmlSchemaNewValidCtxt(schema.get()));
  if (!valid) return unexpected(std::string("schema: out of memory"));
  xmlSchemaSetValidStructuredErrors(valid.get(), keep_first_mutable, &message);
  if (xmlSchemaValidateOneElement(valid.get(), body_element) != 0)
    return unexpected(message.empty() ? std::string("not valid") : message);
  return {};
}

}  // namespace rsp::soap
