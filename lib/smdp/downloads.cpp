#include "rsp/smdp/downloads.hpp"

namespace rsp::smdp {

using store::value;

namespace {

const store::Migration kMigrations[] = {
    {1, "profile downloads and the step each has reached",
     R"(
CREATE TABLE smdp_download (
  id {ID},
  eid TEXT NOT NULL,
  iccid TEXT NOT NULL,
  state TEXT NOT NULL,
  isdp_aid TEXT NOT NULL,
  request TEXT NOT NULL,
  error TEXT NOT NULL,
  updated_at {INT} NOT NULL
);
CREATE INDEX smdp_download_state ON smdp_download(state);
)"},
};

constexpr const char* kColumns = "id, eid, iccid, state, isdp_aid, request, error, updated_at";
constexpr std::string_view kNames[] = {"started", "isdp-created", "certificate-sent", "keys-established",
                                       "loaded",  "completed",    "enabled",          "failed"};

std::string db_text(const store::DbError& e) { return "storage: " + e.message; }

expected<Download, std::string> download_of(const store::Row& r) {
  Download d;
  d.id = r.int64(0);
  d.eid = r.text(1);
  d.iccid = r.text(2);
  auto state = parse_download_state(r.text(3));
  if (!state) return unexpected(std::string("storage: download ") + std::to_string(d.id) + " has an unknown state");
  d.state = *state;
  d.isdp_aid = from_hex(r.text(4)).value_or(Bytes{});
  d.request = r.text(5);
  d.error = r.text(6);
  d.updated_at = r.int64(7);
  return d;
}

}  // namespace

std::span<const store::Migration> download_migrations() { return kMigrations; }

std::string_view download_state_name(DownloadState s) { return kNames[static_cast<int>(s)]; }

std::optional<DownloadState> parse_download_state(std::string_view name) {
  for (std::size_t i = 0; i < std::size(kNames); ++i)
    if (kNames[i] == name) return static_cast<DownloadState>(i);
  return std::nullopt;
}

bool is_final(DownloadState s) {
  return s == DownloadState::Completed || s == DownloadState::Enabled || s == DownloadState::Failed;
}

expected<std::unique_ptr<DownloadTable>, std::string> DownloadTable::open(std::shared_ptr<store::Database> db) {
  auto migrated = store::migrate(*db, kSchemaComponent, download_migrations());
  if (!migrated) return unexpected(db_text(migrated.error()));
  return std::unique_ptr<DownloadTable>(new DownloadTable(std::move(db)));
}

expected<std::int64_t, std::string> DownloadTable::create(const Download& d) {
  auto rows = db_->query("INSERT INTO smdp_download (eid, iccid, state, isdp_aid, request, error, updated_at) "
                         "VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
                         {value(d.eid), value(d.iccid), value(download_state_name(d.state)), value(to_hex(d.isdp_aid)),
                          value(d.request), value(d.error), value(d.updated_at)});
  if (!rows) return unexpected(db_text(rows.error()));
  if (rows->empty()) return unexpected(std::string("storage: no id for the new download"));
  return rows->front().int64(0);
}

expected<void, std::string> DownloadTable::update(const Download& d) {
  auto n = db_->execute("UPDATE smdp_download SET state = $2, isdp_aid = $3, error = $4, updated_at = $5 WHERE id = $1",
                        {value(d.id), value(download_state_name(d.state)), value(to_hex(d.isdp_aid)), value(d.error),
                         value(d.updated_at)});
  if (!n) return unexpected(db_text(n.error()));
  if (*n != 1) return unexpected("storage: no download " + std::to_string(d.id));
  return {};
}

expected<std::optional<Download>, std::string> DownloadTable::get(std::int64_t id) {
  auto row = db_->query_one(std::string("SELECT ") + kColumns + " FROM smdp_download WHERE id = $1", {value(id)});
  if (!row) return unexpected(db_text(row.error()));
  if (!*row) return std::optional<Download>();
  RSP_TRY(auto d, download_of(**row));
  return std::optional<Download>(std::move(d));
}

expected<std::vector<Download>, std::string> DownloadTable::unfinished() {
  auto rows = db_->query(std::string("SELECT ") + kColumns +
                             " FROM smdp_download WHERE state NOT IN ('completed', 'enabled', 'failed') ORDER BY id",
                         {});
  if (!rows) return unexpected(db_text(rows.error()));
  std::vector<Download> out;
  for (const auto& r : *rows) {
    RSP_TRY(auto d, download_of(r));
    out.push_back(std::move(d));
  }
  return out;
}

}  // namespace rsp::smdp
