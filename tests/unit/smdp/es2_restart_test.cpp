// The M2M SM-DP's ES2 service restarted with work pending, the SM-SR's ES3
// port faked (es2_service_fixture.hpp): a restart ends what was pending, a
// download it resumed or rolled back reported as it ended, a CreateISDP left
// unanswered rolled back by DeleteISDP by ICCID.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "es2_service_fixture.hpp"
#include "rsp/smdp/downloads.hpp"

namespace rsp::smdp::testing {
namespace {

using nlohmann::json;

TEST_F(Es2ServiceTest, RestartEndsAPendingDownload) {
  auto r = svc_->handle(download(kIccidA), "mno-a");
  ASSERT_TRUE(r.answer.accepted());
  ASSERT_TRUE(svc_->handle(es2::EnableProfile{kEid, kIccidA2, kSmsr, std::nullopt}, "mno-a").answer.accepted());
  open_all();  // the process stopped before the worker ran
  if (HasFatalFailure()) return;
  EXPECT_EQ(state_of("mno-a", kIccidA), ProfileState::Quarantined);
  auto cbs = callbacks();
  ASSERT_EQ(cbs.size(), 1u);
  EXPECT_EQ(std::get<es2::Result>(cbs[0].second).operation_id, r.answer.operation_id);
  EXPECT_EQ(std::get<es2::Result>(cbs[0].second).status, "Failed");
  // The relayed function is still pending and runs.
  port_.answers[es3::Function::EnableProfile] = ok();
  ASSERT_TRUE(*svc_->run_next());
  EXPECT_EQ(callbacks().size(), 2u);
}

/// A download of kIccidA the stopped process left at `state` (its
/// DownloadProfile operation still pending).
void leave_download(const std::shared_ptr<store::Database>& db, DownloadState state, bool with_isdp = true) {
  auto table = DownloadTable::open(db);
  ASSERT_TRUE(table) << table.error();
  Download d;
  d.eid = kEid;
  d.iccid = kIccidA;
  d.state = state;
  if (with_isdp) d.isdp_aid = from_hex("A0000005591010FFFFFFFF8900001100").value();
  es3::ProfileDownloadCompleted completed{kEid, kIccidA, "m2m-data", std::nullopt, {}};
  d.request = json{{"completed", json::parse(es3::encode_request(completed))}, {"enable", true}}.dump();
  ASSERT_TRUE((*table)->create(d));
}

// Stopped once the profile was loaded: the restart completes and enables
// it, and the operation ends as that download did (downloaded, success),
// not failed with the profile quarantined.
TEST_F(Es2ServiceTest, RestartReportsAResumedDownloadAsItEnded) {
  auto r = svc_->handle(download(kIccidA), "mno-a");
  ASSERT_TRUE(r.answer.accepted());
  leave_download(db_, DownloadState::Loaded);
  port_.answers[es3::Function::ProfileDownloadCompleted] = ok();
  port_.answers[es3::Function::EnableProfile] = ok();
  open_all();
  if (HasFatalFailure()) return;
  EXPECT_EQ(port_.calls, (std::vector<es3::Function>{es3::Function::ProfileDownloadCompleted,
                                                     es3::Function::EnableProfile}));
  EXPECT_EQ(state_of("mno-a", kIccidA), ProfileState::Downloaded);
  auto cbs = callbacks();
  ASSERT_EQ(cbs.size(), 1u);
  const auto& res = std::get<es2::Result>(cbs[0].second);
  EXPECT_EQ(res.operation_id, r.answer.operation_id);
  EXPECT_EQ(res.status, "Executed-Success");
  EXPECT_FALSE(*svc_->run_next());
}

// Stopped before the load: the restart deletes the ISD-P, so the profile
// is on no eUICC and returns to the inventory (once: the operation ends).
TEST_F(Es2ServiceTest, RestartReturnsTheProfileOfARolledBackDownload) {
  auto r = svc_->handle(download(kIccidA), "mno-a");
  ASSERT_TRUE(r.answer.accepted());
  leave_download(db_, DownloadState::KeysEstablished);
  port_.answers[es3::Function::DeleteIsdp] = ok();
  open_all();
  if (HasFatalFailure()) return;
  EXPECT_EQ(port_.calls, (std::vector<es3::Function>{es3::Function::DeleteIsdp}));
  EXPECT_EQ(state_of("mno-a", kIccidA), ProfileState::Available);
  auto cbs = callbacks();
  ASSERT_EQ(cbs.size(), 1u);
  const auto& res = std::get<es2::Result>(cbs[0].second);
  EXPECT_EQ(res.status, "Failed");
  EXPECT_EQ(res.subject_code, codes::kExecutionError.subject);
  EXPECT_EQ(res.reason_code, codes::kExecutionError.reason);
  EXPECT_FALSE(*svc_->run_next());
  // A second restart finds nothing to end.
  open_all();
  if (HasFatalFailure()) return;
  EXPECT_EQ(callbacks().size(), 1u);
  EXPECT_EQ(state_of("mno-a", kIccidA), ProfileState::Available);
}

// Stopped between ES8 message 1 and message 2 (the card's random challenge
// and the ephemeral key were in memory only): rolled back as any step
// before the load, the ISD-P deleted, the profile back in the inventory.
TEST_F(Es2ServiceTest, RestartBetweenTheCertificateAndTheKeyAgreementRollsBack) {
  auto r = svc_->handle(download(kIccidA), "mno-a");
  ASSERT_TRUE(r.answer.accepted());
  leave_download(db_, DownloadState::CertificateSent);
  port_.answers[es3::Function::DeleteIsdp] = ok();
  open_all();
  if (HasFatalFailure()) return;
  EXPECT_EQ(port_.calls, (std::vector<es3::Function>{es3::Function::DeleteIsdp}));
  EXPECT_EQ(state_of("mno-a", kIccidA), ProfileState::Available);
  auto cbs = callbacks();
  ASSERT_EQ(cbs.size(), 1u);
  EXPECT_EQ(std::get<es2::Result>(cbs[0].second).status, "Failed");
  EXPECT_EQ(parse_download_state(download_state_name(DownloadState::CertificateSent)), DownloadState::CertificateSent);
  EXPECT_EQ(download_state_name(DownloadState::CertificateSent), "certificate-sent");
}

// Stopped while CreateISDP was out (no AID recorded): the SM-SR may have
// made the ISD-P, so the restart asks DeleteISDP by ICCID. "Unknown ICCID"
// means nothing was made; no answer leaves the profile quarantined.
TEST_F(Es2ServiceTest, RestartDuringCreateIsdpDeletesByIccid) {
  ASSERT_TRUE(svc_->handle(download(kIccidA), "mno-a").answer.accepted());
  leave_download(db_, DownloadState::Started, false);
  port_.answers[es3::Function::DeleteIsdp] = failed(codes::kIccidUnknown);
  open_all();
  if (HasFatalFailure()) return;
  EXPECT_EQ(port_.calls, (std::vector<es3::Function>{es3::Function::DeleteIsdp}));
  EXPECT_EQ(state_of("mno-a", kIccidA), ProfileState::Available);

  ASSERT_TRUE(svc_->handle(download(kIccidA2), "mno-a").answer.accepted());
  auto table = DownloadTable::open(db_);
  ASSERT_TRUE(table);
  Download d;
  d.eid = kEid;
  d.iccid = kIccidA2;
  d.request = "{}";
  ASSERT_TRUE((*table)->create(d));
  port_.answers.erase(es3::Function::DeleteIsdp);  // the SM-SR is unreachable
  open_all();
  if (HasFatalFailure()) return;
  EXPECT_EQ(state_of("mno-a", kIccidA2), ProfileState::Quarantined);
  EXPECT_EQ(callbacks().size(), 2u);
}

// The eUICC moved to kSmsr2 (its SM-SR change notification recorded) while
// the download was stopped: the restart resumes it through kSmsr2, not the
// configured SM-SR; one rolled back is deleted there too.
TEST_F(Es2ServiceTest, RestartResumesADownloadThroughTheEuiccsNewSmsr) {
  auto r = svc_->handle(download(kIccidA), "mno-a");
  ASSERT_TRUE(r.answer.accepted());
  leave_download(db_, DownloadState::Loaded);
  ASSERT_TRUE(inventory_->record_smsr(kEid, kSmsr2));
  port2_.answers[es3::Function::ProfileDownloadCompleted] = ok();
  port2_.answers[es3::Function::EnableProfile] = ok();
  open_all();
  if (HasFatalFailure()) return;
  EXPECT_TRUE(port_.calls.empty());
  EXPECT_EQ(port2_.calls, (std::vector<es3::Function>{es3::Function::ProfileDownloadCompleted,
                                                      es3::Function::EnableProfile}));
  EXPECT_EQ(state_of("mno-a", kIccidA), ProfileState::Downloaded);
  auto cbs = callbacks();
  ASSERT_EQ(cbs.size(), 1u);
  EXPECT_EQ(std::get<es2::Result>(cbs[0].second).operation_id, r.answer.operation_id);
  EXPECT_EQ(std::get<es2::Result>(cbs[0].second).status, "Executed-Success");

  ASSERT_TRUE(svc_->handle(es2::DownloadProfile{kEid, kIccidA2, "", kSmsr2, false, std::nullopt}, "mno-a").answer.accepted());
  auto table = DownloadTable::open(db_);
  ASSERT_TRUE(table);
  Download d;
  d.eid = kEid;
  d.iccid = kIccidA2;
  d.state = DownloadState::KeysEstablished;
  d.isdp_aid = from_hex("A0000005591010FFFFFFFF8900001200").value();
  d.request = "{}";
  ASSERT_TRUE((*table)->create(d));
  port2_.calls.clear();
  port2_.answers[es3::Function::DeleteIsdp] = ok();
  open_all();
  if (HasFatalFailure()) return;
  EXPECT_TRUE(port_.calls.empty());
  EXPECT_EQ(port2_.calls, (std::vector<es3::Function>{es3::Function::DeleteIsdp}));
  EXPECT_EQ(state_of("mno-a", kIccidA2), ProfileState::Available);
}

}  // namespace
}  // namespace rsp::smdp::testing
