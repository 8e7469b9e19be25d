#pragma once
/// Key-encryption key files (package_envelope.hpp): 32 random bytes, written
/// as 64 hex digits and a newline (a file of the 32 raw bytes is read too),
/// mode 0600. A key file that group or others can access is refused, like an
/// API key file. When no key file is named, a SQLite database keeps its key
/// beside it, in `<database>.kek`, made on first use; a PostgreSQL database
/// (shared by several instances) needs one named.

#include <filesystem>
#include <memory>
#include <string>

#include "rsp/common/expected.hpp"
#include "rsp/service/package_envelope.hpp"

namespace rsp::service {

/// The key in `file`; the message says why it is refused, never what it holds.
expected<KeyEncryptionKey, std::string> load_kek_file(const std::filesystem::path& file);
/// Writes a new key file (0600) with a fresh key from `rng`; never replaces
/// an existing file.
expected<KeyEncryptionKey, std::string> create_kek_file(const std::filesystem::path& file, crypto::Random& rng);
/// `<database>.kek`: a SQLite database's key file when none is named.
std::filesystem::path default_kek_file(const std::string& database);

struct DatabaseKek {
  std::shared_ptr<const KeyEncryptionKey> kek;
  std::filesystem::path file;  ///< the key file it came from
  bool created = false;        ///< made just now, beside the database
};
/// The KEK for `database`: from `kek_file` when one is named; else, for a
/// SQLite database, from default_kek_file(), made with a fresh key from
/// `rng` when missing; a postgresql:// database needs `kek_file`.
expected<DatabaseKek, std::string> kek_for_database(const std::string& kek_file, const std::string& database,
                                                    crypto::Random& rng);

}  // namespace rsp::service
