#include "parser.hpp"

#include <cctype>
#include <set>
#include <stdexcept>

#include "lexer.hpp"

namespace asn1gen {
namespace {

struct StringType {
  const char* name;
  std::uint32_t universal;
};
// X.680 §41 restricted character strings and the useful time types (§46, §47).
constexpr StringType kStringTypes[] = {
    {"UTF8String", 12},      {"NumericString", 18},   {"PrintableString", 19},
    {"TeletexString", 20},   {"T61String", 20},       {"VideotexString", 21},
    {"IA5String", 22},       {"UTCTime", 23},         {"GeneralizedTime", 24},
    {"GraphicString", 25},   {"VisibleString", 26},   {"ISO646String", 26},
    {"GeneralString", 27},   {"UniversalString", 28}, {"BMPString", 30},
};

class Parser {
 public:
  Parser(std::vector<Token> toks, std::string file) : t_(std::move(toks)), file_(std::move(file)) {}

  Module module() {
    Module m;
    m.name = ident();
    if (is("{")) skip_braces();
    keyword("DEFINITIONS");
    if (is_any({"EXPLICIT", "IMPLICIT", "AUTOMATIC"})) {
      std::string d = ident();
      m.tagging = d == "EXPLICIT" ? TagDefault::Explicit
                  : d == "IMPLICIT" ? TagDefault::Implicit
                                    : TagDefault::Automatic;
      keyword("TAGS");
    }
    if (is("EXTENSIBILITY")) {
      next();
      keyword("IMPLIED");
      m.extensibility_implied = true;
    }
    punct("::=");
    keyword("BEGIN");
    if (is("EXPORTS")) {
      while (!is(";")) next();
      next();
    }
    if (is("IMPORTS")) {
      next();
      std::vector<std::string> symbols;
      while (!is(";")) {
        if (is(",")) { next(); continue; }
        if (is("FROM")) {
          next();
          std::string from = ident();
          if (is("{")) skip_braces();
          for (auto& s : symbols) m.imports[s] = from;
          symbols.clear();
          continue;
        }
        symbols.push_back(ident());
      }
      next();
    }
    while (!is("END")) assignment(m);
    return m;
  }

 private:
  const Token& peek(std::size_t ahead = 0) const {
    std::size_t i = std::min(pos_ + ahead, t_.size() - 1);
    return t_[i];
  }
  bool is(const char* text) const {
    return peek().kind != Token::Kind::End && peek().text == text &&
           peek().kind != Token::Kind::HString && peek().kind != Token::Kind::BString &&
           peek().kind != Token::Kind::CString;
  }
  bool is_any(std::initializer_list<const char*> texts) const {
    for (const char* x : texts)
      if (is(x)) return true;
    return false;
  }
  Token next() {
    if (peek().kind == Token::Kind::End) fail("unexpected end of module");
    return t_[pos_++];
  }
  [[noreturn]] void fail(const std::string& what) const {
    throw std::runtime_error(file_ + ":" + std::to_string(peek().line) + ": " + what +
                             " (at '" + peek().text + "')");
  }
  std::string ident() {
    if (peek().kind != Token::Kind::Ident) fail("identifier expected");
    return next().text;
  }
  void keyword(const char* k) {
    if (!is(k)) fail(std::string("'") + k + "' expected");
    next();
  }
  void punct(const char* p) {
    if (!is(p)) fail(std::string("'") + p + "' expected");
    next();
  }
  // Skips a balanced { ... } and returns the tokens inside as words:
  // "iso(1)" stays one word, numbers and names stay as they are.
  std::vector<std::string> skip_braces() {
    punct("{");
    std::vector<std::string> words;
    int depth = 1;
    while (depth > 0) {
      Token tok = next();
      if (tok.text == "{") ++depth;
      else if (tok.text == "}") --depth;
      else if (tok.text == "(" && !words.empty()) {
        words.back() += "(" + next().text;
        punct(")");
        words.back() += ")";
      } else if (depth == 1) {
        words.push_back(tok.text);
      }
    }
    return words;
  }
  void skip_parens() {
    punct("(");
    int depth = 1;
    while (depth > 0) {
      Token tok = next();
      if (tok.text == "(") ++depth;
      if (tok.text == ")") --depth;
    }
  }

