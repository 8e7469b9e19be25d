#include "lexer.hpp"

#include <cctype>
#include <stdexcept>

namespace asn1gen {
namespace {

bool ident_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_'; }

}  // namespace

std::vector<Token> lex(const std::string& s) {
  std::vector<Token> out;
  int line = 1;
  std::size_t i = 0;
  auto fail = [&](const std::string& what) {
    throw std::runtime_error("line " + std::to_string(line) + ": " + what);
  };
  while (i < s.size()) {
    char c = s[i];
    if (c == '\n') { ++line; ++i; continue; }
    if (std::isspace(static_cast<unsigned char>(c))) { ++i; continue; }
    // "--" comment: to the end of the line or the next "--" (X.680 §12.6.3).
    if (c == '-' && i + 1 < s.size() && s[i + 1] == '-') {
      i += 2;
      while (i < s.size() && s[i] != '\n') {
        if (s[i] == '-' && i + 1 < s.size() && s[i + 1] == '-') { i += 2; break; }
        ++i;
      }
      continue;
    }
    // "/* */" comment, nesting allowed (X.680 §12.6.4).
    if (c == '/' && i + 1 < s.size() && s[i + 1] == '*') {
      int depth = 1;
      i += 2;
      while (i < s.size() && depth > 0) {
        if (s[i] == '\n') ++line;
        if (s[i] == '/' && i + 1 < s.size() && s[i + 1] == '*') { ++depth; i += 2; continue; }
        if (s[i] == '*' && i + 1 < s.size() && s[i + 1] == '/') { --depth; i += 2; continue; }
        ++i;
      }
      continue;
    }
    Token t;
    t.line = line;
    if (std::isalpha(static_cast<unsigned char>(c))) {
      std::size_t j = i;
      while (j < s.size() && ident_char(s[j])) {
        if (s[j] == '-' && j + 1 < s.size() && s[j + 1] == '-') break;
        ++j;
      }
      while (j > i && s[j - 1] == '-') --j;  // an identifier never ends with a hyphen
      t.kind = Token::Kind::Ident;
      t.text = s.substr(i, j - i);
      i = j;
    } else if (std::isdigit(static_cast<unsigned char>(c))) {
      std::size_t j = i;
      while (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) ++j;
      t.kind = Token::Kind::Number;
      t.text = s.substr(i, j - i);
      i = j;
    } else if (c == '\'') {
      std::size_t j = s.find('\'', i + 1);
      if (j == std::string::npos || j + 1 >= s.size()) fail("unterminated 'string'");
      std::string body;
      for (std::size_t k = i + 1; k < j; ++k)
        if (!std::isspace(static_cast<unsigned char>(s[k]))) body += s[k];
      char suffix = s[j + 1];
      if (suffix == 'H') t.kind = Token::Kind::HString;
      else if (suffix == 'B') t.kind = Token::Kind::BString;
      else fail("bad string suffix");
      t.text = body;
      i = j + 2;
    } else if (c == '"') {
      std::size_t j = s.find('"', i + 1);
      if (j == std::string::npos) fail("unterminated \"string\"");
      t.kind = Token::Kind::CString;
      t.text = s.substr(i + 1, j - i - 1);
      i = j + 1;
    } else {
      static const char* const kPuncts[] = {"::=", "...", "..", "[[", "]]", "{", "}", "(", ")", "[",
                                            "]", ",", ";", "|", ".", "<", ">", "@", "!", "^", ":", "-"};
      bool matched = false;
      for (const char* p : kPuncts) {
        std::string ps(p);
        if (s.compare(i, ps.size(), ps) == 0) {
          t.kind = Token::Kind::Punct;
          t.text = ps;
          i += ps.size();
          matched = true;
          break;
        }
      }
      if (!matched) fail(std::string("unexpected character '") + c + "'");
    }
    out.push_back(std::move(t));
  }
  Token end;
  end.line = line;
  out.push_back(end);
  return out;
}

}  // namespace asn1gen
