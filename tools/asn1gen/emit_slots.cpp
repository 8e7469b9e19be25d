// Code for one use of a type: the tag chain (explicit wrappers, then the
// element with the type's own or implicit tag) around the base codec.

#include <stdexcept>

#include "emitter.hpp"

namespace asn1gen {
namespace {

constexpr const char* kRt = "::rsp::asn1::rt::";

bool has_own_tag(const Resolved& rs) {
  return rs.base->kind != Kind::Choice && rs.base->kind != Kind::Any;
}

std::string size_check(const std::optional<SizeRange>& size, const std::string& count,
                       const std::string& e, const std::string& ctx) {
  if (!size) return "";
  std::string hi = size->hi ? std::to_string(*size->hi) + "u" : "SIZE_MAX";
  return std::string("RSP_TRY_VOID(") + kRt + "check_size(" + count + ", " + std::to_string(size->lo) +
         "u, " + hi + ", " + e + ", " + ctx + "));";
}

std::string named_list(const std::vector<NamedNumber>& named) {
  std::string s = "{";
  for (std::size_t i = 0; i < named.size(); ++i) {
    if (i) s += ", ";
    s += "{" + quote(named[i].name) + ", " + std::to_string(named[i].value) + "}";
  }
  return s + "}";
}

}  // namespace

void Code::line(const std::string& s) {
  if (!s.empty()) text_.append(static_cast<std::size_t>(depth_) * 2, ' ');
  text_ += s;
  text_ += '\n';
}

std::string tag_literal(const Tag& t) {
  static const char* const kClass[] = {"Universal", "Application", "Context", "Private"};
  return std::string("::rsp::tlv::Tag{::rsp::tlv::TagClass::") + kClass[static_cast<int>(t.cls)] + ", " +
         (t.constructed ? "true" : "false") + ", " + std::to_string(t.number) + "}";
}

std::string quote(const std::string& s) { return "\"" + s + "\""; }

std::string Slots::helper(const Resolved& rs, const char* prefix) const {
  std::string ns = "::rsp::asn1::" + rs.base_module->unit + "::detail::";
  return ns + prefix + ident(rs.named->name);
}

void Slots::encode(const Type& t, const Module& m, const std::string& expr, const std::string& w) {
  enc_level(p_.resolve(t, m), 0, expr, w);
}

void Slots::enc_level(const Resolved& rs, std::size_t k, const std::string& expr, const std::string& w) {
  std::size_t wrappers = has_own_tag(rs) ? rs.chain.size() - 1 : rs.chain.size();
  if (k < wrappers) {
    std::string mk = fresh("mark");
    out_.line("const auto " + mk + " = " + w + ".begin(" + tag_literal(rs.chain[k]) + ");");
    enc_level(rs, k + 1, expr, w);
    out_.line(w + ".end(" + mk + ");");
    return;
  }
  if (rs.raw && rs.natural) {
    // An opaque import may carry an IMPLICIT tag here (e.g. [0] CertificateList).
    out_.line(std::string(kRt) + "put_raw_as(" + w + ", " + tag_literal(rs.chain.back()) + ", " + expr + ");");
    return;
  }
  if (rs.raw) {
    out_.line(std::string(kRt) + "put_raw(" + w + ", " + expr + ");");
    return;
  }
  const Type& b = *rs.base;
  if (b.kind == Kind::Choice) {
    out_.line(helper(rs, "enc_") + "(" + w + ", " + expr + ");");
    return;
  }
  std::string tag = tag_literal(rs.chain.back());
  if (rs.named && *helper_kind(*rs.named->type)) {
    out_.line(helper(rs, "enc_") + "(" + w + ", " + expr + ", " + tag + ");");
    return;
  }
  const char* fn = nullptr;
  switch (b.kind) {
    case Kind::Boolean: fn = "put_bool"; break;
    case Kind::Integer: case Kind::Enumerated: fn = rs.big ? "put_big" : "put_int"; break;
    case Kind::BitString: fn = "put_bits"; break;
    case Kind::OctetString: fn = "put_octets"; break;
    case Kind::Null: fn = "put_null"; break;
    case Kind::Oid: fn = "put_oid"; break;
    case Kind::String: fn = "put_string"; break;
    case Kind::SequenceOf: case Kind::SetOf:
      out_.open("{");
      encode_elements(b, *rs.base_module, expr, w, rs.chain.back());
      out_.close("}");
      return;
    default: throw std::runtime_error("cannot encode an unnamed constructed type");
  }
  out_.line(std::string(kRt) + fn + "(" + w + ", " + tag + ", " + expr + ");");
}

void Slots::encode_elements(const Type& seq_of, const Module& m, const std::string& expr,
                            const std::string& w, const Tag& tag) {
  std::string mk = fresh("mark"), it = fresh("item");
  out_.line("const auto " + mk + " = " + w + ".begin(" + tag_literal(tag) + ");");
  if (seq_of.kind == Kind::SetOf) {
    // X.690 §11.6: DER orders SET OF components by their encodings.
    std::string parts = fresh("parts"), w2 = fresh("w");
    out_.line("std::vector<::rsp::Bytes> " + parts + ";");
    out_.open("for (const auto& " + it + " : " + expr + ") {");
    out_.line("::rsp::tlv::Writer " + w2 + ";");
    encode(*seq_of.element, m, it, w2);
    out_.line(parts + ".push_back(" + w2 + ".take());");
    out_.close("}");
    out_.line(std::string(kRt) + "put_sorted(" + w + ", " + parts + ");");
  } else {
    out_.open("for (const auto& " + it + " : " + expr + ") {");
    encode(*seq_of.element, m, it, w);
    out_.close("}");
  }
  out_.line(w + ".end(" + mk + ");");
}

void Slots::decode_read(const Type& t, const Module& m, const std::string& r, const std::string& target,
                        const std::string& ctx) {
  Resolved rs = p_.resolve(t, m);
  std::string e = fresh("e");
  if (rs.chain.empty()) {
    out_.line("RSP_TRY(auto " + e + ", " + kRt + "next(" + r + ", " + ctx + "));");
  } else {
    out_.line("RSP_TRY(auto " + e + ", " + kRt + "expect(" + r + ", " + tag_literal(rs.chain[0]) +
              ", " + ctx + "));");
  }
  dec_level(rs, 0, e, r, target, ctx);
}

void Slots::decode_element(const Type& t, const Module& m, const std::string& e, const std::string& r,
                           const std::string& target, const std::string& ctx) {
  dec_level(p_.resolve(t, m), 0, e, r, target, ctx);
}

void Slots::dec_level(const Resolved& rs, std::size_t k, const std::string& e, const std::string& r,
                      const std::string& target, const std::string& ctx) {
  std::size_t n = rs.chain.size();
  std::size_t wrappers = has_own_tag(rs) ? n - 1 : n;
  if (k < wrappers) {
    // An explicit tag: its contents are exactly one inner element.
    std::string sub = fresh("r"), inner = fresh("e");
    out_.line("RSP_TRY(auto " + sub + ", " + kRt + "enter(" + r + ", " + e + ", " + ctx + "));");
    if (k + 1 < n) {
      out_.line("RSP_TRY(auto " + inner + ", " + kRt + "expect(" + sub + ", " +
                tag_literal(rs.chain[k + 1]) + ", " + ctx + "));");
    } else {
      out_.line("RSP_TRY(auto " + inner + ", " + kRt + "next(" + sub + ", " + ctx + "));");
    }
    dec_level(rs, k + 1, inner, sub, target, ctx);
    out_.line(std::string("RSP_TRY_VOID(") + kRt + "finish(" + sub + ", " + ctx + "));");
    return;
  }
  dec_base(rs, e, r, target, ctx);
}

void Slots::dec_base(const Resolved& rs, const std::string& e, const std::string& r,
                     const std::string& target, const std::string& ctx) {
  if (rs.raw && rs.natural) {
    // Kept with the type's own tag, so it is the exact DER a signature covers.
    out_.line(target + " = " + kRt + "raw_as(" + e + ", " + tag_literal(*rs.natural) + ");");
    return;
  }
  if (rs.raw) {
    out_.line(target + " = " + kRt + "raw_of(" + e + ");");
    return;
  }
  const Type& b = *rs.base;
  if (rs.named && *helper_kind(*rs.named->type)) {
    out_.line("RSP_TRY_VOID(" + helper(rs, "dec_") + "(" + r + ", " + e + ", " + target + ", c));");
    return;
  }
  const char* fn = nullptr;
  bool sized = false;
  switch (b.kind) {
    case Kind::Boolean: fn = "get_bool"; break;
    case Kind::Integer: case Kind::Enumerated: fn = rs.big ? "get_big" : "get_int"; break;
    case Kind::BitString: fn = "get_bits"; break;
    case Kind::OctetString: fn = "get_octets"; sized = true; break;
    case Kind::Null: fn = "get_null"; break;
    case Kind::Oid: fn = "get_oid"; break;
    case Kind::String: fn = "get_string"; sized = true; break;
    case Kind::SequenceOf: case Kind::SetOf:
      out_.open("{");
      decode_elements(b, *rs.base_module, e, r, target, ctx, rs.size);
      out_.close("}");
      return;
    default: throw std::runtime_error("cannot decode an unnamed constructed type");
  }
  out_.line(std::string("RSP_TRY_VOID(") + kRt + fn + "(" + e + ", " + target + ", " + ctx + "));");
  if (sized && rs.size) out_.line(size_check(rs.size, target + ".size()", e, ctx));
}

void Slots::decode_elements(const Type& seq_of, const Module& m, const std::string& e,
                            const std::string& r, const std::string& target, const std::string& ctx,
                            const std::optional<SizeRange>& size) {
  std::string sub = fresh("r"), it = fresh("item");
  std::string elem_type = p_.cpp_type(*seq_of.element, m, unit_);
  out_.line("RSP_TRY(auto " + sub + ", " + kRt + "enter(" + r + ", " + e + ", " + ctx + "));");
  out_.open("while (!" + sub + ".empty()) {");
  // Charge the memory an element takes, so hostile input cannot make many
  // small elements expand into a huge tree.
  out_.line("RSP_TRY_VOID(c.charge(sizeof(" + elem_type + "), " + e + ", " + ctx + "));");
  out_.line("auto& " + it + " = " + target + ".emplace_back();");
  decode_read(*seq_of.element, m, sub, it, ctx);
  out_.close("}");
  if (seq_of.kind == Kind::SetOf)
    out_.line(std::string("RSP_TRY_VOID(") + kRt + "check_set_order(" + r + ", " + e + ", " + ctx + "));");
  if (size) out_.line(size_check(size, target + ".size()", e, ctx));
}

std::string Slots::match(const Type& t, const Module& m, const std::string& tag) {
  Resolved rs = p_.resolve(t, m);
  if (!rs.chain.empty()) return tag + " == " + tag_literal(rs.chain[0]);
  if (rs.raw) return "true";
  return helper(rs, "is_") + "(" + tag + ")";
}

std::string Slots::json(const Type& t, const Module& m, const std::string& expr) {
  Resolved rs = p_.resolve(t, m);
  if (rs.raw) return std::string(kRt) + "json_raw(" + expr + ")";
  if (rs.named && *helper_kind(*rs.named->type)) return helper(rs, "json_") + "(" + expr + ")";
  const Type& b = *rs.base;
  switch (b.kind) {
    case Kind::Boolean: return "::rsp::asn1::Json(" + expr + ")";
    case Kind::Integer: return rs.big ? std::string(kRt) + "json_big(" + expr + ")" : "::rsp::asn1::Json(" + expr + ")";
    case Kind::Enumerated: return std::string(kRt) + "json_enum(" + expr + ", " + named_list(b.named) + ")";
    case Kind::BitString: return std::string(kRt) + "json_bits(" + expr + ", " + named_list(b.named) + ")";
    case Kind::OctetString: return std::string(kRt) + "json_hex(" + expr + ")";
    case Kind::Null: return "::rsp::asn1::Json(nullptr)";
    case Kind::Oid: return "::rsp::asn1::Json(" + expr + ".to_string())";
    case Kind::String: return std::string(kRt) + "json_string(" + expr + ")";
    case Kind::SequenceOf: case Kind::SetOf: {
      std::string it = fresh("item");
      return std::string(kRt) + "json_array(" + expr + ", [](const auto& " + it + ") { return " +
             json(*b.element, *rs.base_module, it) + "; })";
    }
    default: throw std::runtime_error("cannot convert an unnamed constructed type");
  }
}

}  // namespace asn1gen
