#include "rsp/lpa/download.hpp"

#include <algorithm>

#include "download_errors.hpp"

#include "rsp/asn1/runtime.hpp"
#include "rsp/crypto/sha256.hpp"
#include "rsp/lpa/es10_client.hpp"
#include "rsp/messages/es9_json.hpp"
#include "rsp/tlv/tlv.hpp"

namespace rsp::lpa {
namespace {

namespace sg = asn1::sgp22;
namespace es9 = messages::es9;
using Source = DownloadError::Source;

/// SGP.22 v2.2.2 §2.5.3: the largest BPP segment, tag, length and MAC included.
constexpr std::size_t kSgp22MaxSegment = 1020;

using detail::error;

/// One download in progress: the two channels, what the session knows so far
/// and the cancellation on failure.
class Session {
 public:
  Session(Es10Channel& euicc, Es9Transport& smdp, const DownloadOptions& options, std::string address,
          bool may_retry_load)
      : euicc_(euicc), smdp_(smdp), options_(options), address_(std::move(address)), may_retry_load_(may_retry_load) {}

  expected<DownloadResult, DownloadError> run(const std::string& matching_id,
                                              const std::optional<std::string>& confirmation_code);
  /// What the download found pending on the eUICC and sent first.
  PendingNotificationsReport& pending() { return pending_; }
  /// The load was interrupted and left uncancelled for a new session.
  bool load_interrupted() const { return load_interrupted_; }

 private:
  void step(Step s) {
    current_ = s;
    if (options_.progress) options_.progress(s);
  }

  /// An ES10 function's typed answer, or the download's error for it.
  template <class Resp>
  expected<Resp, DownloadError> es10(expected<Resp, Es10Error> r) {
    if (!r) return unexpected(from_es10(r.error()));
    return std::move(*r);
  }

  DownloadError from_es10(const Es10Error& e) { return detail::es10_error(current_, e); }

  /// POSTs one ES9+ request; the body of a 200 answer, or the error.
  expected<std::string, DownloadError> post_es9(std::string_view address, es9::Function f, const std::string& body) {
    auto r = smdp_.post(address, es9::path(f), body);
    if (!r) {
      DownloadError e =
          error(current_, Source::Es9Transport, "ES9+ " + std::string(es9::name(f)) + ": " + r.error().message).error();
      e.timed_out = r.error().timed_out;
      return unexpected(std::move(e));
    }
    // A function failure comes as 200 + Failed, which the caller's response
    // decoder reports (es9_decode_error); any other status is the transport's.
    if (r->status != 200)
      return error(current_, Source::Es9Transport,
                   "ES9+ " + std::string(es9::name(f)) + ": HTTP status " + std::to_string(r->status));
    return std::move(r->body);
  }

  /// The ES9+ response decoders' errors: a Failed status or a bad body.
  unexpected<DownloadError> es9_decode_error(const messages::MessageError& m) {
    return unexpected(detail::answer_error(current_, m, "SM-DP+"));
  }

  /// Ends the session on both sides after a failure (best effort) and
  /// returns `e` with session_cancelled set when both ends agreed.
  DownloadError cancel(DownloadError e, std::int64_t reason);
  /// The same, with the reason failure_cancel_reason() gives for `e`.
  DownloadError cancel(DownloadError e) {
    const std::int64_t reason = failure_cancel_reason(e);
    return cancel(std::move(e), reason);
  }

  expected<DownloadResult, DownloadError> load_bpp(const sg::BoundProfilePackage& bpp, DownloadResult& result);
  void deliver_notification(DownloadResult& result);

