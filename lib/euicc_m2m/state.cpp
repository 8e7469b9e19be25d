// The M2M card state: JSON in the two slots of DIR/m2m (euicc/state_slots.hpp).

#include "rsp/euicc_m2m/state.hpp"

#include "rsp/m2m/es8.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <mutex>
#include <string_view>
#include <system_error>

#include "rsp/euicc/state_slots.hpp"
#include "rsp/m2m/es8.hpp"

namespace rsp::euicc_m2m {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

/// Upper bound on the state: a hostile or corrupted file cannot exhaust memory.
constexpr std::size_t kMaxStateSize = 1 << 20;

Bytes bytes_of(const json& j, const char* key) {
  auto b = from_hex(j.at(key).get<std::string>());
  if (!b) throw std::invalid_argument(std::string("not hex: ") + key);
  return std::move(*b);
}

IsdpRecord isdp_from_json(const json& j) {
  IsdpRecord p;
  p.aid = bytes_of(j, "aid");
  auto state = m2m::isdp_state_from_byte(j.at("state").get<std::uint8_t>());
  if (!state) throw std::invalid_argument("ISD-P state");
  p.state = *state;
  p.iccid = bytes_of(j, "iccid");
  p.fallback = j.at("fallback").get<bool>();
  p.emergency = j.at("emergency").get<bool>();
  p.pol1 = j.at("pol1").get<std::uint8_t>();
  p.connectivity = bytes_of(j, "connectivity");
  p.memory_quota = j.at("memory_quota").get<std::uint32_t>();
  p.mno_id = j.at("mno_id").get<std::string>();
  p.coverage = j.at("coverage").get<bool>();
  // Absent in the state of a card made before ES8 existed.
  if (j.contains("scp03_version")) {
    p.scp03_version = j.at("scp03_version").get<std::uint8_t>();
    p.scp03_enc = bytes_of(j, "scp03_enc");
    p.scp03_mac = bytes_of(j, "scp03_mac");
    p.scp03_dek = bytes_of(j, "scp03_dek");
    p.profile_size = j.at("profile_size").get<std::uint32_t>();
  }
  // Absent in the state of a card made before ES8.UpdateConnectivityParameters.
  if (j.contains("scp03_counter")) p.scp03_counter = j.at("scp03_counter").get<std::uint32_t>();
  return p;
}

/// The state's JSON text, written directly (a save per card command and per
/// secured SMS: no document tree built and walked). The keys and shapes are
/// the ones parse_state() reads.
class JsonText {
 public:
  explicit JsonText(std::size_t reserve) { s_.reserve(reserve); }
  JsonText& open(char c) {
    comma();
    s_ += c;
    first_ = true;
    return *this;
  }
  JsonText& close(char c) {
    s_ += c;
    first_ = false;
    return *this;
  }
  JsonText& key(std::string_view k) {
    comma();
    quoted(k);
    s_ += ':';
    first_ = true;  // the value follows without a comma
    return *this;
  }
  JsonText& str(std::string_view v) {
    comma();
    quoted(v);
    return *this;
  }
  JsonText& hex(ByteView v) {
    comma();
    static constexpr char kDigits[] = "0123456789ABCDEF";
    s_ += '"';
    for (const std::uint8_t b : v) {  // as to_hex(), without its string
      s_ += kDigits[b >> 4];
      s_ += kDigits[b & 0x0F];
    }
    s_ += '"';
    return *this;
  }
  JsonText& num(std::uint64_t v) {
    comma();
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    s_.append(buf, end);
    return *this;
  }
  JsonText& boolean(bool v) {
    comma();
    s_ += v ? "true" : "false";
    return *this;
  }
  std::string take() { return std::move(s_); }

