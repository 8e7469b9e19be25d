#include "rsp/soap/envelope.hpp"

#include <libxml/tree.h>

#include <map>

#include "document.hpp"

namespace rsp::soap {

using detail::local_name;
using detail::ns_of;

namespace {

SoapError err(ErrorKind k, std::string m) { return SoapError{k, std::move(m)}; }

const xmlChar* x(const char* s) { return reinterpret_cast<const xmlChar*>(s); }

std::string trimmed_text(const xmlNode* n) {
  std::string out;
  for (const xmlNode* c = n->children; c; c = c->next)
    if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) && c->content)
      out += reinterpret_cast<const char*>(c->content);
  const auto first = out.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return {};
  const auto last = out.find_last_not_of(" \t\r\n");
  return out.substr(first, last - first + 1);
}

Element to_element(const xmlNode* n) {
  Element e{std::string(ns_of(n)), std::string(local_name(n)), trimmed_text(n), {}};
  for (const xmlNode* c = n->children; c; c = c->next)
    if (c->type == XML_ELEMENT_NODE) e.children.push_back(to_element(c));
  return e;
}

/// The element children of `n`.
std::vector<const xmlNode*> elements(const xmlNode* n) {
  std::vector<const xmlNode*> out;
  for (const xmlNode* c = n->children; c; c = c->next)
    if (c->type == XML_ELEMENT_NODE) out.push_back(c);
  return out;
}

bool is_wsa(std::string_view ns) { return ns == kWsaNs || ns == kWsaMetadataNs; }

/// WS-Addressing 1.0 Core §2.1: an endpoint reference's Address; a bare
/// text is taken too (some SGP.02 implementations write the URI directly).
std::string endpoint_address(const xmlNode* n) {
  for (const xmlNode* c : elements(n))
    if (local_name(c) == "Address" && is_wsa(ns_of(c))) return trimmed_text(c);
  return trimmed_text(n);
}

expected<void, SoapError> read_headers(const xmlNode* header, Addressing& a) {
  std::map<std::string_view, std::string*> fields{{"To", &a.to},           {"Action", &a.action},
                                                  {"MessageID", &a.message_id}, {"RelatesTo", &a.relates_to},
                                                  {"ReplyTo", &a.reply_to},  {"From", &a.from}};
  std::map<std::string_view, int> seen;
  for (const xmlNode* h : elements(header)) {
    if (!is_wsa(ns_of(h))) continue;  // other headers: not ours to read
    const auto name = local_name(h);
    auto it = fields.find(name);
    if (it == fields.end()) continue;
    // WS-Addressing 1.0 SOAP Binding §3: each property at most once.
    if (++seen[name] > 1)
      return unexpected(err(ErrorKind::BadStructure, "the header wsa:" + std::string(name) + " appears twice"));
    *it->second = (name == "ReplyTo" || name == "From") ? endpoint_address(h) : trimmed_text(h);
  }
  return {};
}

/// Removes the characters XML 1.0 §2.2 does not allow (C0 controls other than
/// tab, newline and carriage return), so a value can always be written.
std::string xml_safe(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    out += (u < 0x20 && c != '\t' && c != '\n' && c != '\r') ? '?' : c;
  }
  return out;
}

struct Writer {
  xmlDoc* doc;
  std::map<std::string, xmlNs*>* declared;  // namespace URI -> its declaration
  int next_prefix = 1;
  /// Where a new namespace is declared: the body's element, so that the
  /// declaration is in scope for every element written after it (declared on
  /// the element that first needed it, a sibling reusing it would not be).
  xmlNode* scope = nullptr;

  xmlNs* ns_for(const std::string& uri, std::string_view prefix) {
    if (uri.empty()) return nullptr;
    if (auto it = declared->find(uri); it != declared->end()) return it->second;
    const std::string p = prefix.empty() ? "n" + std::to_string(next_prefix++) : std::string(prefix);
    xmlNs* ns = xmlNewNs(scope, x(uri.c_str()), x(p.c_str()));
    (*declared)[uri] = ns;
    return ns;
  }

  xmlNode* add(xmlNode* parent, const Element& e, std::string_view prefix) {
    xmlNode* n = xmlNewDocNode(doc, nullptr, x(xml_safe(e.name).c_str()), nullptr);
    xmlAddChild(parent, n);
    if (!scope) scope = n;
    xmlSetNs(n, ns_for(e.ns, prefix));
    // xmlNodeAddContent escapes as it serializes: no value is written raw.
    if (!e.text.empty()) xmlNodeAddContent(n, x(xml_safe(e.text).c_str()));
    for (const auto& c : e.children) add(n, c, {});
    return n;
  }
};

std::string serialize(xmlDoc* doc) {
  xmlChar* mem = nullptr;
  int size = 0;
  xmlDocDumpMemoryEnc(doc, &mem, &size, "UTF-8");
  std::string out(mem ? reinterpret_cast<const char*>(mem) : "", mem ? static_cast<std::size_t>(size) : 0);
  xmlFree(mem);
  return out;
}

/// An envelope with its headers and an empty Body, for the caller to fill.
struct Skeleton {
  detail::Doc doc;
  std::map<std::string, xmlNs*> declared;
  xmlNode* body = nullptr;
  xmlNs* env = nullptr;
};

