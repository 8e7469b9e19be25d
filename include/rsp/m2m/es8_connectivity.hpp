#pragma once
/// ES8.UpdateConnectivityParameters (SM-DP -> ISD-P; SGP.02 §3.14
/// "Connectivity Parameters Update using SCP03" and the ES8 function of
/// §5.5), the part both ends share: the parameters, the STORE DATA that
/// carries them and the SCP03 script the SM-DP prepares for the ISD-P with
/// the key set of the ES8 key establishment (m2m/es8.hpp). The SM-DP sends
/// the script in ES3.UpdateConnectivityParameters; the SM-SR forwards it
/// unchanged to that ISD-P (it cannot read it); the ISD-P verifies and
/// deciphers it with its own keys.
///
/// The parameters: one or more constructed TLVs, each at most once, 'A0'
/// SMS parameters, 'A1' CAT_TP parameters, 'A2' HTTP parameters, their
/// contents whole BER-TLVs kept as they are (the card does not interpret
/// them), at most kMaxConnectivityParameters bytes. The STORE DATA data
/// field is DGI '3A07' with the parameters as its value (P1 '88': last
/// block, DGI format). The DGI '3A07' and P1 '88' are as in bagyenda/njiwa's
/// SM-SR (its STORE DATA of the connectivity parameters, citing SGP.02
/// §4.1.3.4); not checked against the SGP.02 text itself (no copy was
/// reachable). The three tags and their order-free reading are this
/// project's, not yet checked (m2m::dgi::kUpdateConnectivityParameters is
/// the same DGI). There the SM-SR builds the STORE DATA from the parameters
/// it gets in ES3.UpdateConnectivityParameters; here the SM-DP secures it
/// with the ISD-P's SCP03 keys and the SM-SR forwards the script.
///
/// Who builds what, the evidence (kept as it is, reviewed for the ES3 wire
/// shapes): bagyenda/njiwa's ES3 WSDL takes FunctionCallIdentifier,
/// ValidityPeriod, Eid, Iccid and ConnectivityParameters (a hex string); its
/// SM-SR wraps that value in DGI '3A07', sends it as STORE DATA '80 E2 88 00'
/// addressed to the profile's ISD-P over its own OTA channel, with no SCP03
/// (and only for a profile Enabled or Disabled, else 8.2.1). That is the
/// SM-SR-secured path. SGP.02 v4 §3.14 "Connectivity Parameters Update using
/// SCP03" (its figure 29 as a public question about it describes: the SM-DP's
/// ES8.UpdateConnectivityParametersSCP03 in ES3.UpdateConnectivityParameters,
/// one MT-SMS from the SM-SR, the script prepared off-line with the
/// pseudo-random card challenge) has the SM-DP build and secure the command,
/// so the SM-SR cannot read the parameters; we follow §3.14 and keep
/// ConnectivityParameters as the SM-DP's secured script. njiwa shows no
/// 'A0'/'A1'/'A2' tags at all (it passes the SM-DP's bytes through), so the
/// tags stay this project's reading.
///
/// The script, prepared off-line as SCP03's pseudo-random card challenge
/// allows (GP Amendment D §6.2.2.1; SGP.02 §3.14 sends it in one message):
///   1. INITIALIZE UPDATE '80 50' key version '00' host challenge;
///   2. EXTERNAL AUTHENTICATE '84 82' C-MAC | C-DECRYPTION;
///   3. STORE DATA '84 E2 88 00' DGI '3A07' under C-DECRYPTION and C-MAC.
/// The card challenge is KDF(K-ENC, '02', sequence counter (3 bytes) ||
/// ISD-P AID) (Amendment D §6.2.2.1, as we read it), so the SM-DP must use
/// the card's next counter: the card's last accepted counter + 1. A
/// replayed script, or one for another counter, gives another card
/// challenge: the card's host cryptogram check fails (6300) and the STORE
/// DATA is refused (6982). The card moves its counter only when the STORE
/// DATA is accepted, in the same durable write as the parameters (our
/// reading; whether Amendment D moves it at INITIALIZE UPDATE is not
/// checked): a refused script changes nothing on the card. INITIALIZE
/// UPDATE's answer carries the counter the card used, from which the SM-DP
/// learns it when it was off (es8_connectivity's answered_counter()).

#include <cstdint>
#include <optional>
#include <vector>

#include "rsp/apdu/response.hpp"
#include "rsp/common/bytes.hpp"
#include "rsp/common/expected.hpp"
#include "rsp/m2m/es8.hpp"

namespace rsp::m2m::es8 {

inline constexpr std::uint16_t kDgiConnectivityParameters = 0x3A07;  ///< as bagyenda/njiwa
inline constexpr std::uint8_t kTagSmsParameters = 0xA0;    ///< not confirmed
inline constexpr std::uint8_t kTagCatTpParameters = 0xA1;  ///< not confirmed
inline constexpr std::uint8_t kTagHttpParameters = 0xA2;   ///< not confirmed
/// Largest parameters: the DGI, padded and MACed, fits one short STORE DATA.
inline constexpr std::size_t kMaxConnectivityParameters = 200;
/// EXTERNAL AUTHENTICATE's level: C-MAC and C-DECRYPTION (crypto::scp03_level).
inline constexpr std::uint8_t kConnectivitySecurityLevel = 0x03;
/// INITIALIZE UPDATE's "i" for an ISD-P key set: '70' as the project's other
/// SCP03 key sets, with b1 for the pseudo-random card challenge (our
/// reading of Amendment D's table, not confirmed).
inline constexpr std::uint8_t kIsdpScp03I = 0x71;
/// The sequence counter is 3 bytes.
inline constexpr std::uint32_t kMaxScp03Counter = 0xFFFFFF;

/// Checks the parameters as described above.
expected<void, Es8Error> check_connectivity_parameters(ByteView parameters);
/// The STORE DATA data field: DGI '3A07' || length || parameters.
expected<Bytes, Es8Error> encode_connectivity_dgi(ByteView parameters);
/// The parameters of a STORE DATA data field, checked; nothing after the DGI.
expected<Bytes, Es8Error> decode_connectivity_dgi(ByteView data);

/// The pseudo-random card challenge of sequence counter `counter` for the
/// security domain `sd_aid` (8 bytes).
expected<Bytes, Es8Error> pseudo_random_card_challenge(ByteView k_enc, std::uint32_t counter, ByteView sd_aid);

/// The SM-DP's script for `isdp_aid`: the three C-APDUs above, encoded.
/// `counter` is the one the card will use (its last + 1); `host_challenge`
/// 8 fresh random bytes. Errors name no key.
expected<std::vector<Bytes>, Es8Error> secure_connectivity_parameters(const DerivedKeys& keys,
                                                                     std::uint8_t key_version, ByteView isdp_aid,
                                                                     std::uint32_t counter, ByteView host_challenge,
                                                                     ByteView parameters);

/// The sequence counter in an INITIALIZE UPDATE answer's data (its last
/// three bytes), when it is one.
std::optional<std::uint32_t> answered_counter(const apdu::Response& initialize_update_answer);

}  // namespace rsp::m2m::es8
