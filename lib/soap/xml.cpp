#include "rsp/soap/xml.hpp"

namespace rsp::soap {

const Element* Element::child(std::string_view ns_uri, std::string_view local) const {
  for (const auto& c : children)
    if (c.ns == ns_uri && c.name == local) return &c;
  return nullptr;
}

std::size_t Element::count(std::string_view ns_uri, std::string_view local) const {
  std::size_t n = 0;
  for (const auto& c : children) n += c.ns == ns_uri && c.name == local;
  return n;
}

Element& Element::add(std::string local, std::string value) {
  children.push_back(Element{ns, std::move(local), std::move(value), {}});
  return children.back();
}

}  // namespace rsp::soap
