#pragma once
// A registry on a fresh database of the engine the test is parameterised
// with ("sqlite", or "postgresql" when a server can run here), with a fixed
// KEK and deterministic randomness.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>

#include "rsp/crypto/random.hpp"
#include "rsp/m2m/eis_json.hpp"
#include "rsp/smsr/registry.hpp"
#include "rsp/store/open.hpp"
#include "test_support/pg_server.hpp"
#include "test_support/sample_eis.hpp"
#include "test_support/temp_dir.hpp"

namespace rsp::smsr::testing {

inline std::shared_ptr<const service::KeyEncryptionKey> test_kek(std::uint8_t fill = 0x4B) {
  return std::make_shared<const service::KeyEncryptionKey>(std::move(*service::KeyEncryptionKey::make(Bytes(32, fill))));
}

inline m2m::Eis sample(const std::string& eid = "89049032123451234512345678901235") {
  return *m2m::eis_from_json(test_support::sample_eis(eid));
}

class RegistryTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    static std::atomic<int> counter{0};
    const std::string name = "smsr" + std::to_string(++counter);
    auto made = test_support::engine_database(GetParam(), dir_.path(), name);
    if (!made.skip.empty()) GTEST_SKIP() << made.skip;
    ASSERT_TRUE(made.error.empty()) << made.error;
    location_ = made.location;
    reopen();
  }
  void reopen(std::shared_ptr<const service::KeyEncryptionKey> kek = test_kek()) {
    registry_.reset();
    auto db = store::open_database(location_);
    ASSERT_TRUE(db) << db.error().message;
    db_ = std::move(*db);
    RegistryOptions o;
    o.kek = std::move(kek);
    o.rng = &rng_;
    o.clock = clock_;
    o.callback_url = [](const std::string& mno) { return "https://" + mno + ".example/callbacks"; };
    o.eis_cache = eis_cache_;
    if (with_reader_) {
      auto reader = store::open_database(location_);
      ASSERT_TRUE(reader) << reader.error().message;
      o.reader = std::move(*reader);
    }
    auto r = Registry::open(db_, std::move(o));
    ASSERT_TRUE(r) << r.error().message;
    registry_ = std::move(*r);
  }

  std::shared_ptr<service::ManualClock> clock_ =
      std::make_shared<service::ManualClock>(service::TimePoint(std::chrono::seconds(1'800'000'000)));
  test_support::TempDir dir_;
  std::string location_;
  crypto::DeterministicRandom rng_{Bytes{0x53, 0x52}};
  std::shared_ptr<store::Database> db_;
  std::shared_ptr<Registry> registry_;
  bool with_reader_ = false;  ///< reopen() gives the registry a reading connection of its own
  std::size_t eis_cache_ = 0;  ///< reopen()'s RegistryOptions::eis_cache
};

inline std::string engine_name(const ::testing::TestParamInfo<std::string>& info) { return info.param; }

}  // namespace rsp::smsr::testing
