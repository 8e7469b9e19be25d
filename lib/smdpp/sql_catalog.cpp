#include "rsp/smdpp/sql_catalog.hpp"
#include "rsp/common/secret_text.hpp"

#include <ctime>

#include "db_try.hpp"
#include "profile_row.hpp"
#include "rsp/asn1/runtime.hpp"
#include "rsp/messages/iccid.hpp"
#include "rsp/smdpp/es2_codes.hpp"
#include "rsp/store/locking.hpp"

namespace rsp::smdpp {

using store::value;

namespace {

// notificationPointId values of SGP.22 §5.3.5.
constexpr int kPointConfirmationFailure = 2;
constexpr int kPointBppDownload = 3;
constexpr int kPointBppInstallation = 4;
// The points of the notifications after the installation (enable, disable,
// delete). SGP.22 v2.2.2 §5.3.5 lists 1 to 4 for the download; these values
// could not be confirmed from the text at hand and are this SM-DP+'s choice,
// the next numbers in NotificationEvent order.
constexpr int kPointProfileEnabled = 5;
constexpr int kPointProfileDisabled = 6;
constexpr int kPointProfileDeleted = 7;

/// An active order with what the catalog uses of its profile, read by one
/// statement: each statement outside a transaction is a read transaction of
/// its own (wal-index locks), and the catalog reads both on every ES9+ step.
struct OrderRow {
  std::int64_t id = 0;
  std::optional<std::string> eid;  ///< the EID the order is bound to
  std::optional<Bytes> cc_hash;
  int cc_attempts_left = 0;
  std::optional<std::string> download_eid;  ///< the eUICC a BPP of this order went to
  std::string state;                        ///< the order's: open, blocked, done, cancelled
  std::optional<std::int64_t> expires_at;
  int download_attempts = 0;
  std::optional<Bytes> bpp_euicc_otpk;      ///< the otPK.EUICC.ECKA the issued BPP was bound with
  ProfileRecord profile;                    ///< with operator_name: the recipient of the order's progress
};

const std::string kOrderRowColumns =
    "SELECT r.id, r.eid, r.cc_hash, r.cc_attempts_left, r.download_eid, r.state, r.expires_at, r.download_attempts, "
    "r.bpp_euicc_otpk, " +
    std::string(kProfileRowColumns) +
    ", o.name FROM orders r JOIN profiles p ON p.iccid = r.iccid JOIN operators o ON o.id = p.operator_id ";

// A matchingId is unique per operator: two operators' active orders may
// carry the same one (order_for_matching_id() decides).
const std::string kOrdersByMatchingId =
    kOrderRowColumns + "WHERE r.op_matching_id = $1 AND r.active = 1 ORDER BY r.id LIMIT 8";
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
  return o;
}

/// Whether the order can be downloaded by `eid` now (SGP.22 v2.2.2 §5.6.2);
/// nullopt when the eUICC is refused as if there were no such order (a
/// download of another eUICC, an installed profile).
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
  RSP_DB_TRY(auto rows, db.query(kOrdersByMatchingId, {value(matching_id)}));
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

/// The order id in `key` when it is "#<id>", the name this catalog gives
/// every order it hands out.
std::optional<std::int64_t> order_id_of(const std::string& key) {
  if (key.size() > 1 && key[0] == '#') return static_cast<std::int64_t>(std::strtoll(key.c_str() + 1, nullptr, 10));
  return std::nullopt;
}

/// The active order the core names `key`: "#<id>", or a matchingId that
/// names one active order only (it may name orders of several operators).
/// Called inside the transaction that records an event of the order: the
/// order and profile rows stay as read until it ends (row_lock), so that what
/// it decides from them (attempts left, the state) still holds when it
/// writes, also when another instance records an event of the same order at
/// the same time.
SmdppResult<std::optional<OrderRow>> order_by_key(store::Database& db, const std::string& key) {
  const std::string lock = store::row_lock(db, store::RowLock::Wait, "r, p");
  if (const auto id = order_id_of(key)) return order_row(db, kOrderById + lock, value(*id));
  RSP_DB_TRY(auto rows, db.query(kOrdersByMatchingId + lock, {value(key)}));
  if (rows.size() != 1) return std::optional<OrderRow>();
  return std::optional<OrderRow>(order_from_row(rows.front()));
}

/// The one-time private key as sealed with its order: a curve tag and the
/// raw scalar (33 bytes), cheap to make on every download; rows sealed before
/// hold the key's PKCS#8 PEM, which still reads.
constexpr std::uint8_t kKeptNist = 0x01;
constexpr std::uint8_t kKeptBrainpool = 0x02;
constexpr std::size_t kKeptScalarBytes = 32;

Bytes kept_key_plain(crypto::Curve curve, ByteView scalar) {
  Bytes out;
  out.reserve(1 + scalar.size());
  out.push_back(curve == crypto::Curve::BrainpoolP256r1 ? kKeptBrainpool : kKeptNist);
  out.insert(out.end(), scalar.begin(), scalar.end());
  return out;
}

crypto::CryptoResult<crypto::EcKey> kept_key_from_plain(ByteView plain) {
  if (plain.size() == 1 + kKeptScalarBytes && (plain[0] == kKeptNist || plain[0] == kKeptBrainpool))
    return crypto::EcKey::from_private_scalar(
        plain[0] == kKeptBrainpool ? crypto::Curve::BrainpoolP256r1 : crypto::Curve::NistP256, plain.subspan(1));
  return crypto::EcKey::from_pem(std::string_view(reinterpret_cast<const char*>(plain.data()), plain.size()));
}

/// The additional data a kept one-time key is sealed under: its order and
/// profile, so that a blob copied to another row does not open.
std::string one_time_key_label(std::int64_t order_id, const std::string& iccid) {
  return "smdpp-otsk/" + std::to_string(order_id) + "/" + iccid;
}

/// Runs one of the catalog's transactions again when the database ended it
/// for a deadlock with another instance's (store::retry_conflicts).
template <class F>
auto retried(F&& attempt) {
  return store::retry_conflicts(std::forward<F>(attempt), [](const SmdppError& e) { return e.conflict; });
}

}  // namespace

