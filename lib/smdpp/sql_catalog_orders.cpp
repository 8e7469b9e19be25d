// The SQL catalog's order reads: the active order an eUICC means (by
// matchingId or by its EID), whether it may download it now, the order an
// event names, and the prepared profile find() hands out.

#include "profile_row.hpp"
#include "sql_catalog_detail.hpp"

namespace rsp::smdpp {

using store::value;

namespace sql_catalog_detail {

namespace {

const std::string kOrderRowSelect =
    "SELECT r.id, r.eid, r.cc_hash, r.cc_attempts_left, r.download_eid, r.state, r.expires_at, r.download_attempts, "
    "r.bpp_euicc_otpk, " +
    std::string(kProfileRowColumns) + ", o.name";
const std::string kOrderRowFrom =
    " FROM orders r JOIN profiles p ON p.iccid = r.iccid JOIN operators o ON o.id = p.operator_id ";
const std::string kOrderRowColumns = kOrderRowSelect + kOrderRowFrom;
/// The first column after the order row's: where its package is kept
/// (Inventory::kStoredPackageColumns), in the queries that read it along.
constexpr std::size_t kPackageColumn = 10 + kProfileRowWidth;

// A matchingId is unique per operator: two operators' active orders may
// carry the same one (order_for_matching_id() decides).
const std::string kMatchingIdWhere = "WHERE r.op_matching_id = $1 AND r.active = 1 ORDER BY r.id LIMIT 8";
const std::string kOrdersByMatchingId = kOrderRowColumns + kMatchingIdWhere;
// The same orders with where each one's package is kept, for find(): the
// order it hands out needs its package (unless prepared before), which a
// statement of its own would read in a read transaction of its own. A
// matchingId names one order in practice, so the package read along is
// the one used.
const std::string kOrdersByMatchingIdWithPackage =
    kOrderRowSelect + ", " + std::string(Inventory::kStoredPackageColumns) + kOrderRowFrom +
    "LEFT JOIN profile_packages k ON k.iccid = r.iccid " + kMatchingIdWhere;
// Default SM-DP+ / SM-DS case (no matchingId): the orders bound to this EID
// that it may mean, its own download in progress (a retry) first, then the
// released ones oldest first, then those it would be refused
// (order_for_eid() picks).
const std::string kOrdersByEid =
    kOrderRowColumns +
    "WHERE r.eid = $1 AND r.active = 1 AND p.state IN ('linked', 'confirmed', 'released', 'downloaded', 'error')"
    " ORDER BY CASE p.state WHEN 'downloaded' THEN 0 WHEN 'released' THEN 1 ELSE 2 END, r.id LIMIT 8";
const std::string kOrderById = kOrderRowColumns + "WHERE r.id = $1 AND r.active = 1";

OrderRow order_from_row(const store::Row& r) {
  OrderRow o;
  o.id = r.int64(0);
  o.eid = r.opt_text(1);
  o.cc_hash = r.opt_blob(2);
  o.cc_attempts_left = static_cast<int>(r.int64(3));
  o.download_eid = r.opt_text(4);
  o.state = r.text(5);
  o.expires_at = r.opt_int64(6);
  o.download_attempts = static_cast<int>(r.int64(7));
  o.bpp_euicc_otpk = r.opt_blob(8);
  read_profile_row(r, 9, o.profile);
  o.profile.operator_name = r.text(9 + kProfileRowWidth);
  if (r.size() > kPackageColumn)
    o.package = Inventory::StoredPackage{r.opt_blob(kPackageColumn), r.opt_text(kPackageColumn + 1)};
  return o;
}

}  // namespace

std::optional<OrderBlock> order_block(const OrderRow& o, const std::string& eid, std::int64_t now,
                                      int max_download_attempts) {
  switch (o.profile.state) {
    case ProfileState::Downloaded:
      // A retry (lost answer, restart): only by the eUICC the BPP went to.
      if (o.download_eid != std::optional<std::string>(eid)) return std::nullopt;
      break;
    case ProfileState::Released: break;
    case ProfileState::Allocated:
    case ProfileState::Linked:
    case ProfileState::Confirmed: return OrderBlock::NotReleased;
    case ProfileState::Error:
      return o.state == "blocked" ? OrderBlock::ConfirmationCodeExhausted : OrderBlock::NotReleased;
    default: return std::nullopt;
  }
  if (o.state == "blocked") return OrderBlock::ConfirmationCodeExhausted;
  if (o.expires_at && *o.expires_at < now) return OrderBlock::Expired;
  if (max_download_attempts > 0 && o.download_attempts >= max_download_attempts) return OrderBlock::AttemptsExhausted;
  return OrderBlock::None;
}

namespace {

/// Of the orders bound to `eid` (kOrdersByEid, best first), the first it may
/// download, else the first that refuses it with a code of its own.
SmdppResult<std::optional<OrderRow>> order_for_eid(store::Database& db, const std::string& eid, std::int64_t now,
                                                   int max_download_attempts) {
  RSP_DB_TRY(auto rows, db.query(kOrdersByEid, {value(eid)}));
  std::optional<OrderRow> refused;
  for (const auto& r : rows) {
    OrderRow o = order_from_row(r);
    const auto block = order_block(o, eid, now, max_download_attempts);
    if (block == OrderBlock::None) return std::optional<OrderRow>(std::move(o));
    if (block && !refused) refused = std::move(o);
  }
  return refused;
}

SmdppResult<std::optional<OrderRow>> order_row(store::Database& db, const std::string& sql, const store::Value& key) {
  RSP_DB_TRY(auto found, db.query_one(sql, {key}));
  if (!found) return std::optional<OrderRow>();
  return std::optional<OrderRow>(order_from_row(*found));
}

/// The active order an eUICC with `eid` means by `matching_id`. Orders bound
/// to another EID are not its; of the rest exactly one must remain (two
/// operators that chose the same matchingId for unbound orders make it
/// ambiguous: refused rather than guessed). With none of its own, another
/// EID's order is returned, which the core then refuses as bound elsewhere.
SmdppResult<std::optional<OrderRow>> order_for_matching_id(store::Database& db, const std::string& matching_id,
                                                           const std::string& eid) {
  RSP_DB_TRY(auto rows, db.query(kOrdersByMatchingIdWithPackage, {value(matching_id)}));
  if (rows.empty()) return std::optional<OrderRow>();
  std::vector<OrderRow> candidates;
  for (const auto& r : rows) {
    OrderRow o = order_from_row(r);
    if (!o.eid || *o.eid == eid) candidates.push_back(std::move(o));
  }
  if (candidates.empty()) return std::optional<OrderRow>(order_from_row(rows.front()));
  if (candidates.size() > 1)
    return smdpp_error(codes::kMatchingIdRefused, "matchingId " + matching_id + " names orders of " +
                                                      std::to_string(candidates.size()) + " operators");
  return std::optional<OrderRow>(std::move(candidates.front()));
}

}  // namespace

std::optional<std::int64_t> order_id_of(const std::string& key) {
  if (key.size() > 1 && key[0] == '#') return static_cast<std::int64_t>(std::strtoll(key.c_str() + 1, nullptr, 10));
  return std::nullopt;
}

SmdppResult<std::optional<OrderRow>> order_by_key(store::Database& db, const std::string& key) {
  const std::string lock = store::row_lock(db, store::RowLock::Wait, "r, p");
  if (const auto id = order_id_of(key)) return order_row(db, kOrderById + lock, value(*id));
  RSP_DB_TRY(auto rows, db.query(kOrdersByMatchingId + lock, {value(key)}));
  if (rows.size() != 1) return std::optional<OrderRow>();
  return std::optional<OrderRow>(order_from_row(rows.front()));
}

}  // namespace sql_catalog_detail

using namespace sql_catalog_detail;

SmdppResult<std::shared_ptr<const PreparedProfile>> SqlProfileCatalog::prepared(const ProfileRecord& p,
                                                                              const Inventory::StoredPackage* stored) {
  {
    std::lock_guard lock(mu_);
    if (auto it = cache_.find(p.iccid); it != cache_.end()) return it->second;
  }
  RSP_TRY(Bytes upp, stored ? inv_->open_stored_package(p.iccid, *stored) : inv_->profile_package(p.iccid));
  std::shared_ptr<const PreparedProfile> prepared;
  {
    // Preparation draws from rng_ when a PPK is used; one at a time.
    std::lock_guard lock(mu_);
    // Inventory::import_profile decoded the whole package, and refused it
    // otherwise, before storing it: a download only reads its header again.
    const auto split = options_.metadata_segment_sizes.find(p.profile_type);
    RSP_TRY(prepared, PreparedProfile::prepare(
                          std::move(upp),
                          ProfileMetadataInput{p.service_provider_name, p.profile_name, p.profile_class,
                                               split == options_.metadata_segment_sizes.end() ? 0 : split->second,
                                               notification_targets(p.profile_type)},
                          options_.use_ppk, rng_, PreparedProfile::PackageCheck::HeaderOnly));
    if (cache_.size() >= options_.cache_size) cache_.erase(cache_.begin());
    cache_[p.iccid] = prepared;
  }
  return prepared;
}

std::vector<NotificationTarget> SqlProfileCatalog::notification_targets(const std::string& profile_type) const {
  if (options_.notification_address.empty()) return {};
  const auto by_type = options_.notification_events_by_type.find(profile_type);
  const std::uint8_t events =
      by_type == options_.notification_events_by_type.end() ? options_.notification_events : by_type->second;
  if (events == 0) return {};
  return {NotificationTarget{events, options_.notification_address}};
}

SmdppResult<std::optional<ProfileOrder>> SqlProfileCatalog::find_order(const std::string& matching_id,
                                                                          const std::string& eid) {
  RSP_TRY(auto order, matching_id.empty()
                          ? order_for_eid(inv_->db(), eid, inv_->now(), options_.max_download_attempts)
                          : order_for_matching_id(inv_->db(), matching_id, eid));
  if (!order) return std::optional<ProfileOrder>();
  // Another EID's order goes back too: the core refuses it for the EID first.
  const auto block = order_block(*order, eid, inv_->now(), options_.max_download_attempts);
  if (!block) return std::optional<ProfileOrder>();
  ProfileOrder out;
  if (*block == OrderBlock::None) {
    RSP_TRY(out.profile, prepared(order->profile, order->package ? &*order->package : nullptr));
    // A retry by the eUICC the BPP went to (order_block() let only it through).
    if (order->profile.state == ProfileState::Downloaded) out.bpp_euicc_otpk = order->bpp_euicc_otpk;
  }
  // The core reports events under this name (order_by_key).
  out.matching_id = "#" + std::to_string(order->id);
  out.eid = order->eid;
  out.cc_hash = order->cc_hash;
  out.cc_attempts_left = order->cc_attempts_left;
  out.block = *block;
  return std::optional<ProfileOrder>(std::move(out));
}

SmdppResult<std::optional<ProfileOrder>> SqlProfileCatalog::find(const std::string& matching_id,
                                                                  const std::string& eid) {
  auto r = find_order(matching_id, eid);
  if (!r) note(r.error());
  return r;
}

}  // namespace rsp::smdpp
