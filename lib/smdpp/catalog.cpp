#include "rsp/smdpp/catalog.hpp"

#include "rsp/asn1/iccid_coding.hpp"
#include "rsp/asn1/runtime.hpp"
#include "rsp/asn1/upp.hpp"
#include "rsp/crypto/random.hpp"

namespace rsp::smdpp {

bool cancel_keeps_order(std::int64_t reason) {
  return reason == cancel_reason::kPostponed || reason == cancel_reason::kTimeout;
}

std::string cancel_reason_name(std::int64_t reason) {
  switch (reason) {
    case cancel_reason::kEndUserRejection: return "endUserRejection";
    case cancel_reason::kPostponed: return "postponed";
    case cancel_reason::kTimeout: return "timeout";
    case cancel_reason::kPprNotAllowed: return "pprNotAllowed";
    case cancel_reason::kMetadataMismatch: return "metadataMismatch";
    case cancel_reason::kLoadBppExecutionError: return "loadBppExecutionError";
    case cancel_reason::kUndefinedReason: return "undefinedReason";
    default: return "reason " + std::to_string(reason);
  }
}

std::optional<codes::Code> order_block_code(OrderBlock block) {
  switch (block) {
    case OrderBlock::None: return std::nullopt;
    case OrderBlock::NotReleased: return codes::kProfileNotReleased;
    case OrderBlock::Expired: return codes::kDownloadOrderExpired;
    case OrderBlock::AttemptsExhausted: return codes::kDownloadAttemptsExceeded;
    case OrderBlock::ConfirmationCodeExhausted: return codes::kConfirmationCodeRetriesExceeded;
  }
  return codes::kExecutionError;
}


namespace sg = asn1::sgp22;

namespace {

/// The ICCID of the package's ProfileHeader, its first element; with
/// `whole`, every other element is decoded too.
SmdppResult<Bytes> header_iccid(ByteView upp, bool whole) {
  std::optional<Bytes> iccid;
  bool first = true;
  auto visit = [&](const asn1::saip::ProfileElement& pe) {
    if (first && pe.header()) iccid = pe.header()->iccid;
    first = false;
    return whole;
  };
  // SAIP packages are DER in practice; tolerate BER as the TCA format allows it.
  auto decoded = asn1::for_each_profile_element(upp, {}, visit);
  if (!decoded) {
    first = true;
    iccid.reset();
    decoded = asn1::for_each_profile_element(upp, asn1::DecodeOptions{tlv::Mode::Ber}, visit);
  }
  if (!decoded) return smdpp_error(codes::kInvalidRequest, "profile package: " + decoded.error().to_string());
  if (!iccid) return smdpp_error(codes::kInvalidRequest, "profile package does not start with a ProfileHeader");
  return std::move(*iccid);
}

}  // namespace

SmdppResult<std::shared_ptr<const PreparedProfile>> PreparedProfile::prepare(Bytes upp, ProfileMetadataInput meta,
                                                                             bool use_ppk, crypto::Random& rng,
                                                                             PackageCheck check) {
  RSP_TRY(Bytes iccid, header_iccid(upp, check == PackageCheck::Whole));

  std::shared_ptr<PreparedProfile> p(new PreparedProfile());
  // StoreMetadata carries SGP.22's Iccid (EF.ICCID coding); the SAIP header
  // has it in plain BCD.
  p->metadata_.iccid = asn1::iccid_in_ef_coding(iccid);
  p->metadata_.serviceProviderName = std::move(meta.service_provider_name);
  p->metadata_.profileName = std::move(meta.profile_name);
  p->metadata_.profileClass = meta.profile_class;
  if (!meta.notifications.empty()) {
    auto& list = p->metadata_.notificationConfigurationInfo.emplace();
    for (auto& n : meta.notifications) {
      if (n.events == 0 || n.address.empty()) continue;
      sg::NotificationConfigurationInformation info;
      info.profileManagementOperation = notification_event_bits(n.events);
      info.notificationAddress = std::move(n.address);
      list.push_back(std::move(info));
    }
    if (list.empty()) p->metadata_.notificationConfigurationInfo.reset();
  }
  p->metadata_der_ = asn1::encode(p->metadata_);
  if (meta.metadata_segment_size > 0 && meta.metadata_segment_size < crypto::kBspMaxPayload)
    p->metadata_segment_size_ = meta.metadata_segment_size;
  p->upp_ = std::move(upp);

  if (use_ppk) {
    // SGP.22 §2.5.5: the profile is protected once with the PPK; each session
    // only sends the PPK itself inside ReplaceSessionKeys.
    crypto::BspKeys keys(rng.bytes(16), rng.bytes(16), rng.bytes(16));
    sg::ReplaceSessionKeysRequest rsk{keys.initial_mcv, keys.s_enc, keys.s_mac};
    p->rsk_der_ = asn1::encode(rsk);
    wipe(rsk.ppkEnc);
    wipe(rsk.ppkCmac);
    crypto::BspSession session(keys);
    auto segs = session.encrypt_and_mac_segments(0x86, p->upp_);
    if (!segs) return smdpp_error(codes::kExecutionError, "profile protection failed");
    p->ppk_segments_.reserve(segs->size());
    for (const auto& s : *segs) {
      auto e = tlv::parse_one(s);
      if (!e) return smdpp_error(codes::kExecutionError, "profile protection produced a bad segment");
      p->ppk_segments_.emplace_back(e->value.begin(), e->value.end());
    }
    p->ppk_ = std::move(keys);
  }
  return std::shared_ptr<const PreparedProfile>(std::move(p));
}

InstallOutcome install_outcome(const sg::ProfileInstallationResult& pir, ByteView order_iccid) {
  const auto& data = pir.profileInstallationResultData;
  if (data.finalResult.successResult()) return InstallOutcome::Installed;
  const auto* error = data.finalResult.errorResult();
  // The ICCID the eUICC names must be this order's: a refusal about another
  // profile says nothing about this one.
  const auto& named = data.notificationMetadata.iccid;
  if (error && error->errorReason == sg::ErrorReason_values::installFailedDueToIccidAlreadyExistsOnEuicc && named &&
      !order_iccid.empty() && asn1::iccid_in_ef_coding(*named) == asn1::iccid_in_ef_coding(order_iccid))
    return InstallOutcome::AlreadyOnEuicc;
  return InstallOutcome::Failed;
}

void InMemoryProfileCatalog::add(ProfileOrder order) {
  std::lock_guard lock(mu_);
  std::string key = order.matching_id;
  orders_[key] = std::move(order);
}

SmdppResult<std::optional<ProfileOrder>> InMemoryProfileCatalog::find(const std::string& matching_id,
                                                                       const std::string& eid) {
  std::lock_guard lock(mu_);
  if (!matching_id.empty()) {
    auto it = orders_.find(matching_id);
    if (it == orders_.end()) return std::optional<ProfileOrder>();
    return std::optional<ProfileOrder>(it->second);
  }
  for (const auto& [id, order] : orders_)
    if (order.eid && *order.eid == eid) return std::optional<ProfileOrder>(order);
  return std::optional<ProfileOrder>();
}

SmdppResult<int> InMemoryProfileCatalog::record_cc_failure(const std::string& matching_id) {
  std::lock_guard lock(mu_);
  auto it = orders_.find(matching_id);
  if (it == orders_.end()) return 0;
  if (it->second.cc_attempts_left > 0) --it->second.cc_attempts_left;
  events_[matching_id].push_back(OrderEvent::CcRefused);
  return it->second.cc_attempts_left;
}

SmdppResult<void> InMemoryProfileCatalog::record(const std::string& matching_id, OrderEvent event) {
  std::lock_guard lock(mu_);
  events_[matching_id].push_back(event);
  return {};
}

SmdppResult<InstallOutcome> InMemoryProfileCatalog::record_install_result(
    const std::string& matching_id, const sg::ProfileInstallationResult& pir) {
  Bytes iccid;
  {
    std::lock_guard lock(mu_);
    if (auto it = orders_.find(matching_id); it != orders_.end() && it->second.profile)
      iccid = it->second.profile->iccid();
  }
  const InstallOutcome outcome = install_outcome(pir, iccid);
  RSP_TRY_VOID(record(matching_id, outcome == InstallOutcome::Failed ? OrderEvent::InstallFailed : OrderEvent::Installed));
  return outcome;
}

std::vector<OrderEvent> InMemoryProfileCatalog::events(const std::string& matching_id) const {
  std::lock_guard lock(mu_);
  auto it = events_.find(matching_id);
  return it == events_.end() ? std::vector<OrderEvent>{} : it->second;
}

}  // namespace rsp::smdpp