Skeleton skeleton(Version version, const Addressing& a) {
  Skeleton s;
  s.doc.reset(xmlNewDoc(x("1.0")));
  xmlNode* root = xmlNewDocNode(s.doc.get(), nullptr, x("Envelope"), nullptr);
  xmlDocSetRootElement(s.doc.get(), root);
  const std::string env_ns(version == Version::Soap11 ? kSoap11Ns : kSoap12Ns);
  s.env = xmlNewNs(root, x(env_ns.c_str()), x("env"));
  xmlSetNs(root, s.env);
  xmlNs* wsa = xmlNewNs(root, x(std::string(kWsaNs).c_str()), x("wsa"));
  s.declared[env_ns] = s.env;
  s.declared[std::string(kWsaNs)] = wsa;
  xmlNode* header = xmlNewChild(root, s.env, x("Header"), nullptr);
  const auto plain = [&](const char* name, const std::string& v) {
    if (v.empty()) return;
    xmlNewTextChild(header, wsa, x(name), x(xml_safe(v).c_str()));
  };
  const auto epr = [&](const char* name, const std::string& v) {
    if (v.empty()) return;
    xmlNode* n = xmlNewChild(header, wsa, x(name), nullptr);
    xmlNewTextChild(n, wsa, x("Address"), x(xml_safe(v).c_str()));
  };
  epr("From", a.from);
  plain("To", a.to);
  epr("ReplyTo", a.reply_to);
  plain("MessageID", a.message_id);
  plain("Action", a.action);
  plain("RelatesTo", a.relates_to);
  s.body = xmlNewChild(root, s.env, x("Body"), nullptr);
  return s;
}

}  // namespace

std::string_view kind_name(ErrorKind k) {
  switch (k) {
    case ErrorKind::TooLarge: return "too_large";
    case ErrorKind::NotXml: return "not_xml";
    case ErrorKind::Dtd: return "dtd";
    case ErrorKind::NotEnvelope: return "not_envelope";
    case ErrorKind::BadStructure: return "bad_structure";
    case ErrorKind::TooDeep: return "too_deep";
    case ErrorKind::MissingHeader: return "missing_header";
  }
  return "unknown";
}

expected<Envelope, SoapError> parse_envelope(std::string_view xml, const ParseOptions& options) {
  RSP_TRY(detail::Doc doc, detail::read_document(xml, options));
  const xmlNode* root = xmlDocGetRootElement(doc.get());
  Envelope out;
  RSP_TRY(out.version, detail::envelope_version(root));
  const std::string_view env_ns = ns_of(root);
  const auto parts = elements(root);
  // SOAP 1.2 Part 1 §5.1 (1.1 §4.1.1 alike): an optional Header, then one Body.
  std::size_t i = 0;
  if (i < parts.size() && local_name(parts[i]) == "Header" && ns_of(parts[i]) == env_ns) {
    if (auto r = read_headers(parts[i], out.addressing); !r) return unexpected(r.error());
    ++i;
  }
  if (i >= parts.size() || local_name(parts[i]) != "Body" || ns_of(parts[i]) != env_ns)
    return unexpected(err(ErrorKind::BadStructure, "the Envelope has no Body"));
  if (i + 1 != parts.size())
    return unexpected(err(ErrorKind::BadStructure, "the Envelope has elements after its Body"));
  const auto body = elements(parts[i]);
  if (body.size() != 1) return unexpected(err(ErrorKind::BadStructure, "the Body must hold exactly one element"));
  out.body = to_element(body.front());
  if (options.require_action && out.addressing.action.empty())
    return unexpected(err(ErrorKind::MissingHeader, "the header wsa:Action is missing"));
  if (options.require_message_id && out.addressing.message_id.empty())
    return unexpected(err(ErrorKind::MissingHeader, "the header wsa:MessageID is missing"));
  return out;
}

std::string build_envelope(Version version, const Addressing& addressing, const Element& body,
                           std::string_view prefix) {
  Skeleton s = skeleton(version, addressing);
  Writer w{s.doc.get(), &s.declared};
  w.add(s.body, body, prefix);
  return serialize(s.doc.get());
}

std::string build_fault(Version version, const Addressing& addressing, const Fault& fault) {
  Skeleton s = skeleton(version, addressing);
  xmlNode* f = xmlNewChild(s.body, s.env, x("Fault"), nullptr);
  const std::string reason = xml_safe(fault.reason);
  if (version == Version::Soap11) {
    // SOAP 1.1 §4.4: faultcode and faultstring are unqualified (xmlNewChild
    // would give them the parent's namespace).
    const auto unqualified = [&](const char* name, const char* value) {
      xmlNode* n = xmlNewDocNode(s.doc.get(), nullptr, x(name), nullptr);
      xmlAddChild(f, n);
      xmlNodeAddContent(n, x(value));
    };
    unqualified("faultcode", fault.sender ? "env:Client" : "env:Server");
    unqualified("faultstring", reason.c_str());
  } else {
    // SOAP 1.2 Part 1 §5.4.1, §5.4.2, §5.4.6: Code/Value, Reason/Text with xml:lang.
    xmlNode* code = xmlNewChild(f, s.env, x("Code"), nullptr);
    xmlNewTextChild(code, s.env, x("Value"), x(fault.sender ? "env:Sender" : "env:Receiver"));
    xmlNode* r = xmlNewChild(f, s.env, x("Reason"), nullptr);
    xmlNode* t = xmlNewTextChild(r, s.env, x("Text"), x(reason.c_str()));
    xmlNodeSetLang(t, x("en"));
  }
  return serialize(s.doc.get());
}

std::string content_type(Version version) {
  return version == Version::Soap11 ? "text/xml; charset=utf-8" : "application/soap+xml; charset=utf-8";
}

}  // namespace rsp::soap
