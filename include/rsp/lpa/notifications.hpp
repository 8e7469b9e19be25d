#pragma once
/// The LPA's delivery of the notifications an eUICC keeps (SGP.22 §3.5): a
/// signed install result (ProfileInstallationResult) or another signed
/// notification (enable, disable, delete) stays on the eUICC until the LPA
/// has handed it to the SM-DP+ it names (ES9+.HandleNotification, §5.6.4)
/// and the SM-DP+ answered 204 No Content; only then does the LPA remove it
/// (ES10b.RemoveNotificationFromList). Any other outcome (no connection, a
/// server error because the SM-DP+ could not store it) leaves it on the eUICC
/// for the next attempt.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "rsp/asn1/sgp22.hpp"
#include "rsp/common/bytes.hpp"
#include "rsp/common/expected.hpp"
#include "rsp/lpa/es10_channel.hpp"
#include "rsp/lpa/es9_transport.hpp"
#include "rsp/lpa/step.hpp"

namespace rsp::lpa {

/// What happened to one notification.
struct NotificationDelivery {
  std::int64_t seq_number = 0;
  std::string address;          ///< the SM-DP+ it was sent to (its notificationAddress)
  std::optional<Bytes> iccid;   ///< the profile it is about (EF.ICCID coding), when named
  bool install_result = false;  ///< a ProfileInstallationResult (else another signed notification)
  bool delivered = false;       ///< the SM-DP+ answered 204
  bool removed = false;         ///< then RemoveNotificationFromList answered ok
  std::string error;            ///< why it was not delivered or not removed; empty when both happened
};

/// The notifications that were pending on an eUICC, each with its delivery.
struct PendingNotificationsReport {
  std::vector<NotificationDelivery> notifications;
  std::string error;  ///< the eUICC's list could not be read (then nothing was sent)
};

/// The notification the eUICC keeps under `seq_number`
/// (ES10b.RetrieveNotificationsList with that seqNumber, §5.7.10), or why
/// there is none.
expected<asn1::sgp22::PendingNotification, std::string> retrieve_notification(Es10Channel& euicc,
                                                                              std::int64_t seq_number);

/// Sends `notification` (as RetrieveNotificationsList gave it) to the
/// SM-DP+ at `address` and, once it answered 204, removes it from the eUICC
/// by its sequence number. Reports HandleNotification and RemoveNotification
/// to `progress`.
NotificationDelivery deliver_notification(Es10Channel& euicc, Es9Transport& smdp,
                                          const asn1::sgp22::PendingNotification& notification,
                                          const std::string& address,
                                          const std::function<void(Step)>& progress = {});

/// Every notification pending on the eUICC, oldest first: ES10b.ListNotification,
/// then for each ES10b.RetrieveNotificationsList by its seqNumber (§5.7.10)
/// and deliver_notification() to its notificationAddress. One that cannot be
/// retrieved or delivered is reported and the others are still sent; nothing
/// here fails the caller.
PendingNotificationsReport send_pending_notifications(Es10Channel& euicc, Es9Transport& smdp,
                                                      const std::function<void(Step)>& progress = {});

/// The same for the notifications with the given sequence numbers only (all
/// of them when `seq_numbers` is empty); a number the eUICC does not hold is
/// reported as not delivered, with no ES9+ call.
PendingNotificationsReport send_notifications(Es10Channel& euicc, Es9Transport& smdp,
                                              const std::vector<std::int64_t>& seq_numbers,
                                              const std::function<void(Step)>& progress = {});

}  // namespace rsp::lpa
