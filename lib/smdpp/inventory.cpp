#include "rsp/messages/iccid.hpp"
#include "rsp/smdpp/inventory.hpp"

#include <algorithm>

#include "db_try.hpp"
#include "profile_row.hpp"
#include "rsp/asn1/upp.hpp"
#include "rsp/common/file.hpp"
#include "rsp/crypto/random.hpp"
#include "rsp/smdpp/es2_codes.hpp"
#include "rsp/store/locking.hpp"

namespace rsp::smdpp {

using service::is_sealed_package;

using store::value;

namespace {

constexpr std::string_view kStateNames[] = {"available", "allocated", "linked",    "confirmed", "released",
                                            "downloaded", "installed", "error", "unavailable"};

// Portable SQL with the dialect words of store/migrate.hpp ({ID}, {INT},
// {BLOB}); partial indexes work on both engines. For SQLite the words give
// exactly the text version 1 always had.
const store::Migration kMigrations[] = {
    {1, "operators, profiles, orders, transitions, outbox", R"sql(
CREATE TABLE operators (
  id {ID},
  name TEXT NOT NULL UNIQUE,
  callback_url TEXT,
  created_at {INT} NOT NULL
);
CREATE TABLE profiles (
  iccid TEXT PRIMARY KEY,
  operator_id {INT} NOT NULL REFERENCES operators(id),
  profile_type TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('available', 'allocated', 'linked', 'confirmed', 'released',
                                        'downloaded', 'installed', 'error', 'unavailable')),
  upp {BLOB},
  upp_path TEXT,
  service_provider_name TEXT NOT NULL DEFAULT '',
  profile_name TEXT NOT NULL DEFAULT '',
  profile_class {INT},
  metadata TEXT NOT NULL DEFAULT '{}',
  created_at {INT} NOT NULL,
  updated_at {INT} NOT NULL,
  CHECK (upp IS NOT NULL OR upp_path IS NOT NULL)
);
CREATE INDEX profiles_by_type ON profiles (operator_id, profile_type, state);
CREATE TABLE orders (
  id {ID},
  iccid TEXT NOT NULL REFERENCES profiles(iccid),
  operator_id {INT} NOT NULL REFERENCES operators(id),
  matching_id TEXT UNIQUE,
  eid TEXT,
  cc_hash {BLOB},
  cc_attempts_left {INT} NOT NULL,
  smds_address TEXT,
  state TEXT NOT NULL CHECK (state IN ('open', 'blocked', 'done', 'cancelled')),
  active {INT} NOT NULL DEFAULT 1,
  created_at {INT} NOT NULL,
  updated_at {INT} NOT NULL
);
CREATE UNIQUE INDEX orders_one_active ON orders (iccid) WHERE active = 1;
CREATE INDEX orders_by_eid ON orders (eid) WHERE active = 1;
CREATE TABLE profile_transitions (
  id {ID},
  iccid TEXT NOT NULL REFERENCES profiles(iccid),
  order_id {INT} REFERENCES orders(id),
  from_state TEXT,
  to_state TEXT NOT NULL,
  cause TEXT NOT NULL,
  at {INT} NOT NULL
);
CREATE INDEX transitions_by_iccid ON profile_transitions (iccid, id);
CREATE TABLE outbox (
  id {ID},
  operator_id {INT} NOT NULL REFERENCES operators(id),
  iccid TEXT NOT NULL,
  payload TEXT NOT NULL,
  attempts {INT} NOT NULL DEFAULT 0,
  next_try_at {INT} NOT NULL,
  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
  last_error TEXT,
  created_at {INT} NOT NULL,
  delivered_at {INT}
);
CREATE INDEX outbox_due ON outbox (status, next_try_at);
)sql"},
    // Which eUICC got the BPP of an order (SGP.22 §3.1.3): the installation
    // result is verified with its key after a restart, and only it may retry.
    {2, "orders: the eUICC a bound profile package was issued to", R"sql(
ALTER TABLE orders ADD COLUMN download_eid TEXT;
ALTER TABLE orders ADD COLUMN download_tid {BLOB};
ALTER TABLE orders ADD COLUMN download_curve TEXT;
ALTER TABLE orders ADD COLUMN download_key {BLOB};
CREATE INDEX orders_by_download_tid ON orders (download_tid) WHERE active = 1;
)sql"},
    {3, "ES9+ download sessions shared by the instances", R"sql(
CREATE TABLE smdpp_sessions (
  transaction_id {BLOB} PRIMARY KEY,
  expires_at {INT} NOT NULL,
  state {INT} NOT NULL,
  data TEXT NOT NULL
);
CREATE INDEX smdpp_sessions_expiry ON smdpp_sessions (expires_at);
)sql"},
    // A row is rewritten whole on every UPDATE, so a package kept in the
    // profile row was written again at each state change of a download. The
    // packages live in their own table; profiles.upp stays as an empty blob
    // (its CHECK needs a value) and is no longer read.
    {4, "profile packages apart from the profile rows", R"sql(
CREATE TABLE profile_packages (
  iccid TEXT PRIMARY KEY REFERENCES profiles(iccid),
  upp {BLOB} NOT NULL
);
INSERT INTO profile_packages (iccid, upp) SELECT iccid, upp FROM profiles WHERE length(upp) > 0;
UPDATE profiles SET upp = substr(upp, 1, 0) WHERE upp IS NOT NULL;
)sql"},
    // An index on the state was written at every state change of a download
    // (released, downloaded, installed), a page more in each of its durable
    // transactions. Only ES2+ DownloadOrder asks by state, and only for
    // 'available': that index now holds just the available profiles, in the
    // order DownloadOrder takes them; the index by type no longer changes
    // with the state.
    {5, "profile indexes that state changes of a download leave alone", R"sql(
DROP INDEX IF EXISTS profiles_by_type;
CREATE INDEX profiles_by_type ON profiles (operator_id, profile_type);
CREATE INDEX profiles_available ON profiles (operator_id, profile_type, iccid) WHERE state = 'available';
)sql"},
    // Packages are stored encrypted (package_envelope.hpp); the blob names
    // its key-encryption key, and so does this column (NULL: a package in
    // clear, as every earlier version stored them), so that the packages are
    // counted by key, and a rotation finds what it must change, from the
    // index instead of reading every package.
    {6, "profile packages: the key-encryption key each is wrapped under", R"sql(
ALTER TABLE profile_packages ADD COLUMN kek_id {BLOB};
CREATE INDEX profile_packages_by_kek ON profile_packages (kek_id);
)sql"},
    // InitiateAuthentication needs no credentials: the sessions still waiting
    // for AuthenticateClient (state 0) are bounded per peer address, and the
    // oldest of them give way first. The partial index holds only those.
    // /healthz commits a row of health_probe: a database that cannot take a
    // durable write is reported, not only one that cannot be read. Callbacks
    // are claimed one operator at a time under a claim token, so that one
    // slow operator endpoint delays no other and a sender whose lease ran out
    // cannot mark an entry that another sender holds. A matchingId is unique
    // per operator, so that an operator choosing one learns nothing of the
    // others' (orders.matching_id, unique over all operators, is left empty
    // from here on; SQLite cannot drop its constraint in place).
    {8, "session peers, the health probe row, outbox claims and matching IDs per operator", R"sql(
ALTER TABLE smdpp_sessions ADD COLUMN peer TEXT NOT NULL DEFAULT '';
CREATE INDEX smdpp_sessions_waiting ON smdpp_sessions (peer, expires_at) WHERE state = 0;
CREATE INDEX smdpp_sessions_waiting_age ON smdpp_sessions (expires_at) WHERE state = 0;
ALTER TABLE outbox ADD COLUMN claim_token TEXT;
CREATE INDEX outbox_due_by_operator ON outbox (operator_id, next_try_at, id) WHERE status = 'pending';
ALTER TABLE orders ADD COLUMN op_matching_id TEXT;
UPDATE orders SET op_matching_id = matching_id, matching_id = NULL WHERE matching_id IS NOT NULL;
CREATE UNIQUE INDEX orders_matching_id_per_operator ON orders (operator_id, op_matching_id);
CREATE INDEX orders_by_op_matching_id ON orders (op_matching_id) WHERE active = 1;
CREATE TABLE health_probe (
  id {INT} PRIMARY KEY,
  checked_at {INT} NOT NULL
);
)sql"},
    // The callbacks move to the service kit's outbox (service_outbox, its
    // own schema component, migrated before this one: Inventory::open), which
    // the SM-SR, SM-DP and SM-DS share. Every row comes along, delivered and
    // failed ones too for the audit, keyed by operator name; `ref` keeps the
    // functionCallIdentifier an operator has already seen ("hdpi-" and the
    // old id), so that a retry after the upgrade is still a duplicate to it.
    {9, "callbacks in the service outbox", R"sql(
INSERT INTO service_outbox (outbox, recipient, destination, ref, body, status, attempts, next_try_at, claim_token,
                            last_error, created_at, delivered_at)
  SELECT 'smdpp.hdpi', o.name, NULL, 'hdpi-' || CAST(x.id AS TEXT), x.payload, x.status, x.attempts, x.next_try_at,
         x.claim_token, x.last_error, x.created_at, x.delivered_at
  FROM outbox x JOIN operators o ON o.id = x.operator_id ORDER BY x.id;
DROP TABLE outbox;
)sql"},
    // A download order ends at its expiry (SGP.22 v2.2.2 §5.6.2, 8.8.5 /
    // 4.10; set by ES2+ DownloadOrder or ConfirmOrder, or the configured
    // default; NULL: none) and after the configured number of download
    // attempts, each Bound Profile Package issued for it being one (8.8.5 / 6.4).
    {10, "orders: expiry and download attempts", R"sql(
ALTER TABLE orders ADD COLUMN expires_at {INT};
ALTER TABLE orders ADD COLUMN download_attempts {INT} NOT NULL DEFAULT 0;
)sql"},
    // The one-time keys the order's Bound Profile Package was bound with
    // (SGP.22 v2.2.2 §3.1.3.3, §5.6.2-§5.6.3): otPK.EUICC.ECKA and the SM-DP+'s
    // otSK.DP.ECKA sealed under the key-encryption key, kept while the profile
    // is downloaded so that a retry with the same otPK.EUICC.ECKA gets the
    // same session keys; cleared when the profile leaves downloaded.
    {11, "orders: one-time keys of the issued download", R"sql(
ALTER TABLE orders ADD COLUMN bpp_euicc_otpk {BLOB};
ALTER TABLE orders ADD COLUMN bpp_smdp_otsk {BLOB};
)sql"},
    // The installed profile's state on its eUICC (installed, enabled,
    // disabled, deleted) as the notifications that eUICC signed report it
    // (SGP.22 v2.2.2 §3.5, §5.6.4), with the seqNumber of the last one
    // recorded, so that a replayed notification changes nothing.
    {12, "profiles: state on the eUICC after the download", R"sql(
ALTER TABLE profiles ADD COLUMN card_state TEXT;
ALTER TABLE profiles ADD COLUMN card_seq {INT};
)sql"},
    // The SM-DS event of an order with an smdsAddress (SGP.22 v2.2.2 §3.6.1,
    // §3.6.2): NULL none, 'registered' once its RegisterEvent is queued,
    // 'deleted' once its DeleteEvent is (smds_events.cpp).
    {13, "orders: SM-DS event", R"sql(
ALTER TABLE orders ADD COLUMN smds_event TEXT;
)sql"},
    // The orders of a profile, active or not: clearing an issued download's
    // kept one-time keys when its profile leaves downloaded (at every
    // installation result) and finding the eUICC a profile went to (at every
    // enable, disable or delete notification) look orders up by ICCID, which
    // the partial index orders_one_active cannot serve; without this index
    // each of them read the whole table.
    {14, "orders: by ICCID", R"sql(
CREATE INDEX orders_by_iccid ON orders (iccid);
)sql"},
};

using S = ProfileState;

}  // namespace

