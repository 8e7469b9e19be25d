#pragma once
/// The M2M SM-DP's ES2 functions (MNO -> SM-DP, SGP.02 §5.3 as we read it;
/// messages in rsp/m2m/es2.hpp), on the profile inventory (inventory.hpp),
/// the download over ES3 (profile_download.hpp) and the SM-SR's ES3 port.
///
///  - DownloadProfile picks the calling MNO's profile (by ICCID, or one of
///    its type), reserves it, and is answered at once: accepted, with an
///    operation id. A worker runs the ProfileDownload; its result goes to
///    the MNO as a callback (ES2 Result, es2.hpp) from a durable service
///    outbox, queued in the transaction that ends the operation.
///  - EnableProfile, DisableProfile, DeleteISDP and AuditEIS are accepted the
///    same way and relayed by the worker to the SM-SR as their ES3
///    counterparts; the SM-SR's result is passed on in the callback
///    (AuditEIS's EIS limited to the calling MNO's profiles and, with an
///    iccidList, to those).
///  - UpdateConnectivityParameters (SGP.02 §3.14) is accepted the same way;
///    the worker secures the parameters with the profile's ISD-P key set
///    kept from its download (Inventory::keep_isdp_keys) and the next SCP03
///    sequence counter (recorded before it is sent), and sends them in
///    ES3.UpdateConnectivityParameters; when the ISD-P refuses because it
///    expected another counter (its INITIALIZE UPDATE answer names it), once
///    more with that one. A profile without a kept key set: Failed 8.2/3.5.
///  - GetEIS is relayed at once (ES3.GetEIS) and answered with the EIS.
///  - UpdatePolicyRules and UpdateSubscriptionAddress: after the ownership
///    check, relayed at once as ES3.UpdatePolicyRules /
///    ES3.UpdateSubscriptionAddress; the SM-SR's status (and codes) is the
///    answer.
///
/// Every function but GetEIS and AuditEIS names a profile, which must be in
/// the inventory as the caller's: another MNO's ICCID is answered as
/// unknown (8.2.1/3.9), as the SM-SR answers on ES4. The smsrId must be an
/// SM-SR this SM-DP works with (the configured one, or one smsr_port
/// gives), else 8.7/3.9; and, once an SM-SR change notification named the
/// eUICC's new SM-SR (Inventory::smsr_of), that one, else 8.7/3.8
/// (es2_codes::kNotTheEuiccsSmsr). The function goes to that SM-SR's ES3
/// port, so after an SM-SR change the MNO's calls reach the new SM-SR.
///
/// Operations are rows of their own (schema component "smdp.es2"); a
/// process that stops with operations pending ends them at its next start
/// (open()): relayed functions run again; a DownloadProfile whose download
/// ProfileDownload::recover() resumed or rolled back (through the eUICC's
/// SM-SR: the one Inventory::smsr_of names, else the configured one) ends as that download
/// did (reported and its profile settled as without the restart); one with
/// no unfinished download is reported failed, its profile quarantined (it
/// may be on the eUICC; an operator decides).
///
/// A failed DownloadProfile's result carries the code it failed with: the
/// SM-SR's subject and reason when ES3 refused or expired a step (e.g.
/// 8.1/3.8, the eUICC refused; 1.6/5.3, expired), 8.1.3/6.1 for an ECASD
/// certificate that does not verify, 8.1/6.1 for a receipt that does not,
/// else 1.2/4.2.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "rsp/common/expected.hpp"
#include "rsp/m2m/es2.hpp"
#include "rsp/m2m/es_status.hpp"
#include "rsp/service/sql_outbox.hpp"
#include "rsp/smdp/downloads.hpp"
#include "rsp/smdp/inventory.hpp"
#include "rsp/smdp/profile_download.hpp"
#include "rsp/store/database.hpp"

