#pragma once
/// The PostgreSQL engine of the database layer (libpqxx), for SM-DP+
/// instances that share one database. Values map as: integers BIGINT,
/// blobs BYTEA, text TEXT; parameters are sent as text and typed by the
/// server from their context.
///
/// Locking: every transaction (begin()) first takes one database-wide
/// advisory transaction lock, so write transactions of all connections run
/// one after the other exactly like SQLite's BEGIN IMMEDIATE. Code written
/// as "read, check, write" inside a transaction therefore stays correct when
/// several processes share the database; single statements outside a
/// transaction run in autocommit and do not wait for that lock.

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

/// Connects to the database named by a libpq connection URL. Errors never
/// contain the password.
DbResult<std::unique_ptr<Database>> open_postgresql(const std::string& url);

}  // namespace rsp::store