  Es10Channel& euicc_;
  Es10Client client_{euicc_};
  Es9Transport& smdp_;
  const DownloadOptions& options_;
  std::string address_;
  Step current_ = Step::GetEuiccInfo1;
  Bytes transaction_id_;
  PendingNotificationsReport pending_;
  bool may_retry_load_ = false;
  bool load_interrupted_ = false;
};

DownloadError Session::cancel(DownloadError e, std::int64_t reason) {
  const Step failed_step = e.step;
  step(Step::CancelSession);
  sg::CancelSessionRequest req;
  req.transactionId = transaction_id_;
  req.reason = reason;
  auto resp = es10(client_.cancel_session(req));
  if (resp) {
    sg::CancelSessionRequestEs9 es9_req;
    es9_req.transactionId = transaction_id_;
    es9_req.cancelSessionResponse = std::move(*resp);
    auto body = post_es9(address_, es9::Function::CancelSession, es9::encode_request(es9_req));
    const bool euicc_ok = es9_req.cancelSessionResponse.cancelSessionResponseOk() != nullptr;
    e.session_cancelled = euicc_ok && body && es9::decode_cancel_session_response(*body).has_value();
  }
  e.step = failed_step;
  current_ = failed_step;
  return e;
}

expected<DownloadResult, DownloadError> Session::run(const std::string& matching_id,
                                                     const std::optional<std::string>& confirmation_code) {
  DownloadResult result;

  // SGP.22 §3.5: what the eUICC still holds goes first. The install result
  // of an earlier download that was interrupted before its notification
  // reaches the SM-DP+ before the same activation code is used again, which
  // completes that order instead of issuing the profile to the card twice.
  if (options_.send_pending_notifications)
    pending_ = send_pending_notifications(euicc_, smdp_, [this](Step s) { step(s); });

  step(Step::GetEuiccInfo1);
  RSP_TRY(sg::EUICCInfo1 info1, es10(client_.get_euicc_info1()));

  step(Step::GetEuiccChallenge);
  RSP_TRY(auto challenge, es10(client_.get_euicc_challenge()));

  step(Step::InitiateAuthentication);
  sg::InitiateAuthenticationRequest init_req;
  init_req.euiccChallenge = challenge.euiccChallenge;
  init_req.smdpAddress = address_;
  init_req.euiccInfo1 = std::move(info1);
  RSP_TRY(std::string init_body, post_es9(address_, es9::Function::InitiateAuthentication, es9::encode_request(init_req)));
  auto init = es9::decode_initiate_authentication_response(init_body);
  if (!init) return es9_decode_error(init.error());
  transaction_id_ = init->transactionId;
  result.transaction_id = transaction_id_;

  // From here on the SM-DP+ holds a session: failures cancel it.
  step(Step::AuthenticateServer);
  sg::AuthenticateServerRequest auth_req;
  auth_req.serverSigned1 = init->serverSigned1;
  auth_req.serverSignature1 = init->serverSignature1;
  auth_req.euiccCiPKIdToBeUsed = init->euiccCiPKIdToBeUsed;
  auth_req.serverCertificate = init->serverCertificate;
  auto& ctx = auth_req.ctxParams1.set_ctxParamsForCommonAuthentication();
  if (!matching_id.empty()) ctx.matchingId = matching_id;
  ctx.deviceInfo.tac = options_.tac;
  ctx.deviceInfo.deviceCapabilities = options_.device_capabilities;
  ctx.deviceInfo.imei = options_.imei;
  auto auth_resp = es10(client_.authenticate_server(auth_req));
  if (!auth_resp) return unexpected(cancel(std::move(auth_resp).error()));
  if (const auto* err = auth_resp->authenticateResponseError()) {
    DownloadError e = error(current_, Source::Euicc, "eUICC refused AuthenticateServer").error();
    e.euicc_code = err->authenticateErrorCode;
    // The eUICC answer still goes to the SM-DP+ (it ends its session there).
    (void)post_es9(address_, es9::Function::AuthenticateClient,
              es9::encode_request(sg::AuthenticateClientRequest{transaction_id_, *auth_resp}));
    return unexpected(cancel(std::move(e), cancel_reason::kUndefinedReason));
  }
  if (!auth_resp->authenticateResponseOk()) {
    return unexpected(cancel(error(current_, Source::Es10Format, "unknown AuthenticateServer answer").error(),
                             cancel_reason::kUndefinedReason));
  }

  step(Step::AuthenticateClient);
  auto ac_body = post_es9(address_, es9::Function::AuthenticateClient,
                     es9::encode_request(sg::AuthenticateClientRequest{transaction_id_, *auth_resp}));
  if (!ac_body) return unexpected(cancel(std::move(ac_body).error()));
  auto auth_ok = es9::decode_authenticate_client_response(*ac_body);
  if (!auth_ok) return unexpected(cancel(es9_decode_error(auth_ok.error()).error()));
  result.profile_metadata = auth_ok->profileMetaData;
  result.iccid = auth_ok->profileMetaData.iccid;

  step(Step::ConfirmDownload);
  if (options_.confirm && !options_.confirm(auth_ok->profileMetaData)) {
    return unexpected(cancel(error(current_, Source::User, "the user declined the profile").error(),
                             cancel_reason::kEndUserRejection));
  }
  sg::PrepareDownloadRequest pd = auth_ok->prepareDownloadRequest;
  if (pd.smdpSigned2.ccRequiredFlag) {
    if (!confirmation_code || confirmation_code->empty()) {
      // Not a rejection: the user comes back with the code, and the order
      // must still be there then (postponed keeps it, SGP.22 §5.6.5).
      return unexpected(cancel(error(current_, Source::User, "the SM-DP+ requires a confirmation code").error(),
                               cancel_reason::kPostponed));
    }
    Bytes cc_hash = crypto::sha256(as_bytes(*confirmation_code));
    pd.hashCc = crypto::sha256(concat({cc_hash, transaction_id_}));
    wipe(cc_hash);
  } else {
    pd.hashCc.reset();
  }

  step(Step::PrepareDownload);
  auto pd_resp = es10(client_.prepare_download(pd));
  if (!pd_resp) return unexpected(cancel(std::move(pd_resp).error()));
  if (const auto* err = pd_resp->downloadResponseError()) {
    DownloadError e = error(current_, Source::Euicc, "eUICC refused PrepareDownload").error();
    e.euicc_code = err->downloadErrorCode;
    // SGP.22 §3.1.3.2: the eUICC's error goes to the SM-DP+ in
    // GetBoundProfilePackage, which ends its session with it.
    (void)post_es9(address_, es9::Function::GetBoundProfilePackage,
                   es9::encode_request(sg::GetBoundProfilePackageRequest{transaction_id_, *pd_resp}));
    return unexpected(cancel(std::move(e)));
  }
  if (!pd_resp->downloadResponseOk()) {
    return unexpected(cancel(error(current_, Source::Es10Format, "unknown PrepareDownload answer").error(),
                             cancel_reason::kUndefinedReason));
  }

  step(Step::GetBoundProfilePackage);
  auto gbpp_body = post_es9(address_, es9::Function::GetBoundProfilePackage,
                       es9::encode_request(sg::GetBoundProfilePackageRequest{transaction_id_, *pd_resp}));
  if (!gbpp_body) return unexpected(cancel(std::move(gbpp_body).error()));
  auto gbpp = es9::decode_get_bound_profile_package_response(*gbpp_body);
  if (!gbpp) return unexpected(cancel(es9_decode_error(gbpp.error()).error()));
  if (gbpp->transactionId != transaction_id_) {
    return unexpected(cancel(error(current_, Source::Es9Format, "BPP for another transactionId").error(),
                             cancel_reason::kUndefinedReason));
  }

  step(Step::LoadBoundProfilePackage);
  RSP_TRY_VOID(load_bpp(gbpp->boundProfilePackage, result));
  return result;
}

expected<DownloadResult, DownloadError> Session::load_bpp(const sg::BoundProfilePackage& bpp,
                                                          DownloadResult& result) {
  auto segments = bpp_segments(asn1::encode(bpp));
  if (!segments) {
    return unexpected(cancel(error(current_, Source::Es9Format, "BPP: " + segments.error()).error(),
                             cancel_reason::kLoadBppExecutionError));
  }
  auto pir = client_.load_bound_profile_package(*segments);
  if (!pir) {
    // An answer that does not decode ends the eUICC's session itself; a
    // transport failure mid-load (or no answer at all) leaves the eUICC to
    // clean up, and the SM-DP+ session is cancelled.
    if (pir.error().kind == Es10Error::Kind::Format) {
      return error(current_, Source::Es10Format, "ProfileInstallationResult: " + pir.error().message);
    }
    // SGP.22 v2.2.2 §5.7.5: both ends keep the one-time keys of this package,
    // so a new session may load it again; the SM-DP+ session just times out.
    if (may_retry_load_) {
      load_interrupted_ = true;
      return unexpected(from_es10(pir.error()));
    }
    return unexpected(cancel(from_es10(pir.error()), cancel_reason::kLoadBppExecutionError));
  }
  result.installation_result = *pir;
  const auto& final_result = pir->profileInstallationResultData.finalResult;
  // The result is itself the install notification: deliver it either way.
  deliver_notification(result);
  if (const auto* ok = final_result.successResult()) {
    result.isdp_aid = ok->aid;
    return result;
  }
  DownloadError e = error(Step::LoadBoundProfilePackage, Source::Euicc, "the eUICC did not install the profile").error();
  if (const auto* err = final_result.errorResult()) {
    e.euicc_code = err->errorReason;
    e.bpp_command_id = err->bppCommandId;
    // The card answers with codes only; an SM-DP+ that overshoots SGP.22's
    // segment size (§2.5.3: 1020 bytes, tag, length and MAC included) is
    // the usual cause of a structure error, and the LPA can see it.
    std::size_t largest = 0;
    for (const auto& s : *segments) largest = std::max(largest, s.size());
    if (err->errorReason == asn1::sgp22::ErrorReason_values::scp03tStructureError && largest > kSgp22MaxSegment + 4)
      e.message += " (a segment of the SM-DP+'s package exceeds SGP.22's 1020-byte limit)";
  }
  // The eUICC ended its session with the result; so did the SM-DP+ on receipt.
  return unexpected(std::move(e));
}

void Session::deliver_notification(DownloadResult& result) {
  if (options_.skip_notification) return;
  const auto& meta = result.installation_result.profileInstallationResultData.notificationMetadata;

  step(Step::RetrieveNotification);
  sg::PendingNotification pending;
  pending.set_profileInstallationResult(result.installation_result);
  if (auto stored = retrieve_notification(euicc_, meta.seqNumber)) pending = std::move(*stored);

  // Not delivered (no answer, or not 204): it stays on the eUICC for a later attempt.
  const std::string address = meta.notificationAddress.empty() ? address_ : meta.notificationAddress;
  const auto delivery = lpa::deliver_notification(euicc_, smdp_, pending, address, [this](Step s) { step(s); });
  result.notification_delivered = delivery.delivered;
  result.notification_removed = delivery.removed;
}

}  // namespace

std::int64_t failure_cancel_reason(const DownloadError& e) {
  // SGP.22 v2.2.2 §5.6.2: a refused or missing confirmation code leaves the
  // order to the SM-DP+'s attempt counter (8.2.7 / 6.4 once it runs out);
  // the user retries with the right code, so the download is postponed, not
  // ended: undefinedReason would end the order (§5.6.5) after one typo.
  if (e.source == DownloadError::Source::Es9Function && e.subject_code == "8.2.7" &&
      (e.reason_code == "3.8" || e.reason_code == "2.2"))
    return cancel_reason::kPostponed;
  if (e.source == DownloadError::Source::Es9Transport && e.timed_out) return cancel_reason::kTimeout;
  return cancel_reason::kUndefinedReason;
}

const char* to_string(Step s) {
  switch (s) {
    case Step::ParseActivationCode: return "ParseActivationCode";
    case Step::GetEuiccInfo1: return "GetEUICCInfo1";
    case Step::GetEuiccChallenge: return "GetEUICCChallenge";
    case Step::InitiateAuthentication: return "InitiateAuthentication";
    case Step::AuthenticateServer: return "AuthenticateServer";
    case Step::AuthenticateClient: return "AuthenticateClient";
    case Step::ConfirmDownload: return "ConfirmDownload";
    case Step::PrepareDownload: return "PrepareDownload";
    case Step::GetBoundProfilePackage: return "GetBoundProfilePackage";
    case Step::LoadBoundProfilePackage: return "LoadBoundProfilePackage";
    case Step::RetrieveNotification: return "RetrieveNotificationsList";
    case Step::HandleNotification: return "HandleNotification";
    case Step::RemoveNotification: return "RemoveNotificationFromList";
    case Step::CancelSession: return "CancelSession";
    case Step::ListNotification: return "ListNotification";
  }
  return "?";
}

std::string DownloadError::to_string() const {
  std::string s = std::string(lpa::to_string(step)) + " failed: " + message;
  if (!subject_code.empty()) s += " (subject " + subject_code + ", reason " + reason_code + ")";
  if (euicc_code) s += " (eUICC code " + std::to_string(*euicc_code) + ")";
  if (sw) {
    static const char* kHex = "0123456789ABCDEF";
    std::string h;
    for (int shift = 12; shift >= 0; shift -= 4) h += kHex[(*sw >> shift) & 0xF];
    s += " (SW " + h + ")";
  }
  if (session_cancelled) s += "; session cancelled";
  return s;
}

expected<DownloadResult, DownloadError> download_profile(const std::string& activation_code,
                                                         const std::optional<std::string>& confirmation_code,
                                                         Es10Channel& euicc, Es9Transport& smdp,
                                                         const DownloadOptions& options) {
  if (options.progress) options.progress(Step::ParseActivationCode);
  auto ac = messages::parse_activation_code(activation_code);
  if (!ac) return error(Step::ParseActivationCode, Source::ActivationCode, ac.error().to_string());
  if (ac->confirmation_code_required && (!confirmation_code || confirmation_code->empty())) {
    return error(Step::ParseActivationCode, Source::User, "the activation code requires a confirmation code");
  }
  return download_profile(ac->smdp_address, ac->matching_id, confirmation_code, euicc, smdp, options);
}

expected<DownloadResult, DownloadError> download_profile(const std::string& smdp_address,
                                                         const std::string& matching_id,
                                                         const std::optional<std::string>& confirmation_code,
                                                         Es10Channel& euicc, Es9Transport& smdp,
                                                         const DownloadOptions& options) {
  PendingNotificationsReport first_pending;
  for (int retry = 0;; ++retry) {
    Session s(euicc, smdp, options, smdp_address, retry < options.load_retries);
    auto r = s.run(matching_id, confirmation_code);
    // The notifications were sent by the first attempt.
    if (retry == 0) first_pending = std::move(s.pending());
    if (!r && s.load_interrupted()) continue;
    if (r) {
      r->pending_notifications = std::move(first_pending);
      r->load_retries = retry;
      return r;
    }
    DownloadError e = std::move(r).error();
    e.pending_notifications = std::move(first_pending);
    return unexpected(std::move(e));
  }
}

expected<std::vector<Bytes>, std::string> bpp_segments(ByteView bpp_der) {
  auto outer = tlv::parse_one(bpp_der);
  if (!outer) return unexpected(outer.error().to_string());
  if (outer->tag.raw() != 0xBF36) return unexpected(std::string("not a BoundProfilePackage (BF36)"));
  if (outer->indefinite) return unexpected(std::string("indefinite length"));
  auto header = [](const tlv::Tlv& t) {
    return Bytes(t.encoded.begin(), t.encoded.begin() + static_cast<std::ptrdiff_t>(t.encoded.size() - t.value.size()));
  };
  tlv::Reader top(bpp_der);
  auto outer_again = top.next();
  if (!outer_again) return unexpected(outer_again.error().to_string());
  auto inner = top.enter(*outer_again);
  if (!inner) return unexpected(inner.error().to_string());

  std::vector<Bytes> out;
  auto iscr = inner->next();
  if (!iscr) return unexpected(iscr.error().to_string());
  if (iscr->tag.raw() != 0xBF23) return unexpected(std::string("BF23 expected first"));
  out.push_back(concat({header(*outer), iscr->encoded}));

  // A0 ('87'), A1 ('88'), optional A2 ('87'), A3 ('86'), in this order.
  struct Part { std::uint32_t tag; std::uint32_t item; bool optional; };
  for (const Part p : {Part{0xA0, 0x87, false}, Part{0xA1, 0x88, false}, Part{0xA2, 0x87, true},
                       Part{0xA3, 0x86, false}}) {
    auto peek = inner->peek_tag();
    if (!peek) return unexpected(peek.error().to_string());
    if (!*peek || (*peek)->raw() != p.tag) {
      if (p.optional) continue;
      return unexpected("missing " + to_hex(Bytes{static_cast<std::uint8_t>(p.tag)}));
    }
    auto part = inner->next();
    if (!part) return unexpected(part.error().to_string());
    auto items = inner->enter(*part);
    if (!items) return unexpected(items.error().to_string());
    bool first = true;
    while (!items->empty()) {
      auto item = items->next();
      if (!item) return unexpected(item.error().to_string());
      if (item->tag.raw() != p.item) return unexpected("unexpected element in " + to_hex(Bytes{static_cast<std::uint8_t>(p.tag)}));
      if (first) out.push_back(concat({header(*part), item->encoded}));
      else out.emplace_back(item->encoded.begin(), item->encoded.end());
      first = false;
    }
    if (first) return unexpected("empty " + to_hex(Bytes{static_cast<std::uint8_t>(p.tag)}));
  }
  if (!inner->empty()) return unexpected(std::string("unexpected element after A3"));
  return out;
}

}  // namespace rsp::lpa
