// ES8 on the card: key establishment (ECKA scenario #3) and the SCP03t
// profile download into an ISD-P. The rules: es8_card.hpp.

#include "rsp/euicc_m2m/es8_card.hpp"

#include <optional>

#include "rsp/apdu/status_words.hpp"
#include "rsp/card/secure_channel.hpp"
#include "rsp/crypto/bsp.hpp"
#include "rsp/crypto/ecdsa.hpp"
#include "rsp/crypto/ecka.hpp"
#include "rsp/euicc/profile_package.hpp"
#include "rsp/m2m/es8.hpp"
#include "rsp/m2m/es8_connectivity.hpp"
#include "rsp/pki/validator.hpp"

namespace rsp::euicc_m2m {

namespace sw = apdu::sw;
namespace es8 = m2m::es8;

namespace {

apdu::Response status(std::uint16_t s) { return apdu::Response{{}, s}; }

/// What one ISD-P's ES8 exchange holds between commands.
struct Session {
  Bytes message;                        ///< STORE DATA blocks of the message being received
  std::uint8_t next_block = 0;
  std::optional<crypto::EcKey> dp_key;  ///< PK.DP.ECDSA once its certificate was accepted
  Bytes random_challenge;               ///< the RC answered to that certificate, for this establishment only
  std::optional<crypto::BspSession> scp03t;
  Bytes profile;                        ///< the package decrypted so far
  std::optional<card::Scp03Session> scp03;  ///< ES8.UpdateConnectivityParameters' SCP03 session
  std::uint32_t scp03_counter = 0;          ///< the sequence counter that session uses
  ~Session() {
    wipe(message);
    wipe(profile);
  }
};

}  // namespace

struct Es8Card::Impl {
  std::shared_ptr<M2mIsdR> isd_r;
  crypto::EcKey ecasd_key;
  std::vector<pki::Certificate> cis;
  crypto::Random* random = nullptr;
  std::map<Bytes, Session> sessions;

