#pragma once
// Semantic passes over the parsed modules: lifting inline constructed types to
// named ones, X.680 §25.3 automatic tagging, and per use site the resolved
// tag chain (X.680 §31.2: IMPLICIT replaces the outermost tag, EXPLICIT adds
// one, a tag on an untagged CHOICE or open type is always EXPLICIT).

#include <set>
#include <string>
#include <vector>

#include "model.hpp"

namespace asn1gen {

/// A tag as it appears in the encoding.
struct Tag {
  TagClass cls = TagClass::Universal;
  bool constructed = false;
  std::uint32_t number = 0;
};

/// What a use of a type encodes to.
struct Resolved {
  std::vector<Tag> chain;  ///< outermost first; empty for an untagged CHOICE or ANY
  const Type* base = nullptr;  ///< the non-reference type reached
  const Module* base_module = nullptr;
  const TypeAssignment* named = nullptr;  ///< assignment whose root is `base`, if reached by reference
  bool raw = false;  ///< kept as the encoded element (ANY, or an opaque import)
  std::optional<Tag> natural;  ///< an opaque import's own tag (its raw DER carries this one)
  bool big = false;  ///< INTEGER kept as two's complement bytes
  std::optional<SizeRange> size;  ///< the outermost SIZE constraint on the way
};

class Program {
 public:
  std::vector<Module> modules;
  std::set<std::string> opaque;  ///< imported type names kept as raw elements
  std::set<std::string> big_integers;  ///< INTEGER types that may exceed 64 bits

  /// Runs the lifting and automatic-tagging passes; call once after loading.
  void prepare();

  const Module& module(const std::string& name) const;
  /// The assignment a reference names, following IMPORTS; sets *opaque_out
  /// when the reference crosses modules to a type in `opaque`.
  const TypeAssignment& lookup(const std::string& name, const Module& from, const Module** where,
                               bool* opaque_out = nullptr) const;

  Resolved resolve(const Type& t, const Module& m) const;
  bool extensible(const Type& t, const Module& m) const;

  /// C++ spelling of the value type of `t` as used from `unit`.
  std::string cpp_type(const Type& t, const Module& m, const std::string& unit) const;
  /// C++ spelling of a named type from `unit` (qualified when in another unit).
  std::string cpp_name(const TypeAssignment& a, const Module& m, const std::string& unit) const;
  /// Assignments of a unit, in an order where every type follows what it uses.
  std::vector<std::pair<const Module*, const TypeAssignment*>> ordered(const std::string& unit) const;
};

/// An ASN.1 name as a C++ identifier ("PE-USIM" -> "PE_USIM", keywords get "_").
std::string ident(const std::string& asn1_name);
/// "struct", "choice" or "seqof" when the assignment gets helper functions, else "".
const char* helper_kind(const Type& root);

}  // namespace asn1gen