std::string_view to_string(ProfileState s) { return kStateNames[static_cast<int>(s)]; }

std::optional<ProfileState> profile_state_from_string(std::string_view s) {
  for (std::size_t i = 0; i < std::size(kStateNames); ++i)
    if (kStateNames[i] == s) return static_cast<ProfileState>(i);
  return std::nullopt;
}

bool transition_allowed(ProfileState from, ProfileState to) {
  switch (from) {
    case S::Available: return to == S::Allocated || to == S::Linked;
    case S::Allocated:
    case S::Linked:
      return to == S::Confirmed || to == S::Released || to == S::Available || to == S::Unavailable;
    case S::Confirmed: return to == S::Released || to == S::Available || to == S::Unavailable;
    case S::Released: return to == S::Downloaded || to == S::Error || to == S::Available || to == S::Unavailable;
    case S::Downloaded:
      return to == S::Installed || to == S::Error || to == S::Available || to == S::Unavailable;
    case S::Error: return to == S::Available || to == S::Unavailable;
    case S::Installed:
    case S::Unavailable: return false;
  }
  return false;
}

std::span<const store::Migration> inventory_migrations() { return kMigrations; }

bool is_valid_eid(std::string_view eid) {
  return eid.size() == 32 && std::all_of(eid.begin(), eid.end(), [](char c) { return c >= '0' && c <= '9'; });
}

