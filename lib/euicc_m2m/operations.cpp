// The ISD-R's platform operations on the card state (SGP.02 §3, §4.1.1).

#include "operations.hpp"

#include <algorithm>
#include <type_traits>

#include "rsp/apdu/status_words.hpp"
#include "rsp/card/aid.hpp"
#include "rsp/euicc_m2m/isd_r.hpp"

namespace rsp::euicc_m2m::detail {

namespace sw = apdu::sw;
using m2m::IsdpState;
using Result = expected<Outcome, m2m::StatusWord>;

namespace {

/// Free volatile memory reported by the audit (the simulator has no real RAM budget).
constexpr std::uint32_t kFreeVolatile = 8 * 1024;

Result refuse(std::uint16_t status) { return unexpected(status); }
Result done(Bytes data = {}) { return Outcome{std::move(data), true}; }

bool loaded(const IsdpRecord& p) { return p.state == IsdpState::kDisabled || p.state == IsdpState::kEnabled; }

bool same(ByteView a, ByteView b) { return std::equal(a.begin(), a.end(), b.begin(), b.end()); }

void erase(M2mState& s, ByteView aid) {
  std::erase_if(s.isdps, [&](const IsdpRecord& p) { return same(p.aid, aid); });
}

/// `p` was just disabled: POL1 "delete when disabled" removes it, unless it
/// is the fallback profile (which must stay).
void after_disable(M2mState& s, const Bytes& aid) {
  auto* p = s.find(aid);
  if (p && (p->pol1 & m2m::pol1::kDeleteWhenDisabled) != 0 && !p->fallback) erase(s, aid);
}

/// GP INSTALL and DELETE answer one byte '00' (GP Card Spec v2.3 §11.2.3, §11.5.3).
Bytes gp_ok() { return Bytes{0x00}; }

struct Apply {
  M2mState& s;
  const CardFacts& facts;

  Result operator()(const m2m::CreateIsdp& c) const {
    if (s.find(c.isdp_aid) || same(c.isdp_aid, card::kIsdRAid) || same(c.isdp_aid, card::kEcasdAid)) {
      return refuse(sw::kConditionsNotSatisfied);
    }
    const std::uint32_t quota = c.memory_quota.value_or(kDefaultIsdpQuota);
    if (quota > s.memory_total - std::min(s.memory_used(), s.memory_total)) return refuse(sw::kNotEnoughMemory);
    IsdpRecord p;
    p.aid = c.isdp_aid;
    p.state = IsdpState::kSelectable;
    p.memory_quota = quota;
    s.isdps.push_back(std::move(p));
    return done(gp_ok());
  }

  Result operator()(const m2m::EnableProfile& c) const {
    auto* target = s.find(c.isdp_aid);
    if (!target) return refuse(sw::kReferencedDataNotFound);
    if (target->state != IsdpState::kDisabled) return refuse(sw::kConditionsNotSatisfied);
    auto* current = s.enabled();
    if (current && (current->pol1 & m2m::pol1::kDisableNotAllowed) != 0) return refuse(sw::kConditionsNotSatisfied);
    Bytes previous;
    if (current) {
      current->state = IsdpState::kDisabled;
      previous = current->aid;
    }
    target->state = IsdpState::kEnabled;
    const Bytes enabled = target->aid;
    if (!previous.empty()) after_disable(s, previous);
    notify(s, m2m::NotificationType::kProfileChangeSucceeded, enabled);
    return done();
  }

  Result operator()(const m2m::DisableProfile& c) const {
    auto* target = s.find(c.isdp_aid);
    if (!target) return refuse(sw::kReferencedDataNotFound);
    if (target->state != IsdpState::kEnabled) return refuse(sw::kConditionsNotSatisfied);
    if ((target->pol1 & m2m::pol1::kDisableNotAllowed) != 0) return refuse(sw::kConditionsNotSatisfied);
    auto* fallback = s.fallback();
    // The device keeps a profile enabled: the fallback profile takes over,
    // so it can itself not be disabled (SGP.02 §3.4).
    if (!fallback || fallback == target || !loaded(*fallback)) return refuse(sw::kConditionsNotSatisfied);
    target->state = IsdpState::kDisabled;
    fallback->state = IsdpState::kEnabled;
    const Bytes disabled = target->aid, enabled = fallback->aid;
    after_disable(s, disabled);
    notify(s, m2m::NotificationType::kProfileChangeSucceeded, enabled);
    return done();
  }

  Result operator()(const m2m::SetFallbackAttribute& c) const {
    auto* target = s.find(c.isdp_aid);
    if (!target) return refuse(sw::kReferencedDataNotFound);
    if (!loaded(*target)) return refuse(sw::kConditionsNotSatisfied);
    for (auto& p : s.isdps) p.fallback = false;
    target->fallback = true;
    return done();
  }

