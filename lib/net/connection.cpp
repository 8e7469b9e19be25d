// One connection's state machine on its loop's I/O thread (see
// server_internal.hpp): handshake, request head, body, handler on the pool,
// response, then keep-alive, close or drain. Every waiting phase has a
// deadline; a passed one closes the connection.

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include <cctype>

#include "rsp/common/thread_name.hpp"
#include "server_internal.hpp"

namespace rsp::net::detail {
namespace {

/// How much of an unwanted body is read and dropped after an early answer,
/// so the client is not reset before it reads that answer.
constexpr std::size_t kDrainBytes = 1024 * 1024;
constexpr std::chrono::milliseconds kDrainTime{2000};
/// Reads per readiness event, so one busy peer cannot starve the others.
constexpr int kReadsPerEvent = 4;

Clock::time_point after(std::chrono::milliseconds d) { return Clock::now() + d; }

}  // namespace

std::string short_reason(int status) {
  std::string r(reason_phrase(status));
  for (auto& c : r) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return r;
}

bool header_is_safe(const std::string& name, const std::string& value) {
  return !name.empty() && name.find_first_of("\r\n:") == std::string::npos &&
         value.find_first_of("\r\n") == std::string::npos;
}

Connection::Connection(HttpServer::Impl& server, IoLoop& loop, asio::ip::tcp::socket socket, std::string peer)
    : server_(server), loop_(loop), socket_(std::move(socket)), timer_(loop.io), peer_(std::move(peer)) {}

void Connection::start() {
  if (phase_ == Phase::Closed) return;  // a stop closed it before its loop started it
  boost::system::error_code ec;
  socket_.non_blocking(true, ec);  // TCP_NODELAY came from the listener (HttpServer::start)
  if (server_.ctx) {
    // The TLS session (several KB) is made when the first bytes arrive, so a
    // connection that never sends costs little.
    phase_ = Phase::Handshake;
    set_deadline(after(server_.options.tls_handshake_timeout));
  } else {
    phase_ = Phase::Head;
    set_deadline(after(server_.options.head_timeout));
  }
  want_read();
}

bool Connection::idle() const {
  return phase_ == Phase::Handshake || ((phase_ == Phase::Idle || phase_ == Phase::Head) && in_.empty());
}

void Connection::close() {
  if (phase_ == Phase::Closed) return;
  phase_ = Phase::Closed;
  boost::system::error_code ec;
  timer_.cancel();
  socket_.close(ec);
  tls_.reset();
  server_.forget(shared_from_this(), peer_);
}

// --- deadlines ---------------------------------------------------------------

/// The phase's deadline, brought forward to read_timeout from now while a
/// request arrives (the longest silence allowed).
void Connection::set_deadline(Clock::time_point phase_deadline) {
  phase_deadline_ = phase_deadline;
  deadline_ = phase_deadline;
  arm_timer();
}

void Connection::arm_timer() {
  if (phase_ == Phase::Closed || deadline_ == Clock::time_point::max()) return;
  if (timer_pending_ && timer_expiry_ <= deadline_) return;  // fires first, then re-arms for the later deadline
  timer_expiry_ = deadline_;
  timer_pending_ = true;
  timer_.expires_at(deadline_);
  timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (ec == asio::error::operation_aborted) return;  // moved earlier or closed: another wait is pending
    self->timer_pending_ = false;
    self->on_timer();
  });
}

void Connection::on_timer() {
  if (phase_ == Phase::Closed) return;
  if (Clock::now() < deadline_) return arm_timer();
  const char* what = nullptr;
  switch (phase_) {
    case Phase::Handshake: what = "handshake"; break;
    case Phase::Head: what = "head"; break;
    case Phase::Body: what = "body"; break;
    case Phase::Writing: what = "write"; break;
    default: break;  // an idle keep-alive connection or a drain ends: no fault
  }
  if (what) server_.timeouts->inc({{"phase", what}});
  if (phase_ == Phase::Handshake) return tls_failed("TLS handshake timed out");
  close();
}

// --- reading -----------------------------------------------------------------

void Connection::want_read() {
  if (reading_ || phase_ == Phase::Closed) return;
  reading_ = true;
  socket_.async_wait(asio::ip::tcp::socket::wait_read, [self = shared_from_this()](const boost::system::error_code& ec) {
    self->reading_ = false;
    if (self->phase_ == Phase::Closed) return;
    if (ec) return self->close();
    self->on_readable();
  });
}

