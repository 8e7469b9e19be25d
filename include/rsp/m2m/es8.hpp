#pragma once
/// ES8 (SM-DP ↔ ISD-P, SGP.02 §5.5) key establishment by ECKA scenario #3
/// (GlobalPlatform Card Specification Amendment E; SGP.02 §3.1.2, §4.1.3),
/// the parts both ends share: the STORE DATA messages the SM-DP sends to the
/// new ISD-P, the card's answer, the key derivation and the receipt.
///
///   1. STORE DATA '7F21' CERT.DP.ECDSA: the SM-DP's certificate (this
///      project's PKI is X.509: the DER certificate is the value of '7F21',
///      as the ECASD's own certificate is; SGP.02 uses the GP certificate
///      format there).
///   2. STORE DATA 'A6' key-agreement CRT || '7F49' { '86' ePK.DP.ECKA } ||
///      '5F37' signature of the SM-DP (SK.DP.ECDSA, plain r‖s) over the CRT
///      and '7F49' elements as sent.
///   3. The answer: '85' DR (16 random bytes of the card) || '86' receipt.
///
/// Both ends then hold ShS = ECKA(eSK.DP, PK.ECASD) = ECKA(SK.ECASD, ePK.DP)
/// and KeyData = X9.63-KDF-SHA256(ShS, SharedInfo, 64) with SharedInfo =
/// key usage || key type || key length || DR, split as receipt key || K-ENC
/// || K-MAC || K-DEK (AES-128, the ISD-P's SCP03 key set); the receipt is
/// AES-CMAC(receipt key, CRT || '7F49' || '85' elements).
///
/// Checked against a public SGP.02 implementation (bagyenda/njiwa, its ES8
/// key establishment towards a new ISD-P), not against the Amendment E /
/// SGP.02 text (no copy was reachable): the key usage qualifier '5C' of one
/// SCP03 key set (as there, also first byte of SharedInfo), and the '90'
/// scenario parameter '03 0A': scenario #3, b2 "DR included in the
/// derivation" and b4 "certificate verification precedes" (the SM-DP's
/// certificate is sent first), as njiwa codes them; this project had '03 01'
/// before. Still this project's reading, kept in this one header: the order
/// of SharedInfo, the KeyData split and what the receipt covers, the '5F37'
/// signature beside the ephemeral key, and the framing: njiwa wraps the
/// certificate in DGI '3A01' (STORE DATA P1 '09') and the CRT in DGI '3A02'
/// (P1 '89'), sends the optional '91', '82', '45' and '84' tags and a
/// different SharedInfo (with the host and card identifiers); we send '7F21'
/// and 'A6' as they are. The tags 'A6' (CRT for key agreement), '80' key type ('88'
/// AES), '81' key length, '83' key version, '85' DR, '86' receipt, '7F49' and
/// '7F21' follow GP Card Specification v2.3 §11.8 / Amendment E usage.

#include <cstdint>
#include <optional>
#include <vector>

#include "rsp/apdu/command.hpp"
#include "rsp/common/bytes.hpp"
#include "rsp/common/expected.hpp"
#include "rsp/crypto/bsp.hpp"
#include "rsp/crypto/ec_key.hpp"

