#pragma once
// What the commands that open a role's database (`rsp smdpp`, `rsp smsr serve`) share about
// the secrets kept in it: one warning line per SQLite file that group or
// others can read, and the key-encryption key of the stored profile
// packages (a named key file, or the one beside a SQLite database, made with
// a notice the first time).

#include <fmt/core.h>

#include <memory>
#include <string>
#include <string_view>

#include "command.hpp"
#include "rsp/crypto/random.hpp"
#include "rsp/service/kek_file.hpp"
#include "rsp/store/postgresql.hpp"
#include "rsp/store/sqlite.hpp"

namespace rsp::cli {

/// Warns, never fails, when group or others can read the SQLite database at
/// `database` or its -wal/-shm files (`who` starts each line).
inline void warn_if_database_readable(const std::string& database, const std::string& who) {
  if (database.empty() || store::is_postgresql_url(database)) return;
  for (const auto& f : store::sqlite_files_readable_by_others(database))
    fmt::print(stderr,
               "{}: WARNING: {} is mode {:04o}: group or others can read the database and the subscriber data "
               "in it (chmod 600 {})\n",
               who, f.path.string(), f.mode, f.path.string());
}

/// The key-encryption key for `database` (service::kek_for_database); exits
/// with the reason when there is none. A key file made just now is announced
/// with what it `protects`.
inline std::shared_ptr<const service::KeyEncryptionKey> kek_or_exit(
    const std::string& kek_file, const std::string& database, const std::string& who,
    std::string_view protects = "the subscriber keys in the stored profile packages") {
  auto k = service::kek_for_database(kek_file, database, crypto::system_random());
  if (!k) {
    fmt::print(stderr, "{}: {}\n", who, k.error());
    exit_with(1);
  }
  if (k->created)
    fmt::print(stderr,
               "{}: created the key-encryption key file {} (mode 0600, key id {}). It protects {}: back it up apart "
               "from the database, without it they cannot be read\n",
               who, k->file.string(), k->kek->id_hex(), protects);
  return k->kek;
}

}  // namespace rsp::cli
