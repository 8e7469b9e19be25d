#pragma once
/// The M2M SM-DP's profile download (SGP.02 §3.1) over ES3 to the SM-SR:
///
///   1. ES3.GetEIS: the ECASD certificate of the eUICC;
///   2. ES3.CreateISDP (§3.1.1): the new ISD-P's AID;
///   3. ES8 key establishment (§3.1.2, ECKA scenario #3, es8.hpp) through
///      ES3.SendData to the ISD-P: the receipt verified, the SCP03 key set;
///   4. the protected profile (§3.1.3, SCP03t) in SendData segments
///      (moreToDo on all but the last); then, when the request has
///      connectivity parameters, ES8.UpdateConnectivityParameters under the
///      new key set (m2m/es8_connectivity.hpp, sequence counter 1) in
///      ES3.UpdateConnectivityParameters (SGP.02 §3.14's path; whether the
///      download procedure sends this step in ES3.SendData instead is not
///      checked against the SGP.02 text);
///   5. ES3.ProfileDownloadCompleted with the subscription address and POL2;
///   6. ES3.EnableProfile when asked.
///
/// Each step is written to the download table before the next starts. A
/// failure from step 3 to 5 (the SM-SR refuses, the eUICC answers with an
/// error, a receipt that does not verify, no answer) rolls back: ES3.DeleteISDP
/// of the new ISD-P, the download Failed with the reason. A failed enable
/// leaves the profile downloaded (Completed, the reason kept).
///
/// recover() after a restart: a download stopped once its profile was loaded
/// resumes from step 5; one stopped earlier cannot (its keys were in memory
/// only) and is rolled back (one stopped before CreateISDP was answered by
/// DeleteISDP by ICCID, see kIsdpNotDeleted).

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rsp/common/expected.hpp"
#include "rsp/m2m/es3.hpp"
#include "rsp/smdp/downloads.hpp"
#include "rsp/smdp/es8.hpp"

namespace rsp::smdp {

/// The SM-SR as a download needs it: one ES3 call and its final result (for
/// a function the eUICC executes, the result the SM-SR called back with;
/// for GetEIS and ProfileDownloadCompleted, the answer itself, `eis` holding
/// GetEIS's). An error: the call could not be made or answered at all.
class Es3Port {
 public:
  virtual ~Es3Port() = default;
  virtual expected<m2m::es3::Result, std::string> call(const m2m::es3::Request& request) = 0;
};

/// In a Failed download's error when its ISD-P could not be deleted (the
/// profile may remain on the eUICC). A CreateISDP that was sent but not
/// answered (the SM-SR unreachable or silent after the request left) may
/// have made the ISD-P: the rollback then asks DeleteISDP by ICCID too, and
/// only the SM-SR's "unknown ICCID" (8.2.1/3.9: nothing of ours there)
/// counts as nothing to delete. An ISD-P whose CreateISDP is still open at
/// the SM-SR at that moment is not seen by that DeleteISDP (not handled).
inline constexpr std::string_view kIsdpNotDeleted = "the ISD-P could not be deleted";

struct DownloadRequest {
  std::string eid;
  std::string iccid;
  std::string mno_id;
  std::uint32_t required_memory = 0;
  Bytes upp;  ///< the SAIP profile package
  bool enable = false;
  std::string profile_type;
  std::optional<m2m::SubscriptionAddress> subscription_address;
  std::vector<m2m::PolicyRule> pol2;
  /// Sent to the ISD-P once the profile is loaded, when not empty
  /// (m2m/es8_connectivity.hpp checks them).
  Bytes connectivity_parameters;
};

/// STORE DATA commands per ES3.SendData while the profile loads: 64 commands
/// of at most 261 bytes make a command script of about 17 KB, a quarter of
/// ES3's 64 KB (m2m::es3::kMaxScript), so a TS.48-sized profile (about 12 KB)
/// goes in one SendData. Every SendData is an ES3 operation of its own (an
/// SMS wake-up, a PSK-TLS session, durable registry writes, a callback), and
/// at 8 per SendData such a profile took six: in bench/m2m's alternated runs
/// 64 gave 1.7-1.9 times the downloads/s and 0.6 times the CPU per download. What a real eUICC's RAM over HTTP buffer takes in
/// one exchange is not checked here (SGP.02 leaves the split to the SM-DP).
inline constexpr std::size_t kDefaultCommandsPerSegment = 64;

struct DownloadConfig {
  DpIdentity dp;
  EcasdTrust trust;
  /// STORE DATA commands per SendData while loading the profile.
  std::size_t commands_per_segment = kDefaultCommandsPerSegment;
  /// Seconds since the epoch (updated_at); default: the system clock.
  std::function<std::int64_t()> now;
};

/// Given the ISD-P's key set once the profile (and its connectivity
/// parameters) are on the card, before ProfileDownloadCompleted, with the
/// SCP03 sequence counter last used (0, or 1 after the connectivity
/// parameters), to keep it for later ES8 commands (Inventory::keep_isdp_keys).
using KeepKeys =
    std::function<expected<void, std::string>(const Download&, const m2m::es8::DerivedKeys&, std::uint32_t counter)>;

class ProfileDownload {
 public:
  /// Why a step failed: the text and the SGP.02 subject and reason codes the
  /// MNO is told (Download::subject_code).
  struct Failure {
    std::string why;
    std::string subject_code;
    std::string reason_code;
  };

  ProfileDownload(DownloadConfig config, Es3Port& es3, DownloadTable& table);
  /// Hands the key set to `keep` (see KeepKeys); its failure rolls the
  /// download back. Without it the key set lives in memory only.
  void keep_keys_with(KeepKeys keep) { keep_keys_ = std::move(keep); }

  /// Runs one download to its end; the final record (Failed with the reason
  /// when it did not succeed). An error only when the table cannot be written.
  expected<Download, std::string> run(const DownloadRequest& request);
  /// The SM-SR a download left unfinished is resumed or rolled back
  /// through (its eUICC's SM-SR now); an error (storage) stops recover().
  using PortFor = std::function<expected<Es3Port*, std::string>(const Download&)>;
  /// Every download left unfinished: resumed (profile loaded) or rolled
  /// back, each through the port `port_for` gives (unset: the
  /// constructor's). Returns the records as they ended.
  expected<std::vector<Download>, std::string> recover(const PortFor& port_for = {});

 private:
  expected<void, std::string> step(Download& d, DownloadState state);
  /// DeleteISDP of `d`'s ISD-P (when it has one, or when CreateISDP was sent
  /// and its outcome is not known), then Failed with `why`.
  expected<Download, std::string> roll_back(Download d, const Failure& why, bool create_unknown = false);
  expected<Download, std::string> roll_back(Download d, const std::string& why, bool create_unknown = false);
  /// ProfileDownloadCompleted and the enable, from a loaded profile.
  expected<Download, std::string> finish(Download d);
  /// Whether the SM-SR's EIS shows `d`'s profile completed (past Created).
  bool completed_at_smsr(const Download& d);

  DownloadConfig config_;
  KeepKeys keep_keys_;
  Es3Port* es3_;  ///< never null; recover() points it at each download's SM-SR
  DownloadTable& table_;
};

}  // namespace rsp::smdp
