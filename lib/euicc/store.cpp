// The eUICC folder: the card state (nlohmann JSON in two slots) and profile
// content files.

#include "rsp/euicc/store.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <system_error>

#include "rsp/common/file.hpp"
#include "rsp/euicc/state_slots.hpp"

namespace rsp::euicc {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

/// Upper bound on the card state: hostile or corrupted files cannot exhaust memory.
constexpr std::size_t kMaxStateSize = 4 << 20;

std::string hex_of(ByteView b) { return to_hex(b); }

Bytes bytes_of(const json& j, const char* key) {
  if (!j.contains(key) || !j[key].is_string()) return {};
  auto b = from_hex(j[key].get<std::string>());
  return b ? *b : Bytes{};
}

json to_json(const ProfileRecord& p) {
  json nc = json::array();
  for (const auto& c : p.notification_config) nc.push_back({{"events", c.events}, {"address", c.address}});
  json j = {{"isdp_aid", hex_of(p.isdp_aid)},
            {"iccid", hex_of(p.iccid)},
            {"enabled", p.enabled},
            {"nickname", p.nickname},
            {"service_provider_name", p.service_provider_name},
            {"profile_name", p.profile_name},
            {"icon", hex_of(p.icon)},
            {"profile_class", p.profile_class},
            {"notification_config", nc},
            {"profile_owner", hex_of(p.profile_owner)},
            {"ppr", p.ppr},
            {"content_file", p.content_file},
            {"content_size", p.content_size},
            {"profile_elements", p.profile_elements}};
  if (p.icon_type) j["icon_type"] = *p.icon_type;
  return j;
}

ProfileRecord profile_from_json(const json& j) {
  ProfileRecord p;
  p.isdp_aid = bytes_of(j, "isdp_aid");
  p.iccid = bytes_of(j, "iccid");
  p.enabled = j.value("enabled", false);
  p.nickname = j.value("nickname", "");
  p.service_provider_name = j.value("service_provider_name", "");
  p.profile_name = j.value("profile_name", "");
  if (j.contains("icon_type")) p.icon_type = j["icon_type"].get<std::int64_t>();
  p.icon = bytes_of(j, "icon");
  p.profile_class = j.value("profile_class", std::int64_t{2});
  if (j.contains("notification_config") && j["notification_config"].is_array()) {
    for (const auto& c : j["notification_config"]) {
      p.notification_config.push_back({c.value("events", std::uint8_t{0}), c.value("address", "")});
    }
  }
  p.profile_owner = bytes_of(j, "profile_owner");
  p.ppr = j.value("ppr", std::uint8_t{0});
  p.content_file = j.value("content_file", "");
  p.content_size = j.value("content_size", std::uint32_t{0});
  p.profile_elements = j.value("profile_elements", std::uint32_t{0});
  return p;
}

json to_json(const NotificationRecord& n) {
  return {{"seq_number", n.seq_number},
          {"event", static_cast<int>(n.event)},
          {"address", n.address},
          {"iccid", hex_of(n.iccid)},
          {"pending", hex_of(n.pending_der)}};
}

NotificationRecord notification_from_json(const json& j) {
  NotificationRecord n;
  n.seq_number = j.value("seq_number", std::int64_t{0});
  n.event = static_cast<NotificationEvent>(std::clamp(j.value("event", 0), 0, 3));
  n.address = j.value("address", "");
  n.iccid = bytes_of(j, "iccid");
  n.pending_der = bytes_of(j, "pending");
  return n;
}

StoreResult<EuiccState> parse_state(ByteView data) {
  json j = json::parse(data.begin(), data.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return unexpected(StoreError{"the card state is not valid JSON"});
  try {
    EuiccState s;
    s.default_dp_address = j.value("default_dp_address", "");
    s.root_ds_address = j.value("root_ds_address", s.root_ds_address);
    s.next_seq_number = j.value("next_seq_number", std::int64_t{1});
    s.next_isdp = j.value("next_isdp", std::uint32_t{1});
    s.next_transaction = j.value("next_transaction", std::int64_t{1});
    s.lenient_segments = j.value("lenient_segments", false);
    if (j.contains("profiles")) {
      for (const auto& p : j["profiles"]) s.profiles.push_back(profile_from_json(p));
    }
    if (j.contains("notifications")) {
      for (const auto& n : j["notifications"]) s.notifications.push_back(notification_from_json(n));
    }
    if (j.contains("ot_key")) {
      const auto& k = j["ot_key"];
      RetainedOtKey ot;
      ot.curve = k.value("curve", "") == crypto::short_name(crypto::Curve::BrainpoolP256r1)
                     ? crypto::Curve::BrainpoolP256r1
                     : crypto::Curve::NistP256;
      ot.private_pem = k.value("sk", "");
      ot.public_point = bytes_of(k, "pk");
      s.ot_key = std::move(ot);
    }
    return s;
  } catch (const json::exception& e) {
    return unexpected(StoreError{std::string("card state: ") + e.what()});
  }
}

}  // namespace

ProfileRecord* EuiccState::find_by_aid(ByteView aid) {
  for (auto& p : profiles) {
    if (std::equal(p.isdp_aid.begin(), p.isdp_aid.end(), aid.begin(), aid.end())) return &p;
  }
  return nullptr;
}

ProfileRecord* EuiccState::find_by_iccid(ByteView iccid) {
  for (auto& p : profiles) {
    if (std::equal(p.iccid.begin(), p.iccid.end(), iccid.begin(), iccid.end())) return &p;
  }
  return nullptr;
}

ProfileRecord* EuiccState::enabled_profile() {
  for (auto& p : profiles) {
    if (p.enabled) return &p;
  }
  return nullptr;
}

StoreResult<EuiccStore> EuiccStore::open(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_regular_file(dir / "identity" / "eid.txt", ec)) {
    return unexpected(StoreError{"no eUICC in " + dir.string() + " (run `rsp euicc create` first)"});
  }
  return EuiccStore(dir);
}

