#pragma once
/// ES7 (SM-SR ↔ SM-SR, SGP.02 §5.7) and the two ES4 functions that start
/// an SM-SR change (SGP.02 §3.8 "SM-SR Change" in v3.1's numbering, §3.7 in
/// the issue's), in this project's JSON binding, the one both SM-SRs read.
///
/// The change as this project runs it:
///
///  1. ES4.PrepareSMSRChange (the MNO → the NEW SM-SR): the new SM-SR will
///     take eUICC `eid` from SM-SR `currentSmsrId`, and from no other.
///  2. ES4.SMSRChange (the MNO → the CURRENT SM-SR): hand eUICC `eid` over
///     to SM-SR `targetSmsrId`. The current SM-SR answers at once (an
///     operation, as the other asynchronous ES4 functions) and then:
///  3. ES7.AuthenticateSMSR (current → new): the new SM-SR checks the ECASD
///     certificate (EUM chain to the CI, the EID) and answers with its
///     certificate CERT.SR.ECDSA, which the current SM-SR stores in the
///     ISD-R (STORE DATA DGI '3A01' { '7F21' }); the card checks it against
///     its CI and answers its random challenge ('85' RC, m2m/es8.hpp).
///  4. ES7.CreateAdditionalKeyset (current → new) with that RC: the new
///     SM-SR makes an ephemeral key pair and answers with the key-agreement
///     data signed over the RC (ECKA scenario #3, m2m/es8.hpp with the
///     ISD-R's key usage), which the current SM-SR stores in the ISD-R (the
///     same STORE DATA sequence, P2 counting on); the card answers DR and
///     receipt.
///  5. ES7.HandoverEUICC (current → new): the EIS (without the current
///     SM-SR's keys: those are deleted on the card next) and the card's DR
///     and receipt; the new SM-SR verifies the receipt, derives the ISD-R's
///     new SCP80 key set and SCP81 PSK and registers the EIS as its own.
///  6. The current SM-SR deletes its key sets on the card and its EIS row
///     (the audit trail keeps the change).
///
/// NOT YET CHECKED AGAINST THE SGP.02 TEXT (no copy was reachable here):
/// in SGP.02 as we recall it, the NEW SM-SR calls AuthenticateSMSR and
/// CreateAdditionalKeyset on the current one, which relays them to the
/// eUICC, and PrepareSMSRChange / SMSRChange go the other way round; the
/// element names and paths below are this binding's (camelCase, as ES3's).
/// The trust between the two SM-SRs is their mutual TLS (the client
/// certificate names the calling SM-SR); the EIS travels only inside it.
///
/// Decoding is strict (input from the network): unknown members, wrong
/// types, values out of range are errors naming the member, never its value.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "rsp/common/bytes.hpp"
#include "rsp/common/expected.hpp"
#include "rsp/m2m/eis.hpp"
#include "rsp/m2m/es_functions.hpp"

