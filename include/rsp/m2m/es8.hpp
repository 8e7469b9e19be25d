#pragma once
/// ES8 (SM-DP ↔ ISD-P, SGP.02 §5.5) key establishment by ECKA scenario #3
/// (GlobalPlatform Card Specification Amendment E; SGP.02 §3.1.2, §4.1.3),
/// the parts both ends share: the STORE DATA messages the SM-DP sends to the
/// new ISD-P, the card's answer, the key derivation and the receipt. The same
/// codec serves the new SM-SR towards the ISD-R (SGP.02 §3.8, ES7
/// CreateAdditionalKeyset).
///
/// On the wire (one STORE DATA sequence, P2 counting the blocks across both
/// messages; P1 '09': DGI format with b1 set, '89' on the last block of
/// message 2), in two round trips:
///   1. DGI '3A01' { '7F21' CERT.DP.ECDSA }, its blocks with P1 '09' (not
///      last). This project's PKI is X.509: the DER certificate is the value
///      of '7F21' (SGP.02 puts the GP-format certificate there: '93', '42',
///      '5F20', '95', '5F25', '5F24', '73', '7F49', '5F37').
///      The card answers the block that completes the DGI with its random
///      challenge: '85' L RC (RC 16 random bytes, new for each establishment;
///      a plain BER-TLV in the response data, no DGI around it). A card that
///      issues none (SGP.02 before v3) answers '9000' without data.
///   2. DGI '3A02' { 'A6' CRT } || '7F49' { 'B0' ePK.DP.ECKA || 'F0' key
///      parameter reference } || '5F37' signature (SK.DP.ECDSA, plain r||s).
///      The signature covers the DGI '3A02' and '7F49' elements as sent and,
///      when the card issued one, the bytes '00' '85' L RC after them (the
///      two-byte tag '0085' exactly as bagyenda/njiwa signs it). The CRT:
///      '90' scenario parameters '03 0E', '95' key usage qualifier, '80' key
///      type '88' (AES), '81' key length '10', '82' key identifier '01', '83'
///      key version, '91' initial counter (empty: 0), '45' SDIN (when the host
///      knows the card's SIN and SDIN), '84' host ID (16 random bytes of the
///      host, new for each agreement).
///   3. The card's answer to the last block: '85' DR (16 random bytes) ||
///      '86' receipt.
///
/// Both ends then hold ShS = ECKA(eSK.DP, PK.ECASD) = ECKA(SK.ECASD, ePK.DP),
/// KeyData = X9.63-KDF-SHA256(ShS, SharedInfo) with SharedInfo = key usage
/// qualifier || key type || key length || DR || L || host ID [|| L || SIN ||
/// L || SDIN, when the CRT carries '45'] (L a BER length), and the
/// receipt is AES-CMAC(receipt key, 'A6' CRT element || '85' DR element).
/// KeyData: key usage '5C' (one key, the ISD-P's SCP03 key set): 32 bytes,
/// receipt key || the key set's one key (K-ENC = K-MAC = K-DEK); key usage
/// '10' (three keys, the ISD-R's SCP80 set and SCP81 PSK): 64 bytes, receipt
/// key || KIc || KID || PSK.
///
/// What this was checked against: a public SGP.02 implementation
/// (bagyenda/njiwa: its ISD-P key establishment in the SM-DP, its
/// CreateAdditionalKeyset in the SM-SR, and their helpers, which cite SGP.02
/// v3.1 §4.1.3.1 / Tables 77-81, GP Amendment A Tables 3-27..3-29 and
/// Amendment E Tables 4-3, 4-22, 4-26), not against the SGP.02 or
/// GlobalPlatform text (no copy was reachable). As there: the DGIs '3A01' and
/// '3A02' and P1 '09' / '89', the CRT's tags and their order, '90' = 03 ||
/// b2 (DR in the derivation) | b3 (identifiers included) | b4 (certificate
/// verification precedes), '95' '5C' (one key) and '10' (three keys), '82'
/// '01', '91', '84' a random 16-byte host ID, the 'B0' / 'F0' public key
/// ('F0': '00' NIST P-256, '03' brainpoolP256r1), '5F37' after '7F49',
/// SharedInfo's order and length-prefixed host ID, the KeyData split (receipt
/// key first) and the receipt's input, the answer's '85' DR and '86' receipt.
/// Also as there: the random challenge in the card's answer to DGI '3A01'
/// as '85' L RC and the '0085' L RC the host appends to what it signs; '45'
/// SDIN before '84' in the CRT and SIN, SDIN (each length-prefixed, SIN
/// first) after the host ID in SharedInfo, taken from the ISD-R's Sin / Sdin
/// of the EIS (ES1.wsdl's securityDomain) when both are known.
/// Still this project's choice (or different from njiwa):
///   - the RC's length: 16 bytes, as DR (njiwa takes any length); without an
///     RC (a card that issues none) the signature covers '3A02' and '7F49'
///     alone (njiwa's SM-DP then gives up; its SM-SR signs no RC at all);
///   - the two-byte tag '0085' is not a BER tag: it is njiwa's rendering of
///     SGP.02's "'85' random challenge" line of the signed data, NOT YET
///     CHECKED against the SGP.02 text;
///   - without SIN and SDIN the CRT still carries '84' (b3 set for it: njiwa
///     sets b3 only with both '45' and '84', and then puts the host ID in
///     SharedInfo even when it did not send it); the host sends '45' only
///     when it knows both SIN and SDIN (njiwa's SM-DP sends '45' with the
///     SDIN alone); the card refuses a '45' that is not its SDIN (6A80);
///   - '96' key access and a non-empty '91' (njiwa's SM-SR sends '96' 00 and
///     a 5-byte counter for the ISD-R's keys) are not sent nor accepted;
///   - DGI lengths in the GP DGI form ('FF' + 2 bytes from 255; njiwa writes
///     BER lengths there), the X.509 certificate, the block size (255).

