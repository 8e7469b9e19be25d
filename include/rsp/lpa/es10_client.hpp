#pragma once
/// The LPA's typed ES10 client (SGP.22 §5.7): every ES10a/b/c function as a
/// typed request and a typed result over an Es10Channel, encoded and decoded
/// with the generated SGP.22 codecs. The download, the notification delivery
/// and the LPA commands share it; none of them builds ES10 TLVs by hand.
///
///   Es10Client es10(channel);
///   auto eid = es10.get_eid();                  // GetEuiccDataResponse
///   auto list = es10.get_profiles_info({});     // ProfileInfoListResponse
///
/// A function fails (Es10Error) only when no typed answer came back: the
/// link failed, the card answered an error status word, or the answer did
/// not decode (Kind::Format). A refusal the eUICC expresses in its response
/// (a result code, an error CHOICE) is a successful call.

#include <cstdint>

#include "rsp/asn1/runtime.hpp"
#include "rsp/asn1/sgp22.hpp"
#include "rsp/common/bytes.hpp"
#include "rsp/common/expected.hpp"
#include "rsp/lpa/es10_channel.hpp"

namespace rsp::lpa {

class Es10Client {
 public:
  /// `channel` must outlive the client.
  explicit Es10Client(Es10Channel& channel) : channel_(channel) {}

  // --- ES10a (§5.7.3, §5.7.4) ---
  expected<asn1::sgp22::EuiccConfiguredAddressesResponse, Es10Error> get_euicc_configured_addresses();
  expected<asn1::sgp22::SetDefaultDpAddressResponse, Es10Error> set_default_dp_address(
      const asn1::sgp22::SetDefaultDpAddressRequest& request);

  // --- ES10b (§5.7.5-§5.7.14) ---
  expected<asn1::sgp22::PrepareDownloadResponse, Es10Error> prepare_download(
      const asn1::sgp22::PrepareDownloadRequest& request);
  /// Sends the BPP in the segments of §2.5.5 (bpp_segments) and returns the
  /// ProfileInstallationResult the eUICC answers at the end (or early, on an
  /// error). Kind::NoAnswer when every segment was taken without an answer.
  expected<asn1::sgp22::ProfileInstallationResult, Es10Error> load_bound_profile_package(
      const asn1::sgp22::BoundProfilePackage& bpp);
  /// The same, from segments already cut.
  expected<asn1::sgp22::ProfileInstallationResult, Es10Error> load_bound_profile_package(
      const std::vector<Bytes>& segments);
  expected<asn1::sgp22::GetEuiccChallengeResponse, Es10Error> get_euicc_challenge();
  expected<asn1::sgp22::EUICCInfo1, Es10Error> get_euicc_info1();
  expected<asn1::sgp22::EUICCInfo2, Es10Error> get_euicc_info2();
  expected<asn1::sgp22::ListNotificationResponse, Es10Error> list_notification(
      const asn1::sgp22::ListNotificationRequest& request = {});
  expected<asn1::sgp22::RetrieveNotificationsListResponse, Es10Error> retrieve_notifications_list(
      const asn1::sgp22::RetrieveNotificationsListRequest& request = {});
  expected<asn1::sgp22::NotificationSentResponse, Es10Error> remove_notification_from_list(
      std::int64_t seq_number);
  expected<asn1::sgp22::LoadCRLResponse, Es10Error> load_crl(const asn1::sgp22::LoadCRLRequest& request);
  expected<asn1::sgp22::AuthenticateServerResponse, Es10Error> authenticate_server(
      const asn1::sgp22::AuthenticateServerRequest& request);
  expected<asn1::sgp22::CancelSessionResponse, Es10Error> cancel_session(
      const asn1::sgp22::CancelSessionRequest& request);

  // --- ES10c (§5.7.15-§5.7.21) ---
  expected<asn1::sgp22::ProfileInfoListResponse, Es10Error> get_profiles_info(
      const asn1::sgp22::ProfileInfoListRequest& request = {});
  expected<asn1::sgp22::EnableProfileResponse, Es10Error> enable_profile(
      const asn1::sgp22::EnableProfileRequest& request);
  expected<asn1::sgp22::DisableProfileResponse, Es10Error> disable_profile(
      const asn1::sgp22::DisableProfileRequest& request);
  expected<asn1::sgp22::DeleteProfileResponse, Es10Error> delete_profile(
      const asn1::sgp22::DeleteProfileRequest& request);
  expected<asn1::sgp22::EuiccMemoryResetResponse, Es10Error> euicc_memory_reset(
      const asn1::sgp22::EuiccMemoryResetRequest& request);
  /// GetEID (§5.7.20): GetEuiccDataRequest with tagList 5A.
  expected<asn1::sgp22::GetEuiccDataResponse, Es10Error> get_eid();
  expected<asn1::sgp22::SetNicknameResponse, Es10Error> set_nickname(const asn1::sgp22::SetNicknameRequest& request);
  /// GetRAT (ES10b): the Rules Authorisation Table.
  expected<asn1::sgp22::GetRatResponse, Es10Error> get_rat();

  /// Any ES10 function: encodes `request`, sends it, decodes the answer as Resp.
  template <class Resp, class Req>
  expected<Resp, Es10Error> call(const Req& request) {
    return decode_answer<Resp>(channel_.send(asn1::encode(request)));
  }

 private:
  template <class Resp>
  static expected<Resp, Es10Error> decode_answer(expected<Bytes, Es10Error> data) {
    if (!data) return unexpected(std::move(data).error());
    auto r = asn1::decode<Resp>(*data);
    if (!r) return unexpected(Es10Error{Es10Error::Kind::Format, 0, "eUICC answer: " + r.error().to_string()});
    return std::move(*r);
  }

  Es10Channel& channel_;
};

}  // namespace rsp::lpa
