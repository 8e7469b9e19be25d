// The ISD-R's part of the SM-SR change (SGP.02 §3.8): the new SM-SR's key
// establishment (ECKA scenario #3 with the ECASD) and the deletion of the
// old SM-SR's key sets. The rules: isd_r.hpp.

#include <algorithm>

#include "rsp/apdu/status_words.hpp"
#include "rsp/crypto/ecdsa.hpp"
#include "rsp/crypto/ecka.hpp"
#include "rsp/crypto/random.hpp"
#include "rsp/euicc_m2m/isd_r.hpp"
#include "rsp/m2m/es7.hpp"
#include "rsp/m2m/es8.hpp"
#include "rsp/pki/validator.hpp"

namespace rsp::euicc_m2m {

namespace sw = apdu::sw;
namespace es8 = m2m::es8;

namespace {
apdu::Response status(std::uint16_t s) { return apdu::Response{{}, s}; }
}  // namespace

/// Between the STORE DATA commands of one key establishment.
struct M2mIsdR::KeySession {
  Bytes message;  ///< blocks of the message being received
  std::uint8_t next_block = 0;
  std::optional<crypto::EcKey> smsr_key;  ///< PK.SR.ECDSA once CERT.SR.ECDSA was accepted
  Bytes random_challenge;                 ///< answered to CERT.SR.ECDSA, for this establishment only
  ~KeySession() { wipe(message); }
};

M2mIsdR::~M2mIsdR() = default;

std::optional<apdu::Response> M2mIsdR::on_smsr_change(const apdu::Command& c) {
  if (auto version = m2m::parse_delete_key_set(c)) return on_delete_key_set(*version);
  // STORE DATA in DGI format with b1 (P1 '09', '89' last: es8.hpp); the
  // platform commands use the DGI form without b1 ('88').
  if (c.ins != 0xE2 || (c.p1 & 0x7F) != es8::kStoreDataP1Dgi) return std::nullopt;
  std::unique_lock lock(mutex_);
  // Block 0 starts a new sequence: one in progress (its RC) is forgotten.
  if (!key_session_ || (c.p2 == 0 && key_session_->next_block != 0)) key_session_ = std::make_shared<KeySession>();
  auto& s = *key_session_;
  auto drop = [&](std::uint16_t why) {
    key_session_.reset();
    return status(why);
  };
  if (c.p2 != s.next_block) return drop(sw::kIncorrectP1P2);
  if (c.data.empty() || s.message.size() + c.data.size() > es8::kMaxMessage) return drop(sw::kWrongData);
  s.message.insert(s.message.end(), c.data.begin(), c.data.end());
  ++s.next_block;
  if ((c.p1 & 0x80) == 0) {
    // Message 1 complete: checked now, answered with the random challenge (es8.hpp).
    if (!es8::is_certificate_message(s.message)) return status(sw::kOk);
  }
  Bytes message = std::move(s.message);
  s.message.clear();
  if (c.p1 & 0x80) s.next_block = 0;  // message 1 alone: P2 counts on into message 2
  lock.unlock();
  auto r = on_key_message(message);
  wipe(message);
  if (r.sw != sw::kOk) {
    std::lock_guard again(mutex_);
    key_session_.reset();
  }
  return r;
}

apdu::Response M2mIsdR::on_key_message(ByteView message) {
  if (message.empty()) return status(sw::kWrongData);
  auto identity = store_.euicc().identity();
  if (!identity || identity->curves.empty()) return status(sw::kConditionsNotSatisfied);
  const auto& curve = identity->curves.front();

  auto parts = es8::split_key_establishment(message);
  if (!parts) return status(sw::kWrongData);
  if (parts->certificate_message) {
    auto der = es8::decode_certificate_message(*parts->certificate_message);
    if (!der) return status(sw::kWrongData);
    auto ci = pki::Certificate::from_der(curve.ci_cert);
    if (!ci) return status(sw::kConditionsNotSatisfied);
    const std::vector<pki::Certificate> cis{std::move(*ci)};
    /// SGP.02 §3.8: the eUICC verifies CERT.SR.ECDSA with PK.CI.ECDSA.
    auto chain = pki::validate_chain_der(*der, {}, cis, pki::Role::DpAuth);
    if (!chain) return status(sw::kSecurityStatusNotSatisfied);
    std::lock_guard lock(mutex_);
    if (!key_session_) return status(sw::kConditionsNotSatisfied);
    key_session_->smsr_key = std::move(chain->public_key);
    /// A fresh random challenge per establishment (SGP.02 v3, as
    /// bagyenda/njiwa reads it), which message 2's signature must cover.
    key_session_->random_challenge = random().bytes(es8::kRandomChallengeSize);
    const Bytes rc_answer = es8::encode_certificate_answer(key_session_->random_challenge);
    if (parts->rest.empty()) return apdu::Response{rc_answer, sw::kOk};
  }
  message = parts->rest;

  std::optional<crypto::EcKey> smsr_key;
  std::optional<Bytes> rc;
  {
    std::lock_guard lock(mutex_);
    if (key_session_ && key_session_->smsr_key) smsr_key = std::move(key_session_->smsr_key);
    if (key_session_ && !key_session_->random_challenge.empty()) rc = std::move(key_session_->random_challenge);
    if (key_session_) key_session_->random_challenge.clear();  // used once
  }
  if (!smsr_key) return status(sw::kConditionsNotSatisfied);  // no certificate yet
  auto ka = es8::decode_key_agreement_message(message);
  if (!ka || ka->key_usage != es8::kKeyUsageIsdR) return status(sw::kWrongData);
  if (ka->key_parameter_reference != es8::key_parameter_reference(curve.curve)) return status(sw::kWrongData);
  // A message 2 signed over no, another or an earlier RC: refused.
  if (!crypto::verify_plain(*smsr_key, es8::signed_data(ka->signed_part, rc), ka->signature))
    return status(sw::kSecurityStatusNotSatisfied);
  es8::CardIdentifiers ids;
  {
    std::lock_guard lock(mutex_);
    ids = {state_.sin, state_.sdin};
  }
  // '45' must name this card's SDIN; then SIN and SDIN enter SharedInfo.
  if (!ka->sdin.empty() && (ka->sdin != ids.sdin || !ids.known())) return status(sw::kWrongData);
  if (ka->sdin.empty()) ids = {};
  const std::uint8_t version = ka->key_version;
  if (version < m2m::es7::kMinKeyVersion || version > m2m::es7::kMaxKeyVersion) return status(sw::kWrongData);
  auto ecasd = store_.euicc().private_key(curve.curve);
  if (!ecasd) return status(sw::kConditionsNotSatisfied);
  auto epk = crypto::EcKey::from_public_point(ecasd->curve(), ka->ephemeral_point);
  if (!epk) return status(sw::kWrongData);
  auto shs = crypto::ecka_shared_secret(*ecasd, *epk);
  if (!shs) return status(sw::kWrongData);
  const Bytes dr = random().bytes(es8::kDrSize);
  auto keys = es8::derive_keys(*shs, dr, ka->host_id, es8::kKeyUsageIsdR, ids);
  wipe(*shs);
  if (!keys) return status(sw::kMemoryFailure);
  auto receipt = es8::compute_receipt(keys->receipt_key, ka->crt, dr);
  if (!receipt) return status(sw::kMemoryFailure);

  std::lock_guard lock(mutex_);
  M2mState next = state_;
  const bool in_use = next.scp81_version == version ||
                      std::any_of(next.scp80.begin(), next.scp80.end(), [&](const auto& k) { return k.version == version; });
  if (in_use || next.scp81_additional) return status(sw::kConditionsNotSatisfied);
  next.scp80.push_back(Scp80KeySet{version, keys->enc, keys->mac, 0});
  next.scp81_additional = Scp81Key{version, crypto::Scp81Psk{m2m::es7::additional_psk_identity(to_hex(eid_), version),
                                                             keys->dek}};
  if (auto failed = commit(std::move(next))) return status(*failed);
  key_session_.reset();
  return apdu::Response{es8::encode_receipt({dr, *receipt}), sw::kOk};
}

apdu::Response M2mIsdR::on_delete_key_set(std::uint8_t version) {
  std::lock_guard lock(mutex_);
  M2mState next = state_;
  const auto removed = std::erase_if(next.scp80, [&](const auto& k) { return k.version == version; });
  const bool psk = next.scp81_version == version;
  if (removed == 0 && !psk) return status(sw::kReferencedDataNotFound);
  if (psk) {
    // The card stays reachable only with the new SM-SR's PSK in its place.
    if (!next.scp81_additional) return status(sw::kConditionsNotSatisfied);
    next.scp81 = next.scp81_additional->psk;
    next.scp81_version = next.scp81_additional->version;
    next.scp81_additional.reset();
  }
  if (next.scp80.empty()) return status(sw::kConditionsNotSatisfied);
  if (auto failed = commit(std::move(next))) return status(*failed);
  return status(sw::kOk);
}

}  // namespace rsp::euicc_m2m
