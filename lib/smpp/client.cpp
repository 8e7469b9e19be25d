#include "rsp/smpp/client.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <variant>

#include "rsp/common/socket_io.hpp"
#include "rsp/smpp/pdu_io.hpp"
#include "rsp/smpp/receipt.hpp"

namespace rsp::smpp {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

Command bind_command(BindMode m) {
  switch (m) {
    case BindMode::Transmitter: return Command::BindTransmitter;
    case BindMode::Receiver: return Command::BindReceiver;
    case BindMode::Transceiver: return Command::BindTransceiver;
  }
  return Command::BindTransceiver;
}

std::string hex32(std::uint32_t v) {
  static const char* digits = "0123456789ABCDEF";
  std::string s = "0x00000000";
  for (int i = 0; i < 8; ++i) s[static_cast<std::size_t>(9 - i)] = digits[(v >> (4 * i)) & 0xF];
  return s;
}

int poll_ms(Clock::time_point until) {
  const auto left = std::chrono::duration_cast<milliseconds>(until - Clock::now()).count();
  return static_cast<int>(std::clamp<long long>(left, 0, 60000));
}

/// A TCP connection to host:port within `timeout`, send timeout set; -1 on failure.
int tcp_connect(const std::string& host, std::uint16_t port, milliseconds timeout) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res) != 0) return -1;
  int fd = -1;
  for (addrinfo* a = res; a && fd < 0; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
    if (fd < 0) continue;
    int rc = ::connect(fd, a->ai_addr, a->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      int err = 0;
      socklen_t len = sizeof err;
      rc = (::poll(&p, 1, static_cast<int>(timeout.count())) == 1 &&
            ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0)
               ? 0
               : -1;
    }
    if (rc != 0) {
      ::close(fd);
      fd = -1;
    }
  }
  ::freeaddrinfo(res);
  if (fd < 0) return -1;
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  timeval tv{static_cast<time_t>(timeout.count() / 1000), static_cast<suseconds_t>(timeout.count() % 1000 * 1000)};
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

}  // namespace

struct SmppClient::Impl {
  struct Request {
    ShortMessage msg;
    Clock::time_point give_up;  ///< no connection or window slot until then: Unavailable
    Clock::time_point reply_by;  ///< once sent
    std::optional<SmsResult<std::string>> result;
  };
  using Event = std::variant<ShortMessage, DeliveryReceipt>;

  SmppClientConfig cfg;
  mutable std::mutex mu;
  std::condition_variable cv;  ///< results, events, stop
  std::deque<std::shared_ptr<Request>> queue;                   ///< not yet sent, oldest first
  std::map<std::uint32_t, std::shared_ptr<Request>> inflight;  ///< by sequence number
  std::deque<Event> events;
  Inbound inbound;
  bool stopping = false;
  std::atomic<bool> is_bound{false};
  std::atomic<std::uint64_t> rebind_count{0};

  // Owned by the I/O thread (and by connect() before it starts).
  int fd = -1;
  PduReader reader;
  std::uint32_t next_seq = 1;
  Clock::time_point last_rx{};
  std::optional<Clock::time_point> enquire_due;  ///< an enquire_link awaits its response until then
  milliseconds backoff{0};

  int wake_rd = -1;
  int wake_wr = -1;
  std::thread io;
  std::thread dispatcher;

  void log(const std::string& s) const {
    if (cfg.log) cfg.log("smpp " + cfg.system_id + "@" + cfg.host + ":" + std::to_string(cfg.port) + ": " + s);
  }
  void wake() const {
    const char c = 1;
    [[maybe_unused]] const auto n = ::write(wake_wr, &c, 1);
  }
  std::uint32_t seq() {
    const std::uint32_t s = next_seq;
    next_seq = next_seq >= 0x7FFFFFFF ? 1 : next_seq + 1;
    return s;
  }

