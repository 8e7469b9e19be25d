// ES7 and the SM-SR change's ES4 functions in the JSON binding: strict
// decoding, what each member means: es7.hpp.

#include "rsp/m2m/es7.hpp"

#include <limits>

#include "rsp/m2m/eis_json.hpp"
#include "rsp/m2m/es8.hpp"
#include "strict_json.hpp"

namespace rsp::m2m::es7 {

using nlohmann::json;

namespace {

using detail::kMaxId;
using Body = detail::Body<Error>;

unexpected<Error> invalid(std::string_view name, std::string_view what) { return detail::invalid<Error>(name, what); }

expected<std::string, Error> eid_of(Body& b) { return b.text("eid", true, 32, detail::is_eid, "32 digits"); }

expected<Request, Error> decode(Function f, Body& b) {
  switch (f) {
    case Function::AuthenticateSmsr: {
      AuthenticateSmsr r;
      RSP_TRY(r.eid, eid_of(b));
      RSP_TRY(r.ecasd_certificate, b.hex("ecasdCertificate", 1, kMaxCertificate));
      return Request(std::move(r));
    }
    case Function::CreateAdditionalKeyset: {
      CreateAdditionalKeyset r;
      RSP_TRY(r.eid, eid_of(b));
      RSP_TRY(auto v, b.integer("keyVersion", kMinKeyVersion, kMaxKeyVersion));
      r.key_version = static_cast<int>(v);
      RSP_TRY(r.random_challenge, b.hex_opt("randomChallenge", es8::kRandomChallengeSize, es8::kRandomChallengeSize));
      return Request(std::move(r));
    }
    case Function::HandoverEuicc: {
      HandoverEuicc r;
      // The current SM-SR's keys never travel: they are deleted on the card.
      RSP_TRY(r.eis, detail::keyless_eis(b, "eis"));
      RSP_TRY(r.receipt, b.hex("receipt", 1, 64));
      if (!es8::decode_receipt(r.receipt)) return invalid("receipt", "'85' DR and '86' receipt");
      return Request(std::move(r));
    }
    case Function::PrepareSmsrChange: {
      PrepareSmsrChange r;
      RSP_TRY(r.eid, eid_of(b));
      RSP_TRY(r.current_smsr_id, b.text("currentSmsrId", true, kMaxId));
      return Request(std::move(r));
    }
    case Function::SmsrChange: {
      SmsrChange r;
      RSP_TRY(r.eid, eid_of(b));
      RSP_TRY(r.target_smsr_id, b.text("targetSmsrId", true, kMaxId));
      RSP_TRY(r.validity, b.validity());
      return Request(std::move(r));
    }
  }
  return invalid("function", "an ES7 function");
}

}  // namespace

std::optional<Function> function_named(std::string_view name) {
  for (std::size_t i = 0; i < std::size(kFunctions); ++i)
    if (kFunctions[i].name == name) return static_cast<Function>(i);
  return std::nullopt;
}

std::string encode_request(const Request& request, std::string_view call_id) {
  json j = std::visit(
      [](const auto& r) -> json {
        using T = std::decay_t<decltype(r)>;
        if constexpr (std::is_same_v<T, AuthenticateSmsr>) {
          return json{{"eid", r.eid}, {"ecasdCertificate", to_hex(r.ecasd_certificate)}};
        } else if constexpr (std::is_same_v<T, CreateAdditionalKeyset>) {
          json k{{"eid", r.eid}, {"keyVersion", r.key_version}};
          if (r.random_challenge) k["randomChallenge"] = to_hex(*r.random_challenge);
          return k;
        } else if constexpr (std::is_same_v<T, HandoverEuicc>) {
          return json{{"eis", eis_to_json(r.eis, Keys::Omit)}, {"receipt", to_hex(r.receipt)}};
        } else if constexpr (std::is_same_v<T, PrepareSmsrChange>) {
          return json{{"eid", r.eid}, {"currentSmsrId", r.current_smsr_id}};
        } else {
          json o{{"eid", r.eid}, {"targetSmsrId", r.target_smsr_id}};
          if (r.validity) o["validityPeriod"] = *r.validity;
          return o;
        }
      },
      request);
  if (!call_id.empty()) j["functionCallIdentifier"] = call_id;
  return j.dump();
}

expected<Request, Error> decode_request(Function f, std::string_view body) {
  return detail::read_request<Error>(body, [f](Body& b, const json&) { return decode(f, b); });
}

std::string encode_response(const Response& r) {
  json j{{"functionExecutionStatus", detail::execution_status_json(r.status, r.subject_code, r.reason_code)}};
  if (!r.smsr_certificate.empty()) j["smsrCertificate"] = to_hex(r.smsr_certificate);
  if (!r.key_agreement.empty()) j["keyAgreement"] = to_hex(r.key_agreement);
  if (r.operation_id != 0) j["operationId"] = r.operation_id;
  return j.dump();
}

expected<Response, Error> decode_response(std::string_view body) {
  const json j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return unexpected(Error{Error::Kind::Invalid, "the body is not a JSON object"});
  Body b(j);
  Response r;
  RSP_TRY_VOID(detail::execution_status(b, r.status, r.subject_code, r.reason_code));
  if (j.contains("smsrCertificate")) {
    RSP_TRY(r.smsr_certificate, b.hex("smsrCertificate", 1, kMaxCertificate));
  }
  if (j.contains("keyAgreement")) {
    RSP_TRY(r.key_agreement, b.hex("keyAgreement", 1, es8::kMaxMessage));
    if (!es8::decode_key_agreement_message(r.key_agreement)) return invalid("keyAgreement", "DGI '3A02', '7F49' and '5F37'");
  }
  if (j.contains("operationId")) {
    RSP_TRY(r.operation_id, b.integer("operationId", 1, std::numeric_limits<std::int64_t>::max()));
  }
  RSP_TRY_VOID(b.done());
  return r;
}

std::string additional_psk_identity(std::string_view eid, int key_version) {
  return "eUICC-" + std::string(eid) + "-kv" + std::to_string(key_version);
}

}  // namespace rsp::m2m::es7
