#include "rsp/service/server.hpp"

#include "rsp/service/access_log.hpp"

namespace rsp::service {

namespace {

/// The families every route reports to.
struct FunctionMetrics {
  net::CounterFamily* calls;
  net::CounterFamily* failures;
  net::HistogramFamily* latency;
  net::CounterFamily* unauthenticated;
};

FunctionMetrics function_metrics(net::Metrics& m) {
  return {&m.counter("rsp_function_calls_total", "Calls of a role's functions, by function and HTTP status."),
          &m.counter("rsp_function_failures_total",
                     "Calls of a role's functions that failed, by function and the spec's subject/reason code."),
          &m.histogram("rsp_function_duration_seconds", "Handling time of a role's functions, by function."),
          &m.counter("rsp_function_unauthenticated_total",
                     "Calls refused because the caller was not authenticated, by function.")};
}

/// Everything a route's wrapper shares with the others.
struct Shared {
  std::string role;
  FunctionMetrics metrics;
  Authenticator authenticate;
  std::function<Reply(const net::Request&)> unauthenticated;
  std::shared_ptr<AsyncLog> access_log;
  std::unique_ptr<RateLimitedLog> failures;
  std::function<std::chrono::system_clock::time_point()> now;
};

Reply bare_401() {
  Reply r;
  r.response.status = 401;
  r.response.content_type = "text/plain";
  r.response.body = "caller not authenticated";
  return r;
}

net::Response serve(const Shared& s, const Route& route, const net::Request& req) {
  const auto t0 = std::chrono::steady_clock::now();
  std::optional<Caller> caller;
  Reply reply;
  bool refused = false;
  if (route.authenticated) {
    try {
      caller = s.authenticate ? s.authenticate(req) : std::nullopt;
    } catch (...) {
      caller.reset();
    }
    refused = !caller;
  }
  if (refused) {
    try {
      reply = s.unauthenticated ? s.unauthenticated(req) : bare_401();
    } catch (...) {
      reply = bare_401();
    }
    s.metrics.unauthenticated->inc({{"role", s.role}, {"function", route.function}});
  } else {
    try {
      reply = route.handler(req, caller);
    } catch (...) {
      reply = Reply{};
      reply.response.status = 500;
      reply.response.content_type = "text/plain";
      reply.response.body = "internal error";
      reply.detail = "exception in the handler";
    }
  }
  const auto took = std::chrono::steady_clock::now() - t0;
  const std::string status = std::to_string(reply.response.status);
  s.metrics.calls->inc({{"role", s.role}, {"function", route.function}, {"status", status}});
  s.metrics.latency->observe({{"role", s.role}, {"function", route.function}},
                             std::chrono::duration<double>(took).count());
  const bool coded = !reply.subject_code.empty() || !reply.reason_code.empty();
  if (coded)
    s.metrics.failures->inc({{"role", s.role},
                             {"function", route.function},
                             {"subject", reply.subject_code},
                             {"reason", reply.reason_code}});
  if (!refused && (coded || reply.response.status >= 500)) {
    std::string line = route.function + " from " + req.remote_address + ": ";
    line += coded ? reply.subject_code + "/" + reply.reason_code : "HTTP " + status;
    if (!reply.detail.empty()) line += " " + reply.detail;
    s.failures->write(line);
  }
  if (s.access_log) {
    AccessEntry e;
    e.time = s.now ? s.now() : std::chrono::system_clock::now();
    e.role = s.role;
    e.function = route.function;
    if (caller) e.caller = caller->id;
    e.peer = req.remote_address;
    e.status = reply.response.status;
    e.subject_code = reply.subject_code;
    e.reason_code = reply.reason_code;
    e.duration = std::chrono::duration_cast<std::chrono::nanoseconds>(took);
    s.access_log->write(access_line(e));
  }
  return std::move(reply.response);
}

}  // namespace

Server::~Server() { stop(); }

void Server::stop() {
  if (public_) public_->stop();
  if (admin_) admin_->stop();
  if (access_log_) access_log_->stop();  // after the last request: its line is written
}

net::NetResult<std::unique_ptr<Server>> Server::start(ServerConfig config) {
  auto metrics = config.http.metrics ? config.http.metrics : std::make_shared<net::Metrics>();
  auto shared = std::make_shared<Shared>();
  shared->role = config.role;
  shared->metrics = function_metrics(*metrics);
  shared->authenticate = std::move(config.authenticate);
  shared->unauthenticated = std::move(config.unauthenticated);
  if (config.access_log) shared->access_log = std::make_shared<AsyncLog>(std::move(config.access_log));
  shared->failures = std::make_unique<RateLimitedLog>(config.log, config.log_lines_per_second, "failed calls");
  shared->now = std::move(config.now);

  net::HttpServerOptions pub = std::move(config.http);
  pub.metrics = metrics;
  pub.serve_health = false;
  pub.serve_metrics = false;
  pub.health_check = nullptr;
  // Threads named by role ("smsr-io", "smsr-pool"), unless named already.
  if (!config.role.empty() && pub.thread_name == net::HttpServerOptions{}.thread_name) pub.thread_name = config.role;
  if (shared->access_log && !pub.on_unrouted) {
    // Probes of paths no function serves get their line too (no path: it is the caller's text).
    pub.on_unrouted = [shared](const std::string& peer, int status) {
      AccessEntry e;
      e.time = shared->now ? shared->now() : std::chrono::system_clock::now();
      e.role = shared->role;
      e.function = "(no function)";
      e.peer = peer;
      e.status = status;
      shared->access_log->write(access_line(e));
    };
  }
  if (config.log && !pub.on_tls_failure) {
    auto tls_log = std::make_shared<RateLimitedLog>(config.log, config.log_lines_per_second, "failed TLS handshakes");
    pub.on_tls_failure = [tls_log](const std::string& peer, const std::string& reason) {
      tls_log->write("TLS handshake from " + peer + " failed: " + reason);
    };
  }

  net::HttpServerOptions admin;
  admin.host = config.admin_host;
  admin.port = config.admin_port;
  admin.insecure_plain_http = true;
  admin.worker_threads = 2;
  admin.io_threads = 1;  // /healthz and /metrics: one loop is plenty
  admin.metrics = metrics;
  admin.health_check = std::move(config.health_check);
  if (!config.role.empty()) admin.thread_name = config.role + "-admin";

  std::unique_ptr<Server> server(new Server());
  server->access_log_ = shared->access_log;
  server->public_ = std::make_unique<net::HttpServer>(std::move(pub));
  for (auto& r : config.routes) {
    auto route = std::make_shared<const Route>(std::move(r));
    net::Handler h = [shared, route](const net::Request& req) { return serve(*shared, *route, req); };
    if (route->method == "GET")
      server->public_->get(route->path, std::move(h), route->threads);
    else
      server->public_->post(route->path, std::move(h), route->threads);
  }
  server->admin_ = std::make_unique<net::HttpServer>(std::move(admin));
  RSP_TRY_VOID(server->admin_->start());
  RSP_TRY_VOID(server->public_->start());
  return server;
}

}  // namespace rsp::service