  /// Connects and binds; the socket stays in `fd` on success.
  SmsResult<void> bind_once() {
    fd = tcp_connect(cfg.host, cfg.port, cfg.response_timeout);
    if (fd < 0) return sms_error(SmsError::Kind::Unavailable, "no TCP connection to the SMSC");
    reader = PduReader{};
    Pdu bind;
    bind.command_id = static_cast<std::uint32_t>(bind_command(cfg.mode));
    bind.sequence = seq();
    bind.body = Bind{cfg.system_id, cfg.password, cfg.system_type, cfg.address.ton, cfg.address.npi, cfg.address.digits};
    if (!encode(bind)) {
      close_fd();
      return sms_error(SmsError::Kind::InvalidArgument, "bind parameters too long for SMPP 3.4 §4.1");
    }
    if (!send_pdu(fd, bind)) {
      close_fd();
      return sms_error(SmsError::Kind::Unavailable, "the SMSC closed the connection during bind");
    }
    const auto until = Clock::now() + cfg.response_timeout;
    while (true) {
      auto next = reader.next();
      if (!next) {
        close_fd();
        return sms_error(SmsError::Kind::Protocol, "bad framing from the SMSC: " + next.error().message);
      }
      if (*next) {
        const auto pdu = decode(**next);
        if (!pdu) {
          close_fd();
          return sms_error(SmsError::Kind::Protocol, "malformed bind response: " + pdu.error().message);
        }
        const bool is_resp = pdu->command_id == (bind.command_id | 0x80000000u) ||
                             pdu->command_id == static_cast<std::uint32_t>(Command::GenericNack);
        if (!is_resp || pdu->sequence != bind.sequence) continue;  // nothing else is expected before it
        if (pdu->status != status::kOk || pdu->command_id == static_cast<std::uint32_t>(Command::GenericNack)) {
          close_fd();
          return sms_error(SmsError::Kind::BindFailed, "bind refused with command_status " + hex32(pdu->status),
                           pdu->status == 0 ? status::kBindFailed : pdu->status);
        }
        last_rx = Clock::now();
        enquire_due.reset();
        return {};
      }
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, poll_ms(until)) != 1 || !read_some()) {
        close_fd();
        return sms_error(Clock::now() >= until ? SmsError::Kind::Timeout : SmsError::Kind::Unavailable,
                         "no bind response from the SMSC");
      }
    }
  }

  /// Reads what the socket has into the reader; false on EOF or error.
  bool read_some() {
    std::uint8_t buf[4096];
    const ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return true;
    if (n <= 0) return false;
    reader.feed(ByteView(buf, static_cast<std::size_t>(n)));
    last_rx = Clock::now();
    return true;
  }

  void close_fd() {
    if (fd >= 0) ::close(fd);
    fd = -1;
    is_bound = false;
  }

  /// The connection is gone: unanswered submissions go back to the queue
  /// front, in their order, to be sent again after the rebind.
  void drop(const std::string& why) {
    log("connection dropped: " + why);
    close_fd();
    std::lock_guard lock(mu);
    for (auto it = inflight.rbegin(); it != inflight.rend(); ++it) {
      if (it->second->result) continue;
      it->second->give_up = Clock::now() + cfg.outage_wait;
      queue.push_front(it->second);
    }
    inflight.clear();
  }

  void finish(const std::shared_ptr<Request>& r, SmsResult<std::string> result) {  // with mu held
    if (!r->result) r->result = std::move(result);
    cv.notify_all();
  }

  void send_queued() {
    std::unique_lock lock(mu);
    while (fd >= 0 && !queue.empty() && inflight.size() < cfg.window) {
      auto r = queue.front();
      queue.pop_front();
      if (r->result) continue;
      Pdu p;
      p.command_id = static_cast<std::uint32_t>(Command::SubmitSm);
      p.sequence = seq();
      SmBody body;
      body.message = r->msg;
      p.body = std::move(body);
      const auto bytes = encode(p);
      if (!bytes) {
        finish(r, sms_error(SmsError::Kind::InvalidArgument, "submit_sm does not encode: " + bytes.error().message));
        continue;
      }
      r->reply_by = Clock::now() + cfg.response_timeout;
      inflight[p.sequence] = r;
      lock.unlock();
      const bool ok = send_all(fd, bytes->data(), bytes->size());
      if (!ok) {
        drop("send failed");
        return;
      }
      lock.lock();
    }
  }

  void reply(std::uint32_t command, std::uint32_t sequence, std::uint32_t st = status::kOk,
             std::optional<MessageIdResp> body = std::nullopt) {
    Pdu p;
    p.command_id = command;
    p.status = st;
    p.sequence = sequence;
    if (body) p.body = *body;
    if (fd >= 0 && !send_pdu(fd, p)) drop("send failed");
  }

  void post(Event e) {
    std::lock_guard lock(mu);
    events.push_back(std::move(e));
    cv.notify_all();
  }

  void on_deliver(const Pdu& pdu) {
    const auto& body = std::get<SmBody>(pdu.body);
    if (cfg.mode == BindMode::Transmitter) {
      reply(static_cast<std::uint32_t>(Command::DeliverSmResp), pdu.sequence, status::kInvalidBindStatus, MessageIdResp{});
      return;
    }
    // SMPP 3.4 §5.2.12: esm_class bits 5-2 give the message type; 0001 is a delivery receipt.
    if ((body.esm_class & 0x3C) == kEsmDeliveryReceipt) {
      const auto text = parse_receipt(to_string(body.message.user_data));
      DeliveryReceipt r;
      r.recipient = body.message.source;
      if (text) {
        r.message_id = text->id;
        r.state = text->state;
        r.error = text->error;
      }
      if (body.receipted_message_id) r.message_id = *body.receipted_message_id;
      // message_state (§5.2.28: 1 ENROUTE ... 8 REJECTED) when the text said nothing.
      if (!text && body.message_state && *body.message_state >= 1 && *body.message_state <= 8)
        r.state = static_cast<DeliveryState>(*body.message_state - 1);
      if (r.message_id.empty()) {
        log("delivery receipt without a message id ignored");
      } else {
        post(r);
      }
    } else {
      post(body.message);
    }
    // Acknowledged once queued for the handler (at most once to the application).
    reply(static_cast<std::uint32_t>(Command::DeliverSmResp), pdu.sequence, status::kOk, MessageIdResp{});
  }

  void on_response(const Pdu& pdu) {
    std::lock_guard lock(mu);
    const auto it = inflight.find(pdu.sequence);
    if (it == inflight.end()) return;  // late or unknown: its request already failed with Timeout
    auto r = it->second;
    inflight.erase(it);
    if (pdu.command_id == static_cast<std::uint32_t>(Command::SubmitSmResp) && pdu.status == status::kOk) {
      const auto* m = std::get_if<MessageIdResp>(&pdu.body);
      finish(r, m ? m->message_id : std::string{});
    } else {
      finish(r, sms_error(SmsError::Kind::Rejected, "the SMSC refused submit_sm with command_status " + hex32(pdu.status),
                          pdu.status));
    }
  }

  /// Handles one framed PDU; false when the connection must be dropped.
  bool handle(const Bytes& raw) {
    const auto pdu = decode(raw);
    if (!pdu) {
      const Pdu head = read_header(raw);
      if (pdu.error().kind == PduError::Kind::UnknownCommand && !is_response(head.command_id)) {
        // SMPP 3.4 §4.3: generic_nack answers a PDU whose command_id is not recognised.
        reply(static_cast<std::uint32_t>(Command::GenericNack), head.sequence, status::kInvalidCommandId);
        return true;
      }
      log("malformed PDU from the SMSC (" + pdu.error().message + "), command_id " + hex32(head.command_id));
      reply(static_cast<std::uint32_t>(Command::GenericNack),
            head.sequence == 0 || head.sequence > 0x7FFFFFFF ? 1 : head.sequence, status::kSystemError);
      return false;
    }
    switch (static_cast<Command>(pdu->command_id)) {
      case Command::SubmitSmResp:
      case Command::GenericNack: on_response(*pdu); return true;
      case Command::DeliverSm: on_deliver(*pdu); return true;
      case Command::EnquireLink: reply(static_cast<std::uint32_t>(Command::EnquireLinkResp), pdu->sequence); return true;
      case Command::EnquireLinkResp: enquire_due.reset(); return true;
      case Command::Unbind:
        reply(static_cast<std::uint32_t>(Command::UnbindResp), pdu->sequence);
        log("the SMSC unbound");
        return false;
      default:
        if (!is_response(pdu->command_id))
          reply(static_cast<std::uint32_t>(Command::GenericNack), pdu->sequence, status::kInvalidBindStatus);
        return true;
    }
  }

  /// Handles every whole PDU the reader holds; false (connection dropped) on a protocol error.
  bool process_frames() {
    while (fd >= 0) {
      auto next = reader.next();
      if (!next) {
        log("bad framing from the SMSC: " + next.error().message);
      } else if (!*next) {
        return true;
      } else if (handle(**next)) {
        continue;
      }
      drop("protocol error");
      backoff = cfg.reconnect_min;
      return false;
    }
    return false;
  }

  /// Fails what waited too long: queued submissions past give_up, sent ones past reply_by.
  void expire() {
    const auto now = Clock::now();
    std::lock_guard lock(mu);
    for (auto it = queue.begin(); it != queue.end();) {
      if ((*it)->give_up <= now) {
        finish(*it, sms_error(SmsError::Kind::Unavailable, "no bound SMSC connection within the wait bound"));
        it = queue.erase(it);
      } else {
        ++it;
      }
    }
    for (auto it = inflight.begin(); it != inflight.end();) {
      if (it->second->reply_by <= now) {
        finish(it->second, sms_error(SmsError::Kind::Timeout, "no submit_sm_resp in time"));
        it = inflight.erase(it);
      } else {
        ++it;
      }
    }
  }

  Clock::time_point next_deadline() const {
    auto t = Clock::now() + milliseconds(1000);
    std::lock_guard lock(mu);
    for (const auto& r : queue) t = std::min(t, r->give_up);
    for (const auto& [s, r] : inflight) t = std::min(t, r->reply_by);
    return t;
  }

  void drain_wake() {
    char buf[64];
    while (::read(wake_rd, buf, sizeof buf) > 0) {
    }
  }

  bool stop_requested() const {
    std::lock_guard lock(mu);
    return stopping;
  }

  void run_io() {
    process_frames();  // whatever arrived with the first bind response
    while (!stop_requested()) {
      expire();
      if (fd < 0) {
        if (backoff.count() > 0) {
          pollfd p{wake_rd, POLLIN, 0};
          ::poll(&p, 1, static_cast<int>(std::min(backoff, milliseconds(poll_ms(next_deadline()) + 1)).count()));
          drain_wake();
          expire();
          if (stop_requested()) break;
        }
        if (auto b = bind_once(); !b) {
          log("rebind failed: " + b.error().message);
          backoff = std::clamp(backoff * 2, cfg.reconnect_min, cfg.reconnect_max);
          continue;
        }
        backoff = milliseconds(0);
        ++rebind_count;
        is_bound = true;
        log("bound again");
        // PDUs that came in the same read as the bind response (a held deliver_sm) are waiting.
        if (!process_frames()) continue;
      }
      send_queued();
      if (fd < 0) continue;
      auto until = next_deadline();
      const auto keepalive = last_rx + cfg.enquire_link_interval;
      until = std::min(until, enquire_due ? *enquire_due : keepalive);
      pollfd p[2] = {{fd, POLLIN, 0}, {wake_rd, POLLIN, 0}};
      const int n = ::poll(p, 2, poll_ms(until));
      if (n < 0 && errno != EINTR) {
        drop("poll failed");
        continue;
      }
      if (p[1].revents) drain_wake();
      if (p[0].revents) {
        if (!read_some()) {
          drop("closed by the SMSC");
          backoff = cfg.reconnect_min;
          continue;
        }
        if (!process_frames()) continue;
      }
      const auto now = Clock::now();
      if (enquire_due && now >= *enquire_due) {
        drop("no enquire_link_resp");
        backoff = cfg.reconnect_min;
      } else if (!enquire_due && now >= last_rx + cfg.enquire_link_interval) {
        // SMPP 3.4 §4.11: enquire_link checks the link when it has been quiet.
        reply(static_cast<std::uint32_t>(Command::EnquireLink), seq());
        enquire_due = now + cfg.response_timeout;
      }
    }
    if (fd >= 0) {
      // SMPP 3.4 §4.2: unbind, then wait briefly for unbind_resp.
      Pdu u;
      u.command_id = static_cast<std::uint32_t>(Command::Unbind);
      u.sequence = seq();
      if (send_pdu(fd, u)) {
        const auto until = Clock::now() + std::min(cfg.response_timeout, milliseconds(1000));
        pollfd p{fd, POLLIN, 0};
        bool done = false;
        while (!done && ::poll(&p, 1, poll_ms(until)) == 1 && read_some()) {
          while (auto next = reader.next()) {
            if (!*next) break;
            done = read_header(**next).command_id == static_cast<std::uint32_t>(Command::UnbindResp);
            if (done) break;
          }
          if (Clock::now() >= until) break;
        }
      }
      close_fd();
    }
    std::lock_guard lock(mu);
    for (auto& r : queue) finish(r, sms_error(SmsError::Kind::Stopped, "client stopped"));
    for (auto& [s, r] : inflight) finish(r, sms_error(SmsError::Kind::Stopped, "client stopped"));
    queue.clear();
    inflight.clear();
  }

  void run_dispatcher() {
    std::unique_lock lock(mu);
    while (true) {
      cv.wait(lock, [&] { return stopping || !events.empty(); });
      if (events.empty()) return;
      Event e = std::move(events.front());
      events.pop_front();
      const Inbound handlers = inbound;
      lock.unlock();
      if (const auto* m = std::get_if<ShortMessage>(&e)) {
        if (handlers.on_message) handlers.on_message(*m);
      } else if (handlers.on_receipt) {
        handlers.on_receipt(std::get<DeliveryReceipt>(e));
      }
      lock.lock();
    }
  }
};

