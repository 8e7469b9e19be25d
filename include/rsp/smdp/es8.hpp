#pragma once
/// The SM-DP's side of ES8 (SGP.02 §5.5) towards a new ISD-P, as command
/// APDUs that travel in the SM-SR's ES3 SendData scripts:
///
///  1. `KeyEstablishment::start`: checks the ECASD certificate the SM-SR
///     read from the card (GET DATA '7F21') with the EUM chain to the CI and
///     the EID expected (SGP.02 §3.1.2) and makes message 1's STORE DATA
///     commands (CERT.DP.ECDSA, m2m/es8.hpp), sent alone: the card answers
///     its last one with a random challenge.
///  2. `KeyEstablishment::agree`: that answer's RC (none from a card that
///     issues none), a fresh ephemeral key pair and message 2's commands
///     (the key-agreement data signed with SK.DP.ECDSA over the RC too;
///     '45' SDIN when the EIS holds the ISD-R's SIN and SDIN).
///  3. `KeyEstablishment::finish`: the card's answer to message 2's last
///     command (DR and receipt); the ISD-P's SCP03 key set once the receipt
///     verifies. The ephemeral private key is dropped then, used once.
///  4. `protect_profile`: the SAIP package under SCP03t with those keys, as
///     STORE DATA commands for the ISD-P.
/// No key or shared secret leaves these functions other than as the returned
/// key set; errors carry no key material.

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "rsp/apdu/command.hpp"
#include "rsp/common/bytes.hpp"
#include "rsp/common/expected.hpp"
#include "rsp/crypto/ec_key.hpp"
#include "rsp/crypto/random.hpp"
#include "rsp/m2m/es8.hpp"
#include "rsp/pki/certificate.hpp"

namespace rsp::smdp {

struct Es8Failure {
  enum class Code {
    EcasdCertificate,  ///< the ECASD certificate does not chain to a trusted EUM and CI, or names another EID
    Malformed,         ///< the card's answer is not an RC, or not DR and receipt
    ReceiptMismatch,   ///< the receipt does not verify: the card did not derive the same keys
    Crypto,            ///< key generation, ECKA, signature or KDF failed
  };
  Code code;
  std::string message;  ///< never key material
};

/// The SM-DP's signing identity: CERT.DP.ECDSA (DER) and SK.DP.ECDSA.
struct DpIdentity {
  Bytes certificate;
  crypto::EcKey key;
};

/// What the ECASD certificate must chain to.
struct EcasdTrust {
  std::vector<pki::Certificate> eums;
  std::vector<pki::Certificate> cis;
};

class KeyEstablishment {
 public:
  /// `ecasd_certificate`: the DER certificate (the value of '7F21');
  /// `eid`: the 32 digits of the eUICC the ISD-P is on.
  /// `ids`: the ISD-R's SIN and SDIN from the EIS (used when both are known).
  static expected<KeyEstablishment, Es8Failure> start(const DpIdentity& dp, ByteView ecasd_certificate,
                                                      const EcasdTrust& trust, const std::string& eid,
                                                      std::uint8_t key_version = m2m::es8::kDefaultKeyVersion,
                                                      m2m::es8::CardIdentifiers ids = {});

  /// Message 1's STORE DATA commands for the ISD-P, in order; the answer of
  /// the last one goes to agree().
  const std::vector<apdu::Command>& commands() const { return commands_; }

  /// The answer to message 1 (response data without SW): its RC, then
  /// message 2 signed over it. Once only.
  expected<void, Es8Failure> agree(ByteView response_data);
  /// Message 2's commands (after agree()); the answer of the last one goes to finish().
  const std::vector<apdu::Command>& key_agreement_commands() const { return key_agreement_commands_; }

  /// Checks the receipt in the answer (response data without SW) and
  /// returns the key set. Once only: the ephemeral key is gone afterwards.
  expected<m2m::es8::DerivedKeys, Es8Failure> finish(ByteView response_data);

 private:
  KeyEstablishment(crypto::EcKey signing_key, crypto::EcKey ecasd, std::vector<apdu::Command> commands,
                   std::uint8_t key_version, m2m::es8::CardIdentifiers ids)
      : signing_key_(std::move(signing_key)), ecasd_(std::move(ecasd)), commands_(std::move(commands)),
        key_version_(key_version), ids_(std::move(ids)) {}
  crypto::EcKey signing_key_;         ///< SK.DP.ECDSA, until agree()
  crypto::EcKey ecasd_;               ///< PK.ECASD.ECKA
  std::vector<apdu::Command> commands_;
  std::uint8_t key_version_;
  m2m::es8::CardIdentifiers ids_;
  std::optional<m2m::es8::HostAgreement> agreement_;  ///< eSK.DP.ECKA, the CRT and host ID, after agree()
  std::vector<apdu::Command> key_agreement_commands_;
};

/// The profile package as SCP03t-protected STORE DATA commands (m2m/es8.hpp).
expected<std::vector<apdu::Command>, Es8Failure> protect_profile(const m2m::es8::DerivedKeys& keys, ByteView upp);

/// ES8.UpdateConnectivityParameters for ISD-P `isdp_aid` under its key set
/// `keys` (m2m/es8_connectivity.hpp): the command script ('AA') of
/// ES3.UpdateConnectivityParameters, for the card's sequence counter
/// `counter` (its last accepted + 1), with a fresh host challenge from
/// `random`. Malformed when the parameters are not well formed.
expected<Bytes, Es8Failure> secure_connectivity(const m2m::es8::DerivedKeys& keys, ByteView isdp_aid,
                                                std::uint32_t counter, ByteView parameters,
                                                std::uint8_t key_version = m2m::es8::kDefaultKeyVersion,
                                                crypto::Random& random = crypto::system_random());

}  // namespace rsp::smdp