SmdppError storage_error(const store::DbError& e) {
  return SmdppError{es2codes::kExecutionError.subject, es2codes::kExecutionError.reason, "storage: " + e.message, true,
                    store::is_conflict(e)};
}

namespace {

/// A callback goes to its operator's URL as configured when it is sent.
expected<void, std::string> callback_destination(store::Database& db, service::OutboxItem& item) {
  if (!item.destination.empty()) return {};
  auto row = db.query_one("SELECT callback_url FROM operators WHERE name = $1", {value(item.recipient)});
  if (!row) return unexpected("storage: " + row.error().message);
  if (*row) item.destination = (*row)->opt_text(0).value_or("");
  return {};
}

}  // namespace

SmdppResult<std::shared_ptr<Inventory>> Inventory::open(std::shared_ptr<store::Database> db, const Clock& clock,
                                                        PackageProtection protection) {
  if (!db) return smdpp_error(es2codes::kExecutionError, "no database");
  // Databases from before per-component versions hold the SM-DP+ schema only.
  static_assert(kSchemaComponent == store::kLegacySchemaComponent);
  // The outbox's table first: migration 9 moves the callbacks into it.
  store::Database* raw = db.get();  // the outbox holds `db`, so it outlives the hook
  RSP_DB_TRY(auto outbox, service::SqlOutbox::open(db, std::string(kCallbackOutbox), clock,
                                                   [raw](service::OutboxItem& item) -> expected<void, std::string> {
                                                     return callback_destination(*raw, item);
                                                   }));
  RSP_DB_TRY_VOID(store::migrate(*db, kSchemaComponent, inventory_migrations()));
  return std::shared_ptr<Inventory>(new Inventory(std::move(db), clock, std::move(protection), std::move(outbox)));
}

