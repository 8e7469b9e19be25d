// ES8.UpdateConnectivityParameters: the parameters, their DGI and the SCP03
// script of the SM-DP. What is unconfirmed: es8_connectivity.hpp.

#include "rsp/m2m/es8_connectivity.hpp"

#include <set>

#include "rsp/apdu/command.hpp"
#include "rsp/crypto/kdf.hpp"
#include "rsp/crypto/scp03.hpp"
#include "rsp/tlv/tlv.hpp"

namespace rsp::m2m::es8 {

namespace {

constexpr std::size_t kChallenge = 8;
/// INITIALIZE UPDATE's answer: diversification data (10), key information
/// (3), card challenge (8), card cryptogram (8), sequence counter (3).
constexpr std::size_t kInitializeUpdateAnswer = 32;

Bytes counter_bytes(std::uint32_t counter) {
  return {static_cast<std::uint8_t>(counter >> 16), static_cast<std::uint8_t>(counter >> 8),
          static_cast<std::uint8_t>(counter)};
}

}  // namespace

expected<void, Es8Error> check_connectivity_parameters(ByteView parameters) {
  if (parameters.empty() || parameters.size() > kMaxConnectivityParameters) return unexpected(Es8Error::Malformed);
  tlv::Reader r(parameters, tlv::Mode::Ber);
  std::set<std::uint32_t> seen;
  while (!r.empty()) {
    auto t = r.next();
    if (!t || t->indefinite) return unexpected(Es8Error::Malformed);
    const std::uint32_t raw = t->tag.raw();
    if (raw != kTagSmsParameters && raw != kTagCatTpParameters && raw != kTagHttpParameters)
      return unexpected(Es8Error::Unsupported);
    if (!seen.insert(raw).second) return unexpected(Es8Error::Malformed);
    // The contents: whole TLVs, kept as they are.
    tlv::Reader inner(t->value, tlv::Mode::Ber);
    while (!inner.empty()) {
      auto e = inner.next();
      if (!e || e->indefinite) return unexpected(Es8Error::Malformed);
    }
  }
  return {};
}

expected<Bytes, Es8Error> encode_connectivity_dgi(ByteView parameters) {
  RSP_TRY_VOID(check_connectivity_parameters(parameters));
  // GP v2.3 §11.11.2.2: the DGI length is one byte up to 254.
  Bytes out{static_cast<std::uint8_t>(kDgiConnectivityParameters >> 8),
            static_cast<std::uint8_t>(kDgiConnectivityParameters), static_cast<std::uint8_t>(parameters.size())};
  out.insert(out.end(), parameters.begin(), parameters.end());
  return out;
}

expected<Bytes, Es8Error> decode_connectivity_dgi(ByteView data) {
  if (data.size() < 3) return unexpected(Es8Error::Malformed);
  const std::uint16_t dgi = static_cast<std::uint16_t>((data[0] << 8) | data[1]);
  if (dgi != kDgiConnectivityParameters) return unexpected(Es8Error::Unsupported);
  // A one-byte length only: the parameters are at most 200 bytes.
  if (data[2] == 0xFF || data.size() != 3u + data[2]) return unexpected(Es8Error::Malformed);
  ByteView parameters = data.subspan(3);
  RSP_TRY_VOID(check_connectivity_parameters(parameters));
  return Bytes(parameters.begin(), parameters.end());
}

expected<Bytes, Es8Error> pseudo_random_card_challenge(ByteView k_enc, std::uint32_t counter, ByteView sd_aid) {
  if (counter > kMaxScp03Counter || sd_aid.empty()) return unexpected(Es8Error::Malformed);
  Bytes context = counter_bytes(counter);
  context.insert(context.end(), sd_aid.begin(), sd_aid.end());
  auto challenge = crypto::sp800_108_cmac_gp(k_enc, static_cast<std::uint8_t>(crypto::Scp03Constant::CardChallenge),
                                             context, 8 * kChallenge);
  if (!challenge) return unexpected(Es8Error::Crypto);
  return std::move(*challenge);
}

expected<std::vector<Bytes>, Es8Error> secure_connectivity_parameters(const DerivedKeys& keys,
                                                                     std::uint8_t key_version, ByteView isdp_aid,
                                                                     std::uint32_t counter, ByteView host_challenge,
                                                                     ByteView parameters) {
  if (host_challenge.size() != kChallenge || counter == 0) return unexpected(Es8Error::Malformed);
  RSP_TRY(auto dgi, encode_connectivity_dgi(parameters));
  RSP_TRY(auto card_challenge, pseudo_random_card_challenge(keys.enc, counter, isdp_aid));
  crypto::Scp03StaticKeys statics;
  statics.enc = keys.enc;
  statics.mac = keys.mac;
  // The card cryptogram the card will answer with: the host computes it to
  // open its side of the session (it is checked again on the answer).
  auto session = crypto::derive_scp03_session_keys(statics, host_challenge, card_challenge);
  if (!session) return unexpected(Es8Error::Crypto);
  auto card_cryptogram =
      crypto::scp03_cryptogram(session->s_mac, crypto::Scp03Constant::CardCryptogram, host_challenge, card_challenge);
  if (!card_cryptogram) return unexpected(Es8Error::Crypto);
  auto host = crypto::Scp03Host::establish(statics, host_challenge, card_challenge, *card_cryptogram,
                                           kConnectivitySecurityLevel);
  if (!host) return unexpected(Es8Error::Crypto);

  std::vector<Bytes> out;
  apdu::Command initialize;
  initialize.cla = 0x80;
  initialize.ins = 0x50;  // INITIALIZE UPDATE (GP v2.3 §11.8)
  initialize.p1 = key_version;
  initialize.p2 = 0x00;
  initialize.data.assign(host_challenge.begin(), host_challenge.end());
  initialize.le = 256;
  auto first = apdu::encode_command(initialize);
  if (!first) return unexpected(Es8Error::Malformed);
  out.push_back(std::move(*first));

  auto authenticate = host->external_authenticate();
  if (!authenticate) return unexpected(Es8Error::Crypto);
  out.push_back(std::move(*authenticate));

  apdu::Command store;
  store.cla = 0x80;
  store.ins = 0xE2;  // STORE DATA
  store.p1 = 0x88;   // last block, DGI format, no encryption by the application (GP v2.3 §11.11.2.1)
  store.p2 = 0x00;
  store.data = std::move(dgi);
  auto plain = apdu::encode_command(store);
  if (!plain) return unexpected(Es8Error::Malformed);
  auto secured = host->wrap_command(*plain);
  wipe(*plain);
  if (!secured) return unexpected(Es8Error::Crypto);
  out.push_back(std::move(*secured));
  return out;
}

std::optional<std::uint32_t> answered_counter(const apdu::Response& r) {
  if (r.sw != 0x9000 || r.data.size() != kInitializeUpdateAnswer) return std::nullopt;
  const auto& d = r.data;
  return (std::uint32_t{d[29]} << 16) | (std::uint32_t{d[30]} << 8) | d[31];
}

}  // namespace rsp::m2m::es8