StoreResult<std::string> EuiccStore::eid() const {
  auto data = read_file(dir_ / "identity" / "eid.txt");
  if (!data) return unexpected(StoreError{data.error().message});
  std::string eid = to_string(*data);
  while (!eid.empty() && (eid.back() == '\n' || eid.back() == '\r')) eid.pop_back();
  return eid;
}

namespace {

/// The newest state and the stamp of its record (seq 0: an older state.json or none).
StoreResult<std::pair<EuiccState, detail::SlotStamp>> load_stamped(const fs::path& dir) {
  RSP_TRY(auto newest, detail::read_newest_slot(dir, kMaxStateSize));
  if (newest.stamp.seq != 0) {
    RSP_TRY(auto s, parse_state(newest.body));
    return std::pair{std::move(s), newest.stamp};
  }
  // No whole record: a folder written before the slots, or a new one.
  std::error_code ec;
  const fs::path legacy = dir / "state.json";
  if (fs::exists(legacy, ec)) {
    auto size = fs::file_size(legacy, ec);
    if (ec || size > kMaxStateSize) return unexpected(StoreError{"state.json unreadable or too large"});
    auto data = read_file(legacy);
    if (!data) return unexpected(StoreError{data.error().message});
    RSP_TRY(auto s, parse_state(*data));
    return std::pair{std::move(s), detail::SlotStamp{}};
  }
  if (newest.any_slot_data) return unexpected(StoreError{"the card state slots hold no whole record"});
  return std::pair{EuiccState{}, detail::SlotStamp{}};
}

std::string state_text(const EuiccState& s) {
  json profiles = json::array();
  for (const auto& p : s.profiles) profiles.push_back(to_json(p));
  json notifications = json::array();
  for (const auto& n : s.notifications) notifications.push_back(to_json(n));
  json j = {{"default_dp_address", s.default_dp_address},
            {"root_ds_address", s.root_ds_address},
            {"next_seq_number", s.next_seq_number},
            {"next_isdp", s.next_isdp},
            {"next_transaction", s.next_transaction},
            {"profiles", profiles},
            {"notifications", notifications}};
  if (s.lenient_segments) j["lenient_segments"] = true;
  if (s.ot_key)
    j["ot_key"] = {{"curve", crypto::short_name(s.ot_key->curve)},
                   {"sk", s.ot_key->private_pem},
                   {"pk", to_hex(s.ot_key->public_point)}};
  return j.dump(1);
}

/// Writes `s` after the record `newest` (the newest whole one).
StoreResult<detail::SlotStamp> save_after(const fs::path& dir, const detail::SlotStamp& newest, const EuiccState& s) {
  const auto text = state_text(s);
  RSP_TRY(auto written, detail::write_next_slot(dir, newest, as_bytes(text)));
  if (newest.seq == 0) {
    // The first record in the slots supersedes a state.json of an older version.
    std::error_code ec;
    fs::remove(dir / "state.json", ec);
  }
  return written;
}

}  // namespace

