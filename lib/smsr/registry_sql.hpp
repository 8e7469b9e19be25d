#pragma once
// What the files of the SM-SR's registry (registry*.cpp) share: the storage
// error macros and the row helpers of the operation table. Private to lib/smsr.

#include <span>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "rsp/smsr/registry.hpp"

/// Returns the store error as an SmsrError (storage_error) from the enclosing function.
#define SMSR_DB_TRY_IMPL(tmp, decl, expr)                          \
  auto tmp = (expr);                                               \
  if (!tmp) return ::rsp::unexpected(storage_error(tmp.error())); \
  decl = std::move(tmp).value()
#define SMSR_DB_TRY(decl, expr) SMSR_DB_TRY_IMPL(RSP_CONCAT(smsr_db_try_, __LINE__), decl, expr)
#define SMSR_DB_TRY_VOID(expr)                                          \
  do {                                                                  \
    auto smsr_db_v = (expr);                                            \
    if (!smsr_db_v) return ::rsp::unexpected(storage_error(smsr_db_v.error())); \
  } while (0)

namespace rsp::smsr::registry_detail {

/// The columns operation_of() reads, in its order.
inline constexpr const char* kOperationColumns =
    "id, function, eid, iccid, caller, state, created_at, expires_at, finished_at, status, subject_code, "
    "reason_code, arguments";

Operation operation_of(const store::Row& r);
/// The SQL condition of an operation not yet ended.
std::string open_states_sql();
/// Queues `scripts` for operation `id` of `eid`, in the open transaction.
SmsrResult<void> queue_scripts(store::Database& db, std::int64_t id, std::string_view eid,
                               std::span<const Bytes> scripts);
SmsrResult<void> insert_audit(store::Database& db, const AuditEntry& e);
/// The error of a stored EIS that does not read back.
SmsrError corrupt(std::string_view eid, const std::string& what);

}  // namespace rsp::smsr::registry_detail