std::string utc_timestamp(std::int64_t t) {
  const std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

namespace {

/// The length of the well-formed UTF-8 sequence at `s[i]` (RFC 3629: no
/// overlong forms, no surrogates, at most U+10FFFF), 0 when there is none.
std::size_t utf8_sequence(std::string_view s, std::size_t i) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  if (c < 0x80) return 1;
  std::size_t n = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // the range of the second byte
  if (c >= 0xC2 && c <= 0xDF) n = 2;
  else if (c == 0xE0) n = 3, lo = 0xA0;
  else if (c == 0xED) n = 3, hi = 0x9F;
  else if (c >= 0xE1 && c <= 0xEF) n = 3;
  else if (c == 0xF0) n = 4, lo = 0x90;
  else if (c == 0xF4) n = 4, hi = 0x8F;
  else if (c >= 0xF1 && c <= 0xF3) n = 4;
  else return 0;
  if (i + n > s.size() || b(i + 1) < lo || b(i + 1) > hi) return 0;
  for (std::size_t k = 2; k < n; ++k)
    if (b(i + k) < 0x80 || b(i + k) > 0xBF) return 0;
  return n;
}

/// Appends `v` as a JSON string, escaped as nlohmann::json's dump() escapes
/// it (quote, backslash, b, f, n, r and t escaped by a backslash, other
/// control characters as six-character escapes with lowercase hex, UTF-8 as
/// it is); a byte that is not well-formed UTF-8 becomes U+FFFD, where dump()
/// would have thrown.
void append_json_string(std::string& out, std::string_view v) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (std::size_t i = 0; i < v.size();) {
    const char c = v[i];
    const auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (u < 0x20) {
          out += "\\u00";
          out += kHex[u >> 4];
          out += kHex[u & 0x0F];
        } else if (u < 0x80) {
          out += c;
        } else if (const std::size_t n = utf8_sequence(v, i); n > 0) {
          out.append(v.substr(i, n));
          i += n;
          continue;
        } else {
          out += "\\ufffd";
        }
    }
    ++i;
  }
  out += '"';
}

void append_json_member(std::string& out, std::string_view name, std::string_view value) {
  out += '"';
  out += name;  // the names are this file's own, nothing to escape
  out += "\":";
  append_json_string(out, value);
}

}  // namespace