crypto::Random& Inventory::rng() const { return protection_.rng ? *protection_.rng : crypto::system_random(); }

std::int64_t Inventory::now() const { return clock_.now().time_since_epoch().count(); }

SmdppResult<void> Inventory::check_writable() {
  RSP_DB_TRY(auto tx, db_->begin());
  RSP_DB_TRY_VOID(db_->execute("INSERT INTO health_probe (id, checked_at) VALUES (1, $1)"
                               " ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at",
                               {value(now())}));
  RSP_DB_TRY_VOID(tx.commit());
  return {};
}

SmdppResult<std::optional<std::int64_t>> Inventory::operator_id(const std::string& name) {
  RSP_DB_TRY(auto row, db_->query_one("SELECT id FROM operators WHERE name = $1", {value(name)}));
  if (!row) return std::optional<std::int64_t>();
  return std::optional<std::int64_t>(row->int64(0));
}

SmdppResult<std::int64_t> Inventory::ensure_operator(const std::string& name) {
  if (name.empty() || name.size() > 256) return smdpp_error(es2codes::kInvalidParameter, "operator name");
  RSP_DB_TRY_VOID(db_->execute("INSERT INTO operators (name, created_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
                               {value(name), value(now())}));
  RSP_TRY(auto id, operator_id(name));
  if (!id) return smdpp_error(es2codes::kExecutionError, "operator not stored");
  return *id;
}

SmdppResult<void> Inventory::set_callback_url(const std::string& name, const std::string& url) {
  RSP_TRY_VOID(ensure_operator(name));
  RSP_DB_TRY_VOID(db_->execute("UPDATE operators SET callback_url = $1 WHERE name = $2", {value(url), value(name)}));
  return {};
}

