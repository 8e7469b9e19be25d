// ES10b.LoadBoundProfilePackage (SGP.22 §5.7.6) end to end: the simulated
// eUICC receives Bound Profile Packages made by the real SM-DP+ core, cut as
// an LPA cuts them, and installs them or refuses them with the spec's result.

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <random>

#include "download_rig.hpp"
#include "rsp/asn1/upp.hpp"
#include "rsp/crypto/ecdsa.hpp"
#include "rsp/messages/iccid.hpp"
#include "rsp/pki/certificate.hpp"

namespace rsp::euicc::test {
namespace {

using Cmd = sg::BppCommandId_values;
using Reason = sg::ErrorReason_values;
/// {bppCommandId, errorReason} of a failed installation, {-1, -1} on success.
using Outcome = std::pair<std::int64_t, std::int64_t>;
const Outcome kInstalled{-1, -1};

Bytes iccid(int n) { return *messages::iccid_from_digits("89049032000000" + std::to_string(100000 + n)); }

Bytes bpp_der(const sg::GetBoundProfilePackageOk& ok) { return asn1::encode(ok.boundProfilePackage); }

sg::ProfileInstallationResult result_of(const expected<Bytes, std::uint16_t>& answer) {
  EXPECT_TRUE(answer.has_value()) << "status " << std::hex << (answer ? 0 : answer.error());
  if (!answer) return {};
  auto pir = asn1::decode<sg::ProfileInstallationResult>(*answer);
  EXPECT_TRUE(pir.has_value()) << to_hex(*answer);
  return pir ? *pir : sg::ProfileInstallationResult{};
}

/// The error a result reports, or {-1, -1} on success.
Outcome error_of(const sg::ProfileInstallationResult& pir) {
  const auto* e = pir.profileInstallationResultData.finalResult.errorResult();
  return e ? std::pair{e->bppCommandId, e->errorReason} : std::pair<std::int64_t, std::int64_t>{-1, -1};
}

class LoadBpp : public ::testing::Test {
 protected:
  test_support::TempDir tmp_;
  DownloadRig rig_{tmp_.path() / "card"};
};

TEST_F(LoadBpp, InstallsTheProfileAndKeepsASignedResult) {
  rig_.add_order("M-1", iccid(1));
  auto bpp = rig_.authenticate_and_bind("M-1");
  ASSERT_TRUE(bpp);
  auto pieces = split_bpp(bpp_der(*bpp));
  ASSERT_GT(pieces.size(), 10u);
  // every piece but the last is acknowledged with an empty answer
  for (std::size_t i = 0; i + 1 < pieces.size(); ++i) {
    auto r = rig_.es10(pieces[i]);
    ASSERT_TRUE(r.has_value()) << i;
    ASSERT_TRUE(r->empty()) << i;
  }
  auto pir = result_of(rig_.es10(pieces.back()));
  const auto* ok = pir.profileInstallationResultData.finalResult.successResult();
  ASSERT_NE(ok, nullptr);
  EXPECT_EQ(pir.profileInstallationResultData.transactionId, bpp->transactionId);
  EXPECT_EQ(pir.profileInstallationResultData.notificationMetadata.notificationAddress, smdpp::testing::kAddress);
  EXPECT_EQ(pir.profileInstallationResultData.notificationMetadata.iccid, std::optional<Bytes>(iccid(1)));
  ASSERT_TRUE(pir.profileInstallationResultData.smdpOid);
  EXPECT_EQ(pir.profileInstallationResultData.smdpOid->to_string(), "2.999.10");

  auto s = rig_.state();
  ASSERT_EQ(s.profiles.size(), 1u);
  EXPECT_EQ(s.profiles[0].iccid, iccid(1));
  EXPECT_EQ(s.profiles[0].isdp_aid, ok->aid);
  EXPECT_FALSE(s.profiles[0].enabled);
  EXPECT_EQ(s.profiles[0].profile_name, "Test profile M-1");
  auto content = rig_.store->read_content(s.profiles[0].content_file);
  ASSERT_TRUE(content.has_value());
  EXPECT_TRUE(asn1::decode_profile_package(*content).has_value());

  // GetProfilesInfo shows it; the install notification is listed and verifies at the SM-DP+
  auto list = rig_.call<sg::ProfileInfoListResponse>(sg::ProfileInfoListRequest{});
  ASSERT_NE(list.profileInfoListOk(), nullptr);
  ASSERT_EQ(list.profileInfoListOk()->size(), 1u);
  EXPECT_EQ(list.profileInfoListOk()->front().iccid, std::optional<Bytes>(iccid(1)));
  auto pending = rig_.call<sg::RetrieveNotificationsListResponse>(sg::RetrieveNotificationsListRequest{});
  ASSERT_NE(pending.notificationList(), nullptr);
  ASSERT_EQ(pending.notificationList()->size(), 1u);
  auto handled = rig_.world.server->handle_notification(pending.notificationList()->front());
  ASSERT_TRUE(handled) << handled.error().message;
  EXPECT_TRUE(handled->install_success);
  EXPECT_EQ(rig_.world.catalog->events("M-1"),
            (std::vector<smdpp::OrderEvent>{smdpp::OrderEvent::BppIssued, smdpp::OrderEvent::Installed}));
  sg::NotificationSentRequest sent;
  sent.seqNumber = pir.profileInstallationResultData.notificationMetadata.seqNumber;
  EXPECT_EQ(rig_.call<sg::NotificationSentResponse>(sent).deleteNotificationStatus, 0);

  // the session is over: the package cannot be replayed
  EXPECT_EQ(rig_.es10(pieces.front()).error(), apdu::sw::kConditionsNotSatisfied);
}

// SGP.22 v2.2.2 §2.5.5: the StoreMetadataRequest split over several '88'
// segments (as a profile type's configuration may ask) is put back together
// and installed; the default keeps short metadata in one segment.
TEST_F(LoadBpp, MetadataSplitOverSeveral88SegmentsIsInstalled) {
  smdpp::ProfileMetadataInput meta{"Test SP", "A profile whose metadata spans several segments", 2, 16};
  auto split = smdpp::PreparedProfile::prepare(smdpp::testing::make_test_upp(iccid(9), 3000), meta, false,
                                               rig_.world.rng);
  ASSERT_TRUE(split.has_value()) << split.error().message;
  rig_.world.catalog->add(smdpp::ProfileOrder{"M-9", rig_.eid(), std::nullopt, 3, *split});
  auto bpp = rig_.authenticate_and_bind("M-9");
  ASSERT_TRUE(bpp);
  const auto& seq88 = bpp->boundProfilePackage.sequenceOf88;
  EXPECT_EQ(seq88.size(), ((*split)->metadata_der().size() + 15) / 16);
  ASSERT_GT(seq88.size(), 3u);
  EXPECT_EQ(error_of(result_of(rig_.load(split_bpp(bpp_der(*bpp))))), kInstalled);
  auto state = rig_.state();
  const auto* installed = state.find_by_iccid((*split)->iccid());
  ASSERT_NE(installed, nullptr);
  EXPECT_EQ(installed->profile_name, meta.profile_name);

  meta.metadata_segment_size = 0;
  auto whole = smdpp::PreparedProfile::prepare(smdpp::testing::make_test_upp(iccid(10), 3000), meta, false,
                                               rig_.world.rng);
  ASSERT_TRUE(whole.has_value());
  rig_.world.catalog->add(smdpp::ProfileOrder{"M-10", rig_.eid(), std::nullopt, 3, *whole});
  auto one = rig_.authenticate_and_bind("M-10");
  ASSERT_TRUE(one);
  EXPECT_EQ(one->boundProfilePackage.sequenceOf88.size(), 1u);
}

TEST_F(LoadBpp, ProfileProtectionKeyAndAnyCutOfTheStream) {
  // PPK (ReplaceSessionKeys in the second '87' sequence), whole package in one command
  rig_.add_order("M-PPK", iccid(2), true);
  auto bpp = rig_.authenticate_and_bind("M-PPK");
  ASSERT_TRUE(bpp);
  ASSERT_TRUE(bpp->boundProfilePackage.secondSequenceOf87);
  EXPECT_EQ(error_of(result_of(rig_.es10(bpp_der(*bpp)))), kInstalled);

  // 97-byte pieces that cut through tags, lengths and segments
  rig_.add_order("M-CUT", iccid(3));
  bpp = rig_.authenticate_and_bind("M-CUT");
  ASSERT_TRUE(bpp);
  const Bytes der = bpp_der(*bpp);
  std::vector<Bytes> pieces;
  for (std::size_t off = 0; off < der.size(); off += 97)
    pieces.emplace_back(der.begin() + static_cast<std::ptrdiff_t>(off),
                        der.begin() + static_cast<std::ptrdiff_t>(std::min(der.size(), off + 97)));
  EXPECT_EQ(error_of(result_of(rig_.load(pieces))), kInstalled);
  EXPECT_EQ(rig_.state().profiles.size(), 2u);
}

TEST_F(LoadBpp, TamperedSegmentIsRefusedAndNothingIsInstalled) {
  rig_.add_order("M-T", iccid(4));
  auto bpp = rig_.authenticate_and_bind("M-T");
  ASSERT_TRUE(bpp);
  auto pieces = split_bpp(bpp_der(*bpp));
  pieces[pieces.size() - 2][20] ^= 0x01;  // inside a profile segment's ciphertext
  auto pir = result_of(rig_.load(pieces));
  EXPECT_EQ(error_of(pir), Outcome(Cmd::loadProfileElements, Reason::scp03tSecurityError));
  EXPECT_TRUE(rig_.state().profiles.empty());
  // the failure is reported to the SM-DP+ as the install notification
  ASSERT_EQ(rig_.state().notifications.size(), 1u);
  auto handled = rig_.world.server->handle_notification(
      *asn1::decode<sg::PendingNotification>(rig_.state().notifications[0].pending_der));
  ASSERT_TRUE(handled) << handled.error().message;
  EXPECT_FALSE(handled->install_success);
  // the rest of the package is not accepted any more
  EXPECT_FALSE(rig_.es10(pieces.back()).has_value());
}

TEST_F(LoadBpp, InitialiseSecureChannelChecks) {
  struct Case {
    const char* name;
    std::function<void(sg::InitialiseSecureChannelRequest&)> tamper;
    std::int64_t reason;
  };
  const std::vector<Case> cases = {
      {"signature", [](auto& r) { r.smdpSign[5] ^= 1; }, Reason::invalidSignature},
      {"transactionId", [](auto& r) { r.transactionId[0] ^= 1; }, Reason::invalidTransactionId},
      {"remoteOpId", [](auto& r) { r.remoteOpId = 2; }, Reason::unsupportedRemoteOperationType},
      {"keyType", [](auto& r) { r.controlRefTemplate.keyType = {0x80}; }, Reason::unsupportedCrtValues},
  };
  int n = 10;
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string mid = std::string("M-ISC-") + c.name;
    rig_.add_order(mid, iccid(n++));
    auto bpp = rig_.authenticate_and_bind(mid);
    ASSERT_TRUE(bpp);
    c.tamper(bpp->boundProfilePackage.initialiseSecureChannelRequest);
    auto pieces = split_bpp(bpp_der(*bpp));
    auto pir = result_of(rig_.es10(pieces.front()));  // the result comes at once
    EXPECT_EQ(error_of(pir), Outcome(Cmd::initialiseSecureChannel, c.reason));
  }
  EXPECT_TRUE(rig_.state().profiles.empty());
}

TEST_F(LoadBpp, SameIccidTwiceIsRefusedAtStoreMetadata) {
  rig_.add_order("M-A", iccid(20));
  rig_.add_order("M-B", iccid(20));
  auto a = rig_.authenticate_and_bind("M-A");
  ASSERT_TRUE(a);
  EXPECT_EQ(error_of(result_of(rig_.load(split_bpp(bpp_der(*a))))), kInstalled);
  auto b = rig_.authenticate_and_bind("M-B");
  ASSERT_TRUE(b);
  EXPECT_EQ(error_of(result_of(rig_.load(split_bpp(bpp_der(*b))))),
            Outcome(Cmd::storeMetadata, Reason::installFailedDueToIccidAlreadyExistsOnEuicc));
  EXPECT_EQ(rig_.state().profiles.size(), 1u);
}

TEST_F(LoadBpp, StructureErrorsAndMissingSession) {
  // no PrepareDownload in this session
  Bytes lone = {0xBF, 0x36, 0x03, 0xBF, 0x23, 0x00};
  EXPECT_EQ(rig_.es10(lone).error(), apdu::sw::kConditionsNotSatisfied);
  // sequences out of order: A1 right after the InitialiseSecureChannel
  rig_.add_order("M-S", iccid(30));
  auto bpp = rig_.authenticate_and_bind("M-S");
  ASSERT_TRUE(bpp);
  auto pieces = split_bpp(bpp_der(*bpp));
  ASSERT_TRUE(rig_.es10(pieces[0]).has_value());
  Bytes a1 = {0xA1, 0x03, 0x88, 0x01, 0x00};
  EXPECT_EQ(error_of(result_of(rig_.es10(a1))),
            Outcome(Cmd::configureISDP, Reason::scp03tStructureError));
  EXPECT_TRUE(rig_.state().profiles.empty());
}

// Some SM-DP+ servers send '86' segments of 1036 bytes (1020 plus padding):
// the card refuses any segment above SGP.22's 1020 bytes (§2.5.3), says so in
// words, and names loadProfileElements, the command of the A3 sequence the
// segment is in (not storeMetadata, the sequence before it).
TEST_F(LoadBpp, ASegmentOverTheSgp22LimitIsRefusedAgainstLoadProfileElements) {
  struct Case {
    std::size_t value;  // the '86' value: tag and 3 length octets come on top
    Outcome outcome;
    std::string words;
  };
  const std::vector<Case> cases = {
      {1032, Outcome(Cmd::loadProfileElements, Reason::scp03tStructureError),
       "segment of 1036 bytes exceeds SGP.22's 1020-byte limit"},
      {1017, Outcome(Cmd::loadProfileElements, Reason::scp03tStructureError),
       "segment of 1021 bytes exceeds SGP.22's 1020-byte limit"},
      // At the limit the size passes and the forged MAC is what fails.
      {1016, Outcome(Cmd::loadProfileElements, Reason::scp03tSecurityError), ""},
  };
  int n = 60;
  for (const auto& c : cases) {
    SCOPED_TRACE(c.value);
    const std::string mid = "M-SEG-" + std::to_string(c.value);
    rig_.add_order(mid, iccid(n++));
    auto bpp = rig_.authenticate_and_bind(mid);
    ASSERT_TRUE(bpp);
    ASSERT_FALSE(bpp->boundProfilePackage.sequenceOf86.empty());
    bpp->boundProfilePackage.sequenceOf86.front() = Bytes(c.value, 0x5A);
    auto pir = result_of(rig_.load(split_bpp(bpp_der(*bpp))));
    EXPECT_EQ(error_of(pir), c.outcome);
    EXPECT_EQ(rig_.isd_r->last_load_error(), c.words);
  }
  EXPECT_TRUE(rig_.state().profiles.empty());
}

// A card made with lenient segments (rsp euicc create --lenient-segments)
// takes the 1036-byte segment past the size check, so the forged segment is
// refused for its MAC as any other, not for its size; above the lenient bound
// the refusal is in words again. A strict card refuses the same segment.
TEST_F(LoadBpp, LenientSegmentsTakeA1036ByteSegmentUpToTheirBound) {
  auto load_with_first_86 = [&](const std::string& mid, int n, std::size_t value) {
    rig_.add_order(mid, iccid(n));
    auto bpp = rig_.authenticate_and_bind(mid);
    EXPECT_TRUE(bpp);
    if (!bpp) return Outcome{};
    bpp->boundProfilePackage.sequenceOf86.front() = Bytes(value, 0x5A);
    return error_of(result_of(rig_.load(split_bpp(bpp_der(*bpp)))));
  };
  // Strict by default.
  EXPECT_FALSE(rig_.state().lenient_segments);
  EXPECT_EQ(load_with_first_86("M-STRICT", 70, 1032), Outcome(Cmd::loadProfileElements, Reason::scp03tStructureError));
  EXPECT_EQ(rig_.isd_r->last_load_error(), "segment of 1036 bytes exceeds SGP.22's 1020-byte limit");

  // The option as the card keeps it in its state.
  auto s = rig_.state();
  s.lenient_segments = true;
  ASSERT_TRUE(rig_.store->save(s));
  rig_.reopen();
  EXPECT_TRUE(rig_.state().lenient_segments);
  EXPECT_EQ(load_with_first_86("M-LENIENT", 71, 1032), Outcome(Cmd::loadProfileElements, Reason::scp03tSecurityError));
  EXPECT_EQ(rig_.isd_r->last_load_error(), "");
  // At the bound: taken; one byte over: refused in words.
  EXPECT_EQ(load_with_first_86("M-BOUND", 72, kLenientMaxSegment - 4),
            Outcome(Cmd::loadProfileElements, Reason::scp03tSecurityError));
  EXPECT_EQ(load_with_first_86("M-OVER", 73, kLenientMaxSegment - 3),
            Outcome(Cmd::loadProfileElements, Reason::scp03tStructureError));
  EXPECT_EQ(rig_.isd_r->last_load_error(), "segment of " + std::to_string(kLenientMaxSegment + 1) +
                                                " bytes exceeds this lenient card's " +
                                                std::to_string(kLenientMaxSegment) + "-byte limit");
  EXPECT_TRUE(rig_.state().profiles.empty());
}

TEST_F(LoadBpp, CancelSessionIsSignedAndAcceptedByTheSmdp) {
  rig_.add_order("M-C", iccid(40));
  auto bpp = rig_.authenticate_and_bind("M-C");
  ASSERT_TRUE(bpp);
  sg::CancelSessionRequest req;
  req.transactionId = bpp->transactionId;
  req.reason = sg::CancelSessionReason_values::endUserRejection;
  auto resp = rig_.call<sg::CancelSessionResponse>(req);
  const auto* ok = resp.cancelSessionResponseOk();
  ASSERT_NE(ok, nullptr);
  EXPECT_EQ(ok->euiccCancelSessionSigned.smdpOid.to_string(), "2.999.10");
  EXPECT_TRUE(rig_.world.server->cancel_session(sg::CancelSessionRequestEs9{bpp->transactionId, resp}));
  // the session is gone on the card too
  EXPECT_EQ(rig_.es10(split_bpp(bpp_der(*bpp)).front()).error(), apdu::sw::kConditionsNotSatisfied);
  auto again = rig_.call<sg::CancelSessionResponse>(req);
  ASSERT_NE(again.cancelSessionResponseError(), nullptr);
  EXPECT_EQ(*again.cancelSessionResponseError(),
            sg::CancelSessionResponse::cancelSessionResponseError_values::invalidTransactionId);
}

/// kill -9 of the card process at several moments of a BPP load, the last
/// ones while the card installs: after a restart the folder shows no profile
/// or the whole profile, and the next download works.
TEST_F(LoadBpp, KillDuringLoadLeavesNoHalfInstalledProfile) {
  std::mt19937 gen(1234);
  int n = 50;
  for (int round = 0; round < 6; ++round) {
    SCOPED_TRACE(round);
    const std::string mid = "M-K" + std::to_string(round);
    rig_.add_order(mid, iccid(n++));
    auto bpp = rig_.authenticate_and_bind(mid);
    ASSERT_TRUE(bpp);
    const auto pieces = split_bpp(bpp_der(*bpp));
    const std::size_t stop_at = round < 2 ? pieces.size() / (round + 2) : pieces.size() - 1;
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      close(fds[0]);
      for (std::size_t i = 0; i < pieces.size(); ++i) {
        if (i == stop_at) (void)!write(fds[1], "x", 1);
        (void)rig_.es10(pieces[i]);
      }
      (void)!write(fds[1], "x", 1);
      for (;;) pause();
    }
    close(fds[1]);
    char c;
    ASSERT_EQ(read(fds[0], &c, 1), 1);
    if (round >= 2) usleep(static_cast<useconds_t>(std::uniform_int_distribution<int>(0, 3000)(gen)));
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    close(fds[0]);

    rig_.reopen();
    auto s = rig_.state();
    for (const auto& p : s.profiles) {
      auto content = rig_.store->read_content(p.content_file);
      ASSERT_TRUE(content.has_value()) << "a profile without its content";
      EXPECT_TRUE(asn1::decode_profile_package(*content).has_value());
    }
  }
  // the card answers the next session correctly
  rig_.add_order("M-AFTER", iccid(99));
  auto bpp = rig_.authenticate_and_bind("M-AFTER");
  ASSERT_TRUE(bpp);
  EXPECT_EQ(error_of(result_of(rig_.load(split_bpp(bpp_der(*bpp))))), kInstalled);
}

}  // namespace
}  // namespace rsp::euicc::test
