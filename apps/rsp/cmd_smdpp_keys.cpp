// `rsp smdpp keys init|rotate`: the key-encryption key under which the
// SM-DP+ stores its profile packages (and with them the subscribers' K and
// OPc): a new key file, and the move of every package to a new key.

#include <fmt/core.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "command.hpp"
#include "rsp/crypto/random.hpp"
#include "rsp/smdpp/inventory.hpp"
#include "rsp/service/kek_file.hpp"
#include "rsp/store/open.hpp"
#include "rsp/store/postgresql.hpp"
#include "smdpp_keys.hpp"

namespace {

namespace fs = std::filesystem;
namespace sm = rsp::smdpp;

[[noreturn]] void fail(const std::string& message) {
  fmt::print(stderr, "rsp smdpp keys: {}\n", message);
  rsp::cli::exit_with(1);
}

sm::KeyEncryptionKey load_or_fail(const std::string& file) {
  auto k = rsp::service::load_kek_file(file);
  if (!k) fail(k.error());
  return std::move(*k);
}

void run_init(const std::string& out) {
  auto k = rsp::service::create_kek_file(out, rsp::crypto::system_random());
  if (!k) fail(k.error());
  fmt::print("{}: a new key-encryption key, key id {}, mode 0600\n", out, k->id_hex());
  fmt::print("Back it up apart from the database: without it the profile packages cannot be read.\n");
  rsp::cli::exit_with(0);
}

struct RotateArgs {
  std::string db, kek_file, new_kek_file;
};

void run_rotate(const RotateArgs& a) {
  // The key the packages are under now: named, or the one beside a SQLite
  // database; none when every package is still in clear.
  std::optional<sm::KeyEncryptionKey> old_kek;
  std::string old_file = a.kek_file;
  if (old_file.empty() && !rsp::store::is_postgresql_url(a.db)) {
    std::error_code ec;
    if (fs::exists(rsp::service::default_kek_file(a.db), ec)) old_file = rsp::service::default_kek_file(a.db).string();
  }
  if (!old_file.empty()) old_kek.emplace(load_or_fail(old_file));
  auto new_kek = std::make_shared<const sm::KeyEncryptionKey>(load_or_fail(a.new_kek_file));
  if (old_kek && old_kek->id() == new_kek->id())
    fail("--new-kek-file holds the key in use (key id " + new_kek->id_hex() + "); `rsp smdpp keys init` makes a new one");

  auto db = rsp::store::open_database(a.db);
  if (!db) fail(db.error().message);
  rsp::cli::warn_if_database_readable(a.db, "rsp smdpp keys");
  sm::SystemClock clock;
  std::shared_ptr<const sm::KeyEncryptionKey> from;
  if (old_kek) from = std::make_shared<const sm::KeyEncryptionKey>(std::move(*old_kek));
  auto inv = sm::Inventory::open(std::shared_ptr<rsp::store::Database>(std::move(*db)), clock, {from, nullptr});
  if (!inv) fail(inv.error().message);
  auto n = (*inv)->rewrap_packages(*new_kek);
  if (!n) fail(n.error().message + "; nothing was changed");

  fmt::print("{} package key{} re-wrapped under key id {}{}; {} package{} in clear encrypted; {} already under it\n",
             n->rewrapped, n->rewrapped == 1 ? "" : "s", new_kek->id_hex(),
             from ? " (from key id " + from->id_hex() + ")" : std::string(), n->encrypted,
             n->encrypted == 1 ? "" : "s", n->unchanged);
  if (from)
    fmt::print("The old key ({}) no longer opens any package.\n", old_file);
  fmt::print("Name {} from now on (--kek-file, kek_file){}; restart the SM-DP+ instances with it.\n", a.new_kek_file,
             a.kek_file.empty() && !old_file.empty() ? ", or move it to " + old_file : std::string());
  rsp::cli::exit_with(0);
}

}  // namespace

RSP_COMMAND_GROUP(smdpp_keys) {
  auto* g = rsp::cli::group_command(app, "smdpp", "SM-DP+ server and inventory");
  auto* keys = g->add_subcommand(
      "keys", "The key-encryption key under which the stored profile packages (with the subscribers' keys) are "
              "encrypted");
  keys->require_subcommand(1);

  auto out = std::make_shared<std::string>();
  auto* init = keys->add_subcommand("init", "Write a new key-encryption key file (32 random bytes as hex, mode 0600)");
  init->add_option("--out", *out, "The key file to write; an existing file is never replaced")->required();
  init->callback([out] { run_init(*out); });

  auto ra = std::make_shared<RotateArgs>();
  auto* rotate = keys->add_subcommand(
      "rotate",
      "Re-wrap the data key of every stored profile package under a new key-encryption key, in one transaction, and "
      "encrypt packages an older version stored in clear; afterwards the old key opens nothing");
  rotate->add_option("--db", ra->db, "SM-DP+ database: SQLite file or postgresql:// URL")->required();
  rotate->add_option("--kek-file", ra->kek_file,
                     "The key the packages are encrypted under now (default for a SQLite database: DB.kek when it "
                     "exists)");
  rotate->add_option("--new-kek-file", ra->new_kek_file, "The new key file (`rsp smdpp keys init --out FILE`)")
      ->required();
  rotate->callback([ra] { run_rotate(*ra); });
}
