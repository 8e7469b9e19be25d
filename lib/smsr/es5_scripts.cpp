// The registry's per-eUICC command queue as the administration session's
// ScriptSource, and how the card's answer ends the operation (es5_link.hpp).

#include <algorithm>
#include <charconv>

#include "rsp/apdu/status_words.hpp"
#include "rsp/m2m/es3.hpp"
#include "rsp/m2m/es_functions.hpp"
#include "rsp/smsr/eis_audit.hpp"
#include "rsp/smsr/es3_service.hpp"
#include "rsp/smsr/es5_link.hpp"
#include "rsp/smsr/es7_service.hpp"

namespace rsp::smsr {

namespace {

constexpr std::string_view kTokenPrefix = "op-";

std::optional<std::int64_t> operation_of_token(std::string_view token) {
  if (!token.starts_with(kTokenPrefix)) return std::nullopt;
  token.remove_prefix(kTokenPrefix.size());
  std::int64_t id = 0;
  auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), id);
  if (ec != std::errc() || end != token.data() + token.size() || id <= 0) return std::nullopt;
  return id;
}

std::string sw_text(std::uint16_t sw) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string s(4, '0');
  for (int i = 0; i < 4; ++i) s[static_cast<std::size_t>(i)] = kHex[(sw >> (12 - 4 * i)) & 0xF];
  return s;
}

/// The card's first answer that is not a success: it stops at the first
/// error status word (ETSI TS 102 226 §5.2.1). nullptr: none.
const apdu::Response* first_refusal(const std::vector<apdu::Response>& r_apdus) {
  const auto it = std::find_if(r_apdus.begin(), r_apdus.end(), [](const apdu::Response& r) {
    return !r.ok() && r.sw1() != apdu::sw::kSw1BytesAvailable;
  });
  return it == r_apdus.end() ? nullptr : &*it;
}

/// Enabling or disabling a profile (ES4 or ES3; a disable enables the
/// fallback profile) makes the card REFRESH and attach again (SGP.02 §3.2,
/// §3.3): its session ends with the answer (es5::Script::ends_session).
bool switches_enabled_profile(const Operation& op) {
  return m2m::es3::acts_as(op.function, m2m::Es4Function::EnableProfile) ||
         m2m::es3::acts_as(op.function, m2m::Es4Function::DisableProfile);
}

}  // namespace

std::optional<es5::Script> Es5Link::next_script(const std::string& eid) {
  // The session's wake-up schedule ends: in the start of the operation it
  // takes (one transaction), else on its own.
  bool known_empty = false;
  const bool had_schedule = session_reads_queue(eid, known_empty);
  const auto clear_schedule = [&] {
    if (!had_schedule) return;
    if (auto c = config_.registry->clear_wake_up(eid); !c)
      log("ES5 wake-up schedule of " + eid + ": " + c.error().message);
  };
  // The operation its last read found alone has ended, and none was queued
  // since (each asks a wake-up): nothing to read.
  if (known_empty) {
    clear_schedule();
    return std::nullopt;
  }
  // The oldest operation's commands, as one script, with the operation
  // (one read).
  auto queued = config_.registry->next_queued(eid);
  if (!queued) {
    log("ES5 queue of " + eid + ": " + queued.error().message);
    clear_schedule();
    return std::nullopt;
  }
  if (!*queued) {
    clear_schedule();
    return std::nullopt;
  }
  Operation& op = (*queued)->operation;
  const std::int64_t id = op.id;
  es5::Script script{std::string(kTokenPrefix) + std::to_string(id), std::move((*queued)->scripts), {}};
  const auto es3 = es3_service();
  if (es3) script.target = Es3Service::target_of(op);
  script.ends_session = switches_enabled_profile(op);
  // An ES4 operation, which the card's answer ends at once (completed()):
  // its start is written in that end's transaction (Registry::defer_start)
  // instead of one of its own now; the ES3 and ES7 ones are started here.
  const bool start_later = !(es3 && Es3Service::answers(op)) && !Es7Service::answers(op);
  std::int64_t replaced = 0;
  bool kept = false;
  {
    // Kept for completed(): the card's answer to this script comes next.
    std::lock_guard lock(mu_);
    if (auto it = sessions_.find(eid); it != sessions_.end()) {
      it->second.commands = script.c_apdus.size();
      if (it->second.unstarted != id) replaced = it->second.unstarted;
      it->second.unstarted = start_later ? id : 0;
      it->second.sole = !(*queued)->more;
      it->second.ends = script.ends_session;
      it->second.reattach = false;
      kept = start_later;
      it->second.sent = std::move(op);
    }
  }
  write_start(replaced);
  if (!kept) write_start(id);
  return script;
}

