#include "rsp/messages/es9_json.hpp"

#include <algorithm>
#include <array>
#include <vector>

#include "rsp/asn1/runtime.hpp"
#include "rsp/common/bytes.hpp"
#include "rsp/tlv/tlv.hpp"

namespace rsp::messages::es9 {
namespace {

using nlohmann::json;

static_assert(std::size(kEs9Functions) == static_cast<std::size_t>(Function::CancelSession) + 1);

constexpr tlv::Tag kSignatureTag = tlv::Tag::application(55);  // '5F37'
constexpr tlv::Tag kOctetStringTag = tlv::Tag::universal(tlv::universal::kOctetString);
constexpr tlv::Tag kSequenceTag = tlv::Tag::universal(tlv::universal::kSequence, true);

unexpected<MessageError> fail(ErrorKind kind, std::string field, std::string detail) {
  return unexpected(make_error(kind, std::move(field), std::move(detail)));
}

// ---- encoding helpers -------------------------------------------------------

std::string b64(ByteView b) { return base64_encode(b); }
template <class T>
std::string b64_der(const T& v) { return base64_encode(asn1::encode(v)); }
std::string b64_tagged(tlv::Tag tag, ByteView value) { return base64_encode(tlv::encode(tag, value)); }

// ---- decoding helpers -------------------------------------------------------

Result<json> parse_body(std::string_view body) {
  if (body.size() > kMaxBodySize) return fail(ErrorKind::MalformedJson, "", "body too large");
  return parse_json_object(body);
}

Result<Bytes> read_base64(ObjectReader& r, std::string_view name) {
  RSP_TRY(std::string text, r.string(name));
  auto bytes = base64_decode(text);
  if (!bytes) return fail(ErrorKind::BadBase64, std::string(name), "not base64 with padding");
  return std::move(*bytes);
}

template <class T>
Result<T> read_der(ObjectReader& r, std::string_view name) {
  RSP_TRY(Bytes der, read_base64(r, name));
  auto v = asn1::decode<T>(der);
  if (!v) return fail(ErrorKind::BadDer, std::string(name), v.error().to_string());
  return std::move(v).value();
}

/// One primitive element with `tag`; returns its contents.
Result<Bytes> read_tagged(ObjectReader& r, std::string_view name, tlv::Tag tag) {
  RSP_TRY(Bytes der, read_base64(r, name));
  auto e = tlv::parse_one(der);
  if (!e) return fail(ErrorKind::BadDer, std::string(name), e.error().to_string());
  if (!(e->tag == tag)) return fail(ErrorKind::BadDer, std::string(name), "unexpected tag " + e->tag.to_string());
  return Bytes(e->value.begin(), e->value.end());
}

/// One complete SEQUENCE element kept as received (a certificate).
Result<asn1::RawElement> read_certificate(ObjectReader& r, std::string_view name) {
  RSP_TRY(Bytes der, read_base64(r, name));
  auto e = tlv::parse_one(der);
  if (!e) return fail(ErrorKind::BadDer, std::string(name), e.error().to_string());
  if (!(e->tag == kSequenceTag)) return fail(ErrorKind::BadDer, std::string(name), "not a SEQUENCE");
  return asn1::RawElement{std::move(der)};
}

Result<Bytes> read_transaction_id(ObjectReader& r) {
  RSP_TRY(std::string text, r.string("transactionId"));
  if (text.empty() || text.size() > 32 || text.size() % 2 != 0) {
    return fail(ErrorKind::BadHex, "transactionId", "must be 1 to 16 octets in hex");
  }
  for (char c : text) {
    const bool hex = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F') || (c >= 'a' && c <= 'f');
    if (!hex) return fail(ErrorKind::BadHex, "transactionId", "not hex");
  }
  auto b = from_hex(text);
  if (!b) return fail(ErrorKind::BadHex, "transactionId", "not hex");
  return std::move(*b);
}

/// Requests may carry the §6.5.1 request header; check it when present.
Result<void> read_optional_request_header(ObjectReader& r) {
  RSP_TRY(const json* h, r.optional_object("header"));
  if (h) RSP_TRY_VOID(parse_request_header(*h));
  return {};
}

/// The response header; FunctionFailed when the function did not succeed.
Result<void> read_success_header(ObjectReader& r) {
  RSP_TRY(const json* hj, r.object("header"));
  RSP_TRY(ResponseHeader h, parse_response_header(*hj));
  if (h.succeeded()) return {};
  MessageError e;
  e.kind = ErrorKind::FunctionFailed;
  e.field = "header";
  e.detail = std::string(to_string(h.function_execution_status.status));
  if (const auto& d = h.function_execution_status.status_code_data) {
    e.subject_code = d->subject_code;
    e.reason_code = d->reason_code;
    if (d->message) e.detail += ": " + d->message->substr(0, 200);
  }
  return unexpected(std::move(e));
}

/// A body: a JSON object with `header` read by `read_header`, the fields
/// `read_fields` takes, and nothing else.
template <class T, class ReadFields>
Result<T> decode_body(std::string_view body, Result<void> (*read_header)(ObjectReader&), ReadFields read_fields) {
  RSP_TRY(json j, parse_body(body));
  ObjectReader r(j);
  RSP_TRY_VOID(read_header(r));
  T out;
  RSP_TRY_VOID(read_fields(r, out));
  RSP_TRY_VOID(r.finish());
  return out;
}

/// A request: its header is optional (§6.5.1).
template <class T, class ReadFields>
Result<T> decode_request_body(std::string_view body, ReadFields read_fields) {
  return decode_body<T>(body, read_optional_request_header, read_fields);
}

/// A response: its header must say the function succeeded.
template <class T, class ReadFields>
Result<T> decode_response_body(std::string_view body, ReadFields read_fields) {
  return decode_body<T>(body, read_success_header, read_fields);
}

json success_header() { return to_json(ResponseHeader::success()); }

/// One member of a response written as text: a string that needs no JSON
/// escaping (base64, hex), or JSON text already (`raw`).
struct TextMember {
  std::string_view name;
  std::string value;
  bool raw = false;
};

/// The object of `members` as dump() writes it (members by name, as
/// nlohmann::json keeps them; no blanks), without building the object: the
/// certificates and signatures of a response went through the serializer
/// character by character, and none of them needs an escape.
std::string object_text(std::vector<TextMember> members) {
  std::sort(members.begin(), members.end(), [](const TextMember& a, const TextMember& b) { return a.name < b.name; });
  std::size_t size = 2;
  for (const auto& m : members) size += m.name.size() + m.value.size() + 6;
  std::string out;
  out.reserve(size);
  out += '{';
  for (const auto& m : members) {
    if (out.size() > 1) out += ',';
    out += '"';
    out += m.name;
    out += "\":";
    if (!m.raw) out += '"';
    out += m.value;
    if (!m.raw) out += '"';
  }
  out += '}';
  return out;
}

/// The success header as JSON text, written once.
const std::string& success_header_text() {
  static const std::string text = dump(success_header());
  return text;
}

}  // namespace

std::string_view path(Function f) { return kEs9Functions[static_cast<std::size_t>(f)].path; }
std::string_view name(Function f) { return path(f).substr(kEs9Prefix.size()); }

std::optional<Function> function_from_path(std::string_view p) {
  for (std::size_t i = 0; i < std::size(kEs9Functions); ++i) {
    if (kEs9Functions[i].path == p) return static_cast<Function>(i);
  }
  return std::nullopt;
}

// ---- requests -----------------------------------------------------------------

std::string encode_request(const sgp::InitiateAuthenticationRequest& r) {
  return dump(json{{"euiccChallenge", b64(r.euiccChallenge)},
                   {"euiccInfo1", b64_der(r.euiccInfo1)},
                   {"smdpAddress", r.smdpAddress}});
}

std::string encode_request(const sgp::AuthenticateClientRequest& r) {
  return dump(json{{"transactionId", to_hex(r.transactionId)},
                   {"authenticateServerResponse", b64_der(r.authenticateServerResponse)}});
}

std::string encode_request(const sgp::GetBoundProfilePackageRequest& r) {
  return dump(json{{"transactionId", to_hex(r.transactionId)},
                   {"prepareDownloadResponse", b64_der(r.prepareDownloadResponse)}});
}

std::string encode_request(const sgp::HandleNotification& r) {
  return dump(json{{"pendingNotification", b64_der(r.pendingNotification)}});
}

std::string encode_request(const sgp::CancelSessionRequestEs9& r) {
  return dump(json{{"transactionId", to_hex(r.transactionId)},
                   {"cancelSessionResponse", b64_der(r.cancelSessionResponse)}});
}

Result<sgp::InitiateAuthenticationRequest> decode_initiate_authentication_request(std::string_view body) {
  return decode_request_body<sgp::InitiateAuthenticationRequest>(body, [](ObjectReader& r, auto& out) -> Result<void> {
    RSP_TRY(out.euiccChallenge, read_base64(r, "euiccChallenge"));
    if (out.euiccChallenge.size() != 16) {
      return fail(ErrorKind::BadValue, "euiccChallenge", "must be 16 octets");
    }
    RSP_TRY(out.euiccInfo1, read_der<sgp::EUICCInfo1>(r, "euiccInfo1"));
    RSP_TRY(out.smdpAddress, r.string("smdpAddress"));
    return {};
  });
}

Result<sgp::AuthenticateClientRequest> decode_authenticate_client_request(std::string_view body) {
  return decode_request_body<sgp::AuthenticateClientRequest>(body, [](ObjectReader& r, auto& out) -> Result<void> {
    RSP_TRY(out.transactionId, read_transaction_id(r));
    RSP_TRY(out.authenticateServerResponse,
            read_der<sgp::AuthenticateServerResponse>(r, "authenticateServerResponse"));
    return {};
  });
}

Result<sgp::GetBoundProfilePackageRequest> decode_get_bound_profile_package_request(std::string_view body) {
  return decode_request_body<sgp::GetBoundProfilePackageRequest>(body, [](ObjectReader& r, auto& out) -> Result<void> {
    RSP_TRY(out.transactionId, read_transaction_id(r));
    RSP_TRY(out.prepareDownloadResponse, read_der<sgp::PrepareDownloadResponse>(r, "prepareDownloadResponse"));
    return {};
  });
}

Result<sgp::HandleNotification> decode_handle_notification_request(std::string_view body) {
  return decode_request_body<sgp::HandleNotification>(body, [](ObjectReader& r, auto& out) -> Result<void> {
    RSP_TRY(out.pendingNotification, read_der<sgp::PendingNotification>(r, "pendingNotification"));
    return {};
  });
}

Result<sgp::CancelSessionRequestEs9> decode_cancel_session_request(std::string_view body) {
  return decode_request_body<sgp::CancelSessionRequestEs9>(body, [](ObjectReader& r, auto& out) -> Result<void> {
    RSP_TRY(out.transactionId, read_transaction_id(r));
    RSP_TRY(out.cancelSessionResponse, read_der<sgp::CancelSessionResponse>(r, "cancelSessionResponse"));
    return {};
  });
}

// ---- responses ----------------------------------------------------------------

std::string encode_response(const sgp::InitiateAuthenticationOkEs9& r) {
  return object_text({{"header", success_header_text(), true},
                      {"transactionId", to_hex(r.transactionId)},
                      {"serverSigned1", b64_der(r.serverSigned1)},
                      {"serverSignature1", b64_tagged(kSignatureTag, r.serverSignature1)},
                      {"euiccCiPKIdToBeUsed", b64_tagged(kOctetStringTag, r.euiccCiPKIdToBeUsed)},
                      {"serverCertificate", b64(r.serverCertificate.der)}});
}

std::string encode_response(const sgp::AuthenticateClientOk& r) {
  const auto& pd = r.prepareDownloadRequest;
  return object_text({{"header", success_header_text(), true},
                      {"transactionId", to_hex(r.transactionId)},
                      {"profileMetadata", b64_der(r.profileMetaData)},
                      {"smdpSigned2", b64_der(pd.smdpSigned2)},
                      {"smdpSignature2", b64_tagged(kSignatureTag, pd.smdpSignature2)},
                      {"smdpCertificate", b64(pd.smdpCertificate.der)}});
}

std::string encode_response(const sgp::GetBoundProfilePackageOk& r) {
  // The package is the bulk of the body and its base64 never needs JSON
  // escaping: it is appended as it is instead of going through the
  // serializer character by character.
  std::string out = dump(json{{"header", success_header()}, {"transactionId", to_hex(r.transactionId)}});
  const std::string package = b64_der(r.boundProfilePackage);
  out.pop_back();  // the closing brace
  out.reserve(out.size() + package.size() + 32);
  out += R"(,"boundProfilePackage":")";
  out += package;
  out += "\"}";
  return out;
}

