#include "rsp/ota/ram.hpp"

#include "rsp/apdu/command.hpp"
#include "tlv_items.hpp"

namespace rsp::ota {

namespace {

using namespace ram_tag;
using detail::tag_of;

constexpr const char* kWhat = "RAM script TLV";

/// Template tag, then the items; the indefinite form ends with '00 00'.
Bytes wrap(std::uint8_t template_tag, bool indefinite, const Bytes& items) {
  if (!indefinite) return tlv::encode(tag_of(template_tag), items);
  return concat({Bytes{template_tag, 0x80}, items, Bytes{0x00, 0x00}});
}

/// The items of a template: one outer element of `definite` / `indefinite`
/// tag filling `in`; returns its contents.
OtaResult<std::pair<ByteView, bool>> unwrap(ByteView in, std::uint8_t definite, std::uint8_t indefinite) {
  auto outer = tlv::parse_one(in, tlv::Mode::Ber);
  if (!outer) return detail::tlv_fail(outer.error(), kWhat);
  const std::uint32_t raw = outer->tag.raw();
  if (raw == definite && !outer->indefinite) return std::make_pair(outer->value, false);
  if (raw == indefinite && outer->indefinite) return std::make_pair(outer->value, true);
  return ota_fail(OtaErrorCode::InvalidValue, "not a scripting template of this kind and length form");
}

bool is_command_tag(std::uint8_t t) {
  return t == kCApdu || t == kImmediateAction || t == kErrorAction || t == kScriptChaining;
}

OtaResult<void> check_command_item(std::uint8_t tag, ByteView value) {
  if (!is_command_tag(tag)) return ota_fail(OtaErrorCode::UnexpectedElement, "unknown command script tag");
  if (tag == kCApdu && !apdu::parse_command(value))
    return ota_fail(OtaErrorCode::InvalidValue, "C-APDU TLV does not hold a command APDU");
  return {};
}

}  // namespace

CommandScript command_script(const std::vector<Bytes>& apdus, bool indefinite) {
  CommandScript s;
  s.indefinite = indefinite;
  for (const auto& a : apdus) s.items.push_back({kCApdu, a});
  return s;
}

std::vector<Bytes> c_apdus(const CommandScript& script) {
  std::vector<Bytes> out;
  for (const auto& i : script.items)
    if (i.tag == kCApdu) out.push_back(i.value);
  return out;
}

OtaResult<Bytes> encode(const CommandScript& script) {
  Bytes items;
  for (const auto& i : script.items) {
    RSP_TRY_VOID(check_command_item(i.tag, i.value));
    items.push_back(i.tag);
    tlv::encode_length(i.value.size(), items);
    items.insert(items.end(), i.value.begin(), i.value.end());
  }
  return wrap(script.indefinite ? kCommandIndefinite : kCommandDefinite, script.indefinite, items);
}

OtaResult<CommandScript> decode_command_script(ByteView in) {
  RSP_TRY(auto contents, unwrap(in, kCommandDefinite, kCommandIndefinite));
  CommandScript s;
  s.indefinite = contents.second;
  auto walked = detail::for_each_item(contents.first, kWhat, [&](std::uint8_t tag, ByteView value) -> OtaResult<void> {
    RSP_TRY_VOID(check_command_item(tag, value));
    s.items.push_back({tag, Bytes(value.begin(), value.end())});
    return {};
  });
  if (!walked) return unexpected(std::move(walked).error());
  return s;
}

bool ResponseScript::operator==(const ResponseScript& o) const {
  if (r_apdus.size() != o.r_apdus.size()) return false;
  for (std::size_t i = 0; i < r_apdus.size(); ++i)
    if (r_apdus[i].sw != o.r_apdus[i].sw || r_apdus[i].data != o.r_apdus[i].data) return false;
  return executed == o.executed && immediate_action_response == o.immediate_action_response &&
         script_chaining_response == o.script_chaining_response && bad_format == o.bad_format &&
         indefinite == o.indefinite;
}

OtaResult<Bytes> encode(const ResponseScript& script) {
  tlv::Writer w;
  if (script.executed) w.put(tag_of(kExecuted), Bytes{*script.executed});
  for (const auto& r : script.r_apdus) w.put(tag_of(kRApdu), apdu::encode_response(r));
  if (script.immediate_action_response) w.put(tag_of(kImmediateActionResponse), *script.immediate_action_response);
  if (script.script_chaining_response) w.put(tag_of(kScriptChainingResponse), *script.script_chaining_response);
  if (script.bad_format) w.put(tag_of(kBadFormat), *script.bad_format);
  return wrap(script.indefinite ? kResponseIndefinite : kResponseDefinite, script.indefinite, w.bytes());
}

OtaResult<ResponseScript> decode_response_script(ByteView in) {
  RSP_TRY(auto contents, unwrap(in, kResponseDefinite, kResponseIndefinite));
  ResponseScript s;
  s.indefinite = contents.second;
  auto once = [](std::optional<Bytes>& slot, ByteView value) -> OtaResult<void> {
    if (slot) return ota_fail(OtaErrorCode::UnexpectedElement, "response script TLV repeated");
    slot = Bytes(value.begin(), value.end());
    return {};
  };
  auto walked = detail::for_each_item(contents.first, kWhat, [&](std::uint8_t tag, ByteView value) -> OtaResult<void> {
    switch (tag) {
      case kExecuted:
        if (s.executed) return ota_fail(OtaErrorCode::UnexpectedElement, "number of executed C-APDUs repeated");
        if (value.size() != 1) return ota_fail(OtaErrorCode::InvalidValue, "number of executed C-APDUs length");
        s.executed = value[0];
        return {};
      case kRApdu: {
        auto r = apdu::parse_response(value);
        if (!r) return ota_fail(OtaErrorCode::InvalidValue, "R-APDU TLV without SW1 SW2");
        s.r_apdus.push_back(std::move(*r));
        return {};
      }
      case kImmediateActionResponse: return once(s.immediate_action_response, value);
      case kScriptChainingResponse: return once(s.script_chaining_response, value);
      case kBadFormat: return once(s.bad_format, value);
      default: return ota_fail(OtaErrorCode::UnexpectedElement, "unknown response script tag");
    }
  });
  if (!walked) return unexpected(std::move(walked).error());
  return s;
}

}  // namespace rsp::ota
