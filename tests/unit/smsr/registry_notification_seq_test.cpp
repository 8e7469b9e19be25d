// The registry's record of the last eUICC notification applied to an EIS
// (Registry::notification_seq): stored with the change that applies it, or
// with the audit batch when it changed nothing; only ever moved forward (in
// serial number order, the card's counter wraps); kept across a reopening;
// gone with a hand-over, none for a new registration. With and without the
// EIS cache.

#include "fixture.hpp"
#include "rsp/smsr/notification_sequence.hpp"

namespace rsp::smsr::testing {
namespace {

using store::value;
using Seq = std::optional<std::uint32_t>;

static_assert(sequence_after(2, 1) && !sequence_after(1, 2) && !sequence_after(7, 7));
static_assert(sequence_after(0, 0xFFFF'FFFFu) && sequence_after(5, 0xFFFF'FFF0u) && !sequence_after(0xFFFF'FFF0u, 5));
// Half the space apart: neither comes after the other.
static_assert(!sequence_after(0x8000'0000u, 0) && !sequence_after(0, 0x8000'0000u));
static_assert(sequence_after(0x7FFF'FFFFu, 0) && !sequence_after(0x8000'0001u, 0));
static_assert(later_sequence(std::nullopt, 3) == Seq(3) && later_sequence(Seq(3), 2) == Seq(3) &&
              later_sequence(Seq(0xFFFF'FFFFu), 1) == Seq(1));

/// The engine, and the EIS cache off (0) or on.
class NotificationSeqTest : public RegistryTest {
 protected:
  void SetUp() override {
    RegistryTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    ASSERT_TRUE(registry_->register_eis(e_, 1000));
  }
  /// A change that applies notification `seq` (its audit line only).
  void apply(std::uint32_t seq) {
    Change c;
    c.notification_seq = seq;
    c.audit.push_back(line(seq));
    auto r = registry_->apply(e_.eid, c, 2000);
    ASSERT_TRUE(r) << r.error().message;
  }
  AuditEntry line(std::uint32_t seq) const {
    return {2000, "eUICC", "ES5.HandleNotification", e_.eid, "", "sequence " + std::to_string(seq)};
  }
  Seq seq() {
    auto r = registry_->notification_seq(e_.eid);
    EXPECT_TRUE(r) << r.error().message;
    return r ? *r : Seq(12345);
  }
  /// As stored, read past the registry.
  Seq stored() {
    auto row = db_->query_one("SELECT notification_seq FROM smsr_eis WHERE eid = $1", {value(e_.eid)});
    EXPECT_TRUE(row && *row);
    if (!row || !*row || (*row)->is_null(0)) return std::nullopt;
    return static_cast<std::uint32_t>((*row)->int64(0));
  }
  /// Each test runs with the EIS cache off, then on.
  template <class F>
  void with_and_without_cache(F f) {
    for (std::size_t cache : {std::size_t{0}, std::size_t{8}}) {
      SCOPED_TRACE(cache ? "EIS cache" : "no EIS cache");
      eis_cache_ = cache;
      with_reader_ = cache != 0 && GetParam() == "sqlite";
      reopen();
      Change gone;
      gone.handed_over = true;
      ASSERT_TRUE(registry_->apply(e_.eid, gone, 1500));
      ASSERT_TRUE(registry_->register_eis(e_, 1500));
      (void)registry_->eis(e_.eid, false);  // cached, when there is a cache
      f();
      if (::testing::Test::HasFatalFailure()) return;
    }
  }
  const m2m::Eis e_ = sample();
};

TEST_P(NotificationSeqTest, AChangeStoresItsSequenceNumberWhichOnlyMovesForwardAndSurvivesAReopening) {
  with_and_without_cache([&] {
    EXPECT_EQ(seq(), std::nullopt);  // none since registered
    apply(5);
    EXPECT_EQ(seq(), Seq(5));
    EXPECT_EQ(stored(), Seq(5));
    apply(3);  // an older one does not move it back (the caller checks first; the store too)
    EXPECT_EQ(seq(), Seq(5));
    EXPECT_EQ(stored(), Seq(5));
    apply(9);
    reopen();  // a restart: what was committed holds
    EXPECT_EQ(seq(), Seq(9));
    (void)registry_->eis(e_.eid, false);
    EXPECT_EQ(seq(), Seq(9));
  });
}

TEST_P(NotificationSeqTest, OneThatChangedNothingCountsAtOnceAndIsStoredWithTheAuditBatch) {
  with_and_without_cache([&] {
    apply(5);
    registry_->audit_later(line(7), 7);
    EXPECT_EQ(seq(), Seq(7));  // before its batch is written
    registry_->audit_later(line(6), 6);
    EXPECT_EQ(seq(), Seq(7));
    ASSERT_TRUE(registry_->flush_audit());
    EXPECT_EQ(stored(), Seq(7));
    // A change applied meanwhile with a later one is not moved back by a
    // batch that carries an earlier one.
    registry_->audit_later(line(8), 8);
    apply(10);
    ASSERT_TRUE(registry_->flush_audit());
    EXPECT_EQ(stored(), Seq(10));
    EXPECT_EQ(seq(), Seq(10));
    // Written by the registry's end too, and read back after a reopening.
    registry_->audit_later(line(11), 11);
    reopen();
    EXPECT_EQ(seq(), Seq(11));
  });
}

TEST_P(NotificationSeqTest, TheStoredNumberFollowsTheCountersWrapAround) {
  with_and_without_cache([&] {
    apply(0xFFFF'FFF0u);
    apply(2);  // after the wrap
    EXPECT_EQ(seq(), Seq(2));
    EXPECT_EQ(stored(), Seq(2));
    apply(0xFFFF'FFF5u);  // before it
    EXPECT_EQ(stored(), Seq(2));
    registry_->audit_later(line(0xFFFF'FFFFu), 0xFFFF'FFFFu);
    EXPECT_EQ(seq(), Seq(2));
    ASSERT_TRUE(registry_->flush_audit());
    EXPECT_EQ(stored(), Seq(2));
    registry_->audit_later(line(4), 4);
    ASSERT_TRUE(registry_->flush_audit());
    EXPECT_EQ(stored(), Seq(4));
    reopen();
    EXPECT_EQ(seq(), Seq(4));
  });
}

TEST_P(NotificationSeqTest, AHandOverTakesItAndANewRegistrationStartsWithout) {
  with_and_without_cache([&] {
    apply(9);
    registry_->audit_later(line(12), 12);  // not written yet
    Change gone;
    gone.handed_over = true;
    ASSERT_TRUE(registry_->apply(e_.eid, gone, 3000));
    EXPECT_EQ(seq(), std::nullopt);
    // Registered again (the eUICC handed back): the first notification applies.
    ASSERT_TRUE(registry_->register_eis(e_, 4000));
    EXPECT_EQ(seq(), std::nullopt);
    ASSERT_TRUE(registry_->flush_audit());
    EXPECT_EQ(stored(), std::nullopt);
    apply(3);
    EXPECT_EQ(seq(), Seq(3));
    // A refused registration (the EID is there) leaves the number alone.
    registry_->audit_later(line(4), 4);
    EXPECT_FALSE(registry_->register_eis(e_, 5000));
    EXPECT_EQ(seq(), Seq(4));
  });
}

INSTANTIATE_TEST_SUITE_P(Engines, NotificationSeqTest, ::testing::Values("sqlite", "postgresql"), engine_name);

}  // namespace
}  // namespace rsp::smsr::testing