std::string encode_header_only_response(const ResponseHeader& header) {
  return dump(json{{"header", to_json(header)}});
}

Result<sgp::InitiateAuthenticationOkEs9> decode_initiate_authentication_response(std::string_view body) {
  return decode_response_body<sgp::InitiateAuthenticationOkEs9>(body, [](ObjectReader& r, auto& out) -> Result<void> {
    RSP_TRY(out.transactionId, read_transaction_id(r));
    RSP_TRY(out.serverSigned1, read_der<sgp::ServerSigned1>(r, "serverSigned1"));
    RSP_TRY(out.serverSignature1, read_tagged(r, "serverSignature1", kSignatureTag));
    RSP_TRY(out.euiccCiPKIdToBeUsed, read_tagged(r, "euiccCiPKIdToBeUsed", kOctetStringTag));
    RSP_TRY(out.serverCertificate, read_certificate(r, "serverCertificate"));
    return {};
  });
}

Result<sgp::AuthenticateClientOk> decode_authenticate_client_response(std::string_view body) {
  return decode_response_body<sgp::AuthenticateClientOk>(body, [](ObjectReader& r, auto& out) -> Result<void> {
    RSP_TRY(out.transactionId, read_transaction_id(r));
    RSP_TRY(out.profileMetaData, read_der<sgp::StoreMetadataRequest>(r, "profileMetadata"));
    auto& pd = out.prepareDownloadRequest;
    RSP_TRY(pd.smdpSigned2, read_der<sgp::SmdpSigned2>(r, "smdpSigned2"));
    RSP_TRY(pd.smdpSignature2, read_tagged(r, "smdpSignature2", kSignatureTag));
    RSP_TRY(pd.smdpCertificate, read_certificate(r, "smdpCertificate"));
    return {};
  });
}

Result<sgp::GetBoundProfilePackageOk> decode_get_bound_profile_package_response(std::string_view body) {
  return decode_response_body<sgp::GetBoundProfilePackageOk>(body, [](ObjectReader& r, auto& out) -> Result<void> {
    RSP_TRY(out.transactionId, read_transaction_id(r));
    RSP_TRY(out.boundProfilePackage, read_der<sgp::BoundProfilePackage>(r, "boundProfilePackage"));
    return {};
  });
}

Result<void> decode_cancel_session_response(std::string_view body) {
  struct Nothing {};
  RSP_TRY_VOID(decode_response_body<Nothing>(body, [](ObjectReader&, Nothing&) -> Result<void> { return {}; }));
  return {};
}

Result<ResponseHeader> decode_response_header(std::string_view body) {
  RSP_TRY(json j, parse_body(body));
  ObjectReader r(j);
  RSP_TRY(const json* hj, r.object("header"));
  return parse_response_header(*hj);
}

}  // namespace rsp::messages::es9
