#pragma once
/// Reads known-answer vector files under tests/data/ (crypto/ by default): '#' comment lines
/// (the first names the public source), records of "Name = value" lines
/// separated by blank lines, in the style of NIST CAVP response files.

#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "rsp/common/bytes.hpp"

namespace rsp::crypto::test {

struct KatRecord {
  std::map<std::string, std::string> fields;
  const std::string& at(const std::string& k) const { return fields.at(k); }
  bool has(const std::string& k) const { return fields.count(k) != 0; }
  Bytes hex(const std::string& k) const { return from_hex(fields.at(k)).value_or(Bytes{}); }
};

inline std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return {};
  auto e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

/// Reads tests/data/<folder>/<name>.
inline std::vector<KatRecord> read_kat(const std::string& name, const std::string& folder = "crypto") {
  std::ifstream in(std::string(RSP_SOURCE_DIR) + "/tests/data/" + folder + "/" + name);
  std::vector<KatRecord> out;
  KatRecord cur;
  std::string line;
  while (std::getline(in, line)) {
    line = trim(line);
    if (!line.empty() && line[0] == '#') continue;
    if (line.empty()) {
      if (!cur.fields.empty()) out.push_back(std::move(cur));
      cur = {};
      continue;
    }
    auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    cur.fields[trim(line.substr(0, eq))] = trim(line.substr(eq + 1));
  }
  if (!cur.fields.empty()) out.push_back(std::move(cur));
  return out;
}

}  // namespace rsp::crypto::test
