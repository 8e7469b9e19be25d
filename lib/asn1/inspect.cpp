// Decoding by name or by recognising the input, and the generic TLV tree.

#include "rsp/asn1/inspect.hpp"

#include <cstdio>

#include "rsp/asn1/registry.hpp"
#include "rsp/asn1/saip_detail.hpp"
#include "rsp/asn1/upp.hpp"

namespace rsp::asn1 {
namespace {

std::string tag_hex(tlv::Tag t) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%X", static_cast<unsigned>(t.raw()));
  return buf;
}

tlv::Result<Json> tree(tlv::Reader& r) {
  Json nodes = Json::array();
  while (!r.empty()) {
    RSP_TRY(auto e, r.next());
    Json node = Json::object();
    node["tag"] = tag_hex(e.tag);
    if (e.tag.constructed) {
      RSP_TRY(auto sub, r.enter(e));
      RSP_TRY(auto children, tree(sub));  // depth bounded by Limits::max_depth
      node["children"] = std::move(children);
    } else {
      node["value"] = to_hex(e.value);
    }
    nodes.push_back(std::move(node));
  }
  return nodes;
}

}  // namespace

tlv::Result<std::vector<saip::ProfileElement>> decode_profile_package(ByteView in,
                                                                       const DecodeOptions& options) {
  tlv::Reader r(in, options.mode, options.limits);
  rt::Ctx c(options);
  std::vector<saip::ProfileElement> out;
  while (!r.empty()) {
    RSP_TRY(auto e, rt::next(r, "ProfileElement"));
    RSP_TRY_VOID(c.charge(sizeof(saip::ProfileElement), e, "ProfileElement"));
    auto& pe = out.emplace_back();
    RSP_TRY_VOID(saip::detail::dec_ProfileElement(r, e, pe, c));
  }
  if (out.empty()) return unexpected(tlv::Error{tlv::ErrorCode::MissingElement, 0, "ProfileElement"});
  return out;
}

tlv::Result<std::size_t> for_each_profile_element(ByteView in, const DecodeOptions& options,
                                                  const std::function<bool(const saip::ProfileElement&)>& visit) {
  tlv::Reader r(in, options.mode, options.limits);
  rt::Ctx c(options);  // one budget for the package, as decode_profile_package
  std::size_t n = 0;
  while (!r.empty()) {
    RSP_TRY(auto e, rt::next(r, "ProfileElement"));
    RSP_TRY_VOID(c.charge(sizeof(saip::ProfileElement), e, "ProfileElement"));
    saip::ProfileElement pe;
    RSP_TRY_VOID(saip::detail::dec_ProfileElement(r, e, pe, c));
    ++n;
    if (!visit(pe)) break;
  }
  if (n == 0) return unexpected(tlv::Error{tlv::ErrorCode::MissingElement, 0, "ProfileElement"});
  return n;
}

Bytes encode_profile_package(const std::vector<saip::ProfileElement>& elements) {
  tlv::Writer w;
  for (const auto& pe : elements) saip::detail::enc_ProfileElement(w, pe);
  return w.take();
}

tlv::Result<Json> decode_profile_elements(ByteView in, const DecodeOptions& options) {
  RSP_TRY(auto elements, decode_profile_package(in, options));
  Json out = Json::array();
  for (const auto& pe : elements) out.push_back(saip::detail::json_ProfileElement(pe));
  return out;
}

tlv::Result<Json> tlv_tree(ByteView in, const DecodeOptions& options) {
  tlv::Reader r(in, options.mode, options.limits);
  return tree(r);
}

tlv::Result<Json> decode_named(std::string_view type, ByteView in, const DecodeOptions& options) {
  const TypeEntry* t = find_type(type);
  if (!t) return unexpected(tlv::Error{tlv::ErrorCode::InvalidValue, 0, "unknown type " + std::string(type)});
  return t->to_json(in, options, nullptr);
}

tlv::Result<Inspection> inspect(ByteView in, const DecodeOptions& options) {
  if (auto pes = decode_profile_elements(in, options); pes && pes->front().contains("header"))
    return Inspection{"ProfileElement*", std::move(*pes)};
  tlv::Reader r(in, options.mode, options.limits);
  RSP_TRY(auto first, r.peek_tag());
  if (first && first->cls != tlv::TagClass::Universal) {
    const TypeEntry* best = nullptr;
    Json best_value;
    std::size_t best_unknown = 0;
    for (const auto& t : sgp22::types()) {
      if (!t.tag || !(*t.tag == *first)) continue;
      DecodeStats stats;
      auto v = t.to_json(in, options, &stats);
      if (v && (!best || stats.unknown_elements < best_unknown)) {
        best = &t;
        best_value = std::move(*v);
        best_unknown = stats.unknown_elements;
      }
    }
    if (best) return Inspection{best->name, std::move(best_value)};
  }
  RSP_TRY(auto t, tlv_tree(in, options));
  return Inspection{"TLV", std::move(t)};
}

}  // namespace rsp::asn1
