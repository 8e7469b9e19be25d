#include "rsp/crypto/scp80.hpp"

#include "rsp/crypto/aes.hpp"
#include "rsp/crypto/des.hpp"

namespace rsp::crypto::scp80 {

namespace {

constexpr std::size_t kCcSize = 8;
constexpr std::size_t kCounterSize = 5;

unexpected<Scp80Error> err(Status s, std::string msg, bool no_por = false) {
  return unexpected(Scp80Error{s, std::move(msg), no_por});
}

std::size_t checksum_size(Integrity i) { return i == Integrity::CryptographicChecksum ? kCcSize : 0; }

/// The algorithm a KIc / KID octet names (TS 102 225 §5.1.2, §5.1.3): b1-b2
/// '01' DES with b3-b4 the mode, '10' AES with b3-b4 '00' (CBC resp. CMAC).
/// Implicitly known ('00'), proprietary ('11'), DES-ECB and reserved codings
/// are not supported.
enum class Algo { Aes, Des, Unsupported };

Algo algo_of(std::uint8_t key_id) {
  const unsigned mode = (key_id >> 2) & 0x03;
  switch (key_id & 0x03) {
    case 0x01: return mode == static_cast<unsigned>(DesMode::Ecb) ? Algo::Unsupported : Algo::Des;
    case 0x02: return mode == 0 ? Algo::Aes : Algo::Unsupported;
    default: return Algo::Unsupported;
  }
}

std::size_t block_of(Algo a) { return a == Algo::Des ? kDesBlock : kAesBlock; }

/// Whether `key` has the length the key identifier implies.
bool key_fits(std::uint8_t key_id, ByteView key) {
  switch (algo_of(key_id)) {
    case Algo::Aes: return key.size() == 16 || key.size() == 24 || key.size() == 32;
    case Algo::Des: {
      static constexpr std::size_t kLen[] = {8, 16, 24};
      return key.size() == kLen[(key_id >> 2) & 0x03];
    }
    default: return false;
  }
}

void put_counter(Bytes& out, std::uint64_t c) {
  for (int i = 4; i >= 0; --i) out.push_back(static_cast<std::uint8_t>(c >> (8 * i)));
}

std::uint64_t get_counter(ByteView b) {
  std::uint64_t c = 0;
  for (std::size_t i = 0; i < kCounterSize; ++i) c = (c << 8) | b[i];
  return c;
}

std::size_t padding_for(std::size_t len, std::size_t block) { return (block - len % block) % block; }

/// The cryptographic checksum over `prefix || covered` with the KID's algorithm.
expected<Bytes, Status> checksum(std::uint8_t kid, const Keys& keys, ByteView prefix, ByteView covered) {
  if (!key_fits(kid, keys.kid)) return unexpected(Status::SecurityError);
  Bytes in = concat({prefix, covered});
  CryptoResult<Bytes> mac = unexpected(CryptoError{CryptoError::Code::InvalidInput, {}});
  if (algo_of(kid) == Algo::Des) {
    // TS 102 225 §5.1.3: zero padding to a whole block, for the CC only.
    in.insert(in.end(), padding_for(in.size(), kDesBlock), 0x00);
    mac = des_cbc_mac(keys.kid, in);
  } else {
    mac = aes_cmac(keys.kid, in);
  }
  if (!mac) return unexpected(Status::SecurityError);
  mac->resize(kCcSize);
  return std::move(*mac);
}

/// Ciphers or deciphers with the KIc's algorithm from a zero ICV.
expected<Bytes, Status> cipher(std::uint8_t kic, const Keys& keys, ByteView data, bool encrypt) {
  if (!key_fits(kic, keys.kic)) return unexpected(Status::SecurityError);
  const Algo a = algo_of(kic);
  if (data.empty() || data.size() % block_of(a) != 0) return unexpected(Status::CipheringError);
  const Bytes icv(block_of(a), 0);
  auto out = a == Algo::Des ? (encrypt ? des_cbc_encrypt(keys.kic, icv, data) : des_cbc_decrypt(keys.kic, icv, data))
                            : (encrypt ? aes_cbc_encrypt(keys.kic, icv, data) : aes_cbc_decrypt(keys.kic, icv, data));
  if (!out) return unexpected(Status::CipheringError);
  return std::move(*out);
}

/// Checks the integrity method and algorithms requested are ones we implement.
bool supported(Integrity i, bool ciphering, std::uint8_t kic, std::uint8_t kid) {
  if (i == Integrity::RedundancyCheck || i == Integrity::DigitalSignature) return false;
  if (i == Integrity::CryptographicChecksum && algo_of(kid) == Algo::Unsupported) return false;
  if (ciphering && algo_of(kic) == Algo::Unsupported) return false;
  return true;
}

}  // namespace

Keys::~Keys() {
  wipe(kic);
  wipe(kid);
}

std::array<std::uint8_t, 2> Spi::encode() const {
  auto first = static_cast<std::uint8_t>(static_cast<unsigned>(integrity) | (ciphering ? 0x04u : 0u) |
                                         (static_cast<unsigned>(counter) << 3));
  auto second = static_cast<std::uint8_t>(
      static_cast<unsigned>(por) | (static_cast<unsigned>(por_integrity) << 2) |
      (por_ciphered ? 0x10u : 0u) | (por_via_sms_submit ? 0x20u : 0u));
  return {first, second};
}

std::optional<Spi> Spi::decode(std::uint8_t first, std::uint8_t second) {
  if ((first & 0xE0) != 0 || (second & 0xC0) != 0 || (second & 0x03) == 0x03) return std::nullopt;
  Spi s;
  s.integrity = static_cast<Integrity>(first & 0x03);
  s.ciphering = (first & 0x04) != 0;
  s.counter = static_cast<CounterMode>((first >> 3) & 0x03);
  s.por = static_cast<PorMode>(second & 0x03);
  s.por_integrity = static_cast<Integrity>((second >> 2) & 0x03);
  s.por_ciphered = (second & 0x10) != 0;
  s.por_via_sms_submit = (second & 0x20) != 0;
  return s;
}

Status check_counter(CounterMode mode, std::uint64_t received, std::uint64_t stored) {
  if (mode == CounterMode::None || mode == CounterMode::Available) return Status::PorOk;
  if (stored >= kMaxCounter) return Status::CounterBlocked;
  if (received <= stored) return Status::CounterLow;
  if (mode == CounterMode::OneHigher && received != stored + 1) return Status::CounterHigh;
  return Status::PorOk;
}

Scp80Result<Bytes> build_command_packet(const CommandHeader& h, const Keys& keys,
                                        ByteView secured_data) {
  const Spi& spi = h.spi;
  if (!supported(spi.integrity, spi.ciphering, h.kic, h.kid))
    return err(Status::SecurityError, "unsupported algorithm in KIc/KID or SPI");
  if (h.counter > kMaxCounter) return err(Status::CounterBlocked, "counter exceeds five octets");
  const std::size_t cc_len = checksum_size(spi.integrity);
  const std::size_t block = block_of(algo_of(h.kic));
  const std::size_t pad = spi.ciphering ? padding_for(kCounterSize + 1 + cc_len + secured_data.size(), block) : 0;
  const std::size_t chl = 13 + cc_len;
  const std::size_t cpl = 1 + chl + secured_data.size() + pad;
  if (cpl > 0xFFFF) return err(Status::InsufficientMemory, "command packet too long");

  auto spi_bytes = spi.encode();
  Bytes head{static_cast<std::uint8_t>(cpl >> 8), static_cast<std::uint8_t>(cpl),
             static_cast<std::uint8_t>(chl), spi_bytes[0], spi_bytes[1], h.kic, h.kid,
             h.tar[0], h.tar[1], h.tar[2]};
  Bytes counters;
  put_counter(counters, h.counter);
  counters.push_back(static_cast<std::uint8_t>(pad));
  Bytes data(secured_data.begin(), secured_data.end());
  data.insert(data.end(), pad, 0x00);

  Bytes cc;
  if (cc_len != 0) {
    auto c = checksum(h.kid, keys, {}, concat({head, counters, data}));
    if (!c) return err(c.error(), "checksum computation failed");
    cc = std::move(*c);
  }
  Bytes tail = concat({counters, cc, data});
  if (spi.ciphering) {
    auto enc = cipher(h.kic, keys, tail, true);
    if (!enc) return err(enc.error(), "ciphering failed");
    tail = std::move(*enc);
  }
  return concat({head, tail});
}

Scp80Result<OpenedCommand> open_command_packet(ByteView p, const KeyLookup& lookup,
                                               std::uint64_t stored_counter) {
  // CPL(2) CHL(1) SPI(2) KIc KID TAR(3) = 10 octets before the (ciphered) tail.
  if (p.size() < 10) return err(Status::SecurityError, "command packet too short", true);
  const std::size_t cpl = (std::size_t{p[0]} << 8) | p[1];
  if (cpl != p.size() - 2) return err(Status::SecurityError, "CPL does not match the packet", true);
  OpenedCommand out;
  CommandHeader& h = out.header;
  h.tar = {p[7], p[8], p[9]};
  auto spi = Spi::decode(p[3], p[4]);
  if (!spi) return err(Status::SecurityError, "reserved SPI coding");
  h.spi = *spi;
  h.kic = p[5];
  h.kid = p[6];
  const std::size_t cc_len = checksum_size(h.spi.integrity);
  if (p[2] != 13 + cc_len) return err(Status::SecurityError, "CHL does not match the SPI");
  if (p.size() < 10 + 6 + cc_len) return err(Status::SecurityError, "command packet truncated");
  if (!supported(h.spi.integrity, h.spi.ciphering, h.kic, h.kid))
    return err(Status::SecurityError, "unsupported algorithm in KIc/KID or SPI");

  auto keys = lookup(h.tar, h.spi, h.kic, h.kid);
  if (!keys) return err(keys.error(), "no keys for this TAR and key identifiers");

  Bytes tail(p.begin() + 10, p.end());
  if (h.spi.ciphering) {
    auto dec = cipher(h.kic, *keys, tail, false);
    if (!dec) return err(dec.error(), "deciphering failed");
    tail = std::move(*dec);
  }
  h.counter = get_counter(tail);
  const std::size_t pcntr = tail[kCounterSize];
  ByteView counters = ByteView(tail).first(kCounterSize + 1);
  ByteView cc = ByteView(tail).subspan(kCounterSize + 1, cc_len);
  ByteView data = ByteView(tail).subspan(kCounterSize + 1 + cc_len);
  if (pcntr > data.size() || (!h.spi.ciphering && pcntr != 0))
    return err(Status::CipheringError, "PCNTR larger than the secured data");

  if (cc_len != 0) {
    Bytes head(p.begin(), p.begin() + 10);
    auto expected_cc = checksum(h.kid, *keys, {}, concat({head, counters, data}));
    if (!expected_cc) return err(expected_cc.error(), "checksum computation failed");
    if (!equal_ct(*expected_cc, cc)) return err(Status::IntegrityFailed, "CC does not verify");
  }
  Status cs = check_counter(h.spi.counter, h.counter, stored_counter);
  if (cs != Status::PorOk) return err(cs, "counter check failed");
  out.data.assign(data.begin(), data.end() - static_cast<std::ptrdiff_t>(pcntr));
  return out;
}

Scp80Result<Bytes> build_response_packet(const Spi& spi, const ResponseParams& r, const Keys& keys,
                                         ByteView additional_data, ByteView cc_prefix) {
  if (!supported(spi.por_integrity, spi.por_ciphered, r.kic, r.kid))
    return err(Status::SecurityError, "unsupported PoR algorithm in KIc/KID or SPI");
  if (r.counter > kMaxCounter) return err(Status::CounterBlocked, "counter exceeds five octets");
  const std::size_t cc_len = checksum_size(spi.por_integrity);
  const std::size_t block = block_of(algo_of(r.kic));
  const std::size_t pad =
      spi.por_ciphered ? padding_for(kCounterSize + 2 + cc_len + additional_data.size(), block) : 0;
  const std::size_t rhl = 10 + cc_len;
  const std::size_t rpl = 1 + rhl + additional_data.size() + pad;
  if (rpl > 0xFFFF) return err(Status::InsufficientMemory, "response packet too long");
  Bytes head{static_cast<std::uint8_t>(rpl >> 8), static_cast<std::uint8_t>(rpl),
             static_cast<std::uint8_t>(rhl), r.tar[0], r.tar[1], r.tar[2]};
  Bytes counters;
  put_counter(counters, r.counter);
  counters.push_back(static_cast<std::uint8_t>(pad));
  counters.push_back(static_cast<std::uint8_t>(r.status));
  Bytes data(additional_data.begin(), additional_data.end());
  data.insert(data.end(), pad, 0x00);
  Bytes cc;
  if (cc_len != 0) {
    auto c = checksum(r.kid, keys, cc_prefix, concat({head, counters, data}));
    if (!c) return err(c.error(), "checksum computation failed");
    cc = std::move(*c);
  }
  Bytes tail = concat({counters, cc, data});
  if (spi.por_ciphered) {
    auto enc = cipher(r.kic, keys, tail, true);
    if (!enc) return err(enc.error(), "ciphering failed");
    tail = std::move(*enc);
  }
  return concat({head, tail});
}

Scp80Result<OpenedResponse> open_response_packet(ByteView p, const Spi& spi, const Keys& keys,
                                                 ByteView cc_prefix) {
  CommandHeader command;
  command.spi = spi;
  return open_response_packet(p, command, keys, cc_prefix);
}

Scp80Result<OpenedResponse> open_response_packet(ByteView p, const CommandHeader& command,
                                                 const Keys& keys, ByteView cc_prefix) {
  const Spi& spi = command.spi;
  // RPL(2) RHL(1) TAR(3) then CNTR(5) PCNTR status [CC] data.
  if (p.size() < 6 + 7) return err(Status::SecurityError, "response packet too short", true);
  const std::size_t rpl = (std::size_t{p[0]} << 8) | p[1];
  if (rpl != p.size() - 2) return err(Status::SecurityError, "RPL does not match the packet", true);
  const std::size_t cc_len = checksum_size(spi.por_integrity);
  if (!supported(spi.por_integrity, spi.por_ciphered, command.kic, command.kid))
    return err(Status::SecurityError, "unsupported PoR algorithm in KIc/KID or SPI");
  const std::size_t rhl = p[2];
  if (rhl != 10 + cc_len) return err(Status::SecurityError, "RHL does not match the SPI");
  OpenedResponse out;
  out.params.tar = {p[3], p[4], p[5]};
  out.params.kic = command.kic;
  out.params.kid = command.kid;
  Bytes tail(p.begin() + 6, p.end());
  if (spi.por_ciphered) {
    auto dec = cipher(command.kic, keys, tail, false);
    if (!dec) return err(dec.error(), "deciphering failed");
    tail = std::move(*dec);
  }
  if (tail.size() < kCounterSize + 2 + cc_len)
    return err(Status::SecurityError, "response packet truncated");
  out.params.counter = get_counter(tail);
  const std::size_t pcntr = tail[kCounterSize];
  out.params.status = static_cast<Status>(tail[kCounterSize + 1]);
  ByteView counters = ByteView(tail).first(kCounterSize + 2);
  ByteView cc = ByteView(tail).subspan(kCounterSize + 2, cc_len);
  ByteView data = ByteView(tail).subspan(kCounterSize + 2 + cc_len);
  if (pcntr > data.size() || (!spi.por_ciphered && pcntr != 0))
    return err(Status::CipheringError, "PCNTR larger than the response data");
  if (cc_len != 0) {
    Bytes head(p.begin(), p.begin() + 6);
    auto expected_cc = checksum(command.kid, keys, cc_prefix, concat({head, counters, data}));
    if (!expected_cc) return err(expected_cc.error(), "checksum computation failed");
    if (!equal_ct(*expected_cc, cc)) return err(Status::IntegrityFailed, "PoR CC does not verify");
  }
  out.data.assign(data.begin(), data.end() - static_cast<std::ptrdiff_t>(pcntr));
  return out;
}

}  // namespace rsp::crypto::scp80
