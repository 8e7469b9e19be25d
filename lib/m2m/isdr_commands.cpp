// The ISD-R platform commands of SGP.02 §4.1.1 over the GlobalPlatform
// command codec (card/gp_commands.hpp): build for the SM-SR, parse strictly
// for the card.

#include "rsp/m2m/isdr_commands.hpp"

#include <algorithm>
#include <type_traits>

#include "rsp/apdu/status_words.hpp"
#include "rsp/card/gp_commands.hpp"
#include "rsp/m2m/dgi.hpp"
#include "rsp/tlv/tlv.hpp"

namespace rsp::m2m {

namespace gp = card::gp;
namespace sw = apdu::sw;

namespace {

constexpr std::uint8_t kStoreDataP1 = 0x88;  ///< last block, DGI format, no encryption (GP §11.11.2.1)
constexpr std::uint8_t kTagAid = 0x4F;
constexpr std::uint8_t kTagPol1 = 0x81;
constexpr std::uint8_t kTagSeq = 0x4E;
constexpr std::size_t kMaxParameters = 200;  ///< connectivity parameters in one short STORE DATA

bool aid_ok(ByteView aid) { return aid.size() >= 5 && aid.size() <= 16; }

bool same(ByteView a, ByteView b) { return std::equal(a.begin(), a.end(), b.begin(), b.end()); }

tlv::Tag tag(std::uint32_t raw) { return *tlv::Tag::from_raw(raw); }

void put_tlv(Bytes& out, std::uint32_t raw, ByteView value) {
  const auto e = tlv::encode(tag(raw), value);
  out.insert(out.end(), e.begin(), e.end());
}

/// Big-endian unsigned of 1..4 bytes, minimal (no leading zero byte).
Bytes uint_bytes(std::uint32_t v) {
  Bytes b;
  do {
    b.insert(b.begin(), static_cast<std::uint8_t>(v & 0xFF));
    v >>= 8;
  } while (v != 0);
  return b;
}

std::optional<std::uint32_t> uint_of(ByteView b) {
  if (b.empty() || b.size() > 4 || (b.size() > 1 && b[0] == 0)) return std::nullopt;
  std::uint32_t v = 0;
  for (auto c : b) v = (v << 8) | c;
  return v;
}

/// One DGI filling `data` exactly.
std::optional<std::pair<std::uint16_t, ByteView>> read_dgi(ByteView data) {
  auto e = next_dgi(data);
  if (!e || e->size != data.size()) return std::nullopt;
  return std::pair{e->id, e->value};
}

Bytes dgi(std::uint16_t id, ByteView value) { return encode_dgi(id, value); }

Bytes aid_tlv(ByteView aid) {
  Bytes v;
  put_tlv(v, kTagAid, aid);
  return v;
}

/// The AID TLV at the start of `value`; `rest` gets what follows.
expected<Bytes, StatusWord> leading_aid(ByteView value, ByteView* rest) {
  tlv::Reader r(value);
  auto e = r.next();
  if (!e || e->tag != tag(kTagAid) || !aid_ok(e->value)) return unexpected(sw::kWrongData);
  Bytes aid(e->value.begin(), e->value.end());
  const std::size_t used = e->encoded.size();
  if (rest) {
    *rest = value.subspan(used);
  } else if (used != value.size()) {
    return unexpected(sw::kWrongData);
  }
  return aid;
}

// --- card side ---

expected<IsdrCommand, StatusWord> from_install(const gp::Install& in) {
  if (in.p1 != (gp::Install::kForInstall | gp::Install::kForMakeSelectable) || in.more_commands) {
    return unexpected(sw::kIncorrectP1P2);
  }
  if (!same(in.load_file_aid, kIsdpLoadFileAid) || !same(in.module_aid, kIsdpModuleAid)) {
    return unexpected(sw::kReferencedDataNotFound);
  }
  if (in.privileges.size() != 3 || (in.privileges[0] & 0x80) == 0 || !in.token.empty()) {
    return unexpected(sw::kWrongData);
  }
  CreateIsdp c;
  c.isdp_aid = in.application_aid;
  // Install parameters (GP §11.5.2.3.7): 'C9' application specific (any),
  // then optionally 'EF' system specific holding at most 'C8' (quota).
  tlv::Reader r(in.parameters);
  auto c9 = r.next();
  if (!c9 || c9->tag != tag(0xC9)) return unexpected(sw::kWrongData);
  if (!r.empty()) {
    auto ef = r.next();
    if (!ef || ef->tag != tag(0xEF) || !r.empty()) return unexpected(sw::kWrongData);
    tlv::Reader sys(ef->value);
    while (!sys.empty()) {
      auto e = sys.next();
      if (!e || e->tag != tag(0xC8) || c.memory_quota) return unexpected(sw::kWrongData);
      if (e->value.size() != 2 && e->value.size() != 4) return unexpected(sw::kWrongData);
      std::uint32_t q = 0;
      for (auto b : e->value) q = (q << 8) | b;
      c.memory_quota = q;
    }
  }
  return IsdrCommand{std::move(c)};
}

expected<IsdrCommand, StatusWord> from_store_data(const gp::StoreData& s, std::uint8_t p1) {
  if (p1 != kStoreDataP1 || s.block_number != 0) return unexpected(sw::kIncorrectP1P2);
  auto d = read_dgi(s.data);
  if (!d) return unexpected(sw::kWrongData);
  const ByteView value = d->second;
  switch (d->first) {
    case dgi::kEnableProfile: {
      RSP_TRY(auto aid, leading_aid(value, nullptr));
      return IsdrCommand{EnableProfile{std::move(aid)}};
    }
    case dgi::kDisableProfile: {
      RSP_TRY(auto aid, leading_aid(value, nullptr));
      return IsdrCommand{DisableProfile{std::move(aid)}};
    }
    case dgi::kSetFallbackAttribute: {
      RSP_TRY(auto aid, leading_aid(value, nullptr));
      return IsdrCommand{SetFallbackAttribute{std::move(aid)}};
    }
    case dgi::kSetEmergencyProfileAttribute: {
      RSP_TRY(auto aid, leading_aid(value, nullptr));
      return IsdrCommand{SetEmergencyProfileAttribute{std::move(aid)}};
    }
    case dgi::kUpdateConnectivityParameters: {
      ByteView rest;
      RSP_TRY(auto aid, leading_aid(value, &rest));
      // The parameters: one or more whole TLVs, kept as received.
      if (rest.empty() || rest.size() > kMaxParameters) return unexpected(sw::kWrongData);
      tlv::Reader r(rest);
      while (!r.empty()) {
        if (!r.next()) return unexpected(sw::kWrongData);
      }
      return IsdrCommand{UpdateConnectivityParameters{std::move(aid), Bytes(rest.begin(), rest.end())}};
    }
    case dgi::kUpdatePolicyRules: {
      ByteView rest;
      RSP_TRY(auto aid, leading_aid(value, &rest));
      auto e = tlv::parse_one(rest);
      if (!e || e->tag != tag(kTagPol1) || e->value.size() != 1 || (e->value[0] & ~pol1::kAll) != 0) {
        return unexpected(sw::kWrongData);
      }
      return IsdrCommand{UpdatePolicyRules{std::move(aid), e->value[0]}};
    }
    case dgi::kNotificationConfirmation: {
      auto e = tlv::parse_one(value);
      if (!e || e->tag != tag(kTagSeq)) return unexpected(sw::kWrongData);
      auto seq = uint_of(e->value);
      if (!seq) return unexpected(sw::kWrongData);
      return IsdrCommand{ConfirmNotification{*seq}};
    }
    default: return unexpected(sw::kReferencedDataNotFound);
  }
}

expected<IsdrCommand, StatusWord> from_delete(const gp::Delete& d) {
  if (!d.control_reference.empty() || !d.token.empty()) return unexpected(sw::kWrongData);
  return IsdrCommand{DeleteProfile{d.aid}};
}

expected<IsdrCommand, StatusWord> from_get_status(const gp::GetStatus& g) {
  if (g.subset != gp::GetStatus::kApplications || g.next_occurrence || !g.tlv_format) {
    return unexpected(sw::kIncorrectP1P2);
  }
  if (!g.aid_filter.empty() && !aid_ok(g.aid_filter)) return unexpected(sw::kWrongData);
  return IsdrCommand{AuditIsdps{g.aid_filter}};
}

expected<IsdrCommand, StatusWord> from_get_data(const gp::GetData& g) {
  if (g.odd_ins || !g.data.empty()) return unexpected(sw::kWrongData);
  if (g.tag != data_tag::kEid && g.tag != data_tag::kCardResources && g.tag != data_tag::kCertificate) {
    return unexpected(sw::kReferencedDataNotFound);
  }
  return IsdrCommand{GetEuiccData{g.tag}};
}

// --- SM-SR side ---

struct Builder {
  bool& ok;
  static gp::StoreData store(std::uint16_t id, ByteView value) {
    gp::StoreData s;
    s.last_block = true;
    s.structure = 1;  // DGI
    s.data = dgi(id, value);
    return s;
  }
  gp::Command aid_store(std::uint16_t id, const Bytes& aid) const {
    if (!aid_ok(aid)) ok = false;
    return store(id, aid_tlv(aid));
  }
  gp::Command operator()(const CreateIsdp& c) const {
    if (!aid_ok(c.isdp_aid)) ok = false;
    gp::Install in;
    in.p1 = gp::Install::kForInstall | gp::Install::kForMakeSelectable;
    in.load_file_aid.assign(std::begin(kIsdpLoadFileAid), std::end(kIsdpLoadFileAid));
    in.module_aid.assign(std::begin(kIsdpModuleAid), std::end(kIsdpModuleAid));
    in.application_aid = c.isdp_aid;
    in.privileges.assign(std::begin(kIsdpPrivileges), std::end(kIsdpPrivileges));
    put_tlv(in.parameters, 0xC9, {});
    if (c.memory_quota) {
      Bytes quota;
      const std::uint32_t q = *c.memory_quota;
      if (q > 0xFFFF) {
        quota = {static_cast<std::uint8_t>(q >> 24), static_cast<std::uint8_t>(q >> 16),
                 static_cast<std::uint8_t>(q >> 8), static_cast<std::uint8_t>(q)};
      } else {
        quota = {static_cast<std::uint8_t>(q >> 8), static_cast<std::uint8_t>(q)};
      }
      Bytes sys;
      put_tlv(sys, 0xC8, quota);
      put_tlv(in.parameters, 0xEF, sys);
    }
    return in;
  }
  gp::Command operator()(const EnableProfile& c) const { return aid_store(dgi::kEnableProfile, c.isdp_aid); }
  gp::Command operator()(const DisableProfile& c) const { return aid_store(dgi::kDisableProfile, c.isdp_aid); }
  gp::Command operator()(const SetFallbackAttribute& c) const {
    return aid_store(dgi::kSetFallbackAttribute, c.isdp_aid);
  }
  gp::Command operator()(const SetEmergencyProfileAttribute& c) const {
    return aid_store(dgi::kSetEmergencyProfileAttribute, c.isdp_aid);
  }
  gp::Command operator()(const UpdateConnectivityParameters& c) const {
    if (!aid_ok(c.isdp_aid) || c.parameters.empty() || c.parameters.size() > kMaxParameters) ok = false;
    Bytes v = aid_tlv(c.isdp_aid);
    v.insert(v.end(), c.parameters.begin(), c.parameters.end());
    return store(dgi::kUpdateConnectivityParameters, v);
  }
  gp::Command operator()(const UpdatePolicyRules& c) const {
    if (!aid_ok(c.isdp_aid) || (c.pol1 & ~pol1::kAll) != 0) ok = false;
    Bytes v = aid_tlv(c.isdp_aid);
    const std::uint8_t rule[] = {c.pol1};
    put_tlv(v, kTagPol1, rule);
    return store(dgi::kUpdatePolicyRules, v);
  }
  gp::Command operator()(const ConfirmNotification& c) const {
    Bytes v;
    put_tlv(v, kTagSeq, uint_bytes(c.seq_number));
    return store(dgi::kNotificationConfirmation, v);
  }
  gp::Command operator()(const DeleteProfile& c) const {
    if (!aid_ok(c.isdp_aid)) ok = false;
    gp::Delete d;
    d.aid = c.isdp_aid;
    d.related_objects = true;  // the ISD-P with everything it holds
    return d;
  }
  gp::Command operator()(const AuditIsdps& c) const {
    if (!c.aid_filter.empty() && !aid_ok(c.aid_filter)) ok = false;
    gp::GetStatus g;
    g.subset = gp::GetStatus::kApplications;
    g.tlv_format = true;
    g.aid_filter = c.aid_filter;
    return g;
  }
  gp::Command operator()(const GetEuiccData& c) const {
    gp::GetData g;
    g.tag = c.tag;
    return g;
  }
};

template <class T>
expected<T, StatusWord> wrong_data() {
  return unexpected(sw::kWrongData);
}

}  // namespace

std::string_view name(IsdpState s) {
  switch (s) {
    case IsdpState::kInstalled: return "INSTALLED";
    case IsdpState::kSelectable: return "SELECTABLE";
    case IsdpState::kPersonalized: return "PERSONALIZED";
    case IsdpState::kDisabled: return "DISABLED";
    case IsdpState::kEnabled: return "ENABLED";
    case IsdpState::kLocked: return "LOCKED";
  }
  return "?";
}

std::optional<IsdpState> isdp_state_from_byte(std::uint8_t b) {
  for (auto s : {IsdpState::kInstalled, IsdpState::kSelectable, IsdpState::kPersonalized, IsdpState::kDisabled,
                 IsdpState::kEnabled, IsdpState::kLocked}) {
    if (static_cast<std::uint8_t>(s) == b) return s;
  }
  return std::nullopt;
}

expected<apdu::Command, StatusWord> build_command(const IsdrCommand& command, std::uint8_t cla) {
  bool ok = true;
  gp::Command c = std::visit(Builder{ok}, command);
  if (!ok) return unexpected(sw::kWrongData);
  auto encoded = gp::encode(c, cla);
  if (!encoded) return unexpected(gp::status_word(encoded.error()));
  return std::move(*encoded);
}

expected<Bytes, StatusWord> build_apdu(const IsdrCommand& command, std::uint8_t cla) {
  RSP_TRY(auto c, build_command(command, cla));
  auto bytes = apdu::encode_command(c);
  if (!bytes) return unexpected(sw::kWrongLength);
  return std::move(*bytes);
}

expected<IsdrCommand, StatusWord> parse_command(const apdu::Command& apdu) {
  auto decoded = gp::decode(apdu);
  if (!decoded) return unexpected(gp::status_word(decoded.error()));
  return std::visit(
      [&](const auto& c) -> expected<IsdrCommand, StatusWord> {
        using T = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<T, gp::Install>) return from_install(c);
        if constexpr (std::is_same_v<T, gp::StoreData>) return from_store_data(c, apdu.p1);
        if constexpr (std::is_same_v<T, gp::Delete>) return from_delete(c);
        if constexpr (std::is_same_v<T, gp::GetStatus>) return from_get_status(c);
        if constexpr (std::is_same_v<T, gp::GetData>) return from_get_data(c);
        // PUT KEY, SET STATUS, ENVELOPE: not ES5 platform commands of the ISD-R here.
        if constexpr (std::is_same_v<T, gp::PutKey> || std::is_same_v<T, gp::SetStatus> ||
                      std::is_same_v<T, gp::Envelope>) {
          return unexpected(sw::kInsNotSupported);
        }
      },
      *decoded);
}

