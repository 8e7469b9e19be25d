#pragma once
/// The ISD-R of an M2M eUICC (SGP.02 §2.2.1.1, §4.1.1) on the generic
/// GlobalPlatform card: it executes the SM-SR's platform commands
/// (m2m/isdr_commands.hpp) on the ISD-Ps it keeps in M2mStore, and
/// simulates the network attach that triggers the fallback mechanism.
///
/// Rules it enforces (SGP.02 §3.2 - §3.6, §2.4.3 POL1):
///  - ISD-P states: CreateISDP makes a SELECTABLE ISD-P; a loaded profile
///    (load_profile, the stand-in for the SM-DP's ES8 download) makes it
///    DISABLED; enable / disable move it between DISABLED and ENABLED.
///  - Exactly one profile is enabled: enabling one disables the enabled one
///    (refused when that one's POL1 forbids disabling); disabling the enabled
///    one enables the fallback profile (refused for the fallback profile
///    itself, or when POL1 forbids it). A profile whose POL1 says "delete when
///    disabled" is deleted once disabled, unless it carries the fallback attribute.
///  - Delete: never the enabled profile, the fallback profile, or one whose
///    POL1 forbids deletion.
///  - The fallback and emergency attributes are each carried by at most one
///    profile: setting one moves it.
///  - Each profile change queues a notification for the SM-SR (sequence
///    numbers from 1), kept until the SM-SR confirms it. The confirmation's
///    removal is answered at once and written with the card's next save, not
///    in a durable write of its own: a crash before then only brings back a
///    notification the SM-SR has confirmed already, which the card sends again
///    and the SM-SR takes as stale (its sequence number is not after the last
///    one it applied: nothing changes, it is confirmed again). Every other
///    change is on disk before its answer.
///  - Refusals: 6A88 unknown ISD-P, 6985 a state or policy that forbids the
///    operation, 6A84 no memory, 6581 the state could not be saved (nothing
///    changed); malformed commands answer the codec's status word.
/// SM-SR change (SGP.02 §3.8, ES7; m2m/es7.hpp), through execute():
///  - Key establishment for the new SM-SR (ECKA scenario #3 with the ECASD,
///    m2m/es8.hpp with the ISD-R's key usage '10'): STORE DATA in DGI form
///    (P1 '09', '89' on the last block, blocks numbered from 0) carrying
///    DGI '3A01' { '7F21' CERT.SR.ECDSA } (checked against the card's CI; role DPauth is this
///    project's stand-in, the test PKI has no SM-SR signing role), then the
///    key-agreement data signed with it (DGI '3A02', '7F49', '5F37'; in the
///    same sequence or in one of their own). The card answers DR and receipt and
///    saves, in one durable write, the new SCP80 key set and the new SCP81
///    PSK (identity es7::additional_psk_identity) of the key version named.
///    Refused: 6982 certificate or signature, 6985 no certificate yet, a
///    key version in use or another key establishment already done, 6A80
///    malformed, 6A86 a block out of sequence.
///  - DELETE [key] 'D2' version (m2m::build_delete_key_set): removes the
///    SCP80 key set of that version and, when it is the SCP81 PSK's version,
///    makes the new SM-SR's PSK the ISD-R's. 6A88 no such version, 6985 when
///    no key set would be left to reach the card.
/// Content-management commands need the secure channel: through the card
/// (Card::transmit) only inside SCP03, else 6982; execute() is the entry of
/// the SCP80 / SCP81 transports, which have verified the packet already.

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "rsp/apdu/command.hpp"
#include "rsp/apdu/response.hpp"
#include "rsp/card/gp_security_domain.hpp"
#include "rsp/crypto/random.hpp"
#include "rsp/euicc_m2m/state.hpp"
#include "rsp/m2m/isdr_commands.hpp"

namespace rsp::euicc_m2m {

struct IsdROptions {
  /// The clock of the simulated network (tests inject a manual one).
  std::function<std::chrono::steady_clock::time_point()> now = [] { return std::chrono::steady_clock::now(); };
  /// How long the enabled profile may be without coverage before the card
  /// falls back to the profile with the fallback attribute.
  std::chrono::milliseconds fallback_timeout = std::chrono::seconds(60);
  /// The source of the key establishment's random challenge and DR (m2m/es8.hpp); default: the system CSPRNG.
  crypto::Random* random = nullptr;
};

class M2mIsdR final : public card::GpSecurityDomain {
 public:
  /// Reads the card's EID and state from `store`.
  static StoreResult<std::shared_ptr<M2mIsdR>> open(const M2mStore& store, IsdROptions options = {});
  ~M2mIsdR() override;

  /// One plain C-APDU delivered by a verified secure channel (SCP80 / SCP81)
  /// and its R-APDU. Never throws, whatever the bytes.
  Bytes execute(ByteView command_apdu);
  apdu::Response execute(const apdu::Command& command);

  /// Loads a profile into a SELECTABLE ISD-P, which becomes DISABLED (the
  /// simulator's stand-in for the SM-DP's profile download, SGP.02 §3.1).
  StoreResult<void> load_profile(ByteView aid, ByteView iccid, std::uint8_t pol1, const std::string& mno_id);