namespace rsp::m2m::es7 {

enum class Function {
  AuthenticateSmsr,
  CreateAdditionalKeyset,
  HandoverEuicc,
  PrepareSmsrChange,  ///< ES4
  SmsrChange,         ///< ES4
};

/// In the order of Function.
inline constexpr FunctionPath kFunctions[] = {
    {"/gsma/m2m/es7/authenticateSMSR", "ES7.AuthenticateSMSR"},
    {"/gsma/m2m/es7/createAdditionalKeyset", "ES7.CreateAdditionalKeyset"},
    {"/gsma/m2m/es7/handoverEUICC", "ES7.HandoverEUICC"},
    {"/gsma/m2m/es4/prepareSMSRChange", "ES4.PrepareSMSRChange"},
    {"/gsma/m2m/es4/smsrChange", "ES4.SMSRChange"},
};
inline constexpr const FunctionPath& function(Function f) { return kFunctions[static_cast<int>(f)]; }
std::optional<Function> function_named(std::string_view name);

/// Largest certificate accepted (DER).
inline constexpr std::size_t kMaxCertificate = 4096;
/// The ISD-R's SCP80 key version numbers (ETSI TS 102 225 §5.1.2: KIc / KID
/// carry 4 bits of key version).
inline constexpr int kMinKeyVersion = 1;
inline constexpr int kMaxKeyVersion = 15;

/// §5.7 ES7.AuthenticateSMSR: `ecasd_certificate` is CERT.ECASD.ECKA as the
/// current SM-SR holds it in the EIS.
struct AuthenticateSmsr {
  std::string eid;
  Bytes ecasd_certificate;
  bool operator==(const AuthenticateSmsr&) const = default;
};
/// §5.7 ES7.CreateAdditionalKeyset: the key version of the new key sets
/// (SCP80 and SCP81, one number; not yet checked against the SGP.02 text)
/// and the ISD-R's random challenge ("randomChallenge", 16 bytes hex), its
/// answer to CERT.SR.ECDSA (m2m/es8.hpp), which the new SM-SR signs over;
/// absent when the card issued none. In SGP.02 (the new SM-SR calling the
/// current one, bagyenda/njiwa's ES7.wsdl) the RC is AuthenticateSMSR's
/// output RandomChallenge; in this binding's direction the current SM-SR
/// has it only after AuthenticateSMSR, so it travels here.
struct CreateAdditionalKeyset {
  std::string eid;
  int key_version = 2;
  std::optional<Bytes> random_challenge;
  bool operator==(const CreateAdditionalKeyset&) const = default;
};
/// §5.7 ES7.HandoverEUICC: the EIS (no keys) and the card's answer to the
/// key agreement ('85' DR || '86' receipt, m2m/es8.hpp).
struct HandoverEuicc {
  Eis eis;
  Bytes receipt;
  bool operator==(const HandoverEuicc&) const = default;
};
/// ES4.PrepareSMSRChange, to the new SM-SR.
struct PrepareSmsrChange {
  std::string eid;
  std::string current_smsr_id;
  bool operator==(const PrepareSmsrChange&) const = default;
};
/// ES4.SMSRChange, to the current SM-SR.
struct SmsrChange {
  std::string eid;
  std::string target_smsr_id;
  std::optional<std::int64_t> validity;
  bool operator==(const SmsrChange&) const = default;
};

/// In the order of Function.
using Request = std::variant<AuthenticateSmsr, CreateAdditionalKeyset, HandoverEuicc, PrepareSmsrChange, SmsrChange>;
inline Function function_of(const Request& r) { return static_cast<Function>(r.index()); }

struct Error {
  enum class Kind { Missing, Invalid };
  Kind kind = Kind::Invalid;
  std::string message;  ///< names the member, never quotes its value
};

/// The JSON body of `request`, with `call_id` as functionCallIdentifier when not empty.
std::string encode_request(const Request& request, std::string_view call_id = {});
/// Strict decoding of a request body of function `f`.
expected<Request, Error> decode_request(Function f, std::string_view body);

/// The synchronous answer of an ES7 function (and of the two ES4 ones):
/// the execution status and the function's outputs.
struct Response {
  std::string status;  ///< SGP.02 §5.1.6.1 status name
  std::string subject_code, reason_code;
  Bytes smsr_certificate;  ///< AuthenticateSMSR: CERT.SR.ECDSA (DER)
  Bytes key_agreement;     ///< CreateAdditionalKeyset: DGI '3A02' || '7F49' || '5F37'
  std::int64_t operation_id = 0;  ///< SMSRChange: the operation that runs the hand-over
  bool operator==(const Response&) const = default;
};
std::string encode_response(const Response& response);
expected<Response, Error> decode_response(std::string_view body);

/// The SCP81 PSK identity of the ISD-R's key set `key_version` for the
/// eUICC `eid` (both ends compute it; this project's choice, as
/// "eUICC-<eid>" is for the first one).
std::string additional_psk_identity(std::string_view eid, int key_version);

}  // namespace rsp::m2m::es7