// --- response data ---

Bytes encode_isdp_status(const std::vector<IsdpStatus>& list) {
  Bytes out;
  for (const auto& s : list) {
    Bytes e;
    put_tlv(e, kTagAid, s.isdp_aid);
    const std::uint8_t state[] = {static_cast<std::uint8_t>(s.state)};
    put_tlv(e, 0x9F70, state);
    if (!s.iccid.empty()) put_tlv(e, 0x5A, s.iccid);
    const std::uint8_t attrs[] = {static_cast<std::uint8_t>((s.fallback ? 0x01 : 0) | (s.emergency ? 0x02 : 0))};
    put_tlv(e, 0x53, attrs);
    const std::uint8_t rules[] = {s.pol1};
    put_tlv(e, kTagPol1, rules);
    put_tlv(out, 0xE3, e);
  }
  return out;
}

expected<std::vector<IsdpStatus>, StatusWord> parse_isdp_status(ByteView data) {
  std::vector<IsdpStatus> out;
  tlv::Reader r(data);
  while (!r.empty()) {
    auto entry = r.next();
    if (!entry || entry->tag != tag(0xE3)) return wrong_data<std::vector<IsdpStatus>>();
    auto inner = r.enter(*entry);
    if (!inner) return wrong_data<std::vector<IsdpStatus>>();
    IsdpStatus s;
    bool have_aid = false, have_state = false, have_attrs = false, have_pol = false;
    while (!inner->empty()) {
      auto e = inner->next();
      if (!e) return wrong_data<std::vector<IsdpStatus>>();
      const auto raw = e->tag.raw();
      const ByteView v = e->value;
      if (raw == kTagAid && !have_aid && aid_ok(v)) {
        s.isdp_aid.assign(v.begin(), v.end());
        have_aid = true;
      } else if (raw == 0x9F70 && !have_state && v.size() == 1 && isdp_state_from_byte(v[0])) {
        s.state = *isdp_state_from_byte(v[0]);
        have_state = true;
      } else if (raw == 0x5A && s.iccid.empty() && v.size() == 10) {
        s.iccid.assign(v.begin(), v.end());
      } else if (raw == 0x53 && !have_attrs && v.size() == 1 && (v[0] & ~0x03) == 0) {
        s.fallback = (v[0] & 0x01) != 0;
        s.emergency = (v[0] & 0x02) != 0;
        have_attrs = true;
      } else if (raw == kTagPol1 && !have_pol && v.size() == 1 && (v[0] & ~pol1::kAll) == 0) {
        s.pol1 = v[0];
        have_pol = true;
      } else {
        return wrong_data<std::vector<IsdpStatus>>();
      }
    }
    if (!have_aid || !have_state) return wrong_data<std::vector<IsdpStatus>>();
    out.push_back(std::move(s));
  }
  return out;
}