void Connection::on_readable() {
  bool got = false;
  for (int i = 0; i < kReadsPerEvent; ++i) {
    boost::system::error_code ec;
    const std::size_t n = socket_.read_some(asio::buffer(loop_.read_buffer), ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) break;
    if (ec) {  // the peer closed or reset: what it sent without waiting for an answer is dropped
      // A peer that closes before its first byte (a port probe) has not tried TLS.
      if (phase_ == Phase::Handshake && tls_) return tls_failed("connection closed during the TLS handshake");
      return close();
    }
    const std::string_view data(loop_.read_buffer.data(), n);
    if (phase_ == Phase::Draining) {
      drain_left_ -= std::min(drain_left_, n);
      if (drain_left_ == 0) return close();
      continue;
    }
    got = true;
    if (phase_ == Phase::Handshake && !tls_) {
      tls_ = TlsSession::create(server_.ctx);
      if (!tls_) return close();
    }
    if (!tls_) {
      in_.append(data);
    } else if (!tls_->feed(data)) {
      return close();
    }
    if (n < loop_.read_buffer.size()) break;
  }
  if (got) {
    if (phase_ == Phase::Head || phase_ == Phase::Body) {
      deadline_ = std::min(phase_deadline_, after(std::chrono::milliseconds(server_.options.read_timeout)));
      arm_timer();
    }
    if (phase_ == Phase::Handshake) return on_handshake_input();
    if (tls_) {
      const auto step = tls_->read(in_);
      send({});  // TLS may have answered something (a key update)
      if (step != TlsSession::Step::NeedMore) return close();  // close_notify or a protocol error
    }
    process();
  }
  if (phase_ != Phase::Handling && phase_ != Phase::Writing) want_read();
}

void Connection::on_handshake_input() {
  const auto step = tls_->handshake();
  if (step == TlsSession::Step::Failed) return tls_failed(tls_->failure_reason());
  send({});
  if (step == TlsSession::Step::NeedMore) return want_read();
  tls_version_ = tls_->version();
  client_certificate_ = tls_->peer_certificate();
  psk_identity_ = tls_->psk_identity();
  phase_ = Phase::Head;
  set_deadline(after(server_.options.head_timeout));
  if (tls_->read(in_) == TlsSession::Step::Failed) return close();
  process();
  if (phase_ != Phase::Handling && phase_ != Phase::Writing) want_read();
}

void Connection::tls_failed(const std::string& reason) {
  server_.tls_failed(peer_, reason);
  // The alert OpenSSL wrote, if any, goes out before the connection closes.
  std::string alert;
  if (tls_) tls_->take_output(alert);
  if (alert.empty() || phase_ == Phase::Closed) return close();
  out_ += alert;
  phase_ = Phase::Writing;
  close_after_ = true;
  drain_after_ = false;
  tls_.reset();
  set_deadline(after(std::chrono::milliseconds(server_.options.write_timeout)));
  start_write();
}

// --- requests ----------------------------------------------------------------

void Connection::process() {
  const auto& options = server_.options;
  for (;;) {
    if (phase_ == Phase::Idle) {
      if (in_.empty()) return;
      phase_ = Phase::Head;  // the head's clock starts with its first byte
      set_deadline(after(options.head_timeout));
    }
    if (phase_ == Phase::Head) {
      HeadLimits limits;
      limits.max_body_bytes = options.max_body_bytes;
      auto parsed = parse_request_head(in_, limits);
      if (parsed.status == HeadParse::Status::Incomplete) return;
      if (parsed.status == HeadParse::Status::Error) {
        head_ = std::move(parsed.head);
        return refuse(parsed.error.status);
      }
      in_.erase(0, parsed.consumed);
      head_ = std::move(parsed.head);

      // Route before the body is read: nothing unwanted is buffered.
      Response refusal;
      route_ = server_.find_route(head_, peer_, refusal);
      if (!route_) {
        // A body that follows is not read: the connection cannot be reused.
        const bool has_body = head_.chunked || head_.content_length.value_or(0) > 0;
        ++served_;
        const bool close = has_body || !head_.keep_alive || server_.stopping;
        return respond(head_.method, refusal, close, has_body);
      }
      const bool has_body = head_.chunked || head_.content_length.value_or(0) > 0;
      if (head_.expect_continue && has_body) send("HTTP/1.1 100 Continue\r\n\r\n");
      body_.clear();
      chunked_.reset();
      if (head_.chunked) chunked_.emplace(options.max_body_bytes);
      phase_ = Phase::Body;
      set_deadline(after(options.body_timeout));
    }
    if (phase_ == Phase::Body) {
      if (chunked_) {
        const auto step = chunked_->feed(in_, body_);
        in_.erase(0, step.consumed);
        if (step.status == ChunkedDecoder::Status::Error) {
          std::string().swap(body_);
          return refuse(step.error.status);
        }
        if (step.status == ChunkedDecoder::Status::NeedMore) return;
      } else if (head_.content_length) {
        const auto length = static_cast<std::size_t>(*head_.content_length);
        if (in_.size() < length) return;
        body_.assign(in_, 0, length);
        in_.erase(0, length);
      }
      return dispatch(*route_);
    }
    return;  // Handling, Writing, Draining: nothing to parse now
  }
}

