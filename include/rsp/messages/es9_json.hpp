#pragma once
/// ES9+ over HTTPS/JSON (SGP.22 §6.5.2): the five functions' request and
/// response bodies <-> the generated ASN.1 types of rsp::asn1::sgp22.
///
/// Encodings (SGP.22 §6.5.2.1 - §6.5.2.5):
///  - transactionId: hex string of the TransactionId octets (upper case on
///    output; either case accepted on input, 1..16 octets);
///  - euiccChallenge: base64 of the 16 challenge octets;
///  - every other binary field: base64 (RFC 4648 with padding) of the complete
///    DER element, tag included: euiccInfo1 'BF20', serverSigned1 '30',
///    serverSignature1 '5F37', euiccCiPKIdToBeUsed '04', serverCertificate '30',
///    authenticateServerResponse 'BF38', profileMetadata 'BF25', smdpSigned2
///    '30', smdpSignature2 '5F37', smdpCertificate '30', prepareDownloadResponse
///    'BF21', boundProfilePackage 'BF36', pendingNotification 'BF37' or '30',
///    cancelSessionResponse 'BF41'.
/// Requests carry no header (an optional request header is accepted and
/// checked); responses carry the §6.5.1 response header. handleNotification
/// has no response body (HTTP 204).
///
/// Decoders are strict: unknown or missing members, wrong JSON types, bad
/// base64/hex and anything but one DER element of the expected type give a
/// MessageError with SGP.22 code 1.2/2.1 (2.2 for a missing member). A
/// response whose status is Failed/Expired gives ErrorKind::FunctionFailed
/// carrying the server's subject/reason codes. Nothing throws.

#include <optional>
#include <string>
#include <string_view>

#include "rsp/asn1/sgp22.hpp"
#include "rsp/messages/error.hpp"
#include "rsp/messages/functions.hpp"
#include "rsp/messages/header.hpp"

namespace rsp::messages::es9 {

enum class Function {
  InitiateAuthentication,
  AuthenticateClient,
  GetBoundProfilePackage,
  HandleNotification,
  CancelSession,
};

/// "/gsma/rsp2/es9plus/initiateAuthentication" etc. (messages::kEs9Functions).
std::string_view path(Function f);
std::optional<Function> function_from_path(std::string_view path);
std::string_view name(Function f);

/// Largest JSON body accepted by the decoders (a BPP of a large profile fits).
inline constexpr std::size_t kMaxBodySize = 4 * 1024 * 1024;

namespace sgp = ::rsp::asn1::sgp22;

// --- requests (the LPA encodes, the SM-DP+ decodes) ------------------------
std::string encode_request(const sgp::InitiateAuthenticationRequest& r);
std::string encode_request(const sgp::AuthenticateClientRequest& r);
std::string encode_request(const sgp::GetBoundProfilePackageRequest& r);
std::string encode_request(const sgp::HandleNotification& r);
std::string encode_request(const sgp::CancelSessionRequestEs9& r);

Result<sgp::InitiateAuthenticationRequest> decode_initiate_authentication_request(std::string_view body);
Result<sgp::AuthenticateClientRequest> decode_authenticate_client_request(std::string_view body);
Result<sgp::GetBoundProfilePackageRequest> decode_get_bound_profile_package_request(std::string_view body);
Result<sgp::HandleNotification> decode_handle_notification_request(std::string_view body);
Result<sgp::CancelSessionRequestEs9> decode_cancel_session_request(std::string_view body);

// --- responses (the SM-DP+ encodes, the LPA decodes) -----------------------
std::string encode_response(const sgp::InitiateAuthenticationOkEs9& r);
std::string encode_response(const sgp::AuthenticateClientOk& r);
std::string encode_response(const sgp::GetBoundProfilePackageOk& r);
/// A body of only the header: cancelSession's success, or any function's
/// failure (ResponseHeader::failed(...)).
std::string encode_header_only_response(const ResponseHeader& header);

Result<sgp::InitiateAuthenticationOkEs9> decode_initiate_authentication_response(std::string_view body);
Result<sgp::AuthenticateClientOk> decode_authenticate_client_response(std::string_view body);
Result<sgp::GetBoundProfilePackageOk> decode_get_bound_profile_package_response(std::string_view body);
Result<void> decode_cancel_session_response(std::string_view body);
/// Any function's body reduced to its header (for failures of any function).
Result<ResponseHeader> decode_response_header(std::string_view body);

}  // namespace rsp::messages::es9
