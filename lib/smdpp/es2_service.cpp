#include "rsp/smdpp/es2_service.hpp"

#include <algorithm>

#include "db_try.hpp"
#include "rsp/smdpp/es2_codes.hpp"
#include "rsp/store/locking.hpp"

namespace rsp::smdpp {

using store::value;

bool is_valid_matching_id(std::string_view id) {
  return !id.empty() && id.size() <= 64 && std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || c == '-';
  });
}

Es2Service::Es2Service(std::shared_ptr<Inventory> inventory, Es2Config config, crypto::Random& rng)
    : inv_(std::move(inventory)), config_(std::move(config)), rng_(rng) {}

std::string Es2Service::new_matching_id() {
  // 20 symbols of a 32-letter alphabet without look-alikes (100 bits), in
  // groups of five: easy to type when the QR code cannot be scanned.
  static constexpr char kAlphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  Bytes r;
  {
    std::lock_guard lock(rng_mu_);
    r = rng_.bytes(20);
  }
  std::string out;
  for (std::size_t i = 0; i < r.size(); ++i) {
    if (i && i % 5 == 0) out.push_back('-');
    out.push_back(kAlphabet[r[i] & 0x1F]);
  }
  return out;
}

namespace {

/// The profile when it exists and belongs to `op`; else 8.2.1/3.9.
SmdppResult<ProfileRecord> own_profile(Inventory& inv, const std::string& op, const std::string& iccid) {
  if (iccid.empty()) return smdpp_error(es2codes::kMandatoryMissing, "iccid is missing");
  RSP_TRY(auto p, inv.profile(iccid, op));
  if (!p) return smdpp_error(es2codes::kIccidUnknown, "unknown ICCID");
  return std::move(*p);
}

SmdppResult<void> check_operator(Inventory& inv, const std::string& op) {
  if (op.empty()) return smdpp_error(es2codes::kRequesterUnknown, "no function requester");
  RSP_TRY(auto id, inv.operator_id(op));
  if (!id) return smdpp_error(es2codes::kRequesterUnknown, "unknown function requester");
  return {};
}

}  // namespace

SmdppResult<std::string> Es2Service::download_order(const std::string& op, const DownloadOrderRequest& req) {
  RSP_TRY_VOID(check_operator(*inv_, op));
  if (req.eid && !is_valid_eid(*req.eid)) return smdpp_error(es2codes::kEidInvalid, "eid is not 32 digits");
  if (!req.iccid && !req.profile_type)
    return smdpp_error(es2codes::kConditionalMissing, "either iccid or profileType is required");
  std::optional<std::int64_t> expires_at = req.expires_at;
  if (expires_at && *expires_at <= inv_->now())
    return smdpp_error(es2codes::kInvalidParameter, "orderExpiry is not in the future");
  if (!expires_at && config_.order_validity) expires_at = inv_->now() + config_.order_validity->count();

  RSP_DB_TRY(auto tx, inv_->db().begin());
  std::string iccid;
  if (req.iccid) {
    RSP_TRY(auto p, own_profile(*inv_, op, *req.iccid));
    if (req.profile_type && p.profile_type != *req.profile_type)
      return smdpp_error(es2codes::kProfileTypeRefused, "the profile is not of the requested profileType");
    if (p.state != ProfileState::Available)
      return smdpp_error(es2codes::kIccidInUse, "the profile is not available (" + std::string(to_string(p.state)) + ")");
    iccid = p.iccid;
  } else {
    // Instances taking profiles of one type at the same time each get
    // another: a profile a concurrent DownloadOrder holds is passed over
    // (SKIP LOCKED). PostgreSQL checks the row again after locking it and
    // may then return none although others remain (one allocated meanwhile):
    // a few more looks before the type counts as used up.
    const std::string take = "SELECT p.iccid FROM profiles p JOIN operators o ON o.id = p.operator_id"
                             " WHERE o.name = $1 AND p.profile_type = $2 AND p.state = 'available'"
                             " ORDER BY p.iccid LIMIT 1" +
                             store::row_lock(inv_->db(), store::RowLock::SkipLocked, "p");
    std::optional<store::Row> row;
    for (int look = 0; look < 3 && !row; ++look) {
      RSP_DB_TRY(row, inv_->db().query_one(take, {value(op), value(*req.profile_type)}));
    }
    if (!row) {
      RSP_DB_TRY(auto any, inv_->db().query_one(
                               "SELECT 1 FROM profiles p JOIN operators o ON o.id = p.operator_id"
                               " WHERE o.name = $1 AND p.profile_type = $2 LIMIT 1",
                               {value(op), value(*req.profile_type)}));
      if (!any) return smdpp_error(es2codes::kProfileTypeUnknown, "unknown profileType");
      return smdpp_error(es2codes::kProfileTypeUnavailable, "no profile of this profileType is available");
    }
    iccid = row->text(0);
  }
  RSP_TRY(auto op_id, inv_->operator_id(op));
  const std::int64_t t = inv_->now();
  RSP_DB_TRY(auto ins, inv_->db().query(
                           "INSERT INTO orders (iccid, operator_id, eid, cc_attempts_left, state, active, created_at,"
                           " updated_at, expires_at) VALUES ($1, $2, $3, $4, 'open', 1, $5, $5, $6) RETURNING id",
                           {value(iccid), value(*op_id), value(req.eid), value(config_.cc_attempts), value(t),
                            value(expires_at)}));
  const std::int64_t order_id = ins.empty() ? 0 : ins.front().int64(0);
  RSP_TRY_VOID(inv_->transition(iccid, req.eid ? ProfileState::Linked : ProfileState::Allocated, "ES2+ DownloadOrder",
                                order_id));
  RSP_DB_TRY_VOID(tx.commit());
  return iccid;
}

