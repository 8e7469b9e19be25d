#pragma once
// An SM-DS core for the fuzzers: no identity (ES11 stops at the identity
// choice unless the input gets past the decoder), events in a SQLite file of
// this process.
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>

#include "rsp/crypto/random.hpp"
#include "rsp/smds/server.hpp"
#include "rsp/store/sqlite.hpp"

namespace rsp::smds::fuzzing {

struct World {
  crypto::DeterministicRandom rng{Bytes{1, 2, 3}};
  service::ManualClock clock{service::TimePoint{std::chrono::seconds(1'800'000'000)}};
  std::shared_ptr<Server> server;
  World() {
    const auto file = std::filesystem::temp_directory_path() / ("rsp_smds_fuzz_" + std::to_string(::getpid()) + ".db");
    std::filesystem::remove(file);
    auto db = store::open_sqlite(file);
    if (!db) std::abort();
    auto events = EventStore::open(std::shared_ptr<store::Database>(std::move(*db)));
    if (!events) std::abort();
    ServerConfig cfg;
    cfg.address = "smds.fuzz.example";
    cfg.max_sessions = 64;
    server = std::make_shared<Server>(cfg, std::make_shared<IdentitySet>(), *events, clock, rng);
  }
};

}  // namespace rsp::smds::fuzzing