SmdppResult<std::string> Inventory::import_profile(const ImportProfile& p) {
  auto elements = asn1::decode_profile_package(p.upp);
  if (!elements) elements = asn1::decode_profile_package(p.upp, asn1::DecodeOptions{tlv::Mode::Ber});
  if (!elements) return smdpp_error(codes::kInvalidRequest, "not a SAIP profile package: " + elements.error().to_string());
  if (elements->empty() || !elements->front().header())
    return smdpp_error(codes::kInvalidRequest, "the profile package does not start with a ProfileHeader");
  if (!elements->back().end())
    return smdpp_error(codes::kInvalidRequest, "the profile package does not finish with an End element");
  const auto& header = *elements->front().header();
  if (header.iccid.size() != 10) return smdpp_error(codes::kInvalidRequest, "ProfileHeader ICCID is not 10 bytes");
  const std::string iccid = messages::iccid_to_digits(header.iccid);
  if (iccid.size() < 18) return smdpp_error(codes::kInvalidRequest, "ProfileHeader ICCID is not BCD digits");
  std::string type = p.profile_type;
  if (type.empty()) type = header.profileType.value_or("");
  if (type.empty()) type = "default";
  if (!protection_.kek)
    return smdpp_error(es2codes::kExecutionError,
                       "no key-encryption key: profile packages are only stored encrypted (kek_file, --kek-file)");
  auto sealed = seal_package(*protection_.kek, iccid, p.upp, rng());
  if (!sealed) return smdpp_error(es2codes::kExecutionError, sealed.error().message);

  RSP_DB_TRY(auto tx, db_->begin());
  RSP_TRY(const std::int64_t op, ensure_operator(p.operator_name));
  RSP_DB_TRY(auto existing, db_->query_one("SELECT 1 FROM profiles WHERE iccid = $1", {value(iccid)}));
  if (existing) return smdpp_error(es2codes::kIccidInUse, "ICCID " + iccid + " is already in the inventory");
  const std::string sp = p.metadata.service_provider_name.empty() ? p.operator_name : p.metadata.service_provider_name;
  const std::string name = p.metadata.profile_name.empty() ? type : p.metadata.profile_name;
  const std::int64_t t = now();
  RSP_DB_TRY_VOID(db_->execute(
      "INSERT INTO profiles (iccid, operator_id, profile_type, state, upp, service_provider_name, profile_name,"
      " profile_class, metadata, created_at, updated_at) VALUES ($1, $2, $3, 'available', $4, $5, $6, $7, $8, $9, $9)",
      {value(iccid), value(op), value(type), value(Bytes{}), value(sp), value(name), value(p.metadata.profile_class),
       value(p.extra_metadata.empty() ? std::string("{}") : p.extra_metadata), value(t)}));
  RSP_DB_TRY_VOID(db_->execute("INSERT INTO profile_packages (iccid, upp, kek_id) VALUES ($1, $2, $3)",
                               {value(iccid), value(std::move(*sealed)), value(protection_.kek->id())}));
  RSP_DB_TRY_VOID(db_->execute(
      "INSERT INTO profile_transitions (iccid, from_state, to_state, cause, at) VALUES ($1, NULL, 'available', $2, $3)",
      {value(iccid), value("imported"), value(t)}));
  RSP_DB_TRY_VOID(tx.commit());
  return iccid;
}

void read_profile_row(const store::Row& r, std::size_t first, ProfileRecord& p) {
  p.iccid = r.text(first);
  p.profile_type = r.text(first + 1);
  p.state = profile_state_from_string(r.text(first + 2)).value_or(ProfileState::Error);
  p.service_provider_name = r.text(first + 3);
  p.profile_name = r.text(first + 4);
  p.profile_class = r.opt_int64(first + 5);
  p.metadata = r.text(first + 6);
}

namespace {

const std::string kProfileColumns = "SELECT " + std::string(kProfileRowColumns) +
                                    ", o.name, p.card_state FROM profiles p JOIN operators o ON o.id = p.operator_id ";

ProfileRecord profile_from(const store::Row& r) {
  ProfileRecord p;
  read_profile_row(r, 0, p);
  p.operator_name = r.text(kProfileRowWidth);
  p.card_state = r.opt_text(kProfileRowWidth + 1).value_or("");
  return p;
}

constexpr const char* kOrderColumns =
    "SELECT r.id, r.iccid, o.name, r.op_matching_id, r.eid, r.cc_hash, r.cc_attempts_left, r.smds_address, r.active,"
    " r.download_eid, r.expires_at, r.download_attempts FROM orders r JOIN operators o ON o.id = r.operator_id ";

OrderRecord order_from(const store::Row& r) {
  OrderRecord o;
  o.id = r.int64(0);
  o.iccid = r.text(1);
  o.operator_name = r.text(2);
  o.matching_id = r.opt_text(3);
  o.eid = r.opt_text(4);
  o.cc_hash = r.opt_blob(5);
  o.cc_attempts_left = static_cast<int>(r.int64(6));
  o.smds_address = r.opt_text(7);
  o.active = r.int64(8) != 0;
  o.download_eid = r.opt_text(9);
  o.expires_at = r.opt_int64(10);
  o.download_attempts = static_cast<int>(r.int64(11));
  return o;
}

}  // namespace

SmdppResult<std::vector<ProfileRecord>> Inventory::list_profiles(const std::optional<std::string>& operator_name) {
  std::vector<store::Row> rows;
  if (operator_name) {
    RSP_DB_TRY(rows, db_->query(kProfileColumns + "WHERE o.name = $1 ORDER BY p.iccid",
                                {value(*operator_name)}));
  } else {
    RSP_DB_TRY(rows, db_->query(kProfileColumns + "ORDER BY p.iccid"));
  }
  std::vector<ProfileRecord> out;
  out.reserve(rows.size());
  for (const auto& r : rows) out.push_back(profile_from(r));
  return out;
}

