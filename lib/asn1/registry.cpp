// The type table over all generated units.

#include "rsp/asn1/registry.hpp"

#include <vector>

namespace rsp::asn1 {

std::span<const TypeEntry> all_types() {
  static const std::vector<TypeEntry> kAll = [] {
    std::vector<TypeEntry> v;
    for (auto unit : {sgp22::types(), saip::types(), pkix::types()}) v.insert(v.end(), unit.begin(), unit.end());
    return v;
  }();
  return kAll;
}

const TypeEntry* find_type(std::string_view name) {
  std::string_view unit;
  if (auto dot = name.find('.'); dot != std::string_view::npos) {
    unit = name.substr(0, dot);
    name = name.substr(dot + 1);
  }
  for (const auto& t : all_types())
    if (name == t.name && (unit.empty() || unit == t.unit)) return &t;
  return nullptr;
}

}  // namespace rsp::asn1