void Es5Link::no_usable_answer(const std::string& eid, std::int64_t id, const std::string& why) {
  // Another session, up to max_attempts.
  auto attempts = config_.registry->count_attempt(id);
  if (!attempts) {
    log("ES5 operation " + std::to_string(id) + ": " + attempts.error().message);
    return;
  }
  if (*attempts >= config_.max_attempts) {
    finish(id, m2m::ExecutionStatus::Failed, m2m::codes::kDeliveredNoResponse);
    return;
  }
  log("ES5 operation " + std::to_string(id) + ": no usable answer (" + why + "), attempt " +
      std::to_string(*attempts) + " of " + std::to_string(config_.max_attempts));
  wake_up(eid);
}

std::shared_ptr<Es3Service> Es5Link::es3_service() const {
  std::lock_guard lock(mu_);
  return es3_;
}

bool Es5Link::finish(std::int64_t id, m2m::ExecutionStatus status, m2m::Code code, const EisAudit* audit) {
  return finish_with(id, [&](Service& service) { return service.complete(id, status, code, audit); }, status);
}

bool Es5Link::finish(const Operation& op, m2m::ExecutionStatus status, m2m::Code code, const EisAudit* audit) {
  return finish_with(op.id, [&](Service& service) { return service.complete(op, status, code, audit); }, status);
}

bool Es5Link::finish_with(std::int64_t id, const std::function<SmsrResult<void>(Service&)>& complete,
                          m2m::ExecutionStatus status) {
  std::shared_ptr<Service> service;
  {
    std::lock_guard lock(mu_);
    service = service_;
  }
  if (!service) {
    log("ES5 operation " + std::to_string(id) + ": no service attached, answer dropped");
    return false;
  }
  auto r = complete(*service);
  if (logging())
    log("ES5 operation " + std::to_string(id) + " " + std::string(m2m::status_name(status)) +
        (r ? std::string() : " not recorded: " + r.error().message));
  return r.has_value();
}

