// The public header of a unit: value constants, one C++ type per ASN.1 type
// assignment (dependency order), Codec<T> and to_json declarations.

#include <cctype>
#include <stdexcept>

#include "emitter.hpp"

namespace asn1gen {
namespace {

const char* kind_name(Kind k) {
  switch (k) {
    case Kind::Sequence: return "SEQUENCE";
    case Kind::Set: return "SET";
    case Kind::Choice: return "CHOICE";
    case Kind::SequenceOf: return "SEQUENCE OF";
    case Kind::SetOf: return "SET OF";
    default: return "type";
  }
}

// Named numbers or bits written on the type itself become constants.
void named_constants(Code& out, const Type& t, const std::string& name) {
  if (t.kind == Kind::Reference || t.named.empty()) return;
  std::string line = "struct " + name + "_values { static constexpr std::int64_t ";
  for (std::size_t i = 0; i < t.named.size(); ++i) {
    if (i) line += ", ";
    line += ident(t.named[i].name) + " = " + std::to_string(t.named[i].value);
  }
  out.line(line + "; };");
}

// Resolves "{ id-rsp cert-objects(2) 0 }" against earlier OID values.
std::string oid_text(const Module& m, const ValueAssignment& v, int depth = 0) {
  static const std::pair<const char*, int> kRoots[] = {
      {"itu-t", 0}, {"ccitt", 0}, {"iso", 1}, {"joint-iso-itu-t", 2}, {"joint-iso-ccitt", 2}};
  if (depth > 16) throw std::runtime_error("OID definitions nest too deep");
  std::string out;
  for (std::size_t i = 0; i < v.oid_components.size(); ++i) {
    const std::string& w = v.oid_components[i];
    std::string arc;
    auto paren = w.find('(');
    if (paren != std::string::npos) {
      arc = w.substr(paren + 1, w.size() - paren - 2);
    } else if (std::isdigit(static_cast<unsigned char>(w[0]))) {
      arc = w;
    } else if (i == 0 && m.find_value(w)) {
      arc = oid_text(m, *m.find_value(w), depth + 1);
    } else {
      for (const auto& r : kRoots)
        if (w == r.first && i == 0) arc = std::to_string(r.second);
      if (arc.empty()) return "";  // an import we do not resolve: no constant
    }
    out += (out.empty() ? "" : ".") + arc;
  }
  return out;
}

void value_constants(Code& out, const Program& p, const std::string& unit) {
  out.open("namespace values {");
  for (const auto& m : p.modules) {
    if (m.unit != unit) continue;
    for (const auto& v : m.values) {
      if (v.integer) {
        out.line("inline constexpr std::int64_t " + ident(v.name) + " = " + std::to_string(*v.integer) + ";");
      } else if (!v.oid_components.empty()) {
        std::string dotted = oid_text(m, v);
        if (!dotted.empty())
          out.line("inline constexpr const char* " + ident(v.name) + " = " + quote(dotted) + ";");
      }
    }
  }
  out.close("}  // namespace values");
  out.line("");
}

// The C++ value of a DEFAULT (X.680 §25.5), or "" for forms we do not model.
std::string default_expr(const Program& p, const Module& m, const Type& t, const DefaultValue& d) {
  Resolved rs = p.resolve(t, m);
  if (rs.raw || rs.big) return "";
  const Type& b = *rs.base;
  switch (b.kind) {
    case Kind::Integer: case Kind::Enumerated:
      if (d.form == DefaultValue::Form::Number) return std::to_string(d.number);
      if (d.form == DefaultValue::Form::Identifier)
        for (const auto& n : b.named)
          if (n.name == d.text) return std::to_string(n.value);
      return "";
    case Kind::Boolean:
      if (d.form == DefaultValue::Form::Identifier && (d.text == "TRUE" || d.text == "FALSE"))
        return d.text == "TRUE" ? "true" : "false";
      return "";
    case Kind::OctetString: {
      if (d.form != DefaultValue::Form::Hex || d.text.size() % 2) return "";
      std::string bytes = "::rsp::Bytes{";
      for (std::size_t i = 0; i < d.text.size(); i += 2)
        bytes += (i ? ", 0x" : "0x") + d.text.substr(i, 2);
      return bytes + "}";
    }
    default: return "";
  }
}

void sequence_struct(Code& out, const Program& p, const Module& m, const TypeAssignment& a,
                     const std::string& unit) {
  const Type& t = *a.type;
  std::string name = ident(a.name);
  out.line("/// ASN.1 " + a.name + " ::= " + kind_name(t.kind) + " (" + m.name + ")");
  out.open("struct " + name + " {");
  for (const auto& c : t.components) named_constants(out, *c.type, ident(c.name));
  for (const auto& c : t.components) {
    std::string ct = p.cpp_type(*c.type, m, unit);
    if (c.optional || c.default_value) ct = "std::optional<" + ct + ">";
    std::string note;
    if (c.default_value) {
      const auto& d = *c.default_value;
      note = d.form == DefaultValue::Form::Hex ? "'" + d.text + "'H"
             : d.form == DefaultValue::Form::Number ? std::to_string(d.number)
                                                    : d.text;
      note = "  ///< absent: DEFAULT " + note;
    }
    out.line(ct + " " + ident(c.name) + "{};" + note);
  }
  for (const auto& c : t.components) {
    if (!c.default_value) continue;
    std::string expr = default_expr(p, m, *c.type, *c.default_value);
    if (expr.empty()) continue;
    std::string ct = p.cpp_type(*c.type, m, unit), id = ident(c.name);
    out.line("/// " + c.name + ", or its DEFAULT when absent.");
    out.line(ct + " " + id + "_or_default() const { return " + id + " ? *" + id + " : " + ct + "(" + expr + "); }");
  }
  out.line("bool operator==(const " + name + "&) const = default;");
  out.close("};");
  out.line("");
}

void choice_struct(Code& out, const Program& p, const Module& m, const TypeAssignment& a,
                   const std::string& unit) {
  const Type& t = *a.type;
  std::string name = ident(a.name);
  bool ext = p.extensible(t, m);
  out.line("/// ASN.1 " + a.name + " ::= CHOICE (" + m.name + ")" +
           (ext ? "; an alternative this version does not know is kept as `unknown`" : ""));
  out.open("struct " + name + " {");
  for (const auto& c : t.components) named_constants(out, *c.type, ident(c.name));
  std::string variant = "std::variant<";
  std::string names = "static constexpr const char* kAlternativeNames[] = {";
  for (std::size_t i = 0; i < t.components.size(); ++i) {
    variant += (i ? ", " : "") + p.cpp_type(*t.components[i].type, m, unit);
    names += (i ? ", " : "") + quote(t.components[i].name);
  }
  if (ext) {
    variant += ", ::rsp::asn1::RawElement";
    names += ", \"unknown\"";
  }
  out.line("using Alternative = " + variant + ">;");
  out.line("Alternative alternative;");
  out.line(names + "};");
  out.line("/// The ASN.1 name of the alternative held.");
  out.line("const char* alternative_name() const { return kAlternativeNames[alternative.index()]; }");
  for (std::size_t i = 0; i < t.components.size(); ++i) {
    const auto& c = t.components[i];
    std::string ct = p.cpp_type(*c.type, m, unit), id = ident(c.name), ix = std::to_string(i);
    out.line("const " + ct + "* " + id + "() const { return std::get_if<" + ix + ">(&alternative); }");
    out.line(ct + "& set_" + id + "(" + ct + " v = {}) { return alternative.emplace<" + ix +
             ">(std::move(v)); }");
  }
  if (ext) {
    std::string ix = std::to_string(t.components.size());
    out.line("const ::rsp::asn1::RawElement* unknown() const { return std::get_if<" + ix +
             ">(&alternative); }");
  }
  out.line("bool operator==(const " + name + "&) const = default;");
  out.close("};");
  out.line("");
}

}  // namespace

std::string emit_header(const Program& p, const std::string& unit, const std::vector<std::string>& deps) {
  Code out;
  out.line("// Generated by asn1gen from the ASN.1 modules in asn1/. Do not edit.");
  out.line("#pragma once");
  out.line("");
  out.line("#include <cstdint>");
  out.line("#include <optional>");
  out.line("#include <string>");
  out.line("#include <variant>");
  out.line("#include <vector>");
  out.line("");
  out.line("#include \"rsp/asn1/runtime.hpp\"");
  for (const auto& d : deps) out.line("#include \"rsp/asn1/" + d + ".hpp\"");
  out.line("");
  out.open("namespace rsp::asn1::" + unit + " {");
  out.line("");
  value_constants(out, p, unit);
  auto order = p.ordered(unit);
  for (const auto& [m, a] : order) {
    const Type& t = *a->type;
    std::string kind = helper_kind(t);
    if (kind == "struct") {
      sequence_struct(out, p, *m, *a, unit);
    } else if (kind == "choice") {
      choice_struct(out, p, *m, *a, unit);
    } else {
      named_constants(out, t, ident(a->name));
      std::string target = p.big_integers.count(a->name) && t.kind == Kind::Integer
                               ? "::rsp::asn1::BigInt"
                               : p.cpp_type(t, *m, unit);
      out.line("/// ASN.1 " + a->name + " (" + m->name + ")");
      out.line("using " + ident(a->name) + " = " + target + ";");
      out.line("");
    }
  }
  for (const auto& [m, a] : order)
    if (std::string(helper_kind(*a->type)) == "struct" || std::string(helper_kind(*a->type)) == "choice")
      out.line("void to_json(::rsp::asn1::Json& j, const " + ident(a->name) + "& v);");
  out.close("}  // namespace rsp::asn1::" + unit);
  out.line("");
  out.open("namespace rsp::asn1 {");
  for (const auto& [m, a] : order) {
    std::string kind = helper_kind(*a->type);
    if (kind != "struct" && kind != "choice") continue;
    std::string q = unit + "::" + ident(a->name);
    out.open("template <> struct Codec<" + q + "> {");
    out.line("static constexpr const char* kName = " + quote(a->name) + ";");
    out.line("static void encode(::rsp::tlv::Writer& w, const " + q + "& v);");
    out.line("static ::rsp::tlv::Result<void> decode(::rsp::tlv::Reader& r, " + q + "& v, rt::Ctx& c);");
    out.close("};");
  }
  out.close("}  // namespace rsp::asn1");
  return out.text();
}

std::string emit_detail_header(const Program& p, const std::string& unit,
                               const std::vector<std::string>& deps) {
  Code out;
  out.line("// Generated by asn1gen. Do not edit. Codec helpers shared by the generated sources.");
  out.line("#pragma once");
  out.line("");
  out.line("#include \"rsp/asn1/" + unit + ".hpp\"");
  out.line("#include \"rsp/asn1/rt.hpp\"");
  for (const auto& d : deps) out.line("#include \"rsp/asn1/" + d + "_detail.hpp\"");
  out.line("");
  out.open("namespace rsp::asn1::" + unit + "::detail {");
  for (const auto& [m, a] : p.ordered(unit)) {
    std::string kind = helper_kind(*a->type);
    if (kind.empty()) continue;
    std::string n = ident(a->name);
    if (kind == "choice") {
      out.line("bool is_" + n + "(::rsp::tlv::Tag t);");
      out.line("void enc_" + n + "(::rsp::tlv::Writer& w, const " + n + "& v);");
    } else {
      out.line("void enc_" + n + "(::rsp::tlv::Writer& w, const " + n + "& v, ::rsp::tlv::Tag tag);");
    }
    out.line("::rsp::tlv::Result<void> dec_" + n + "(const ::rsp::tlv::Reader& r, const ::rsp::tlv::Tlv& e, " +
             n + "& v, ::rsp::asn1::rt::Ctx& c);");
    out.line("::rsp::asn1::Json json_" + n + "(const " + n + "& v);");
  }
  out.close("}  // namespace rsp::asn1::" + unit + "::detail");
  return out.text();
}

}  // namespace asn1gen
