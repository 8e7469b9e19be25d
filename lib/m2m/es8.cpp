// ES8 key establishment (ECKA scenario #3): the messages, the KDF and the
// receipt both ends compute. Tag choices and what is unconfirmed: es8.hpp.

#include "rsp/m2m/es8.hpp"

#include <algorithm>

#include "rsp/crypto/aes.hpp"
#include "rsp/crypto/ecdsa.hpp"
#include "rsp/crypto/ecka.hpp"
#include "rsp/crypto/kdf.hpp"
#include "rsp/crypto/random.hpp"
#include "rsp/m2m/dgi.hpp"
#include "rsp/tlv/tlv.hpp"

namespace rsp::m2m::es8 {

namespace {

tlv::Tag tag(std::uint32_t raw) { return *tlv::Tag::from_raw(raw); }

/// One element of `tag` and nothing after it in `r`'s current position.
expected<tlv::Tlv, Es8Error> take(tlv::Reader& r, std::uint32_t raw) {
  auto t = r.expect(tag(raw));
  if (!t) return unexpected(Es8Error::Malformed);
  return *t;
}

expected<std::uint8_t, Es8Error> one_byte(tlv::Reader& r, std::uint32_t raw) {
  RSP_TRY(auto t, take(r, raw));
  if (t.value.size() != 1) return unexpected(Es8Error::Malformed);
  return t.value[0];
}

}  // namespace

DerivedKeys::~DerivedKeys() {
  wipe(receipt_key);
  wipe(enc);
  wipe(mac);
  wipe(dek);
}

std::uint8_t key_parameter_reference(crypto::Curve curve) {
  return curve == crypto::Curve::BrainpoolP256r1 ? 0x03 : 0x00;
}

bool valid_identifier(ByteView id) { return id.size() <= kMaxIdentifierSize; }

Bytes encode_crt(std::uint8_t key_usage, std::uint8_t key_version, ByteView host_id, ByteView sdin) {
  tlv::Writer w;
  auto crt = w.begin(tag(kTagCrt));
  w.put(tag(kTagScenario), ByteView(kScenario3, sizeof kScenario3));
  const std::uint8_t type = kKeyTypeAes, length = kKeyLength128, id = kFirstKeyId;
  w.put(tag(kTagKeyUsage), ByteView(&key_usage, 1));
  w.put(tag(kTagKeyType), ByteView(&type, 1));
  w.put(tag(kTagKeyLength), ByteView(&length, 1));
  w.put(tag(kTagKeyId), ByteView(&id, 1));
  w.put(tag(kTagKeyVersion), ByteView(&key_version, 1));
  w.put(tag(kTagInitialCounter), ByteView{});
  if (!sdin.empty()) w.put(tag(kTagSdin), sdin);
  w.put(tag(kTagHostId), host_id);
  w.end(crt);
  return w.take();
}

Bytes encode_key_agreement_body(ByteView crt, ByteView ephemeral_point, crypto::Curve curve) {
  Bytes out = encode_dgi(kDgiKeyAgreement, crt);
  tlv::Writer w;
  auto pk = w.begin(tag(kTagPublicKey));
  w.put(tag(kTagPublicKeyQ), ephemeral_point);
  const std::uint8_t ref = key_parameter_reference(curve);
  w.put(tag(kTagKeyParameterRef), ByteView(&ref, 1));
  w.end(pk);
  auto pk_bytes = w.take();
  out.insert(out.end(), pk_bytes.begin(), pk_bytes.end());
  return out;
}

Bytes signed_data(ByteView body, const std::optional<Bytes>& random_challenge) {
  Bytes out(body.begin(), body.end());
  if (random_challenge) {
    out.insert(out.end(), std::begin(kSignedRcTag), std::end(kSignedRcTag));
    out.push_back(static_cast<std::uint8_t>(random_challenge->size()));  // 16: a one-byte BER length
    out.insert(out.end(), random_challenge->begin(), random_challenge->end());
  }
  return out;
}

Bytes encode_certificate_answer(ByteView random_challenge) {
  return tlv::encode(tag(kTagRandomChallenge), random_challenge);
}

bool is_certificate_message(ByteView message) {
  auto d = next_dgi(message);
  return d && d->id == kDgiCertificate && d->size == message.size();
}

expected<std::optional<Bytes>, Es8Error> decode_certificate_answer(ByteView data) {
  if (data.empty()) return std::optional<Bytes>();
  tlv::Reader r(data);
  RSP_TRY(auto rc, take(r, kTagRandomChallenge));
  if (!r.finish() || rc.value.size() != kRandomChallengeSize) return unexpected(Es8Error::Malformed);
  return std::optional<Bytes>(Bytes(rc.value.begin(), rc.value.end()));
}

Bytes encode_certificate_message(ByteView certificate_der) {
  return encode_dgi(kDgiCertificate, tlv::encode(tag(kTagCertificate), certificate_der));
}

Bytes encode_key_agreement_message(ByteView signed_part, ByteView signature) {
  Bytes out(signed_part.begin(), signed_part.end());
  auto sig = tlv::encode(tag(kTagSignature), signature);
  out.insert(out.end(), sig.begin(), sig.end());
  return out;
}

expected<Bytes, Es8Error> decode_certificate_message(ByteView data) {
  auto d = next_dgi(data);
  if (!d || d->id != kDgiCertificate || d->size != data.size()) return unexpected(Es8Error::Malformed);
  tlv::Reader r(d->value);
  RSP_TRY(auto t, take(r, kTagCertificate));
  if (!r.finish() || t.value.empty()) return unexpected(Es8Error::Malformed);
  return Bytes(t.value.begin(), t.value.end());
}

expected<KeyEstablishmentParts, Es8Error> split_key_establishment(ByteView data) {
  auto d = next_dgi(data);
  if (!d) return unexpected(Es8Error::Malformed);
  KeyEstablishmentParts parts;
  if (d->id == kDgiCertificate) {
    parts.certificate_message = data.first(d->size);
    parts.rest = data.subspan(d->size);
  } else if (d->id == kDgiKeyAgreement) {
    parts.rest = data;
  } else {
    return unexpected(Es8Error::Malformed);
  }
  return parts;
}

expected<KeyAgreement, Es8Error> decode_key_agreement_message(ByteView data) {
  auto d = next_dgi(data);
  if (!d || d->id != kDgiKeyAgreement) return unexpected(Es8Error::Malformed);
  tlv::Reader outer(d->value);
  RSP_TRY(auto crt, take(outer, kTagCrt));
  if (!outer.finish()) return unexpected(Es8Error::Malformed);
  tlv::Reader r(data.subspan(d->size));
  RSP_TRY(auto pk, take(r, kTagPublicKey));
  RSP_TRY(auto sig, take(r, kTagSignature));
  if (!r.finish()) return unexpected(Es8Error::Malformed);

  auto c = outer.enter(crt);
  if (!c) return unexpected(Es8Error::Malformed);
  RSP_TRY(auto scenario, take(*c, kTagScenario));
  RSP_TRY(auto usage, one_byte(*c, kTagKeyUsage));
  RSP_TRY(auto type, one_byte(*c, kTagKeyType));
  RSP_TRY(auto length, one_byte(*c, kTagKeyLength));
  RSP_TRY(auto id, one_byte(*c, kTagKeyId));
  RSP_TRY(auto version, one_byte(*c, kTagKeyVersion));
  RSP_TRY(auto counter, take(*c, kTagInitialCounter));
  // '45' SDIN, when the host knows the card's identifiers (es8.hpp).
  Bytes sdin;
  if (auto next = c->peek_tag(); next && *next && **next == tag(kTagSdin)) {
    RSP_TRY(auto s, take(*c, kTagSdin));
    if (s.value.empty() || !valid_identifier(s.value)) return unexpected(Es8Error::Malformed);
    sdin.assign(s.value.begin(), s.value.end());
  }
  RSP_TRY(auto host, take(*c, kTagHostId));
  if (!c->finish()) return unexpected(Es8Error::Malformed);
  if (!std::ranges::equal(scenario.value, ByteView(kScenario3, sizeof kScenario3)) ||
      (usage != kKeyUsageScp03 && usage != kKeyUsageIsdR) || type != kKeyTypeAes || length != kKeyLength128 ||
      id != kFirstKeyId || !counter.value.empty()) {
    return unexpected(Es8Error::Unsupported);
  }
  if (host.value.size() != kHostIdSize) return unexpected(Es8Error::Malformed);

  auto p = r.enter(pk);
  if (!p) return unexpected(Es8Error::Malformed);
  RSP_TRY(auto point, take(*p, kTagPublicKeyQ));
  RSP_TRY(auto ref, one_byte(*p, kTagKeyParameterRef));
  if (!p->finish() || point.value.empty()) return unexpected(Es8Error::Malformed);
  if (sig.value.empty()) return unexpected(Es8Error::Malformed);

  KeyAgreement k;
  k.key_usage = usage;
  k.key_version = version;
  k.key_parameter_reference = ref;
  k.host_id.assign(host.value.begin(), host.value.end());
  k.sdin = std::move(sdin);
  k.ephemeral_point.assign(point.value.begin(), point.value.end());
  k.signature.assign(sig.value.begin(), sig.value.end());
  k.signed_part.assign(data.begin(), data.begin() + static_cast<std::ptrdiff_t>(d->size + pk.encoded.size()));
  k.crt.assign(crt.encoded.begin(), crt.encoded.end());
  return k;
}

Bytes encode_receipt(const Receipt& r) {
  Bytes out = tlv::encode(tag(kTagDr), r.dr);
  auto m = tlv::encode(tag(kTagReceipt), r.receipt);
  out.insert(out.end(), m.begin(), m.end());
  return out;
}

expected<Receipt, Es8Error> decode_receipt(ByteView data) {
  tlv::Reader r(data);
  RSP_TRY(auto dr, take(r, kTagDr));
  RSP_TRY(auto m, take(r, kTagReceipt));
  if (!r.finish() || dr.value.size() != kDrSize || m.value.size() != kReceiptSize) {
    return unexpected(Es8Error::Malformed);
  }
  return Receipt{Bytes(dr.value.begin(), dr.value.end()), Bytes(m.value.begin(), m.value.end())};
}

Bytes shared_info(std::uint8_t key_usage, ByteView dr, ByteView host_id, const CardIdentifiers& ids) {
  Bytes info{key_usage, kKeyTypeAes, kKeyLength128};
  info.insert(info.end(), dr.begin(), dr.end());
  // Lengths below 128: one BER length byte each (kHostIdSize, kMaxIdentifierSize).
  const auto put = [&](ByteView v) {
    info.push_back(static_cast<std::uint8_t>(v.size()));
    info.insert(info.end(), v.begin(), v.end());
  };
  put(host_id);
  if (ids.known()) {
    put(ids.sin);
    put(ids.sdin);
  }
  return info;
}

expected<DerivedKeys, Es8Error> derive_keys(ByteView shared_secret, ByteView dr, ByteView host_id,
                                            std::uint8_t key_usage, const CardIdentifiers& ids) {
  if (dr.size() != kDrSize || host_id.size() != kHostIdSize) return unexpected(Es8Error::Malformed);
  if (!valid_identifier(ids.sin) || !valid_identifier(ids.sdin)) return unexpected(Es8Error::Malformed);
  if (key_usage != kKeyUsageScp03 && key_usage != kKeyUsageIsdR) return unexpected(Es8Error::Unsupported);
  const std::size_t keys = key_usage == kKeyUsageScp03 ? 1 : 3;
  auto data =
      crypto::x963_kdf_sha256(shared_secret, shared_info(key_usage, dr, host_id, ids), (1 + keys) * kKeyLength128);
  if (!data) return unexpected(Es8Error::Crypto);
  DerivedKeys k;
  auto part = [&](std::size_t i) {
    auto first = data->begin() + static_cast<std::ptrdiff_t>(i * kKeyLength128);
    return Bytes(first, first + kKeyLength128);
  };
  k.receipt_key = part(0);
  k.enc = part(1);
  k.mac = keys == 1 ? k.enc : part(2);
  k.dek = keys == 1 ? k.enc : part(3);
  wipe(*data);
  return k;
}

expected<Bytes, Es8Error> compute_receipt(ByteView receipt_key, ByteView crt, ByteView dr) {
  Bytes input(crt.begin(), crt.end());
  auto d = tlv::encode(tag(kTagDr), dr);
  input.insert(input.end(), d.begin(), d.end());
  auto mac = crypto::aes_cmac(receipt_key, input);
  if (!mac) return unexpected(Es8Error::Crypto);
  return *mac;
}

expected<HostAgreement, Es8Error> HostAgreement::start(const crypto::EcKey& signing_key,
                                                       const crypto::EcKey& ecasd_public, std::uint8_t key_version,
                                                       std::uint8_t key_usage,
                                                       const std::optional<Bytes>& random_challenge,
                                                       const CardIdentifiers& ids) {
  if (random_challenge && random_challenge->size() != kRandomChallengeSize) return unexpected(Es8Error::Malformed);
  if (!valid_identifier(ids.sin) || !valid_identifier(ids.sdin)) return unexpected(Es8Error::Malformed);
  // The identifiers only as a pair: '45' in the CRT and both in SharedInfo.
  CardIdentifiers used = ids.known() ? ids : CardIdentifiers{};
  auto ephemeral = crypto::EcKey::generate(ecasd_public.curve());
  if (!ephemeral) return unexpected(Es8Error::Crypto);
  Bytes host_id = crypto::system_random().bytes(kHostIdSize);
  Bytes crt = encode_crt(key_usage, key_version, host_id, used.sdin);
  Bytes signed_part = encode_key_agreement_body(crt, ephemeral->public_point(), ecasd_public.curve());
  auto signature = crypto::sign_plain(signing_key, signed_data(signed_part, random_challenge));
  if (!signature) return unexpected(Es8Error::Crypto);
  Bytes message = encode_key_agreement_message(signed_part, *signature);
  return HostAgreement(std::move(*ephemeral), ecasd_public, std::move(crt), std::move(host_id), std::move(message),
                       key_usage, std::move(used));
}

expected<DerivedKeys, Es8Error> HostAgreement::finish(ByteView answer) {
  if (!ephemeral_) return unexpected(Es8Error::Crypto);
  auto ephemeral = std::move(*ephemeral_);
  ephemeral_.reset();  // used once, whatever the answer
  RSP_TRY(auto receipt, decode_receipt(answer));
  auto shs = crypto::ecka_shared_secret(ephemeral, ecasd_);
  if (!shs) return unexpected(Es8Error::Crypto);
  auto keys = derive_keys(*shs, receipt.dr, host_id_, usage_, ids_);
  wipe(*shs);
  if (!keys) return unexpected(keys.error());
  RSP_TRY(auto expected_receipt, compute_receipt(keys->receipt_key, crt_, receipt.dr));
  if (!equal_ct(expected_receipt, receipt.receipt)) return unexpected(Es8Error::Receipt);
  return std::move(*keys);
}

std::vector<apdu::Command> key_establishment_blocks(ByteView certificate_message, ByteView key_agreement_message) {
  // Each message starts a block of its own; P2 counts on across both.
  auto out = store_data_blocks(certificate_message);
  for (auto& c : store_data_blocks(key_agreement_message)) out.push_back(std::move(c));
  std::uint8_t block = 0;
  for (auto& c : out) {
    c.p1 = kStoreDataP1Dgi;
    c.p2 = block++;
  }
  out.back().p1 |= kStoreDataP1Last;
  return out;
}

std::vector<apdu::Command> certificate_blocks(ByteView certificate_message) {
  auto out = store_data_blocks(certificate_message);
  std::uint8_t block = 0;
  for (auto& c : out) {
    c.p1 = kStoreDataP1Dgi;
    c.p2 = block++;
  }
  return out;
}

std::vector<apdu::Command> key_agreement_blocks(ByteView key_agreement_message, std::uint8_t first_block) {
  auto out = store_data_blocks(key_agreement_message);
  std::uint8_t block = first_block;
  for (auto& c : out) {
    c.p1 = kStoreDataP1Dgi;
    c.p2 = block++;
  }
  out.back().p1 |= kStoreDataP1Last;
  return out;
}

crypto::BspKeys scp03t_keys(const DerivedKeys& keys) { return crypto::BspKeys(keys.enc, keys.mac, Bytes(16, 0)); }

std::vector<apdu::Command> store_data_blocks(ByteView message) {
  std::vector<apdu::Command> out;
  std::size_t offset = 0;
  std::uint8_t block = 0;
  do {
    const std::size_t n = std::min<std::size_t>(255, message.size() - offset);
    apdu::Command c;
    c.cla = 0x80;
    c.ins = 0xE2;
    const bool last = offset + n == message.size();
    c.p1 = static_cast<std::uint8_t>(0x10 | (last ? 0x80 : 0x00));  // b5-b4 = 10: BER-TLV
    c.p2 = block++;
    c.data.assign(message.begin() + static_cast<std::ptrdiff_t>(offset),
                  message.begin() + static_cast<std::ptrdiff_t>(offset + n));
    c.le = 256;
    out.push_back(std::move(c));
    offset += n;
  } while (offset < message.size());
  return out;
}

}  // namespace rsp::m2m::es8