 private:
  void comma() {
    if (!first_) s_ += ',';
    first_ = false;
  }
  void quoted(std::string_view v) {
    for (unsigned char c : v) {
      // Not ASCII: the JSON library's encoding, which throws on invalid
      // UTF-8 (save() answers that with an error).
      if (c >= 0x80) {
        s_ += json(std::string(v)).dump();
        return;
      }
    }
    s_ += '"';
    for (unsigned char c : v) {
      if (c == '"' || c == '\\') {
        s_ += '\\';
        s_ += static_cast<char>(c);
      } else if (c < 0x20) {
        static constexpr char kHex[] = "0123456789abcdef";
        s_ += "\\u00";
        s_ += kHex[c >> 4];
        s_ += kHex[c & 0x0F];
      } else {
        s_ += static_cast<char>(c);
      }
    }
    s_ += '"';
  }
  std::string s_;
  bool first_ = true;
};

void put(JsonText& j, const IsdpRecord& p) {
  j.open('{');
  j.key("aid").hex(p.aid);
  j.key("state").num(static_cast<std::uint8_t>(p.state));
  j.key("iccid").hex(p.iccid);
  j.key("fallback").boolean(p.fallback);
  j.key("emergency").boolean(p.emergency);
  j.key("pol1").num(p.pol1);
  j.key("connectivity").hex(p.connectivity);
  j.key("memory_quota").num(p.memory_quota);
  j.key("mno_id").str(p.mno_id);
  j.key("coverage").boolean(p.coverage);
  j.key("scp03_version").num(p.scp03_version);
  j.key("scp03_enc").hex(p.scp03_enc);
  j.key("scp03_mac").hex(p.scp03_mac);
  j.key("scp03_dek").hex(p.scp03_dek);
  j.key("scp03_counter").num(p.scp03_counter);
  j.key("profile_size").num(p.profile_size);
  j.close('}');
}

std::string state_text(const M2mState& s) {
  JsonText j(1024 + 512 * s.isdps.size());
  j.open('{');
  j.key("platform_type").str(s.platform_type);
  j.key("platform_version").str(s.platform_version);
  j.key("memory_total").num(s.memory_total);
  j.key("smsr_id").str(s.smsr_id);
  j.key("scp80").open('[');
  for (const auto& k : s.scp80) {
    j.open('{');
    j.key("version").num(k.version).key("kic").hex(k.kic).key("kid").hex(k.kid).key("counter").num(k.counter);
    j.close('}');
  }
  j.close(']');
  j.key("scp81").open('{').key("identity").str(s.scp81.identity).key("key").hex(s.scp81.key).close('}');
  j.key("scp81_version").num(s.scp81_version);
  j.key("isdps").open('[');
  for (const auto& p : s.isdps) put(j, p);
  j.close(']');
  j.key("notifications").open('[');
  for (const auto& n : s.notifications) {
    j.open('{');
    j.key("seq_number").num(n.seq_number).key("type").num(static_cast<std::uint8_t>(n.type));
    j.key("isdp_aid").hex(n.isdp_aid);
    j.close('}');
  }
  j.close(']');
  j.key("next_seq_number").num(s.next_seq_number);
  if (!s.sin.empty()) j.key("sin").hex(s.sin);
  if (!s.sdin.empty()) j.key("sdin").hex(s.sdin);
  if (s.scp81_additional) {
    j.key("scp81_additional").open('{');
    j.key("version").num(s.scp81_additional->version);
    j.key("identity").str(s.scp81_additional->psk.identity);
    j.key("key").hex(s.scp81_additional->psk.key);
    j.close('}');
  }
  j.close('}');
  return j.take();
}

StoreResult<M2mState> parse_state(ByteView data) {
  json j = json::parse(data.begin(), data.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return unexpected(StoreError{"the M2M card state is not valid JSON"});
  try {
    M2mState s;
    s.platform_type = j.at("platform_type").get<std::string>();
    s.platform_version = j.at("platform_version").get<std::string>();
    s.memory_total = j.at("memory_total").get<std::uint32_t>();
    s.smsr_id = j.at("smsr_id").get<std::string>();
    for (const auto& k : j.at("scp80")) {
      s.scp80.push_back({k.at("version").get<std::uint8_t>(), bytes_of(k, "kic"), bytes_of(k, "kid"),
                         k.at("counter").get<std::uint64_t>()});
    }
    s.scp81.identity = j.at("scp81").at("identity").get<std::string>();
    s.scp81.key = bytes_of(j.at("scp81"), "key");
    // Both written since the SM-SR change (ES7); a state from before has key version 1 alone.
    if (j.contains("scp81_version")) s.scp81_version = j.at("scp81_version").get<std::uint8_t>();
    // Written since the card holds them (a state from before has none).
    if (j.contains("sin")) s.sin = bytes_of(j, "sin");
    if (j.contains("sdin")) s.sdin = bytes_of(j, "sdin");
    if (!m2m::es8::valid_identifier(s.sin) || !m2m::es8::valid_identifier(s.sdin))
      throw std::invalid_argument("sin / sdin");
    if (j.contains("scp81_additional")) {
      const auto& a = j.at("scp81_additional");
      s.scp81_additional = Scp81Key{a.at("version").get<std::uint8_t>(),
                                    crypto::Scp81Psk{a.at("identity").get<std::string>(), bytes_of(a, "key")}};
    }
    for (const auto& p : j.at("isdps")) s.isdps.push_back(isdp_from_json(p));
    for (const auto& n : j.at("notifications")) {
      const auto type = n.at("type").get<std::uint8_t>();
      if (type != 1 && type != 2 && type != 3 && type != 5) throw std::invalid_argument("notification type");
      s.notifications.push_back({n.at("seq_number").get<std::uint32_t>(), static_cast<m2m::NotificationType>(type),
                                 bytes_of(n, "isdp_aid")});
    }
    s.next_seq_number = j.at("next_seq_number").get<std::uint32_t>();
    return s;
  } catch (const std::exception& e) {
    // json and hex errors name a field, never a value.
    return unexpected(StoreError{std::string("M2M card state: ") + e.what()});
  }
}

}  // namespace

IsdpRecord* M2mState::find(ByteView aid) {
  for (auto& p : isdps) {
    if (std::equal(p.aid.begin(), p.aid.end(), aid.begin(), aid.end())) return &p;
  }
  return nullptr;
}

IsdpRecord* M2mState::enabled() {
  for (auto& p : isdps) {
    if (p.state == m2m::IsdpState::kEnabled) return &p;
  }
  return nullptr;
}

IsdpRecord* M2mState::fallback() {
  for (auto& p : isdps) {
    if (p.fallback) return &p;
  }
  return nullptr;
}

std::uint32_t M2mState::memory_used() const {
  std::uint64_t used = 0;
  for (const auto& p : isdps) used += p.memory_quota;
  return static_cast<std::uint32_t>(std::min<std::uint64_t>(used, UINT32_MAX));
}

struct M2mStore::Newest {
  fs::path dir;  ///< slots_dir(), made once
  std::mutex mu;
  euicc::detail::SlotStamp stamp;  ///< seq 0: not known
  euicc::detail::SlotFiles files;  ///< both slots, once both exist (under mu)
};

M2mStore::M2mStore(euicc::EuiccStore e) : euicc_(std::move(e)), newest_(std::make_shared<Newest>()) {
  newest_->dir = euicc_.dir() / "m2m";
}

fs::path M2mStore::slots_dir() const { return newest_->dir; }

StoreResult<M2mStore> M2mStore::open(const fs::path& dir) {
  RSP_TRY(auto e, euicc::EuiccStore::open(dir));
  M2mStore store(std::move(e));
  std::error_code ec;
  if (!fs::is_directory(store.slots_dir(), ec)) {
    return unexpected(StoreError{"no M2M eUICC in " + dir.string() + " (run `rsp euicc create --m2m` first)"});
  }
  return store;
}

StoreResult<M2mStore> M2mStore::initialise(const euicc::EuiccStore& e, const M2mState& state) {
  M2mStore store(e);
  std::error_code ec;
  if (fs::exists(store.slots_dir(), ec)) return unexpected(StoreError{"the folder already holds an M2M eUICC"});
  fs::create_directories(store.slots_dir(), ec);
  if (ec) return unexpected(StoreError{"cannot create the M2M state folder: " + ec.message()});
  fs::permissions(store.slots_dir(), fs::perms::owner_all, ec);
  // Both slots from the start: no save of the card's life creates one.
  RSP_TRY_VOID(euicc::detail::create_slots(store.slots_dir()));
  RSP_TRY_VOID(store.save(state));
  return store;
}

StoreResult<M2mState> M2mStore::load() const {
  std::lock_guard lock(newest_->mu);
  RSP_TRY(auto newest, euicc::detail::read_newest_slot(slots_dir(), kMaxStateSize));
  if (newest.stamp.seq == 0) return unexpected(StoreError{"the M2M card state slots hold no whole record"});
  newest_->stamp = newest.stamp;
  return parse_state(newest.body);
}

StoreResult<void> M2mStore::save(const M2mState& state) const {
  std::string text;
  try {
    text = state_text(state);
  } catch (const json::exception&) {
    return unexpected(StoreError{"the M2M card state holds a string that is not UTF-8"});
  }
  std::lock_guard lock(newest_->mu);
  const fs::path& dir = newest_->dir;
  euicc::detail::SlotStamp after = newest_->stamp;
  // Another writer (another process on the folder) wrote the other slot
  // since: read both again. With the slots held open, one pread.
  const bool still = newest_->files.fd[0] >= 0 ? euicc::detail::is_newest_slot(newest_->files, after)
                                               : euicc::detail::is_newest_slot(dir, after);
  if (!still) {
    RSP_TRY(auto newest, euicc::detail::read_newest_slot(dir, kMaxStateSize));
    after = newest.stamp;
  }
  newest_->stamp = {};  // unknown until the write is done
  RSP_TRY(newest_->stamp, euicc::detail::write_next_slot(newest_->files, dir, after, as_bytes(text)));
  if (newest_->files.fd[0] < 0) newest_->files.open(dir);  // both slots exist after two saves
  return {};
}

}  // namespace rsp::euicc_m2m