  void assignment(Module& m) {
    std::string name = ident();
    if (std::isupper(static_cast<unsigned char>(name[0]))) {
      punct("::=");
      m.types.push_back({name, type(), false});
      return;
    }
    ValueAssignment v;
    v.name = name;
    v.type = type();
    punct("::=");
    if (is("{")) {
      v.oid_components = skip_braces();
    } else if (peek().kind == Token::Kind::Number) {
      v.integer = std::stoll(next().text);
    } else if (is("-")) {
      next();
      v.integer = -std::stoll(next().text);
    } else {
      next();  // a reference or TRUE/FALSE: not needed by the generator
    }
    m.values.push_back(std::move(v));
  }

  TagSpec tag() {
    punct("[");
    TagSpec spec;
    if (is("UNIVERSAL")) { next(); spec.cls = TagClass::Universal; }
    else if (is("APPLICATION")) { next(); spec.cls = TagClass::Application; }
    else if (is("PRIVATE")) { next(); spec.cls = TagClass::Private; }
    if (peek().kind != Token::Kind::Number) fail("tag number expected");
    spec.number = static_cast<std::uint32_t>(std::stoul(next().text));
    punct("]");
    if (is("IMPLICIT")) { next(); spec.mode = TagMode::Implicit; }
    else if (is("EXPLICIT")) { next(); spec.mode = TagMode::Explicit; }
    return spec;
  }

  std::vector<NamedNumber> named_numbers(bool* extensible) {
    punct("{");
    std::vector<NamedNumber> out;
    while (!is("}")) {
      if (is(",")) { next(); continue; }
      if (is("...")) { next(); if (extensible) *extensible = true; continue; }
      NamedNumber n;
      n.name = ident();
      punct("(");
      bool neg = false;
      if (is("-")) { next(); neg = true; }
      if (peek().kind != Token::Kind::Number) fail("number expected");
      n.value = std::stoll(next().text) * (neg ? -1 : 1);
      punct(")");
      out.push_back(n);
    }
    next();
    return out;
  }

  SizeRange size_range() {
    keyword("SIZE");
    punct("(");
    SizeRange r;
    r.lo_text = next().text;
    r.hi_text = r.lo_text;
    if (is("..")) {
      next();
      r.hi_text = next().text;
    }
    if (!is(")")) fail("only SIZE(lo..hi) constraints are supported");
    next();
    return r;
  }

  void constraints(Type& t) {
    while (is("(")) {
      if (peek(1).text == "SIZE") {
        next();
        t.size = size_range();
        punct(")");
      } else {
        skip_parens();  // value ranges and table constraints: not checked
      }
    }
  }

  void components(Type& t) {
    punct("{");
    bool in_extension = false;
    while (!is("}")) {
      if (is(",")) { next(); continue; }
      if (is("...")) {
        next();
        t.has_extension_marker = true;
        in_extension = !in_extension;
        continue;
      }
      if (is("[[")) {
        next();
        while (!is("]]")) {
          if (is(",")) { next(); continue; }
          t.components.push_back(component(true));
        }
        next();
        continue;
      }
      if (is("COMPONENTS")) fail("COMPONENTS OF is not supported");
      t.components.push_back(component(in_extension));
    }
    next();
  }

  Component component(bool extension) {
    Component c;
    c.name = ident();
    c.type = type();
    c.extension_addition = extension;
    if (is("OPTIONAL")) {
      next();
      c.optional = true;
    } else if (is("DEFAULT")) {
      next();
      DefaultValue d;
      const Token& tok = peek();
      if (tok.kind == Token::Kind::Number) {
        d.form = DefaultValue::Form::Number;
        d.number = std::stoll(next().text);
      } else if (tok.kind == Token::Kind::HString) {
        d.form = DefaultValue::Form::Hex;
        d.text = next().text;
      } else if (tok.kind == Token::Kind::BString) {
        d.form = DefaultValue::Form::Bits;
        d.text = next().text;
      } else if (tok.kind == Token::Kind::Ident) {
        d.form = DefaultValue::Form::Identifier;
        d.text = next().text;
      } else if (is("{")) {
        skip_braces();
      } else {
        fail("unsupported DEFAULT value");
      }
      c.default_value = d;
    }
    return c;
  }

