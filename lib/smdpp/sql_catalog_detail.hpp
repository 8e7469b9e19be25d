#pragma once
// What the files of the SQL catalog (sql_catalog*.cpp) share: the
// notificationPointId values, the order row as read with its profile, the
// order lookups the events start from, and the conflict retry. Private to
// lib/smdpp.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "db_try.hpp"
#include "rsp/smdpp/sql_catalog.hpp"
#include "rsp/store/locking.hpp"

namespace rsp::smdpp::sql_catalog_detail {

// notificationPointId values of SGP.22 §5.3.5.
constexpr int kPointConfirmationFailure = 2;
constexpr int kPointBppDownload = 3;
constexpr int kPointBppInstallation = 4;
// The points of the notifications after the installation (enable, disable,
// delete). SGP.22 v2.2.2 §5.3.5 lists 1 to 4 for the download; these values
// could not be confirmed from the text at hand and are this SM-DP+'s choice,
// the next numbers in NotificationEvent order.
constexpr int kPointProfileEnabled = 5;
constexpr int kPointProfileDisabled = 6;
constexpr int kPointProfileDeleted = 7;

/// An active order with what the catalog uses of its profile, read by one
/// statement: each statement outside a transaction is a read transaction of
/// its own (wal-index locks), and the catalog reads both on every ES9+ step.
struct OrderRow {
  std::int64_t id = 0;
  std::optional<std::string> eid;  ///< the EID the order is bound to
  std::optional<Bytes> cc_hash;
  int cc_attempts_left = 0;
  std::optional<std::string> download_eid;  ///< the eUICC a BPP of this order went to
  std::string state;                        ///< the order's: open, blocked, done, cancelled
  std::optional<std::int64_t> expires_at;
  int download_attempts = 0;
  std::optional<Bytes> bpp_euicc_otpk;      ///< the otPK.EUICC.ECKA the issued BPP was bound with
  ProfileRecord profile;                    ///< with operator_name: the recipient of the order's progress
  /// Where the profile's package is kept, when the query read it with the
  /// order (find() by matchingId: one statement instead of two).
  std::optional<Inventory::StoredPackage> package;
};

/// Whether the order can be downloaded by `eid` now (SGP.22 v2.2.2 §5.6.2);
/// nullopt when the eUICC is refused as if there were no such order (a
/// download of another eUICC, an installed profile).
std::optional<OrderBlock> order_block(const OrderRow& o, const std::string& eid, std::int64_t now,
                                      int max_download_attempts);

/// The order id in `key` when it is "#<id>", the name this catalog gives
/// every order it hands out.
std::optional<std::int64_t> order_id_of(const std::string& key);

/// The active order the core names `key`: "#<id>", or a matchingId that
/// names one active order only (it may name orders of several operators).
/// Called inside the transaction that records an event of the order: the
/// order and profile rows stay as read until it ends (row_lock), so that what
/// it decides from them (attempts left, the state) still holds when it
/// writes, also when another instance records an event of the same order at
/// the same time.
SmdppResult<std::optional<OrderRow>> order_by_key(store::Database& db, const std::string& key);

/// Runs one of the catalog's transactions again when the database ended it
/// for a deadlock with another instance's (store::retry_conflicts).
template <class F>
auto retried(F&& attempt) {
  return store::retry_conflicts(std::forward<F>(attempt), [](const SmdppError& e) { return e.conflict; });
}

}  // namespace rsp::smdpp::sql_catalog_detail
