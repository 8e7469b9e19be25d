#pragma once
/// The PostgreSQL engine of the database layer (libpqxx), for SM-DP+
/// instances that share one database. Values map as: integers BIGINT,
/// blobs BYTEA, text TEXT; parameters are sent as text and typed by the
/// server from their context.
///
/// Connections: a pool of up to PgOptions::connections. A transaction holds
/// one connection from begin() to its end, and the statements its thread runs
/// meanwhile go into it; any other statement borrows an idle connection for
/// its own duration (autocommit). Transactions run at READ COMMITTED, side by
/// side, across threads and processes: there is no lock of the engine's own.
/// Code written as "read, check, write" inside a transaction must therefore
/// lock what it reads (locking.hpp: row_lock) or check again as it writes
/// (a conditional UPDATE), and a transaction the server ends as a deadlock
/// victim reports DbError::Kind::Conflict, to be run again (retry_conflicts).

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "rsp/store/database.hpp"

namespace rsp::store {

/// True for a `postgresql://` or `postgres://` connection URL.
bool is_postgresql_url(std::string_view where);

/// The URL with its password (user:password@) replaced by "***", for
/// messages and logs; anything else is returned unchanged.
std::string redact_url(std::string_view where);

struct PgOptions {
  /// The most connections open at once: a server sizes it to its worker
  /// threads (and the few threads of its own that use the database).
  std::size_t connections = 1;
};

/// Connects to the database named by a libpq connection URL (one connection
/// at first, more as threads need them). Errors never contain the password.
DbResult<std::unique_ptr<Database>> open_postgresql(const std::string& url, PgOptions options = {});

}  // namespace rsp::store