namespace rsp::smdp {

inline constexpr std::string_view kEs2SchemaComponent = "smdp.es2";
/// The outbox name of the callbacks to the MNOs (rsp/service/sql_outbox.hpp).
inline constexpr std::string_view kMnoCallbackOutbox = "smdp.es2";

/// Codes of ES2 refusals the SM-SR's table (m2m::codes) does not have.
namespace es2_codes {
/// smsrId names an SM-SR this SM-DP does not work with: SM-SR subject 8.7,
/// unknown 3.9, as bagyenda/njiwa's ES2 DownloadProfile answers an unknown
/// SM-SR (not checked against the SGP.02 text).
inline constexpr m2m::Code kSmsrUnknown{"8.7", "3.9"};
/// smsrId names an SM-SR the eUICC left (an SM-SR change notification named
/// another since): SM-SR subject 8.7, refused 3.8. Checked against
/// bagyenda/njiwa: its SM-DP uses subject 8.7 for the SM-SR (8.7/3.9 for an
/// unknown one, as kSmsrUnknown) and has no case for an SM-SR the eUICC left;
/// 3.8 "Refused" is a reason SGP.02's table lists (its public reproduction:
/// 8.1/3.8, 1.2.1/3.8). The pair stays our reading, not checked against the
/// SGP.02 text.
inline constexpr m2m::Code kNotTheEuiccsSmsr{"8.7", "3.8"};
/// A function this SM-DP cannot relay over its ES3 binding: function 1.6,
/// not supported 3.9 as m2m::codes::kUnknownFunction (not yet checked).
inline constexpr m2m::Code kNotSupported = m2m::codes::kUnknownFunction;
}  // namespace es2_codes

struct Es2ServiceConfig {
  Es2ServiceConfig(std::string smsr, DownloadConfig d) : smsr_id(std::move(smsr)), download(std::move(d)) {}
  std::string smsr_id;     ///< the SM-SR the MNOs name in smsrId
  DownloadConfig download;
  /// The ISD-P's memory quota asked in CreateISDP: the package's size plus
  /// this margin (bytes).
  std::uint32_t memory_margin = 32 * 1024;
  /// Connectivity parameters (m2m/es8_connectivity.hpp) the download sends
  /// to the new ISD-P after the profile, per profile type of the inventory;
  /// a type not named here gets none.
  std::map<std::string, Bytes> connectivity_parameters;
  /// Each MNO's callback URL (empty: the outbox's prepare hook gives it).
  std::function<std::string(const std::string& mno)> callback_url;
  /// The ES3 port of another SM-SR this SM-DP works with (one its eUICCs
  /// may move to), null when none of that identifier; unset: only smsr_id.
  /// The port must outlive the service.
  std::function<Es3Port*(const std::string& smsr_id)> smsr_port;
};

class Es2Service {
 public:
  /// Opens the operation table on `db` (the inventory's and the download
  /// table's database) and ends the operations a stopped process left.
  static expected<std::unique_ptr<Es2Service>, std::string> open(Es2ServiceConfig config,
                                                                 std::shared_ptr<store::Database> db,
                                                                 std::shared_ptr<Inventory> inventory, Es3Port& es3,
                                                                 std::shared_ptr<service::SqlOutbox> callbacks);
  ~Es2Service();

  /// The answer to `request` from `mno`. `storage` on the answer when the
  /// state could not be read or written (the caller may try again).
  struct Reply {
    m2m::es2::Answer answer;
    bool storage = false;
  };
  Reply handle(const m2m::es2::Request& request, const std::string& mno);

  /// Runs the oldest pending operation to its end; false when none was
  /// pending. For tests and for a caller without the worker.
  expected<bool, std::string> run_next();
  /// The worker thread, running operations as they come; stop() waits for
  /// the one running.
  void start();
  void stop();

 private:
  Es2Service(Es2ServiceConfig config, std::shared_ptr<store::Database> db, std::shared_ptr<Inventory> inventory,
             Es3Port& es3, std::shared_ptr<service::SqlOutbox> callbacks, std::unique_ptr<DownloadTable> downloads);
  struct Operation;
  expected<std::optional<Operation>, std::string> next_pending();
  expected<void, std::string> run(const Operation& op);
  expected<void, std::string> finish(const Operation& op, const m2m::es2::Result& result);
  /// `result` completed from the download's end, the profile settled in the
  /// inventory to match (downloaded, back available, or quarantined).
  m2m::es2::Result settled(m2m::es2::Result result, const std::string& iccid, const Download& ended);
  expected<void, std::string> recover();
  /// ES2.UpdateConnectivityParameters: the ES3 result, or the code it failed with here.
  expected<m2m::es3::Result, m2m::Code> update_connectivity(Es3Port& port,
                                                          const m2m::es2::UpdateConnectivityParameters& u);
  Reply accept(const m2m::es2::Request& request, const std::string& mno, const std::string& iccid);
  /// The ES3 port of SM-SR `smsr_id`; null when this SM-DP does not work with it.
  Es3Port* port_of(const std::string& smsr_id);

  Es2ServiceConfig config_;
  std::shared_ptr<store::Database> db_;
  std::shared_ptr<Inventory> inventory_;
  Es3Port& es3_;
  std::shared_ptr<service::SqlOutbox> callbacks_;
  std::unique_ptr<DownloadTable> downloads_;

  std::mutex run_mu_;  ///< one operation at a time
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::uint64_t wakeups_ = 0;
  std::thread worker_;
};

}  // namespace rsp::smdp