Bytes encode_card_resources(const CardResources& r) {
  Bytes v;
  put_tlv(v, 0x81, uint_bytes(r.installed_applications));
  put_tlv(v, 0x82, uint_bytes(r.free_non_volatile));
  put_tlv(v, 0x83, uint_bytes(r.free_volatile));
  Bytes out;
  put_tlv(out, 0xFF21, v);
  return out;
}

expected<CardResources, StatusWord> parse_card_resources(ByteView data) {
  auto outer = tlv::parse_one(data);
  if (!outer || outer->tag != tag(0xFF21) || outer->encoded.size() != data.size()) {
    return wrong_data<CardResources>();
  }
  tlv::Reader r(outer->value);
  CardResources out;
  std::uint32_t* fields[] = {&out.installed_applications, &out.free_non_volatile, &out.free_volatile};
  for (std::uint32_t i = 0; i < 3; ++i) {
    auto e = r.next();
    if (!e || e->tag.raw() != 0x81 + i) return wrong_data<CardResources>();
    auto v = uint_of(e->value);
    if (!v) return wrong_data<CardResources>();
    *fields[i] = *v;
  }
  if (!r.empty()) return wrong_data<CardResources>();
  return out;
}

Bytes encode_eid(ByteView eid) {
  Bytes out;
  put_tlv(out, 0x5A, eid);
  return out;
}

