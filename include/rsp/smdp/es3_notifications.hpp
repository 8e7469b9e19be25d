#pragma once
/// The SM-DP's side of the SM-SR's ES3 Handle...Notification calls (SGP.02
/// §5.4 as we read it; messages in rsp/m2m/es3.hpp): a profile this SM-DP
/// downloaded was enabled, disabled or deleted on its eUICC without this
/// SM-DP's asking (the eUICC's confirmation after an enable, a fall-back,
/// another caller's function).
///
/// Each notification, in one transaction on the inventory's database:
///  - is recorded by its functionCallIdentifier (schema component
///    "smdp.es3_notifications"); one seen already is a duplicate (a retried
///    callback, a notification the eUICC repeated) and changes nothing, so
///    the MNO hears of each event exactly once;
///  - sets the profile's state on the eUICC in the inventory
///    (Inventory::record_euicc_state; `rsp smdp profiles list` shows it);
///  - queues the ES2 Handle...Notification (rsp/m2m/es2.hpp Notification)
///    to the MNO owning the profile on the SM-DP's callback outbox
///    (kMnoCallbackOutbox), its functionCallIdentifier "note-<n>", the same
///    on every delivery attempt.
/// A notification about a profile not in the inventory, or about another
/// eUICC than the one it was downloaded to, is recorded and otherwise
/// ignored (Outcome::Ignored): nothing is told to any MNO.
///
/// ES3.HandleSMSRChangeNotification (the eUICC's new SM-SR sends it, SGP.02
/// §3.8 as we read it): the new SM-SR is recorded for the eUICC
/// (Inventory::record_smsr; Es2Service sends its later ES3 calls there) and
/// each MNO with a profile of this SM-DP on that eUICC gets one
/// ES2.HandleSMSRChangeNotification ("note-<n>-<mno>") carrying the EIS the
/// SM-SR sent, limited to that MNO's profiles (no key; the SM-SR already left
/// out the ISD-Ps of other SM-DPs). About an eUICC this SM-DP downloaded
/// nothing to it is Ignored. It must come from the SM-SR its EIS names as the
/// eUICC's new one (smsrId): `sender`, the configured SM-SR whose
/// callbacks route took it (that route serves only that SM-SR's pinned TLS
/// client certificate, es2_http.hpp); from another SM-SR it is Refused and
/// nothing is recorded, not even its identifier (the SM-SR it names may
/// still send the real one).

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "rsp/common/expected.hpp"
#include "rsp/m2m/es3.hpp"
#include "rsp/service/sql_outbox.hpp"
#include "rsp/smdp/inventory.hpp"
#include "rsp/store/database.hpp"

namespace rsp::smdp {

inline constexpr std::string_view kEs3NotificationSchemaComponent = "smdp.es3_notifications";

class Es3Notifications {
 public:
  /// Migrates the notification table on `db` (the inventory's database);
  /// `callbacks` is the MNO callback outbox (null: no ES2 callback queued),
  /// `callback_url` each MNO's callback URL (empty: the outbox's prepare
  /// hook gives it).
  static expected<std::unique_ptr<Es3Notifications>, std::string> open(
      std::shared_ptr<store::Database> db, std::shared_ptr<Inventory> inventory,
      std::shared_ptr<service::SqlOutbox> callbacks,
      std::function<std::string(const std::string& mno)> callback_url = {});

  enum class Outcome { Recorded, Duplicate, Ignored, Refused };
  struct Handled {
    Outcome outcome = Outcome::Recorded;
    std::string detail;  ///< for the log: what was done or why not
  };
  /// Handles one notification sent by the SM-SR `sender` (its smsr_id); an
  /// error (storage) means nothing was recorded and the SM-SR should try
  /// again.
  expected<Handled, std::string> handle(const m2m::es3::Notification& n, std::string_view sender);

 private:
  Es3Notifications(std::shared_ptr<store::Database> db, std::shared_ptr<Inventory> inventory,
                   std::shared_ptr<service::SqlOutbox> callbacks, std::function<std::string(const std::string&)> url)
      : db_(std::move(db)),
        inventory_(std::move(inventory)),
        callbacks_(std::move(callbacks)),
        callback_url_(std::move(url)) {}
  std::shared_ptr<store::Database> db_;
  std::shared_ptr<Inventory> inventory_;
  std::shared_ptr<service::SqlOutbox> callbacks_;
  std::function<std::string(const std::string&)> callback_url_;
};

}  // namespace rsp::smdp