  Result operator()(const m2m::SetEmergencyProfileAttribute& c) const {
    auto* target = s.find(c.isdp_aid);
    if (!target) return refuse(sw::kReferencedDataNotFound);
    if (!loaded(*target)) return refuse(sw::kConditionsNotSatisfied);
    for (auto& p : s.isdps) p.emergency = false;
    target->emergency = true;
    return done();
  }

  /// Connectivity parameters in clear through the ISD-R: refused, they
  /// change only by the SM-DP's ES8.UpdateConnectivityParameters secured
  /// for the ISD-P (SGP.02 §3.14, es8_card.hpp). SGP.02's clear path is
  /// the MNO's own OTA to its MNO-SD (ES6, §3.13), which this card does
  /// not simulate.
  Result operator()(const m2m::UpdateConnectivityParameters& c) const {
    if (!s.find(c.isdp_aid)) return refuse(sw::kReferencedDataNotFound);
    return refuse(sw::kFunctionNotSupported);
  }

  Result operator()(const m2m::UpdatePolicyRules& c) const {
    auto* target = s.find(c.isdp_aid);
    if (!target) return refuse(sw::kReferencedDataNotFound);
    if (!loaded(*target)) return refuse(sw::kConditionsNotSatisfied);
    target->pol1 = c.pol1;
    return done();
  }

  Result operator()(const m2m::ConfirmNotification& c) const {
    const auto before = s.notifications.size();
    std::erase_if(s.notifications, [&](const PendingNotification& n) { return n.seq_number == c.seq_number; });
    if (s.notifications.size() == before) return refuse(sw::kReferencedDataNotFound);
    return done();
  }

  Result operator()(const m2m::DeleteProfile& c) const {
    auto* target = s.find(c.isdp_aid);
    if (!target) return refuse(sw::kReferencedDataNotFound);
    if (target->state == IsdpState::kEnabled || target->fallback ||
        (target->pol1 & m2m::pol1::kDeleteNotAllowed) != 0) {
      return refuse(sw::kConditionsNotSatisfied);
    }
    erase(s, c.isdp_aid);
    return done(gp_ok());
  }

  Result operator()(const m2m::AuditIsdps& c) const {
    std::vector<m2m::IsdpStatus> list;
    for (const auto& p : s.isdps) {
      // GP §11.4.2.1: the search criterion '4F' matches AIDs that start with it.
      if (!c.aid_filter.empty() && (p.aid.size() < c.aid_filter.size() ||
                                    !std::equal(c.aid_filter.begin(), c.aid_filter.end(), p.aid.begin()))) {
        continue;
      }
      list.push_back({p.aid, p.state, p.iccid, p.fallback, p.emergency, p.pol1});
    }
    if (list.empty()) return refuse(sw::kReferencedDataNotFound);
    return Outcome{m2m::encode_isdp_status(list), false};
  }

  Result operator()(const m2m::GetEuiccData& c) const {
    switch (c.tag) {
      case m2m::data_tag::kEid: return Outcome{m2m::encode_eid(facts.eid), false};
      case m2m::data_tag::kCardResources: {
        m2m::CardResources r;
        r.installed_applications = static_cast<std::uint32_t>(s.isdps.size() + 2);  // and the ISD-R, the ECASD
        r.free_non_volatile = s.memory_total - std::min(s.memory_used(), s.memory_total);
        r.free_volatile = kFreeVolatile;
        return Outcome{m2m::encode_card_resources(r), false};
      }
      default: return refuse(sw::kReferencedDataNotFound);  // the certificate is the ECASD's
    }
  }
};

}  // namespace

void notify(M2mState& s, m2m::NotificationType type, ByteView aid) {
  s.notifications.push_back({s.next_seq_number++, type, Bytes(aid.begin(), aid.end())});
}

bool fall_back(M2mState& s) {
  auto* current = s.enabled();
  auto* fallback = s.fallback();
  if (!fallback || fallback == current || fallback->state != IsdpState::kDisabled) return false;
  // POL1 governs what the SM-SR and the MNO may do; the fallback mechanism
  // exists to restore connectivity and does not consult it.
  Bytes previous;
  if (current) {
    current->state = IsdpState::kDisabled;
    previous = current->aid;
  }
  fallback->state = IsdpState::kEnabled;
  const Bytes enabled = fallback->aid;
  if (!previous.empty()) after_disable(s, previous);
  notify(s, m2m::NotificationType::kProfileChangeAfterFallback, enabled);
  return true;
}

expected<Outcome, m2m::StatusWord> apply_to(M2mState& scratch, const m2m::IsdrCommand& command,
                                            const CardFacts& facts) {
  return std::visit(Apply{scratch, facts}, command);
}

expected<Outcome, m2m::StatusWord> apply(M2mState& state, const m2m::IsdrCommand& command, const CardFacts& facts) {
  M2mState next = state;
  auto r = apply_to(next, command, facts);
  if (r && r->changed) state = std::move(next);
  return r;
}

}  // namespace rsp::euicc_m2m::detail
