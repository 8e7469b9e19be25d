#pragma once
/// The SM-SR's end of the HTTPS administration session (SGP.02 §2.4.4, SCP81:
/// GlobalPlatform Card Spec v2.2 Amendment B "RAM over HTTP", ETSI TS 102 226
/// expanded scripts) on net's HTTPS server in PSK-TLS mode.
///
///  - The card connects with TLS 1.2 PSK; the key is looked up by the PSK
///    identity, which also names the eUICC (EID) the session is for.
///  - Its first POST goes to `path`: the server answers 200 with the next
///    command script ('AA' of '22' C-APDUs, content type
///    application/vnd.globalplatform.card-content-mgt;version=1.0,
///    X-Admin-Next-URI `path`/next), or 204 No Content without a next URI when
///    nothing is queued, which ends the session.
///  - Each later POST (to `path`/next) carries the response script ('AB') to
///    the last command script, handed to ScriptSource::completed(), and gets
///    the next script or 204.
///  - One session per eUICC at a time: a first POST while that eUICC's session
///    runs is refused (409), until the session ends or has been idle for
///    `session_idle_timeout`.
///  - A malformed response script, a script status other than ok, or a POST
///    without a script → completed() with a typed error, 204, session ended.
///    A card that stops answering leaves its script pending (ScriptSource).
///  - Each session's end (answered without a next URI, or dropped idle) is
///    told to ScriptSource::session_ended(), so a script queued after the
///    session last asked for one gets its wake-up then.
///
/// Notifications (this project's reading: the SGP.02 text for the HTTP
/// binding of notifications was not at hand): a card with pending
/// notifications opens a session on its own, and its first POST carries a
/// response script whose R-APDUs hold its 'E1' notifications
/// (m2m::encode_notification, SW '9000'). The server hands each to the
/// NotificationSink and answers with a script of ConfirmNotification commands;
/// the queued scripts follow in the same session. When the oldest queued
/// script is the ISD-R's (no targeted application), the confirmations ride
/// at its end instead, one exchange for both: the card runs the operation's
/// commands first, so a confirmation it refuses cannot stop them; if one of
/// them fails the card stops before the confirmations and sends its
/// notifications again in a later session, which the sink takes again (our
/// choice; SGP.02 sets no order of the commands in one script, not yet
/// checked against its text).
///
/// No PSK, key or script content is logged; the log names EIDs, tokens and
/// outcomes.

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "rsp/common/bytes.hpp"
#include "rsp/es5/script_source.hpp"
#include "rsp/net/server.hpp"

namespace rsp::es5 {

/// The eUICC a PSK identity belongs to and its SCP81 key.
struct PskBinding {
  std::string eid;
  Bytes key;  ///< never logged
};
/// nullopt: unknown identity (the handshake fails). Called during handshakes
/// on the server's I/O thread: it must be quick (answer from memory).
using PskBindingLookup = std::function<std::optional<PskBinding>(std::string_view identity)>;

struct AdminSessionOptions {
  std::string host = "127.0.0.1";
  int port = 0;
  std::string path = "/gsma/adminagent";
  std::chrono::milliseconds session_idle_timeout{30000};
  /// Where each POST of a session is handled (net::HandlerThreads). Pool:
  /// on `worker_threads` pool threads, each request crossing from its
  /// connection's I/O thread to the pool and back. Inline: on the I/O thread
  /// that read it, no hand-off; while a handler waits for its commit's disk
  /// flush, the other connections of that loop (and their handshakes) wait.
  /// The pool stays the default: in bench_smsr (--es5-handlers) inline on 8
  /// I/O threads took about 2 context switches fewer per operation and no
  /// less CPU, and on 2 or 4 a slow flush held up whole loops (latency up to
  /// four times the pool's, fewer commits sharing a flush).
  net::HandlerThreads handler_threads = net::HandlerThreads::Pool;
  std::size_t worker_threads = 4;
  /// The listener's event-loop threads; 0: net's default (2 with the pool,
  /// the hardware threads with inline handlers).
  std::size_t io_threads = 0;
  /// Connections one address may hold at once (net's limit, 256 by
  /// default); eUICCs behind one NAT address, or a simulated fleet on one
  /// host, need more.
  std::size_t max_connections_per_peer = 256;
  /// One line per event (sessions, refusals, failed handshakes); may be unset.
  std::function<void(const std::string&)> log;
};

class AdminSessionServer {
 public:
  AdminSessionServer(AdminSessionOptions options, PskBindingLookup psk, ScriptSource& scripts,
                     NotificationSink& notifications);
  ~AdminSessionServer();
  AdminSessionServer(const AdminSessionServer&) = delete;
  AdminSessionServer& operator=(const AdminSessionServer&) = delete;

  net::NetResult<void> start();
  void stop();
  int port() const;
  /// "host:port", as the trigger's Host ('8A') names it.
  std::string host_header() const;
  const std::string& path() const { return options_.path; }
  std::string next_path() const { return options_.path + "/next"; }

  /// Sessions open now (idle ones past the timeout not counted).
  std::size_t active_sessions();
  /// Connections the listener closed at once (over its connection cap or
  /// the per-peer limit) and PSK-TLS handshakes that failed or timed out,
  /// since start().
  std::uint64_t connections_refused() const;
  std::uint64_t handshakes_failed() const { return handshakes_failed_.load(); }

  /// One request as the HTTPS layer hands it over (public for the fuzz target).
  net::Response handle(const net::Request& request, bool first);

 private:
  /// What the card is answering in the next POST.
  struct InFlight {
    bool confirmations = false;  ///< ConfirmNotification commands, not a queued script
    std::string token;
    /// With a queued script: how many of the C-APDUs are its own, the
    /// ConfirmNotification commands sent after them not counted (0: all).
    std::size_t commands = 0;
    bool ends_session = false;  ///< Script::ends_session of that script
  };
  struct Session {
    std::chrono::steady_clock::time_point last;
    std::optional<InFlight> in_flight;
    bool busy = false;  ///< a request of this session is being handled
  };

  net::Response next_or_end(const std::string& eid);
  net::Response send_script(const std::string& eid, const std::vector<Bytes>& c_apdus, InFlight what,
                            const Bytes& target = {});
  net::Response end(const std::string& eid);
  net::Response refuse(int status, const std::string& why);
  void log(const std::string& line) const;
  /// Whether log() writes anywhere: lines of the normal path are built only then.
  bool logging() const { return static_cast<bool>(options_.log); }

  AdminSessionOptions options_;
  PskBindingLookup psk_;
  ScriptSource& scripts_;
  NotificationSink& notifications_;
  std::unique_ptr<net::HttpServer> server_;
  std::mutex mutex_;
  std::map<std::string, Session> sessions_;
  std::atomic<std::uint64_t> handshakes_failed_{0};
};

}  // namespace rsp::es5
