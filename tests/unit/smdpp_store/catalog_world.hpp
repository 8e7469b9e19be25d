#pragma once
// An SQL catalog under the SM-DP+ core over a fresh inventory (world.hpp),
// with ES2+ orders made the way an operator makes them.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "fixture.hpp"
#include "rsp/smdpp/sql_catalog.hpp"
#include "world.hpp"

namespace rsp::smdpp::testing {

struct CatalogWorld : StoreWorld {
  ManualClock server_clock{std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now())};
  std::shared_ptr<SqlProfileCatalog> catalog;
  std::unique_ptr<Server> server;
  explicit CatalogWorld(bool ppk = false) : CatalogWorld(SqlCatalogOptions{ppk, 16}) {}
  explicit CatalogWorld(SqlCatalogOptions options) {
    auto ids = IdentitySet::load_directory(test_pki_dir());
    if (!ids) std::abort();
    catalog = std::make_shared<SqlProfileCatalog>(inv, rng, options);
    ServerConfig cfg;
    cfg.address = kAddress;
    server = std::make_unique<Server>(cfg, std::make_shared<IdentitySet>(std::move(*ids)), catalog, server_clock, rng);
  }
  /// DownloadOrder + ConfirmOrder(release) for test profile n; returns the matchingId.
  std::string order(int n, const std::optional<std::string>& eid, const std::optional<std::string>& cc) {
    const std::string iccid = add(n);
    EXPECT_TRUE(es2->download_order("op1", {eid, iccid, std::nullopt}));
    ConfirmOrderRequest cr;
    cr.iccid = iccid;
    cr.confirmation_code = cc;
    cr.release_flag = true;
    auto c = es2->confirm_order("op1", cr);
    EXPECT_TRUE(c);
    return c ? c->matching_id : std::string();
  }
  std::vector<nlohmann::json> outbox() {
    std::vector<nlohmann::json> out;
    auto due = inv->due_outbox();
    EXPECT_TRUE(due);
    if (due)
      for (const auto& e : *due) out.push_back(nlohmann::json::parse(e.payload));
    return out;
  }
};

}  // namespace rsp::smdpp::testing