SmdppResult<ConfirmOrderResult> Es2Service::confirm_order(const std::string& op, const ConfirmOrderRequest& req) {
  RSP_TRY_VOID(check_operator(*inv_, op));
  if (req.eid && !is_valid_eid(*req.eid)) return smdpp_error(es2codes::kEidInvalid, "eid is not 32 digits");
  if (req.matching_id && !req.matching_id->empty() && !is_valid_matching_id(*req.matching_id))
    return smdpp_error(es2codes::kMatchingIdInvalid, "matchingId has characters outside [0-9A-Z-]");
  if (req.confirmation_code && (req.confirmation_code->empty() || req.confirmation_code->size() > 64))
    return smdpp_error(es2codes::kConfirmationCodeInvalid, "confirmationCode must have 1 to 64 characters");
  if (req.expires_at && *req.expires_at <= inv_->now())
    return smdpp_error(es2codes::kInvalidParameter, "orderExpiry is not in the future");

  RSP_DB_TRY(auto tx, inv_->db().begin());
  RSP_TRY(auto p, own_profile(*inv_, op, req.iccid));
  if (p.state != ProfileState::Allocated && p.state != ProfileState::Linked)
    return smdpp_error(es2codes::kIccidInvalidTransition,
                       "ConfirmOrder needs an allocated or linked profile (" + std::string(to_string(p.state)) + ")");
  RSP_TRY(auto order, inv_->active_order(p.iccid));
  if (!order) return smdpp_error(es2codes::kIccidInvalidTransition, "no download order for this profile");
  std::optional<std::string> eid = order->eid;
  if (req.eid) {
    if (eid && *eid != *req.eid) return smdpp_error(es2codes::kEidInvalidAssociation, "not the EID of the order");
    eid = req.eid;
  }
  if (req.smds_address && !eid)
    return smdpp_error(es2codes::kEidMissing, "an SM-DS event needs the EID (none given and none in the order)");
  std::string matching_id;
  if (req.matching_id && !req.matching_id->empty()) {
    matching_id = *req.matching_id;
    // Unique per operator: whether another operator uses it is not this one's business.
    RSP_DB_TRY(auto used, inv_->db().query_one("SELECT 1 FROM orders r JOIN operators o ON o.id = r.operator_id"
                                               " WHERE o.name = $1 AND r.op_matching_id = $2",
                                               {value(op), value(matching_id)}));
    if (used) return smdpp_error(es2codes::kMatchingIdInUse, "matchingId already in use by one of your orders");
  } else {
    for (int i = 0; i < 8 && matching_id.empty(); ++i) {
      std::string candidate = new_matching_id();
      RSP_DB_TRY(auto used, inv_->db().query_one("SELECT 1 FROM orders WHERE op_matching_id = $1", {value(candidate)}));
      if (!used) matching_id = std::move(candidate);
    }
    if (matching_id.empty()) return smdpp_error(es2codes::kExecutionError, "no free matchingId");
  }
  std::optional<Bytes> cc_hash;
  if (req.confirmation_code) cc_hash = sha256(as_bytes(*req.confirmation_code));
  RSP_DB_TRY_VOID(inv_->db().execute(
      "UPDATE orders SET op_matching_id = $1, eid = $2, cc_hash = $3, smds_address = $4, updated_at = $5,"
      " expires_at = COALESCE($7, expires_at) WHERE id = $6",
      {value(matching_id), value(eid), value(cc_hash), value(req.smds_address), value(inv_->now()), value(order->id),
       value(req.expires_at)}));
  RSP_TRY_VOID(inv_->transition(p.iccid, req.release_flag ? ProfileState::Released : ProfileState::Confirmed,
                                req.release_flag ? "ES2+ ConfirmOrder (released)" : "ES2+ ConfirmOrder", order->id));
  RSP_DB_TRY_VOID(tx.commit());
  return ConfirmOrderResult{eid, matching_id, config_.smdp_address};
}