void Connection::dispatch(const RouteEntry& route) {
  phase_ = Phase::Handling;
  set_deadline(Clock::time_point::max());  // handlers are not timed out (the stop waits for them)
  Request request;
  request.method = std::move(head_.method);
  request.path = std::move(head_.path);
  request.headers = std::move(head_.headers);
  request.body = std::move(body_);
  body_.clear();
  request.remote_address = peer_;
  request.tls_version = tls_version_;
  request.client_certificate = client_certificate_;
  request.psk_identity = psk_identity_;
  if (route.threads == HandlerThreads::Inline) {
    // On this loop, no hand-off: the answer goes out before the loop waits again.
    head_.method = request.method;
    return on_response(server_.run(route.handler, request));
  }
  asio::post(*server_.pool, [self = shared_from_this(), request = std::move(request), &route]() mutable {
    // A pool thread serves one server: named once, at its first request.
    thread_local bool named = false;
    if (!named) {
      set_thread_name(self->server_.options.thread_name + "-pool");
      named = true;
    }
    Response response = self->server_.run(route.handler, request);
    asio::post(self->loop_.io, [self, method = std::move(request.method), response = std::move(response)]() mutable {
      if (self->phase_ == Phase::Closed) return;
      self->head_.method = std::move(method);
      self->on_response(std::move(response));
    });
  });
}

void Connection::on_response(Response response) {
  ++served_;
  const bool keep = head_.keep_alive && served_ < server_.options.keep_alive_max_requests && !server_.stopping;
  respond(head_.method, response, !keep, false);
}

void Connection::refuse(int status) {
  server_.count(head_.method, head_.path, status);
  respond(head_.method, Response{status, "text/plain; charset=utf-8", {}, short_reason(status)}, true, true);
}

/// Writes a response; `close` ends the connection after it, `drain` first
/// reads what the client may still send so that it gets to read the answer.
void Connection::respond(const std::string& method, const Response& r, bool close, bool drain) {
  const std::string out = server_.response_bytes(method, r, close);
  phase_ = Phase::Writing;
  close_after_ = close;
  drain_after_ = drain;
  set_deadline(after(std::chrono::milliseconds(server_.options.write_timeout)));
  if (close && tls_) {
    if (!tls_->write(out)) return this->close();
    tls_->close_notify();
    send({});
  } else {
    send(out);
  }
}

// --- writing -----------------------------------------------------------------

/// Queues `plain` (encrypted over TLS, with whatever TLS has to send) and
/// starts a write when none is in progress.
void Connection::send(std::string_view plain) {
  if (phase_ == Phase::Closed) return;
  if (tls_) {
    if (!plain.empty() && !tls_->write(plain)) return close();
    tls_->take_output(out_);
  } else {
    out_.append(plain);
  }
  start_write();
}

void Connection::start_write() {
  if (writing_ || out_.empty() || phase_ == Phase::Closed) return;
  // Most answers fit the socket's send buffer: sent at once from here, with
  // no completion to wait for from the loop; only a rest waits for the socket.
  boost::system::error_code ec;
  const std::size_t sent = socket_.send(asio::buffer(out_), 0, ec);  // non-blocking
  if (ec && ec != asio::error::would_block && ec != asio::error::try_again) return close();
  if (sent == out_.size()) {
    if (out_.capacity() > 65536) std::string().swap(out_);
    out_.clear();
    return written();
  }
  writing_ = true;
  sending_.assign(out_, sent);
  out_.clear();
  asio::async_write(socket_, asio::buffer(sending_),
                    [self = shared_from_this()](const boost::system::error_code& e, std::size_t) {
                      self->writing_ = false;
                      if (self->sending_.capacity() > 65536) std::string().swap(self->sending_);
                      self->sending_.clear();
                      if (self->phase_ == Phase::Closed) return;
                      if (e) return self->close();
                      if (!self->out_.empty()) return self->start_write();
                      self->written();
                    });
}

/// Everything queued has left. An answer written straight away may lead to
/// the next pipelined request and its answer, written straight away too: the
/// loop below takes them one after the other instead of nesting calls.
void Connection::written() {
  if (phase_ != Phase::Writing) return;  // handshake bytes or a TLS record outside an answer
  if (in_written_) {
    written_again_ = true;
    return;
  }
  in_written_ = true;
  do {
    written_again_ = false;
    on_written();
  } while (written_again_ && phase_ == Phase::Writing);
  in_written_ = false;
}

void Connection::on_written() {
  if (close_after_) {
    boost::system::error_code ec;
    socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ec);
    if (!drain_after_ || ec) return close();
    phase_ = Phase::Draining;
    drain_left_ = kDrainBytes;
    tls_.reset();
    set_deadline(after(kDrainTime));
    return want_read();
  }
  if (in_.capacity() > 65536 && in_.size() < 4096) in_.shrink_to_fit();
  phase_ = Phase::Idle;
  set_deadline(after(std::chrono::milliseconds(server_.options.keep_alive_timeout)));
  process();  // a pipelined request may be waiting
  if (phase_ != Phase::Handling && phase_ != Phase::Writing && phase_ != Phase::Closed) want_read();
}

}  // namespace rsp::net::detail
