/// The SQL session store and the row form of a session: a JSON object of
/// public values only (challenges, identifiers, the eUICC's public key, the
/// chosen identity by position and name, the order's fields).

#include "db_try.hpp"
#include "rsp/asn1/runtime.hpp"
#include "rsp/smdpp/session_store.hpp"
#include "session.hpp"

namespace rsp::smdpp {

using store::value;

namespace {

/// Bumped when the row form changes; a row of another version is refused.
constexpr int kRowVersion = 1;

std::int64_t seconds(TimePoint t) { return t.time_since_epoch().count(); }

std::optional<int> identity_index(const IdentitySet& ids, const ServerIdentity* id) {
  const auto& all = ids.identities();
  for (std::size_t i = 0; i < all.size(); ++i)
    if (&all[i] == id) return static_cast<int>(i);
  return std::nullopt;
}

SmdppResult<std::string> encode(const Server::Session& s, const IdentitySet& ids) {
  asn1::Json j;
  j["v"] = kRowVersion;
  j["state"] = static_cast<int>(s.state);
  j["transaction_id"] = to_hex(s.transaction_id);
  j["server_challenge"] = to_hex(s.server_challenge);
  const auto index = identity_index(ids, s.identity);
  if (!index) return smdpp_error(codes::kExecutionError, "session identity is not of this SM-DP+");
  j["identity"] = *index;
  j["identity_name"] = s.identity->name;
  j["expires"] = seconds(s.expires);
  j["peer"] = s.peer;
  j["requested_matching_id"] = s.requested_matching_id;
  j["eid"] = s.eid;
  if (s.euicc_key) {
    j["euicc_curve"] = static_cast<int>(s.euicc_key->curve());
    j["euicc_key"] = to_hex(s.euicc_key->public_point());
  }
  j["smdp_signature2"] = to_hex(s.smdp_signature2);
  if (s.order) {
    asn1::Json o;
    o["matching_id"] = s.order->matching_id;
    if (s.order->eid) o["eid"] = *s.order->eid;
    if (s.order->cc_hash) o["cc_hash"] = to_hex(*s.order->cc_hash);
    o["cc_attempts_left"] = s.order->cc_attempts_left;
    j["order"] = std::move(o);
  }
  return j.dump();
}

SmdppResult<SessionStore::SessionPtr> decode(const std::string& text, const IdentitySet& ids) {
  const auto bad = [](const std::string& why) { return smdpp_error(codes::kExecutionError, "stored session: " + why); };
  auto j = asn1::Json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return bad("not a JSON object");
  try {
    if (j.at("v").get<int>() != kRowVersion) return bad("written by another program version");
    auto s = std::make_shared<Server::Session>();
    const int state = j.at("state").get<int>();
    if (state < 0 || state > static_cast<int>(Server::Session::State::BppIssued)) return bad("unknown state");
    s->state = static_cast<Server::Session::State>(state);
    const auto hex = [&](const asn1::Json& v) -> std::optional<Bytes> { return from_hex(v.get<std::string>()); };
    auto tid = hex(j.at("transaction_id"));
    auto challenge = hex(j.at("server_challenge"));
    auto sig2 = hex(j.at("smdp_signature2"));
    if (!tid || !challenge || !sig2) return bad("malformed hex");
    s->transaction_id = std::move(*tid);
    s->server_challenge = std::move(*challenge);
    s->smdp_signature2 = std::move(*sig2);
    const int index = j.at("identity").get<int>();
    const auto& all = ids.identities();
    if (index < 0 || static_cast<std::size_t>(index) >= all.size() ||
        all[static_cast<std::size_t>(index)].name != j.at("identity_name").get<std::string>())
      return bad("its identity is not loaded by this instance");
    s->identity = &all[static_cast<std::size_t>(index)];
    s->expires = TimePoint(std::chrono::seconds(j.at("expires").get<std::int64_t>()));
    s->peer = j.value("peer", std::string());
    s->requested_matching_id = j.at("requested_matching_id").get<std::string>();
    s->eid = j.at("eid").get<std::string>();
    s->eid_bytes = from_hex(s->eid).value_or(Bytes{});
    if (j.contains("euicc_key")) {
      const int curve = j.at("euicc_curve").get<int>();
      if (curve < 0 || curve > static_cast<int>(crypto::Curve::BrainpoolP256r1)) return bad("unknown curve");
      auto point = hex(j.at("euicc_key"));
      if (!point) return bad("malformed eUICC key");
      auto key = crypto::EcKey::from_public_point(static_cast<crypto::Curve>(curve), *point);
      if (!key) return bad("eUICC key is not a curve point");
      s->euicc_key = std::move(*key);
    }
    if (j.contains("order")) {
      const auto& o = j.at("order");
      ProfileOrder order;
      order.matching_id = o.at("matching_id").get<std::string>();
      if (o.contains("eid")) order.eid = o.at("eid").get<std::string>();
      if (o.contains("cc_hash")) {
        order.cc_hash = hex(o.at("cc_hash"));
        if (!order.cc_hash) return bad("malformed confirmation code hash");
      }
      order.cc_attempts_left = o.at("cc_attempts_left").get<int>();
      s->order = std::move(order);
    }
    return s;
  } catch (const std::exception&) {
    // nlohmann reports a missing key or a wrong type by exception.
    return bad("missing or mistyped field");
  }
}

}  // namespace

SqlSessionStore::SqlSessionStore(std::shared_ptr<store::Database> db, std::shared_ptr<const IdentitySet> identities)
    : db_(std::move(db)), identities_(std::move(identities)) {}

SmdppResult<SessionStore::SessionPtr> SqlSessionStore::take(const Bytes& transaction_id, TimePoint now) {
  // One statement: of two instances taking the same session only one gets the row.
  RSP_DB_TRY(auto row, db_->query_one("DELETE FROM smdpp_sessions WHERE transaction_id = $1 RETURNING expires_at, data",
                                      {value(transaction_id)}));
  if (!row || session_expired(TimePoint(std::chrono::seconds(row->int64(0))), now)) return SessionPtr();
  return decode(row->text(1), *identities_);
}

SmdppResult<void> SqlSessionStore::put(const SessionPtr& session) {
  RSP_TRY(auto data, encode(*session, *identities_));
  RSP_DB_TRY_VOID(db_->execute(
      "INSERT INTO smdpp_sessions (transaction_id, expires_at, state, data, peer) VALUES ($1, $2, $3, $4, $5)"
      " ON CONFLICT (transaction_id) DO UPDATE SET expires_at = excluded.expires_at, state = excluded.state,"
      " data = excluded.data, peer = excluded.peer",
      {value(session->transaction_id), value(seconds(session->expires)), value(static_cast<int>(session->state)),
       value(data), value(session->peer)}));
  return {};
}

SmdppResult<void> SqlSessionStore::add(const SessionPtr& session, const SessionLimits& limits, TimePoint now) {
  // One transaction, so that instances sharing the database apply the limits
  // to the same rows. Waiting sessions (state 0) all have the same timeout,
  // so the earliest expiry is the oldest; the partial index of migration 8
  // finds them without reading the others.
  constexpr int kWaiting = static_cast<int>(Server::Session::State::Initiated);
  const auto max_peer = static_cast<std::int64_t>(limits.max_pending_per_peer);
  const auto max_all = static_cast<std::int64_t>(limits.max_sessions);
  RSP_DB_TRY(auto tx, db_->begin());
  RSP_DB_TRY_VOID(db_->execute("DELETE FROM smdpp_sessions WHERE expires_at < $1", {value(seconds(now))}));
  RSP_DB_TRY(auto peer_row, db_->query_one("SELECT count(*) FROM smdpp_sessions WHERE state = $1 AND peer = $2",
                                           {value(kWaiting), value(session->peer)}));
  const std::int64_t peer_held = peer_row ? peer_row->int64(0) : 0;
  if (peer_held >= max_peer) {
    RSP_DB_TRY_VOID(db_->execute(
        "DELETE FROM smdpp_sessions WHERE transaction_id IN (SELECT transaction_id FROM smdpp_sessions"
        " WHERE state = $1 AND peer = $2 ORDER BY expires_at LIMIT $3)",
        {value(kWaiting), value(session->peer), value(peer_held - max_peer + 1)}));
  }
  RSP_DB_TRY(auto all_row, db_->query_one("SELECT count(*) FROM smdpp_sessions"));
  const std::int64_t held = all_row ? all_row->int64(0) : 0;
  if (held >= max_all) {
    RSP_DB_TRY(auto evicted, db_->execute(
                                 "DELETE FROM smdpp_sessions WHERE transaction_id IN (SELECT transaction_id FROM"
                                 " smdpp_sessions WHERE state = $1 ORDER BY expires_at LIMIT $2)",
                                 {value(kWaiting), value(held - max_all + 1)}));
    if (held - evicted >= max_all) return smdpp_error(codes::kExecutionError, "too many open sessions");
  }
  RSP_TRY_VOID(put(session));
  RSP_DB_TRY_VOID(tx.commit());
  return {};
}

void SqlSessionStore::erase(const Bytes& transaction_id) {
  (void)db_->execute("DELETE FROM smdpp_sessions WHERE transaction_id = $1", {value(transaction_id)});
}

std::size_t SqlSessionStore::purge(TimePoint now) {
  // session_expired() in SQL.
  auto n = db_->execute("DELETE FROM smdpp_sessions WHERE expires_at < $1", {value(seconds(now))});
  return n ? static_cast<std::size_t>(*n) : 0;
}

std::size_t SqlSessionStore::count() const {
  auto row = db_->query_one("SELECT count(*) FROM smdpp_sessions");
  return row && *row ? static_cast<std::size_t>((*row)->int64(0)) : 0;
}

}  // namespace rsp::smdpp