StoreResult<EuiccState> EuiccStore::load() const {
  RSP_TRY(auto loaded, load_stamped(dir_));
  return std::move(loaded.first);
}

StoreResult<void> EuiccStore::save(const EuiccState& s) const {
  RSP_TRY(auto newest, detail::read_newest_slot(dir_, kMaxStateSize));
  RSP_TRY_VOID(save_after(dir_, newest.stamp, s));
  return {};
}

struct StateCache::Entry {
  detail::SlotStamp stamp;
  EuiccState state;
};

StateCache::StateCache() = default;
StateCache::~StateCache() = default;

StoreResult<EuiccState> StateCache::load(const EuiccStore& store) {
  if (entry_ && detail::is_newest_slot(store.dir(), entry_->stamp)) return entry_->state;
  entry_.reset();
  RSP_TRY(auto loaded, load_stamped(store.dir()));
  if (loaded.second.seq != 0) entry_ = std::make_unique<Entry>(Entry{loaded.second, loaded.first});
  return std::move(loaded.first);
}

StoreResult<void> StateCache::save(const EuiccStore& store, const EuiccState& state) {
  detail::SlotStamp newest;
  if (entry_ && detail::is_newest_slot(store.dir(), entry_->stamp)) {
    newest = entry_->stamp;
  } else {
    RSP_TRY(auto record, detail::read_newest_slot(store.dir(), kMaxStateSize));
    newest = record.stamp;
  }
  entry_.reset();
  RSP_TRY(auto written, save_after(store.dir(), newest, state));
  entry_ = std::make_unique<Entry>(Entry{written, state});
  return {};
}

StoreResult<void> EuiccStore::write_content(const std::string& name, ByteView data) const {
  std::error_code ec;
  fs::create_directories(dir_ / "profiles", ec);
  // A new name that the state names only after this returns: no temporary file needed.
  auto r = write_file_durable(dir_ / "profiles" / name, data, fs::perms(0600));
  if (!r) return unexpected(StoreError{r.error().message});
  return {};
}

StoreResult<Bytes> EuiccStore::read_content(const std::string& name) const {
  auto r = read_file(dir_ / "profiles" / name);
  if (!r) return unexpected(StoreError{r.error().message});
  return std::move(*r);
}

void EuiccStore::collect_garbage(const EuiccState& state) const {
  std::error_code ec;
  for (auto it = fs::directory_iterator(dir_ / "profiles", ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    const std::string name = it->path().filename().string();
    bool used = std::any_of(state.profiles.begin(), state.profiles.end(),
                            [&](const ProfileRecord& p) { return p.content_file == name; });
    if (!used) {
      std::error_code rm;
      fs::remove(it->path(), rm);
    }
  }
}

}  // namespace rsp::euicc