SmdppResult<void> Es2Service::cancel_order(const std::string& op, const CancelOrderRequest& req) {
  RSP_TRY_VOID(check_operator(*inv_, op));
  RSP_DB_TRY(auto tx, inv_->db().begin());
  RSP_TRY(auto p, own_profile(*inv_, op, req.iccid));
  RSP_TRY(auto order, inv_->active_order(p.iccid));
  if (!order || p.state == ProfileState::Available || p.state == ProfileState::Installed ||
      p.state == ProfileState::Unavailable)
    return smdpp_error(es2codes::kIccidInvalidTransition,
                       "no download order to cancel (" + std::string(to_string(p.state)) + ")");
  if (req.eid && (!order->eid || *order->eid != *req.eid))
    return smdpp_error(es2codes::kEidInvalidAssociation, "not the EID of the order");
  if (req.matching_id && !req.matching_id->empty() && (!order->matching_id || *order->matching_id != *req.matching_id))
    return smdpp_error(es2codes::kMatchingIdInvalidAssociation, "not the matchingId of the order");
  // A Bound Profile Package of this order went to an eUICC: whatever the
  // state says (downloaded, or error after a failed or unreported
  // installation), the profile may be on that card, and making it available
  // could put one ICCID on two. SGP.22 §5.3.3 lets the SM-DP+ refuse the
  // transition (8.2.1 / 3.5, invalid transition); Unavailable stays allowed,
  // and only the operator's statement that the profile is on no card
  // (Inventory::reinstate_profile) returns it to the pool.
  if (req.final_status == FinalProfileStatus::Available && order->download_eid)
    return smdpp_error(es2codes::kIccidInvalidTransition,
                       "a bound profile package of this order was issued to an eUICC: the profile is not made "
                       "available again (finalProfileStatusIndicator Unavailable is accepted)");
  const ProfileState to =
      req.final_status == FinalProfileStatus::Available ? ProfileState::Available : ProfileState::Unavailable;
  RSP_DB_TRY_VOID(inv_->db().execute(
      "UPDATE orders SET state = 'cancelled', active = 0, updated_at = $2 WHERE id = $1",
      {value(order->id), value(inv_->now())}));
  RSP_TRY_VOID(inv_->transition(p.iccid, to, "ES2+ CancelOrder", order->id));
  RSP_DB_TRY_VOID(tx.commit());
  return {};
}

SmdppResult<void> Es2Service::release_profile(const std::string& op, const std::string& iccid) {
  RSP_TRY_VOID(check_operator(*inv_, op));
  RSP_DB_TRY(auto tx, inv_->db().begin());
  RSP_TRY(auto p, own_profile(*inv_, op, iccid));
  if (p.state != ProfileState::Confirmed)
    return smdpp_error(es2codes::kIccidInvalidTransition,
                       "ReleaseProfile needs a confirmed profile (" + std::string(to_string(p.state)) + ")");
  RSP_TRY(auto order, inv_->active_order(p.iccid));
  RSP_TRY_VOID(inv_->transition(p.iccid, ProfileState::Released, "ES2+ ReleaseProfile",
                                order ? std::optional<std::int64_t>(order->id) : std::nullopt));
  RSP_DB_TRY_VOID(tx.commit());
  return {};
}

}  // namespace rsp::smdpp
