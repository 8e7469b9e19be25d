#include "rsp/m2m/eis_json.hpp"

#include <algorithm>
#include <functional>
#include <limits>
#include <map>

namespace rsp::m2m {

using nlohmann::json;

namespace {

constexpr std::size_t kMaxText = 256;      ///< identifiers, versions, dates
constexpr std::size_t kMaxProfiles = 256;  ///< ISD-Ps on one eUICC, far more than any card holds
constexpr std::size_t kMaxRules = 16;
constexpr std::size_t kMaxKeySets = 16;
constexpr std::size_t kMaxCertificate = 4096;
constexpr std::size_t kMaxConnectivity = 1024;

unexpected<EisJsonError> bad(const std::string& path, std::string message) {
  return unexpected(EisJsonError{path, std::move(message)});
}

std::string join(const std::string& path, std::string_view member) {
  return path.empty() ? std::string(member) : path + "." + std::string(member);
}

/// The members of one JSON object, each taken at most once; leftovers are
/// unknown members and refused by done().
class Members {
 public:
  Members(const json& j, std::string path) : path_(std::move(path)) {
    if (!j.is_object()) return;
    ok_ = true;
    for (const auto& item : j.items()) left_.emplace(item.key(), &item.value());
  }
  bool is_object() const { return ok_; }
  const std::string& path() const { return path_; }
  /// The member, or null when absent.
  const json* take(std::string_view name) {
    auto it = left_.find(std::string(name));
    if (it == left_.end()) return nullptr;
    const json* v = it->second;
    left_.erase(it);
    return v;
  }
  expected<void, EisJsonError> done() const {
    if (!left_.empty()) return bad(join(path_, left_.begin()->first), "unknown member");
    return {};
  }
  std::string at(std::string_view name) const { return join(path_, name); }

