#include "rsp/smdpp/es9_der.hpp"

#include "rsp/asn1/runtime.hpp"

namespace rsp::smdpp {

namespace sg = asn1::sgp22;

namespace {

/// SGP.22 ASN.1 error enumerations for the subject/reason pairs the core uses.
std::int64_t auth_client_error(const SmdppError& e) {
  using V = sg::AuthenticateClientResponseEs9::authenticateClientError_values;
  if (is(e, codes::kEumCertInvalid)) return V::eumCertificateInvalid;
  if (is(e, codes::kEumCertExpired)) return V::eumCertificateExpired;
  if (is(e, codes::kEuiccCertInvalid)) return V::euiccCertificateInvalid;
  if (is(e, codes::kEuiccCertExpired)) return V::euiccCertificateExpired;
  if (is(e, codes::kEuiccSignatureInvalid)) return V::euiccSignatureInvalid;
  if (is(e, codes::kMatchingIdRefused)) return V::matchingIdRefused;
  if (is(e, codes::kEidMismatch)) return V::eidMismatch;
  if (is(e, codes::kProfileNotReleased)) return V::noEligibleProfile;
  if (is(e, codes::kUnknownCiPk)) return V::ciPKUnknown;
  if (is(e, codes::kUnknownTransactionId)) return V::invalidTransactionId;
  return V::undefinedError;
}

std::int64_t bpp_error(const SmdppError& e) {
  using V = sg::GetBoundProfilePackageResponse::getBoundProfilePackageError_values;
  if (is(e, codes::kEuiccSignatureInvalid)) return V::euiccSignatureInvalid;
  if (is(e, codes::kConfirmationCodeMissing)) return V::confirmationCodeMissing;
  if (is(e, codes::kConfirmationCodeRefused)) return V::confirmationCodeRefused;
  if (is(e, codes::kConfirmationCodeRetriesExceeded)) return V::confirmationCodeRetriesExceeded;
  if (is(e, codes::kUnknownTransactionId)) return V::invalidTransactionId;
  return V::undefinedError;
}

std::int64_t initiate_error(const SmdppError& e) {
  using V = sg::InitiateAuthenticationResponse::initiateAuthenticationError_values;
  if (is(e, codes::kInvalidSmdpAddress)) return V::invalidDpAddress;
  if (is(e, codes::kSvnNotSupported)) return V::euiccVersionNotSupportedByDp;
  return V::ciPKNotSupported;
}

std::int64_t cancel_error(const SmdppError& e) {
  using V = sg::CancelSessionResponseEs9::cancelSessionError_values;
  if (is(e, codes::kUnknownTransactionId)) return V::invalidTransactionId;
  if (is(e, codes::kEuiccSignatureInvalid)) return V::euiccSignatureInvalid;
  return V::undefinedError;
}

}  // namespace

SmdppResult<sg::RemoteProfileProvisioningRequest> decode_es9_request(ByteView der) {
  if (der.size() > kMaxEs9RequestSize) return smdpp_error(codes::kInvalidRequest, "request too large");
  asn1::DecodeOptions opts;
  opts.max_memory = std::size_t{1} << 20;
  auto req = asn1::decode<sg::RemoteProfileProvisioningRequest>(der, opts);
  if (!req) return smdpp_error(codes::kInvalidRequest, "request: " + req.error().to_string());
  if (req->unknown()) return smdpp_error(codes::kInvalidRequest, "unknown request");
  return std::move(*req);
}

SmdppResult<Es9DerResult> handle_es9_der(Server& server, ByteView der) {
  RSP_TRY(auto req, decode_es9_request(der));
  Es9DerResult out;
  sg::RemoteProfileProvisioningResponse resp;
  if (const auto* r = req.initiateAuthenticationRequest()) {
    auto& x = resp.alternative.emplace<0>();
    if (auto ok = server.initiate_authentication(*r)) x.set_initiateAuthenticationOk(std::move(*ok));
    else { x.set_initiateAuthenticationError(initiate_error(ok.error())); out.error = ok.error(); }
  } else if (const auto* r2 = req.authenticateClientRequest()) {
    auto& x = resp.alternative.emplace<1>();
    if (auto ok = server.authenticate_client(*r2)) x.set_authenticateClientOk(std::move(*ok));
    else { x.set_authenticateClientError(auth_client_error(ok.error())); out.error = ok.error(); }
  } else if (const auto* r3 = req.getBoundProfilePackageRequest()) {
    auto& x = resp.alternative.emplace<2>();
    if (auto ok = server.get_bound_profile_package(*r3)) x.set_getBoundProfilePackageOk(std::move(*ok));
    else { x.set_getBoundProfilePackageError(bpp_error(ok.error())); out.error = ok.error(); }
  } else if (const auto* r4 = req.cancelSessionRequestEs9()) {
    auto& x = resp.alternative.emplace<3>();
    if (auto ok = server.cancel_session(*r4)) x.set_cancelSessionOk();
    else { x.set_cancelSessionError(cancel_error(ok.error())); out.error = ok.error(); }
  } else if (const auto* r5 = req.handleNotification()) {
    if (auto ok = server.handle_notification(r5->pendingNotification); !ok) out.error = ok.error();
    return out;
  }
  out.response = asn1::encode(resp);
  return out;
}

}  // namespace rsp::smdpp
