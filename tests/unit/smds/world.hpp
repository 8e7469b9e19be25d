#pragma once
/// Shared set-up of the SM-DS tests: the SM-DP+ tests' PKI (it holds the
/// DSauth and DStls identities too) and test-double eUICC, an SM-DS core
/// over a SQLite event store in a temporary folder, on a hand-moved clock.

#include <memory>
#include <string>

#include "fixture.hpp"
#include "rsp/crypto/random.hpp"
#include "rsp/service/clock.hpp"
#include "rsp/service/sql_outbox.hpp"
#include "rsp/smds/event_store.hpp"
#include "rsp/smds/identity.hpp"
#include "rsp/smds/server.hpp"
#include "rsp/store/sqlite.hpp"
#include "test_euicc.hpp"
#include "test_support/temp_dir.hpp"

namespace rsp::smds::testing {

inline const std::string kSmdsAddress = "smds.test.example";

struct SmdsWorld {
  explicit SmdsWorld(std::string forward_to = {}, std::string address = kSmdsAddress)
      : rng(Bytes{0x5D, 0x11}),
        clock(std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now())) {
    auto ids = IdentitySet::load_directory(smdpp::testing::test_pki_dir());
    if (!ids) throw std::runtime_error(ids.error().message);
    identities = std::make_shared<IdentitySet>(std::move(*ids));
    auto opened = store::open_sqlite(dir.path() / "smds.db");
    if (!opened) throw std::runtime_error(opened.error().message);
    db = std::shared_ptr<store::Database>(std::move(*opened));
    auto ob = service::SqlOutbox::open(db, std::string(kForwardOutbox), clock);
    if (!ob) throw std::runtime_error(ob.error().message);
    outbox = *ob;
    auto es = EventStore::open(db, outbox);
    if (!es) throw std::runtime_error(es.error().message);
    events = *es;
    ServerConfig cfg;
    cfg.address = address;
    cfg.forward_to = std::move(forward_to);
    cfg.max_sessions = 8;
    server = std::make_shared<Server>(cfg, identities, events, clock, rng);
  }

  smdpp::testing::TestEuicc euicc(crypto::Curve curve = crypto::Curve::NistP256) {
    return smdpp::testing::TestEuicc(smdpp::testing::test_euicc_credentials(curve), rng);
  }

  test_support::TempDir dir;
  crypto::DeterministicRandom rng;
  service::ManualClock clock;
  std::shared_ptr<IdentitySet> identities;
  std::shared_ptr<store::Database> db;
  std::shared_ptr<service::SqlOutbox> outbox;
  std::shared_ptr<EventStore> events;
  std::shared_ptr<Server> server;
};

}  // namespace rsp::smds::testing