  TypePtr type() {
    if (is("[")) {
      TagSpec spec = tag();
      TypePtr inner = type();
      if (inner->tag) fail("more than one tag on a type is not supported");
      inner->tag = spec;
      return inner;
    }
    auto t = std::make_shared<Type>();
    std::string word = ident();
    if (word == "BOOLEAN") t->kind = Kind::Boolean;
    else if (word == "NULL") t->kind = Kind::Null;
    else if (word == "INTEGER") {
      t->kind = Kind::Integer;
      if (is("{")) t->named = named_numbers(nullptr);
    } else if (word == "ENUMERATED") {
      t->kind = Kind::Enumerated;
      t->named = named_numbers(&t->has_extension_marker);
    } else if (word == "BIT") {
      keyword("STRING");
      t->kind = Kind::BitString;
      if (is("{")) t->named = named_numbers(nullptr);
    } else if (word == "OCTET") {
      keyword("STRING");
      t->kind = Kind::OctetString;
    } else if (word == "OBJECT") {
      keyword("IDENTIFIER");
      t->kind = Kind::Oid;
    } else if (word == "SEQUENCE" || word == "SET") {
      bool seq = word == "SEQUENCE";
      if (is("{")) {
        t->kind = seq ? Kind::Sequence : Kind::Set;
        components(*t);
      } else {
        t->kind = seq ? Kind::SequenceOf : Kind::SetOf;
        if (is("SIZE")) t->size = size_range();
        else if (is("(")) constraints(*t);
        keyword("OF");
        if (peek().kind == Token::Kind::Ident && peek(1).text == "[" ) {
          // "SEQUENCE OF name [n] Type" (named element): drop the name.
          next();
        }
        t->element = type();
      }
    } else if (word == "CHOICE") {
      t->kind = Kind::Choice;
      components(*t);
    } else if (word == "ANY") {
      t->kind = Kind::Any;
      if (is("DEFINED")) {
        next();
        keyword("BY");
        ident();
      }
    } else {
      bool found = false;
      for (const auto& st : kStringTypes) {
        if (word == st.name) {
          t->kind = Kind::String;
          t->universal = st.universal;
          t->string_name = st.name;
          found = true;
        }
      }
      if (!found) {
        if (!std::isupper(static_cast<unsigned char>(word[0]))) fail("type expected");
        t->kind = Kind::Reference;
        t->ref = word;
      }
    }
    constraints(*t);
    return t;
  }

  std::vector<Token> t_;
  std::string file_;
  std::size_t pos_ = 0;
};

std::uint64_t resolve_bound(const Module& m, const std::string& text, const std::string& file) {
  if (!text.empty() && std::isdigit(static_cast<unsigned char>(text[0]))) return std::stoull(text);
  const ValueAssignment* v = m.find_value(text);
  if (!v || !v->integer || *v->integer < 0)
    throw std::runtime_error(file + ": cannot resolve SIZE bound '" + text + "'");
  return static_cast<std::uint64_t>(*v->integer);
}

void resolve_sizes(const Module& m, Type& t, const std::string& file) {
  if (t.size) {
    t.size->lo = t.size->lo_text == "MIN" ? 0 : resolve_bound(m, t.size->lo_text, file);
    if (t.size->hi_text != "MAX") t.size->hi = resolve_bound(m, t.size->hi_text, file);
  }
  for (auto& c : t.components) resolve_sizes(m, *c.type, file);
  if (t.element) resolve_sizes(m, *t.element, file);
}

}  // namespace

Module parse_module(const std::string& text, const std::string& file_name) {
  Parser p(lex(text), file_name);
  Module m = p.module();
  for (auto& a : m.types) resolve_sizes(m, *a.type, file_name);
  return m;
}

}  // namespace asn1gen
