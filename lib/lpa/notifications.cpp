#include "rsp/lpa/notifications.hpp"

#include <algorithm>

#include "rsp/lpa/es10_client.hpp"
#include "rsp/messages/es9_json.hpp"

namespace rsp::lpa {
namespace {

namespace sg = asn1::sgp22;
namespace es9 = messages::es9;

const sg::NotificationMetadata* metadata_of(const sg::PendingNotification& n) {
  if (const auto* pir = n.profileInstallationResult()) return &pir->profileInstallationResultData.notificationMetadata;
  if (const auto* other = n.otherSignedNotification()) return &other->tbsOtherNotification;
  return nullptr;
}

/// An ES10 function's typed answer, or why there is none.
template <class Resp>
expected<Resp, std::string> es10(expected<Resp, Es10Error> r) {
  if (!r) return unexpected(std::move(r).error().message);
  return std::move(*r);
}

/// Why an answer other than 204 is one: the status, and the codes of a Failed header.
std::string refusal(const HttpReply& reply) {
  std::string s = "HTTP status " + std::to_string(reply.status);
  if (reply.status == 200) {
    auto h = es9::decode_response_header(reply.body);
    if (h && !h->succeeded() && h->function_execution_status.status_code_data) {
      const auto& d = *h->function_execution_status.status_code_data;
      s += " (subject " + d.subject_code + ", reason " + d.reason_code + ")";
    }
  }
  return s;
}

}  // namespace

expected<sg::PendingNotification, std::string> retrieve_notification(Es10Channel& euicc, std::int64_t seq_number) {
  sg::RetrieveNotificationsListRequest rq;
  rq.searchCriteria.emplace().set_seqNumber(seq_number);
  auto got = es10(Es10Client(euicc).retrieve_notifications_list(rq));
  if (!got) return unexpected(got.error());
  const auto* one = got->notificationList();
  if (!one || one->size() != 1) return unexpected(std::string("no such notification"));
  return one->front();
}

NotificationDelivery deliver_notification(Es10Channel& euicc, Es9Transport& smdp,
                                          const sg::PendingNotification& notification, const std::string& address,
                                          const std::function<void(Step)>& progress) {
  NotificationDelivery d;
  d.address = address;
  d.install_result = notification.profileInstallationResult() != nullptr;
  const auto* meta = metadata_of(notification);
  if (!meta) {
    d.error = "not a notification this LPA knows";
    return d;
  }
  d.seq_number = meta->seqNumber;
  d.iccid = meta->iccid;

  if (progress) progress(Step::HandleNotification);
  sg::HandleNotification hn;
  hn.pendingNotification = notification;
  auto sent = smdp.post(address, es9::path(es9::Function::HandleNotification), es9::encode_request(hn));
  if (!sent) {
    d.error = "ES9+ handleNotification: " + sent.error().message;
    return d;
  }
  // Only 204 says the SM-DP+ has it (SGP.22 §5.6.4); anything else keeps it on the eUICC.
  if (sent->status != 204) {
    d.error = "ES9+ handleNotification: " + refusal(*sent);
    return d;
  }
  d.delivered = true;

  if (progress) progress(Step::RemoveNotification);
  auto removed = es10(Es10Client(euicc).remove_notification_from_list(d.seq_number));
  using V = sg::NotificationSentResponse::deleteNotificationStatus_values;
  if (!removed) {
    d.error = "ES10b RemoveNotificationFromList: " + removed.error();
  } else if (removed->deleteNotificationStatus != V::ok) {
    d.error = "ES10b RemoveNotificationFromList: deleteNotificationStatus " +
              std::to_string(removed->deleteNotificationStatus);
  } else {
    d.removed = true;
  }
  return d;
}

PendingNotificationsReport send_pending_notifications(Es10Channel& euicc, Es9Transport& smdp,
                                                      const std::function<void(Step)>& progress) {
  return send_notifications(euicc, smdp, {}, progress);
}

PendingNotificationsReport send_notifications(Es10Channel& euicc, Es9Transport& smdp,
                                              const std::vector<std::int64_t>& seq_numbers,
                                              const std::function<void(Step)>& progress) {
  PendingNotificationsReport report;
  if (progress) progress(Step::ListNotification);
  auto list = es10(Es10Client(euicc).list_notification());
  if (!list) {
    report.error = "ES10b ListNotification: " + list.error();
    return report;
  }
  const auto* pending = list->notificationMetadataList();
  if (!pending) {
    report.error = "ES10b ListNotification: the eUICC answered listNotificationsResultError";
    return report;
  }
  const auto wanted = [&](std::int64_t seq) {
    return seq_numbers.empty() || std::find(seq_numbers.begin(), seq_numbers.end(), seq) != seq_numbers.end();
  };
  for (const std::int64_t seq : seq_numbers) {
    const bool held = std::any_of(pending->begin(), pending->end(), [&](const auto& m) { return m.seqNumber == seq; });
    if (!held) report.notifications.push_back({seq, {}, {}, false, false, false, "the eUICC holds no such notification"});
  }
  for (const auto& meta : *pending) {
    if (!wanted(meta.seqNumber)) continue;
    NotificationDelivery d;
    d.seq_number = meta.seqNumber;
    d.address = meta.notificationAddress;
    d.iccid = meta.iccid;
    if (progress) progress(Step::RetrieveNotification);
    auto got = retrieve_notification(euicc, meta.seqNumber);
    if (!got) {
      d.error = "ES10b RetrieveNotificationsList: " + got.error();
    } else if (meta.notificationAddress.empty()) {
      d.error = "no notificationAddress to send it to";
    } else {
      d = deliver_notification(euicc, smdp, *got, meta.notificationAddress, progress);
    }
    report.notifications.push_back(std::move(d));
  }
  return report;
}

}  // namespace rsp::lpa
