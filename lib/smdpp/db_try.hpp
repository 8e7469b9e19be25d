#pragma once
// Library-internal: propagate a storage error as an SM-DP+ execution error.
#include "rsp/smdpp/inventory.hpp"

#define RSP_DB_TRY_IMPL(tmp, decl, expr)                                      \
  auto tmp = (expr);                                                          \
  if (!tmp) return ::rsp::unexpected(::rsp::smdpp::storage_error(tmp.error())); \
  decl = std::move(tmp).value()
#define RSP_DB_TRY(decl, expr) RSP_DB_TRY_IMPL(RSP_CONCAT(rsp_db_try_, __LINE__), decl, expr)
#define RSP_DB_TRY_VOID(expr)                                                         \
  do {                                                                                \
    auto rsp_db_v = (expr);                                                           \
    if (!rsp_db_v) return ::rsp::unexpected(::rsp::smdpp::storage_error(rsp_db_v.error())); \
  } while (0)
