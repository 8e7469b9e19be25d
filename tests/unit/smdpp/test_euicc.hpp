#pragma once
/// TEST DOUBLE: a minimal eUICC + LPA written for the SM-DP+ tests until the
/// real eUICC simulator lands. It plays the card side of SGP.22 §3.1.3:
/// signs euiccSigned1/2 with the eUICC key, makes a one-time key pair, derives
/// the BSP keys and opens every segment of the Bound Profile Package back to
/// the profile bytes. It checks the server's signatures too, so the tests see
/// the SM-DP+ output the way a card would.

#include <filesystem>
#include <initializer_list>
#include <optional>
#include <string>

#include "rsp/asn1/sgp22.hpp"
#include "rsp/crypto/ec_key.hpp"
#include "rsp/crypto/random.hpp"
#include "rsp/pki/certificate.hpp"

namespace rsp::smdpp::testing {

struct TestEuiccCredentials {
  pki::Certificate euicc_cert;
  pki::Certificate eum_cert;
  crypto::EcKey euicc_key;
  pki::Certificate ci_cert;
};

template <class T>
using TestResult = expected<T, std::string>;

class TestEuicc {
 public:
  TestEuicc(TestEuiccCredentials creds, crypto::Random& rng) : c_(std::move(creds)), rng_(rng) {}

  /// ES9+.InitiateAuthentication input (euiccChallenge, euiccInfo1 listing our CI).
  asn1::sgp22::InitiateAuthenticationRequest initiate(const std::string& smdp_address);
  /// AuthenticateServer: checks serverSignature1 (with the DPauth certificate),
  /// the challenge, then signs euiccSigned1.
  TestResult<asn1::sgp22::AuthenticateClientRequest> authenticate_server(
      const asn1::sgp22::InitiateAuthenticationOkEs9& ok, const std::optional<std::string>& matching_id);
  /// PrepareDownload: checks smdpSignature2, makes otPK.EUICC, signs euiccSigned2.
  TestResult<asn1::sgp22::GetBoundProfilePackageRequest> prepare_download(
      const asn1::sgp22::AuthenticateClientOk& ok, const std::optional<std::string>& confirmation_code);
  /// LoadBoundProfilePackage: checks smdpSign, derives the keys, verifies and
  /// decrypts every segment; returns the profile package bytes.
  TestResult<Bytes> load_bpp(const asn1::sgp22::BoundProfilePackage& bpp, bool verify = true);
  /// The signed ProfileInstallationResult for the last session.
  asn1::sgp22::PendingNotification install_result(bool success);
  /// The signed ProfileInstallationResult of a refused installation in the
  /// last session: errorResult {bpp_command_id, error_reason}, naming `iccid`
  /// (EF.ICCID coding) in its notificationMetadata when given.
  asn1::sgp22::PendingNotification install_error(std::int64_t bpp_command_id, std::int64_t error_reason,
                                                 const std::optional<Bytes>& iccid);
  /// A signed OtherSignedNotification (e.g. enable).
  /// An OtherSignedNotification signed by this eUICC: NotificationEvent bits
  /// `event_bits` (1 enable, 2 disable, 3 delete) about `iccid` (EF.ICCID
  /// coding; default: an ICCID no test profile has).
  asn1::sgp22::PendingNotification other_notification(std::int64_t seq,
                                                      std::initializer_list<std::size_t> event_bits = {1},
                                                      const std::optional<Bytes>& iccid = std::nullopt);
  /// A signed CancelSessionResponse for the current session, naming the
  /// SM-DP+ OID of its serverCertificate unless `smdp_oid` says otherwise.
  asn1::sgp22::CancelSessionRequestEs9 cancel(std::int64_t reason, const std::optional<asn1::Oid>& smdp_oid = std::nullopt);

  const std::string& eid() const;
  /// The metadata the load decoded from the '88' segments (DER).
  const Bytes& loaded_metadata() const { return metadata_; }

 private:
  TestEuiccCredentials c_;
  crypto::Random& rng_;
  std::string address_;
  Bytes smdp_oid_;  ///< of the last serverCertificate (SGP.22 §5.7.14 smdpOid)
  Bytes euicc_challenge_;
  Bytes transaction_id_;
  Bytes euicc_signature1_;
  Bytes euicc_signature2_;
  std::optional<crypto::EcKey> dp_pb_key_;
  std::optional<crypto::EcKey> ot_key_;
  Bytes metadata_;
  mutable std::string eid_;
};

/// The sample profile package (smdpp/sample_profile.hpp) with fixed keys and
/// `extra` filler bytes, so it spans several segments.
Bytes make_test_upp(ByteView iccid, std::size_t extra);

/// The first certificate of a PEM or DER file; aborts when there is none.
pki::Certificate first_certificate(const std::filesystem::path& file);
/// The eUICC of a test PKI folder (pki::make_test_pki output) on `curve`, with
/// its EUM and CI; aborts when the files are missing.
TestEuiccCredentials test_pki_euicc_credentials(const std::filesystem::path& pki_dir, crypto::Curve curve);

}  // namespace rsp::smdpp::testing
