#include "rsp/card/gp_commands.hpp"

#include "rsp/apdu/status_words.hpp"

namespace rsp::card::gp {

namespace {

using E = GpError;

/// Reads length-value fields from untrusted bytes without ever reading
/// past them.
class Reader {
 public:
  explicit Reader(ByteView b) : b_(b) {}
  bool empty() const { return at_ == b_.size(); }
  std::optional<std::uint8_t> byte() {
    if (at_ >= b_.size()) return std::nullopt;
    return b_[at_++];
  }
  std::optional<Bytes> take(std::size_t n) {
    if (b_.size() - at_ < n) return std::nullopt;
    Bytes out(b_.begin() + static_cast<std::ptrdiff_t>(at_), b_.begin() + static_cast<std::ptrdiff_t>(at_ + n));
    at_ += n;
    return out;
  }
  /// A one-byte length, then that many bytes (GP Card Spec §11.5.2.3 fields).
  std::optional<Bytes> lv() {
    auto n = byte();
    if (!n) return std::nullopt;
    return take(*n);
  }
  /// A BER length (ISO/IEC 8825-1 §8.1.3: 00-7F, or 81 80-FF), then the value.
  std::optional<Bytes> ber_lv() {
    auto n = byte();
    if (!n || *n == 0x80 || *n > 0x81) return std::nullopt;
    if (*n == 0x81) {
      n = byte();
      if (!n || *n < 0x80) return std::nullopt;
    }
    return take(*n);
  }