std::string progress_payload(const std::optional<std::string>& eid, const std::string& iccid,
                             const std::string& profile_type, std::int64_t timestamp, int notification_point,
                             const std::optional<SmdppError>& failure, const Bytes* result_data) {
  // Written out directly, in the member order a JSON object would keep: two
  // of these are built per download (BPP issued, installation result), and a
  // document built and then dumped cost several times the text itself.
  std::string out;
  out.reserve(256 + (result_data ? result_data->size() * 4 / 3 + 4 : 0) + (failure ? failure->message.size() : 0));
  out += '{';
  if (eid) {
    append_json_member(out, "eid", *eid);
    out += ',';
  }
  append_json_member(out, "iccid", iccid);
  out += ',';
  append_json_member(out, "profileType", profile_type);
  out += ',';
  append_json_member(out, "timestamp", utc_timestamp(timestamp));
  out += ",\"notificationPointId\":";
  out += std::to_string(notification_point);
  out += ",\"notificationPointStatus\":{";
  if (failure) {
    append_json_member(out, "status", "Failed");
    out += ",\"statusCodeData\":{";
    append_json_member(out, "subjectCode", failure->subject_code);
    out += ',';
    append_json_member(out, "reasonCode", failure->reason_code);
    out += ',';
    append_json_member(out, "message", failure->message);
    out += '}';
  } else {
    append_json_member(out, "status", "Executed-Success");
  }
  out += '}';
  if (result_data) {
    out += ',';
    append_json_member(out, "resultData", base64_encode(*result_data));
  }
  out += '}';
  return out;
}

SqlProfileCatalog::SqlProfileCatalog(std::shared_ptr<Inventory> inventory, crypto::Random& rng,
                                     SqlCatalogOptions options)
    : inv_(std::move(inventory)), rng_(rng), options_(options) {}

void SqlProfileCatalog::note(const SmdppError& e) {
  std::lock_guard lock(mu_);
  last_error_ = e.subject_code + "/" + e.reason_code + " " + e.message;
}

std::string SqlProfileCatalog::last_error() const {
  std::lock_guard lock(mu_);
  return last_error_;
}

