#pragma once
// The parsed ASN.1 model: modules, type and value assignments, types with
// their tags, components and constraints (the X.680 subset our modules use).

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace asn1gen {

enum class TagDefault { Explicit, Implicit, Automatic };
enum class TagClass { Universal, Application, Context, Private };
enum class TagMode { Default, Implicit, Explicit };

struct TagSpec {
  TagClass cls = TagClass::Context;
  std::uint32_t number = 0;
  TagMode mode = TagMode::Default;
};

enum class Kind {
  Boolean, Integer, Enumerated, BitString, OctetString, Null, Oid,
  String,  // every restricted character string and the time types
  Sequence, Set, Choice, SequenceOf, SetOf, Any, Reference,
};

struct NamedNumber {
  std::string name;
  std::int64_t value = 0;
};

/// SIZE (lo..hi) as written (numbers or value references, "MAX"), resolved
/// after the whole module is read; hi = nullopt means MAX.
struct SizeRange {
  std::string lo_text, hi_text;
  std::uint64_t lo = 0;
  std::optional<std::uint64_t> hi;
};

struct Type;
using TypePtr = std::shared_ptr<Type>;

/// A DEFAULT value as written; only the forms our modules use.
struct DefaultValue {
  enum class Form { Number, Identifier, Hex, Bits, Other } form = Form::Other;
  std::int64_t number = 0;
  std::string text;  // identifier, or hex digits
};

struct Component {
  std::string name;
  TypePtr type;
  bool optional = false;
  std::optional<DefaultValue> default_value;
  bool extension_addition = false;  // after the extension marker
};

struct Type {
  Kind kind = Kind::Null;
  std::optional<TagSpec> tag;  // the tag written in front of this type, if any
  std::uint32_t universal = 0;  // universal tag number for String kinds
  std::string string_name;      // "UTF8String", "UTCTime", ...
  std::string ref;              // Reference: the type name
  std::vector<NamedNumber> named;  // INTEGER / ENUMERATED / BIT STRING
  std::vector<Component> components;  // SEQUENCE / SET / CHOICE
  bool has_extension_marker = false;
  TypePtr element;  // SEQUENCE OF / SET OF
  std::optional<SizeRange> size;
};

struct TypeAssignment {
  std::string name;
  TypePtr type;
  bool synthetic = false;  // lifted from an inline SEQUENCE/SET/CHOICE
};

struct ValueAssignment {
  std::string name;
  TypePtr type;
  std::optional<std::int64_t> integer;
  std::vector<std::string> oid_components;  // raw "{ ... }" items
};

struct Module {
  std::string name;
  std::string unit;  // output unit (C++ namespace) it belongs to
  TagDefault tagging = TagDefault::Explicit;
  bool extensibility_implied = false;
  std::map<std::string, std::string> imports;  // symbol -> module name
  std::vector<TypeAssignment> types;
  std::vector<ValueAssignment> values;

  const TypeAssignment* find_type(const std::string& n) const {
    for (const auto& t : types)
      if (t.name == n) return &t;
    return nullptr;
  }
  const ValueAssignment* find_value(const std::string& n) const {
    for (const auto& v : values)
      if (v.name == n) return &v;
    return nullptr;
  }
};

}  // namespace asn1gen
