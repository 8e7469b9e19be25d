#pragma once
/// The SM-DP's side of ES8 (SGP.02 §5.5) towards a new ISD-P, as command
/// APDUs that travel in the SM-SR's ES3 SendData scripts:
///
///  1. `KeyEstablishment::start`: checks the ECASD certificate the SM-SR
///     read from the card (GET DATA '7F21') with the EUM chain to the CI and
///     the EID expected (SGP.02 §3.1.2), makes a fresh ephemeral key pair
///     and the STORE DATA commands of m2m/es8.hpp (CERT.DP.ECDSA, then the
///     key-agreement data signed with SK.DP.ECDSA).
///  2. `KeyEstablishment::finish`: the card's answer to the last command
///     (DR and receipt); the ISD-P's SCP03 key set once the receipt verifies.
///     The ephemeral private key is dropped then, used once.
///  3. `protect_profile`: the SAIP package under SCP03t with those keys, as
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
    Malformed,         ///< the card's answer is not DR and receipt
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
  static expected<KeyEstablishment, Es8Failure> start(const DpIdentity& dp, ByteView ecasd_certificate,
                                                      const EcasdTrust& trust, const std::string& eid,
                                                      std::uint8_t key_version = m2m::es8::kDefaultKeyVersion);

  /// The STORE DATA commands for the ISD-P, in order; the answer of the last
  /// one goes to finish().
  const std::vector<apdu::Command>& commands() const { return commands_; }

  /// Checks the receipt in the answer (response data without SW) and
  /// returns the key set. Once only: the ephemeral key is gone afterwards.
  expected<m2m::es8::DerivedKeys, Es8Failure> finish(ByteView response_data);

 private:
  KeyEstablishment(m2m::es8::HostAgreement agreement, std::vector<apdu::Command> commands)
      : agreement_(std::move(agreement)), commands_(std::move(commands)) {}
  m2m::es8::HostAgreement agreement_;  ///< eSK.DP.ECKA, PK.ECASD.ECKA, the CRT and host ID
  std::vector<apdu::Command> commands_;
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