namespace rsp::m2m::es8 {

inline constexpr std::uint32_t kTagCertificate = 0x7F21;
inline constexpr std::uint32_t kTagCrt = 0xA6;
inline constexpr std::uint32_t kTagScenario = 0x90;
inline constexpr std::uint32_t kTagKeyUsage = 0x95;
inline constexpr std::uint32_t kTagKeyType = 0x80;
inline constexpr std::uint32_t kTagKeyLength = 0x81;
inline constexpr std::uint32_t kTagKeyVersion = 0x83;
inline constexpr std::uint32_t kTagPublicKey = 0x7F49;
inline constexpr std::uint32_t kTagPoint = 0x86;
inline constexpr std::uint32_t kTagSignature = 0x5F37;
inline constexpr std::uint32_t kTagDr = 0x85;
inline constexpr std::uint32_t kTagReceipt = 0x86;

/// Scenario #3 with b2 (DR) and b4 (certificate first), as bagyenda/njiwa codes it.
inline constexpr std::uint8_t kScenario3[] = {0x03, 0x0A};
/// One SCP03 key set, as bagyenda/njiwa's key establishment uses it.
inline constexpr std::uint8_t kKeyUsageScp03 = 0x5C;
/// The same key establishment towards the ISD-R (SGP.02 §3.8 SM-SR change,
/// ES7.CreateAdditionalKeyset): the new SM-SR's SCP80 key set and SCP81 PSK.
/// This key usage qualifier is this project's choice, not yet checked against
/// the SGP.02 text; with it, KeyData's three keys are KIc, KID and the PSK
/// (DerivedKeys' enc, mac, dek) of key version '83'.
inline constexpr std::uint8_t kKeyUsageIsdR = 0x3C;
inline constexpr std::uint8_t kKeyTypeAes = 0x88;           ///< GP v2.3 Table 11-16
inline constexpr std::uint8_t kKeyLength128 = 0x10;
/// The key version of the ISD-P's SCP03 key set (GP Amendment D §7: '30'..'3F').
inline constexpr std::uint8_t kDefaultKeyVersion = 0x30;
inline constexpr std::size_t kDrSize = 16;
inline constexpr std::size_t kReceiptSize = 16;
/// Largest message the card reassembles from STORE DATA blocks.
inline constexpr std::size_t kMaxMessage = 4096;

enum class Es8Error {
  Malformed,       ///< not the TLVs this step needs
  Unsupported,     ///< a scenario, key type or length other than the ones above
  Crypto,          ///< key derivation or CMAC failed
  Receipt,         ///< the card's receipt does not verify (host side)
};

/// The key-agreement parameters of message 2.
struct KeyAgreement {
  std::uint8_t key_usage = kKeyUsageScp03;  ///< kKeyUsageScp03 (ISD-P) or kKeyUsageIsdR
  std::uint8_t key_version = kDefaultKeyVersion;
  Bytes ephemeral_point;  ///< ePK.DP.ECKA, uncompressed (04 || x || y)
  Bytes signature;        ///< '5F37' value
  Bytes signed_part;      ///< the 'A6' and '7F49' elements as received (what '5F37' covers)
};

/// The ISD-P's SCP03 key set and the receipt key (wiped on destruction).
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

/// The 'A6' and '7F49' elements (what the SM-DP signs).
Bytes encode_key_agreement_body(std::uint8_t key_version, ByteView ephemeral_point,
                                std::uint8_t key_usage = kKeyUsageScp03);
/// Message 1's and message 2's data fields.
Bytes encode_certificate_message(ByteView certificate_der);
Bytes encode_key_agreement_message(ByteView signed_part, ByteView signature);

expected<Bytes, Es8Error> decode_certificate_message(ByteView data);
expected<KeyAgreement, Es8Error> decode_key_agreement_message(ByteView data);

/// The card's answer to message 2: '85' DR || '86' receipt.
struct Receipt {
  Bytes dr;
  Bytes receipt;
};
Bytes encode_receipt(const Receipt& r);
expected<Receipt, Es8Error> decode_receipt(ByteView data);

/// KeyData from the shared secret and the card's DR.
expected<DerivedKeys, Es8Error> derive_keys(ByteView shared_secret, ByteView dr,
                                            std::uint8_t key_usage = kKeyUsageScp03);
/// The receipt over the key-agreement body and the DR.
expected<Bytes, Es8Error> compute_receipt(ByteView receipt_key, ByteView signed_part, ByteView dr);

/// The host side of message 2 and of the answer, for any host (the new
/// SM-SR towards the ISD-R, ES7): a fresh ephemeral key on the ECASD's
/// curve, the key-agreement body signed with `signing_key`, kept until the
/// card's answer; finish() checks the receipt and returns the keys, once.
class HostAgreement {
 public:
  static expected<HostAgreement, Es8Error> start(const crypto::EcKey& signing_key, const crypto::EcKey& ecasd_public,
                                                 std::uint8_t key_version, std::uint8_t key_usage);
  /// Message 2's data field ('A6' || '7F49' || '5F37').
  const Bytes& message() const { return message_; }
  expected<DerivedKeys, Es8Error> finish(ByteView answer);

 private:
  HostAgreement(crypto::EcKey ephemeral, crypto::EcKey ecasd, Bytes signed_part, Bytes msg, std::uint8_t usage)
      : ephemeral_(std::move(ephemeral)), ecasd_(std::move(ecasd)), signed_part_(std::move(signed_part)),
        message_(std::move(msg)), usage_(usage) {}
  std::optional<crypto::EcKey> ephemeral_;
  crypto::EcKey ecasd_;
  Bytes signed_part_;
  Bytes message_;
  std::uint8_t usage_;
};

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
/// data bytes, CLA '80'.
std::vector<apdu::Command> store_data_blocks(ByteView message);

}  // namespace rsp::m2m::es8