  /// Marks a profile with or without network coverage (simulated attach).
  StoreResult<void> set_coverage(ByteView aid, bool coverage);
  /// Looks at the network: when the enabled profile has had no coverage for
  /// the fallback timeout, enables the fallback profile and queues a
  /// notification (SGP.02 §3.6 fallback). True when it fell back.
  StoreResult<bool> poll_network();

  /// Stores, durably, the counter of an SCP80 command packet accepted with
  /// key set `version` (ETSI TS 102 225 §5.1.1: the receiving entity keeps
  /// the last counter value). Fails when there is no such key set or the
  /// state cannot be saved (nothing changed then).
  StoreResult<void> store_scp80_counter(std::uint8_t version, std::uint64_t counter);

  /// Changes one ISD-P's record in one durable write (the ES8 card side,
  /// es8_card.hpp): `change` edits a copy and answers nullopt to keep it or
  /// the status word that refuses it. Answers 6A88 for an unknown ISD-P,
  /// 6581 when the state cannot be saved, else what `change` answered; the
  /// state is unchanged unless the answer is nullopt.
  std::optional<std::uint16_t> change_isdp(ByteView aid,
                                           const std::function<std::optional<std::uint16_t>(IsdpRecord&)>& change);

  /// Runs `body` (commands of one script, on this thread) with their state
  /// changes saved once, at its end, instead of once per command: the card
  /// answers a script only after it ran, so every change is on disk before
  /// the answer that tells of it (ETSI TS 102 226 §5.2: one response script
  /// for the whole script). False when that save failed: the state is then
  /// back to the last saved one, as if no command of `body` had run. A change
  /// by another thread meanwhile (a secured SMS's counter) is saved at once,
  /// with the script's changes so far. Inside a run on this thread, or while
  /// another thread's runs: `body` runs with a save per change. A run whose
  /// only changes are notification confirmations writes nothing: they wait
  /// for the next save (see the class comment).
  bool in_one_save(const std::function<void()>& body);

  /// Writes the confirmations that wait for the next save, if any (a device
  /// that stops on its own, so that it does not send them again after its
  /// restart). False when that save failed (they still wait).
  bool save_pending();
  /// Whether the state in memory holds confirmations not on disk yet.
  bool has_unsaved_confirmations();

  /// The notifications waiting for the SM-SR's confirmation, oldest first.
  std::vector<m2m::Notification> pending_notifications();
  /// A copy of the state as it is now.
  M2mState state();
  /// The parts of it a secured SMS and an administration session need, copied
  /// alone (not the whole state): the SCP80 key sets, the SCP81 PSK.
  std::vector<Scp80KeySet> scp80_keys();
  crypto::Scp81Psk scp81();
  const Bytes& eid() const { return eid_; }

 protected:
  apdu::Response on_install(const card::gp::Install&, const card::ApduCommand& apdu) override;
  apdu::Response on_delete(const card::gp::Delete&, const card::ApduCommand& apdu) override;
  apdu::Response on_store_data(const card::gp::StoreData&, const card::ApduCommand& apdu) override;
  apdu::Response on_get_status(const card::gp::GetStatus&, const card::ApduCommand& apdu) override;
  apdu::Response on_get_data(const card::gp::GetData&, const card::ApduCommand& apdu) override;

 private:
  M2mIsdR(M2mStore store, M2mState state, Bytes eid, IsdROptions options);
  apdu::Response dispatch(const card::ApduCommand& apdu);
  /// Saves `next` and makes it the state; 6581 when it cannot be saved.
  /// `confirmation`: `next` differs from the state only by confirmed
  /// notifications, whose removal waits for the next save (class comment).
  std::optional<std::uint16_t> commit(M2mState next, bool confirmation = false);
  /// The SM-SR change's commands (isdr_keys.cpp); nullopt for any other command.
  std::optional<apdu::Response> on_smsr_change(const apdu::Command& command);
  apdu::Response on_key_message(ByteView message);
  apdu::Response on_delete_key_set(std::uint8_t version);
  crypto::Random& random() { return options_.random ? *options_.random : crypto::system_random(); }
  struct KeySession;
  std::shared_ptr<KeySession> key_session_;  ///< the new SM-SR's key establishment in progress (under mutex_)

  std::mutex mutex_;
  M2mStore store_;
  M2mState state_;
  Bytes eid_;
  IsdROptions options_;
  std::optional<std::chrono::steady_clock::time_point> lost_since_;  ///< enabled profile without coverage since
  /// in_one_save() (under mutex_): the thread whose changes wait for the end
  /// of its run, whether some do (changed) and some need the run's save
  /// (dirty: any change but a confirmation), and the state to go back to if
  /// that save fails (set by the run's first change).
  std::optional<std::thread::id> batch_owner_;
  bool batch_changed_ = false;
  bool batch_dirty_ = false;
  M2mState saved_;
  /// state_ holds confirmations not on disk yet (under mutex_): the next save writes them.
  bool unsaved_ = false;
};

}  // namespace rsp::euicc_m2m