SmdppResult<std::optional<ProfileRecord>> Inventory::profile(const std::string& iccid,
                                                             const std::optional<std::string>& operator_name) {
  RSP_DB_TRY(auto row, db_->query_one(kProfileColumns + "WHERE p.iccid = $1", {value(iccid)}));
  if (!row) return std::optional<ProfileRecord>();
  ProfileRecord p = profile_from(*row);
  // Another operator's profile is reported exactly like an unknown one.
  if (operator_name && p.operator_name != *operator_name) return std::optional<ProfileRecord>();
  return std::optional<ProfileRecord>(std::move(p));
}

SmdppResult<Bytes> Inventory::profile_package(const std::string& iccid) {
  RSP_DB_TRY(auto row, db_->query_one("SELECT " + std::string(kStoredPackageColumns) +
                                          " FROM profiles p LEFT JOIN profile_packages k ON k.iccid = p.iccid"
                                          " WHERE p.iccid = $1",
                                      {value(iccid)}));
  if (!row) return smdpp_error(es2codes::kIccidUnknown, "unknown ICCID");
  return open_stored_package(iccid, StoredPackage{row->opt_blob(0), row->opt_text(1)});
}

SmdppResult<Bytes> Inventory::open_stored_package(const std::string& iccid, const StoredPackage& stored) {
  if (stored.sealed) {
    auto upp = open_package(protection_.kek.get(), iccid, *stored.sealed);
    if (!upp) return smdpp_error(es2codes::kExecutionError, upp.error().message);
    return std::move(*upp);
  }
  if (stored.path) {
    auto data = read_file(*stored.path);
    if (!data) return smdpp_error(es2codes::kExecutionError, "profile package file: " + data.error().message);
    return *data;
  }
  return smdpp_error(es2codes::kExecutionError, "profile without a package");
}

SmdppResult<Bytes> Inventory::seal_secret(std::string_view label, ByteView secret) {
  if (!protection_.kek) return smdpp_error(es2codes::kExecutionError, "no key-encryption key");
  auto sealed = seal_package(*protection_.kek, label, secret, rng());
  if (!sealed) return smdpp_error(es2codes::kExecutionError, sealed.error().message);
  return std::move(*sealed);
}

SmdppResult<Bytes> Inventory::open_secret(std::string_view label, ByteView sealed) {
  // Unlike a package of an older version, a secret is never read in clear.
  if (!is_sealed_package(sealed)) return smdpp_error(es2codes::kExecutionError, "a stored secret is not sealed");
  auto secret = open_package(protection_.kek.get(), label, sealed);
  if (!secret) return smdpp_error(es2codes::kExecutionError, secret.error().message);
  return std::move(*secret);
}

SmdppResult<PackageKeyCount> Inventory::package_keys() {
  RSP_DB_TRY(auto rows, db_->query("SELECT kek_id, count(*) FROM profile_packages GROUP BY kek_id"));
  PackageKeyCount out;
  for (const auto& r : rows) {
    const auto n = static_cast<std::size_t>(r.int64(1));
    const auto id = r.opt_blob(0);
    if (!id)
      out.in_clear += n;
    else if (protection_.kek && *id == protection_.kek->id())
      out.under_kek += n;
    else
      out.under_other[to_hex(*id)] += n;
  }
  return out;
}

SmdppResult<RewrapCount> Inventory::rewrap_packages(const KeyEncryptionKey& to) {
  constexpr std::int64_t kBatch = 64;  // packages held in memory at a time
  RewrapCount n;
  RSP_DB_TRY(auto tx, db_->begin());
  RSP_DB_TRY(auto same, db_->query_one("SELECT count(*) FROM profile_packages WHERE kek_id = $1", {value(to.id())}));
  n.unchanged = same ? static_cast<std::size_t>(same->int64(0)) : 0;
  std::string after;  // the batches go by ICCID
  for (;;) {
    RSP_DB_TRY(auto rows, db_->query("SELECT iccid, upp FROM profile_packages WHERE iccid > $1"
                                     " AND (kek_id IS NULL OR kek_id <> $2) ORDER BY iccid LIMIT $3",
                                     {value(after), value(to.id()), value(kBatch)}));
    if (rows.empty()) break;
    for (const auto& r : rows) {
      after = r.text(0);
      const Bytes stored = r.blob(1);
      auto rewrapped = rewrap_package(protection_.kek.get(), to, after, stored, rng());
      if (!rewrapped) return smdpp_error(es2codes::kExecutionError, rewrapped.error().message);
      ++(is_sealed_package(stored) ? n.rewrapped : n.encrypted);
      RSP_DB_TRY_VOID(db_->execute("UPDATE profile_packages SET upp = $2, kek_id = $3 WHERE iccid = $1",
                                   {value(after), value(std::move(*rewrapped)), value(to.id())}));
    }
  }
  RSP_DB_TRY_VOID(tx.commit());
  return n;
}