  apdu::Response on_message(const Bytes& aid, Session& s, ByteView message);
  apdu::Response on_certificate(Session& s, ByteView message);
  apdu::Response on_key_agreement(const Bytes& aid, Session& s, ByteView message);
  apdu::Response on_segment(const Bytes& aid, Session& s, ByteView message);
  apdu::Response on_end(const Bytes& aid, Session& s, ByteView message);
  apdu::Response on_initialize_update(const Bytes& aid, Session& s, const apdu::Command& c);
  apdu::Response on_secured(const Bytes& aid, Session& s, const apdu::Command& c);
  es8::CardIdentifiers card_identifiers() {
    auto state = isd_r->state();
    return {state.sin, state.sdin};
  }
  std::optional<IsdpRecord> isdp(const Bytes& aid) {
    auto state = isd_r->state();
    const auto* p = state.find(aid);
    return p ? std::optional<IsdpRecord>(*p) : std::nullopt;
  }
};

StoreResult<std::unique_ptr<Es8Card>> Es8Card::open(std::shared_ptr<M2mIsdR> isd_r, const M2mStore& store,
                                                    crypto::Random& random) {
  RSP_TRY(auto identity, store.euicc().identity());
  if (identity.curves.empty()) return unexpected(StoreError{"the card has no identity"});
  const auto& curve = identity.curves.front();
  RSP_TRY(auto key, store.euicc().private_key(curve.curve));
  auto ci = pki::Certificate::from_der(curve.ci_cert);
  if (!ci) return unexpected(StoreError{"the card's CI certificate does not parse"});
  auto impl = std::make_unique<Impl>(Impl{std::move(isd_r), std::move(key), {std::move(*ci)}, &random, {}});
  return std::unique_ptr<Es8Card>(new Es8Card(std::move(impl)));
}

Es8Card::Es8Card(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Es8Card::~Es8Card() = default;

Bytes Es8Card::execute(ByteView isdp_aid, ByteView command_apdu) {
  auto c = apdu::parse_command(command_apdu);
  if (!c) return apdu::encode_status(apdu::status_word(c.error()));
  return apdu::encode_response(execute(isdp_aid, *c));
}

apdu::Response Es8Card::execute(ByteView isdp_aid, const apdu::Command& c) {
  // ES8.UpdateConnectivityParameters: INITIALIZE UPDATE, then commands under
  // SCP03 secure messaging (CLA '84').
  const bool scp03 = (c.cla == 0x80 && c.ins == card::kInsInitializeUpdate) || c.cla == 0x84;
  if (scp03) {
    const Bytes aid(isdp_aid.begin(), isdp_aid.end());
    if (!impl_->isdp(aid)) {
      impl_->sessions.erase(aid);
      return status(sw::kReferencedDataNotFound);
    }
    auto& s = impl_->sessions[aid];
    auto r = c.cla == 0x80 ? impl_->on_initialize_update(aid, s, c) : impl_->on_secured(aid, s, c);
    if (r.sw != sw::kOk) impl_->sessions.erase(aid);
    return r;
  }
  if (c.cla != 0x80 || c.ins != 0xE2) return status(c.cla != 0x80 ? sw::kClaNotSupported : sw::kInsNotSupported);
  // P1: b8 last block; b5-b4 '10' BER-TLV (the profile segments) or '09' DGI
  // with b1 (the key establishment, es8.hpp); no encryption bits (GP v2.3 §11.11.2.1).
  if ((c.p1 & 0x7F) != 0x10 && (c.p1 & 0x7F) != es8::kStoreDataP1Dgi) return status(sw::kIncorrectP1P2);
  const Bytes aid(isdp_aid.begin(), isdp_aid.end());
  // Sessions only for ISD-Ps that exist: unknown AIDs hold no memory.
  if (!impl_->isdp(aid)) {
    impl_->sessions.erase(aid);
    return status(sw::kReferencedDataNotFound);
  }
  auto& s = impl_->sessions[aid];
  auto drop = [&](std::uint16_t why) {
    impl_->sessions.erase(aid);
    return status(why);
  };
  // Block 0 starts a new sequence: whatever one was in progress (a message
  // 1 answered, its RC) is forgotten.
  if (c.p2 == 0 && s.next_block != 0) {
    impl_->sessions.erase(aid);
    return execute(isdp_aid, c);
  }
  if (c.p2 != s.next_block) return drop(sw::kIncorrectP1P2);
  if (c.data.empty() || s.message.size() + c.data.size() > es8::kMaxMessage) return drop(sw::kWrongData);
  s.message.insert(s.message.end(), c.data.begin(), c.data.end());
  ++s.next_block;
  if ((c.p1 & 0x80) == 0) {
    // Message 1 complete (DGI '3A01'): the certificate is checked now and the
    // block answered with the random challenge; P2 counts on (es8.hpp).
    if ((c.p1 & 0x7F) == es8::kStoreDataP1Dgi && es8::is_certificate_message(s.message)) {
      Bytes message = std::move(s.message);
      s.message.clear();
      auto r = impl_->on_certificate(s, message);
      if (r.sw != sw::kOk) impl_->sessions.erase(aid);
      return r;
    }
    return status(sw::kOk);  // more blocks to come
  }
  Bytes message = std::move(s.message);
  s.message.clear();
  s.next_block = 0;
  auto r = impl_->on_message(aid, s, message);
  wipe(message);
  if (r.sw != sw::kOk) impl_->sessions.erase(aid);
  return r;
}

apdu::Response Es8Card::Impl::on_message(const Bytes& aid, Session& s, ByteView message) {
  if (!isdp(aid)) return status(sw::kReferencedDataNotFound);
  switch (message[0]) {
    case es8::kDgiCertificate >> 8: {  // DGI '3A01' then '3A02', or '3A02' alone
      auto parts = es8::split_key_establishment(message);
      if (!parts) return status(sw::kWrongData);
      if (parts->certificate_message) {
        auto r = on_certificate(s, *parts->certificate_message);
        if (r.sw != sw::kOk || parts->rest.empty()) return r;
      }
      return on_key_agreement(aid, s, parts->rest);
    }
    case es8::kTagProfileSegment: return on_segment(aid, s, message);
    case es8::kTagProfileEnd: return on_end(aid, s, message);
    default: return status(sw::kWrongData);
  }
}

apdu::Response Es8Card::Impl::on_certificate(Session& s, ByteView message) {
  auto der = es8::decode_certificate_message(message);
  if (!der) return status(sw::kWrongData);
  /// SGP.02 §3.1.2: the eUICC verifies CERT.DP.ECDSA with PK.CI.ECDSA.
  auto chain = pki::validate_chain_der(*der, {}, cis, pki::Role::DpAuth);
  if (!chain) return status(sw::kSecurityStatusNotSatisfied);
  s.dp_key = std::move(chain->public_key);
  /// SGP.02 v3 (as bagyenda/njiwa reads it): a fresh random challenge per
  /// establishment, which message 2's signature must cover.
  s.random_challenge = random->bytes(es8::kRandomChallengeSize);
  return apdu::Response{es8::encode_certificate_answer(s.random_challenge), sw::kOk};
}

apdu::Response Es8Card::Impl::on_key_agreement(const Bytes& aid, Session& s, ByteView message) {
  if (!s.dp_key) return status(sw::kConditionsNotSatisfied);  // no certificate yet
  auto ka = es8::decode_key_agreement_message(message);
  if (!ka) return status(sw::kWrongData);
  if (ka->key_usage != es8::kKeyUsageScp03) return status(sw::kWrongData);  // the ISD-R's keys are not an ISD-P's
  if (ka->key_parameter_reference != es8::key_parameter_reference(ecasd_key.curve())) return status(sw::kWrongData);
  // The signature covers this establishment's RC: a message 2 signed over
  // none, another or an earlier one is refused (6982), and the RC is used once.
  std::optional<Bytes> rc;
  if (!s.random_challenge.empty()) rc = std::move(s.random_challenge);
  s.random_challenge.clear();
  if (!crypto::verify_plain(*s.dp_key, es8::signed_data(ka->signed_part, rc), ka->signature))
    return status(sw::kSecurityStatusNotSatisfied);
  const es8::CardIdentifiers ids = card_identifiers();
  // '45' must name this card's SDIN (es8.hpp); then SIN and SDIN enter SharedInfo.
  if (!ka->sdin.empty() && (ka->sdin != ids.sdin || !ids.known())) return status(sw::kWrongData);
  auto p = isdp(aid);
  if (!p) return status(sw::kReferencedDataNotFound);
  if (p->state != m2m::IsdpState::kSelectable || p->scp03_version != 0) return status(sw::kConditionsNotSatisfied);
  auto epk = crypto::EcKey::from_public_point(ecasd_key.curve(), ka->ephemeral_point);
  if (!epk) return status(sw::kWrongData);
  auto shs = crypto::ecka_shared_secret(ecasd_key, *epk);
  if (!shs) return status(sw::kWrongData);
  const Bytes dr = random->bytes(es8::kDrSize);
  auto keys = es8::derive_keys(*shs, dr, ka->host_id, es8::kKeyUsageScp03,
                               ka->sdin.empty() ? es8::CardIdentifiers{} : ids);
  wipe(*shs);
  if (!keys) return status(sw::kMemoryFailure);
  auto receipt = es8::compute_receipt(keys->receipt_key, ka->crt, dr);
  if (!receipt) return status(sw::kMemoryFailure);
  const std::uint8_t version = ka->key_version;
  auto refused = isd_r->change_isdp(aid, [&](IsdpRecord& r) -> std::optional<std::uint16_t> {
    if (r.state != m2m::IsdpState::kSelectable || r.scp03_version != 0) return sw::kConditionsNotSatisfied;
    r.scp03_version = version;
    r.scp03_enc = keys->enc;
    r.scp03_mac = keys->mac;
    r.scp03_dek = keys->dek;
    return std::nullopt;
  });
  if (refused) return status(*refused);
  s.dp_key.reset();
  return apdu::Response{es8::encode_receipt({dr, *receipt}), sw::kOk};
}

apdu::Response Es8Card::Impl::on_segment(const Bytes& aid, Session& s, ByteView message) {
  auto p = isdp(aid);
  if (!p) return status(sw::kReferencedDataNotFound);
  if (p->state != m2m::IsdpState::kSelectable || p->scp03_version == 0) return status(sw::kConditionsNotSatisfied);
  if (!s.scp03t) {
    es8::DerivedKeys k;
    k.enc = p->scp03_enc;
    k.mac = p->scp03_mac;
    s.scp03t.emplace(es8::scp03t_keys(k));
  }
  auto plain = s.scp03t->verify_and_decrypt(es8::kTagProfileSegment, message);
  if (!plain) {
    return status(plain.error().code == crypto::CryptoError::Code::InvalidInput ? sw::kWrongData
                                                                                : sw::kSecurityStatusNotSatisfied);
  }
  /// SGP.02 §4.1.3: a package that does not fit the ISD-P's memory is refused.
  if (s.profile.size() + plain->size() > p->memory_quota) {
    wipe(*plain);
    return status(sw::kNotEnoughMemory);
  }
  s.profile.insert(s.profile.end(), plain->begin(), plain->end());
  wipe(*plain);
  return status(sw::kOk);
}

apdu::Response Es8Card::Impl::on_end(const Bytes& aid, Session& s, ByteView message) {
  if (!s.scp03t) return status(sw::kConditionsNotSatisfied);
  auto length = s.scp03t->verify_mac_only(es8::kTagProfileEnd, message);
  if (!length) {
    return status(length.error().code == crypto::CryptoError::Code::InvalidInput ? sw::kWrongData
                                                                                 : sw::kSecurityStatusNotSatisfied);
  }
  if (length->size() != 4) return status(sw::kWrongData);
  const std::uint32_t total = (std::uint32_t{(*length)[0]} << 24) | (std::uint32_t{(*length)[1]} << 16) |
                              (std::uint32_t{(*length)[2]} << 8) | (*length)[3];
  if (total != s.profile.size()) return status(sw::kWrongData);
  auto iccid = euicc::profile_package_iccid(s.profile);
  if (!iccid || iccid->size() != 10) return status(sw::kWrongData);
  if (!euicc::check_profile_package(s.profile, *iccid)) return status(sw::kWrongData);
  auto state = isd_r->state();
  for (const auto& other : state.isdps) {
    if (other.iccid == *iccid && other.aid != aid) return status(sw::kConditionsNotSatisfied);
  }
  auto refused = isd_r->change_isdp(aid, [&](IsdpRecord& r) -> std::optional<std::uint16_t> {
    if (r.state != m2m::IsdpState::kSelectable || r.scp03_version == 0) return sw::kConditionsNotSatisfied;
    r.iccid = *iccid;
    r.profile_size = total;
    r.state = m2m::IsdpState::kDisabled;
    return std::nullopt;
  });
  if (refused) return status(*refused);
  sessions.erase(aid);
  return status(sw::kOk);
}

apdu::Response Es8Card::Impl::on_initialize_update(const Bytes& aid, Session& s, const apdu::Command& c) {
  auto p = isdp(aid);
  if (!p) return status(sw::kReferencedDataNotFound);
  // The ISD-P holds keys and a profile (the parameters belong to a profile).
  if (p->scp03_version == 0 || p->state == m2m::IsdpState::kSelectable) return status(sw::kConditionsNotSatisfied);
  // P1: the key version, '00' for the first available (GP v2.3 §11.8.2.1).
  if (c.p1 != 0x00 && c.p1 != p->scp03_version) return status(sw::kReferencedDataNotFound);
  if (p->scp03_counter >= es8::kMaxScp03Counter) return status(sw::kConditionsNotSatisfied);  // key set used up
  const std::uint32_t counter = p->scp03_counter + 1;
  auto challenge = es8::pseudo_random_card_challenge(p->scp03_enc, counter, aid);
  if (!challenge) return status(sw::kMemoryFailure);
  card::Scp03KeySet key_set;
  key_set.key_version = p->scp03_version;
  key_set.keys.enc = p->scp03_enc;
  key_set.keys.mac = p->scp03_mac;
  key_set.i_parameter = es8::kIsdpScp03I;
  auto session = card::Scp03Session::initialize_update(key_set, c, *challenge, counter);
  if (!session) return status(session.error());
  // Whatever was in progress for this ISD-P ends here.
  s.message.clear();
  s.next_block = 0;
  s.dp_key.reset();
  s.scp03.emplace(std::move(*session));
  s.scp03_counter = counter;
  return apdu::Response{s.scp03->initialize_update_response(), sw::kOk};
}

apdu::Response Es8Card::Impl::on_secured(const Bytes& aid, Session& s, const apdu::Command& c) {
  if (!s.scp03) return status(sw::kConditionsNotSatisfied);  // no INITIALIZE UPDATE before
  auto raw = apdu::encode_command(c);
  if (!raw) return status(sw::kWrongLength);
  if (c.ins == card::kInsExternalAuthenticate) {
    /// GP Amendment D §7.1.2: 6300 when the host cryptogram (a script made
    /// for another counter, or replayed) or its C-MAC does not verify.
    auto ok = s.scp03->external_authenticate(*raw);
    if (!ok) return status(ok.error());
    if (s.scp03->level() != es8::kConnectivitySecurityLevel) return status(sw::kSecurityStatusNotSatisfied);
    return status(sw::kOk);
  }
  if (c.ins != 0xE2) return status(sw::kInsNotSupported);
  // 6982 when not authenticated or when the C-MAC does not verify.
  auto plain_bytes = s.scp03->unwrap(*raw);
  if (!plain_bytes) return status(plain_bytes.error());
  auto plain = apdu::parse_command(*plain_bytes);
  wipe(*plain_bytes);
  if (!plain) return status(sw::kWrongData);
  if (plain->p1 != 0x88 || plain->p2 != 0x00) return status(sw::kIncorrectP1P2);  // one block, DGI format
  auto parameters = es8::decode_connectivity_dgi(plain->data);
  if (!parameters) return status(sw::kWrongData);
  const std::uint32_t counter = s.scp03_counter;
  // The parameters and the counter in one durable write.
  auto refused = isd_r->change_isdp(aid, [&](IsdpRecord& r) -> std::optional<std::uint16_t> {
    if (r.scp03_version == 0 || r.state == m2m::IsdpState::kSelectable || r.scp03_counter + 1 != counter)
      return sw::kConditionsNotSatisfied;
    r.connectivity = *parameters;
    r.scp03_counter = counter;
    return std::nullopt;
  });
  if (refused) return status(*refused);
  sessions.erase(aid);
  return status(sw::kOk);
}

}  // namespace rsp::euicc_m2m