expected<Bytes, StatusWord> parse_eid(ByteView data) {
  auto e = tlv::parse_one(data);
  if (!e || e->tag != tag(0x5A) || e->encoded.size() != data.size() || e->value.size() != 16) {
    return wrong_data<Bytes>();
  }
  return Bytes(e->value.begin(), e->value.end());
}

Bytes encode_notification(const Notification& n) {
  Bytes v;
  put_tlv(v, 0x4C, n.eid);
  const std::uint8_t type[] = {static_cast<std::uint8_t>(n.type)};
  put_tlv(v, 0x4D, type);
  put_tlv(v, kTagSeq, uint_bytes(n.seq_number));
  if (!n.isdp_aid.empty()) put_tlv(v, kTagAid, n.isdp_aid);
  Bytes out;
  put_tlv(out, 0xE1, v);
  return out;
}

expected<Notification, StatusWord> parse_notification(ByteView data) {
  auto outer = tlv::parse_one(data);
  if (!outer || outer->tag != tag(0xE1) || outer->encoded.size() != data.size()) {
    return wrong_data<Notification>();
  }
  tlv::Reader r(outer->value);
  Notification n;
  auto eid = r.next();
  auto type = r.next();
  auto seq = r.next();
  if (!eid || eid->tag != tag(0x4C) || eid->value.size() != 16) return wrong_data<Notification>();
  if (!type || type->tag != tag(0x4D) || type->value.size() != 1) return wrong_data<Notification>();
  if (!seq || seq->tag != tag(kTagSeq) || !uint_of(seq->value)) return wrong_data<Notification>();
  const std::uint8_t t = type->value[0];
  if (t != 0x01 && t != 0x02 && t != 0x03 && t != 0x05) return wrong_data<Notification>();
  n.eid.assign(eid->value.begin(), eid->value.end());
  n.type = static_cast<NotificationType>(t);
  n.seq_number = *uint_of(seq->value);
  if (!r.empty()) {
    auto aid = r.next();
    if (!aid || aid->tag != tag(kTagAid) || !aid_ok(aid->value) || !r.empty()) return wrong_data<Notification>();
    n.isdp_aid.assign(aid->value.begin(), aid->value.end());
  }
  return n;
}

apdu::Command build_delete_key_set(std::uint8_t key_version, std::uint8_t cla) {
  apdu::Command c;
  c.cla = cla;
  c.ins = 0xE4;
  c.data = {0xD2, 0x01, key_version};
  return c;
}

std::optional<std::uint8_t> parse_delete_key_set(const apdu::Command& c) {
  if (c.ins != 0xE4 || c.p1 != 0x00 || c.p2 != 0x00) return std::nullopt;
  if (c.data.size() != 3 || c.data[0] != 0xD2 || c.data[1] != 0x01) return std::nullopt;
  return c.data[2];
}

}  // namespace rsp::m2m
