#pragma once
// ES3 through the SM-SR to the simulated M2M eUICC in one process: the
// fixtures shared by the es3_*_test.cpp files. Es3LinkTest plays the SM-DP
// (the smdp library's ES8 key establishment and profile protection) and calls
// the SM-SR's ES3 functions; each command goes out by SMS wake-up and PSK-TLS
// session, SendData scripts reach the new ISD-P (Es8Card) and the results come
// back as the SM-DP's callbacks. ProfileDownloadTest runs the SM-DP's
// ProfileDownload through an ES3 port on the SM-SR's functions (with faults a
// test injects); Es2DownloadTest adds the SM-DP's ES2 service on top.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "es5_link_fixture.hpp"
#include "rsp/apdu/command.hpp"
#include "rsp/euicc_m2m/es8_card.hpp"
#include "rsp/m2m/es3.hpp"
#include "rsp/ota/ram.hpp"
#include "rsp/smdp/downloads.hpp"
#include "rsp/smdp/es2_service.hpp"
#include "rsp/smdp/es8.hpp"
#include "rsp/smdp/profile_download.hpp"
#include "rsp/smsr/es3_service.hpp"

namespace rsp::smsr::testing {

namespace es3 = m2m::es3;
namespace codes = m2m::codes;

inline const std::string kSmdp = "smdp-1";
inline const Bytes kIccidBytes = from_hex("98001032547698103299").value();
inline const std::string kIccid = "89000123456789012399";

class Es3LinkTest : public Es5LinkTest {
 protected:
  Es3LinkTest();

  void SetUp() override;

  /// The SM-DP's result of operation `a` once it ended.
  es3::Result result(const SmsrResult<Accepted>& a) {
    EXPECT_TRUE(a) << (a ? "" : a.error().message);
    if (!a) return {};
    EXPECT_TRUE(eventually([&] { return is_final(op(a->operation_id).state); })) << diagnosis(a->operation_id);
    for (const auto& item : callbacks()) {
      if (item.ref != "op-" + std::to_string(a->operation_id)) continue;
      EXPECT_EQ(item.recipient, op(a->operation_id).caller);
      auto r = es3::decode_result(item.body);
      EXPECT_TRUE(r) << (r ? "" : r.error().message);
      return r ? *r : es3::Result{};
    }
    ADD_FAILURE() << "no result for operation " << a->operation_id;
    return {};
  }

  /// An accepted operation's result once it ended, or the refusal as a Failed result.
  es3::Result ended(const SmsrResult<Accepted>& a) {
    if (a) return result(a);
    es3::Result r;
    r.status = "Failed";
    r.subject_code = a.error().subject_code;
    r.reason_code = a.error().reason_code;
    return r;
  }

  es3::Result create() {
    return result(es3_->create_isdp(kSmdp, es3::CreateIsdp{eid(), kIccid, "mno-three", 64 * 1024, true, {}}));
  }

  /// SendData of `commands` to `aid`: the response script.
  std::pair<es3::Result, ota::ResponseScript> send(const Bytes& aid, const std::vector<apdu::Command>& commands) {
    std::vector<Bytes> c_apdus;
    for (const auto& c : commands) c_apdus.push_back(apdu::encode_command(c).value());
    auto r = result(es3_->send_data(kSmdp, es3::SendData{eid(), aid, ota::encode(ota::command_script(c_apdus)).value(),
                                                         true, {}}));
    auto script = ota::decode_response_script(r.euicc_response_data);
    EXPECT_TRUE(script);
    return {r, script ? *script : ota::ResponseScript{}};
  }

  /// The second profile (loaded on the card) becomes this SM-DP's in the EIS.
  void make_second_ours() {
    auto eis = **registry_->eis(eid(), false);
    m2m::ProfileInfo p = *eis.profile(kSecondIccid);
    p.smdp_id = kSmdp;
    ASSERT_TRUE(registry_->put_profile(eid(), p));
  }

  std::optional<euicc_m2m::IsdpRecord> on_card(const Bytes& aid) {
    auto s = card_->isd_r().state();
    auto* p = s.find(aid);
    return p ? std::optional<euicc_m2m::IsdpRecord>(*p) : std::nullopt;
  }

  std::shared_ptr<Es3Service> es3_;
  std::unique_ptr<euicc_m2m::Es8Card> es8_;
  /// Runs on the device after each C-APDU its ISD-Ps executed (a test's fault).
  std::function<void(ByteView c_apdu)> after_isdp_command_;
  Bytes ecasd_cert_;
  smdp::EcasdTrust trust_;
  std::optional<smdp::DpIdentity> dp_;
};

/// The SM-DP's ES3 port on the SM-SR's functions in the same process: each
/// call made, the operation awaited, its result read from the outbox.
class DirectPort : public smdp::Es3Port {
 public:
  explicit DirectPort(std::function<expected<es3::Result, std::string>(const es3::Request&)> f) : f_(std::move(f)) {}
  expected<es3::Result, std::string> call(const es3::Request& r) override { return f_(r); }

 private:
  std::function<expected<es3::Result, std::string>(const es3::Request&)> f_;
};

/// Where a test cuts the SM-DP off its SM-SR: before the request reaches it
/// (connection refused) or after (the answer lost).
enum class Cut { Before, After };

class ProfileDownloadTest : public Es3LinkTest {
 protected:
  void SetUp() override;

  es3::Result dispatch(const es3::Request& request);

  /// A function the SM-SR executed at once, as the SM-DP's client reads its answer.
  static es3::Result at_once(const SmsrResult<void>& done) {
    es3::Result r;
    r.status = done ? "Executed-Success" : "Failed";
    if (!done) {
      r.subject_code = done.error().subject_code;
      r.reason_code = done.error().reason_code;
    }
    return r;
  }

  smdp::DownloadRequest request(bool enable);

  std::unique_ptr<smdp::DownloadTable> table_;
  std::unique_ptr<DirectPort> port_;
  std::vector<es3::Function> calls_;
  /// Whether the SM-SR is out of reach for this call (a test's fault).
  std::function<bool(const es3::Request&, Cut)> cut_;
  bool tamper_receipt_ = false;
  bool tamper_segment_ = false;  ///< the first profile segment changed on its way
  bool tamper_connectivity_ = false;  ///< the secured connectivity parameters changed on their way
  int send_data_ = 0;
};

/// ES2 on the SM-DP's service with the real SM-SR behind its ES3 port: an
/// MNO's DownloadProfile(enable) by profile type ends with the profile
/// enabled on the card, in the EIS, marked downloaded in the inventory and
/// the MNO's callback queued; another MNO's profile is refused.
class Es2DownloadTest : public ProfileDownloadTest {
 protected:
  void SetUp() override;

  service::SystemClock clock_;
  std::shared_ptr<store::Database> smdp_db_;
  std::shared_ptr<smdp::Inventory> inventory_;
  std::shared_ptr<service::SqlOutbox> outbox_;
  std::unique_ptr<smdp::Es2Service> es2_;
};

}  // namespace rsp::smsr::testing
