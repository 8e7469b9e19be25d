#pragma once
// Shared set-up: an SM-DP+ inventory in a fresh SQLite file.
#include <memory>

#include "rsp/messages/iccid.hpp"
#include "rsp/smdpp/es2_service.hpp"
#include "rsp/smdpp/inventory.hpp"
#include "rsp/store/sqlite.hpp"
#include "test_euicc.hpp"
#include "test_support/temp_dir.hpp"

namespace rsp::smdpp::testing {

inline const char* const kEid = "89049032123451234512345678901235";

/// ICCID digits 8949000000000000NNN (19 digits) and its UPP.
inline std::string test_iccid(int n) {
  std::string s = std::to_string(n);
  return "8949000000000000" + std::string(3 - s.size(), '0') + s;
}
inline Bytes test_upp(int n, std::size_t extra = 16) { return make_test_upp(*messages::iccid_from_digits(test_iccid(n)), extra); }

/// A key-encryption key of 32 bytes `fill`.
inline std::shared_ptr<const KeyEncryptionKey> test_kek(std::uint8_t fill = 0x4B) {
  return std::make_shared<const KeyEncryptionKey>(std::move(*KeyEncryptionKey::make(Bytes(32, fill))));
}

struct StoreWorld {
  test_support::TempDir dir;
  ManualClock clock{TimePoint{std::chrono::seconds(1'800'000'000)}};
  crypto::DeterministicRandom rng{Bytes{7, 7}};
  std::shared_ptr<const KeyEncryptionKey> kek = test_kek();
  std::shared_ptr<store::Database> db;
  std::shared_ptr<Inventory> inv;
  std::unique_ptr<Es2Service> es2;

  StoreWorld() { reopen(); }
  void reopen() {
    es2.reset();
    inv.reset();
    db.reset();
    auto d = store::open_sqlite(dir.path() / "smdpp.db");
    if (!d) std::abort();
    db = std::shared_ptr<store::Database>(std::move(*d));
    auto i = Inventory::open(db, clock, {kek, &rng});
    if (!i) std::abort();
    inv = *i;
    es2 = std::make_unique<Es2Service>(inv, Es2Config{"smdp.test.example", 3}, rng);
  }
  /// Imports test profile n for `op` with `type`.
  std::string add(int n, const std::string& op = "op1", const std::string& type = "gold") {
    ImportProfile p;
    p.operator_name = op;
    p.profile_type = type;
    p.upp = test_upp(n);
    auto r = inv->import_profile(p);
    if (!r) std::abort();
    return *r;
  }
  /// Test profile n of op1, ordered for `eid` and released (DownloadOrder +
  /// ConfirmOrder); its matchingId.
  std::string released_order(int n, const std::string& eid) {
    const std::string iccid = add(n);
    if (!es2->download_order("op1", {eid, iccid, std::nullopt})) return {};
    ConfirmOrderRequest cr;
    cr.iccid = iccid;
    cr.release_flag = true;
    auto c = es2->confirm_order("op1", cr);
    return c ? c->matching_id : std::string();
  }
  ProfileState state(const std::string& iccid) { return (*inv->profile(iccid))->state; }
};

}  // namespace rsp::smdpp::testing
