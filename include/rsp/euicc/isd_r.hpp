#pragma once
/// The ISD-R of the simulated consumer eUICC (SGP.22 v2.2.2 §2.2.1, §5.7):
/// ES10a/ES10b/ES10c functions on top of an EuiccStore. The state read once
/// is kept (StateCache: read again only when another writer changed the
/// folder), and any change is saved atomically and durably before the answer
/// leaves the card, so the card survives a kill at any moment.
///
///   auto store = EuiccStore::open(dir);
///   Card card;
///   card.add_application(std::make_shared<IsdR>(*store));
///   card.add_application(std::make_shared<MinimalEcasd>());

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "rsp/card/aid.hpp"
#include "rsp/card/es10_application.hpp"
#include "rsp/euicc/store.hpp"
#include "rsp/pki/certificate.hpp"

namespace rsp::crypto {
class Random;
}

namespace rsp::euicc {

namespace detail {
struct BppLoad;
}

/// ES10 command tags (rsp.asn, SGP.22 §5.7).
namespace es10 {
inline constexpr std::uint32_t kPrepareDownload = 0xBF21;
inline constexpr std::uint32_t kGetEuiccInfo1 = 0xBF20;
inline constexpr std::uint32_t kGetEuiccInfo2 = 0xBF22;
inline constexpr std::uint32_t kSetNickname = 0xBF29;
inline constexpr std::uint32_t kListNotification = 0xBF28;
inline constexpr std::uint32_t kRetrieveNotificationsList = 0xBF2B;
inline constexpr std::uint32_t kGetProfilesInfo = 0xBF2D;
inline constexpr std::uint32_t kGetEuiccChallenge = 0xBF2E;
inline constexpr std::uint32_t kRemoveNotificationFromList = 0xBF30;
inline constexpr std::uint32_t kEnableProfile = 0xBF31;
inline constexpr std::uint32_t kDisableProfile = 0xBF32;
inline constexpr std::uint32_t kDeleteProfile = 0xBF33;
inline constexpr std::uint32_t kEuiccMemoryReset = 0xBF34;
inline constexpr std::uint32_t kLoadCrl = 0xBF35;
inline constexpr std::uint32_t kBoundProfilePackage = 0xBF36;
inline constexpr std::uint32_t kAuthenticateServer = 0xBF38;
inline constexpr std::uint32_t kGetEuiccConfiguredAddresses = 0xBF3C;
inline constexpr std::uint32_t kGetEid = 0xBF3E;
inline constexpr std::uint32_t kSetDefaultDpAddress = 0xBF3F;
inline constexpr std::uint32_t kCancelSession = 0xBF41;
inline constexpr std::uint32_t kGetRat = 0xBF43;
}  // namespace es10

/// SGP.22 version this card implements (EUICCInfo1/2 svn).
inline constexpr std::uint8_t kSvn[] = {0x02, 0x02, 0x02};

/// ES10 commands arrive whole (card::Es10Application does the STORE DATA
/// reassembly and hands BPP segments to load_bpp_segment).
class IsdR final : public card::Es10Application {
 public:
  /// `random` (default: the system CSPRNG) must outlive the ISD-R.
  explicit IsdR(EuiccStore store, crypto::Random* random = nullptr);
  ~IsdR() override;
  IsdR(const IsdR&) = delete;
  IsdR& operator=(const IsdR&) = delete;

  ByteView aid() const override { return card::kIsdRAid; }
  Bytes select_response() override;

  const EuiccStore& store() const { return store_; }
  /// Why the last LoadBoundProfilePackage was refused as a structure error,
  /// in words ("segment of 1036 bytes exceeds SGP.22's 1020-byte limit");
  /// empty when it was not. The result itself carries only the codes.
  const std::string& last_load_error() const { return last_load_error_; }

 protected:
  expected<Bytes, std::uint16_t> process_es10(ByteView command, std::uint8_t channel) override;
  expected<Bytes, std::uint16_t> load_bpp_segment(ByteView segment, std::uint8_t channel) override;
  bool bpp_in_progress(ByteView next) const override;
  /// A reset ends any RSP session (SGP.22 §3.1.3: the challenge is one-time).
  void on_es10_deselect(std::uint8_t channel) override;

 private:
  expected<Bytes, std::uint16_t> dispatch(std::uint32_t tag, ByteView command);

