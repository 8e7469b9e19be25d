#include "rsp/messages/es12_json.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace rsp::messages::es12 {

namespace {
using nlohmann::json;

constexpr std::size_t kMaxBody = 64 * 1024;

unexpected<MessageError> fail(ErrorKind kind, std::string field, std::string detail) {
  return unexpected(make_error(kind, std::move(field), std::move(detail)));
}

json with_header(json body, const std::optional<RequestHeader>& header) {
  if (header) body["header"] = to_json(*header);
  return body;
}

Result<std::string> read_eid(ObjectReader& r) {
  RSP_TRY(std::string eid, r.string("eid"));
  if (eid.size() != 32 || !std::all_of(eid.begin(), eid.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return fail(ErrorKind::BadValue, "eid", "must be 32 decimal digits");
  return eid;
}

Result<std::string> read_text(ObjectReader& r, std::string_view name) {
  RSP_TRY(std::string text, r.string(name));
  if (text.empty() || text.size() > kMaxEventText)
    return fail(ErrorKind::BadValue, std::string(name), "must be 1 to 255 characters");
  if (std::any_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20; }))
    return fail(ErrorKind::BadValue, std::string(name), "control characters");
  return text;
}

/// The body as an object, its optional request header read.
Result<json> open(std::string_view body, std::optional<RequestHeader>& header) {
  if (body.size() > kMaxBody) return fail(ErrorKind::MalformedJson, "", "body too large");
  RSP_TRY(json j, parse_json_object(body));
  if (auto it = j.find("header"); it != j.end()) {
    RSP_TRY(header, parse_request_header(*it));
    j.erase("header");
  }
  return j;
}
}  // namespace

std::string encode_request(const RegisterEventRequest& r) {
  return dump(with_header(json{{"eid", r.eid},
                               {"rspServerAddress", r.rsp_server_address},
                               {"eventId", r.event_id},
                               {"forwardingIndicator", r.forwarding_indicator}},
                          r.header));
}

std::string encode_request(const DeleteEventRequest& r) {
  return dump(with_header(json{{"eid", r.eid}, {"eventId", r.event_id}}, r.header));
}

Result<RegisterEventRequest> decode_register_event_request(std::string_view body) {
  RegisterEventRequest out;
  RSP_TRY(json j, open(body, out.header));
  // forwardingIndicator is a boolean, which ObjectReader does not read.
  if (auto it = j.find("forwardingIndicator"); it != j.end()) {
    if (!it->is_boolean()) return fail(ErrorKind::WrongType, "forwardingIndicator", "must be true or false");
    out.forwarding_indicator = it->get<bool>();
    j.erase("forwardingIndicator");
  }
  ObjectReader r(j);
  RSP_TRY(out.eid, read_eid(r));
  RSP_TRY(out.rsp_server_address, read_text(r, "rspServerAddress"));
  RSP_TRY(out.event_id, read_text(r, "eventId"));
  RSP_TRY_VOID(r.finish());
  return out;
}

Result<DeleteEventRequest> decode_delete_event_request(std::string_view body) {
  DeleteEventRequest out;
  RSP_TRY(json j, open(body, out.header));
  ObjectReader r(j);
  RSP_TRY(out.eid, read_eid(r));
  RSP_TRY(out.event_id, read_text(r, "eventId"));
  RSP_TRY_VOID(r.finish());
  return out;
}

}  // namespace rsp::messages::es12