SmsResult<std::unique_ptr<SmppClient>> SmppClient::connect(SmppClientConfig config, Inbound inbound) {
  ignore_sigpipe();
  if (config.window == 0) config.window = 1;
  auto impl = std::make_unique<Impl>();
  impl->cfg = std::move(config);
  impl->inbound = std::move(inbound);
  int p[2];
  if (::pipe2(p, O_CLOEXEC | O_NONBLOCK) != 0) return sms_error(SmsError::Kind::Unavailable, "no wake-up pipe");
  impl->wake_rd = p[0];
  impl->wake_wr = p[1];
  if (auto b = impl->bind_once(); !b) {
    ::close(p[0]);
    ::close(p[1]);
    return unexpected(std::move(b).error());
  }
  impl->is_bound = true;
  impl->log("bound");
  Impl* raw = impl.get();
  impl->io = std::thread([raw] { raw->run_io(); });
  impl->dispatcher = std::thread([raw] { raw->run_dispatcher(); });
  return std::unique_ptr<SmppClient>(new SmppClient(std::move(impl)));
}

SmppClient::SmppClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

SmppClient::~SmppClient() {
  stop();
  if (impl_->dispatcher.joinable()) impl_->dispatcher.detach();  // only when destroyed by its own handler
  ::close(impl_->wake_rd);
  ::close(impl_->wake_wr);
}