 private:
  std::string path_;
  bool ok_ = false;
  std::map<std::string, const json*> left_;
};

expected<std::string, EisJsonError> text(Members& m, std::string_view name, bool mandatory,
                                         std::size_t max = kMaxText) {
  const json* v = m.take(name);
  if (!v) {
    if (mandatory) return bad(m.at(name), "mandatory member missing");
    return std::string();
  }
  if (!v->is_string()) return bad(m.at(name), "must be a string");
  std::string s = v->get<std::string>();
  if (s.size() > max) return bad(m.at(name), "longer than " + std::to_string(max) + " characters");
  if (mandatory && s.empty()) return bad(m.at(name), "must not be empty");
  for (unsigned char c : s)
    if (c < 0x20) return bad(m.at(name), "holds a control character");
  return s;
}

expected<std::optional<Bytes>, EisJsonError> hex_opt(Members& m, std::string_view name, std::size_t min,
                                                     std::size_t max) {
  const json* v = m.take(name);
  if (!v) return std::optional<Bytes>();
  if (!v->is_string()) return bad(m.at(name), "must be a hex string");
  const auto& s = v->get_ref<const std::string&>();
  if (s.size() > 2 * max) return bad(m.at(name), "longer than " + std::to_string(max) + " bytes");
  auto b = from_hex(s);
  if (!b) return bad(m.at(name), "must be a hex string");
  if (b->size() < min) return bad(m.at(name), "shorter than " + std::to_string(min) + " bytes");
  return std::optional<Bytes>(std::move(*b));
}

/// SIN and SDIN: at most 127 bytes (m2m/es8.hpp, one length byte in SharedInfo).
constexpr std::size_t kMaxIdentifier = 127;

expected<Bytes, EisJsonError> hex(Members& m, std::string_view name, std::size_t min, std::size_t max) {
  RSP_TRY(auto b, hex_opt(m, name, min, max));
  if (!b) return bad(m.at(name), "mandatory member missing");
  return std::move(*b);
}

expected<std::int64_t, EisJsonError> integer(Members& m, std::string_view name, bool mandatory, std::int64_t min,
                                             std::int64_t max) {
  const json* v = m.take(name);
  if (!v) {
    if (mandatory) return bad(m.at(name), "mandatory member missing");
    return min;
  }
  if (!v->is_number_integer()) return bad(m.at(name), "must be an integer");
  if (v->is_number_unsigned() && v->get<std::uint64_t>() > static_cast<std::uint64_t>(max))
    return bad(m.at(name), "out of range");
  const std::int64_t n = v->get<std::int64_t>();
  if (n < min || n > max) return bad(m.at(name), "out of range");
  return n;
}

expected<bool, EisJsonError> boolean(Members& m, std::string_view name) {
  const json* v = m.take(name);
  if (!v) return false;
  if (!v->is_boolean()) return bad(m.at(name), "must be true or false");
  return v->get<bool>();
}

bool all_digits(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

/// The elements of an array member (absent: none), at most `max`.
expected<std::vector<const json*>, EisJsonError> array(Members& m, std::string_view name, std::size_t max) {
  std::vector<const json*> out;
  const json* v = m.take(name);
  if (!v) return out;
  if (!v->is_array()) return bad(m.at(name), "must be an array");
  if (v->size() > max) return bad(m.at(name), "more than " + std::to_string(max) + " elements");
  for (const auto& e : *v) out.push_back(&e);
  return out;
}

std::string index(const std::string& path, std::size_t i) { return path + "[" + std::to_string(i) + "]"; }

struct Names {
  PolicyAction action;
  std::string_view name;
};
constexpr Names kActions[] = {{PolicyAction::Disable, "DISABLE"}, {PolicyAction::Delete, "DELETE"}};
struct QualNames {
  PolicyQualification q;
  std::string_view name;
};
constexpr QualNames kQualifications[] = {{PolicyQualification::NotAllowed, "Not allowed"},
                                         {PolicyQualification::AutoDelete, "Auto-delete"}};
/// SGP.02 §2.4.4: POL2 rules have the profile as their subject.
constexpr std::string_view kSubjectProfile = "PROFILE";

std::string_view algorithm_name(Scp80KeySet::Algorithm a) {
  return a == Scp80KeySet::Algorithm::Aes ? "AES" : "3DES";
}

}  // namespace

bool is_iccid(std::string_view iccid) { return iccid.size() >= 18 && iccid.size() <= 20 && all_digits(iccid); }

std::string_view state_name(ProfileState s) {
  switch (s) {
    case ProfileState::Created: return "Created";
    case ProfileState::Disabled: return "Disabled";
    case ProfileState::Enabled: return "Enabled";
  }
  return "Created";
}

expected<ProfileState, std::string> parse_state(std::string_view name) {
  for (auto s : {ProfileState::Created, ProfileState::Disabled, ProfileState::Enabled})
    if (state_name(s) == name) return s;
  return unexpected(std::string("must be Created, Disabled or Enabled"));
}

json pol2_to_json(const std::vector<PolicyRule>& rules) {
  json out = json::array();
  for (const auto& r : rules) {
    json o{{"subject", kSubjectProfile}};
    for (const auto& a : kActions)
      if (a.action == r.action) o["action"] = a.name;
    for (const auto& q : kQualifications)
      if (q.q == r.qualification) o["qualification"] = q.name;
    out.push_back(std::move(o));
  }
  return out;
}

expected<std::vector<PolicyRule>, EisJsonError> pol2_from_json(const json& j, const std::string& path) {
  if (!j.is_array()) return bad(path, "must be an array");
  if (j.size() > kMaxRules) return bad(path, "more than " + std::to_string(kMaxRules) + " rules");
  std::vector<PolicyRule> out;
  for (std::size_t i = 0; i < j.size(); ++i) {
    Members m(j[i], index(path, i));
    if (!m.is_object()) return bad(m.path(), "must be an object");
    RSP_TRY(std::string subject, text(m, "subject", true));
    RSP_TRY(std::string action, text(m, "action", true));
    RSP_TRY(std::string qualification, text(m, "qualification", true));
    RSP_TRY_VOID(m.done());
    if (subject != kSubjectProfile) return bad(m.at("subject"), "must be PROFILE");
    PolicyRule r;
    auto a = std::find_if(std::begin(kActions), std::end(kActions), [&](const Names& n) { return n.name == action; });
    if (a == std::end(kActions)) return bad(m.at("action"), "must be DISABLE or DELETE");
    auto q = std::find_if(std::begin(kQualifications), std::end(kQualifications),
                          [&](const QualNames& n) { return n.name == qualification; });
    if (q == std::end(kQualifications)) return bad(m.at("qualification"), "must be 'Not allowed' or 'Auto-delete'");
    r.action = a->action;
    r.qualification = q->q;
    if (r.qualification == PolicyQualification::AutoDelete && r.action != PolicyAction::Delete)
      return bad(m.at("qualification"), "Auto-delete goes only with the action DELETE");
    if (std::find(out.begin(), out.end(), r) != out.end()) return bad(m.path(), "rule given twice");
    out.push_back(r);
  }
  return out;
}

json subscription_address_to_json(const SubscriptionAddress& a) {
  json o = json::object();
  if (!a.msisdn.empty()) o["msisdn"] = a.msisdn;
  if (!a.imsi.empty()) o["imsi"] = a.imsi;
  return o;
}

expected<SubscriptionAddress, EisJsonError> subscription_address_from_json(const json& j, const std::string& path) {
  Members m(j, path);
  if (!m.is_object()) return bad(path, "must be an object");
  SubscriptionAddress a;
  RSP_TRY(a.msisdn, text(m, "msisdn", false, 15));
  RSP_TRY(a.imsi, text(m, "imsi", false, 15));
  RSP_TRY_VOID(m.done());
  // E.164 numbers have at most 15 digits; an IMSI 6 to 15 (3GPP TS 23.003 §2.2).
  if (!a.msisdn.empty() && !all_digits(a.msisdn)) return bad(m.at("msisdn"), "must be digits");
  if (!a.imsi.empty() && (a.imsi.size() < 6 || !all_digits(a.imsi))) return bad(m.at("imsi"), "must be 6 to 15 digits");
  if (a.msisdn.empty() && a.imsi.empty()) return bad(path, "needs an msisdn or an imsi");
  return a;
}

json profile_to_json(const ProfileInfo& p) {
  json o{{"iccid", p.iccid},
         {"isdpAid", to_hex(p.isdp_aid)},
         {"mnoId", p.mno_id},
         {"state", state_name(p.state)},
         {"fallbackAttribute", p.fallback_attribute},
         {"emergencyProfileAttribute", p.emergency_profile_attribute},
         {"pol2", pol2_to_json(p.pol2)},
         {"allocatedMemory", p.allocated_memory}};
  if (!p.smdp_id.empty()) o["smdpId"] = p.smdp_id;
  if (!p.subscription_address.msisdn.empty() || !p.subscription_address.imsi.empty())
    o["subscriptionAddress"] = subscription_address_to_json(p.subscription_address);
  if (!p.connectivity_parameters.empty()) o["connectivityParameters"] = to_hex(p.connectivity_parameters);
  return o;
}

expected<ProfileInfo, EisJsonError> profile_from_json(const json& j, const std::string& path) {
  Members m(j, path);
  if (!m.is_object()) return bad(path, "must be an object");
  ProfileInfo p;
  RSP_TRY(p.iccid, text(m, "iccid", true, 20));
  if (!is_iccid(p.iccid)) return bad(m.at("iccid"), "must be 18 to 20 digits");
  // ISO/IEC 7816-4 §8.2.1.2: an AID has 5 to 16 bytes.
  RSP_TRY(p.isdp_aid, hex(m, "isdpAid", 5, 16));
  RSP_TRY(p.mno_id, text(m, "mnoId", true));
  RSP_TRY(p.smdp_id, text(m, "smdpId", false));
  RSP_TRY(std::string state, text(m, "state", true));
  auto s = parse_state(state);
  if (!s) return bad(m.at("state"), s.error());
  p.state = *s;
  RSP_TRY(p.fallback_attribute, boolean(m, "fallbackAttribute"));
  RSP_TRY(p.emergency_profile_attribute, boolean(m, "emergencyProfileAttribute"));
  if (const json* a = m.take("subscriptionAddress")) {
    RSP_TRY(p.subscription_address, subscription_address_from_json(*a, m.at("subscriptionAddress")));
  }
  if (const json* r = m.take("pol2")) {
    RSP_TRY(p.pol2, pol2_from_json(*r, m.at("pol2")));
  }
  RSP_TRY(auto cp, hex_opt(m, "connectivityParameters", 0, kMaxConnectivity));
  if (cp) p.connectivity_parameters = std::move(*cp);
  RSP_TRY(p.allocated_memory, integer(m, "allocatedMemory", false, 0, std::numeric_limits<std::int64_t>::max()));
  RSP_TRY_VOID(m.done());
  return p;
}

json isdr_keys_to_json(const IsdR& isd_r) {
  json sets = json::array();
  for (const auto& k : isd_r.scp80_key_sets)
    sets.push_back({{"version", k.version},
                    {"algorithm", algorithm_name(k.algorithm)},
                    {"kic", to_hex(k.kic)},
                    {"kid", to_hex(k.kid)},
                    {"counter", k.counter}});
  json o{{"scp80KeySets", std::move(sets)}};
  if (isd_r.scp81_psk)
    o["scp81Psk"] = {{"identity", to_hex(isd_r.scp81_psk->identity)}, {"key", to_hex(isd_r.scp81_psk->key)}};
  return o;
}

namespace {

expected<void, EisJsonError> keys_from(Members& m, IsdR& isd_r) {
  RSP_TRY(auto sets, array(m, "scp80KeySets", kMaxKeySets));
  isd_r.scp80_key_sets.clear();
  for (std::size_t i = 0; i < sets.size(); ++i) {
    Members k(*sets[i], index(m.at("scp80KeySets"), i));
    if (!k.is_object()) return bad(k.path(), "must be an object");
    Scp80KeySet ks;
    // GlobalPlatform §11.1.8: key version numbers 1..127 (0 and 0xFF are reserved).
    RSP_TRY(std::int64_t version, integer(k, "version", true, 1, 127));
    ks.version = static_cast<int>(version);
    RSP_TRY(std::string algorithm, text(k, "algorithm", true));
    if (algorithm == "AES") {
      ks.algorithm = Scp80KeySet::Algorithm::Aes;
    } else if (algorithm == "3DES") {
      ks.algorithm = Scp80KeySet::Algorithm::TripleDes;
    } else {
      return bad(k.at("algorithm"), "must be AES or 3DES");
    }
    RSP_TRY(ks.kic, hex(k, "kic", 16, 32));
    RSP_TRY(ks.kid, hex(k, "kid", 16, 32));
    // TS 102 225 §5.1.1: the counter has 5 bytes.
    RSP_TRY(std::int64_t counter, integer(k, "counter", false, 0, (std::int64_t{1} << 40) - 1));
    ks.counter = static_cast<std::uint64_t>(counter);
    RSP_TRY_VOID(k.done());
    // AES keys have 16, 24 or 32 bytes; 3DES keys two or three DES keys (16 or 24).
    for (const auto* key : {&ks.kic, &ks.kid}) {
      const std::size_t n = key->size();
      const bool fits = ks.algorithm == Scp80KeySet::Algorithm::Aes ? (n == 16 || n == 24 || n == 32)
                                                                     : (n == 16 || n == 24);
      if (!fits) return bad(k.at(key == &ks.kic ? "kic" : "kid"), "has the wrong length for its algorithm");
    }
    for (const auto& other : isd_r.scp80_key_sets)
      if (other.version == ks.version) return bad(k.at("version"), "key set version given twice");
    isd_r.scp80_key_sets.push_back(std::move(ks));
  }
  isd_r.scp81_psk.reset();
  if (const json* psk = m.take("scp81Psk")) {
    Members p(*psk, m.at("scp81Psk"));
    if (!p.is_object()) return bad(p.path(), "must be an object");
    Scp81Psk out;
    RSP_TRY(out.identity, hex(p, "identity", 1, 128));
    RSP_TRY(out.key, hex(p, "key", 16, 32));
    RSP_TRY_VOID(p.done());
    if (out.key.size() != 16 && out.key.size() != 32) return bad(p.at("key"), "must be 16 or 32 bytes");
    isd_r.scp81_psk = std::move(out);
  }
  return {};
}

}  // namespace

expected<void, EisJsonError> isdr_keys_from_json(const json& j, IsdR& isd_r) {
  Members m(j, "isdR");
  if (!m.is_object()) return bad("isdR", "must be an object");
  RSP_TRY_VOID(keys_from(m, isd_r));
  return m.done();
}

json eis_to_json(const Eis& eis, Keys keys) {
  json isd_r{{"aid", to_hex(eis.isd_r.aid)}};
  if (!eis.isd_r.sin.empty()) isd_r["sin"] = to_hex(eis.isd_r.sin);
  if (!eis.isd_r.sdin.empty()) isd_r["sdin"] = to_hex(eis.isd_r.sdin);
  if (keys == Keys::Include) isd_r.update(isdr_keys_to_json(eis.isd_r));
  json profiles = json::array();
  for (const auto& p : eis.profiles) profiles.push_back(profile_to_json(p));
  return json{{"eid", eis.eid},
              {"eumId", eis.eum_id},
              {"productionDate", eis.production_date},
              {"platformType", eis.platform_type},
              {"platformVersion", eis.platform_version},
              {"remainingMemory", eis.remaining_memory},
              {"availableMemoryForProfiles", eis.available_memory_for_profiles},
              {"smsrId", eis.smsr_id},
              {"isdR", std::move(isd_r)},
              {"ecasd", {{"aid", to_hex(eis.ecasd.aid)}, {"certificate", to_hex(eis.ecasd.certificate)}}},
              {"profiles", std::move(profiles)}};
}

expected<Eis, EisJsonError> eis_from_json(const json& j) {
  Members m(j, "");
  if (!m.is_object()) return bad("", "the EIS must be a JSON object");
  Eis e;
  RSP_TRY(e.eid, text(m, "eid", true, 32));
  if (e.eid.size() != 32 || !all_digits(e.eid)) return bad("eid", "must be 32 digits");
  RSP_TRY(e.eum_id, text(m, "eumId", true));
  RSP_TRY(e.production_date, text(m, "productionDate", true, 32));
  RSP_TRY(e.platform_type, text(m, "platformType", true));
  RSP_TRY(e.platform_version, text(m, "platformVersion", true));
  const std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  RSP_TRY(e.remaining_memory, integer(m, "remainingMemory", true, 0, kMax));
  RSP_TRY(e.available_memory_for_profiles, integer(m, "availableMemoryForProfiles", true, 0, kMax));
  RSP_TRY(e.smsr_id, text(m, "smsrId", true));
  const json* isd_r = m.take("isdR");
  if (!isd_r) return bad("isdR", "mandatory member missing");
  {
    Members r(*isd_r, "isdR");
    if (!r.is_object()) return bad("isdR", "must be an object");
    RSP_TRY(e.isd_r.aid, hex(r, "aid", 5, 16));
    RSP_TRY(auto sin, hex_opt(r, "sin", 1, kMaxIdentifier));
    RSP_TRY(auto sdin, hex_opt(r, "sdin", 1, kMaxIdentifier));
    if (sin) e.isd_r.sin = std::move(*sin);
    if (sdin) e.isd_r.sdin = std::move(*sdin);
    RSP_TRY_VOID(keys_from(r, e.isd_r));
    RSP_TRY_VOID(r.done());
  }
  const json* ecasd = m.take("ecasd");
  if (!ecasd) return bad("ecasd", "mandatory member missing");
  {
    Members c(*ecasd, "ecasd");
    if (!c.is_object()) return bad("ecasd", "must be an object");
    RSP_TRY(e.ecasd.aid, hex(c, "aid", 5, 16));
    RSP_TRY(e.ecasd.certificate, hex(c, "certificate", 1, kMaxCertificate));
    RSP_TRY_VOID(c.done());
  }
  RSP_TRY(auto profiles, array(m, "profiles", kMaxProfiles));
  for (std::size_t i = 0; i < profiles.size(); ++i) {
    RSP_TRY(ProfileInfo p, profile_from_json(*profiles[i], index("profiles", i)));
    for (const auto& other : e.profiles) {
      if (other.iccid == p.iccid) return bad(index("profiles", i) + ".iccid", "ICCID given twice");
      if (other.isdp_aid == p.isdp_aid) return bad(index("profiles", i) + ".isdpAid", "ISD-P AID given twice");
    }
    e.profiles.push_back(std::move(p));
  }
  RSP_TRY_VOID(m.done());
  // SGP.02 §2.2.4 (one enabled profile at a time), §3.15 (one profile has the
  // fallback attribute), v4 emergency profile: at most one of each.
  const auto count = [&](auto pred) { return std::count_if(e.profiles.begin(), e.profiles.end(), pred); };
  if (count([](const ProfileInfo& p) { return p.state == ProfileState::Enabled; }) > 1)
    return bad("profiles", "more than one profile is Enabled");
  if (count([](const ProfileInfo& p) { return p.fallback_attribute; }) > 1)
    return bad("profiles", "more than one profile has the fallback attribute");
  if (count([](const ProfileInfo& p) { return p.emergency_profile_attribute; }) > 1)
    return bad("profiles", "more than one profile has the emergency profile attribute");
  return e;
}

}  // namespace rsp::m2m
