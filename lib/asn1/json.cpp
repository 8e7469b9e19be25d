// JSON forms of primitive values and the indented tree printer.

#include "rsp/asn1/text.hpp"

#include "rsp/asn1/rt.hpp"

namespace rsp::asn1 {
namespace rt {

Json json_hex(const Bytes& v) { return to_hex(v); }

Json json_string(const std::string& v) { return v; }

Json json_big(const BigInt& v) { return to_hex(v.bytes); }

Json json_raw(const RawElement& v) { return to_hex(v.der); }

Json json_enum(std::int64_t v, std::initializer_list<NamedValue> names) {
  for (const auto& n : names)
    if (n.value == v) return n.name;
  return v;
}

Json json_bits(const BitString& v, std::initializer_list<NamedValue> names) {
  if (names.size() == 0) {
    Json j = Json::object();
    j["bits"] = to_hex(v.bytes);
    j["unused"] = v.unused_bits;
    return j;
  }
  Json a = Json::array();
  for (std::size_t bit = 0; bit < v.bit_count(); ++bit) {
    if (!v.test(bit)) continue;
    const char* name = nullptr;
    for (const auto& n : names)
      if (n.value == static_cast<std::int64_t>(bit)) name = n.name;
    a.push_back(name ? std::string(name) : "bit" + std::to_string(bit));
  }
  return a;
}

}  // namespace rt

namespace {

std::string scalar(const Json& j) {
  if (j.is_string()) return j.get<std::string>();
  if (j.is_null()) return "NULL";
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

bool is_leaf(const Json& j) {
  return !(j.is_object() || j.is_array()) || j.empty();
}

void tree(const Json& j, int depth, std::string& out) {
  const std::string pad(static_cast<std::size_t>(depth) * 2, ' ');
  auto line = [&](const std::string& key, const Json& v) {
    if (is_leaf(v)) {
      std::string text = v.is_array() ? "[]" : v.is_object() ? "{}" : scalar(v);
      out += pad + key + ": " + text + "\n";
    } else {
      out += pad + key + ":\n";
      tree(v, depth + 1, out);
    }
  };
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) line(it.key(), it.value());
  } else if (j.is_array()) {
    std::size_t i = 0;
    for (const auto& v : j) line("[" + std::to_string(i++) + "]", v);
  } else {
    out += pad + scalar(j) + "\n";
  }
}

}  // namespace

std::string to_text(const Json& value) {
  std::string out;
  tree(value, 0, out);
  return out;
}

std::string to_json_text(const Json& value) {
  return value.dump(2, ' ', false, Json::error_handler_t::replace);
}

}  // namespace rsp::asn1
