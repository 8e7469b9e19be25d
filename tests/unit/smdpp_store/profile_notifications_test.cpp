// The profile's life after the download (SGP.22 v2.2.2 §3.5, §5.6.4): the
// StoreMetadataRequest asks the eUICC for its notifications, and the SM-DP+
// records the state on the eUICC that each verified notification reports and
// tells the operator; a notification that does not verify, names a profile
// it did not install there or comes again changes nothing.
#include <gtest/gtest.h>

#include "catalog_world.hpp"
#include "rsp/messages/iccid.hpp"

namespace rsp::smdpp::testing {
namespace {

namespace sg = asn1::sgp22;
namespace ev = notification_event;

constexpr std::size_t kEnableBit = 1, kDisableBit = 2, kDeleteBit = 3;

SqlCatalogOptions notifying(std::uint8_t events = ev::kAll) {
  SqlCatalogOptions o;
  o.cache_size = 16;
  o.notification_address = kAddress;
  o.notification_events = events;
  return o;
}

struct Installed : CatalogWorld {
  explicit Installed(SqlCatalogOptions o = notifying()) : CatalogWorld(std::move(o)) {}
  TestEuicc e{test_euicc_credentials(crypto::Curve::NistP256), rng};
  std::string iccid = test_iccid(1);
  Bytes iccid_ef = messages::iccid_from_digits(iccid).value_or(Bytes{});

