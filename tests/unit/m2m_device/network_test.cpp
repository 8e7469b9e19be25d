// The device's simulated network attach: coverage per ICCID from the start
// list and a file read on every tick; the card falls back once the enabled
// profile has had no coverage for the timeout, and the device is told.

#include "rsp/m2m_device/network.hpp"

#include <fstream>
#include <map>
#include <thread>

#include "m2m_fixture.hpp"
#include "rsp/apdu/status_words.hpp"
#include "rsp/messages/iccid.hpp"

namespace rsp::m2m_device {
namespace {

using m2m::IsdpState;
using std::chrono::seconds;

const std::string kBoot = "89000123456789012341";
const std::string kSecond = "89000123456789012352";

class Network : public euicc_m2m::test::M2mTest {
 protected:
  void SetUp() override {
    M2mTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_EQ(sw(m2m::EnableProfile{second_}), apdu::sw::kOk);
    file_ = tmp_.path() / "no-coverage";
  }
  NetworkOptions options() {
    NetworkOptions o;
    o.on_fallback = [this] { ++fallbacks_; };
    o.log = [this](const std::string& line) { log_.push_back(line); };
    return o;
  }
  void write(const std::string& text) { std::ofstream(file_) << text; }

  std::filesystem::path file_;
  int fallbacks_ = 0;
  std::vector<std::string> log_;
};

TEST_F(Network, TheFixtureIccidsAreTheOnesThisTestNames) {
  EXPECT_EQ(messages::iccid_to_digits(isdp(boot_).iccid), kBoot);
  EXPECT_EQ(messages::iccid_to_digits(isdp(second_).iccid), kSecond);
}

TEST_F(Network, AProfileListedAtStartFallsBackAfterTheTimeout) {
  auto o = options();
  o.no_coverage = {kSecond};
  NetworkSimulator net(card_->isd_r(), o);
  EXPECT_EQ(net.tick().value(), false);
  EXPECT_FALSE(isdp(second_).coverage);
  EXPECT_TRUE(isdp(boot_).coverage);
  now_ += seconds(59);
  EXPECT_EQ(net.tick().value(), false);
  EXPECT_EQ(fallbacks_, 0);
  now_ += seconds(1);
  EXPECT_EQ(net.tick().value(), true);
  EXPECT_EQ(fallbacks_, 1);
  EXPECT_EQ(isdp(boot_).state, IsdpState::kEnabled);
  EXPECT_EQ(isdp(second_).state, IsdpState::kDisabled);
  EXPECT_EQ(card_->isd_r().pending_notifications().back().type, m2m::NotificationType::kProfileChangeAfterFallback);
  // Once on the bootstrap profile, which has coverage, nothing more happens.
  now_ += seconds(600);
  EXPECT_EQ(net.tick().value(), false);
  EXPECT_EQ(fallbacks_, 1);
}

TEST_F(Network, TheFileMovesTheDeviceInAndOutOfCoverage) {
  auto o = options();
  o.file = file_;
  NetworkSimulator net(card_->isd_r(), o);
  EXPECT_EQ(net.tick().value(), false);  // no file yet: coverage everywhere
  write("# the second profile's network is down\n" + kSecond + "  \n\n");
  EXPECT_EQ(net.tick().value(), false);
  EXPECT_FALSE(isdp(second_).coverage);
  now_ += seconds(30);
  write("");  // back before the timeout: the wait starts again
  EXPECT_EQ(net.tick().value(), false);
  EXPECT_TRUE(isdp(second_).coverage);
  write(kSecond + "\n");
  now_ += seconds(40);
  EXPECT_EQ(net.tick().value(), false);
  now_ += seconds(40);
  EXPECT_EQ(net.tick().value(), false);
  now_ += seconds(20);
  EXPECT_EQ(net.tick().value(), true);
  EXPECT_EQ(isdp(boot_).state, IsdpState::kEnabled);
  // The coverage is kept in the card folder: it survives a restart.
  reopen();
  EXPECT_FALSE(isdp(second_).coverage);
}

TEST_F(Network, ABadFileLeavesCoverageAsItWasAndIsLoggedOnce) {
  auto o = options();
  o.file = file_;
  NetworkSimulator net(card_->isd_r(), o);
  write(kSecond + "\n");
  ASSERT_TRUE(net.tick());
  ASSERT_FALSE(isdp(second_).coverage);
  write("not-an-iccid\n");
  auto r = net.tick();
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find("line 1"), std::string::npos) << r.error();
  EXPECT_FALSE(isdp(second_).coverage);  // unchanged
  EXPECT_FALSE(net.tick());
  EXPECT_EQ(log_.size(), 1u);
  // The card is still polled: the fallback comes on time.
  now_ += seconds(60);
  EXPECT_FALSE(net.tick());
  EXPECT_EQ(fallbacks_, 1);
}

TEST_F(Network, UnknownIccidsAreReportedAndChangeNothing) {
  auto unknown = apply_coverage(card_->isd_r(), {"8944000000000000011"});
  ASSERT_TRUE(unknown);
  EXPECT_EQ(*unknown, std::vector<std::string>{"8944000000000000011"});
  EXPECT_TRUE(isdp(second_).coverage);
  EXPECT_TRUE(isdp(boot_).coverage);
}

TEST_F(Network, UnchangedCoverageIsNotSavedAgain) {
  ASSERT_TRUE(apply_coverage(card_->isd_r(), {kSecond}));
  const auto slots = dir_ / "m2m";
  std::map<std::string, std::filesystem::file_time_type> before;
  for (const auto& e : std::filesystem::directory_iterator(slots)) before[e.path().string()] = e.last_write_time();
  ASSERT_TRUE(apply_coverage(card_->isd_r(), {kSecond}));
  for (const auto& e : std::filesystem::directory_iterator(slots))
    EXPECT_EQ(before[e.path().string()], e.last_write_time()) << e.path();
}

TEST_F(Network, TheThreadTicksUntilStopped) {
  auto o = options();
  o.no_coverage = {kSecond};
  o.interval = std::chrono::milliseconds(5);
  NetworkSimulator net(card_->isd_r(), o);
  net.start();
  for (int i = 0; i < 400 && isdp(second_).coverage; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  net.stop();
  EXPECT_FALSE(isdp(second_).coverage);
  EXPECT_EQ(isdp(second_).state, IsdpState::kEnabled);  // the clock stood still
}

}  // namespace
}  // namespace rsp::m2m_device
