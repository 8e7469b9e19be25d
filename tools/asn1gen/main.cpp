// asn1gen: generates the C++ types and DER/BER codecs of the `asn1` component
// from ASN.1 modules.
//
//   asn1gen --out DIR --unit sgp22=rsp.asn --unit pkix=A.asn,B.asn
//           [--opaque Certificate] [--big-integer CertificateSerialNumber]
//
// For each unit U it writes DIR/rsp/asn1/U.hpp, DIR/rsp/asn1/U_detail.hpp,
// DIR/U_codec.cpp and DIR/U_json.cpp (only when their contents change).

#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <stdexcept>

#include "emitter.hpp"
#include "parser.hpp"

namespace {

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_if_changed(const std::filesystem::path& path, const std::string& text) {
  std::error_code ec;
  if (std::filesystem::exists(path, ec)) {
    try {
      if (read_text(path.string()) == text) return;
    } catch (const std::exception&) {
    }
  }
  std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == sep) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(cur);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    asn1gen::Program program;
    std::filesystem::path out_dir;
    std::vector<std::string> units;
    for (int i = 1; i < argc; ++i) {
      std::string arg = argv[i];
      if (i + 1 >= argc) throw std::runtime_error("missing value after " + arg);
      std::string val = argv[++i];
      if (arg == "--out") {
        out_dir = val;
      } else if (arg == "--unit") {
        auto eq = val.find('=');
        if (eq == std::string::npos) throw std::runtime_error("--unit NAME=FILE[,FILE]");
        std::string unit = val.substr(0, eq);
        units.push_back(unit);
        for (const auto& file : split(val.substr(eq + 1), ',')) {
          program.modules.push_back(asn1gen::parse_module(read_text(file), file));
          program.modules.back().unit = unit;
        }
      } else if (arg == "--opaque") {
        for (const auto& n : split(val, ',')) program.opaque.insert(n);
      } else if (arg == "--big-integer") {
        for (const auto& n : split(val, ',')) program.big_integers.insert(n);
      } else {
        throw std::runtime_error("unknown option " + arg);
      }
    }
    if (out_dir.empty() || units.empty()) throw std::runtime_error("usage: asn1gen --out DIR --unit NAME=FILE...");
    program.prepare();
    for (const auto& unit : units) {
      std::set<std::string> dep_set;
      for (const auto& m : program.modules) {
        if (m.unit != unit) continue;
        for (const auto& [symbol, from] : m.imports) {
          const auto& target = program.module(from);
          if (target.unit != unit) dep_set.insert(target.unit);
        }
      }
      std::vector<std::string> deps(dep_set.begin(), dep_set.end());
      write_if_changed(out_dir / "rsp" / "asn1" / (unit + ".hpp"), asn1gen::emit_header(program, unit, deps));
      write_if_changed(out_dir / "rsp" / "asn1" / (unit + "_detail.hpp"),
                       asn1gen::emit_detail_header(program, unit, deps));
      write_if_changed(out_dir / (unit + "_codec.cpp"), asn1gen::emit_codec(program, unit));
      write_if_changed(out_dir / (unit + "_json.cpp"), asn1gen::emit_json(program, unit));
    }
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "asn1gen: " << e.what() << "\n";
    return 1;
  }
}
