#include "rsp/store/open.hpp"

#include "rsp/store/postgresql.hpp"
#include "rsp/store/sqlite.hpp"

namespace rsp::store {

DbResult<std::unique_ptr<Database>> open_database(const std::string& where, OpenOptions options) {
  if (is_postgresql_url(where)) return open_postgresql(where, PgOptions{options.connections});
  return open_sqlite(where);
}

std::string describe_location(const std::string& where) { return redact_url(where); }

}  // namespace rsp::store
