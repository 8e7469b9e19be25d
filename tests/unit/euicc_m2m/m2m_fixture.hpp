#pragma once
// Shared fixture: a fresh M2M eUICC folder (`rsp euicc create --m2m` shape:
// an enabled bootstrap profile with the fallback attribute and a disabled
// second profile) reached through the ISD-R's execute(), as the SCP80 /
// SCP81 transports reach it, with a manual clock for the network.

#include <gtest/gtest.h>

#include <chrono>
#include <memory>

#include "rsp/apdu/response.hpp"
#include "rsp/crypto/ec_key.hpp"
#include "rsp/euicc_m2m/create.hpp"
#include "rsp/euicc_m2m/euicc.hpp"
#include "rsp/m2m/isdr_commands.hpp"
#include "test_support/temp_dir.hpp"

namespace rsp::euicc_m2m::test {

/// The test PKI shared by the tests of one program (made on first use).
const std::filesystem::path& shared_pki_dir();

/// The card's state slot file (state.0 or state.1 in `dir`) holding the newest
/// record (highest sequence number); empty when neither reads.
std::filesystem::path newest_slot(const std::filesystem::path& dir);

/// A signing certificate (DER) under the test CI and its key.
struct SigningIdentity {
  Bytes certificate;
  crypto::EcKey key;
};
/// The test PKI's CERT.DP.ECDSA for `curve` and its key.
std::optional<SigningIdentity> dp_signing_identity(crypto::Curve curve);
/// CERT.SR.ECDSA's stand-in for `curve` (the test PKI's CERT.DP.ECDSA: it
/// has no SM-SR signing certificate, and the card checks role DPauth).
inline std::optional<SigningIdentity> smsr_signing_identity(crypto::Curve curve) { return dp_signing_identity(curve); }

class M2mTest : public ::testing::Test {
 protected:
  void SetUp() override;
  /// A new card over the same folder (as after a restart).
  void reopen();

  /// One command through execute(); the response as the card answered it.
  apdu::Response send(const m2m::IsdrCommand& command);
  std::uint16_t sw(const m2m::IsdrCommand& command) { return send(command).sw; }
  /// The ISD-P's record in the card's state (fails the test when absent).
  IsdpRecord isdp(const Bytes& aid);
  bool exists(const Bytes& aid);

  test_support::TempDir tmp_;
  std::filesystem::path dir_;
  std::chrono::steady_clock::time_point now_{};
  std::unique_ptr<M2mEuicc> card_;
  const Bytes boot_ = isdp_aid(0);    ///< bootstrap: enabled, fallback, POL1 delete not allowed
  const Bytes second_ = isdp_aid(1);  ///< disabled, no POL1
};

}  // namespace rsp::euicc_m2m::test
