#pragma once
// C++ emission. `Slots` writes the code for one use of a type (encode, decode,
// presence test, JSON); the unit emitters write the header, the codec and the
// JSON/registry sources of one output unit.

#include <string>

#include "analysis.hpp"

namespace asn1gen {

/// Indented C++ text.
class Code {
 public:
  void line(const std::string& s);
  void open(const std::string& s) { line(s); ++depth_; }
  void close(const std::string& s) { --depth_; line(s); }
  const std::string& text() const { return text_; }

 private:
  std::string text_;
  int depth_ = 0;
};

/// The C++ literal of a tag.
std::string tag_literal(const Tag& t);
/// A C++ string literal.
std::string quote(const std::string& s);

class Slots {
 public:
  Slots(const Program& p, std::string unit, Code& out) : p_(p), unit_(std::move(unit)), out_(out) {}

  /// Writes `expr` (of the value type of `t`) with writer `w`.
  void encode(const Type& t, const Module& m, const std::string& expr, const std::string& w);
  /// Reads one element from reader `r` and decodes it into `target`.
  void decode_read(const Type& t, const Module& m, const std::string& r, const std::string& target,
                   const std::string& ctx);
  /// Decodes the element `e` already read from `r` whose tag matched `match`.
  void decode_element(const Type& t, const Module& m, const std::string& e, const std::string& r,
                      const std::string& target, const std::string& ctx);
  /// A boolean expression: does an element with tag `tag` start this type?
  std::string match(const Type& t, const Module& m, const std::string& tag);
  /// A Json expression for `expr`.
  std::string json(const Type& t, const Module& m, const std::string& expr);

  /// The same, for the root type of a SEQUENCE OF helper: element loop only.
  void encode_elements(const Type& seq_of, const Module& m, const std::string& expr,
                       const std::string& w, const Tag& tag);
  void decode_elements(const Type& seq_of, const Module& m, const std::string& e,
                       const std::string& r, const std::string& target, const std::string& ctx,
                       const std::optional<SizeRange>& size);

  /// Qualified name of a helper function of a named type ("dec_", "enc_", ...).
  std::string helper(const Resolved& rs, const char* prefix) const;

 private:
  void enc_level(const Resolved& rs, std::size_t k, const std::string& expr, const std::string& w);
  void dec_level(const Resolved& rs, std::size_t k, const std::string& e, const std::string& r,
                 const std::string& target, const std::string& ctx);
  void dec_base(const Resolved& rs, const std::string& e, const std::string& r,
                const std::string& target, const std::string& ctx);
  std::string fresh(const char* stem) { return stem + std::to_string(++counter_); }

  const Program& p_;
  std::string unit_;
  Code& out_;
  int counter_ = 0;
};

std::string emit_header(const Program& p, const std::string& unit, const std::vector<std::string>& deps);
std::string emit_detail_header(const Program& p, const std::string& unit,
                               const std::vector<std::string>& deps);
std::string emit_codec(const Program& p, const std::string& unit);
std::string emit_json(const Program& p, const std::string& unit);

}  // namespace asn1gen
