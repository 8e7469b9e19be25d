#include "rsp/messages/es11_json.hpp"

#include <nlohmann/json.hpp>

#include "rsp/common/bytes.hpp"
#include "rsp/messages/es9_json.hpp"
#include "rsp/messages/header.hpp"

namespace rsp::messages::es11 {

namespace {
using nlohmann::json;
constexpr std::string_view kEs9Field = "smdpAddress";
constexpr std::string_view kEs11Field = "smdsAddress";
/// Longest eventId / address we accept (SGP.22 gives them as UTF8String
/// without a bound; a bound keeps the store and logs small).
constexpr std::size_t kMaxText = 255;

unexpected<MessageError> fail(ErrorKind kind, std::string field, std::string detail) {
  return unexpected(make_error(kind, std::move(field), std::move(detail)));
}
}  // namespace

std::string encode_initiate_authentication_request(const sgp::InitiateAuthenticationRequest& r) {
  auto j = json::parse(es9::encode_request(r), nullptr, false);
  j[std::string(kEs11Field)] = j[std::string(kEs9Field)];
  j.erase(std::string(kEs9Field));
  return dump(j);
}

/// The ES9+ decoder reads every other member the same way: the body is
/// handed to it with the address under ES9+'s name, and errors are renamed back.
Result<sgp::InitiateAuthenticationRequest> decode_initiate_authentication_request(std::string_view body) {
  if (body.size() > es9::kMaxBodySize) return fail(ErrorKind::MalformedJson, "", "body too large");
  RSP_TRY(json j, parse_json_object(body));
  if (j.contains(std::string(kEs9Field))) return fail(ErrorKind::UnknownField, std::string(kEs9Field), "not an ES11 member");
  if (auto it = j.find(std::string(kEs11Field)); it != j.end()) {
    j[std::string(kEs9Field)] = *it;
    j.erase(std::string(kEs11Field));
  }
  auto r = es9::decode_initiate_authentication_request(dump(j));
  if (!r) {
    auto e = r.error();
    if (e.field == kEs9Field) e.field = std::string(kEs11Field);
    return unexpected(std::move(e));
  }
  return r;
}

std::string encode_authenticate_client_response(const sgp::AuthenticateClientOkEs11& r) {
  json entries = json::array();
  for (const auto& e : r.eventEntries) entries.push_back({{"eventId", e.eventId}, {"rspServerAddress", e.rspServerAddress}});
  return dump(json{{"header", to_json(ResponseHeader::success())},
                   {"transactionId", to_hex(r.transactionId)},
                   {"eventEntries", std::move(entries)}});
}

Result<sgp::AuthenticateClientOkEs11> decode_authenticate_client_response(std::string_view body) {
  if (body.size() > es9::kMaxBodySize) return fail(ErrorKind::MalformedJson, "", "body too large");
  RSP_TRY(json j, parse_json_object(body));
  // eventEntries is an array, which ObjectReader does not read: taken apart
  // here, the other members go through the strict reader.
  auto it = j.find("eventEntries");
  if (it == j.end()) {
    ObjectReader r(j);
    RSP_TRY(const json* hj, r.object("header"));
    RSP_TRY(ResponseHeader h, parse_response_header(*hj));
    if (!h.succeeded()) {
      MessageError e =
          make_error(ErrorKind::FunctionFailed, "header", std::string(to_string(h.function_execution_status.status)));
      if (const auto& d = h.function_execution_status.status_code_data) {
        e.subject_code = d->subject_code;
        e.reason_code = d->reason_code;
      }
      return unexpected(std::move(e));
    }
    return fail(ErrorKind::MissingField, "eventEntries", "missing");
  }
  if (!it->is_array()) return fail(ErrorKind::WrongType, "eventEntries", "must be an array");
  sgp::AuthenticateClientOkEs11 out;
  for (const auto& e : *it) {
    if (!e.is_object()) return fail(ErrorKind::WrongType, "eventEntries", "entries must be objects");
    ObjectReader er(e, "eventEntries[]");
    sgp::EventEntries entry;
    RSP_TRY(entry.eventId, er.string("eventId"));
    RSP_TRY(entry.rspServerAddress, er.string("rspServerAddress"));
    RSP_TRY_VOID(er.finish());
    if (entry.eventId.size() > kMaxText || entry.rspServerAddress.size() > kMaxText)
      return fail(ErrorKind::BadValue, "eventEntries", "eventId or rspServerAddress too long");
    out.eventEntries.push_back(std::move(entry));
  }
  json rest = j;
  rest.erase("eventEntries");
  ObjectReader r(rest);
  RSP_TRY(const json* hj, r.object("header"));
  RSP_TRY(ResponseHeader h, parse_response_header(*hj));
  if (!h.succeeded()) return fail(ErrorKind::BadValue, "header", "a failed function with eventEntries");
  RSP_TRY(std::string tid, r.string("transactionId"));
  auto tid_bytes = from_hex(tid);
  if (!tid_bytes || tid_bytes->empty() || tid_bytes->size() > 16)
    return fail(ErrorKind::BadHex, "transactionId", "must be 1 to 16 octets in hex");
  out.transactionId = std::move(*tid_bytes);
  RSP_TRY_VOID(r.finish());
  return out;
}

}  // namespace rsp::messages::es11
