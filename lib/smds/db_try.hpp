#pragma once
// Library-internal: a storage failure as the SM-DS's execution error, marked
// `storage` (nothing was decided), and the macros that propagate it.
#include "rsp/smds/error.hpp"
#include "rsp/store/database.hpp"

namespace rsp::smds {

inline SmdsError storage_error(const store::DbError& e) {
  SmdsError out{codes::kExecutionError.subject, codes::kExecutionError.reason, "event store: " + e.message};
  out.storage = true;
  return out;
}

}  // namespace rsp::smds

#define SMDS_DB_TRY_IMPL(tmp, decl, expr)                                        \
  auto tmp = (expr);                                                             \
  if (!tmp) return ::rsp::unexpected(::rsp::smds::storage_error(tmp.error())); \
  decl = std::move(tmp).value()
#define SMDS_DB_TRY(decl, expr) SMDS_DB_TRY_IMPL(RSP_CONCAT(smds_db_try_, __LINE__), decl, expr)
#define SMDS_DB_TRY_VOID(expr)                                                            \
  do {                                                                                    \
    auto smds_db_v = (expr);                                                              \
    if (!smds_db_v) return ::rsp::unexpected(::rsp::smds::storage_error(smds_db_v.error())); \
  } while (0)