SmsResult<std::string> SmppClient::submit(const ShortMessage& msg) {
  RSP_TRY_VOID(validate(msg));
  if (impl_->cfg.mode == BindMode::Receiver)
    return sms_error(SmsError::Kind::InvalidArgument, "bound as a receiver: submit_sm is not allowed");
  auto r = std::make_shared<Impl::Request>();
  r->msg = msg;
  r->give_up = Clock::now() + impl_->cfg.outage_wait;
  std::unique_lock lock(impl_->mu);
  if (impl_->stopping) return sms_error(SmsError::Kind::Stopped, "client stopped");
  impl_->queue.push_back(r);
  impl_->wake();
  // The I/O thread settles every request; the bound here only guards against
  // a stuck thread (give_up moves on when a dropped connection requeues it).
  while (!r->result) {
    const auto limit = r->give_up + 2 * impl_->cfg.response_timeout + std::chrono::seconds(1);
    if (Clock::now() >= limit) {
      std::erase(impl_->queue, r);
      return sms_error(SmsError::Kind::Timeout, "submission not settled in time");
    }
    impl_->cv.wait_until(lock, limit);
  }
  return std::move(*r->result);
}

void SmppClient::set_inbound(Inbound inbound) {
  std::lock_guard lock(impl_->mu);
  impl_->inbound = std::move(inbound);
}

void SmppClient::stop() {
  {
    std::lock_guard lock(impl_->mu);
    if (impl_->stopping) return;
    impl_->stopping = true;
    impl_->cv.notify_all();
  }
  impl_->wake();
  if (impl_->io.joinable()) impl_->io.join();
  {
    std::lock_guard lock(impl_->mu);
    impl_->cv.notify_all();
  }
  // The dispatcher hands out what already arrived, then ends; a handler that
  // calls stop() leaves the join to the destructor.
  if (impl_->dispatcher.joinable() && impl_->dispatcher.get_id() != std::this_thread::get_id())
    impl_->dispatcher.join();
}

bool SmppClient::bound() const { return impl_->is_bound; }
std::uint64_t SmppClient::rebinds() const { return impl_->rebind_count; }

}  // namespace rsp::smpp
