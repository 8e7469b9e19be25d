// The M2M ISD-R on the generic card: commands in, one durable save per
// change, the simulated network attach.

#include "rsp/euicc_m2m/isd_r.hpp"

#include "operations.hpp"
#include "unreachable_keys.hpp"
#include "rsp/apdu/class_byte.hpp"
#include "rsp/apdu/status_words.hpp"
#include "rsp/card/aid.hpp"

namespace rsp::euicc_m2m {

namespace sw = apdu::sw;

namespace {

apdu::Response status(std::uint16_t s) { return apdu::Response{{}, s}; }

}  // namespace

StoreResult<std::shared_ptr<M2mIsdR>> M2mIsdR::open(const M2mStore& store, IsdROptions options) {
  RSP_TRY(auto eid_text, store.euicc().eid());
  auto eid = from_hex(eid_text);
  if (!eid || eid->size() != 16) return unexpected(StoreError{"the card's EID is not 32 digits"});
  RSP_TRY(auto state, store.load());
  return std::shared_ptr<M2mIsdR>(new M2mIsdR(store, std::move(state), std::move(*eid), std::move(options)));
}

M2mIsdR::M2mIsdR(M2mStore store, M2mState state, Bytes eid, IsdROptions options)
    : card::GpSecurityDomain(Bytes(std::begin(card::kIsdRAid), std::end(card::kIsdRAid)), detail::unreachable_scp03_keys()),
      store_(std::move(store)),
      state_(std::move(state)),
      eid_(std::move(eid)),
      options_(std::move(options)) {}

apdu::Response M2mIsdR::execute(const apdu::Command& command) {
  if (auto r = on_smsr_change(command)) return std::move(*r);
  const auto cls = apdu::decode_class(command.cla);
  if (!cls) return status(sw::kClaNotSupported);
  // The secure channel was the transport's; what reaches here is plain.
  if (cls->secure_messaging) return status(sw::kSecureMessagingNotSupported);
  if (cls->chaining) return status(sw::kCommandChainingNotSupported);
  card::ApduCommand c{command, cls->channel, cls->proprietary,
                      static_cast<std::uint8_t>(crypto::scp03_level::kCMac | crypto::scp03_level::kCDecryption)};
  return process(c);
}

Bytes M2mIsdR::execute(ByteView command_apdu) {
  auto c = apdu::parse_command(command_apdu);
  if (!c) return apdu::encode_status(apdu::status_word(c.error()));
  return apdu::encode_response(execute(*c));
}

apdu::Response M2mIsdR::on_install(const card::gp::Install&, const card::ApduCommand& a) { return dispatch(a); }
apdu::Response M2mIsdR::on_delete(const card::gp::Delete&, const card::ApduCommand& a) { return dispatch(a); }
apdu::Response M2mIsdR::on_store_data(const card::gp::StoreData&, const card::ApduCommand& a) { return dispatch(a); }
apdu::Response M2mIsdR::on_get_status(const card::gp::GetStatus&, const card::ApduCommand& a) { return dispatch(a); }
apdu::Response M2mIsdR::on_get_data(const card::gp::GetData&, const card::ApduCommand& a) { return dispatch(a); }

apdu::Response M2mIsdR::dispatch(const card::ApduCommand& a) {
  auto command = m2m::parse_command(a.apdu);
  if (!command) return status(command.error());
  std::lock_guard lock(mutex_);
  M2mState next = state_;
  // `next` is this command's own copy: applied to in place (no second copy).
  auto outcome = detail::apply_to(next, *command, detail::CardFacts{eid_});
  if (!outcome) return status(outcome.error());
  if (outcome->changed) {
    const bool confirmation = std::holds_alternative<m2m::ConfirmNotification>(*command);
    if (auto failed = commit(std::move(next), confirmation)) return status(*failed);
  }
  return apdu::Response{std::move(outcome->data), sw::kOk};
}

std::optional<std::uint16_t> M2mIsdR::commit(M2mState next, bool confirmation) {
  if (batch_owner_ && *batch_owner_ == std::this_thread::get_id()) {
    // saved at the end of in_one_save(), before the script is answered (a
    // run of confirmations alone: with the next save); the state before the
    // run kept (moved, not copied) by its first change, to go back to if
    // that save fails
    if (!batch_changed_) saved_ = std::move(state_);
    state_ = std::move(next);
    batch_changed_ = true;
    batch_dirty_ = batch_dirty_ || !confirmation;
    return std::nullopt;
  }
  if (confirmation && !batch_owner_) {
    // Its removal rides on the next save (see the header): a crash before
    // it only brings back a notification the SM-SR takes as stale.
    state_ = std::move(next);
    unsaved_ = true;
    return std::nullopt;
  }
  if (!store_.save(next)) return sw::kMemoryFailure;
  state_ = std::move(next);
  unsaved_ = false;
  // Another thread's run: `next` held its changes so far, saved now too
  // (its next change keeps this state to go back to).
  if (batch_owner_) batch_changed_ = batch_dirty_ = false;
  return std::nullopt;
}

bool M2mIsdR::in_one_save(const std::function<void()>& body) {
  bool batched = false;
  {
    std::lock_guard lock(mutex_);
    if (!batch_owner_) {
      batch_owner_ = std::this_thread::get_id();
      batch_changed_ = batch_dirty_ = false;
      batched = true;
    }
  }
  body();
  if (!batched) return true;  // a save per change, as outside any run
  std::lock_guard lock(mutex_);
  batch_owner_.reset();
  bool ok = true;
  if (batch_dirty_) {
    ok = static_cast<bool>(store_.save(state_));
    if (ok) unsaved_ = false;
    else state_ = std::move(saved_);
  } else if (batch_changed_) {
    unsaved_ = true;  // confirmations alone: with the next save
  }
  batch_changed_ = batch_dirty_ = false;
  saved_ = {};
  return ok;
}

bool M2mIsdR::save_pending() {
  std::lock_guard lock(mutex_);
  if (!unsaved_) return true;
  if (!store_.save(state_)) return false;
  unsaved_ = false;
  if (batch_owner_) batch_changed_ = batch_dirty_ = false;
  return true;
}

bool M2mIsdR::has_unsaved_confirmations() {
  std::lock_guard lock(mutex_);
  return unsaved_;
}

StoreResult<void> M2mIsdR::load_profile(ByteView aid, ByteView iccid, std::uint8_t pol1, const std::string& mno_id) {
  std::lock_guard lock(mutex_);
  M2mState next = state_;
  auto* p = next.find(aid);
  if (!p) return unexpected(StoreError{"no such ISD-P"});
  if (p->state != m2m::IsdpState::kSelectable) return unexpected(StoreError{"the ISD-P already holds a profile"});
  if (iccid.size() != 10 || (pol1 & ~m2m::pol1::kAll) != 0) return unexpected(StoreError{"bad ICCID or POL1"});
  p->iccid.assign(iccid.begin(), iccid.end());
  p->pol1 = pol1;
  p->mno_id = mno_id;
  p->state = m2m::IsdpState::kDisabled;
  if (commit(std::move(next))) return unexpected(StoreError{"cannot save the card state"});
  return {};
}

StoreResult<void> M2mIsdR::set_coverage(ByteView aid, bool coverage) {
  std::lock_guard lock(mutex_);
  M2mState next = state_;
  auto* p = next.find(aid);
  if (!p) return unexpected(StoreError{"no such ISD-P"});
  p->coverage = coverage;
  if (commit(std::move(next))) return unexpected(StoreError{"cannot save the card state"});
  return {};
}

StoreResult<bool> M2mIsdR::poll_network() {
  std::lock_guard lock(mutex_);
  const auto* enabled = state_.enabled();
  if (!enabled || enabled->coverage) {
    lost_since_.reset();
    return false;
  }
  const auto now = options_.now();
  if (!lost_since_) lost_since_ = now;
  if (now - *lost_since_ < options_.fallback_timeout) return false;
  M2mState next = state_;
  if (!detail::fall_back(next)) return false;  // no fallback profile to attach with: keep trying
  if (commit(std::move(next))) return unexpected(StoreError{"cannot save the card state"});
  lost_since_.reset();
  return true;
}

StoreResult<void> M2mIsdR::store_scp80_counter(std::uint8_t version, std::uint64_t counter) {
  std::lock_guard lock(mutex_);
  M2mState next = state_;
  for (auto& k : next.scp80) {
    if (k.version != version) continue;
    k.counter = counter;
    if (commit(std::move(next))) return unexpected(StoreError{"cannot save the card state"});
    return {};
  }
  return unexpected(StoreError{"no SCP80 key set with this version"});
}

std::optional<std::uint16_t> M2mIsdR::change_isdp(
    ByteView aid, const std::function<std::optional<std::uint16_t>(IsdpRecord&)>& change) {
  std::lock_guard lock(mutex_);
  M2mState next = state_;
  auto* p = next.find(aid);
  if (!p) return sw::kReferencedDataNotFound;
  if (auto refused = change(*p)) return refused;
  return commit(std::move(next));
}

std::vector<m2m::Notification> M2mIsdR::pending_notifications() {
  std::lock_guard lock(mutex_);
  std::vector<m2m::Notification> out;
  for (const auto& n : state_.notifications) out.push_back({eid_, n.type, n.seq_number, n.isdp_aid});
  return out;
}

M2mState M2mIsdR::state() {
  std::lock_guard lock(mutex_);
  return state_;
}

std::vector<Scp80KeySet> M2mIsdR::scp80_keys() {
  std::lock_guard lock(mutex_);
  return state_.scp80;
}

crypto::Scp81Psk M2mIsdR::scp81() {
  std::lock_guard lock(mutex_);
  return state_.scp81;
}

}  // namespace rsp::euicc_m2m
