#pragma once
// A private PostgreSQL server for one test program: initdb in a temporary
// folder, postgres listening only on a unix socket there, stopped and removed
// when the object goes away (also when the test fails). Uses the binaries of
// the Debian package; when they are missing or the server does not come up,
// ok() is false and why() says what happened, for GTEST_SKIP().
//
// PostgreSQL refuses to run as root, so under root the server runs as the
// `postgres` system user (runuser) with the folder handed over to it.

#include <filesystem>
#include <string>
#include <vector>

namespace rsp::test_support {

class PgServer {
 public:
  PgServer();
  ~PgServer();
  /// One server for the whole test program, started at first use and
  /// stopped when the program ends: suites that each need a database of
  /// their own share it rather than each starting a server.
  static PgServer& shared();
  PgServer(const PgServer&) = delete;
  PgServer& operator=(const PgServer&) = delete;

  bool ok() const { return ok_; }
  const std::string& why() const { return why_; }
  /// A libpq URL for `database` (user postgres, trust authentication).
  std::string url(const std::string& database = "postgres") const;
  /// Creates an empty database; false (and why()) on failure.
  bool create_database(const std::string& name);

  /// An outage: the server stops at once (as on a crash; its data stays),
  /// every connection to it breaks. resume() starts it again on the same
  /// socket. Only on a server of one's own, never on shared().
  bool pause();
  bool resume();

 private:
  int pg_ctl(const std::vector<std::string>& args);
  bool start();
  void stop();
  std::filesystem::path bindir_;
  std::filesystem::path dir_;
  int port_ = 0;
  bool as_postgres_ = false;
  std::string options_;  ///< the postgres options it was started with
  bool running_ = false;
  bool ok_ = false;
  std::string why_;
};

/// A database of its own for a test parameterised by engine: "sqlite" gives
/// a file `name`.db in `dir`, "postgresql" a fresh database `name` on
/// PgServer::shared(). `skip` says why PostgreSQL is not available (the test
/// skips), `error` why the database could not be made (the test fails).
struct EngineDatabase {
  std::string location;
  std::string skip;
  std::string error;
};
EngineDatabase engine_database(const std::string& engine, const std::filesystem::path& dir, const std::string& name);

}  // namespace rsp::test_support
