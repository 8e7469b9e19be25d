#include "rsp/net/server.hpp"

#include <httplib.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <map>
#include <thread>

#include "tls_internal.hpp"

namespace rsp::net {

std::optional<std::string> find_header(const Headers& headers, std::string_view name) {
  for (const auto& [k, v] : headers) {
    if (k.size() == name.size() && std::equal(k.begin(), k.end(), name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
        }))
      return v;
  }
  return std::nullopt;
}

namespace {

/// httplib hands every accepted connection to a task queue: ours counts them
/// and runs them on a fixed set of workers; shutdown() drains the queue and
/// joins, which is what makes stop() graceful.
class ConnectionQueue final : public httplib::TaskQueue {
 public:
  ConnectionQueue(std::size_t workers, std::atomic<std::uint64_t>& accepted, CounterFamily& accepted_metric,
                  GaugeFamily& active_metric)
      : accepted_(accepted), accepted_metric_(accepted_metric), active_metric_(active_metric) {
    for (std::size_t i = 0; i < std::max<std::size_t>(workers, 1); ++i) threads_.emplace_back([this] { work(); });
  }
  ~ConnectionQueue() override { shutdown(); }

  void enqueue(std::function<void()> fn) override {
    ++accepted_;
    accepted_metric_.inc();
    {
      std::lock_guard lock(mu_);
      jobs_.push_back(std::move(fn));
    }
    cv_.notify_one();
  }

  void shutdown() override {
    {
      std::lock_guard lock(mu_);
      if (stopping_ && threads_.empty()) return;
      stopping_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
    threads_.clear();
  }

 private:
  void work() {
    for (;;) {
      std::function<void()> fn;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
        if (jobs_.empty()) return;
        fn = std::move(jobs_.front());
        jobs_.pop_front();
      }
      active_metric_.add({}, 1);
      try {
        fn();
      } catch (...) {
        // httplib catches handler exceptions itself; nothing may end a worker.
      }
      active_metric_.add({}, -1);
    }
  }

  std::atomic<std::uint64_t>& accepted_;
  CounterFamily& accepted_metric_;
  GaugeFamily& active_metric_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  std::vector<std::thread> threads_;
  bool stopping_ = false;
};

std::string regex_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (std::string_view("\\^$.|?*+()[]{}").find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

const char* reason_text(int status) {
  switch (status) {
    case 400: return "bad request";
    case 404: return "not found";
    case 405: return "method not allowed";
    case 413: return "payload too large";
    case 414: return "URI too long";
    case 500: return "internal error";
    default: return "error";
  }
}

}  // namespace

struct HttpServer::Impl {
  // Declared first so it outlives the SSL_CTX that points at it.
  detail::ServerTlsState tls_state;
  std::unique_ptr<httplib::Server> server;
  std::thread listener;
  std::map<std::string, std::map<std::string, Handler>> routes;  // path -> method -> handler
  std::string setup_error;
  bool started = false;
  bool stopped = false;
  std::mutex stop_mu;