  /// Orders, downloads and installs test profile 1 on `e` (its result has seqNumber 1).
  void install() {
    const std::string mid = order(1, std::nullopt, std::nullopt);
    auto init = server->initiate_authentication(e.initiate(kAddress));
    ASSERT_TRUE(init);
    auto auth = server->authenticate_client(*e.authenticate_server(*init, mid));
    ASSERT_TRUE(auth) << auth.error().message;
    ASSERT_TRUE(server->get_bound_profile_package(*e.prepare_download(*auth, std::nullopt)));
    ASSERT_TRUE(server->handle_notification(e.install_result(true)));
    ASSERT_EQ(state(iccid), ProfileState::Installed);
  }
  std::string card_state() { return (*inv->profile(iccid))->card_state; }
  /// The notificationPointIds queued for the operator, oldest first.
  std::vector<int> points() {
    std::vector<int> out;
    for (const auto& j : outbox()) out.push_back(j.value("notificationPointId", 0));
    return out;
  }
};

TEST(ProfileNotifications, TheMetadataAsksForTheConfiguredEventsAtTheSmdpAddress) {
  Installed w(notifying(ev::kEnable | ev::kDelete));
  const std::string mid = w.order(1, std::nullopt, std::nullopt);
  auto found = w.catalog->find(mid, w.e.eid());
  ASSERT_TRUE(found && *found && (*found)->profile);
  const auto& info = (*found)->profile->metadata().notificationConfigurationInfo;
  ASSERT_TRUE(info);
  ASSERT_EQ(info->size(), 1u);
  EXPECT_EQ(info->front().notificationAddress, kAddress);
  EXPECT_EQ(notification_event_mask(info->front().profileManagementOperation), ev::kEnable | ev::kDelete);
  // DER: bits 1 and 3 set, 4 unused bits (X.690 §11.2.2).
  EXPECT_EQ(info->front().profileManagementOperation.bytes, Bytes{0x50});
  EXPECT_EQ(info->front().profileManagementOperation.unused_bits, 4);
}

TEST(ProfileNotifications, NoAddressOrNoEventsAsksForNone) {
  Installed w(notifying(0));
  auto found = w.catalog->find(w.order(1, std::nullopt, std::nullopt), w.e.eid());
  ASSERT_TRUE(found && *found && (*found)->profile);
  EXPECT_FALSE((*found)->profile->metadata().notificationConfigurationInfo);
  Installed plain(SqlCatalogOptions{false, 16});
  auto other = plain.catalog->find(plain.order(1, std::nullopt, std::nullopt), plain.e.eid());
  ASSERT_TRUE(other && *other && (*other)->profile);
  EXPECT_FALSE((*other)->profile->metadata().notificationConfigurationInfo);
}

TEST(ProfileNotifications, AProfileTypeMayAskForOtherEvents) {
  SqlCatalogOptions o = notifying();
  o.notification_events_by_type["gold"] = ev::kDelete;  // world.hpp imports type "gold"
  Installed w(o);
  auto found = w.catalog->find(w.order(1, std::nullopt, std::nullopt), w.e.eid());
  ASSERT_TRUE(found && *found && (*found)->profile);
  const auto& info = (*found)->profile->metadata().notificationConfigurationInfo;
  ASSERT_TRUE(info);
  EXPECT_EQ(notification_event_mask(info->front().profileManagementOperation), ev::kDelete);
}

TEST(ProfileNotifications, InstallEnableDisableDeleteAreRecordedAndToldToTheOperator) {
  Installed w;
  w.install();
  EXPECT_EQ(w.card_state(), "installed");
  ASSERT_TRUE(w.server->handle_notification(w.e.other_notification(2, {kEnableBit}, w.iccid_ef)));
  EXPECT_EQ(w.card_state(), "enabled");
  ASSERT_TRUE(w.server->handle_notification(w.e.other_notification(3, {kDisableBit}, w.iccid_ef)));
  EXPECT_EQ(w.card_state(), "disabled");
  ASSERT_TRUE(w.server->handle_notification(w.e.other_notification(4, {kDeleteBit}, w.iccid_ef)));
  EXPECT_EQ(w.card_state(), "deleted");
  // The SGP.22 state of the profile stays installed (§3.1.2: final).
  EXPECT_EQ(w.state(w.iccid), ProfileState::Installed);
  EXPECT_EQ(w.points(), (std::vector<int>{3, 4, 5, 6, 7}));
  const auto last = w.outbox().back();
  EXPECT_EQ(last.value("eid", ""), w.e.eid());
  EXPECT_EQ(last.value("iccid", ""), w.iccid);
  EXPECT_EQ(last["notificationPointStatus"].value("status", ""), "Executed-Success");
  EXPECT_FALSE(last.value("resultData", "").empty());  // the signed notification
}

TEST(ProfileNotifications, ABadSignatureChangesNothing) {
  Installed w;
  w.install();
  auto forged = w.e.other_notification(2, {kEnableBit}, w.iccid_ef);
  auto o = *forged.otherSignedNotification();
  o.euiccNotificationSignature[5] ^= 0x01;
  forged.set_otherSignedNotification(std::move(o));
  EXPECT_FALSE(w.server->handle_notification(forged));
  EXPECT_EQ(w.card_state(), "installed");
  EXPECT_EQ(w.points(), (std::vector<int>{3, 4}));
}

TEST(ProfileNotifications, AnUnknownIccidChangesNothing) {
  Installed w;
  w.install();
  auto r = w.server->handle_notification(w.e.other_notification(2, {kEnableBit}));  // no profile of ours
  ASSERT_FALSE(r);
  EXPECT_FALSE(r.error().storage);  // acknowledged (204): sending it again changes nothing
  EXPECT_EQ(w.card_state(), "installed");
  EXPECT_EQ(w.points(), (std::vector<int>{3, 4}));
}

TEST(ProfileNotifications, AProfileNotYetInstalledIsNotChanged) {
  Installed w;
  w.order(1, std::nullopt, std::nullopt);  // released, never downloaded
  EXPECT_FALSE(w.server->handle_notification(w.e.other_notification(2, {kEnableBit}, w.iccid_ef)));
  EXPECT_EQ(w.card_state(), "");
  EXPECT_TRUE(w.points().empty());
}

TEST(ProfileNotifications, AnotherEuiccsNotificationChangesNothing) {
  Installed w;
  w.install();
  // Verified as signed by another eUICC (the core passes the EID its
  // certificate proved) naming the profile installed on the first one.
  ProfileNotification n{std::string(32, '9'), w.iccid_ef, ev::kEnable, 2, Bytes{0x30, 0x00}};
  auto r = w.catalog->record_profile_notification(n);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, NotificationRecord::OtherEuicc);
  n.eid = w.e.eid();
  EXPECT_EQ(w.catalog->record_profile_notification(n).value_or(NotificationRecord::NotRecorded),
            NotificationRecord::Recorded);
  EXPECT_EQ(w.card_state(), "enabled");
}

TEST(ProfileNotifications, AReplayedSequenceNumberChangesNothing) {
  Installed w;
  w.install();
  ASSERT_TRUE(w.server->handle_notification(w.e.other_notification(2, {kEnableBit}, w.iccid_ef)));
  ASSERT_TRUE(w.server->handle_notification(w.e.other_notification(3, {kDisableBit}, w.iccid_ef)));
  // The enable again (same seqNumber), and one at or below the installation result's.
  EXPECT_FALSE(w.server->handle_notification(w.e.other_notification(2, {kEnableBit}, w.iccid_ef)));
  EXPECT_FALSE(w.server->handle_notification(w.e.other_notification(1, {kEnableBit}, w.iccid_ef)));
  EXPECT_EQ(w.card_state(), "disabled");
  EXPECT_EQ(w.points(), (std::vector<int>{3, 4, 5, 6}));
}

TEST(ProfileNotifications, NothingIsRecordedAfterDelete) {
  Installed w;
  w.install();
  ASSERT_TRUE(w.server->handle_notification(w.e.other_notification(2, {kDeleteBit}, w.iccid_ef)));
  EXPECT_FALSE(w.server->handle_notification(w.e.other_notification(3, {kEnableBit}, w.iccid_ef)));
  EXPECT_EQ(w.card_state(), "deleted");
}

TEST(ProfileNotifications, AnInstallBitOrSeveralBitsAreRefused) {
  Installed w;
  w.install();
  EXPECT_FALSE(w.server->handle_notification(w.e.other_notification(2, {0}, w.iccid_ef)));
  EXPECT_FALSE(w.server->handle_notification(w.e.other_notification(3, {1, 2}, w.iccid_ef)));
  EXPECT_EQ(w.card_state(), "installed");
}

TEST(ProfileNotifications, EventNamesParse) {
  EXPECT_EQ(parse_notification_events("install,enable,disable,delete"), ev::kAll);
  EXPECT_EQ(parse_notification_events(" delete , enable"), ev::kDelete | ev::kEnable);
  EXPECT_EQ(parse_notification_events("none"), 0);
  EXPECT_EQ(parse_notification_events(""), 0);
  EXPECT_FALSE(parse_notification_events("enable,reboot"));
  EXPECT_EQ(notification_event_bits(0).bytes, Bytes{});
  EXPECT_EQ(notification_event_bits(ev::kAll).bytes, Bytes{0xF0});
  EXPECT_EQ(notification_event_bits(ev::kAll).unused_bits, 4);
  EXPECT_EQ(notification_event_bits(ev::kInstall).unused_bits, 7);
}

}  // namespace
}  // namespace rsp::smdpp::testing
