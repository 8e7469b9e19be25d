// ISD-R: ES10b.LoadBoundProfilePackage (SGP.22 §5.7.6), the card side of
// ES8+ (§5.5): InitialiseSecureChannel, ConfigureISDP, StoreMetadata,
// ReplaceSessionKeys and the profile segments, each verified in order under
// the session keys (BSP, §2.6.4), then the SAIP package installed (§2.5.6) and
// a signed ProfileInstallationResult kept as the install notification.
//
// Nothing reaches the card folder before the whole package has been verified:
// the profile content file is written first and the card state names it in
// one atomic write, so a kill at any moment shows no half-installed profile.

#include <algorithm>

#include "isd_r_internal.hpp"
#include "rsp/common/secret_text.hpp"
#include "rsp/asn1/iccid_coding.hpp"
#include "rsp/asn1/sgp22_signed.hpp"
#include "rsp/asn1/upp.hpp"
#include "rsp/crypto/bsp.hpp"
#include "rsp/crypto/ecdsa.hpp"
#include "rsp/crypto/ecka.hpp"
#include "rsp/euicc/isd_r.hpp"
#include "rsp/euicc/profile_package.hpp"

namespace rsp::euicc {

using namespace asn1::sgp22;
using Result = expected<Bytes, std::uint16_t>;
using Cmd = BppCommandId_values;
using Reason = ErrorReason_values;


namespace {

using LoadError = std::pair<std::int64_t, std::int64_t>;  // bppCommandId, errorReason

LoadError security_or_structure(std::int64_t command, const crypto::CryptoError& e) {
  return {command, e.code == crypto::CryptoError::Code::InvalidInput ? Reason::scp03tStructureError
                                                                     : Reason::scp03tSecurityError};
}

/// DER decoding: ES8+ content is DER (SGP.22 §5.5).
template <class T>
std::optional<T> decode_der(ByteView der) {
  asn1::DecodeOptions o;
  o.max_memory = std::size_t{1} << 20;
  auto v = asn1::decode<T>(der, o);
  if (!v) return std::nullopt;
  return std::move(*v);
}

std::uint8_t events_mask(const asn1::BitString& bits) {
  std::uint8_t m = 0;
  for (std::size_t b = 0; b < 4; ++b) {
    if (bits.test(b)) m = static_cast<std::uint8_t>(m | (1u << b));
  }
  return m;
}

ProfileRecord record_from(const StoreMetadataRequest& m) {
  ProfileRecord p;
  p.iccid = m.iccid;
  p.service_provider_name = m.serviceProviderName;
  p.profile_name = m.profileName;
  if (m.iconType && m.icon) {
    p.icon_type = *m.iconType;
    p.icon = *m.icon;
  }
  p.profile_class = m.profileClass.value_or(ProfileClass_values::operational);
  if (m.notificationConfigurationInfo) {
    for (const auto& n : *m.notificationConfigurationInfo)
      p.notification_config.push_back({events_mask(n.profileManagementOperation), n.notificationAddress});
  }
  if (m.profileOwner) p.profile_owner = asn1::encode(*m.profileOwner);
  if (m.profilePolicyRules) p.ppr = detail::ppr_mask(*m.profilePolicyRules);
  return p;
}

/// §2.5.6 / §5.7.6 checks on the StoreMetadata content before any profile data.
std::optional<std::int64_t> check_metadata(const StoreMetadataRequest& m, const EuiccState& s) {
  if (m.iccid.size() != 10) return Reason::incorrectInputValues;
  const auto cls = m.profileClass.value_or(ProfileClass_values::operational);
  if (cls != ProfileClass_values::test && cls != ProfileClass_values::provisioning &&
      cls != ProfileClass_values::operational)
    return Reason::unsupportedProfileClass;
  // §2.9.1: profile policy rules apply to operational profiles only; this
  // card's RAT (GetRAT) allows PPR1 and PPR2 for any operator.
  if (m.profilePolicyRules && detail::ppr_mask(*m.profilePolicyRules) != 0 && cls != ProfileClass_values::operational)
    return Reason::pprNotAllowed;
  if (std::any_of(s.profiles.begin(), s.profiles.end(), [&](const ProfileRecord& p) { return p.iccid == m.iccid; }))
    return Reason::installFailedDueToIccidAlreadyExistsOnEuicc;
  return std::nullopt;
}

/// ISD-P AID: the SGP.22 ISD-P prefix and a number unique on this card.
Bytes allocate_isdp_aid(EuiccState& s) {
  for (;;) {
    const std::uint32_t n = s.next_isdp++;
    Bytes aid = {0xA0, 0x00, 0x00, 0x05, 0x59, 0x10, 0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0x89, 0x00,
                 static_cast<std::uint8_t>(0x10 + ((n >> 16) & 0x0F)), static_cast<std::uint8_t>(n >> 8),
                 static_cast<std::uint8_t>(n)};
    if (!s.find_by_aid(aid)) return aid;
  }
}

}  // namespace

IsdR::~IsdR() = default;

void IsdR::end_session() {
  euicc_challenge_.reset();
  transaction_id_.reset();
  session_curve_.reset();
  euicc_signature1_.clear();
  ot_key_.reset();
  server_address_.clear();
  smdp_oid_.clear();
  dp_pb_key_.reset();
  load_.reset();
}

const Identity* IsdR::identity() {
  if (!identity_) {
    auto id = store_.identity();
    if (!id) return nullptr;
    identity_ = std::move(*id);
  }
  return &*identity_;
}

const crypto::EcKey* IsdR::euicc_key(crypto::Curve curve) {
  auto& key = keys_[static_cast<int>(curve)];
  if (!key) {
    auto k = store_.private_key(curve);
    if (!k) return nullptr;
    key = std::move(*k);
  }
  return &*key;
}

const pki::Certificate* IsdR::ci_certificate(crypto::Curve curve) {
  auto& ci = cis_[static_cast<int>(curve)];
  if (!ci) {
    const Identity* id = identity();
    if (!id) return nullptr;
    for (const auto& c : id->curves) {
      if (c.curve != curve) continue;
      auto cert = pki::Certificate::from_der(c.ci_cert);
      if (cert) ci = std::move(*cert);
    }
  }
  return ci ? &*ci : nullptr;
}

bool IsdR::bpp_in_progress(ByteView command) const {
  if (!load_ || command.empty()) return false;
  if (load_->stream.has_partial()) return true;
  switch (command[0]) {
    case 0xA0: case 0xA1: case 0xA2: case 0xA3: case 0x86: case 0x87: case 0x88: return true;
    default: return false;
  }
}

Result IsdR::load_bound_profile_package(ByteView piece) {
  if (card::starts_bpp(piece)) {
    // §5.7.6: a BPP only follows PrepareDownload in the same session.
    if (!transaction_id_ || !ot_key_ || !dp_pb_key_ || !session_curve_) {
      load_.reset();
      return unexpected(sw::kConditionsNotSatisfied);
    }
    load_ = std::make_unique<detail::BppLoad>();
    last_load_error_.clear();
    // The card option (rsp euicc create --lenient-segments); strict when the state cannot be read.
    if (auto state = state_.load(store_); state && state->lenient_segments) {
      load_->max_segment = kLenientMaxSegment;
      load_->stream = detail::BppStream(kLenientMaxSegment);
    }
    load_->transaction_id = *transaction_id_;
  }
  if (!load_) return unexpected(sw::kConditionsNotSatisfied);
  auto& L = *load_;

  auto events = L.stream.feed(piece);
  if (!events) {
    // SGP.22 §5.7.6: the error names the command of the sequence it is in
    // (inside A3 loadProfileElements), not the one completed before it.
    const std::uint8_t seq = events.error().sequence;
    const std::int64_t command = seq == 0xA0   ? Cmd::configureISDP
                                 : seq == 0xA1 ? Cmd::storeMetadata
                                 : seq == 0xA2 ? Cmd::replaceSessionKeys
                                 : seq == 0xA3 ? Cmd::loadProfileElements
                                               : L.command;
    last_load_error_ = events.error().what;
    return finish_load(nullptr, LoadError{command, Reason::scp03tStructureError}, {});
  }

  for (auto& ev : *events) {
    using K = detail::BppStream::Kind;
    switch (ev.kind) {
      case K::InitialiseSecureChannel: {
        auto isc = decode_der<InitialiseSecureChannelRequest>(ev.tlv);
        if (!isc) return finish_load(nullptr, LoadError{Cmd::initialiseSecureChannel, Reason::incorrectInputValues}, {});
        // §5.5.1: remote operation, transaction, key parameters, then the signature.
        if (isc->remoteOpId != RemoteOpId_values::installBoundProfilePackage)
          return finish_load(nullptr, LoadError{Cmd::initialiseSecureChannel, Reason::unsupportedRemoteOperationType}, {});
        if (!equal_ct(isc->transactionId, L.transaction_id))
          return finish_load(nullptr, LoadError{Cmd::initialiseSecureChannel, Reason::invalidTransactionId}, {});
        const auto& crt = isc->controlRefTemplate;
        if (crt.keyType != Bytes{crypto::kBspKeyTypeAes} || crt.keyLen != Bytes{crypto::kBspKeyLength128} ||
            crt.hostId.empty() || crt.hostId.size() > 16)
          return finish_load(nullptr, LoadError{Cmd::initialiseSecureChannel, Reason::unsupportedCrtValues}, {});
        if (!crypto::verify_plain(*dp_pb_key_, asn1::smdp_sign_data(*isc, ot_key_->public_point()), isc->smdpSign))
          return finish_load(nullptr, LoadError{Cmd::initialiseSecureChannel, Reason::invalidSignature}, {});
        auto smdp_otpk = crypto::EcKey::from_public_point(*session_curve_, isc->smdpOtpk);
        if (!smdp_otpk)
          return finish_load(nullptr, LoadError{Cmd::initialiseSecureChannel, Reason::incorrectInputValues}, {});
        auto shs = crypto::ecka_shared_secret(*ot_key_, *smdp_otpk);
        const Identity* id = identity();
        auto eid_bytes = id ? from_hex(id->eid) : std::nullopt;
        if (!shs || !eid_bytes)
          return finish_load(nullptr, LoadError{Cmd::initialiseSecureChannel, Reason::installFailedDueToUnknownError}, {});
        auto keys = crypto::derive_bsp_keys(*shs, crt.hostId, *eid_bytes);
        wipe(*shs);
        // §3.1.3: otSK.EUICC.ECKA leaves RAM once used; the copy in the
        // folder stays for a retry until the download ends (finish_load()).
        ot_key_.reset();
        if (!keys)
          return finish_load(nullptr, LoadError{Cmd::initialiseSecureChannel, Reason::installFailedDueToUnknownError}, {});
        L.bsp.emplace(std::move(*keys));
        L.bsp->set_max_segment(L.max_segment);
        L.command = Cmd::configureISDP;
        break;
      }
      case K::Segment: {
        if (!L.bsp) return finish_load(nullptr, LoadError{L.command, Reason::scp03tStructureError}, {});
        L.command = ev.sequence == 0xA0   ? Cmd::configureISDP
                    : ev.sequence == 0xA1 ? Cmd::storeMetadata
                    : ev.sequence == 0xA2 ? Cmd::replaceSessionKeys
                                          : Cmd::loadProfileElements;
        auto plain = ev.sequence == 0xA1 ? L.bsp->verify_mac_only(0x88, ev.tlv)
                                         : L.bsp->verify_and_decrypt(ev.sequence == 0xA3 ? 0x86 : 0x87, ev.tlv);
        if (!plain) return finish_load(nullptr, security_or_structure(L.command, plain.error()), {});
        Bytes& sink = ev.sequence == 0xA3 ? L.profile : L.plain;
        sink.insert(sink.end(), plain->begin(), plain->end());
        wipe(*plain);
        if (L.profile.size() > detail::kFreeProfileMemory)
          return finish_load(nullptr, LoadError{Cmd::loadProfileElements, Reason::installFailedDueToInsufficientMemoryForProfile}, {});
        if (L.plain.size() > crypto::kBspMaxSegment * 4)
          return finish_load(nullptr, LoadError{L.command, Reason::incorrectInputValues}, {});
        break;
      }
      case K::SequenceEnd: {
        Bytes content = std::move(L.plain);
        L.plain.clear();
        if (ev.sequence == 0xA0) {
          if (!decode_der<ConfigureISDPRequest>(content))
            return finish_load(nullptr, LoadError{Cmd::configureISDP, Reason::incorrectInputValues}, {});
        } else if (ev.sequence == 0xA1) {
          auto meta = decode_der<StoreMetadataRequest>(content);
          if (!meta) return finish_load(nullptr, LoadError{Cmd::storeMetadata, Reason::incorrectInputValues}, {});
          auto state = state_.load(store_);
          if (!state)
            return finish_load(nullptr, LoadError{Cmd::storeMetadata, Reason::installFailedDueToUnknownError}, {});
          if (auto reason = check_metadata(*meta, *state)) {
            L.metadata = std::move(*meta);
            return finish_load(nullptr, LoadError{Cmd::storeMetadata, *reason}, {});
          }
          L.metadata = std::move(*meta);
        } else if (ev.sequence == 0xA2) {
          auto rsk = decode_der<ReplaceSessionKeysRequest>(content);
          wipe(content);
          if (!rsk || rsk->ppkEnc.size() != 16 || rsk->ppkCmac.size() != 16 || rsk->initialMacChainingValue.size() != 16)
            return finish_load(nullptr, LoadError{Cmd::replaceSessionKeys, Reason::incorrectInputValues}, {});
          L.bsp->replace_keys(crypto::BspKeys(rsk->ppkEnc, rsk->ppkCmac, rsk->initialMacChainingValue));
          wipe(rsk->ppkEnc);
          wipe(rsk->ppkCmac);
        } else if (!L.metadata) {
          return finish_load(nullptr, LoadError{Cmd::loadProfileElements, Reason::scp03tStructureError}, {});
        }
        break;
      }
      case K::PackageEnd: {
        if (!L.metadata) return finish_load(nullptr, LoadError{Cmd::storeMetadata, Reason::scp03tStructureError}, {});
        auto pes = check_profile_package(L.profile, L.metadata->iccid);
        if (!pes) return finish_load(nullptr, LoadError{Cmd::loadProfileElements, pes.error()}, {});
        auto state = state_.load(store_);
        if (!state)
          return finish_load(nullptr, LoadError{Cmd::loadProfileElements, Reason::installFailedDueToUnknownError}, {});
        if (state->find_by_iccid(L.metadata->iccid))
          return finish_load(&*state, LoadError{Cmd::storeMetadata, Reason::installFailedDueToIccidAlreadyExistsOnEuicc}, {});
        ProfileRecord p = record_from(*L.metadata);
        p.isdp_aid = allocate_isdp_aid(*state);
        p.content_file = to_hex(p.isdp_aid) + ".upp";
        p.content_size = static_cast<std::uint32_t>(L.profile.size());
        p.profile_elements = *pes;
        // The content file first; the state names it only once it is whole.
        if (!store_.write_content(p.content_file, L.profile))
          return finish_load(&*state, LoadError{Cmd::loadProfileElements, Reason::installFailedDueToUnknownError}, {});
        const Bytes aid = p.isdp_aid;
        state->profiles.push_back(std::move(p));
        return finish_load(&*state, std::nullopt, aid);
      }
    }
  }
  return Bytes{};
}

Bytes IsdR::finish_load(EuiccState* state, const std::optional<LoadError>& error, const Bytes& isdp_aid) {
  std::optional<EuiccState> loaded;
  if (!state) {
    if (auto s = state_.load(store_)) loaded = std::move(*s);
    state = loaded ? &*loaded : nullptr;
  }
  const crypto::EcKey* key = session_key();
  auto make_result = [&](const std::optional<LoadError>& err) {
    ProfileInstallationResult pir;
    auto& d = pir.profileInstallationResultData;
    d.transactionId = load_ ? load_->transaction_id : transaction_id_.value_or(Bytes{});
    d.notificationMetadata.seqNumber = state ? state->next_seq_number : 0;
    d.notificationMetadata.profileManagementOperation = detail::event_bits(NotificationEvent::kInstall);
    d.notificationMetadata.notificationAddress = server_address_;
    if (load_ && load_->metadata) d.notificationMetadata.iccid = load_->metadata->iccid;
    if (!smdp_oid_.empty()) d.smdpOid = asn1::Oid{smdp_oid_};
    if (err) {
      d.finalResult.set_errorResult(ErrorResult{err->first, err->second, std::nullopt});
    } else {
      // simaResponse: the SAIP EUICCResponse of a package installed without error.
      asn1::saip::EUICCResponse sima;
      asn1::saip::PEStatus ok;
      ok.status = asn1::saip::PEStatus::status_values::ok;
      sima.peStatus.push_back(ok);
      d.finalResult.set_successResult(SuccessResult{isdp_aid, asn1::encode(sima)});
    }
    if (key) {
      if (auto sig = crypto::sign_plain(*key, asn1::encode(d))) pir.euiccSignPIR = std::move(*sig);
    }
    return pir;
  };
  // The result is the install notification (§3.5), kept until removed; it is
  // saved in the same atomic state change as the profile it reports.
  auto record = [&](const ProfileInstallationResult& pir) {
    if (!state) return false;
    PendingNotification pending;
    pending.set_profileInstallationResult(pir);
    state->notifications.push_back({state->next_seq_number, NotificationEvent::kInstall, server_address_,
                                    pir.profileInstallationResultData.notificationMetadata.iccid.value_or(Bytes{}),
                                    asn1::encode(pending)});
    ++state->next_seq_number;
    // The download has ended: its one-time key pair is no longer kept.
    if (state->ot_key) wipe(state->ot_key->private_pem);
    state->ot_key.reset();
    return state_.save(store_, *state).has_value();
  };
  ProfileInstallationResult pir = make_result(error);
  if (!record(pir) && !error) {
    // Not recorded, so not installed: report it like an interrupted install.
    auto fresh = state_.load(store_);
    loaded = fresh ? std::optional<EuiccState>(std::move(*fresh)) : std::nullopt;
    state = loaded ? &*loaded : nullptr;
    if (state) store_.collect_garbage(*state);
    pir = make_result(LoadError{Cmd::loadProfileElements, Reason::installFailedDueToUnknownError});
    record(pir);
  }
  end_session();
  return asn1::encode(pir);
}

}  // namespace rsp::euicc
