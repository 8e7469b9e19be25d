#pragma once
// bench_smdpp's reference transport: the thread per connection the net
// server had before its connections became event-driven (commit ce4838a
// replaced it), brought back here, not into the library, so that one run
// measures the SM-DP+ over both transports. An acceptor thread queues each
// accepted socket; a fixed set of worker threads (HttpServerOptions::
// worker_threads) takes one connection each and serves it to its end with
// blocking reads and writes, TLS through OpenSSL memory BIOs, the request's
// handler on the same thread. Routes, handlers, response framing, metrics and
// the TLS context are the HttpServer's (net::ServerCore), as with its own
// event loops.
//
// Left out against the old server: the hand-over of an idle keep-alive
// connection's worker to a queued connection (the bench never has more
// clients than workers) and the client certificate of a mutual TLS handshake
// (LPAs have none). Not for production: no connection cap, no per-peer limit.

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "rsp/net/server_transport.hpp"

namespace rsp::bench {

class ThreadPerConnection final : public net::ServerTransport {
 public:
  ThreadPerConnection() = default;
  ~ThreadPerConnection() override;
  ThreadPerConnection(const ThreadPerConnection&) = delete;
  ThreadPerConnection& operator=(const ThreadPerConnection&) = delete;

  net::NetResult<void> start(int listen_fd, ssl_ctx_st* tls, const net::HttpServerOptions& options,
                             net::ServerCore& core) override;
  void stop() override;

 private:
  void accept_loop();
  void work();
  void serve(int fd, const std::string& peer);

  const net::HttpServerOptions* options_ = nullptr;
  net::ServerCore* core_ = nullptr;
  ssl_ctx_st* ctx_ = nullptr;
  int listen_fd_ = -1;
  int stop_fd_ = -1;  ///< an eventfd, readable once stop() began
  std::thread acceptor_;
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::pair<int, std::string>> queue_;  ///< accepted sockets and their peer address
  std::atomic<bool> stopping_{false};
  bool stopped_ = false;
};

}  // namespace rsp::bench