#include <cstdint>
#include <optional>
#include <vector>

#include "rsp/apdu/command.hpp"
#include "rsp/common/bytes.hpp"
#include "rsp/common/expected.hpp"
#include "rsp/crypto/bsp.hpp"
#include "rsp/crypto/ec_key.hpp"

namespace rsp::m2m::es8 {

inline constexpr std::uint16_t kDgiCertificate = 0x3A01;   ///< certificate of the off-card entity
inline constexpr std::uint16_t kDgiKeyAgreement = 0x3A02;  ///< key establishment CRT
inline constexpr std::uint32_t kTagCertificate = 0x7F21;
inline constexpr std::uint32_t kTagCrt = 0xA6;
inline constexpr std::uint32_t kTagScenario = 0x90;
inline constexpr std::uint32_t kTagKeyUsage = 0x95;
inline constexpr std::uint32_t kTagKeyType = 0x80;
inline constexpr std::uint32_t kTagKeyLength = 0x81;
inline constexpr std::uint32_t kTagKeyId = 0x82;
inline constexpr std::uint32_t kTagKeyVersion = 0x83;
inline constexpr std::uint32_t kTagInitialCounter = 0x91;
inline constexpr std::uint32_t kTagSdin = 0x45;
inline constexpr std::uint32_t kTagHostId = 0x84;
inline constexpr std::uint32_t kTagPublicKey = 0x7F49;
inline constexpr std::uint32_t kTagPublicKeyQ = 0xB0;
inline constexpr std::uint32_t kTagKeyParameterRef = 0xF0;
inline constexpr std::uint32_t kTagSignature = 0x5F37;
inline constexpr std::uint32_t kTagDr = 0x85;
inline constexpr std::uint32_t kTagRandomChallenge = 0x85;  ///< in the card's answer to DGI '3A01'
/// True when `message` is exactly one whole DGI '3A01' (message 1 complete).
bool is_certificate_message(ByteView message);
inline constexpr std::uint32_t kTagReceipt = 0x86;

/// Scenario #3 with b2 (DR), b3 (identifiers: the host ID) and b4
/// (certificate first), the bits as bagyenda/njiwa codes them.
inline constexpr std::uint8_t kScenario3[] = {0x03, 0x0E};
/// One key: the ISD-P's SCP03 key set, as bagyenda/njiwa's ISD-P key establishment.
inline constexpr std::uint8_t kKeyUsageScp03 = 0x5C;
/// Three keys: the new SM-SR's SCP80 key set (KIc, KID) and SCP81 PSK, towards
/// the ISD-R (SGP.02 §3.8, ES7.CreateAdditionalKeyset), as bagyenda/njiwa's
/// CreateAdditionalKeyset. The PSK as third key is this project's.
inline constexpr std::uint8_t kKeyUsageIsdR = 0x10;
inline constexpr std::uint8_t kKeyTypeAes = 0x88;           ///< GP v2.3 Table 11-16
inline constexpr std::uint8_t kKeyLength128 = 0x10;
inline constexpr std::uint8_t kFirstKeyId = 0x01;           ///< '82': the first key's identifier
/// The key version of the ISD-P's SCP03 key set (GP Amendment D §7: '30'..'3F').
inline constexpr std::uint8_t kDefaultKeyVersion = 0x30;
inline constexpr std::size_t kDrSize = 16;                  ///< 256-bit curves
inline constexpr std::size_t kHostIdSize = 16;
/// The card's random challenge ('85' in its answer to DGI '3A01'): 16 bytes,
/// this project's choice (as DR for 256-bit curves).
inline constexpr std::size_t kRandomChallengeSize = 16;
/// The tag bytes before the RC in the signed data, as bagyenda/njiwa writes them.
inline constexpr std::uint8_t kSignedRcTag[] = {0x00, 0x85};
/// SIN and SDIN: 1..127 bytes each (one length byte in SharedInfo; this
/// project's bound).
inline constexpr std::size_t kMaxIdentifierSize = 127;
inline constexpr std::size_t kReceiptSize = 16;
/// STORE DATA P1 of the key establishment: DGI format (b5-b4 '01') with b1,
/// b8 on the last block, as bagyenda/njiwa sends it.
inline constexpr std::uint8_t kStoreDataP1Dgi = 0x09;
inline constexpr std::uint8_t kStoreDataP1Last = 0x80;
/// Largest message the card reassembles from STORE DATA blocks.
inline constexpr std::size_t kMaxMessage = 4096;

enum class Es8Error {
  Malformed,       ///< not the TLVs this step needs
  Unsupported,     ///< a scenario, key type, length, curve or tag other than the ones above
  Crypto,          ///< key derivation or CMAC failed
  Receipt,         ///< the card's receipt does not verify (host side)
};

/// The key parameter reference of '7F49' 'F0' (GP Amendment E Table 4-3, as
/// bagyenda/njiwa numbers the curves).
std::uint8_t key_parameter_reference(crypto::Curve curve);

/// The card's identifiers as the host knows them (the EIS's ISD-R Sin and
/// Sdin) or the card holds them; empty when unknown. Used only when both
/// are there.
struct CardIdentifiers {
  Bytes sin;
  Bytes sdin;
  bool known() const { return !sin.empty() && !sdin.empty(); }
};
/// True when `id` is a usable SIN or SDIN (1..kMaxIdentifierSize bytes) or empty.
bool valid_identifier(ByteView id);

/// The key-agreement parameters of message 2.
struct KeyAgreement {
  std::uint8_t key_usage = kKeyUsageScp03;  ///< kKeyUsageScp03 (ISD-P) or kKeyUsageIsdR
  std::uint8_t key_version = kDefaultKeyVersion;
  std::uint8_t key_parameter_reference = 0;  ///< '7F49' 'F0'
  Bytes host_id;          ///< '84'
  Bytes sdin;             ///< '45', empty when the CRT has none
  Bytes ephemeral_point;  ///< ePK.DP.ECKA, uncompressed (04 || x || y)
  Bytes signature;        ///< '5F37' value
  Bytes signed_part;      ///< the DGI '3A02' and '7F49' elements as received (signed_data() of them is what '5F37' covers)
  Bytes crt;              ///< the 'A6' element as received (what the receipt covers, with DR)
};

/// The derived keys (wiped on destruction): the receipt key and the key set
/// (one key: enc = mac = dek; three keys: KIc, KID, PSK as enc, mac, dek).
struct DerivedKeys {
  Bytes receipt_key;
  Bytes enc;
  Bytes mac;
  Bytes dek;
  DerivedKeys() = default;
  DerivedKeys(const DerivedKeys&) = default;
  DerivedKeys& operator=(const DerivedKeys&) = default;
  DerivedKeys(DerivedKeys&&) noexcept = default;
  DerivedKeys& operator=(DerivedKeys&&) noexcept = default;
  ~DerivedKeys();
};

/// The 'A6' CRT element; '45' `sdin` before '84' when not empty.
Bytes encode_crt(std::uint8_t key_usage, std::uint8_t key_version, ByteView host_id, ByteView sdin = {});
/// What '5F37' covers: `body` (DGI '3A02' || '7F49'), then '00' '85' L RC
/// when the card issued a random challenge.
Bytes signed_data(ByteView body, const std::optional<Bytes>& random_challenge);
/// The card's answer to message 1: '85' L RC.
Bytes encode_certificate_answer(ByteView random_challenge);
/// The answer's random challenge; nullopt for an empty answer (a card that
/// issues none). Malformed for anything but one '85' of kRandomChallengeSize.
expected<std::optional<Bytes>, Es8Error> decode_certificate_answer(ByteView data);
/// DGI '3A02' { crt } || '7F49' { 'B0' point || 'F0' reference }: what the SM-DP signs.
Bytes encode_key_agreement_body(ByteView crt, ByteView ephemeral_point, crypto::Curve curve);
/// Message 1's and message 2's data.
Bytes encode_certificate_message(ByteView certificate_der);
Bytes encode_key_agreement_message(ByteView signed_part, ByteView signature);

expected<Bytes, Es8Error> decode_certificate_message(ByteView data);
expected<KeyAgreement, Es8Error> decode_key_agreement_message(ByteView data);

/// A reassembled key establishment sequence: message 1 (DGI '3A01'), if it
/// leads, and what follows it (message 2, or nothing).
struct KeyEstablishmentParts {
  std::optional<ByteView> certificate_message;
  ByteView rest;
};
expected<KeyEstablishmentParts, Es8Error> split_key_establishment(ByteView data);

/// The card's answer to message 2: '85' DR || '86' receipt.
struct Receipt {
  Bytes dr;
  Bytes receipt;
};
Bytes encode_receipt(const Receipt& r);
expected<Receipt, Es8Error> decode_receipt(ByteView data);

/// SharedInfo: key usage || key type || key length || DR || L || host ID,
/// then L || SIN || L || SDIN when `ids` are known.
Bytes shared_info(std::uint8_t key_usage, ByteView dr, ByteView host_id, const CardIdentifiers& ids = {});
/// KeyData from the shared secret, the card's DR, the host ID and the card's
/// identifiers (when known: see shared_info).
expected<DerivedKeys, Es8Error> derive_keys(ByteView shared_secret, ByteView dr, ByteView host_id,
                                            std::uint8_t key_usage = kKeyUsageScp03,
                                            const CardIdentifiers& ids = {});
/// The receipt: AES-CMAC over the 'A6' CRT element and the '85' DR element.
expected<Bytes, Es8Error> compute_receipt(ByteView receipt_key, ByteView crt, ByteView dr);

/// The host side of message 2 and of the answer, for any host (the SM-DP
/// towards an ISD-P, the new SM-SR towards the ISD-R): a fresh host ID and
/// ephemeral key on the ECASD's curve, the key-agreement body signed with
/// `signing_key` (over the card's random challenge too when it issued one),
/// kept until the card's answer; finish() checks the receipt and returns the
/// keys, once. `ids`: the card's SIN and SDIN when the host knows both ('45'
/// in the CRT, both in SharedInfo), else nothing of them.
class HostAgreement {
 public:
  static expected<HostAgreement, Es8Error> start(const crypto::EcKey& signing_key, const crypto::EcKey& ecasd_public,
                                                 std::uint8_t key_version, std::uint8_t key_usage,
                                                 const std::optional<Bytes>& random_challenge = std::nullopt,
                                                 const CardIdentifiers& ids = {});
  /// Message 2's data (DGI '3A02' || '7F49' || '5F37').
  const Bytes& message() const { return message_; }
  expected<DerivedKeys, Es8Error> finish(ByteView answer);

