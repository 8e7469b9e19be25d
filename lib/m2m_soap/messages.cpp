#include "rsp/m2m_soap/messages.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>


namespace rsp::m2m_soap {

using nlohmann::json;

namespace {

struct ListName {
  std::string_view member;
  std::string_view item;
};
/// The lists of the JSON binding and their items' element names.
constexpr ListName kLists[] = {
    {"profiles", "Profile"}, {"scp80KeySets", "Scp80KeySet"}, {"pol2", "PolicyRule"}, {"iccidList", "Iccid"}};
/// Members that are JSON numbers and booleans (eis_json.hpp, the ES4
/// binding of the SM-SR, m2m/es2.hpp, es3.hpp, es7.hpp).
constexpr std::string_view kNumbers[] = {"validityPeriod", "operationId", "remainingMemory", "allocatedMemory",
                                         "availableMemoryForProfiles", "version", "counter", "requiredMemory",
                                         "keyVersion"};
constexpr std::string_view kBooleans[] = {"fallbackAttribute", "emergencyProfileAttribute", "enableProfile",
                                          "moreToDo"};

template <class Range>
bool in(const Range& r, std::string_view s) {
  return std::find(std::begin(r), std::end(r), s) != std::end(r);
}

const ListName* list_of_member(std::string_view member) {
  for (const auto& l : kLists)
    if (l.member == member) return &l;
  return nullptr;
}

std::string member_name(std::string_view element) {
  std::string s(element);
  if (!s.empty()) s[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(s[0])));
  return s;
}

std::string element_name(std::string_view member) {
  std::string s(member);
  if (!s.empty()) s[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(s[0])));
  return s;
}

/// A leaf's text as the JSON value its member has; a text that is not of
/// that type stays a string, for the JSON checks to refuse in their words.
json leaf(std::string_view member, const std::string& text) {
  if (in(kNumbers, member)) {
    const bool negative = !text.empty() && text[0] == '-';
    if (negative) {
      std::int64_t v = 0;
      auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
      if (ec == std::errc() && p == text.data() + text.size()) return v;
    } else {
      std::uint64_t v = 0;
      auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
      if (ec == std::errc() && p == text.data() + text.size() && !text.empty()) return v;
    }
    return text;
  }
  if (in(kBooleans, member)) {
    // XML Schema Part 2 §3.2.2: boolean is true, false, 1 or 0.
    if (text == "true" || text == "1") return true;
    if (text == "false" || text == "0") return false;
    return text;
  }
  return text;
}

expected<json, std::string> value_of(const soap::Element& e, const std::string& member);

expected<json, std::string> object_of(const soap::Element& e) {
  json out = json::object();
  for (const auto& c : e.children) {
    if (c.ns != kGsmaNs) return unexpected("element " + c.name + " is not in the GSMA namespace");
    const std::string member = member_name(c.name);
    if (out.contains(member)) return unexpected("element " + c.name + " appears twice");
    RSP_TRY(out[member], value_of(c, member));
  }
  return out;
}

/// Mixed content (text beside elements) is no SGP.02 message shape.
bool mixed(const soap::Element& e) { return !e.children.empty() && !e.text.empty(); }

expected<json, std::string> value_of(const soap::Element& e, const std::string& member) {
  if (mixed(e)) return unexpected("element " + e.name + " holds both text and elements");
  if (const ListName* list = list_of_member(member)) {
    if (!e.text.empty()) return unexpected("element " + e.name + " may hold only " + std::string(list->item) + " elements");
    json items = json::array();
    for (const auto& item : e.children) {
      if (item.ns != kGsmaNs || item.name != list->item)
        return unexpected("element " + e.name + " may hold only " + std::string(list->item) + " elements");
      if (mixed(item)) return unexpected("element " + item.name + " holds both text and elements");
      if (item.children.empty()) {
        // A list of values (iccidList): each item its text.
        items.push_back(leaf(member, item.text));
        continue;
      }
      RSP_TRY(json v, object_of(item));
      items.push_back(std::move(v));
    }
    return items;
  }
  if (!e.children.empty()) return object_of(e);
  return leaf(member, e.text);
}

void add_value(const std::string& member, const json& v, soap::Element& parent) {
  soap::Element& e = parent.add(element_name(member));
  if (v.is_object()) {
    json_to_soap(v, e);
  } else if (v.is_array()) {
    const ListName* list = list_of_member(member);
    const std::string item = list ? std::string(list->item) : "Item";
    for (const auto& x : v) {
      if (x.is_object()) {
        json_to_soap(x, e.add(item));
      } else {
        add_value(item, x, e);
      }
    }
  } else if (v.is_string()) {
    e.text = v.get<std::string>();
  } else if (v.is_boolean()) {
    e.text = v.get<bool>() ? "true" : "false";
  } else if (!v.is_null()) {
    e.text = v.dump();
  }
}

}  // namespace

expected<json, std::string> soap_to_json(const soap::Element& request) {
  if (mixed(request)) return unexpected("element " + request.name + " holds both text and elements");
  return object_of(request);
}

void json_to_soap(const json& object, soap::Element& out) {
  if (!object.is_object()) return;
  for (const auto& [k, v] : object.items()) add_value(k, v, out);
}

}  // namespace rsp::m2m_soap
