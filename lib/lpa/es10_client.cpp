#include "rsp/lpa/es10_client.hpp"

#include "rsp/lpa/download.hpp"

namespace rsp::lpa {

namespace sg = asn1::sgp22;

expected<sg::EuiccConfiguredAddressesResponse, Es10Error> Es10Client::get_euicc_configured_addresses() {
  return call<sg::EuiccConfiguredAddressesResponse>(sg::EuiccConfiguredAddressesRequest{});
}

expected<sg::SetDefaultDpAddressResponse, Es10Error> Es10Client::set_default_dp_address(
    const sg::SetDefaultDpAddressRequest& request) {
  return call<sg::SetDefaultDpAddressResponse>(request);
}

expected<sg::PrepareDownloadResponse, Es10Error> Es10Client::prepare_download(const sg::PrepareDownloadRequest& request) {
  return call<sg::PrepareDownloadResponse>(request);
}

expected<sg::ProfileInstallationResult, Es10Error> Es10Client::load_bound_profile_package(
    const sg::BoundProfilePackage& bpp) {
  auto segments = bpp_segments(asn1::encode(bpp));
  if (!segments) return unexpected(Es10Error{Es10Error::Kind::Request, 0, "BPP: " + segments.error()});
  return load_bound_profile_package(*segments);
}

// SGP.22 §5.7.6: each segment is one STORE DATA sequence; the eUICC answers
// only after the last one, or earlier with the result of a failed command.
expected<sg::ProfileInstallationResult, Es10Error> Es10Client::load_bound_profile_package(
    const std::vector<Bytes>& segments) {
  for (const Bytes& segment : segments) {
    auto r = channel_.send(segment);
    if (!r) return unexpected(std::move(r).error());
    if (!r->empty()) return decode_answer<sg::ProfileInstallationResult>(std::move(*r));
  }
  return unexpected(Es10Error{Es10Error::Kind::NoAnswer, 0, "no ProfileInstallationResult"});
}

expected<sg::GetEuiccChallengeResponse, Es10Error> Es10Client::get_euicc_challenge() {
  return call<sg::GetEuiccChallengeResponse>(sg::GetEuiccChallengeRequest{});
}

expected<sg::EUICCInfo1, Es10Error> Es10Client::get_euicc_info1() {
  return call<sg::EUICCInfo1>(sg::GetEuiccInfo1Request{});
}

expected<sg::EUICCInfo2, Es10Error> Es10Client::get_euicc_info2() {
  return call<sg::EUICCInfo2>(sg::GetEuiccInfo2Request{});
}

expected<sg::ListNotificationResponse, Es10Error> Es10Client::list_notification(
    const sg::ListNotificationRequest& request) {
  return call<sg::ListNotificationResponse>(request);
}

expected<sg::RetrieveNotificationsListResponse, Es10Error> Es10Client::retrieve_notifications_list(
    const sg::RetrieveNotificationsListRequest& request) {
  return call<sg::RetrieveNotificationsListResponse>(request);
}

expected<sg::NotificationSentResponse, Es10Error> Es10Client::remove_notification_from_list(std::int64_t seq_number) {
  return call<sg::NotificationSentResponse>(sg::NotificationSentRequest{seq_number});
}

expected<sg::LoadCRLResponse, Es10Error> Es10Client::load_crl(const sg::LoadCRLRequest& request) {
  return call<sg::LoadCRLResponse>(request);
}

expected<sg::AuthenticateServerResponse, Es10Error> Es10Client::authenticate_server(
    const sg::AuthenticateServerRequest& request) {
  return call<sg::AuthenticateServerResponse>(request);
}

expected<sg::CancelSessionResponse, Es10Error> Es10Client::cancel_session(const sg::CancelSessionRequest& request) {
  return call<sg::CancelSessionResponse>(request);
}

expected<sg::ProfileInfoListResponse, Es10Error> Es10Client::get_profiles_info(const sg::ProfileInfoListRequest& request) {
  return call<sg::ProfileInfoListResponse>(request);
}

expected<sg::EnableProfileResponse, Es10Error> Es10Client::enable_profile(const sg::EnableProfileRequest& request) {
  return call<sg::EnableProfileResponse>(request);
}

expected<sg::DisableProfileResponse, Es10Error> Es10Client::disable_profile(const sg::DisableProfileRequest& request) {
  return call<sg::DisableProfileResponse>(request);
}

expected<sg::DeleteProfileResponse, Es10Error> Es10Client::delete_profile(const sg::DeleteProfileRequest& request) {
  return call<sg::DeleteProfileResponse>(request);
}

expected<sg::EuiccMemoryResetResponse, Es10Error> Es10Client::euicc_memory_reset(
    const sg::EuiccMemoryResetRequest& request) {
  return call<sg::EuiccMemoryResetResponse>(request);
}

expected<sg::GetEuiccDataResponse, Es10Error> Es10Client::get_eid() {
  sg::GetEuiccDataRequest request;
  request.tagList = Bytes{0x5A};
  return call<sg::GetEuiccDataResponse>(request);
}

expected<sg::SetNicknameResponse, Es10Error> Es10Client::set_nickname(const sg::SetNicknameRequest& request) {
  return call<sg::SetNicknameResponse>(request);
}

expected<sg::GetRatResponse, Es10Error> Es10Client::get_rat() { return call<sg::GetRatResponse>(sg::GetRatRequest{}); }

}  // namespace rsp::lpa
