#pragma once
/// The card side of ES8 (SGP.02 §5.5) for the ISD-Ps of an M2M eUICC: the
/// key establishment by ECKA scenario #3 through the ECASD (GP Amendment E,
/// SGP.02 §3.1.2) and then the profile download under SCP03t (§4.1.3), with
/// the messages of m2m/es8.hpp arriving as STORE DATA blocks addressed to one
/// ISD-P (the SM-SR's ES3 SendData / ES5 session delivers them there): the
/// key establishment in DGI form (P1 '09' / '89': DGI '3A01' then '3A02', in
/// one sequence or each in its own), the profile segments in BER-TLV form
/// (P1 '10' / '90').
///
///  - Key establishment: CERT.DP.ECDSA must chain to the card's CI
///    (certificate role DPauth: this project's stand-in for CERT.DP.ECDSA,
///    the test PKI has no M2M DP role); the block completing DGI '3A01' is
///    answered with a fresh random challenge ('85' RC, from the injected
///    Random); the SM-DP's signature over the key-agreement data and that
///    RC must verify with it (else 6982: no RC, another, one of an earlier
///    establishment; the RC serves once); a '45' SDIN must be the card's
///    own (else 6A80), and then the card's SIN and SDIN enter SharedInfo;
///    a new sequence (P2 '00') forgets one in progress; the ISD-P must be SELECTABLE
///    without keys. ShS = ECKA(SK.ECASD, ePK.DP); the derived SCP03 key set is
///    saved with the ISD-P in one durable write, then the receipt answered.
///  - Download: the ISD-P must hold keys and no profile. Segments are checked
///    and decrypted in order; a package larger than the ISD-P's memory quota
///    is refused with 6A84 as soon as it is. At the end, the SAIP checks the
///    consumer eUICC runs (euicc/profile_package.hpp), then the ISD-P becomes
///    DISABLED with the profile's ICCID in one durable write.
///  - ES8.UpdateConnectivityParameters (m2m/es8_connectivity.hpp): an ISD-P
///    holding keys and a profile answers INITIALIZE UPDATE with its key set
///    (key version '00' or its own, else 6A88), the pseudo-random card
///    challenge of its next sequence counter and that counter; EXTERNAL
///    AUTHENTICATE must verify (else 6300) at C-MAC | C-DECRYPTION (else
///    6982); the STORE DATA '84 E2 88 00' must verify and decipher (else
///    6982) and hold DGI '3A07' with well-formed parameters (else 6A80).
///    The parameters and the counter are then saved in one durable write.
///  - Any refusal drops the session in progress for that ISD-P; the card
///    state is only written by the three successful final steps (keys,
///    profile, connectivity parameters).
/// Status words: 6A80 malformed, 6982 certificate / signature / MAC refused,
/// 6300 SCP03 host cryptogram refused, 6985 wrong ISD-P state or step, 6A84
/// no memory, 6A88 unknown ISD-P (or key version), 6581 state not saved,
/// 6A86 a block out of sequence.

#include <map>
#include <memory>

#include "rsp/apdu/command.hpp"
#include "rsp/apdu/response.hpp"
#include "rsp/crypto/random.hpp"
#include "rsp/euicc_m2m/isd_r.hpp"

namespace rsp::euicc_m2m {

class Es8Card {
 public:
  /// The ECASD's key and the card's CI from `store`'s identity (first curve).
  static StoreResult<std::unique_ptr<Es8Card>> open(std::shared_ptr<M2mIsdR> isd_r, const M2mStore& store,
                                                    crypto::Random& random = crypto::system_random());
  ~Es8Card();

  /// One C-APDU for ISD-P `isdp_aid`; its R-APDU. Never throws, whatever the bytes.
  apdu::Response execute(ByteView isdp_aid, const apdu::Command& command);
  Bytes execute(ByteView isdp_aid, ByteView command_apdu);

 private:
  struct Impl;
  explicit Es8Card(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace rsp::euicc_m2m
