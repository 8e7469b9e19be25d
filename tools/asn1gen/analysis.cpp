#include "analysis.hpp"

#include <functional>
#include <map>
#include <stdexcept>

namespace asn1gen {
namespace {

bool is_struct_kind(Kind k) { return k == Kind::Sequence || k == Kind::Set || k == Kind::Choice; }

void lift_inside(Module& m, Type& t, const std::string& path);

// Replaces an inline SEQUENCE/SET/CHOICE by a reference to a new named
// assignment; the tag written in front stays on the reference.
void lift_node(Module& m, TypePtr& node, const std::string& name) {
  if (is_struct_kind(node->kind)) {
    auto lifted = std::make_shared<Type>(*node);
    lifted->tag.reset();
    auto ref = std::make_shared<Type>();
    ref->kind = Kind::Reference;
    ref->ref = name;
    ref->tag = node->tag;
    node = ref;
    m.types.push_back({name, lifted, true});
  } else {
    lift_inside(m, *node, name);
  }
}

void lift_inside(Module& m, Type& t, const std::string& path) {
  for (auto& c : t.components) lift_node(m, c.type, path + "_" + c.name);
  if (t.element) lift_node(m, t.element, path + "_item");
}

// X.680 §25.3 (SEQUENCE/SET) and §29.3 (CHOICE): with AUTOMATIC TAGS and no
// tag written on any component, the components get [0], [1], ... in order.
void automatic_tags(Type& t) {
  if (!is_struct_kind(t.kind)) return;
  for (const auto& c : t.components)
    if (c.type->tag) return;
  std::uint32_t n = 0;
  for (auto& c : t.components) c.type->tag = TagSpec{TagClass::Context, n++, TagMode::Default};
}

std::uint32_t universal_number(const Type& t) {
  switch (t.kind) {
    case Kind::Boolean: return 1;
    case Kind::Integer: return 2;
    case Kind::BitString: return 3;
    case Kind::OctetString: return 4;
    case Kind::Null: return 5;
    case Kind::Oid: return 6;
    case Kind::Enumerated: return 10;
    case Kind::Sequence: case Kind::SequenceOf: return 16;
    case Kind::Set: case Kind::SetOf: return 17;
    case Kind::String: return t.universal;
    default: return 0;
  }
}

}  // namespace

void Program::prepare() {
  for (auto& m : modules) {
    for (std::size_t i = 0; i < m.types.size(); ++i) {
      TypePtr root = m.types[i].type;
      lift_inside(m, *root, m.types[i].name);
    }
    if (m.tagging == TagDefault::Automatic)
      for (auto& a : m.types) automatic_tags(*a.type);
  }
}

const Module& Program::module(const std::string& name) const {
  for (const auto& m : modules)
    if (m.name == name) return m;
  throw std::runtime_error("unknown module " + name);
}

const TypeAssignment& Program::lookup(const std::string& name, const Module& from,
                                      const Module** where, bool* opaque_out) const {
  if (opaque_out) *opaque_out = false;
  if (const auto* a = from.find_type(name)) {
    *where = &from;
    return *a;
  }
  auto it = from.imports.find(name);
  if (it == from.imports.end()) throw std::runtime_error(from.name + ": unknown type " + name);
  const Module& target = module(it->second);
  if (opaque_out && opaque.count(name)) *opaque_out = true;
  return lookup(name, target, where, nullptr);
}

Resolved Program::resolve(const Type& t, const Module& m) const {
  Resolved r;
  if (t.kind == Kind::Reference) {
    const Module* where = nullptr;
    bool opq = false;
    const TypeAssignment& a = lookup(t.ref, m, &where, &opq);
    r = resolve(*a.type, *where);
    if (a.type->kind != Kind::Reference) r.named = &a;
    if (big_integers.count(a.name)) r.big = true;
    if (opq) {
      r.raw = true;
      r.named = nullptr;
      if (!r.chain.empty()) r.natural = r.chain.back();
    }
  } else {
    r.base = &t;
    r.base_module = &m;
    if (t.kind == Kind::Any) r.raw = true;
    if (t.kind != Kind::Choice && t.kind != Kind::Any) {
      bool constructed = t.kind == Kind::Sequence || t.kind == Kind::Set ||
                         t.kind == Kind::SequenceOf || t.kind == Kind::SetOf;
      r.chain.push_back({TagClass::Universal, constructed, universal_number(t)});
    }
  }
  if (t.size) r.size = t.size;
  if (t.tag) {
    Tag tg{t.tag->cls, true, t.tag->number};
    bool expl = t.tag->mode == TagMode::Explicit ||
                (t.tag->mode == TagMode::Default && m.tagging == TagDefault::Explicit) ||
                r.chain.empty();
    if (expl) {
      r.chain.insert(r.chain.begin(), tg);
    } else {
      tg.constructed = r.chain.front().constructed;
      r.chain.front() = tg;
    }
  }
  return r;
}

bool Program::extensible(const Type& t, const Module& m) const {
  return t.has_extension_marker || m.extensibility_implied;
}

std::string Program::cpp_name(const TypeAssignment& a, const Module& m, const std::string& unit) const {
  if (m.unit == unit) return ident(a.name);
  return "::rsp::asn1::" + m.unit + "::" + ident(a.name);
}

std::string Program::cpp_type(const Type& t, const Module& m, const std::string& unit) const {
  switch (t.kind) {
    case Kind::Reference: {
      const Module* where = nullptr;
      bool opq = false;
      const TypeAssignment& a = lookup(t.ref, m, &where, &opq);
      if (opq) return "::rsp::asn1::RawElement";
      return cpp_name(a, *where, unit);
    }
    case Kind::Boolean: return "bool";
    case Kind::Integer: case Kind::Enumerated: return "std::int64_t";
    case Kind::BitString: return "::rsp::asn1::BitString";
    case Kind::OctetString: return "::rsp::Bytes";
    case Kind::Null: return "::rsp::asn1::Null";
    case Kind::Oid: return "::rsp::asn1::Oid";
    case Kind::String: return "std::string";
    case Kind::Any: return "::rsp::asn1::RawElement";
    case Kind::SequenceOf: case Kind::SetOf:
      return "std::vector<" + cpp_type(*t.element, m, unit) + ">";
    default: throw std::runtime_error("inline constructed type was not lifted");
  }
}

std::vector<std::pair<const Module*, const TypeAssignment*>> Program::ordered(const std::string& unit) const {
  std::vector<std::pair<const Module*, const TypeAssignment*>> out;
  std::map<const TypeAssignment*, int> state;  // 1 visiting, 2 done
  std::function<void(const Module&, const TypeAssignment&)> visit;
  std::function<void(const Module&, const Type&)> deps = [&](const Module& m, const Type& t) {
    if (t.kind == Kind::Reference) {
      const Module* where = nullptr;
      bool opq = false;
      const TypeAssignment& a = lookup(t.ref, m, &where, &opq);
      if (!opq && where->unit == unit) visit(*where, a);
    }
    for (const auto& c : t.components) deps(m, *c.type);
    if (t.element) deps(m, *t.element);
  };
  visit = [&](const Module& m, const TypeAssignment& a) {
    int& s = state[&a];
    if (s == 2) return;
    if (s == 1) throw std::runtime_error("recursive type " + a.name + " is not supported");
    s = 1;
    deps(m, *a.type);
    state[&a] = 2;
    out.emplace_back(&m, &a);
  };
  for (const auto& m : modules)
    if (m.unit == unit)
      for (const auto& a : m.types) visit(m, a);
  return out;
}

std::string ident(const std::string& asn1_name) {
  static const std::set<std::string> kKeywords = {
      "and", "asm", "auto", "bool", "break", "case", "catch", "char", "class", "const", "continue",
      "default", "delete", "do", "double", "else", "enum", "explicit", "export", "extern", "false",
      "float", "for", "friend", "goto", "if", "inline", "int", "long", "mutable", "namespace", "new",
      "not", "operator", "or", "private", "protected", "public", "register", "return", "short",
      "signed", "sizeof", "static", "struct", "switch", "template", "this", "throw", "true", "try",
      "typedef", "typename", "union", "unsigned", "using", "virtual", "void", "volatile", "while",
      "alternative", "xor"};
  std::string s = asn1_name;
  for (auto& ch : s)
    if (ch == '-') ch = '_';
  if (kKeywords.count(s)) s += '_';
  return s;
}

const char* helper_kind(const Type& root) {
  switch (root.kind) {
    case Kind::Sequence: case Kind::Set: return "struct";
    case Kind::Choice: return "choice";
    case Kind::SequenceOf: case Kind::SetOf: return "seqof";
    default: return "";
  }
}

}  // namespace asn1gen
