#include "rsp/crypto/scp03.hpp"

#include <array>
#include <optional>

#include "ossl.hpp"
#include "rsp/crypto/aes.hpp"
#include "rsp/crypto/kdf.hpp"

namespace rsp::crypto {

using detail::fail;
using Code = CryptoError::Code;

namespace {

constexpr std::size_t kChallenge = 8;
constexpr std::size_t kMac = 8;

/// A short APDU split into its parts (ISO/IEC 7816-4 §5.1, cases 1-4).
struct Apdu {
  std::array<std::uint8_t, 4> header;  // CLA INS P1 P2
  Bytes data;
  std::optional<std::uint8_t> le;
};

std::optional<Apdu> parse_short_apdu(ByteView a) {
  if (a.size() < 4) return std::nullopt;
  Apdu out{{a[0], a[1], a[2], a[3]}, {}, std::nullopt};
  if (a.size() == 4) return out;
  if (a.size() == 5) {
    out.le = a[4];
    return out;
  }
  std::size_t lc = a[4];
  if (lc == 0) return std::nullopt;  // extended length: not supported
  if (a.size() == 5 + lc) {
    out.data.assign(a.begin() + 5, a.end());
  } else if (a.size() == 6 + lc) {
    out.data.assign(a.begin() + 5, a.end() - 1);
    out.le = a.back();
  } else {
    return std::nullopt;
  }
  return out;
}

Bytes context(ByteView host_challenge, ByteView card_challenge) {
  return concat({host_challenge, card_challenge});
}

}  // namespace

Scp03StaticKeys::~Scp03StaticKeys() {
  wipe(enc);
  wipe(mac);
}

Scp03SessionKeys::~Scp03SessionKeys() {
  wipe(s_enc);
  wipe(s_mac);
  wipe(s_rmac);
}

Scp03Channel::~Scp03Channel() { wipe(mcv_); }

CryptoResult<Scp03SessionKeys> derive_scp03_session_keys(const Scp03StaticKeys& keys,
                                                         ByteView host_challenge,
                                                         ByteView card_challenge) {
  if (host_challenge.size() != kChallenge || card_challenge.size() != kChallenge)
    return fail(Code::InvalidInput, "SCP03 challenges must be 8 bytes (S8 mode)");
  if (keys.enc.size() != keys.mac.size())
    return fail(Code::InvalidInput, "SCP03 static keys differ in length");
  auto bits = static_cast<std::uint16_t>(keys.enc.size() * 8);
  Bytes ctx = context(host_challenge, card_challenge);
  Scp03SessionKeys s;
  RSP_TRY(s.s_enc, sp800_108_cmac_gp(keys.enc, static_cast<std::uint8_t>(Scp03Constant::SEnc),
                                     ctx, bits));
  RSP_TRY(s.s_mac, sp800_108_cmac_gp(keys.mac, static_cast<std::uint8_t>(Scp03Constant::SMac),
                                     ctx, bits));
  RSP_TRY(s.s_rmac, sp800_108_cmac_gp(keys.mac, static_cast<std::uint8_t>(Scp03Constant::SRmac),
                                      ctx, bits));
  return s;
}

CryptoResult<Bytes> scp03_cryptogram(ByteView s_mac, Scp03Constant which, ByteView host_challenge,
                                     ByteView card_challenge) {
  return sp800_108_cmac_gp(s_mac, static_cast<std::uint8_t>(which),
                           context(host_challenge, card_challenge), 64);
}

CryptoResult<Bytes> Scp03Channel::command_mac(ByteView header_with_lc, ByteView data) const {
  return aes_cmac(keys_.s_mac, concat({mcv_, header_with_lc, data}));
}

CryptoResult<Bytes> Scp03Channel::response_mac(ByteView data, std::uint16_t sw) const {
  std::uint8_t sw_bytes[2] = {static_cast<std::uint8_t>(sw >> 8), static_cast<std::uint8_t>(sw)};
  RSP_TRY(Bytes full, aes_cmac(keys_.s_rmac, concat({mcv_, data, sw_bytes})));
  full.resize(kMac);
  return full;
}

CryptoResult<Bytes> Scp03Channel::icv(bool response) const {
  // Command ICV: E(S-ENC, counter); response ICV: E(S-ENC, '80' || counter).
  return response ? aes_encrypt_block(keys_.s_enc, counter_block(response_counter_, 0x80))
                  : aes_encrypt_block(keys_.s_enc, counter_block(counter_));
}

// ---- host ---------------------------------------------------------------------------------

CryptoResult<Scp03Host> Scp03Host::establish(const Scp03StaticKeys& keys, ByteView host_challenge,
                                             ByteView card_challenge, ByteView card_cryptogram,
                                             std::uint8_t security_level) {
  RSP_TRY(Scp03SessionKeys s, derive_scp03_session_keys(keys, host_challenge, card_challenge));
  RSP_TRY(Bytes expected, scp03_cryptogram(s.s_mac, Scp03Constant::CardCryptogram,
                                           host_challenge, card_challenge));
  if (!equal_ct(expected, card_cryptogram))
    return fail(Code::MacMismatch, "SCP03 card cryptogram does not verify");
  RSP_TRY(Bytes host_crypto, scp03_cryptogram(s.s_mac, Scp03Constant::HostCryptogram,
                                              host_challenge, card_challenge));
  return Scp03Host(std::move(s), security_level, std::move(host_crypto));
}

CryptoResult<Bytes> Scp03Host::external_authenticate() {
  if (authenticated_) return fail(Code::InvalidInput, "EXTERNAL AUTHENTICATE already sent");
  Bytes header{0x84, 0x82, level_, 0x00, static_cast<std::uint8_t>(host_cryptogram_.size() + kMac)};
  RSP_TRY(Bytes mac, command_mac(header, host_cryptogram_));
  Bytes out = concat({header, host_cryptogram_, ByteView(mac).first(kMac)});
  mcv_ = std::move(mac);
  authenticated_ = true;
  return out;
}

CryptoResult<Bytes> Scp03Host::wrap_command(ByteView apdu) {
  if (!authenticated_) return fail(Code::InvalidInput, "SCP03 session not authenticated");
  auto parsed = parse_short_apdu(apdu);
  if (!parsed) return fail(Code::InvalidInput, "not a short command APDU");
  Bytes data = std::move(parsed->data);
  if ((level_ & scp03_level::kCDecryption) && !data.empty()) {
    RSP_TRY(Bytes iv, icv(false));
    Bytes padded = pad_iso9797_m2(data);
    RSP_TRY(data, aes_cbc_encrypt(keys_.s_enc, iv, padded));
  }
  if (data.size() + kMac > 255) return fail(Code::InvalidInput, "protected command too long");
  const auto& h = parsed->header;
  Bytes header{static_cast<std::uint8_t>(h[0] | 0x04), h[1], h[2], h[3],
               static_cast<std::uint8_t>(data.size() + kMac)};
  RSP_TRY(Bytes mac, command_mac(header, data));
  Bytes out = concat({header, data, ByteView(mac).first(kMac)});
  if (parsed->le) out.push_back(*parsed->le);
  mcv_ = std::move(mac);
  response_counter_ = counter_;
  ++counter_;
  return out;
}

CryptoResult<Bytes> Scp03Host::unwrap_response(ByteView response_data, std::uint16_t sw) {
  ByteView data = response_data;
  if (level_ & scp03_level::kRMac) {
    if (data.size() < kMac) return fail(Code::InvalidInput, "response shorter than its R-MAC");
    ByteView rmac = data.last(kMac);
    data = data.first(data.size() - kMac);
    RSP_TRY(Bytes expected, response_mac(data, sw));
    if (!equal_ct(expected, rmac)) return fail(Code::MacMismatch, "R-MAC does not verify");
  }
  if ((level_ & scp03_level::kREncryption) && !data.empty()) {
    if (data.size() % kAesBlock != 0)
      return fail(Code::InvalidInput, "encrypted response is not block aligned");
    RSP_TRY(Bytes iv, icv(true));
    RSP_TRY(Bytes padded, aes_cbc_decrypt(keys_.s_enc, iv, data));
    return unpad_iso9797_m2(padded);
  }
  return Bytes(data.begin(), data.end());
}

// ---- card ---------------------------------------------------------------------------------

CryptoResult<Scp03Card> Scp03Card::establish(const Scp03StaticKeys& keys, ByteView host_challenge,
                                             ByteView card_challenge) {
  RSP_TRY(Scp03SessionKeys s, derive_scp03_session_keys(keys, host_challenge, card_challenge));
  RSP_TRY(Bytes card_crypto, scp03_cryptogram(s.s_mac, Scp03Constant::CardCryptogram,
                                              host_challenge, card_challenge));
  RSP_TRY(Bytes host_crypto, scp03_cryptogram(s.s_mac, Scp03Constant::HostCryptogram,
                                              host_challenge, card_challenge));
  return Scp03Card(std::move(s), std::move(card_crypto), std::move(host_crypto));
}

CryptoResult<void> Scp03Card::verify_external_authenticate(ByteView apdu) {
  if (authenticated_) return fail(Code::InvalidInput, "already authenticated");
  if (apdu.size() != 5 + 16 || apdu[0] != 0x84 || apdu[1] != 0x82 || apdu[3] != 0x00 ||
      apdu[4] != 16)
    return fail(Code::InvalidInput, "malformed EXTERNAL AUTHENTICATE");
  ByteView header = apdu.first(5), body = apdu.subspan(5, 8), mac = apdu.last(kMac);
  RSP_TRY(Bytes expected, command_mac(header, body));
  if (!equal_ct(body, host_cryptogram_) || !equal_ct(ByteView(expected).first(kMac), mac))
    return fail(Code::MacMismatch, "host cryptogram or C-MAC does not verify");
  mcv_ = std::move(expected);
  level_ = apdu[2];
  authenticated_ = true;
  return {};
}

CryptoResult<Bytes> Scp03Card::unwrap_command(ByteView apdu) {
  if (!authenticated_) return fail(Code::InvalidInput, "SCP03 session not authenticated");
  auto parsed = parse_short_apdu(apdu);
  if (!parsed || !(parsed->header[0] & 0x04) || parsed->data.size() < kMac)
    return fail(Code::InvalidInput, "not a secured short command APDU");
  ByteView body(parsed->data);
  ByteView data = body.first(body.size() - kMac), mac = body.last(kMac);
  const auto& h = parsed->header;
  Bytes header{h[0], h[1], h[2], h[3], static_cast<std::uint8_t>(body.size())};
  RSP_TRY(Bytes expected, command_mac(header, data));
  if (!equal_ct(ByteView(expected).first(kMac), mac))
    return fail(Code::MacMismatch, "C-MAC does not verify");
  Bytes plain(data.begin(), data.end());
  if ((level_ & scp03_level::kCDecryption) && !plain.empty()) {
    if (plain.size() % kAesBlock != 0)
      return fail(Code::InvalidInput, "encrypted command is not block aligned");
    RSP_TRY(Bytes iv, icv(false));
    RSP_TRY(Bytes padded, aes_cbc_decrypt(keys_.s_enc, iv, plain));
    RSP_TRY(plain, unpad_iso9797_m2(padded));
  }
  mcv_ = std::move(expected);
  response_counter_ = counter_;
  ++counter_;
  Bytes out{static_cast<std::uint8_t>(h[0] & ~0x04), h[1], h[2], h[3]};
  if (!plain.empty()) {
    out.push_back(static_cast<std::uint8_t>(plain.size()));
    out.insert(out.end(), plain.begin(), plain.end());
  }
  if (parsed->le) out.push_back(*parsed->le);
  return out;
}

CryptoResult<Bytes> Scp03Card::wrap_response(ByteView response_data, std::uint16_t sw) {
  Bytes data(response_data.begin(), response_data.end());
  if ((level_ & scp03_level::kREncryption) && !data.empty()) {
    RSP_TRY(Bytes iv, icv(true));
    RSP_TRY(data, aes_cbc_encrypt(keys_.s_enc, iv, pad_iso9797_m2(data)));
  }
  if (level_ & scp03_level::kRMac) {
    RSP_TRY(Bytes rmac, response_mac(data, sw));
    data.insert(data.end(), rmac.begin(), rmac.end());
  }
  return data;
}

}  // namespace rsp::crypto
