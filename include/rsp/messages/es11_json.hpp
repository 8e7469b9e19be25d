#pragma once
/// ES11 (LPA -> SM-DS, SGP.22 v2.2.2 §5.8) in the SGP.22 JSON binding (§6.5):
/// the same mutual authentication as ES9+, so InitiateAuthentication carries
/// the eUICC's challenge and euiccInfo1 with the SM-DS address (`smdsAddress`
/// where ES9+ has `smdpAddress`), its answer and the AuthenticateClient
/// request are ES9+'s, and AuthenticateClient answers the eUICC's event
/// records (RSPDefinitions' AuthenticateClientOkEs11: EventEntries of eventId
/// and rspServerAddress).
///
/// Checked against deployed LPAs, not against the spec's JSON text (which
/// could not be reached): an SGP.22 v2.2.2 LPA SDK (Eastcompeace's, as
/// published) posts `euiccChallenge`, `euiccInfo1` and `smdsAddress` to
/// /gsma/rsp2/es11/initiateAuthentication and reads `transactionId` and
/// `eventEntries`, an array of {"eventId", "rspServerAddress"} objects, from
/// /gsma/rsp2/es11/authenticateClient: the names used here. lpac asks an
/// SM-DS on the ES9+ paths with ES9+'s `smdpAddress` instead, and reads the
/// same `eventEntries`; the SM-DS answers there too (smds/http_service.cpp).

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