SmdppResult<std::optional<OrderRecord>> Inventory::active_order(const std::string& iccid) {
  RSP_DB_TRY(auto row, db_->query_one(std::string(kOrderColumns) + "WHERE r.iccid = $1 AND r.active = 1", {value(iccid)}));
  if (!row) return std::optional<OrderRecord>();
  return std::optional<OrderRecord>(order_from(*row));
}

SmdppResult<std::vector<TransitionRecord>> Inventory::history(const std::string& iccid) {
  RSP_DB_TRY(auto rows, db_->query("SELECT iccid, from_state, to_state, cause, order_id, at FROM profile_transitions"
                                   " WHERE iccid = $1 ORDER BY id",
                                   {value(iccid)}));
  std::vector<TransitionRecord> out;
  for (const auto& r : rows) {
    TransitionRecord t;
    t.iccid = r.text(0);
    if (auto f = r.opt_text(1)) t.from = profile_state_from_string(*f);
    t.to = profile_state_from_string(r.text(2)).value_or(ProfileState::Error);
    t.cause = r.text(3);
    t.order_id = r.opt_int64(4);
    t.at = r.int64(5);
    out.push_back(std::move(t));
  }
  return out;
}

SmdppResult<void> Inventory::transition(const std::string& iccid, ProfileState to, const std::string& cause,
                                        std::optional<std::int64_t> order_id, std::optional<ProfileState> from) {
  return transition_writing(iccid, to, cause, order_id, from, nullptr);
}

SmdppResult<void> Inventory::transition_to_installed(const std::string& iccid, const std::string& cause,
                                                     ProfileState from, const InstalledWrites& writes) {
  return transition_writing(iccid, ProfileState::Installed, cause, writes.done_order, from, &writes);
}

SmdppResult<void> Inventory::transition_writing(const std::string& iccid, ProfileState to, const std::string& cause,
                                                std::optional<std::int64_t> order_id, std::optional<ProfileState> from,
                                                const InstalledWrites* installed) {
  if (!from) {
    RSP_DB_TRY(auto row, db_->query_one("SELECT state FROM profiles WHERE iccid = $1", {value(iccid)}));
    if (!row) return smdpp_error(es2codes::kIccidUnknown, "unknown ICCID");
    from = profile_state_from_string(row->text(0));
    if (!from)
      return smdpp_error(es2codes::kIccidInvalidTransition, "profile " + iccid + " is in unknown state " + row->text(0));
  }
  if (!transition_allowed(*from, to))
    return smdpp_error(es2codes::kIccidInvalidTransition, "profile " + iccid + " cannot go from " +
                                                              std::string(to_string(*from)) + " to " +
                                                              std::string(to_string(to)));
  const std::int64_t t = now();
  // The state check is repeated in the UPDATE so a concurrent change cannot slip in between.
  std::int64_t changed = 0;
  if (installed) {
    // The state on the eUICC starts here; its later notifications must carry
    // a higher seqNumber than this result's (one counter per eUICC, §5.7.9).
    RSP_DB_TRY(changed, db_->execute("UPDATE profiles SET state = $1, updated_at = $2, card_state = 'installed',"
                                     " card_seq = $5 WHERE iccid = $3 AND state = $4",
                                     {value(to_string(to)), value(t), value(iccid), value(to_string(*from)),
                                      installed->card_seq ? value(*installed->card_seq) : store::Value{}}));
  } else {
    RSP_DB_TRY(changed, db_->execute("UPDATE profiles SET state = $1, updated_at = $2 WHERE iccid = $3 AND state = $4",
                                     {value(to_string(to)), value(t), value(iccid), value(to_string(*from))}));
  }
  if (changed != 1) return smdpp_error(es2codes::kIccidInvalidTransition, "profile state changed concurrently");
  RSP_DB_TRY_VOID(db_->execute("INSERT INTO profile_transitions (iccid, order_id, from_state, to_state, cause, at)"
                               " VALUES ($1, $2, $3, $4, $5, $6)",
                               {value(iccid), value(order_id), value(to_string(*from)), value(to_string(to)),
                                value(cause), value(t)}));
  RSP_TRY_VOID(smds_event_after(iccid, to, order_id));
  // The one-time keys of an issued download serve its retries only.
  if (installed) {
    // The same statement ends the installed order.
    RSP_DB_TRY_VOID(db_->execute(
        "UPDATE orders SET bpp_euicc_otpk = NULL, bpp_smdp_otsk = NULL,"
        " state = CASE WHEN id = $2 THEN 'done' ELSE state END,"
        " updated_at = CASE WHEN id = $2 THEN $3 ELSE updated_at END"
        " WHERE iccid = $1 AND (id = $2 OR bpp_smdp_otsk IS NOT NULL)",
        {value(iccid), value(installed->done_order), value(t)}));
  } else if (*from == ProfileState::Downloaded) {
    RSP_DB_TRY_VOID(db_->execute("UPDATE orders SET bpp_euicc_otpk = NULL, bpp_smdp_otsk = NULL"
                                 " WHERE iccid = $1 AND bpp_smdp_otsk IS NOT NULL",
                                 {value(iccid)}));
  }
  return {};
}

