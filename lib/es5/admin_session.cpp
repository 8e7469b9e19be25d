// The SM-SR's end of the RAM over HTTP administration session.

#include "rsp/es5/admin_session.hpp"

#include <algorithm>
#include <vector>

#include "rsp/common/ascii.hpp"

#include "rsp/apdu/status_words.hpp"
#include "rsp/ota/admin_http.hpp"
#include "rsp/ota/ram.hpp"

namespace rsp::es5 {

namespace {

/// The Amendment B headers of an answer, without Content-Type (net sets it apart).
net::Headers admin_headers(const ota::AdminResponse& r) {
  net::Headers out;
  for (auto& [name, value] : ota::format_response_headers(r))
    if (!iequals(name, "Content-Type")) out.emplace_back(name, value);
  return out;
}

Bytes body_bytes(const std::string& body) { return Bytes(body.begin(), body.end()); }

}  // namespace

AdminSessionServer::AdminSessionServer(AdminSessionOptions options, PskBindingLookup psk, ScriptSource& scripts,
                                       NotificationSink& notifications)
    : options_(std::move(options)), psk_(std::move(psk)), scripts_(scripts), notifications_(notifications) {}

AdminSessionServer::~AdminSessionServer() { stop(); }

net::NetResult<void> AdminSessionServer::start() {
  net::HttpServerOptions o;
  o.host = options_.host;
  o.port = options_.port;
  o.worker_threads = options_.worker_threads;
  o.handler_threads = options_.handler_threads;
  o.io_threads = options_.io_threads;
  o.max_connections_per_peer = options_.max_connections_per_peer;
  o.thread_name = "es5-admin";  // "es5-admin-io", "es5-admin-pool"
  net::TlsServerConfig tls;
  tls.psk = net::PskServerConfig{[this](std::string_view identity) -> std::optional<Bytes> {
    auto binding = psk_ ? psk_(identity) : std::nullopt;
    if (!binding) return std::nullopt;
    return std::move(binding->key);
  }};
  o.tls = std::move(tls);
  o.on_tls_failure = [this](const std::string& peer, const std::string& reason) {
    ++handshakes_failed_;
    log("admin session: PSK-TLS handshake from " + peer + " failed: " + reason);
  };
  server_ = std::make_unique<net::HttpServer>(std::move(o));
  server_->post(options_.path, [this](const net::Request& r) { return handle(r, true); });
  server_->post(next_path(), [this](const net::Request& r) { return handle(r, false); });
  return server_->start();
}

void AdminSessionServer::stop() {
  if (server_) server_->stop();
}

std::uint64_t AdminSessionServer::connections_refused() const { return server_ ? server_->connections_refused() : 0; }

int AdminSessionServer::port() const { return server_ ? server_->port() : 0; }

std::string AdminSessionServer::host_header() const { return options_.host + ":" + std::to_string(port()); }

std::size_t AdminSessionServer::active_sessions() {
  std::lock_guard lock(mutex_);
  const auto now = std::chrono::steady_clock::now();
  return static_cast<std::size_t>(std::count_if(sessions_.begin(), sessions_.end(), [&](const auto& s) {
    return s.second.busy || now - s.second.last <= options_.session_idle_timeout;
  }));
}

void AdminSessionServer::log(const std::string& line) const {
  if (options_.log) options_.log(line);
}

net::Response AdminSessionServer::refuse(int status, const std::string& why) {
  log("admin session: refused (" + std::to_string(status) + "): " + why);
  return net::Response{status, "text/plain", {}, why};
}

net::Response AdminSessionServer::end(const std::string& eid) {
  {
    std::lock_guard lock(mutex_);
    sessions_.erase(eid);
  }
  scripts_.session_ended(eid);
  if (logging()) log("admin session: " + eid + " ended");
  return net::Response{204, "", admin_headers(ota::AdminResponse{}), ""};
}

net::Response AdminSessionServer::send_script(const std::string& eid, const std::vector<Bytes>& c_apdus,
                                              InFlight what, const Bytes& target) {
  auto body = ota::encode(ota::command_script(c_apdus));
  if (!body) {
    if (!what.confirmations)
      scripts_.completed(eid, what.token, es5_fail(Es5ErrorCode::InvalidArgument, body.error().to_string()));
    log("admin session: " + eid + ": script not encodable: " + body.error().to_string());
    return end(eid);
  }
  {
    std::lock_guard lock(mutex_);
    auto& s = sessions_[eid];
    s.in_flight = std::move(what);
    s.busy = false;
    s.last = std::chrono::steady_clock::now();
  }
  ota::AdminResponse r;
  r.next_uri = next_path();
  r.has_script = true;
  if (!target.empty()) r.targeted_application = target;
  return net::Response{200, std::string(ota::kContentTypeScript), admin_headers(r),
                       std::string(body->begin(), body->end())};
}

net::Response AdminSessionServer::next_or_end(const std::string& eid) {
  auto script = scripts_.next_script(eid);
  if (!script) return end(eid);
  if (logging()) log("admin session: " + eid + ": script " + script->token + " sent");
  return send_script(eid, script->c_apdus, InFlight{false, script->token, 0, script->ends_session}, script->target);
}

net::Response AdminSessionServer::handle(const net::Request& request, bool first) {
  auto binding = psk_ ? psk_(request.psk_identity) : std::nullopt;
  if (!binding) return refuse(403, "no eUICC for this PSK identity");
  wipe(binding->key);  // only the EID is needed here: the key's copy goes now
  const std::string eid = binding->eid;
  auto admin = ota::parse_request_headers(request.headers);

  std::optional<InFlight> in_flight;
  // Sessions dropped idle here: their ScriptSource hears it once the lock is released.
  std::vector<std::string> dropped;
  const auto ended = [&] {
    for (const auto& d : dropped) scripts_.session_ended(d);
  };
  {
    std::unique_lock lock(mutex_);
    const auto now = std::chrono::steady_clock::now();
    auto it = sessions_.find(eid);
    if (it != sessions_.end() && !it->second.busy && now - it->second.last > options_.session_idle_timeout) {
      log("admin session: " + eid + " idle past its timeout, dropped (its script stays pending)");
      sessions_.erase(it);
      it = sessions_.end();
      dropped.push_back(eid);
    }
    if (first) {
      if (it != sessions_.end()) {
        lock.unlock();
        ended();
        return refuse(409, "an administration session for " + eid + " is running");
      }
      // Sessions of cards that went silent are dropped here too, so the table
      // holds only the sessions running now (their scripts stay pending).
      std::erase_if(sessions_, [&](const auto& s) {
        const bool idle = !s.second.busy && now - s.second.last > options_.session_idle_timeout;
        if (idle) dropped.push_back(s.first);
        return idle;
      });
      sessions_[eid] = Session{now, std::nullopt, true};
    } else {
      const auto refused = [&](const std::string& why) {
        lock.unlock();
        ended();
        return refuse(409, why);
      };
      if (it == sessions_.end()) return refused("no administration session for " + eid);
      if (it->second.busy) return refused("a request of the session for " + eid + " is in progress");
      it->second.busy = true;
      it->second.last = now;
      in_flight = std::move(it->second.in_flight);
      it->second.in_flight.reset();
    }
  }
  ended();

  if (!admin) {
    if (in_flight && !in_flight->confirmations)
      scripts_.completed(eid, in_flight->token,
                         es5_fail(Es5ErrorCode::Malformed, "request headers: " + admin.error().to_string()));
    log("admin session: " + eid + ": bad request headers: " + admin.error().to_string());
    end(eid);
    return net::Response{400, "text/plain", {}, "bad administration request headers"};
  }

  if (first) {
    if (logging()) log("admin session: " + eid + " opened");
    if (!admin->has_body) return next_or_end(eid);
    auto notes = ota::decode_response_script(body_bytes(request.body));
    if (!notes) {
      log("admin session: " + eid + ": malformed notification script: " + notes.error().to_string());
      end(eid);
      return net::Response{400, "text/plain", {}, "malformed response script"};
    }
    std::vector<Bytes> confirmations;
    const Bytes eid_bytes = from_hex(eid).value_or(Bytes{});
    for (const auto& r : notes->r_apdus) {
      if (r.sw != apdu::sw::kOk) continue;
      auto n = m2m::parse_notification(r.data);
      if (!n || n->eid != eid_bytes) {
        log("admin session: " + eid + ": a notification that does not parse or names another eUICC, ignored");
        continue;
      }
      notifications_.notification(eid, *n);
      if (auto c = m2m::build_apdu(m2m::ConfirmNotification{n->seq_number})) confirmations.push_back(std::move(*c));
    }
    if (confirmations.empty()) return next_or_end(eid);
    // The oldest queued script for the ISD-R carries the confirmations after
    // its own commands: one exchange instead of two (see the header). One
    // for an ISD-P (ES3 SendData) cannot: it is fetched again after them.
    auto script = scripts_.next_script(eid);
    if (!script || !script->target.empty()) return send_script(eid, confirmations, InFlight{true, {}});
    if (logging()) log("admin session: " + eid + ": script " + script->token + " sent with the confirmations");
    const std::size_t own = script->c_apdus.size();
    std::vector<Bytes> c_apdus = std::move(script->c_apdus);
    for (auto& c : confirmations) c_apdus.push_back(std::move(c));
    return send_script(eid, c_apdus, InFlight{false, script->token, own, script->ends_session});
  }

  if (!in_flight) {
    log("admin session: " + eid + ": a POST with no script awaiting an answer");
    return end(eid);
  }
  Es5Result<std::vector<apdu::Response>> outcome = std::vector<apdu::Response>{};
  if (!admin->script_status || *admin->script_status != ota::ScriptStatus::Ok) {
    outcome = es5_fail(Es5ErrorCode::ScriptStatus,
                       "X-Admin-Script-Status " +
                           (admin->script_status ? std::string(ota::to_string(*admin->script_status)) : "absent"));
  } else if (!admin->has_body) {
    outcome = es5_fail(Es5ErrorCode::ScriptStatus, "no response script");
  } else {
    auto rs = ota::decode_response_script(body_bytes(request.body));
    if (!rs) outcome = es5_fail(Es5ErrorCode::Malformed, "response script: " + rs.error().to_string());
    else outcome = std::move(rs->r_apdus);
  }
  // The confirmations' answers after the script's own are not the script's.
  if (outcome && in_flight->commands > 0 && outcome->size() > in_flight->commands)
    outcome->erase(outcome->begin() + static_cast<std::ptrdiff_t>(in_flight->commands), outcome->end());
  if (in_flight->confirmations) {
    if (!outcome) {
      log("admin session: " + eid + ": confirmations not answered: " + outcome.error().to_string());
      return end(eid);
    }
    return next_or_end(eid);
  }
  if (logging())
    log("admin session: " + eid + ": script " + in_flight->token + " answered" +
        (outcome ? std::string() : ": " + outcome.error().to_string()));
  scripts_.completed(eid, in_flight->token, outcome);
  if (!outcome || in_flight->ends_session) return end(eid);
  return next_or_end(eid);
}

}  // namespace rsp::es5
