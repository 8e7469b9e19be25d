#include "rsp/crypto/bsp.hpp"

#include <algorithm>

#include "ossl.hpp"
#include "rsp/crypto/aes.hpp"
#include "rsp/crypto/kdf.hpp"

namespace rsp::crypto {

using detail::fail;
using Code = CryptoError::Code;

namespace {

constexpr std::size_t kKeyBytes = 16;

void append_ber_length(Bytes& out, std::size_t len) {
  if (len < 0x80) {
    out.push_back(static_cast<std::uint8_t>(len));
  } else if (len <= 0xFF) {
    out.push_back(0x81);
    out.push_back(static_cast<std::uint8_t>(len));
  } else {
    out.push_back(0x82);
    out.push_back(static_cast<std::uint8_t>(len >> 8));
    out.push_back(static_cast<std::uint8_t>(len));
  }
}

Bytes tlv_header(std::uint8_t tag, std::size_t value_len) {
  Bytes h{tag};
  append_ber_length(h, value_len);
  return h;
}

struct ParsedSegment {
  ByteView header;   // tag and length octets, as received
  ByteView payload;  // ciphertext or data, without the MAC
  ByteView mac;
};

/// Strict single-TLV parse: expected one-byte tag, minimal definite length
/// covering exactly the rest of the segment.
CryptoResult<ParsedSegment> parse_segment(std::uint8_t expected_tag, ByteView seg, std::size_t max_segment) {
  if (seg.size() < 2 || seg.size() > max_segment)
    return fail(Code::InvalidInput, "BSP segment size out of range");
  if (seg[0] != expected_tag) return fail(Code::InvalidInput, "unexpected BSP segment tag");
  std::size_t len = 0, hdr = 0;
  if (seg[1] < 0x80) {
    len = seg[1];
    hdr = 2;
  } else if (seg[1] == 0x81 && seg.size() >= 3 && seg[2] >= 0x80) {
    len = seg[2];
    hdr = 3;
  } else if (seg[1] == 0x82 && seg.size() >= 4 && seg[2] != 0) {
    len = (std::size_t{seg[2]} << 8) | seg[3];
    hdr = 4;
  } else {
    return fail(Code::InvalidInput, "malformed BSP segment length");
  }
  if (hdr + len != seg.size()) return fail(Code::InvalidInput, "BSP segment length mismatch");
  if (len < kBspMacSize) return fail(Code::InvalidInput, "BSP segment shorter than its MAC");
  return ParsedSegment{seg.first(hdr), seg.subspan(hdr, len - kBspMacSize),
                       seg.last(kBspMacSize)};
}

}  // namespace

BspKeys::~BspKeys() {
  wipe(s_enc);
  wipe(s_mac);
  wipe(initial_mcv);
}

Bytes bsp_shared_info(std::uint8_t key_type, std::uint8_t key_length, ByteView host_id,
                      ByteView eid) {
  Bytes out{key_type, key_length};
  append_ber_length(out, host_id.size());
  out.insert(out.end(), host_id.begin(), host_id.end());
  append_ber_length(out, eid.size());
  out.insert(out.end(), eid.begin(), eid.end());
  return out;
}

CryptoResult<BspKeys> derive_bsp_keys(ByteView shared_secret, ByteView host_id, ByteView eid,
                                      std::uint8_t key_type, std::uint8_t key_length) {
  if (key_length != kKeyBytes) return fail(Code::InvalidInput, "only AES-128 BSP keys");
  if (host_id.size() > 0xFFFF || eid.size() > 0xFFFF)
    return fail(Code::InvalidInput, "hostId or EID too long");
  RSP_TRY(Bytes data, x963_kdf_sha256(shared_secret,
                                      bsp_shared_info(key_type, key_length, host_id, eid),
                                      3 * kKeyBytes));
  auto part = [&](std::size_t i) {
    return Bytes(data.begin() + static_cast<std::ptrdiff_t>(i * kKeyBytes),
                 data.begin() + static_cast<std::ptrdiff_t>((i + 1) * kKeyBytes));
  };
  BspKeys keys(part(1), part(2), part(0));
  wipe(data);
  return keys;
}

BspSession::BspSession(BspKeys keys) : keys_(std::move(keys)), mcv_(keys_.initial_mcv) {}

BspSession::~BspSession() { wipe(mcv_); }

void BspSession::replace_keys(BspKeys keys) {
  keys_ = std::move(keys);
  enc_.reset();
  mac_.reset();
  wipe(mcv_);
  mcv_ = keys_.initial_mcv;
  counter_ = 1;
}

CryptoResult<AesKey*> BspSession::key(std::optional<AesKey>& slot, const Bytes& material) {
  if (!slot) {
    RSP_TRY(AesKey made, AesKey::make(material));
    slot.emplace(std::move(made));
  }
  return &*slot;
}

/// C-MAC = CMAC(S-MAC, MCV || tag || L || data) (SGP.22 §2.6.4), over the parts
/// where they lie.
CryptoResult<Bytes> BspSession::mac_over(ByteView header, ByteView payload) {
  RSP_TRY(AesKey * k, key(mac_, keys_.s_mac));
  return k->cmac({mcv_, header, payload});
}

void BspSession::set_max_segment(std::size_t bytes) {
  max_segment_ = std::clamp<std::size_t>(bytes, kBspMaxSegment, 0xFFFF + 4);
}

CryptoResult<Bytes> BspSession::encrypt_and_mac(std::uint8_t tag, ByteView plaintext) {
  // Tag, three length octets and the MAC around the padded ciphertext
  // (padding adds 1 to 16 bytes): 1007 bytes for SGP.22's 1020.
  const std::size_t max_plaintext = (max_segment_ - 4 - kBspMacSize) / kAesBlock * kAesBlock - 1;
  if (plaintext.size() > max_plaintext)
    return fail(Code::InvalidInput, "BSP plaintext too long for one segment");
  RSP_TRY(AesKey * enc, key(enc_, keys_.s_enc));
  RSP_TRY(Bytes icv, enc->encrypt_block(counter_block(counter_)));
  Bytes padded = pad_iso9797_m2(plaintext);
  auto cipher = enc->cbc_encrypt(icv, padded);
  wipe(padded);
  if (!cipher) return unexpected(cipher.error());
  Bytes header = tlv_header(tag, cipher->size() + kBspMacSize);
  RSP_TRY(Bytes mac, mac_over(header, *cipher));
  Bytes out = concat({header, *cipher, ByteView(mac).first(kBspMacSize)});
  mcv_ = std::move(mac);
  ++counter_;
  return out;
}

CryptoResult<Bytes> BspSession::mac_only(std::uint8_t tag, ByteView plaintext) {
  if (plaintext.size() > kBspMaxPayload)
    return fail(Code::InvalidInput, "BSP data too long for one segment");
  Bytes header = tlv_header(tag, plaintext.size() + kBspMacSize);
  RSP_TRY(Bytes mac, mac_over(header, plaintext));
  Bytes out = concat({header, plaintext, ByteView(mac).first(kBspMacSize)});
  mcv_ = std::move(mac);
  ++counter_;
  return out;
}

CryptoResult<std::vector<Bytes>> BspSession::encrypt_and_mac_segments(std::uint8_t tag,
                                                                      ByteView data) {
  std::vector<Bytes> out;
  do {
    ByteView chunk = data.first(std::min(data.size(), kBspMaxPlaintext));
    RSP_TRY(Bytes seg, encrypt_and_mac(tag, chunk));
    out.push_back(std::move(seg));
    data = data.subspan(chunk.size());
  } while (!data.empty());
  return out;
}

CryptoResult<Bytes> BspSession::verify_and_decrypt(std::uint8_t expected_tag, ByteView segment) {
  RSP_TRY(ParsedSegment seg, parse_segment(expected_tag, segment, max_segment_));
  if (seg.payload.empty() || seg.payload.size() % kAesBlock != 0)
    return fail(Code::InvalidInput, "BSP ciphertext is not a multiple of the block size");
  RSP_TRY(Bytes mac, mac_over(seg.header, seg.payload));
  if (!equal_ct(ByteView(mac).first(kBspMacSize), seg.mac))
    return fail(Code::MacMismatch, "BSP segment MAC does not verify");
  RSP_TRY(AesKey * enc, key(enc_, keys_.s_enc));
  RSP_TRY(Bytes icv, enc->encrypt_block(counter_block(counter_)));
  RSP_TRY(Bytes padded, enc->cbc_decrypt(icv, seg.payload));
  auto plain = unpad_iso9797_m2(padded);
  wipe(padded);
  if (!plain) return unexpected(plain.error());
  mcv_ = std::move(mac);
  ++counter_;
  return plain;
}

CryptoResult<Bytes> BspSession::verify_mac_only(std::uint8_t expected_tag, ByteView segment) {
  RSP_TRY(ParsedSegment seg, parse_segment(expected_tag, segment, max_segment_));
  RSP_TRY(Bytes mac, mac_over(seg.header, seg.payload));
  if (!equal_ct(ByteView(mac).first(kBspMacSize), seg.mac))
    return fail(Code::MacMismatch, "BSP segment MAC does not verify");
  mcv_ = std::move(mac);
  ++counter_;
  return Bytes(seg.payload.begin(), seg.payload.end());
}

}  // namespace rsp::crypto
