#pragma once
/// ES11 (LPA -> SM-DS, SGP.22 v2.2.2 §5.8) in the SGP.22 JSON binding (§6.5):
/// the same mutual authentication as ES9+, so InitiateAuthentication carries
/// the eUICC's challenge and euiccInfo1 with the SM-DS address (`smdsAddress`
/// where ES9+ has `smdpAddress`), its answer and the AuthenticateClient
/// request are ES9+'s, and AuthenticateClient answers the eUICC's event
/// records (EventEntries: eventId, rspServerAddress, §4.? / RSPDefinitions).
///
/// Not confirmed against the spec's JSON text: that AuthenticateClient's
/// answer lists `eventEntries` as an array of {"eventId", "rspServerAddress"}
/// objects (the ASN.1 binding's AuthenticateClientOkEs11 is what we follow).

#include <string>
#include <string_view>

#include "rsp/asn1/sgp22.hpp"
#include "rsp/messages/error.hpp"

namespace rsp::messages::es11 {

namespace sgp = asn1::sgp22;

inline constexpr std::string_view kInitiateAuthenticationPath = "/gsma/rsp2/es11/initiateAuthentication";
inline constexpr std::string_view kAuthenticateClientPath = "/gsma/rsp2/es11/authenticateClient";

/// InitiateAuthentication: the ASN.1 type's smdpAddress holds the SM-DS address.
std::string encode_initiate_authentication_request(const sgp::InitiateAuthenticationRequest& r);
Result<sgp::InitiateAuthenticationRequest> decode_initiate_authentication_request(std::string_view body);

/// AuthenticateClient's answer with the event records, oldest first.
std::string encode_authenticate_client_response(const sgp::AuthenticateClientOkEs11& r);
Result<sgp::AuthenticateClientOkEs11> decode_authenticate_client_response(std::string_view body);

}  // namespace rsp::messages::es11
