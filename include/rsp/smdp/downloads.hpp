#pragma once
/// The SM-DP's durable record of each profile download (schema component
/// "smdp"; SQLite or PostgreSQL through rsp/store), one row per download,
/// written at every step of ProfileDownload (profile_download.hpp) so that
/// a process that stops mid-way finds, at its next start, what it left on
/// the eUICC: the ISD-P to delete, or a loaded profile to complete.
///
/// Keys never enter the table: the ES8 key set lives in memory only, so a
/// download interrupted before its profile was loaded cannot resume and is
/// rolled back.

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "rsp/common/bytes.hpp"
#include "rsp/common/expected.hpp"
#include "rsp/store/database.hpp"
#include "rsp/store/migrate.hpp"

namespace rsp::smdp {

inline constexpr std::string_view kSchemaComponent = "smdp";
std::span<const store::Migration> download_migrations();

/// Where a download stands. Final: Completed (downloaded, not enabled),
/// Enabled, Failed (its ISD-P deleted when it had one). CertificateSent:
/// ES8 message 1 went to the ISD-P and its random challenge came back (held
/// in memory only, as the ephemeral key after it): a restart there rolls
/// back as from any step before Loaded.
enum class DownloadState { Started, IsdpCreated, CertificateSent, KeysEstablished, Loaded, Completed, Enabled, Failed };
/// "started", "isdp-created", "certificate-sent", "keys-established", "loaded", "completed", "enabled", "failed".
std::string_view download_state_name(DownloadState s);
std::optional<DownloadState> parse_download_state(std::string_view name);
bool is_final(DownloadState s);

struct Download {
  std::int64_t id = 0;
  std::string eid;
  std::string iccid;
  DownloadState state = DownloadState::Started;
  Bytes isdp_aid;       ///< once CreateISDP succeeded
  std::string request;  ///< JSON of what ProfileDownloadCompleted and the enable need (no profile, no key)
  std::string error;    ///< why it failed (never key material)
  /// A Failed download's SGP.02 subject and reason codes, for the MNO's
  /// DownloadProfile result (es2_service.hpp): the SM-SR's when ES3 refused
  /// or expired a step, else the download's own. In memory only, not in
  /// the table.
  std::string subject_code, reason_code;
  std::int64_t updated_at = 0;
};

class DownloadTable {
 public:
  /// Migrates the schema and keeps `db`.
  static expected<std::unique_ptr<DownloadTable>, std::string> open(std::shared_ptr<store::Database> db);

  /// Stores a new download (its id assigned); returns the id.
  expected<std::int64_t, std::string> create(const Download& d);
  /// Writes `d`'s state, ISD-P AID and error.
  expected<void, std::string> update(const Download& d);
  expected<std::optional<Download>, std::string> get(std::int64_t id);
  /// Downloads not in a final state, oldest first.
  expected<std::vector<Download>, std::string> unfinished();

 private:
  explicit DownloadTable(std::shared_ptr<store::Database> db) : db_(std::move(db)) {}
  std::shared_ptr<store::Database> db_;
};

}  // namespace rsp::smdp
