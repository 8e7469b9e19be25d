// `rsp euicc create --m2m`: the card folder and its registration facts.

#include "rsp/euicc_m2m/create.hpp"

#include <ctime>

#include <nlohmann/json.hpp>

#include "rsp/card/aid.hpp"
#include "rsp/m2m/eis_json.hpp"
#include "rsp/m2m/isdp_profile_state.hpp"
#include "rsp/messages/iccid.hpp"

namespace rsp::euicc_m2m {

namespace {

/// "YYYY-MM-DD" of today in UTC.
std::string today_utc() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

}  // namespace

Bytes isdp_aid(std::uint32_t n) {
  Bytes aid(std::begin(card::kIsdRAid), std::end(card::kIsdRAid));
  const std::uint32_t v = 0x10 + n;  // bytes 13..15 hold the ISD-P number
  aid[12] = static_cast<std::uint8_t>(v >> 16);
  aid[13] = static_cast<std::uint8_t>(v >> 8);
  aid[14] = static_cast<std::uint8_t>(v);
  aid[15] = 0x00;
  return aid;
}

StoreResult<M2mStore> create_m2m_euicc(const M2mCreateOptions& o) {
  std::size_t enabled = 0, fallback = 0;
  for (const auto& p : o.profiles) {
    enabled += p.enabled ? 1 : 0;
    fallback += p.fallback ? 1 : 0;
    if (p.iccid.size() != 10 || p.isdp_aid.size() < 5 || p.isdp_aid.size() > 16 || (p.pol1 & ~m2m::pol1::kAll)) {
      return unexpected(StoreError{"a pre-installed profile has a bad AID, ICCID or POL1"});
    }
  }
  if (enabled != 1 || fallback > 1) {
    return unexpected(StoreError{"exactly one pre-installed profile must be enabled, at most one the fallback"});
  }
  crypto::SystemRandom system;
  crypto::Random& random = o.random ? *o.random : system;

  euicc::CreateOptions e;
  e.dir = o.dir;
  e.sources = o.sources;
  RSP_TRY(auto store, euicc::create_euicc(e));
  RSP_TRY(auto eid, store.eid());

  M2mState s;
  s.smsr_id = o.smsr_id;
  s.scp80.push_back({1, random.bytes(16), random.bytes(16), 0});
  s.scp81.identity = "eUICC-" + eid;
  s.scp81.key = random.bytes(16);
  // The ISD-R's identifiers (GP: '42' SIN, the issuer; '45' SDIN, the
  // image): this project's choice, the EID's first 5 bytes (its country and
  // issuer digits) and the whole EID (16 bytes), both from the EID digits.
  if (auto eid_bytes = from_hex(eid); eid_bytes && eid_bytes->size() == 16) {
    s.sin.assign(eid_bytes->begin(), eid_bytes->begin() + 5);
    s.sdin = *eid_bytes;
  }
  for (const auto& p : o.profiles) {
    IsdpRecord r;
    r.aid = p.isdp_aid;
    r.iccid = p.iccid;
    r.mno_id = p.mno_id;
    r.pol1 = p.pol1;
    r.fallback = p.fallback;
    r.state = p.enabled ? m2m::IsdpState::kEnabled : m2m::IsdpState::kDisabled;
    r.memory_quota = kDefaultIsdpQuota;
    s.isdps.push_back(std::move(r));
  }
  return M2mStore::initialise(store, s);
}

StoreResult<m2m::Eis> registration_eis(const M2mStore& store, const RegistrationFacts& facts) {
  RSP_TRY(auto eid, store.euicc().eid());
  RSP_TRY(auto identity, store.euicc().identity());
  RSP_TRY(auto s, store.load());
  m2m::Eis e;
  e.eid = eid;
  e.eum_id = facts.eum_id;
  e.production_date = facts.production_date.empty() ? today_utc() : facts.production_date;
  e.platform_type = s.platform_type;
  e.platform_version = s.platform_version;
  const std::uint32_t remaining = s.memory_total - std::min(s.memory_used(), s.memory_total);
  e.remaining_memory = remaining;
  e.available_memory_for_profiles = remaining;
  e.smsr_id = s.smsr_id;
  e.isd_r.aid = Bytes(std::begin(card::kIsdRAid), std::end(card::kIsdRAid));
  e.isd_r.sin = s.sin;
  e.isd_r.sdin = s.sdin;
  for (const auto& k : s.scp80)
    e.isd_r.scp80_key_sets.push_back({k.version, m2m::Scp80KeySet::Algorithm::Aes, k.kic, k.kid, k.counter});
  e.isd_r.scp81_psk = m2m::Scp81Psk{Bytes(s.scp81.identity.begin(), s.scp81.identity.end()), s.scp81.key};
  e.ecasd.aid = Bytes(std::begin(card::kEcasdAid), std::end(card::kEcasdAid));
  e.ecasd.certificate = identity.curves.front().euicc_cert;
  for (const auto& p : s.isdps) {
    m2m::ProfileInfo info;
    info.iccid = messages::iccid_to_digits(p.iccid);
    info.isdp_aid = p.aid;
    info.mno_id = p.mno_id;
    info.state = m2m::profile_state_of(p.state);
    info.fallback_attribute = p.fallback;
    info.emergency_profile_attribute = p.emergency;
    if (auto it = facts.msisdn.find(info.iccid); it != facts.msisdn.end()) info.subscription_address.msisdn = it->second;
    info.connectivity_parameters = p.connectivity;
    info.allocated_memory = p.memory_quota;
    e.profiles.push_back(std::move(info));
  }
  return e;
}

StoreResult<std::string> registration_json(const M2mStore& store, const RegistrationFacts& facts) {
  RSP_TRY(auto eis, registration_eis(store, facts));
  return nlohmann::json{{"eis", m2m::eis_to_json(eis, m2m::Keys::Include)}}.dump(2);
}

}  // namespace rsp::euicc_m2m