SmdppResult<std::shared_ptr<const PreparedProfile>> SqlProfileCatalog::prepared(const ProfileRecord& p) {
  {
    std::lock_guard lock(mu_);
    if (auto it = cache_.find(p.iccid); it != cache_.end()) return it->second;
  }
  RSP_TRY(Bytes upp, inv_->profile_package(p.iccid));
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
    RSP_TRY(out.profile, prepared(order->profile));
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

SmdppResult<int> SqlProfileCatalog::cc_failure(const std::string& matching_id) {
  RSP_DB_TRY(auto tx, inv_->db().begin());
  RSP_TRY(auto order, order_by_key(inv_->db(), matching_id));
  if (!order) return 0;
  const int left = std::max(0, order->cc_attempts_left - 1);
  RSP_DB_TRY_VOID(inv_->db().execute("UPDATE orders SET cc_attempts_left = $1, updated_at = $2 WHERE id = $3",
                                     {value(left), value(inv_->now()), value(order->id)}));
  const ProfileRecord& profile = order->profile;
  SmdppError failure{codes::kConfirmationCodeRefused.subject, codes::kConfirmationCodeRefused.reason,
                     "confirmation code refused"};
  if (left == 0) {
    failure = SmdppError{codes::kConfirmationCodeRetriesExceeded.subject,
                         codes::kConfirmationCodeRetriesExceeded.reason, "confirmation code attempts exhausted"};
    RSP_DB_TRY_VOID(inv_->db().execute("UPDATE orders SET state = 'blocked' WHERE id = $1", {value(order->id)}));
    if (profile.state == ProfileState::Released)
      RSP_TRY_VOID(inv_->transition(profile.iccid, ProfileState::Error, "confirmation code attempts exhausted",
                                    order->id, profile.state));
  }
  RSP_TRY_VOID(inv_->enqueue_progress_to(
      profile.operator_name,
      progress_payload(order->eid, profile.iccid, profile.profile_type, inv_->now(), kPointConfirmationFailure, failure)));
  RSP_DB_TRY_VOID(tx.commit());
  return left;
}

SmdppResult<int> SqlProfileCatalog::record_cc_failure(const std::string& matching_id) {
  auto r = retried([&] { return cc_failure(matching_id); });
  if (!r) note(r.error());
  return r;
}

SmdppResult<InstallOutcome> SqlProfileCatalog::record_checked(const std::string& matching_id, OrderEvent event,
                                                              const asn1::sgp22::ProfileInstallationResult* pir) {
  // An installation result (SGP.22 §5.6.4) needs no disk flush of its own:
  // it survives kill -9 as it is, and the next flushed commit (the next
  // download's BPP) takes it to disk. Lost with the machine before that, the
  // order is back where the result had not arrived: downloaded by this eUICC
  // only, its keys kept, which a retry by the card already handles (§5.7.6:
  // "ICCID already exists" from the card the BPP went to counts as
  // installed). So one download costs one flush, at GetBoundProfilePackage.
  RSP_DB_TRY(auto tx, pir ? inv_->db().begin_deferred_flush() : inv_->db().begin());
  std::optional<OrderRow> order;
  if (const auto id = order_id_of(matching_id); pir && id) {
    if (auto issued = take_issued(*id)) {
      // The order is still the active one (ES2+ or a reinstatement may have
      // ended it since, and a new order of the same profile may be under
      // way): its row only, kept as read like order_by_key's.
      RSP_DB_TRY(auto active, inv_->db().query_one("SELECT r.id FROM orders r WHERE r.id = $1 AND r.active = 1" +
                                                       store::row_lock(inv_->db(), store::RowLock::Wait, "r"),
                                                   {value(*id)}));
      if (active) {
        order.emplace();
        order->id = *id;
        order->eid = std::move(issued->eid);
        order->profile.iccid = std::move(issued->iccid);
        order->profile.profile_type = std::move(issued->profile_type);
        order->profile.operator_name = std::move(issued->operator_name);
        // As bpp_issued left it; transition() moves it on only from there.
        order->profile.state = ProfileState::Downloaded;
      }
    }
  }
  if (!order) {
    RSP_TRY(order, order_by_key(inv_->db(), matching_id));
  }
  if (!order) return smdpp_error(es2codes::kExecutionError, "event for an unknown order");
  const ProfileRecord& profile = order->profile;
  // An installation result decides its event with the order's ICCID.
  InstallOutcome outcome = event == OrderEvent::Installed ? InstallOutcome::Installed : InstallOutcome::Failed;
  Bytes result_data;
  if (pir) {
    outcome = install_outcome(*pir, messages::iccid_from_digits(profile.iccid).value_or(Bytes{}));
    event = outcome == InstallOutcome::Failed ? OrderEvent::InstallFailed : OrderEvent::Installed;
    result_data = asn1::encode(*pir);
  }
  std::optional<ProfileState> to;
  std::string cause;
  int point = kPointBppDownload;
  std::optional<SmdppError> failure;
  switch (event) {
    case OrderEvent::BppIssued:
      to = ProfileState::Downloaded;
      cause = "bound profile package issued";
      break;
    case OrderEvent::Installed:
      to = ProfileState::Installed;
      // SGP.22 §5.7.6: the eUICC refuses a package whose ICCID it holds; from
      // the eUICC this BPP went to, about this ICCID, that refusal means the
      // profile is on that card (an earlier installation whose notification
      // was lost). The operator is told of an installation (Executed-Success);
      // resultData carries the eUICC's result as it came.
      cause = outcome == InstallOutcome::AlreadyOnEuicc
                  ? "installation result: the ICCID already exists on the eUICC the BPP was issued to"
                  : "installation result: success";
      point = kPointBppInstallation;
      break;
    case OrderEvent::InstallFailed:
      to = ProfileState::Error;
      cause = "installation result: failure";
      point = kPointBppInstallation;
      failure = SmdppError{"8.2", "4.2", "profile installation failed on the eUICC"};
      break;
    case OrderEvent::Cancelled:
      if (profile.state == ProfileState::Downloaded) to = ProfileState::Error;
      cause = "download session cancelled";
      failure = SmdppError{"8.8", "4.2", "download session cancelled"};
      break;
    case OrderEvent::CcRefused:
      point = kPointConfirmationFailure;
      failure = SmdppError{codes::kConfirmationCodeRefused.subject, codes::kConfirmationCodeRefused.reason,
                           "confirmation code refused"};
      break;
  }
  if (event == OrderEvent::Installed) {
    // With the order done and the state on the eUICC, in the transition's own statements.
    Inventory::InstalledWrites writes;
    writes.done_order = order->id;
    if (pir) writes.card_seq = pir->profileInstallationResultData.notificationMetadata.seqNumber;
    RSP_TRY_VOID(inv_->transition_to_installed(profile.iccid, cause, profile.state, writes));
  } else if (to) {
    RSP_TRY_VOID(inv_->transition(profile.iccid, *to, cause, order->id, profile.state));
  }
  RSP_TRY_VOID(inv_->enqueue_progress_to(
      profile.operator_name, progress_payload(order->eid, profile.iccid, profile.profile_type, inv_->now(), point, failure,
                                      pir ? &result_data : nullptr)));
  RSP_DB_TRY_VOID(tx.commit());
  return outcome;
}

SmdppResult<void> SqlProfileCatalog::record(const std::string& matching_id, OrderEvent event) {
  auto r = retried([&] { return record_checked(matching_id, event); });
  if (!r) {
    note(r.error());
    return unexpected(r.error());
  }
  return {};
}

SmdppResult<InstallOutcome> SqlProfileCatalog::record_install_result(const std::string& matching_id,
                                                                     const asn1::sgp22::ProfileInstallationResult& pir) {
  auto r = retried([&] { return record_checked(matching_id, OrderEvent::InstallFailed, &pir); });
  if (!r) note(r.error());
  return r;
}

SmdppResult<void> SqlProfileCatalog::record_bpp_issued(const IssuedDownload& d) {
  return retried([&] { return bpp_issued(d); });
}

SmdppResult<void> SqlProfileCatalog::bpp_issued(const IssuedDownload& d) {
  RSP_DB_TRY(auto tx, inv_->db().begin());
  RSP_TRY(auto order, order_by_key(inv_->db(), d.matching_id));
  if (!order) return smdpp_error(es2codes::kExecutionError, "BPP issued for an unknown order");
  const ProfileRecord& profile = order->profile;
  // find() decided before; decided again here, in the transaction, against a
  // concurrent session and an order that expired or ran out of attempts since.
  const auto block = order_block(*order, d.eid, inv_->now(), options_.max_download_attempts);
  if (block != OrderBlock::None) {
    // Only a retry by the same eUICC may have another BPP.
    const auto code = block ? order_block_code(*block).value_or(codes::kProfileNotReleased) : codes::kProfileNotReleased;
    const SmdppError e{code.subject, code.reason,
                       "profile " + profile.iccid + " is " + std::string(to_string(profile.state)) +
                           (block ? "" : " for another eUICC")};
    note(e);
    return unexpected(e);
  }
  if (profile.state == ProfileState::Released)
    RSP_TRY_VOID(inv_->transition(profile.iccid, ProfileState::Downloaded, "bound profile package issued", order->id,
                                  profile.state));
  // The eUICC it went to and, unless a kept key pair was reused (then kept
  // as it is), the new one-time key pair replacing the one kept: one UPDATE.
  static const std::string kIssued =
      "UPDATE orders SET download_eid = $2, download_tid = $3, download_curve = $4, download_key = $5, updated_at = $6,"
      " download_attempts = download_attempts + 1";
  if (d.ot_key_reused) {
    RSP_DB_TRY_VOID(inv_->db().execute(
        kIssued + " WHERE id = $1",
        {value(order->id), value(d.eid), value(d.transaction_id), value(std::string(crypto::short_name(d.curve))),
         value(d.euicc_public_point), value(inv_->now())}));
  } else {
    auto kept = seal_one_time_key(order->id, profile.iccid, d);
    RSP_DB_TRY_VOID(inv_->db().execute(
        kIssued + ", bpp_euicc_otpk = $7, bpp_smdp_otsk = $8 WHERE id = $1",
        {value(order->id), value(d.eid), value(d.transaction_id), value(std::string(crypto::short_name(d.curve))),
         value(d.euicc_public_point), value(inv_->now()), kept ? value(d.euicc_otpk) : store::Value{},
         kept ? value(std::move(*kept)) : store::Value{}}));
  }
  RSP_TRY_VOID(inv_->enqueue_progress_to(
      profile.operator_name,
      progress_payload(order->eid, profile.iccid, profile.profile_type, inv_->now(), kPointBppDownload, std::nullopt)));
  RSP_DB_TRY_VOID(tx.commit());
  remember_issued(order->id, IssuedOrder{profile.iccid, profile.profile_type, profile.operator_name, order->eid});
  return {};
}

void SqlProfileCatalog::remember_issued(std::int64_t order_id, IssuedOrder o) {
  std::lock_guard lock(mu_);
  issued_[order_id] = std::move(o);
  issued_fifo_.push_back(order_id);
  while (issued_fifo_.size() > kIssuedOrdersKept) {
    // An id remembered again since stays in the deque twice; dropping the
    // older copy drops the newer entry too, which only costs its shortcut.
    issued_.erase(issued_fifo_.front());
    issued_fifo_.pop_front();
  }
}

std::optional<SqlProfileCatalog::IssuedOrder> SqlProfileCatalog::take_issued(std::int64_t order_id) {
  std::lock_guard lock(mu_);
  const auto it = issued_.find(order_id);
  if (it == issued_.end()) return std::nullopt;
  IssuedOrder o = std::move(it->second);
  issued_.erase(it);
  return o;
}

std::optional<Bytes> SqlProfileCatalog::seal_one_time_key(std::int64_t order_id, const std::string& iccid,
                                                         const IssuedDownload& d) {
  if (!d.smdp_ot_key || d.euicc_otpk.empty()) return std::nullopt;
  auto scalar = d.smdp_ot_key->private_scalar();
  if (!scalar) return std::nullopt;
  Bytes plain = kept_key_plain(d.smdp_ot_key->curve(), *scalar);
  wipe(*scalar);
  auto sealed = inv_->seal_secret(one_time_key_label(order_id, iccid), plain);
  wipe(plain);
  // Without a key-encryption key nothing is kept: a retry gets a fresh key pair.
  if (!sealed) return std::nullopt;
  return std::move(*sealed);
}

SmdppResult<std::optional<crypto::EcKey>> SqlProfileCatalog::kept_one_time_key(const std::string& matching_id,
                                                                               const std::string& eid,
                                                                               ByteView euicc_otpk) {
  const auto id = order_id_of(matching_id);
  if (!id) return std::optional<crypto::EcKey>();
  RSP_DB_TRY(auto row, inv_->db().query_one(
                           "SELECT r.iccid, r.download_eid, r.download_curve, r.bpp_euicc_otpk, r.bpp_smdp_otsk"
                           " FROM orders r JOIN profiles p ON p.iccid = r.iccid"
                           " WHERE r.id = $1 AND r.active = 1 AND p.state = 'downloaded'",
                           {value(*id)}));
  if (!row) return std::optional<crypto::EcKey>();
  const auto kept_otpk = row->opt_blob(3);
  const auto sealed = row->opt_blob(4);
  // Only the eUICC the BPP went to, with the very otPK.EUICC.ECKA it was bound with.
  if (row->opt_text(1) != std::optional<std::string>(eid) || !kept_otpk || !sealed ||
      !equal_ct(*kept_otpk, euicc_otpk))
    return std::optional<crypto::EcKey>();
  RSP_TRY(Bytes plain, inv_->open_secret(one_time_key_label(*id, row->text(0)), *sealed));
  auto key = kept_key_from_plain(plain);
  wipe(plain);
  if (!key) return smdpp_error(es2codes::kExecutionError, "the kept one-time key does not read");
  return std::optional<crypto::EcKey>(std::move(*key));
}

SmdppResult<void> SqlProfileCatalog::cancel(const std::string& matching_id, std::int64_t reason) {
  RSP_DB_TRY(auto tx, inv_->db().begin());
  RSP_TRY(auto order, order_by_key(inv_->db(), matching_id));
  if (!order) return smdpp_error(es2codes::kExecutionError, "cancel for an unknown order");
  const ProfileRecord& profile = order->profile;
  const std::string cause = "download session cancelled by the eUICC: " + cancel_reason_name(reason);
  const bool downloading = profile.state == ProfileState::Released || profile.state == ProfileState::Downloaded;
  if (downloading && !cancel_keeps_order(reason))
    RSP_TRY_VOID(inv_->transition(profile.iccid, ProfileState::Error, cause, order->id, profile.state));
  // SGP.22 §5.6.5: the operator hears of the cancelled session. The status
  // code data stays the execution error the other cancels report; the
  // reason is in its message (no code per reason could be confirmed).
  RSP_TRY_VOID(inv_->enqueue_progress_to(
      profile.operator_name, progress_payload(order->eid, profile.iccid, profile.profile_type, inv_->now(), kPointBppDownload,
                                      SmdppError{"8.8", "4.2", cause})));
  RSP_DB_TRY_VOID(tx.commit());
  return {};
}

SmdppResult<void> SqlProfileCatalog::record_cancel(const std::string& matching_id, std::int64_t reason) {
  auto r = retried([&] { return cancel(matching_id, reason); });
  if (!r) note(r.error());
  return r;
}

SmdppResult<std::optional<IssuedDownload>> SqlProfileCatalog::issued_download(const Bytes& transaction_id) {
  auto row = inv_->db().query_one(
      "SELECT r.id, r.download_eid, r.download_curve, r.download_key FROM orders r"
      " JOIN profiles p ON p.iccid = r.iccid WHERE r.download_tid = $1 AND r.active = 1 AND p.state = 'downloaded'",
      {value(transaction_id)});
  if (!row) {
    // Not "unknown transaction": the result must not be dropped for a read
    // that failed.
    const SmdppError e = storage_error(row.error());
    note(e);
    return unexpected(e);
  }
  if (!*row) return std::optional<IssuedDownload>();
  const auto& r = **row;
  IssuedDownload d;
  d.matching_id = "#" + std::to_string(r.int64(0));
  d.eid = r.opt_text(1).value_or("");
  d.transaction_id = transaction_id;
  d.curve = r.opt_text(2).value_or("") == crypto::short_name(crypto::Curve::BrainpoolP256r1)
                ? crypto::Curve::BrainpoolP256r1
                : crypto::Curve::NistP256;
  d.euicc_public_point = r.opt_blob(3).value_or(Bytes{});
  return std::optional<IssuedDownload>(std::move(d));
}

SmdppResult<NotificationRecord> SqlProfileCatalog::profile_notification(const ProfileNotification& n) {
  const std::string iccid = messages::iccid_to_digits(n.iccid);
  RSP_DB_TRY(auto tx, inv_->db().begin());
  // The profile with the last order that issued it a BPP (the eUICC it went to).
  RSP_DB_TRY(auto row, inv_->db().query_one(
                           "SELECT p.state, p.profile_type, p.card_state, p.card_seq, r.download_eid, r.eid"
                           " FROM profiles p JOIN orders r ON r.iccid = p.iccid"
                           " WHERE p.iccid = $1 AND r.download_eid IS NOT NULL ORDER BY r.id DESC LIMIT 1" +
                               store::row_lock(inv_->db(), store::RowLock::Wait, "p"),
                           {value(iccid)}));
  if (!row || profile_state_from_string(row->text(0)) != ProfileState::Installed)
    return NotificationRecord::UnknownProfile;
  if (row->opt_text(4) != std::optional<std::string>(n.eid)) return NotificationRecord::OtherEuicc;
  const auto card_state = row->opt_text(2);
  const auto last_seq = row->opt_int64(3);
  // §5.7.9: the eUICC numbers its notifications from one counter, so a
  // seqNumber at or below the last recorded one is a replay (or older news).
  if (card_state == std::optional<std::string>("deleted") || (last_seq && n.seq_number <= *last_seq))
    return NotificationRecord::Replayed;
  std::string to = "enabled";
  int point = kPointProfileEnabled;
  if (n.event == notification_event::kDisable) to = "disabled", point = kPointProfileDisabled;
  if (n.event == notification_event::kDelete) to = "deleted", point = kPointProfileDeleted;
  RSP_DB_TRY_VOID(inv_->db().execute("UPDATE profiles SET card_state = $2, card_seq = $3 WHERE iccid = $1",
                                     {value(iccid), value(to), value(n.seq_number)}));
  RSP_TRY_VOID(inv_->enqueue_progress(iccid, progress_payload(n.eid, iccid, row->text(1), inv_->now(), point,
                                                              std::nullopt, &n.signed_notification)));
  RSP_DB_TRY_VOID(tx.commit());
  return NotificationRecord::Recorded;
}

SmdppResult<NotificationRecord> SqlProfileCatalog::record_profile_notification(const ProfileNotification& n) {
  auto r = retried([&] { return profile_notification(n); });
  if (!r) note(r.error());
  return r;
}

}  // namespace rsp::smdpp
