// ISD-R: command dispatch, ES10a and the profile management of ES10c.

#include "rsp/euicc/isd_r.hpp"

#include <algorithm>

#include "isd_r_internal.hpp"
#include "rsp/crypto/random.hpp"

namespace rsp::euicc {

using namespace asn1::sgp22;
using detail::decode_command;

namespace {

using Result = expected<Bytes, std::uint16_t>;

/// ProfileIdentifier lookup shared by Enable/Disable/Delete (isdpAid or iccid).
template <class Choice>
ProfileRecord* find_profile(EuiccState& s, const Choice& id) {
  if (const auto* aid = id.isdpAid()) return s.find_by_aid(*aid);
  if (const auto* iccid = id.iccid()) return s.find_by_iccid(*iccid);
  return nullptr;
}

/// tagList (SGP.22 §5.7.15): concatenated tags of the ProfileInfo fields wanted.
std::optional<std::vector<std::uint32_t>> parse_tag_list(ByteView list) {
  std::vector<std::uint32_t> tags;
  std::size_t i = 0;
  while (i < list.size()) {
    std::uint32_t tag = list[i++];
    if ((tag & 0x1F) == 0x1F) {
      int extra = 0;
      do {
        if (i >= list.size() || ++extra > 3) return std::nullopt;
        tag = (tag << 8) | list[i];
      } while (list[i++] & 0x80);
    }
    tags.push_back(tag);
  }
  return tags;
}

void keep_only(ProfileInfo& p, const std::vector<std::uint32_t>& tags) {
  auto want = [&](std::uint32_t t) { return std::find(tags.begin(), tags.end(), t) != tags.end(); };
  if (!want(0x5A)) p.iccid.reset();
  if (!want(0x4F)) p.isdpAid.reset();
  if (!want(0x9F70)) p.profileState.reset();
  if (!want(0x90)) p.profileNickname.reset();
  if (!want(0x91)) p.serviceProviderName.reset();
  if (!want(0x92)) p.profileName.reset();
  if (!want(0x93)) p.iconType.reset();
  if (!want(0x94)) p.icon.reset();
  if (!want(0x95)) p.profileClass.reset();
  if (!want(0xB6)) p.notificationConfigurationInfo.reset();
  if (!want(0xB7)) p.profileOwner.reset();
  if (!want(0xB8)) p.dpProprietaryData.reset();
  if (!want(0x99)) p.profilePolicyRules.reset();
}

}  // namespace

IsdR::IsdR(EuiccStore store, crypto::Random* random)
    : store_(std::move(store)), random_(random ? random : &crypto::system_random()) {}

Bytes IsdR::select_response() { return card::make_fci(card::kIsdRAid); }

void IsdR::on_es10_deselect(std::uint8_t /*channel*/) { end_session(); }

Result IsdR::load_bpp_segment(ByteView segment, std::uint8_t /*channel*/) {
  return load_bound_profile_package(segment);
}

Result IsdR::process_es10(ByteView command, std::uint8_t /*channel*/) {
  auto first = tlv::parse_one(command, tlv::Mode::Ber);
  if (!first) return unexpected(sw::kWrongData);
  return dispatch(first->tag.raw(), command);
}

Result IsdR::dispatch(std::uint32_t tag, ByteView c) {
  switch (tag) {
    case es10::kGetProfilesInfo: return get_profiles_info(c);
    case es10::kEnableProfile: return enable_profile(c);
    case es10::kDisableProfile: return disable_profile(c);
    case es10::kDeleteProfile: return delete_profile(c);
    case es10::kEuiccMemoryReset: return memory_reset(c);
    case es10::kGetEid: return get_eid(c);
    case es10::kSetNickname: return set_nickname(c);
    case es10::kGetEuiccConfiguredAddresses: return get_configured_addresses(c);
    case es10::kSetDefaultDpAddress: return set_default_dp_address(c);
    case es10::kGetEuiccChallenge: return get_euicc_challenge(c);
    case es10::kGetEuiccInfo1: return get_euicc_info1(c);
    case es10::kGetEuiccInfo2: return get_euicc_info2(c);
    case es10::kListNotification: return list_notification(c);
    case es10::kRetrieveNotificationsList: return retrieve_notifications(c);
    case es10::kRemoveNotificationFromList: return remove_notification(c);
    case es10::kGetRat: return get_rat(c);
    case es10::kLoadCrl: return load_crl(c);
    case es10::kCancelSession: return cancel_session(c);
    case es10::kAuthenticateServer: return authenticate_server(c);
    case es10::kPrepareDownload: return prepare_download(c);
    default: return unexpected(sw::kReferencedDataNotFound);
  }
}

// --- ES10a (SGP.22 §5.7.3, §5.7.4) ---

Result IsdR::get_configured_addresses(ByteView c) {
  if (!decode_command<EuiccConfiguredAddressesRequest>(c)) return unexpected(sw::kWrongData);
  auto s = state_.load(store_);
  if (!s) return unexpected(sw::kNoPreciseDiagnosis);
  EuiccConfiguredAddressesResponse r;
  if (!s->default_dp_address.empty()) r.defaultDpAddress = s->default_dp_address;
  r.rootDsAddress = s->root_ds_address;
  return asn1::encode(r);
}

Result IsdR::set_default_dp_address(ByteView c) {
  return detail::with_state<SetDefaultDpAddressRequest, SetDefaultDpAddressResponse>(
      loader(), c, &SetDefaultDpAddressResponse::setDefaultDpAddressResult,
      [&](const SetDefaultDpAddressRequest& req, EuiccState& s, SetDefaultDpAddressResponse& r) {
        using V = SetDefaultDpAddressResponse::setDefaultDpAddressResult_values;
        if (req.defaultDpAddress.size() > 255) {
          r.setDefaultDpAddressResult = V::undefinedError;
          return;
        }
        s.default_dp_address = req.defaultDpAddress;
        r.setDefaultDpAddressResult = state_.save(store_, s) ? V::ok : V::undefinedError;
      });
}

// --- ES10c (SGP.22 §5.7.15-§5.7.21) ---

Result IsdR::get_profiles_info(ByteView c) {
  using E = ProfileInfoListError_values;
  return detail::with_state<ProfileInfoListRequest, ProfileInfoListResponse>(
      loader(), c, [](ProfileInfoListResponse& r) { r.set_profileInfoListError(E::undefinedError); },
      [&](const ProfileInfoListRequest& req, EuiccState& s, ProfileInfoListResponse& r) {
        std::optional<std::vector<std::uint32_t>> tags;
        if (req.tagList) {
          tags = parse_tag_list(*req.tagList);
          if (!tags) {
            r.set_profileInfoListError(E::incorrectInputValues);
            return;
          }
        }
        const auto* crit = req.searchCriteria ? &*req.searchCriteria : nullptr;
        if (crit && crit->unknown()) {
          r.set_profileInfoListError(E::incorrectInputValues);
          return;
        }
        auto& list = r.set_profileInfoListOk();
        for (const auto& p : s.profiles) {
          if (crit) {
            if (crit->isdpAid() && *crit->isdpAid() != p.isdp_aid) continue;
            if (crit->iccid() && *crit->iccid() != p.iccid) continue;
            if (crit->profileClass() && *crit->profileClass() != p.profile_class) continue;
          }
          auto info = detail::to_profile_info(p);
          if (tags) keep_only(info, *tags);
          list.push_back(std::move(info));
        }
      });
}

Result IsdR::enable_profile(ByteView c) {
  return detail::with_state<EnableProfileRequest, EnableProfileResponse>(
      loader(), c, &EnableProfileResponse::enableResult,
      [&](const EnableProfileRequest& req, EuiccState& s, EnableProfileResponse& r) {
        using V = EnableProfileResponse::enableResult_values;
        ProfileRecord* p = find_profile(s, req.profileIdentifier);
        ProfileRecord* current = s.enabled_profile();
        if (!p) {
          r.enableResult = V::iccidOrAidNotFound;
        } else if (p->enabled) {
          r.enableResult = V::profileNotInDisabledState;
        } else if (current && (current->ppr & 0x02)) {
          r.enableResult = V::disallowedByPolicy;  // PPR1: the enabled profile may not be disabled
        } else {
          if (current) {
            current->enabled = false;
            add_notification(s, *current, NotificationEvent::kDisable);
          }
          p->enabled = true;
          add_notification(s, *p, NotificationEvent::kEnable);
          r.enableResult = state_.save(store_, s) ? V::ok : V::undefinedError;
          if (r.enableResult == V::ok) end_session();  // the refresh ends any RSP session
        }
      });
}

Result IsdR::disable_profile(ByteView c) {
  return detail::with_state<DisableProfileRequest, DisableProfileResponse>(
      loader(), c, &DisableProfileResponse::disableResult,
      [&](const DisableProfileRequest& req, EuiccState& s, DisableProfileResponse& r) {
        using V = DisableProfileResponse::disableResult_values;
        ProfileRecord* p = find_profile(s, req.profileIdentifier);
        if (!p) {
          r.disableResult = V::iccidOrAidNotFound;
        } else if (!p->enabled) {
          r.disableResult = V::profileNotInEnabledState;
        } else if (p->ppr & 0x02) {
          r.disableResult = V::disallowedByPolicy;
        } else {
          p->enabled = false;
          add_notification(s, *p, NotificationEvent::kDisable);
          r.disableResult = state_.save(store_, s) ? V::ok : V::undefinedError;
        }
      });
}

Result IsdR::delete_profile(ByteView c) {
  return detail::with_state<DeleteProfileRequest, DeleteProfileResponse>(
      loader(), c, &DeleteProfileResponse::deleteResult,
      [&](const DeleteProfileRequest& req, EuiccState& s, DeleteProfileResponse& r) {
        using V = DeleteProfileResponse::deleteResult_values;
        ProfileRecord* p = find_profile(s, req);
        if (!p) {
          r.deleteResult = V::iccidOrAidNotFound;
        } else if (p->enabled) {
          r.deleteResult = V::profileNotInDisabledState;
        } else if (p->ppr & 0x04) {
          r.deleteResult = V::disallowedByPolicy;  // PPR2
        } else {
          add_notification(s, *p, NotificationEvent::kDelete);
          s.profiles.erase(s.profiles.begin() + (p - s.profiles.data()));
          r.deleteResult = state_.save(store_, s) ? V::ok : V::undefinedError;
          if (r.deleteResult == V::ok) store_.collect_garbage(s);
        }
      });
}

Result IsdR::memory_reset(ByteView c) {
  return detail::with_state<EuiccMemoryResetRequest, EuiccMemoryResetResponse>(
      loader(), c, &EuiccMemoryResetResponse::resetResult,
      [&](const EuiccMemoryResetRequest& req, EuiccState& s, EuiccMemoryResetResponse& r) {
        using V = EuiccMemoryResetResponse::resetResult_values;
        using O = EuiccMemoryResetRequest::resetOptions_values;
        const auto& bits = req.resetOptions;
        auto asked = [&](std::int64_t bit) {
          const auto i = static_cast<std::size_t>(bit);
          return bits.bit_count() > i && bits.test(i);
        };
        // §5.7.19: profiles go regardless of their PPRs; no notifications are made.
        auto doomed = [&](const ProfileRecord& p) {
          return (asked(O::deleteOperationalProfiles) && p.profile_class == ProfileClass_values::operational) ||
                 (asked(O::deleteFieldLoadedTestProfiles) && p.profile_class == ProfileClass_values::test);
        };
        const auto before = s.profiles.size();
        s.profiles.erase(std::remove_if(s.profiles.begin(), s.profiles.end(), doomed), s.profiles.end());
        bool changed = before != s.profiles.size();
        if (asked(O::resetDefaultSmdpAddress) && !s.default_dp_address.empty()) {
          s.default_dp_address.clear();
          changed = true;
        }
        if (!changed) {
          r.resetResult = V::nothingToDelete;
          return;
        }
        r.resetResult = state_.save(store_, s) ? V::ok : V::undefinedError;
        if (r.resetResult == V::ok) store_.collect_garbage(s);
      });
}

Result IsdR::get_eid(ByteView c) {
  auto req = decode_command<GetEuiccDataRequest>(c);
  if (!req || req->tagList != Bytes{0x5A}) return unexpected(sw::kWrongData);
  auto eid = store_.eid();
  if (!eid) return unexpected(sw::kNoPreciseDiagnosis);
  auto value = from_hex(*eid);
  if (!value || value->size() != 16) return unexpected(sw::kNoPreciseDiagnosis);
  GetEuiccDataResponse r;
  r.eidValue = std::move(*value);
  return asn1::encode(r);
}

Result IsdR::set_nickname(ByteView c) {
  return detail::with_state<SetNicknameRequest, SetNicknameResponse>(
      loader(), c, &SetNicknameResponse::setNicknameResult,
      [&](const SetNicknameRequest& req, EuiccState& s, SetNicknameResponse& r) {
        using V = SetNicknameResponse::setNicknameResult_values;
        if (req.profileNickname.size() > 64) {
          r.setNicknameResult = V::undefinedError;
          return;
        }
        ProfileRecord* p = s.find_by_iccid(req.iccid);
        if (!p) {
          r.setNicknameResult = V::iccidNotFound;
          return;
        }
        p->nickname = req.profileNickname;
        r.setNicknameResult = state_.save(store_, s) ? V::ok : V::undefinedError;
      });
}

}  // namespace rsp::euicc