 private:
  HostAgreement(crypto::EcKey ephemeral, crypto::EcKey ecasd, Bytes crt, Bytes host_id, Bytes msg,
                std::uint8_t usage, CardIdentifiers ids)
      : ephemeral_(std::move(ephemeral)), ecasd_(std::move(ecasd)), crt_(std::move(crt)),
        host_id_(std::move(host_id)), message_(std::move(msg)), usage_(usage), ids_(std::move(ids)) {}
  std::optional<crypto::EcKey> ephemeral_;
  crypto::EcKey ecasd_;
  Bytes crt_;
  Bytes host_id_;
  Bytes message_;
  std::uint8_t usage_;
  CardIdentifiers ids_;
};

/// Messages 1 and 2 as one STORE DATA sequence (P1 '09', the last block '89';
/// P2 the block number; at most 255 data bytes each; CLA '80').
std::vector<apdu::Command> key_establishment_blocks(ByteView certificate_message, ByteView key_agreement_message);
/// The same sequence in its two round trips: message 1 (P1 '09', P2 from 0;
/// the card answers its last block with the RC) ...
std::vector<apdu::Command> certificate_blocks(ByteView certificate_message);
/// ... and message 2 (P2 from `first_block`, the number of message 1's
/// blocks; the last block '89').
std::vector<apdu::Command> key_agreement_blocks(ByteView key_agreement_message, std::uint8_t first_block);

/// The profile download into the ISD-P under SCP03t (SGP.02 §4.1.3, the
/// protection SGP.22 later named BSP, crypto/bsp.hpp): the SAIP package in
/// '86' segments (encrypted and MACed), then one MAC-only '88' segment whose
/// data is the package length (4 bytes, big-endian) that ends it; each
/// segment is one STORE DATA message. Keys: K-ENC and K-MAC of the ES8 key
/// set with an initial MCV of 16 zero bytes. This framing and the keys used
/// directly (no SCP03 session derivation) are this project's, NOT CONFIRMED
/// against the SGP.02 text.
inline constexpr std::uint8_t kTagProfileSegment = 0x86;
inline constexpr std::uint8_t kTagProfileEnd = 0x88;
crypto::BspKeys scp03t_keys(const DerivedKeys& keys);

/// Splits a message into STORE DATA blocks (GP v2.3 §11.11: P1 '10' BER-TLV
/// structure, b8 on the last block; P2 the block number), each at most 255
/// data bytes, CLA '80': the profile segments.
std::vector<apdu::Command> store_data_blocks(ByteView message);

}  // namespace rsp::m2m::es8