void Es5Link::completed(const std::string& eid, const std::string& token,
                        const es5::Es5Result<std::vector<apdu::Response>>& outcome) {
  const auto id = operation_of_token(token);
  // The operation as next_script() read it for this session, when that is
  // the one answered.
  std::optional<Operation> sent_op;
  std::size_t sent_commands = 0;
  std::int64_t unstarted = 0;
  {
    std::lock_guard lock(mu_);
    if (auto it = sessions_.find(eid); it != sessions_.end()) {
      it->second.last = std::chrono::steady_clock::now();
      if (id && it->second.sent && it->second.sent->id == *id) {
        sent_op = std::move(it->second.sent);
        sent_commands = it->second.commands;
        // The card switched profiles: it REFRESHes and comes back.
        it->second.reattach = it->second.ends && outcome && !first_refusal(*outcome) &&
                              outcome->size() >= it->second.commands;
      }
      it->second.sent.reset();
      unstarted = it->second.unstarted;
      it->second.unstarted = 0;
    }
  }
  if (!id) {
    write_start(unstarted);
    log("ES5 answer for " + eid + " with an unknown token");
    return;
  }
  // An ES4 operation answered in full goes straight to its end (Service::complete
  // finds it already ended if it expired meanwhile), with its start when
  // that was left for it; the other answers read the queue and the operation again.
  if (outcome && sent_op && !(es3_service() && Es3Service::answers(*sent_op)) && !Es7Service::answers(*sent_op)) {
    const bool with_start = unstarted == sent_op->id;
    if (with_start) config_.registry->defer_start(unstarted);
    if (finish_answered(*sent_op, sent_commands, *outcome)) {
      std::lock_guard lock(mu_);
      if (auto it = sessions_.find(eid); it != sessions_.end()) it->second.drained = it->second.sole;
    }
    // Not ended (no usable answer, or the end not recorded): written on its own.
    if (with_start && config_.registry->take_deferred_start(unstarted)) write_start(unstarted);
    if (!with_start) write_start(unstarted);
    return;
  }
  write_start(unstarted);
  auto queued = config_.registry->queued_scripts(eid);
  if (!queued) {
    log("ES5 queue of " + eid + ": " + queued.error().message);
    return;
  }
  const auto sent = static_cast<std::size_t>(std::count_if(
      queued->begin(), queued->end(), [&](const QueuedScript& q) { return q.operation_id == *id; }));
  if (sent == 0) {
    // It ended meanwhile (expired): the late answer changes nothing.
    log("ES5 answer for operation " + std::to_string(*id) + ", which has ended, ignored");
    return;
  }
  if (!outcome) {
    no_usable_answer(eid, *id, outcome.error().to_string());
    return;
  }
  // The operation, read once for what follows (its kind, then its end).
  auto op = config_.registry->operation(*id);
  if (!op || !*op) {
    log("ES5 operation " + std::to_string(*id) + ": " + (op ? std::string("unknown") : op.error().message));
    return;
  }
  // ES3 CreateISDP and SendData end on the ES3 side, which reads the R-APDUs.
  if (auto es3 = es3_service(); es3 && Es3Service::answers(**op)) {
    auto r = es3->completed(**op, *outcome);
    log("ES5 operation " + std::to_string(*id) + " answered" + (r ? std::string() : " not recorded: " + r.error().message));
    return;
  }
  // The SM-SR change's operations end on the ES7 side, which reads the R-APDUs.
  std::shared_ptr<Es7Service> es7;
  {
    std::lock_guard lock(mu_);
    es7 = es7_;
  }
  if (es7 && Es7Service::answers(**op)) {
    auto r = es7->completed(**op, *outcome);
    log("ES5 operation " + std::to_string(*id) + " answered" + (r ? std::string() : " not recorded: " + r.error().message));
    return;
  }
  finish_answered(**op, sent, *outcome);
}

bool Es5Link::finish_answered(const Operation& op, std::size_t sent, const std::vector<apdu::Response>& r_apdus) {
  if (const apdu::Response* r = first_refusal(r_apdus)) {
    log("ES5 operation " + std::to_string(op.id) + ": the eUICC answered " + sw_text(r->sw));
    return finish(op, m2m::ExecutionStatus::Failed,
                  r->sw == apdu::sw::kReferencedDataNotFound ? m2m::codes::kIsdpUnknown : m2m::codes::kEuiccRefused);
  }
  if (r_apdus.size() < sent) return finish(op, m2m::ExecutionStatus::Failed, m2m::codes::kEuiccRefused);
  // AuditEIS: the card's answer is what the EIS is updated from.
  if (m2m::es3::acts_as(op.function, m2m::Es4Function::AuditEis)) {
    auto audit = parse_eis_audit(r_apdus);
    if (!audit) {
      no_usable_answer(op.eid, op.id, "malformed audit answer");
      return false;
    }
    return finish(op, m2m::ExecutionStatus::ExecutedSuccess, {"", ""}, &*audit);
  }
  return finish(op, m2m::ExecutionStatus::ExecutedSuccess, {"", ""});
}

}  // namespace rsp::smsr