SmdppResult<TransitionRecord> Inventory::reinstate_profile(const std::string& iccid, const std::string& reason) {
  if (reason.empty()) return smdpp_error(es2codes::kMandatoryMissing, "the reason is missing");
  if (reason.size() > 500 ||
      std::any_of(reason.begin(), reason.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7F; }))
    return smdpp_error(es2codes::kInvalidParameter, "the reason must be one line of at most 500 characters");
  RSP_DB_TRY(auto tx, db_->begin());
  RSP_TRY(auto p, profile(iccid));
  if (!p) return smdpp_error(es2codes::kIccidUnknown, "unknown ICCID");
  if (p->state != ProfileState::Downloaded && p->state != ProfileState::Error)
    return smdpp_error(es2codes::kIccidInvalidTransition,
                       "only a downloaded or error profile is reinstated (" + std::string(to_string(p->state)) + ")");
  RSP_TRY(auto order, active_order(iccid));
  std::optional<std::int64_t> order_id;
  if (order) {
    order_id = order->id;
    RSP_DB_TRY_VOID(db_->execute("UPDATE orders SET state = 'cancelled', active = 0, updated_at = $2 WHERE id = $1",
                                 {value(order->id), value(now())}));
  }
  std::string cause = "operator statement: the profile is not on any eUICC";
  if (order && order->download_eid) cause += " (its bound profile package went to EID " + *order->download_eid + ")";
  cause += "; reason: " + reason;
  RSP_TRY_VOID(transition(iccid, ProfileState::Available, cause, order_id, p->state));
  RSP_DB_TRY_VOID(tx.commit());
  TransitionRecord t;
  t.iccid = iccid;
  t.from = p->state;
  t.to = ProfileState::Available;
  t.cause = std::move(cause);
  t.order_id = order_id;
  t.at = now();
  return t;
}

SmdppResult<void> Inventory::enqueue_progress(const std::string& iccid, const std::string& payload) {
  RSP_DB_TRY(auto row, db_->query_one("SELECT o.name FROM profiles p JOIN operators o ON o.id = p.operator_id"
                                      " WHERE p.iccid = $1",
                                      {value(iccid)}));
  if (!row) return smdpp_error(es2codes::kIccidUnknown, "unknown ICCID");
  return enqueue_progress_to(row->text(0), payload);
}

SmdppResult<void> Inventory::enqueue_progress_to(const std::string& operator_name, const std::string& payload) {
  RSP_DB_TRY_VOID(outbox_->add(*db_, service::OutboxMessage{operator_name, payload, {}, {}}));
  return {};
}

SmdppResult<std::vector<OutboxEntry>> Inventory::due_outbox(std::size_t limit) {
  RSP_DB_TRY(auto items, outbox_->due(limit));
  std::vector<OutboxEntry> out;
  out.reserve(items.size());
  for (auto& item : items) {
    if (auto r = callback_destination(*db_, item); !r) return smdpp_error(es2codes::kExecutionError, r.error());
    OutboxEntry e;
    e.id = item.id;
    e.operator_name = std::move(item.recipient);
    if (!item.destination.empty()) e.callback_url = std::move(item.destination);
    e.payload = std::move(item.body);
    e.attempts = item.attempts;
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace rsp::smdpp
