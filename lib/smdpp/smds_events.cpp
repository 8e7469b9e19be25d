// The SM-DP+'s side of ES12 (SGP.22 v2.2.2 §3.6, §5.7): the SM-DS events
// of orders that named an smdsAddress. ES2+ ConfirmOrder (§5.3.2) with an
// smdsAddress needs the EID; once the profile is released (ConfirmOrder with
// releaseFlag, or ReleaseProfile, §5.3.4) the SM-DP+ registers the event
// (ES12.RegisterEvent, §5.7.1: EID, its own address, the matchingId as the
// eventId, §3.6.1); when the order ends (the profile installed, the order
// cancelled or expired) it deletes it (ES12.DeleteEvent, §5.7.2, §3.6.3).
// Both calls are queued in the outbox kSmdsOutbox in the transaction of the
// state change that causes them, so none is lost nor sent for a change that
// did not happen; rsp/es12/client.hpp sends them, retried with back-off.
// Clause numbers of §3.6's sub-clauses not confirmed against the spec's text.

#include "db_try.hpp"
#include "rsp/es12/client.hpp"
#include "rsp/messages/es12_json.hpp"
#include "rsp/smdpp/es2_codes.hpp"
#include "rsp/smdpp/inventory.hpp"
#include "rsp/smdpp/smds_events.hpp"

namespace rsp::smdpp {

using store::value;
namespace es12 = messages::es12;

namespace {

constexpr const char* kRegistered = "registered";
constexpr const char* kDeleted = "deleted";

/// The SM-DS's base URL: its address is an FQDN, optionally with ":port" (§5.3.2 smdsAddress).
std::string smds_url(const std::string& address) { return "https://" + address; }

struct EventOrder {
  std::int64_t id = 0;
  std::string matching_id;
  std::string eid;
  std::string smds_address;
  std::optional<std::string> state;
};

std::optional<EventOrder> event_order(const store::Row& r) {
  if (r.is_null(1) || r.is_null(2) || r.is_null(3)) return std::nullopt;
  return EventOrder{r.int64(0), r.text(1), r.text(2), r.text(3), r.opt_text(4)};
}

constexpr const char* kEventColumns = "SELECT id, op_matching_id, eid, smds_address, smds_event FROM orders ";

service::OutboxMessage delete_message(const EventOrder& o) {
  es12::DeleteEventRequest req{std::nullopt, o.eid, o.matching_id};
  return service::OutboxMessage{o.smds_address, rsp::es12::outbox_body(es12::kDeleteEventPath, es12::encode_request(req)),
                                smds_url(o.smds_address), "DeleteEvent " + o.matching_id};
}

}  // namespace

SmdppResult<void> Inventory::enable_smds_events(std::string rsp_server_address) {
  if (rsp_server_address.empty()) return smdpp_error(es2codes::kExecutionError, "no SM-DP+ address for SM-DS events");
  RSP_DB_TRY(smds_outbox_, service::SqlOutbox::open(db_, std::string(kSmdsOutbox), clock_));
  smds_rsp_address_ = std::move(rsp_server_address);
  return {};
}

SmdppResult<void> Inventory::smds_event_after(const std::string& iccid, ProfileState to,
                                              std::optional<std::int64_t> order_id) {
  if (!smds_outbox_) return {};
  const bool release = to == ProfileState::Released;
  const bool end = to == ProfileState::Installed || to == ProfileState::Available || to == ProfileState::Unavailable;
  if (!release && !end) return {};
  std::optional<store::Row> row;
  if (order_id) {
    RSP_DB_TRY(row, db_->query_one(std::string(kEventColumns) + "WHERE id = $1 AND smds_address IS NOT NULL",
                                   {value(*order_id)}));
  } else {
    RSP_DB_TRY(row, db_->query_one(std::string(kEventColumns) +
                                       "WHERE iccid = $1 AND active = 1 AND smds_address IS NOT NULL",
                                   {value(iccid)}));
  }
  if (!row) return {};
  auto o = event_order(*row);
  if (!o) return {};
  if (release && !o->state) {
    // §3.6.1: the eventId is the order's matchingId; the RSP server address this SM-DP+'s own.
    es12::RegisterEventRequest req{std::nullopt, o->eid, smds_rsp_address_, o->matching_id, false};
    RSP_DB_TRY_VOID(smds_outbox_->add(
        *db_, service::OutboxMessage{o->smds_address, rsp::es12::outbox_body(es12::kRegisterEventPath, es12::encode_request(req)),
                                     smds_url(o->smds_address), "RegisterEvent " + o->matching_id}));
    RSP_DB_TRY_VOID(db_->execute("UPDATE orders SET smds_event = $1 WHERE id = $2", {value(kRegistered), value(o->id)}));
  } else if (end && o->state && *o->state == kRegistered) {
    RSP_DB_TRY_VOID(smds_outbox_->add(*db_, delete_message(*o)));
    RSP_DB_TRY_VOID(db_->execute("UPDATE orders SET smds_event = $1 WHERE id = $2", {value(kDeleted), value(o->id)}));
  }
  return {};
}

SmdppResult<std::size_t> Inventory::expire_smds_events() {
  if (!smds_outbox_) return std::size_t{0};
  RSP_DB_TRY(auto tx, db_->begin());
  RSP_DB_TRY(auto rows, db_->query(std::string(kEventColumns) +
                                       "WHERE smds_event = $1 AND expires_at IS NOT NULL AND expires_at <= $2",
                                   {value(kRegistered), value(now())}));
  std::size_t n = 0;
  for (const auto& r : rows) {
    auto o = event_order(r);
    if (!o) continue;
    RSP_DB_TRY_VOID(smds_outbox_->add(*db_, delete_message(*o)));
    RSP_DB_TRY_VOID(db_->execute("UPDATE orders SET smds_event = $1 WHERE id = $2", {value(kDeleted), value(o->id)}));
    ++n;
  }
  RSP_DB_TRY_VOID(tx.commit());
  return n;
}

SmdsEventWorker::SmdsEventWorker(std::shared_ptr<Inventory> inventory, SmdsEventWorkerConfig config)
    : inventory_(std::move(inventory)), config_(std::move(config)) {
  service::OutboxWorkerConfig c;
  c.policy = config_.policy;
  c.poll_interval = config_.poll_interval;
  c.metrics = config_.metrics;
  c.metric = "rsp_smdpp_smds_calls_total";
  c.metric_help = "ES12 calls to SM-DSs (RegisterEvent, DeleteEvent) from the outbox, by result.";
  worker_ = std::make_unique<service::OutboxWorker>(
      inventory_->smds_outbox(), std::move(c),
      rsp::es12::outbox_sender(config_.client, rsp::es12::kEventUnknown));
}

SmdsEventWorker::~SmdsEventWorker() { stop(); }

expected<std::size_t, std::string> SmdsEventWorker::run_once() {
  if (auto expired = inventory_->expire_smds_events(); !expired) return unexpected(expired.error().message);
  return worker_->run_once();
}

void SmdsEventWorker::start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] {
    std::unique_lock wait_lock(mu_);
    while (!stopping_) {
      wait_lock.unlock();
      (void)run_once();  // failures stay in the outbox, with their error, for the next pass
      wait_lock.lock();
      cv_.wait_for(wait_lock, config_.poll_interval, [this] { return stopping_; });
    }
  });
}

void SmdsEventWorker::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace rsp::smdpp
