#include "rsp/smdp/es2_service.hpp"

#include <algorithm>
#include <chrono>
#include <limits>
#include <nlohmann/json.hpp>

#include "rsp/crypto/random.hpp"
#include "rsp/m2m/es8_connectivity.hpp"
#include "rsp/ota/ram.hpp"

namespace rsp::smdp {

using nlohmann::json;
using store::value;
namespace es2 = m2m::es2;
namespace es3 = m2m::es3;
namespace codes = m2m::codes;

namespace {

const store::Migration kMigrations[] = {
    {1, "ES2 operations accepted from the MNOs",
     R"(
CREATE TABLE smdp_es2_operation (
  id {ID},
  mno_id TEXT NOT NULL,
  function TEXT NOT NULL,
  eid TEXT NOT NULL,
  iccid TEXT NOT NULL,
  request TEXT NOT NULL,
  state TEXT NOT NULL,
  created_at {INT} NOT NULL
);
CREATE INDEX smdp_es2_operation_state ON smdp_es2_operation(state);
)"},
};

std::int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

es2::Answer refused(m2m::Code c, std::string message) {
  return es2::Answer{std::string(m2m::status_name(m2m::ExecutionStatus::Failed)), c.subject, c.reason,
                     std::move(message), 0, std::nullopt};
}
Es2Service::Reply storage_failure(const std::string& message) {
  return Es2Service::Reply{refused(codes::kExecutionError, message), true};
}

/// The refusal for an inventory error. A profile taken already is "in
/// use" (8.2.1/3.3, as the SM-SR's table has it for an ICCID held elsewhere).
Es2Service::Reply refusal_of(const InventoryError& e) {
  switch (e.kind) {
    case InventoryError::Kind::Unknown: return {refused(codes::kIccidUnknown, e.message), false};
    case InventoryError::Kind::Unavailable: return {refused(codes::kIccidInUse, e.message), false};
    case InventoryError::Kind::Storage: return storage_failure(e.message);
    default: return {refused(codes::kExecutionError, e.message), false};
  }
}

bool succeeded(std::string_view status) {
  const auto s = m2m::parse_status(status);
  return s == m2m::ExecutionStatus::ExecutedSuccess || s == m2m::ExecutionStatus::ExecutedWithWarning;
}

/// The MNO's answer to a function the SM-SR executed at once (GetEIS, the
/// updates): its status, and the EIS GetEIS returned.
Es2Service::Reply answered_now(const expected<es3::Result, std::string>& r) {
  if (!r) return {refused(codes::kExecutionError, "the SM-SR could not be asked: " + r.error()), false};
  if (!succeeded(r->status)) return {refused({r->subject_code.c_str(), r->reason_code.c_str()}, "the SM-SR refused"), false};
  return {es2::Answer{std::string(m2m::status_name(m2m::ExecutionStatus::ExecutedSuccess)), "", "", "", 0, r->eis},
          false};
}

/// The ICCID a request names, if any.
std::string iccid_named(const es2::Request& r) {
  return std::visit(
      [](const auto& x) -> std::string {
        if constexpr (requires { x.iccid; })
          return x.iccid;
        else
          return {};
      },
      r);
}

/// The ES3 function an accepted ES2 function is relayed as (not DownloadProfile).
std::optional<es3::Request> relayed(const es2::Request& r) {
  if (const auto* a = std::get_if<es2::AuditEis>(&r)) return es3::AuditEis{a->eid, a->validity};
  if (const auto* e = std::get_if<es2::EnableProfile>(&r)) return es3::EnableProfile{e->eid, e->iccid, e->validity};
  if (const auto* d = std::get_if<es2::DisableProfile>(&r)) return es3::DisableProfile{d->eid, d->iccid, d->validity};
  if (const auto* x = std::get_if<es2::DeleteIsdp>(&r)) return es3::DeleteIsdp{x->eid, x->iccid, x->validity};
  return std::nullopt;
}

/// The ES3 function an ES2 update is relayed as, executed at once
/// (UpdatePolicyRules, UpdateSubscriptionAddress: SGP.02 §5.3 / §5.4 as we
/// read them, not yet checked against the SGP.02 text).
std::optional<es3::Request> relayed_at_once(const es2::Request& r) {
  if (const auto* p = std::get_if<es2::UpdatePolicyRules>(&r)) return es3::UpdatePolicyRules{p->eid, p->iccid, p->pol2};
  if (const auto* a = std::get_if<es2::UpdateSubscriptionAddress>(&r))
    return es3::UpdateSubscriptionAddress{a->eid, a->iccid, a->subscription_address};
  return std::nullopt;
}

/// AuditEIS: the EIS's profiles limited to the MNO's own (the SM-SR shows
/// the SM-DP every ISD-P it made, whatever its MNO) and, with an iccidList,
/// to those.
void limit_profiles(json& eis, const std::string& mno, const std::vector<std::string>& iccids) {
  if (!eis.contains("profiles") || !eis["profiles"].is_array()) return;
  json kept = json::array();
  for (const auto& p : eis["profiles"]) {
    if (!p.is_object()) continue;
    const auto owner = p.find("mnoId");
    if (owner != p.end() && !(owner->is_string() && owner->get<std::string>() == mno)) continue;
    if (iccids.empty() || (p.contains("iccid") && p["iccid"].is_string() &&
                           std::find(iccids.begin(), iccids.end(), p["iccid"].get<std::string>()) != iccids.end()))
      kept.push_back(p);
  }
  eis["profiles"] = std::move(kept);
}

/// The code a failed download is reported with: the one it failed with
/// (the SM-SR's, or the key establishment's), else an execution error.
m2m::Code failure_code(const Download& d) {
  if (d.subject_code.empty()) return codes::kExecutionError;
  return m2m::Code{d.subject_code.c_str(), d.reason_code.c_str()};
}

}  // namespace

struct Es2Service::Operation {
  std::int64_t id = 0;
  std::string mno;
  es2::Request request;
};

Es2Service::Es2Service(Es2ServiceConfig config, std::shared_ptr<store::Database> db,
                       std::shared_ptr<Inventory> inventory, Es3Port& es3,
                       std::shared_ptr<service::SqlOutbox> callbacks, std::unique_ptr<DownloadTable> downloads)
    : config_(std::move(config)),
      db_(std::move(db)),
      inventory_(std::move(inventory)),
      es3_(es3),
      callbacks_(std::move(callbacks)),
      downloads_(std::move(downloads)) {}

Es2Service::~Es2Service() { stop(); }

expected<std::unique_ptr<Es2Service>, std::string> Es2Service::open(Es2ServiceConfig config,
                                                                     std::shared_ptr<store::Database> db,
                                                                     std::shared_ptr<Inventory> inventory,
                                                                     Es3Port& es3,
                                                                     std::shared_ptr<service::SqlOutbox> callbacks) {
  auto migrated = store::migrate(*db, kEs2SchemaComponent, kMigrations);
  if (!migrated) return unexpected("storage: " + migrated.error().message);
  RSP_TRY(auto downloads, DownloadTable::open(db));
  std::unique_ptr<Es2Service> svc(new Es2Service(std::move(config), std::move(db), std::move(inventory), es3,
                                                 std::move(callbacks), std::move(downloads)));
  RSP_TRY_VOID(svc->recover());
  return svc;
}

Es2Service::Reply Es2Service::handle(const es2::Request& request, const std::string& mno) {
  const std::string& smsr = es2::smsr_in(request);
  Es3Port* port = port_of(smsr);
  if (!port) return {refused(es2_codes::kSmsrUnknown, "smsrId is not an SM-SR this SM-DP works with"), false};
  // After an SM-SR change the eUICC's SM-SR is the one its notification named.
  auto current = inventory_->smsr_of(es2::eid_in(request));
  if (!current) return storage_failure(current.error().message);
  if (*current && **current != smsr)
    return {refused(es2_codes::kNotTheEuiccsSmsr, "smsrId is not the eUICC's SM-SR (it moved)"), false};
  Es3Port& relay = *port;
  const std::string iccid = iccid_named(request);

  if (const auto* g = std::get_if<es2::GetEis>(&request)) {
    // The EIS as this MNO may see it: its own profiles only (the SM-SR
    // shows the SM-DP every ISD-P it made, whatever its MNO).
    Reply reply = answered_now(relay.call(es3::GetEis{g->eid}));
    if (reply.answer.eis) limit_profiles(*reply.answer.eis, mno, {});
    return reply;
  }
  if (const auto* d = std::get_if<es2::DownloadProfile>(&request)) {
    auto taken = inventory_->reserve(mno, d->iccid, d->profile_type, d->eid);
    if (!taken) return refusal_of(taken.error());
    Reply reply = accept(request, mno, taken->iccid);
    if (!reply.answer.accepted()) (void)inventory_->settle(taken->iccid, ProfileState::Available);
    return reply;
  }
  if (!iccid.empty()) {
    auto owned = inventory_->get(mno, iccid);
    if (!owned) return refusal_of(owned.error());
    // Its DownloadProfile is still running (the ISD-P may be being created):
    // Enable/Disable/DeleteISDP are refused for the profile's state, as the
    // SM-SR refuses them on an ISD-P still being created (8.2/3.5; SGP.02's
    // exact code for this case not yet checked against the text). The
    // download's own rollback deletes what it made.
    const auto f = es2::function_of(request);
    if (owned->state == ProfileState::Reserved &&
        (f == es2::Function::EnableProfile || f == es2::Function::DisableProfile || f == es2::Function::DeleteIsdp))
      return {refused(codes::kProfileInvalidTransition, "the profile's download is still running"), false};
  }
  if (auto update = relayed_at_once(request)) {
    // Executed by the SM-SR at once (the EIS only): the MNO has its answer now.
    return answered_now(relay.call(*update));
  }
  return accept(request, mno, iccid);
}

Es3Port* Es2Service::port_of(const std::string& smsr_id) {
  if (smsr_id == config_.smsr_id) return &es3_;
  return config_.smsr_port ? config_.smsr_port(smsr_id) : nullptr;
}

Es2Service::Reply Es2Service::accept(const es2::Request& request, const std::string& mno, const std::string& iccid) {
  // DownloadProfile by type is stored with the ICCID chosen, so that the
  // worker (and a restart) downloads that profile.
  es2::Request stored = request;
  if (auto* d = std::get_if<es2::DownloadProfile>(&stored)) {
    d->iccid = iccid;
    d->profile_type.clear();
  }
  auto rows = db_->query(
      "INSERT INTO smdp_es2_operation (mno_id, function, eid, iccid, request, state, created_at) "
      "VALUES ($1, $2, $3, $4, $5, 'pending', $6) RETURNING id",
      {value(mno), value(es2::function(es2::function_of(request)).name), value(es2::eid_in(request)), value(iccid),
       value(es2::encode_request(stored)), value(now_seconds())});
  if (!rows) return storage_failure("storage: " + rows.error().message);
  if (rows->empty()) return storage_failure("storage: no id for the new operation");
  es2::Answer a;
  a.operation_id = rows->front().int64(0);
  {
    std::lock_guard held(mu_);
    ++wakeups_;
  }
  cv_.notify_all();
  return {a, false};
}

expected<std::optional<Es2Service::Operation>, std::string> Es2Service::next_pending() {
  auto row = db_->query_one(
      "SELECT id, mno_id, function, request FROM smdp_es2_operation WHERE state = 'pending' ORDER BY id LIMIT 1", {});
  if (!row) return unexpected("storage: " + row.error().message);
  if (!*row) return std::optional<Operation>();
  Operation op;
  op.id = (*row)->int64(0);
  op.mno = (*row)->text(1);
  auto f = es2::function_named((*row)->text(2));
  if (!f) return unexpected("storage: operation " + std::to_string(op.id) + " names no ES2 function");
  auto r = es2::decode_request(*f, (*row)->text(3));
  if (!r) return unexpected("storage: operation " + std::to_string(op.id) + ": " + r.error().message);
  op.request = std::move(*r);
  return std::optional<Operation>(std::move(op));
}

expected<bool, std::string> Es2Service::run_next() {
  std::lock_guard running(run_mu_);
  RSP_TRY(auto op, next_pending());
  if (!op) return false;
  RSP_TRY_VOID(run(*op));
  return true;
}

expected<void, std::string> Es2Service::run(const Operation& op) {
  es2::Result result;
  result.call_id = "op-" + std::to_string(op.id);
  result.function = es2::function_of(op.request);
  result.operation_id = op.id;
  result.eid = es2::eid_in(op.request);
  result.iccid = iccid_named(op.request);
  const auto fail_with = [&](m2m::Code c) {
    result.status = m2m::status_name(m2m::ExecutionStatus::Failed);
    result.subject_code = c.subject;
    result.reason_code = c.reason;
  };

  Es3Port* port = port_of(es2::smsr_in(op.request));
  if (!port) {
    // The SM-SR left the configuration since the operation was accepted:
    // nothing was done on the eUICC (a reserved profile goes back).
    if (const auto* d = std::get_if<es2::DownloadProfile>(&op.request))
      (void)inventory_->settle(d->iccid, ProfileState::Available);
    fail_with(es2_codes::kSmsrUnknown);
    return finish(op, result);
  }
  if (const auto* d = std::get_if<es2::DownloadProfile>(&op.request)) {
    auto upp = inventory_->package(d->iccid);
    if (!upp) {
      // Nothing was done on the eUICC: the profile goes back.
      (void)inventory_->settle(d->iccid, ProfileState::Available);
      fail_with(codes::kExecutionError);
      return finish(op, result);
    }
    auto profile = inventory_->get(op.mno, d->iccid);
    DownloadRequest dr;
    dr.eid = d->eid;
    dr.iccid = d->iccid;
    dr.mno_id = op.mno;
    dr.required_memory = static_cast<std::uint32_t>(
        std::min<std::size_t>(upp->size() + config_.memory_margin, std::numeric_limits<std::uint32_t>::max()));
    dr.upp = std::move(*upp);
    dr.enable = d->enable;
    if (profile) dr.profile_type = profile->profile_type;
    if (auto cp = config_.connectivity_parameters.find(dr.profile_type);
        !dr.profile_type.empty() && cp != config_.connectivity_parameters.end())
      dr.connectivity_parameters = cp->second;
    // The ISD-P's key set is kept, sealed, for the profile's later ES8
    // commands (ES2.UpdateConnectivityParameters).
    ProfileDownload download(config_.download, *port, *downloads_);
    download.keep_keys_with([this](const Download& done, const m2m::es8::DerivedKeys& k,
                                   std::uint32_t counter) -> expected<void, std::string> {
      IsdpKeySet kept{done.isdp_aid, m2m::es8::kDefaultKeyVersion, k, counter};
      kept.keys.receipt_key.clear();
      auto stored = inventory_->keep_isdp_keys(done.iccid, kept, crypto::system_random());
      if (!stored) return unexpected(stored.error().message);
      return {};
    });
    auto ended = download.run(dr);
    if (!ended) {
      // The download table could not be written: what is on the eUICC is
      // not known, so the profile is not offered again.
      (void)inventory_->settle(d->iccid, ProfileState::Quarantined);
      fail_with(codes::kExecutionError);
      return finish(op, result);
    }
    return finish(op, settled(result, d->iccid, *ended));
  }

  if (const auto* u = std::get_if<es2::UpdateConnectivityParameters>(&op.request)) {
    auto r = update_connectivity(*port, *u);
    if (!r) {
      fail_with(r.error());
      return finish(op, result);
    }
    result.status = r->status;
    result.subject_code = r->subject_code;
    result.reason_code = r->reason_code;
    return finish(op, result);
  }

  auto es3_request = relayed(op.request);
  if (!es3_request) {
    fail_with(es2_codes::kNotSupported);
    return finish(op, result);
  }
  auto r = port->call(*es3_request);
  if (!r) {
    fail_with(codes::kExecutionError);
    return finish(op, result);
  }
  result.status = r->status;
  result.subject_code = r->subject_code;
  result.reason_code = r->reason_code;
  if (succeeded(r->status)) {
    // The profile's state on the eUICC as this SM-DP's own function left it.
    const auto f = es2::function_of(op.request);
    if (f == es2::Function::EnableProfile || f == es2::Function::DisableProfile || f == es2::Function::DeleteIsdp)
      (void)inventory_->record_euicc_state(result.iccid, f == es2::Function::EnableProfile    ? EuiccState::Enabled
                                                         : f == es2::Function::DisableProfile ? EuiccState::Disabled
                                                                                              : EuiccState::Deleted);
  }
  if (r->eis) {
    json eis = *r->eis;
    if (const auto* a = std::get_if<es2::AuditEis>(&op.request)) limit_profiles(eis, op.mno, a->iccids);
    result.eis = std::move(eis);
  }
  return finish(op, result);
}

expected<es3::Result, m2m::Code> Es2Service::update_connectivity(Es3Port& port,
                                                                 const es2::UpdateConnectivityParameters& u) {
  auto kept = inventory_->isdp_keys(u.iccid);
  if (!kept) return unexpected(codes::kExecutionError);
  /// No key set: a profile this SM-DP has not downloaded (or downloaded
  /// before it kept key sets). Profile 8.2 with "its state forbids the
  /// function" 3.5 is our choice, not yet checked against the SGP.02 text.
  if (!*kept) return unexpected(codes::kProfileInvalidTransition);
  IsdpKeySet k = std::move(**kept);
  std::optional<es3::Result> last;
  // Once more at most, with the counter the ISD-P announced when the
  // SM-DP's record was off (a command sent whose answer was lost).
  for (int attempt = 0; attempt < 2; ++attempt) {
    const std::uint32_t counter = k.counter + 1;
    if (counter > m2m::es8::kMaxScp03Counter) return unexpected(codes::kProfileInvalidTransition);
    // Recorded before it leaves: a counter is never used twice.
    if (!inventory_->set_scp03_counter(u.iccid, counter)) return unexpected(codes::kExecutionError);
    auto script = secure_connectivity(k.keys, k.isdp_aid, counter, u.connectivity_parameters, k.key_version);
    if (!script) return unexpected(codes::kExecutionError);
    auto r = port.call(es3::UpdateConnectivityParameters{u.eid, u.iccid, std::move(*script), u.validity});
    if (!r) return unexpected(codes::kExecutionError);
    last = std::move(*r);
    if (succeeded(last->status)) break;
    auto answers = ota::decode_response_script(last->euicc_response_data);
    const auto used = answers && !answers->r_apdus.empty() ? m2m::es8::answered_counter(answers->r_apdus.front())
                                                           : std::nullopt;
    if (!used || *used == counter || *used == 0) break;
    k.counter = *used - 1;
  }
  return std::move(*last);
}

es2::Result Es2Service::settled(es2::Result result, const std::string& iccid, const Download& ended) {
  switch (ended.state) {
    case DownloadState::Enabled:
      (void)inventory_->settle(iccid, ProfileState::Downloaded);
      (void)inventory_->record_euicc_state(iccid, EuiccState::Enabled);
      result.status = m2m::status_name(m2m::ExecutionStatus::ExecutedSuccess);
      break;
    case DownloadState::Completed:
      (void)inventory_->settle(iccid, ProfileState::Downloaded);
      (void)inventory_->record_euicc_state(iccid, EuiccState::Disabled);
      // Downloaded, but the enable asked for failed: a warning, the
      // profile stays on the eUICC (disabled) and the MNO may enable it.
      result.status = m2m::status_name(ended.error.empty() ? m2m::ExecutionStatus::ExecutedSuccess
                                                           : m2m::ExecutionStatus::ExecutedWithWarning);
      break;
    default: {
      // SGP.02 §3.1 rolls a failed download back by deleting its ISD-P
      // (ProfileDownload did). The profile then never reached any
      // eUICC, so it returns to the inventory for the next download
      // (SGP.02 does not, as we read it, make such a profile unusable;
      // not yet checked against the text). When the ISD-P could not be
      // deleted the profile may remain on that eUICC: it is quarantined,
      // never handed out twice.
      (void)inventory_->settle(iccid, ended.error.find(kIsdpNotDeleted) == std::string::npos
                                          ? ProfileState::Available
                                          : ProfileState::Quarantined);
      const m2m::Code c = failure_code(ended);
      result.status = m2m::status_name(m2m::ExecutionStatus::Failed);
      result.subject_code = c.subject;
      result.reason_code = c.reason;
      break;
    }
  }
  return result;
}

expected<void, std::string> Es2Service::finish(const Operation& op, const es2::Result& result) {
  auto tx = db_->begin();
  if (!tx) return unexpected("storage: " + tx.error().message);
  auto n = db_->execute("UPDATE smdp_es2_operation SET state = 'done' WHERE id = $1 AND state = 'pending'",
                        {value(op.id)});
  if (!n) return unexpected("storage: " + n.error().message);
  if (callbacks_) {
    service::OutboxMessage m;
    m.recipient = op.mno;
    m.body = es2::encode_callback(result);
    m.destination = config_.callback_url ? config_.callback_url(op.mno) : std::string();
    m.ref = result.call_id;
    auto queued = callbacks_->add(*db_, m);
    if (!queued) return unexpected("storage: " + queued.error().message);
  }
  auto committed = tx->commit();
  if (!committed) return unexpected("storage: " + committed.error().message);
  return {};
}

expected<void, std::string> Es2Service::recover() {
  // Downloads a stopped process left: completed or rolled back first.
  // Each through the eUICC's SM-SR: the one the last SM-SR change
  // notification named (the inventory), else the configured one. An SM-SR
  // no longer configured has no port: the configured one is tried (it
  // refuses what it no longer manages, and the download ends failed).
  ProfileDownload download(config_.download, es3_, *downloads_);
  RSP_TRY(auto recovered, download.recover([this](const Download& d) -> expected<Es3Port*, std::string> {
    auto current = inventory_->smsr_of(d.eid);
    if (!current) return unexpected("storage: " + current.error().message);
    return *current ? port_of(**current) : &es3_;
  }));
  auto rows = db_->query(
      "SELECT id, mno_id, function, request FROM smdp_es2_operation WHERE state = 'pending' AND function = $1",
      {value(es2::function(es2::Function::DownloadProfile).name)});
  if (!rows) return unexpected("storage: " + rows.error().message);
  for (const auto& row : *rows) {
    auto r = es2::decode_request(es2::Function::DownloadProfile, row.text(3));
    if (!r) return unexpected("storage: operation " + std::to_string(row.int64(0)) + ": " + r.error().message);
    const auto& d = std::get<es2::DownloadProfile>(*r);
    es2::Result result;
    result.call_id = "op-" + std::to_string(row.int64(0));
    result.function = es2::Function::DownloadProfile;
    result.operation_id = row.int64(0);
    result.eid = d.eid;
    result.iccid = d.iccid;
    // The download this operation left unfinished (a reserved profile is
    // downloaded by one operation at a time), now resumed or rolled back:
    // its end is the operation's, as when it runs without a restart.
    const auto own = std::find_if(recovered.begin(), recovered.end(), [&](const Download& x) {
      return x.eid == d.eid && x.iccid == d.iccid;
    });
    if (own != recovered.end()) {
      RSP_TRY_VOID(finish(Operation{row.int64(0), row.text(1), *r}, settled(result, d.iccid, *own)));
      recovered.erase(own);
      continue;
    }
    // Whether it reached the eUICC is not known here: not offered again.
    (void)inventory_->settle(d.iccid, ProfileState::Quarantined);
    result.status = m2m::status_name(m2m::ExecutionStatus::Failed);
    result.subject_code = codes::kExecutionError.subject;
    result.reason_code = codes::kExecutionError.reason;
    RSP_TRY_VOID(finish(Operation{row.int64(0), row.text(1), *r}, result));
  }
  return {};
}

void Es2Service::start() {
  std::lock_guard guard(mu_);
  if (worker_.joinable()) return;
  stopping_ = false;
  worker_ = std::thread([this] {
    std::uint64_t seen = 0;
    for (;;) {
      {
        std::lock_guard held(mu_);
        if (stopping_) return;
        seen = wakeups_;
      }
      auto ran = run_next();
      if (ran && *ran) continue;
      std::unique_lock waiting(mu_);
      // An error (storage) waits a second before the next try.
      cv_.wait_for(waiting, std::chrono::seconds(1), [&] { return stopping_ || wakeups_ != seen; });
    }
  });
}

void Es2Service::stop() {
  {
    std::lock_guard held(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

}  // namespace rsp::smdp
