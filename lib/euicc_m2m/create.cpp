// `rsp euicc create --m2m`: the card folder and its registration facts.

#include "rsp/euicc_m2m/create.hpp"

#include <nlohmann/json.hpp>

#include "rsp/card/aid.hpp"
#include "rsp/messages/iccid.hpp"

namespace rsp::euicc_m2m {

namespace {

std::string state_name(m2m::IsdpState s) {
  switch (s) {
    case m2m::IsdpState::kSelectable: return "Created";
    case m2m::IsdpState::kDisabled: return "Disabled";
    case m2m::IsdpState::kEnabled: return "Enabled";
    default: return std::string(m2m::name(s));
  }
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

StoreResult<std::string> registration_json(const M2mStore& store) {
  using nlohmann::json;
  RSP_TRY(auto eid, store.euicc().eid());
  RSP_TRY(auto identity, store.euicc().identity());
  RSP_TRY(auto s, store.load());
  json scp80 = json::array();
  for (const auto& k : s.scp80) {
    scp80.push_back({{"keyVersion", k.version}, {"kic", to_hex(k.kic)}, {"kid", to_hex(k.kid)}, {"counter", k.counter}});
  }
  json profiles = json::array();
  for (const auto& p : s.isdps) {
    profiles.push_back({{"isdpAid", to_hex(p.aid)},
                        {"iccid", messages::iccid_to_digits(p.iccid)},
                        {"mnoId", p.mno_id},
                        {"state", state_name(p.state)},
                        {"fallbackAttribute", p.fallback},
                        {"emergencyProfileAttribute", p.emergency},
                        {"pol1", {{"disableNotAllowed", (p.pol1 & m2m::pol1::kDisableNotAllowed) != 0},
                                  {"deleteNotAllowed", (p.pol1 & m2m::pol1::kDeleteNotAllowed) != 0},
                                  {"deleteWhenDisabled", (p.pol1 & m2m::pol1::kDeleteWhenDisabled) != 0}}},
                        {"allocatedMemory", p.memory_quota}});
  }
  const std::uint32_t remaining = s.memory_total - std::min(s.memory_used(), s.memory_total);
  json j = {{"eid", eid},
            {"platformType", s.platform_type},
            {"platformVersion", s.platform_version},
            {"remainingMemory", remaining},
            {"availableMemoryForProfiles", remaining},
            {"smsrId", s.smsr_id},
            {"isdR",
             {{"aid", to_hex(ByteView(card::kIsdRAid))},
              {"scp80Keys", scp80},
              {"scp81Psk", {{"identity", s.scp81.identity}, {"key", to_hex(s.scp81.key)}}}}},
            {"ecasd",
             {{"aid", to_hex(ByteView(card::kEcasdAid))},
              {"certificate", to_hex(identity.curves.front().euicc_cert)}}},
            {"profiles", profiles}};
  return j.dump(2);
}

}  // namespace rsp::euicc_m2m