  CounterFamily* requests = nullptr;
  HistogramFamily* latency = nullptr;
  CounterFamily* exceptions = nullptr;
  CounterFamily* accepted = nullptr;
  GaugeFamily* active = nullptr;
};

HttpServer::HttpServer(HttpServerOptions options) : options_(std::move(options)), impl_(std::make_unique<Impl>()) {
  metrics_ = options_.metrics ? options_.metrics : std::make_shared<Metrics>();
  auto& m = *metrics_;
  impl_->requests = &m.counter("rsp_http_requests_total", "HTTP requests answered, by method, route and status.");
  impl_->latency =
      &m.histogram("rsp_http_request_duration_seconds", "Time spent in request handlers, by method and route.");
  impl_->exceptions = &m.counter("rsp_http_handler_exceptions_total", "Handler exceptions answered with 500.");
  impl_->accepted = &m.counter("rsp_http_connections_accepted_total", "TCP connections accepted.");
  impl_->active = &m.gauge("rsp_http_connections_active", "Connections being served.");
  impl_->active->set({}, 0);
  impl_->tls_state.handshakes = &m.counter("rsp_tls_handshakes_total", "Completed TLS handshakes, by version.");

  if (options_.serve_health) {
    get("/healthz", [](const Request&) { return Response{200, "text/plain; charset=utf-8", {}, "ok"}; });
  }
  if (options_.serve_metrics) {
    get("/metrics", [m = metrics_](const Request&) { return Response{200, Metrics::content_type(), {}, m->render()}; });
  }
}

HttpServer::~HttpServer() { stop(); }

// Routes are read without a lock by the server threads: none are added once started.
void HttpServer::get(const std::string& path, Handler handler) {
  if (!impl_->started) impl_->routes[path]["GET"] = std::move(handler);
}
void HttpServer::post(const std::string& path, Handler handler) {
  if (!impl_->started) impl_->routes[path]["POST"] = std::move(handler);
}

bool HttpServer::running() const { return impl_->server && impl_->server->is_running(); }

std::string HttpServer::url() const {
  std::string host = options_.host;
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  return std::string(tls() ? "https://" : "http://") + host + ":" + std::to_string(port_);
}

NetResult<void> HttpServer::start() {
  if (impl_->started) return net_error(NetError::Kind::InvalidArgument, "server already started");
  if (!options_.tls && !options_.insecure_plain_http)
    return net_error(NetError::Kind::InvalidArgument, "no TLS configuration (plain HTTP must be asked for explicitly)");
  if (options_.max_body_bytes == 0 || options_.keep_alive_max_requests == 0)
    return net_error(NetError::Kind::InvalidArgument, "body limit and keep-alive request count must be positive");

  if (options_.tls) {
    auto* state = &impl_->tls_state;
    const auto& config = *options_.tls;
    std::string error;
    auto server = std::make_unique<httplib::SSLServer>(
        [&](SSL_CTX& ctx) { return detail::configure_server_ctx(&ctx, *state, config, error); });
    if (!server->is_valid())
      return net_error(NetError::Kind::Credentials, error.empty() ? "cannot create the TLS context" : error);
    impl_->server = std::move(server);
  } else {
    impl_->server = std::make_unique<httplib::Server>();
  }
  auto& svr = *impl_->server;
  Impl* impl = impl_.get();

  svr.new_task_queue = [this, impl] {
    return new ConnectionQueue(options_.worker_threads, accepted_, *impl->accepted, *impl->active);
  };
  svr.set_payload_max_length(options_.max_body_bytes);
  svr.set_keep_alive_max_count(options_.keep_alive_max_requests);
  svr.set_keep_alive_timeout(static_cast<time_t>(options_.keep_alive_timeout.count()));
  svr.set_read_timeout(static_cast<time_t>(options_.read_timeout.count()));
  svr.set_write_timeout(static_cast<time_t>(options_.write_timeout.count()));
  svr.set_tcp_nodelay(true);
  {
    httplib::Headers defaults;
    for (const auto& [k, v] : options_.default_headers) defaults.emplace(k, v);
    svr.set_default_headers(std::move(defaults));
  }

  // Runs a handler on a complete request: never throws, times the handler.
  auto run = [impl](const std::string& path, const std::string& method, const Handler& handler,
                    const httplib::Request& req, std::string body, httplib::Response& res) {
    Request r;
    r.method = req.method;
    r.path = req.path;
    for (const auto& [k, v] : req.headers) r.headers.emplace_back(k, v);
    r.body = std::move(body);
    r.remote_address = req.remote_addr;
    if (req.ssl) r.tls_version = SSL_get_version(req.ssl);
    const auto start = std::chrono::steady_clock::now();
    Response out;
    try {
      out = handler(r);
    } catch (...) {
      impl->exceptions->inc({{"route", path}});
      out = Response{500, "text/plain; charset=utf-8", {}, "internal error"};
    }
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    impl->latency->observe({{"method", method}, {"route", path}}, took.count());
    res.status = out.status;
    for (const auto& [k, v] : out.headers) res.set_header(k, v);
    res.set_content(std::move(out.body), out.content_type);
  };

  const std::size_t max_body = options_.max_body_bytes;
  for (const auto& [path, methods] : impl_->routes) {
    const std::string pattern = regex_escape(path);
    for (const auto& [method, handler] : methods) {
      if (method == "GET") {
        svr.Get(pattern, [run, path = path, handler = handler](const httplib::Request& req, httplib::Response& res) {
          run(path, "GET", handler, req, {}, res);
        });
        continue;
      }
      // POST bodies are read here, chunk by chunk, so that a chunked body
      // cannot grow past the limit either (httplib only checks
      // Content-Length). Past the limit the rest is drained up to a bound and
      // the connection is closed after the 413.
      svr.Post(pattern, [run, path = path, handler = handler, max_body](
                            const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader) {
        std::string body;
        bool too_big = false;
        std::size_t drained = 0;
        const bool complete = reader([&](const char* data, std::size_t n) {
          if (too_big) {
            drained += n;
            return drained <= max_body;
          }
          if (body.size() + n > max_body) {
            too_big = true;
            std::string().swap(body);
            return true;
          }
          body.append(data, n);
          return true;
        });
        if (too_big || res.status == 413 || !complete) {
          res.status = too_big || res.status == 413 ? 413 : 400;
          res.set_header("Connection", "close");
          res.set_content(reason_text(res.status), "text/plain; charset=utf-8");
          return;
        }
        run(path, "POST", handler, req, std::move(body), res);
      });
    }
  }
  // Anything without a route is answered before its body is read: 404 for an
  // unknown path, 405 for a known one with another method.
  svr.set_pre_routing_handler([impl](const httplib::Request& req, httplib::Response& res) {
    const std::string method = req.method == "HEAD" ? std::string("GET") : req.method;
    auto it = impl->routes.find(req.path);
    if (it != impl->routes.end() && it->second.count(method)) return httplib::Server::HandlerResponse::Unhandled;
    if (it == impl->routes.end()) {
      res.status = 404;
    } else {
      res.status = 405;
      std::string allow;
      for (const auto& [m, h] : it->second) allow += (allow.empty() ? "" : ", ") + m;
      res.set_header("Allow", allow);
    }
    // A body that may follow is not read: the connection cannot be reused.
    if (req.has_header("Content-Length") || req.has_header("Transfer-Encoding")) res.set_header("Connection", "close");
    res.set_content(reason_text(res.status), "text/plain; charset=utf-8");
    return httplib::Server::HandlerResponse::Handled;
  });

  svr.set_error_handler(httplib::Server::HandlerWithResponse([](const httplib::Request&, httplib::Response& res) {
    if (res.body.empty()) {
      res.set_content(reason_text(res.status), "text/plain; charset=utf-8");
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  }));
  svr.set_exception_handler([impl](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
    impl->exceptions->inc({{"route", "-"}});
    res.status = 500;
    res.set_content(reason_text(500), "text/plain; charset=utf-8");
  });
  svr.set_logger([impl](const httplib::Request& req, const httplib::Response& res) {
    const std::string route = impl->routes.count(req.path) ? req.path : std::string("other");
    impl->requests->inc({{"method", req.method.size() <= 7 ? req.method : std::string("other")},
                         {"route", route},
                         {"status", std::to_string(res.status)}});
  });

  if (options_.port < 0 || options_.port > 65535)
    return net_error(NetError::Kind::InvalidArgument, "port out of range: " + std::to_string(options_.port));
  if (options_.port == 0) {
    port_ = svr.bind_to_any_port(options_.host);
    if (port_ <= 0) return net_error(NetError::Kind::Bind, "cannot listen on " + options_.host + " (any port)");
  } else {
    if (!svr.bind_to_port(options_.host, options_.port))
      return net_error(NetError::Kind::Bind,
                       "cannot listen on " + options_.host + ":" + std::to_string(options_.port));
    port_ = options_.port;
  }
  impl_->started = true;
  impl_->listener = std::thread([&svr] { svr.listen_after_bind(); });
  // stop() only works once the accept loop runs.
  for (int i = 0; i < 5000 && !svr.is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  if (!svr.is_running()) {
    stop();
    return net_error(NetError::Kind::Bind, "the accept loop did not start");
  }
  return {};
}

void HttpServer::stop() {
  std::lock_guard lock(impl_->stop_mu);
  if (!impl_->started || impl_->stopped) return;
  impl_->stopped = true;
  // Closing the listening socket ends the accept loop; the loop then shuts the
  // connection queue down, which finishes the requests in flight.
  impl_->server->stop();
  if (impl_->listener.joinable()) impl_->listener.join();
}

}  // namespace rsp::net
