#pragma once
/// Versioned schema migrations. The table schema_version lists every applied
/// version; each pending migration runs in its own transaction together with
/// its schema_version row, so a failure leaves the previous version intact
/// and running the migrations again is harmless.

#include <span>
#include <string>

#include "rsp/store/database.hpp"

namespace rsp::store {

struct Migration {
  int version;        ///< 1, 2, ... strictly increasing
  std::string name;   ///< short description, stored with the version
  std::string sql;    ///< DDL/DML script (see Database::execute_script)
};

/// The highest applied version (0 for an empty database).
DbResult<int> schema_version(Database& db);

/// Applies the migrations newer than the database's version, in order, and
/// returns the resulting version. A database already at a version the list
/// does not know (written by a newer program) gives a Schema error.
DbResult<int> migrate(Database& db, std::span<const Migration> migrations);

}  // namespace rsp::store
