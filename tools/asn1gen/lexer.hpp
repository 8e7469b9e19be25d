#pragma once
// Tokens of ASN.1 module text (X.680 §12): identifiers, numbers, 'xx'H/'xx'B
// strings, punctuation; comments ("--" and "/* */") are dropped.

#include <string>
#include <vector>

namespace asn1gen {

struct Token {
  enum class Kind { Ident, Number, HString, BString, CString, Punct, End } kind = Kind::End;
  std::string text;
  int line = 0;
};

/// Splits `text` into tokens; throws std::runtime_error with a line number on
/// characters outside the ASN.1 alphabet.
std::vector<Token> lex(const std::string& text);

}  // namespace asn1gen
