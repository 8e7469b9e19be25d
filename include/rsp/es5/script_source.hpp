#pragma once
/// What the administration-session server asks of the SM-SR: the command
/// scripts queued per eUICC and where the eUICC's notifications go.

#include <optional>
#include <string>
#include <vector>

#include "rsp/apdu/response.hpp"
#include "rsp/common/bytes.hpp"
#include "rsp/es5/error.hpp"
#include "rsp/m2m/isdr_commands.hpp"

namespace rsp::es5 {

/// One script: its C-APDUs and the caller's token for it.
struct Script {
  std::string token;
  std::vector<Bytes> c_apdus;
  /// The security domain the script is for (X-Admin-Targeted-Application,
  /// GP Amendment B): an ISD-P for ES3 SendData (SGP.02 §5.4.4); empty for
  /// the ISD-R.
  Bytes target;
  /// The card's answer to it ends the session: no further script goes in
  /// this one. A script that enables or disables a profile makes the card
  /// REFRESH and attach with the profile now enabled, which drops its HTTPS
  /// session (SGP.02 §3.2, §3.3); the card reports the change in a session
  /// of its own afterwards, and that notification must reach the SM-SR
  /// before any later command's answer does, or the EIS would go back to an
  /// older state while the later one is already recorded.
  bool ends_session = false;
};

class ScriptSource {
 public:
  virtual ~ScriptSource() = default;
  /// The oldest script still pending for `eid`, left pending: it stays the
  /// next one until completed() is called with its token. A session that
  /// ends without the card's answer (the card stopped) thus leaves it for
  /// the next session, which may send it again (at least once).
  virtual std::optional<Script> next_script(const std::string& eid) = 0;
  /// The card's answer to the script `token`: its R-APDUs in order (fewer
  /// than the C-APDUs when the card stopped at an error status), or why
  /// there is no usable answer (Malformed, ScriptStatus).
  virtual void completed(const std::string& eid, const std::string& token,
                         const Es5Result<std::vector<apdu::Response>>& outcome) = 0;
  /// The session of `eid` ended: the server answered without a next URI
  /// (the queue was empty, or the session failed), or dropped it idle past
  /// its timeout. next_script() is not asked again before the eUICC opens
  /// a new session, so a script queued since the last next_script() call
  /// needs a wake-up. Called once per session, after its last answer is
  /// built. Default: nothing.
  virtual void session_ended(const std::string& eid) { (void)eid; }
};

class NotificationSink {
 public:
  virtual ~NotificationSink() = default;
  /// A notification the card sent (SGP.02 §4.1.1.11 shape, m2m 'E1'); the
  /// server confirms it to the card after this returns. The same
  /// notification may come again if the confirmation did not reach the card.
  virtual void notification(const std::string& eid, const m2m::Notification& n) = 0;
};

}  // namespace rsp::es5