  // ES10c (§5.7.15-§5.7.21)
  expected<Bytes, std::uint16_t> get_profiles_info(ByteView command);
  expected<Bytes, std::uint16_t> enable_profile(ByteView command);
  expected<Bytes, std::uint16_t> disable_profile(ByteView command);
  expected<Bytes, std::uint16_t> delete_profile(ByteView command);
  expected<Bytes, std::uint16_t> memory_reset(ByteView command);
  expected<Bytes, std::uint16_t> get_eid(ByteView command);
  expected<Bytes, std::uint16_t> set_nickname(ByteView command);
  // ES10a (§5.7.3-§5.7.4)
  expected<Bytes, std::uint16_t> get_configured_addresses(ByteView command);
  expected<Bytes, std::uint16_t> set_default_dp_address(ByteView command);
  // ES10b (simple functions)
  expected<Bytes, std::uint16_t> get_euicc_challenge(ByteView command);
  expected<Bytes, std::uint16_t> get_euicc_info1(ByteView command);
  expected<Bytes, std::uint16_t> get_euicc_info2(ByteView command);
  expected<Bytes, std::uint16_t> list_notification(ByteView command);
  expected<Bytes, std::uint16_t> retrieve_notifications(ByteView command);
  expected<Bytes, std::uint16_t> remove_notification(ByteView command);
  expected<Bytes, std::uint16_t> get_rat(ByteView command);
  expected<Bytes, std::uint16_t> load_crl(ByteView command);
  expected<Bytes, std::uint16_t> cancel_session(ByteView command);
  // ES10b download (§5.7.13)
  expected<Bytes, std::uint16_t> authenticate_server(ByteView command);
  expected<Bytes, std::uint16_t> prepare_download(ByteView command);
  /// One LoadBoundProfilePackage command (§5.7.6): a piece of the BPP stream;
  /// empty answer until the package is complete or fails, then the signed
  /// ProfileInstallationResult.
  expected<Bytes, std::uint16_t> load_bound_profile_package(ByteView piece);
  /// The signed ProfileInstallationResult (§5.7.6), kept as the install
  /// notification; ends the session. `error` is {bppCommandId, errorReason}.
  Bytes finish_load(EuiccState* state, const std::optional<std::pair<std::int64_t, std::int64_t>>& error,
                    const Bytes& isdp_aid);
  /// Ends the RSP session: challenge, keys and any BPP load are dropped.
  void end_session();
  /// otSK.EUICC.ECKA for PrepareDownload: the kept pair when
  /// `bpp_euicc_otpk` names it (a retry), else a fresh one, kept in the
  /// folder; nullopt when it could not be made or kept.
  std::optional<crypto::EcKey> one_time_key(const std::optional<Bytes>& bpp_euicc_otpk);
  /// Drops the kept one-time key pair (the download ended).
  void forget_one_time_key();
  /// The card's certificates, read from the folder once (they never change).
  const Identity* identity();
  /// SK.EUICC.ECDSA for `curve` (read from the folder on first use).
  const crypto::EcKey* euicc_key(crypto::Curve curve);
  /// The key of the session's curve.
  const crypto::EcKey* session_key() { return session_curve_ ? euicc_key(*session_curve_) : nullptr; }
  /// CERT.CI.ECDSA for `curve`, parsed on first use.
  const pki::Certificate* ci_certificate(crypto::Curve curve);

  /// Adds a signed notification for `event` on `p` when its metadata asks
  /// for one (SGP.22 §2.4a notificationConfigurationInfo).
  bool add_notification(EuiccState& state, const ProfileRecord& p, NotificationEvent event);

  /// The state loader of the ES10 handlers (detail::with_state).
  auto loader() {
    return [this] { return state_.load(store_); };
  }

  EuiccStore store_;
  StateCache state_;  ///< empty until the first command that reads the state
  crypto::Random* random_;
  /// The RSP session (SGP.22 §3.1.3): only the challenge, kept in RAM.
  std::optional<Bytes> euicc_challenge_;
  std::optional<Bytes> transaction_id_;
  std::optional<crypto::Curve> session_curve_;  ///< of the CI chosen in AuthenticateServer
  Bytes euicc_signature1_;                      ///< covered by smdpSignature2
  std::optional<crypto::EcKey> ot_key_;         ///< otSK.EUICC.ECKA (§3.1.3), RAM only
  std::string server_address_;                  ///< serverSigned1.serverAddress
  Bytes smdp_oid_;                              ///< registeredID of the DPauth/DPpb certificate
  std::optional<crypto::EcKey> dp_pb_key_;      ///< PK.DPpb.ECDSA, verifies smdpSign
  std::unique_ptr<detail::BppLoad> load_;       ///< a LoadBoundProfilePackage in progress
  std::string last_load_error_;                 ///< last_load_error()
  // Read from the folder on first use and kept: a card that has never been
  // used holds none of them (the idle footprint stays small).
  std::optional<Identity> identity_;
  std::optional<crypto::EcKey> keys_[2];      ///< per crypto::Curve
  std::optional<pki::Certificate> cis_[2];    ///< per crypto::Curve
};

}  // namespace rsp::euicc
