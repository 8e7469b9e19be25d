#pragma once
/// One entry point for every command that opens a database: a
/// `postgresql://` (or `postgres://`) URL selects the PostgreSQL engine,
/// anything else is a SQLite file path.

#include <cstddef>
#include <memory>
#include <string>

#include "rsp/store/database.hpp"

namespace rsp::store {

struct OpenOptions {
  /// PostgreSQL: the size of the connection pool (postgresql.hpp); a
  /// SQLite database has one connection, whatever this says.
  std::size_t connections = 1;
};

DbResult<std::unique_ptr<Database>> open_database(const std::string& where, OpenOptions options = {});

/// `where` as it may appear in messages (a URL's password redacted).
std::string describe_location(const std::string& where);

}  // namespace rsp::store