 private:
  ByteView b_;
  std::size_t at_ = 0;
};

/// Writers for the encoders; a value too long for its length field clears `ok`.
void put_lv(Bytes& out, ByteView v, bool& ok) {
  if (v.size() > 0xFF) ok = false;
  out.push_back(static_cast<std::uint8_t>(v.size()));
  out.insert(out.end(), v.begin(), v.end());
}

void put_ber_lv(Bytes& out, ByteView v, bool& ok) {
  if (v.size() >= 0x80) out.push_back(0x81);
  put_lv(out, v, ok);
}

void put_ber_tlv(Bytes& out, std::uint8_t tag, ByteView v, bool& ok) {
  out.push_back(tag);
  put_ber_lv(out, v, ok);
}

bool aid_size(const Bytes& aid) { return aid.size() >= 5 && aid.size() <= 16; }

// --- INSTALL (GP Card Spec v2.3 §11.5) ---

expected<Command, GpError> decode_install(const apdu::Command& c) {
  if (c.p2 != 0x00) return unexpected(E::kIncorrectP1P2);
  Install in;
  in.more_commands = (c.p1 & 0x80) != 0;
  in.p1 = c.p1 & 0x7F;
  const bool install = (in.p1 & Install::kForInstall) != 0;
  const bool selectable = (in.p1 & Install::kForMakeSelectable) != 0;
  const bool perso = in.p1 == Install::kForPersonalization;
  // [for install], [for make selectable], both (0C), [for personalization].
  if (!perso && (in.p1 & ~(Install::kForInstall | Install::kForMakeSelectable)) != 0) {
    return unexpected(E::kIncorrectP1P2);
  }
  if (!perso && !install && !selectable) return unexpected(E::kIncorrectP1P2);
  if (c.data.empty()) return unexpected(E::kWrongLength);
  Reader r(c.data);
  auto elf = r.lv(), module = r.lv(), app = r.lv(), priv = r.lv(), params = r.lv(), token = r.lv();
  if (!elf || !module || !app || !priv || !params || !token || !r.empty()) return unexpected(E::kWrongData);
  in.load_file_aid = std::move(*elf);
  in.module_aid = std::move(*module);
  in.application_aid = std::move(*app);
  in.privileges = std::move(*priv);
  in.parameters = std::move(*params);
  in.token = std::move(*token);
  if (!aid_size(in.application_aid)) return unexpected(E::kWrongData);
  if (install && (!aid_size(in.load_file_aid) || !aid_size(in.module_aid))) return unexpected(E::kWrongData);
  if (!install && (!in.load_file_aid.empty() || !in.module_aid.empty())) return unexpected(E::kWrongData);
  if (in.privileges.size() != 0 && in.privileges.size() != 1 && in.privileges.size() != 3) {
    return unexpected(E::kWrongData);
  }
  if (perso && (!in.privileges.empty() || !in.parameters.empty() || !in.token.empty())) {
    return unexpected(E::kWrongData);
  }
  return Command{std::move(in)};
}

// --- DELETE (§11.2): 4F AID, then optionally B6 and 9E ---

expected<Command, GpError> decode_delete(const apdu::Command& c) {
  if ((c.p1 & 0x7F) != 0x00 || (c.p2 != 0x00 && c.p2 != 0x80)) return unexpected(E::kIncorrectP1P2);
  if (c.data.empty()) return unexpected(E::kWrongLength);
  Delete d;
  d.related_objects = c.p2 == 0x80;
  Reader r(c.data);
  bool have_aid = false;
  while (!r.empty()) {
    const auto tag = r.byte();
    auto value = r.ber_lv();
    if (!tag || !value) return unexpected(E::kWrongData);
    switch (*tag) {
      case 0x4F:
        if (have_aid) return unexpected(E::kWrongData);
        d.aid = std::move(*value);
        have_aid = true;
        break;
      case 0xB6: d.control_reference = std::move(*value); break;
      case 0x9E: d.token = std::move(*value); break;
      default: return unexpected(E::kWrongData);
    }
  }
  if (!have_aid || !aid_size(d.aid)) return unexpected(E::kWrongData);
  return Command{std::move(d)};
}

// --- PUT KEY (§11.8): new key version, then key type / key data / KCV ---

expected<Command, GpError> decode_put_key(const apdu::Command& c) {
  PutKey k;
  k.old_version = c.p1 & 0x7F;
  k.more_commands = (c.p1 & 0x80) != 0;
  k.key_id = c.p2 & 0x7F;
  k.multiple_keys = (c.p2 & 0x80) != 0;
  if (k.key_id == 0) return unexpected(E::kIncorrectP1P2);
  if (c.data.empty()) return unexpected(E::kWrongLength);
  Reader r(c.data);
  k.new_version = *r.byte();
  if (k.new_version == 0x00 || k.new_version > 0x7F) return unexpected(E::kWrongData);
  while (!r.empty()) {
    KeyComponent key;
    key.type = *r.byte();
    if (key.type == 0xFF) return unexpected(E::kWrongData);  // the extended format is not supported
    auto data = r.ber_lv();
    auto kcv = r.lv();
    if (!data || data->empty() || !kcv) return unexpected(E::kWrongData);
    key.data = std::move(*data);
    key.check_value = std::move(*kcv);
    k.keys.push_back(std::move(key));
  }
  if (k.keys.empty() || (!k.multiple_keys && k.keys.size() != 1)) return unexpected(E::kWrongData);
  return Command{std::move(k)};
}

// --- STORE DATA (§11.11) ---

expected<Command, GpError> decode_store_data(const apdu::Command& c) {
  StoreData s;
  s.last_block = (c.p1 & 0x80) != 0;
  s.encryption = static_cast<std::uint8_t>((c.p1 >> 5) & 0x03);
  s.structure = static_cast<std::uint8_t>((c.p1 >> 3) & 0x03);
  if (s.encryption == 2 || s.structure == 3) return unexpected(E::kIncorrectP1P2);  // RFU codings
  s.other_bits = c.p1 & 0x07;
  s.block_number = c.p2;
  if (c.data.empty()) return unexpected(E::kWrongLength);
  s.data = c.data;
  return Command{std::move(s)};
}

// --- GET STATUS (§11.4): 4F search criteria, optional 5C tag list ---

expected<Command, GpError> decode_get_status(const apdu::Command& c) {
  GetStatus g;
  g.subset = c.p1;
  if (g.subset != GetStatus::kIssuerSecurityDomain && g.subset != GetStatus::kApplications &&
      g.subset != GetStatus::kLoadFiles && g.subset != GetStatus::kLoadFilesAndModules) {
    return unexpected(E::kIncorrectP1P2);
  }
  if ((c.p2 & ~0x03) != 0) return unexpected(E::kIncorrectP1P2);
  g.next_occurrence = (c.p2 & 0x01) != 0;
  g.tlv_format = (c.p2 & 0x02) != 0;
  if (c.data.empty()) return unexpected(E::kWrongLength);
  Reader r(c.data);
  if (r.byte() != std::optional<std::uint8_t>(0x4F)) return unexpected(E::kWrongData);
  auto aid = r.ber_lv();
  if (!aid || aid->size() > 16) return unexpected(E::kWrongData);
  g.aid_filter = std::move(*aid);
  if (!r.empty()) {
    if (r.byte() != std::optional<std::uint8_t>(0x5C)) return unexpected(E::kWrongData);
    auto tags = r.ber_lv();
    if (!tags || !r.empty()) return unexpected(E::kWrongData);
    g.tag_list = std::move(*tags);
  }
  return Command{std::move(g)};
}

// --- GET DATA (§11.3) ---

expected<Command, GpError> decode_get_data(const apdu::Command& c) {
  GetData g;
  g.odd_ins = c.ins == ins::kGetDataCB;
  g.tag = static_cast<std::uint16_t>((c.p1 << 8) | c.p2);
  if (g.tag == 0x0000 || g.tag == 0xFFFF) return unexpected(E::kIncorrectP1P2);
  if (!g.odd_ins && !c.data.empty()) return unexpected(E::kWrongLength);
  g.data = c.data;
  return Command{std::move(g)};
}

// --- SET STATUS (§11.10) ---

expected<Command, GpError> decode_set_status(const apdu::Command& c) {
  SetStatus s;
  s.status_type = c.p1;
  s.state_control = c.p2;
  if (s.status_type == SetStatus::kIssuerSecurityDomain) {
    if (!c.data.empty() && !aid_size(c.data)) return unexpected(E::kWrongData);
  } else if (s.status_type == SetStatus::kApplicationOrSd || s.status_type == SetStatus::kSdAndItsApplications) {
    if (!aid_size(c.data)) return unexpected(c.data.empty() ? E::kWrongLength : E::kWrongData);
  } else {
    return unexpected(E::kIncorrectP1P2);
  }
  s.aid = c.data;
  return Command{std::move(s)};
}

// --- ENVELOPE (TS 102 221 §11.2.2), SMS-PP data download (TS 102 223 §7.1.1) ---

expected<Command, GpError> decode_envelope(const apdu::Command& c) {
  if (c.p1 != 0x00 || c.p2 != 0x00) return unexpected(E::kIncorrectP1P2);
  if (c.data.empty()) return unexpected(E::kWrongLength);
  Reader outer(c.data);
  const auto tag = outer.byte();
  auto body = outer.ber_lv();
  if (tag != std::optional<std::uint8_t>(Envelope::kSmsPpDownload) || !body || !outer.empty()) {
    return unexpected(E::kWrongData);
  }
  Envelope e;
  bool identities = false, tpdu = false;
  Reader r(*body);
  while (!r.empty()) {
    // COMPREHENSION-TLV (TS 102 223 §7.1.1.1): b8 of the tag is the
    // comprehension-required flag; 00, 80, FF and the three-byte form 7F are
    // not used here.
    const auto t = r.byte();
    auto v = r.ber_lv();
    if (!t || !v || *t == 0x00 || *t == 0x80 || *t == 0xFF || *t == 0x7F) return unexpected(E::kWrongData);
    switch (*t & 0x7F) {
      case 0x02:
        if (identities || v->size() != 2) return unexpected(E::kWrongData);
        e.device_identities = std::move(*v);
        identities = true;
        break;
      case 0x06:
        if (e.address) return unexpected(E::kWrongData);
        e.address = std::move(*v);
        break;
      case 0x0B:
        if (tpdu) return unexpected(E::kWrongData);
        e.tpdu = std::move(*v);
        tpdu = true;
        break;
      default:
        if (*t & 0x80) return unexpected(E::kWrongData);  // required but unknown
        break;                                              // skipped
    }
  }
  if (!identities || !tpdu || e.tpdu.empty()) return unexpected(E::kWrongData);
  return Command{std::move(e)};
}

// --- encoders ---

struct Encoder {
  std::uint8_t cla;
  bool& ok;
  apdu::Command operator()(const Install& in) const {
    apdu::Command c{cla, ins::kInstall, static_cast<std::uint8_t>(in.p1 | (in.more_commands ? 0x80 : 0)), 0x00, {}, 256u};
    for (const Bytes* f : {&in.load_file_aid, &in.module_aid, &in.application_aid, &in.privileges, &in.parameters,
                           &in.token}) {
      put_lv(c.data, *f, ok);
    }
    return c;
  }
  apdu::Command operator()(const Delete& d) const {
    apdu::Command c{cla, ins::kDelete, 0x00, static_cast<std::uint8_t>(d.related_objects ? 0x80 : 0x00), {}, 256u};
    put_ber_tlv(c.data, 0x4F, d.aid, ok);
    if (!d.control_reference.empty()) put_ber_tlv(c.data, 0xB6, d.control_reference, ok);
    if (!d.token.empty()) put_ber_tlv(c.data, 0x9E, d.token, ok);
    return c;
  }
  apdu::Command operator()(const PutKey& k) const {
    apdu::Command c{cla,
                    ins::kPutKey,
                    static_cast<std::uint8_t>((k.old_version & 0x7F) | (k.more_commands ? 0x80 : 0)),
                    static_cast<std::uint8_t>((k.key_id & 0x7F) | (k.multiple_keys ? 0x80 : 0)),
                    {k.new_version},
                    256u};
    for (const KeyComponent& key : k.keys) {
      c.data.push_back(key.type);
      put_ber_lv(c.data, key.data, ok);
      put_lv(c.data, key.check_value, ok);
    }
    return c;
  }
  apdu::Command operator()(const StoreData& s) const {
    const auto p1 = static_cast<std::uint8_t>((s.last_block ? 0x80 : 0) | ((s.encryption & 0x03) << 5) |
                                              ((s.structure & 0x03) << 3) | (s.other_bits & 0x07));
    return apdu::Command{cla, ins::kStoreData, p1, s.block_number, s.data, std::nullopt};
  }
  apdu::Command operator()(const GetStatus& g) const {
    const auto p2 = static_cast<std::uint8_t>((g.tlv_format ? 0x02 : 0) | (g.next_occurrence ? 0x01 : 0));
    apdu::Command c{cla, ins::kGetStatus, g.subset, p2, {}, 256u};
    put_ber_tlv(c.data, 0x4F, g.aid_filter, ok);
    if (!g.tag_list.empty()) put_ber_tlv(c.data, 0x5C, g.tag_list, ok);
    return c;
  }
  apdu::Command operator()(const GetData& g) const {
    return apdu::Command{cla, g.odd_ins ? ins::kGetDataCB : ins::kGetDataCA, static_cast<std::uint8_t>(g.tag >> 8),
                         static_cast<std::uint8_t>(g.tag & 0xFF), g.data, 256u};
  }
  apdu::Command operator()(const SetStatus& s) const {
    return apdu::Command{cla, ins::kSetStatus, s.status_type, s.state_control, s.aid, std::nullopt};
  }
  apdu::Command operator()(const Envelope& e) const {
    Bytes body;
    put_ber_tlv(body, 0x82, e.device_identities, ok);
    if (e.address) put_ber_tlv(body, 0x06, *e.address, ok);
    put_ber_tlv(body, 0x8B, e.tpdu, ok);
    apdu::Command c{cla, ins::kEnvelope, 0x00, 0x00, {}, 256u};
    put_ber_tlv(c.data, e.tag, body, ok);
    return c;
  }
};

}  // namespace

std::uint16_t status_word(GpError e) {
  switch (e) {
    case E::kWrongLength: return apdu::sw::kWrongLength;
    case E::kWrongData: return apdu::sw::kWrongData;
    case E::kIncorrectP1P2: return apdu::sw::kIncorrectP1P2;
    case E::kInsNotSupported: return apdu::sw::kInsNotSupported;
    case E::kClaNotSupported: return apdu::sw::kClaNotSupported;
  }
  return apdu::sw::kNoPreciseDiagnosis;
}

std::string_view message(GpError e) {
  switch (e) {
    case E::kWrongLength: return "wrong length";
    case E::kWrongData: return "malformed data field";
    case E::kIncorrectP1P2: return "P1 P2 not defined for the command";
    case E::kInsNotSupported: return "not a GlobalPlatform command";
    case E::kClaNotSupported: return "not a GlobalPlatform class";
  }
  return "unknown GP error";
}

expected<Command, GpError> decode(const apdu::Command& c) {
  if ((c.cla & 0x80) == 0) return unexpected(E::kClaNotSupported);
  switch (c.ins) {
    case ins::kInstall: return decode_install(c);
    case ins::kDelete: return decode_delete(c);
    case ins::kPutKey: return decode_put_key(c);
    case ins::kStoreData: return decode_store_data(c);
    case ins::kGetStatus: return decode_get_status(c);
    case ins::kGetDataCA:
    case ins::kGetDataCB: return decode_get_data(c);
    case ins::kSetStatus: return decode_set_status(c);
    case ins::kEnvelope: return decode_envelope(c);
    default: return unexpected(E::kInsNotSupported);
  }
}

expected<apdu::Command, GpError> encode(const Command& command, std::uint8_t cla) {
  bool ok = true;
  apdu::Command c = std::visit(Encoder{cla, ok}, command);
  // Short APDUs only, as the S8 secure channel carries them.
  if (!ok || c.data.size() > 255) return unexpected(E::kWrongLength);
  return c;
}

}  // namespace rsp::card::gp
