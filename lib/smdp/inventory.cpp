#include "rsp/smdp/inventory.hpp"

#include "rsp/crypto/random.hpp"

namespace rsp::smdp {

using store::value;

namespace {

const store::Migration kMigrations[] = {
    {1, "the M2M SM-DP's profiles, their packages sealed",
     R"(
CREATE TABLE smdp_profile (
  id {ID},
  iccid TEXT NOT NULL UNIQUE,
  profile_type TEXT NOT NULL,
  mno_id TEXT NOT NULL,
  state TEXT NOT NULL,
  eid TEXT NOT NULL,
  package {BLOB} NOT NULL,
  package_size {INT} NOT NULL
);
CREATE INDEX smdp_profile_pick ON smdp_profile(mno_id, profile_type, state);
)"},
    {2, "the profiles' state on the eUICC, as the SM-SR reports it",
     R"(
ALTER TABLE smdp_profile ADD COLUMN euicc_state TEXT NOT NULL DEFAULT '';
)"},
    {3, "the ISD-P key sets of downloaded profiles, sealed, and their SCP03 counters",
     R"(
CREATE TABLE smdp_isdp_keys (
  iccid TEXT PRIMARY KEY,
  isdp_aid TEXT NOT NULL,
  key_version {INT} NOT NULL,
  key_set {BLOB} NOT NULL,
  counter {INT} NOT NULL
);
)"},
    {4, "each eUICC's SM-SR after an SM-SR change, as the new SM-SR notified it",
     R"(
CREATE TABLE smdp_euicc_smsr (
  eid TEXT PRIMARY KEY,
  smsr_id TEXT NOT NULL
);
CREATE INDEX smdp_profile_eid ON smdp_profile(eid);
)"},
};

/// What seals a key set: the ICCID with this use, so a key blob does not
/// open as another profile's nor as a package.
std::string key_label(const std::string& iccid) { return "isdp-keys:" + iccid; }
constexpr std::size_t kKeySize = 16;

constexpr std::string_view kNames[] = {"available", "reserved", "downloaded", "quarantined"};
constexpr std::string_view kEuiccNames[] = {"", "enabled", "disabled", "deleted"};
constexpr const char* kColumns = "iccid, profile_type, mno_id, state, eid, package_size, euicc_state";

unexpected<InventoryError> fail(InventoryError::Kind kind, std::string message) {
  return unexpected(InventoryError{kind, std::move(message)});
}
unexpected<InventoryError> storage(const store::DbError& e) {
  return fail(InventoryError::Kind::Storage, "storage: " + e.message);
}

InventoryResult<InventoryProfile> profile_of(const store::Row& r) {
  InventoryProfile p;
  p.iccid = r.text(0);
  p.profile_type = r.text(1);
  p.mno_id = r.text(2);
  auto state = parse_profile_state(r.text(3));
  if (!state) return fail(InventoryError::Kind::Storage, "storage: profile " + p.iccid + " has an unknown state");
  p.state = *state;
  p.eid = r.text(4);
  p.package_size = r.int64(5);
  auto on_card = parse_euicc_state(r.text(6));
  if (!on_card) return fail(InventoryError::Kind::Storage, "storage: profile " + p.iccid + " has an unknown eUICC state");
  p.euicc_state = *on_card;
  return p;
}

/// The profiles of a `SELECT kColumns` query's rows, in their order.
InventoryResult<std::vector<InventoryProfile>> profiles_of(const store::DbResult<std::vector<store::Row>>& rows) {
  if (!rows) return storage(rows.error());
  std::vector<InventoryProfile> out;
  out.reserve(rows->size());
  for (const auto& r : *rows) {
    RSP_TRY(auto p, profile_of(r));
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace

std::span<const store::Migration> inventory_migrations() { return kMigrations; }

std::string_view profile_state_name(ProfileState s) { return kNames[static_cast<int>(s)]; }

std::optional<ProfileState> parse_profile_state(std::string_view name) {
  for (std::size_t i = 0; i < std::size(kNames); ++i)
    if (kNames[i] == name) return static_cast<ProfileState>(i);
  return std::nullopt;
}

std::string_view euicc_state_name(EuiccState s) { return kEuiccNames[static_cast<int>(s)]; }

std::optional<EuiccState> parse_euicc_state(std::string_view name) {
  for (std::size_t i = 0; i < std::size(kEuiccNames); ++i)
    if (kEuiccNames[i] == name) return static_cast<EuiccState>(i);
  return std::nullopt;
}

InventoryResult<std::unique_ptr<Inventory>> Inventory::open(std::shared_ptr<store::Database> db,
                                                            std::shared_ptr<const service::KeyEncryptionKey> kek) {
  auto migrated = store::migrate(*db, kInventorySchemaComponent, inventory_migrations());
  if (!migrated) return storage(migrated.error());
  return std::unique_ptr<Inventory>(new Inventory(std::move(db), std::move(kek)));
}

InventoryResult<void> Inventory::add(const std::string& iccid, const std::string& profile_type,
                                     const std::string& mno_id, ByteView upp, crypto::Random& rng) {
  Bytes stored(upp.begin(), upp.end());
  if (kek_) {
    auto sealed = service::seal_package(*kek_, iccid, upp, rng);
    if (!sealed) return fail(InventoryError::Kind::Sealing, "profile " + iccid + ": " + sealed.error().message);
    stored = std::move(*sealed);
  }
  auto tx = db_->begin();
  if (!tx) return storage(tx.error());
  auto existing = db_->query_one("SELECT 1 FROM smdp_profile WHERE iccid = $1", {value(iccid)});
  if (!existing) return storage(existing.error());
  if (*existing) return fail(InventoryError::Kind::Duplicate, "profile " + iccid + " is in the inventory already");
  auto n = db_->execute(
      "INSERT INTO smdp_profile (iccid, profile_type, mno_id, state, eid, package, package_size) "
      "VALUES ($1, $2, $3, $4, '', $5, $6)",
      {value(iccid), value(profile_type), value(mno_id), value(profile_state_name(ProfileState::Available)),
       value(std::move(stored)), value(static_cast<std::int64_t>(upp.size()))});
  if (!n) return storage(n.error());
  auto committed = tx->commit();
  if (!committed) return storage(committed.error());
  return {};
}

InventoryResult<InventoryProfile> Inventory::reserve(const std::string& mno_id, const std::string& iccid,
                                                     const std::string& profile_type, const std::string& eid) {
  auto tx = db_->begin();
  if (!tx) return storage(tx.error());
  const std::string select = std::string("SELECT ") + kColumns + " FROM smdp_profile WHERE mno_id = $1 AND ";
  auto row = iccid.empty()
                 ? db_->query_one(select + "profile_type = $2 AND state = 'available' ORDER BY id LIMIT 1",
                                  {value(mno_id), value(profile_type)})
                 : db_->query_one(select + "iccid = $2", {value(mno_id), value(iccid)});
  if (!row) return storage(row.error());
  if (!*row) {
    if (!iccid.empty()) return fail(InventoryError::Kind::Unknown, "no profile " + iccid + " of this MNO");
    // Whether the type exists at all tells which refusal it is.
    auto any = db_->query_one("SELECT 1 FROM smdp_profile WHERE mno_id = $1 AND profile_type = $2",
                              {value(mno_id), value(profile_type)});
    if (!any) return storage(any.error());
    if (!*any) return fail(InventoryError::Kind::Unknown, "no profile of this type for this MNO");
    return fail(InventoryError::Kind::Unavailable, "no profile of this type is available");
  }
  RSP_TRY(auto p, profile_of(**row));
  if (p.state != ProfileState::Available)
    return fail(InventoryError::Kind::Unavailable, "profile " + p.iccid + " is " +
                                                       std::string(profile_state_name(p.state)));
  auto n = db_->execute("UPDATE smdp_profile SET state = 'reserved', eid = $2 WHERE iccid = $1 AND state = 'available'",
                        {value(p.iccid), value(eid)});
  if (!n) return storage(n.error());
  if (*n != 1) return fail(InventoryError::Kind::Unavailable, "profile " + p.iccid + " was taken meanwhile");
  auto committed = tx->commit();
  if (!committed) return storage(committed.error());
  p.state = ProfileState::Reserved;
  p.eid = eid;
  return p;
}

InventoryResult<Bytes> Inventory::package(const std::string& iccid) {
  auto row = db_->query_one("SELECT package FROM smdp_profile WHERE iccid = $1", {value(iccid)});
  if (!row) return storage(row.error());
  if (!*row) return fail(InventoryError::Kind::Unknown, "no profile " + iccid);
  auto upp = service::open_package(kek_.get(), iccid, (*row)->blob(0));
  if (!upp) return fail(InventoryError::Kind::Sealing, "profile " + iccid + ": " + upp.error().message);
  return std::move(*upp);
}

InventoryResult<void> Inventory::settle(const std::string& iccid, ProfileState to) {
  // Back to Available: no longer on any eUICC, so no state there either.
  auto n = db_->execute(
      to == ProfileState::Available
          ? "UPDATE smdp_profile SET state = $2, eid = '', euicc_state = '' WHERE iccid = $1 AND state = 'reserved'"
          : "UPDATE smdp_profile SET state = $2 WHERE iccid = $1 AND state = 'reserved'",
      {value(iccid), value(profile_state_name(to))});
  if (!n) return storage(n.error());
  if (*n != 1) return fail(InventoryError::Kind::Unavailable, "profile " + iccid + " is not reserved");
  return {};
}

InventoryResult<InventoryProfile> Inventory::get(const std::string& mno_id, const std::string& iccid) {
  auto row = db_->query_one(std::string("SELECT ") + kColumns + " FROM smdp_profile WHERE iccid = $1 AND mno_id = $2",
                            {value(iccid), value(mno_id)});
  if (!row) return storage(row.error());
  if (!*row) return fail(InventoryError::Kind::Unknown, "no profile " + iccid + " of this MNO");
  return profile_of(**row);
}

InventoryResult<std::vector<InventoryProfile>> Inventory::list() {
  auto rows = db_->query(std::string("SELECT ") + kColumns + " FROM smdp_profile ORDER BY id", {});
  return profiles_of(rows);
}

InventoryResult<std::optional<InventoryProfile>> Inventory::find(const std::string& iccid) {
  auto row = db_->query_one(std::string("SELECT ") + kColumns + " FROM smdp_profile WHERE iccid = $1", {value(iccid)});
  if (!row) return storage(row.error());
  if (!*row) return std::optional<InventoryProfile>();
  RSP_TRY(auto p, profile_of(**row));
  return std::optional<InventoryProfile>(std::move(p));
}

InventoryResult<void> Inventory::record_euicc_state(const std::string& iccid, EuiccState state) {
  auto n = db_->execute("UPDATE smdp_profile SET euicc_state = $2 WHERE iccid = $1",
                        {value(iccid), value(euicc_state_name(state))});
  if (!n) return storage(n.error());
  if (*n != 1) return fail(InventoryError::Kind::Unknown, "no profile " + iccid);
  return {};
}

InventoryResult<void> Inventory::keep_isdp_keys(const std::string& iccid, const IsdpKeySet& k, crypto::Random& rng) {
  if (k.keys.enc.size() != kKeySize || k.keys.mac.size() != kKeySize || k.keys.dek.size() != kKeySize)
    return fail(InventoryError::Kind::Sealing, "profile " + iccid + ": not an AES-128 key set");
  Bytes clear = concat({k.keys.enc, k.keys.mac, k.keys.dek});
  Bytes stored = clear;
  if (kek_) {
    auto sealed = service::seal_package(*kek_, key_label(iccid), clear, rng);
    wipe(clear);
    wipe(stored);
    if (!sealed) return fail(InventoryError::Kind::Sealing, "profile " + iccid + " key set: " + sealed.error().message);
    stored = std::move(*sealed);
  } else {
    wipe(clear);
  }
  auto tx = db_->begin();
  if (!tx) return storage(tx.error());
  auto gone = db_->execute("DELETE FROM smdp_isdp_keys WHERE iccid = $1", {value(iccid)});
  if (!gone) return storage(gone.error());
  auto n = db_->execute(
      "INSERT INTO smdp_isdp_keys (iccid, isdp_aid, key_version, key_set, counter) VALUES ($1, $2, $3, $4, $5)",
      {value(iccid), value(to_hex(k.isdp_aid)), value(static_cast<std::int64_t>(k.key_version)), value(std::move(stored)),
       value(static_cast<std::int64_t>(k.counter))});
  if (!n) return storage(n.error());
  auto committed = tx->commit();
  if (!committed) return storage(committed.error());
  return {};
}

InventoryResult<std::optional<IsdpKeySet>> Inventory::isdp_keys(const std::string& iccid) {
  auto row = db_->query_one("SELECT isdp_aid, key_version, key_set, counter FROM smdp_isdp_keys WHERE iccid = $1",
                            {value(iccid)});
  if (!row) return storage(row.error());
  if (!*row) return std::optional<IsdpKeySet>();
  Bytes stored = (*row)->blob(2);
  Bytes clear;
  if (service::is_sealed_package(stored)) {
    auto opened = service::open_package(kek_.get(), key_label(iccid), stored);
    if (!opened) return fail(InventoryError::Kind::Sealing, "profile " + iccid + " key set: " + opened.error().message);
    clear = std::move(*opened);
  } else {
    if (kek_) return fail(InventoryError::Kind::Sealing, "profile " + iccid + " key set is not sealed");
    clear = std::move(stored);
  }
  if (clear.size() != 3 * kKeySize) {
    wipe(clear);
    return fail(InventoryError::Kind::Sealing, "profile " + iccid + " key set is malformed");
  }
  IsdpKeySet k;
  k.isdp_aid = from_hex((*row)->text(0)).value_or(Bytes{});
  k.key_version = static_cast<std::uint8_t>((*row)->int64(1));
  k.counter = static_cast<std::uint32_t>((*row)->int64(3));
  const ByteView all(clear);
  const auto key = [&](std::size_t i) {
    const auto part = all.subspan(i * kKeySize, kKeySize);
    return Bytes(part.begin(), part.end());
  };
  k.keys.enc = key(0);
  k.keys.mac = key(1);
  k.keys.dek = key(2);
  wipe(clear);
  return std::optional<IsdpKeySet>(std::move(k));
}

InventoryResult<void> Inventory::set_scp03_counter(const std::string& iccid, std::uint32_t counter) {
  auto n = db_->execute("UPDATE smdp_isdp_keys SET counter = $2 WHERE iccid = $1",
                        {value(iccid), value(static_cast<std::int64_t>(counter))});
  if (!n) return storage(n.error());
  if (*n != 1) return fail(InventoryError::Kind::Unknown, "no key set for profile " + iccid);
  return {};
}

InventoryResult<std::vector<InventoryProfile>> Inventory::on_euicc(const std::string& eid) {
  auto rows = db_->query(std::string("SELECT ") + kColumns +
                             " FROM smdp_profile WHERE eid = $1 AND state IN ('reserved', 'downloaded') ORDER BY id",
                         {value(eid)});
  return profiles_of(rows);
}

InventoryResult<std::optional<std::string>> Inventory::smsr_of(const std::string& eid) {
  auto row = db_->query_one("SELECT smsr_id FROM smdp_euicc_smsr WHERE eid = $1", {value(eid)});
  if (!row) return storage(row.error());
  if (!*row) return std::optional<std::string>();
  return std::optional<std::string>((*row)->text(0));
}

InventoryResult<void> Inventory::record_smsr(const std::string& eid, const std::string& smsr_id) {
  auto n = db_->execute(
      "INSERT INTO smdp_euicc_smsr (eid, smsr_id) VALUES ($1, $2) "
      "ON CONFLICT (eid) DO UPDATE SET smsr_id = excluded.smsr_id",
      {value(eid), value(smsr_id)});
  if (!n) return storage(n.error());
  return {};
}

}  // namespace rsp::smdp
