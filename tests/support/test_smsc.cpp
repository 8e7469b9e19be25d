#include "test_support/test_smsc.hpp"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "rsp/common/socket_io.hpp"
#include "rsp/smpp/pdu_io.hpp"
#include "rsp/smpp/receipt.hpp"

namespace rsp::test_support {

using namespace rsp::smpp;

namespace {

std::uint32_t cmd(Command c) { return static_cast<std::uint32_t>(c); }

/// A message waiting for, or on its way to, the ESME serving its destination.
struct Delivery {
  SmBody body;
  std::string message_id;      ///< for a message: the id its submitter got
  bool wants_receipt = false;
};

struct Connection {
  int fd = -1;
  std::mutex write_mu;
  std::thread thread;
  std::string address;  ///< bind address_range; empty before the bind
  bool can_receive = false;
  bool can_submit = false;
  bool bound = false;
  std::uint32_t next_seq = 1;
  std::map<std::uint32_t, Delivery> outstanding;  ///< deliver_sm sent, by sequence number
  bool send(const Pdu& p) {
    std::lock_guard lock(write_mu);
    return fd >= 0 && send_pdu(fd, p);
  }
};

}  // namespace

struct TestSmsc::State {
  std::vector<Account> accounts;
  mutable std::mutex mu;
  int listen_fd = -1;
  int port = 0;
  std::atomic<bool> running{false};
  std::thread acceptor;
  std::vector<std::shared_ptr<Connection>> connections;
  std::map<std::string, std::deque<Delivery>> held;  ///< by destination digits
  std::uint64_t next_id = 1;
  bool mute = false;
  std::size_t submits = 0;
  std::size_t received = 0;  ///< submit_sm PDUs, answered or not
  std::size_t binds = 0;

  bool muted() const {
    std::lock_guard lock(mu);
    return mute;
  }

  /// The bound receiver for `digits`, or nullptr (with mu held).
  std::shared_ptr<Connection> route(const std::string& digits) {
    for (auto& c : connections)
      if (c->bound && c->can_receive && c->address == digits) return c;
    return nullptr;
  }

  /// Sends `d` to its destination's ESME, or holds it (with mu held).
  void deliver(Delivery d) {
    const std::string to = d.body.message.destination.digits;
    auto c = route(to);
    if (!c) {
      held[to].push_back(std::move(d));
      return;
    }
    Pdu p;
    p.command_id = cmd(Command::DeliverSm);
    p.sequence = c->next_seq++;
    SmBody body = d.body;
    body.service_type.clear();
    p.body = body;
    if (!c->send(p)) {
      held[to].push_back(std::move(d));
      return;
    }
    c->outstanding[p.sequence] = std::move(d);
  }

  void flush_held(const std::string& digits) {  // with mu held
    const auto it = held.find(digits);
    if (it == held.end()) return;
    auto list = std::move(it->second);
    held.erase(it);
    for (auto& d : list) deliver(std::move(d));
  }

  void on_bind(Connection& c, const Pdu& p) {
    const auto& b = std::get<Bind>(p.body);
    Pdu r;
    r.command_id = p.command_id | 0x80000000u;
    r.sequence = p.sequence;
    std::lock_guard lock(mu);
    if (c.bound) {
      r.status = status::kAlreadyBound;
    } else {
      r.status = status::kInvalidSystemId;
      for (const auto& a : accounts)
        if (a.system_id == b.system_id) r.status = a.password == b.password ? status::kOk : status::kInvalidPassword;
    }
    if (r.status == status::kOk) r.body = BindResp{"TESTSMSC"};
    if (!c.send(r) || r.status != status::kOk) return;
    c.bound = true;
    ++binds;
    c.address = b.address_range;
    c.can_receive = p.command_id != cmd(Command::BindTransmitter);
    c.can_submit = p.command_id != cmd(Command::BindReceiver);
    if (c.can_receive) flush_held(c.address);
  }

  void on_submit(Connection& c, const Pdu& p) {
    Pdu r;
    r.command_id = cmd(Command::SubmitSmResp);
    r.sequence = p.sequence;
    std::lock_guard lock(mu);
    ++received;
    if (mute) return;
    if (!c.bound || !c.can_submit) {
      r.status = status::kInvalidBindStatus;
      c.send(r);
      return;
    }
    ++submits;
    Delivery d{std::get<SmBody>(p.body), "T" + std::to_string(next_id++), false};
    d.wants_receipt = (d.body.message.registered_delivery & 0x01) != 0;
    d.body.esm_class &= kEsmUdhi;  // the message mode bits do not travel on
    d.body.message.registered_delivery = 0;
    r.body = MessageIdResp{d.message_id};
    if (!c.send(r)) return;
    deliver(std::move(d));
  }

  void on_deliver_resp(Connection& c, const Pdu& p) {
    std::lock_guard lock(mu);
    const auto it = c.outstanding.find(p.sequence);
    if (it == c.outstanding.end()) return;
    Delivery d = std::move(it->second);
    c.outstanding.erase(it);
    if (p.status != status::kOk) return;
    if (!d.wants_receipt) return;
    // The receipt goes back to the submitter's address.
    Delivery rcpt;
    rcpt.body.esm_class = kEsmDeliveryReceipt;
    rcpt.body.message.source = d.body.message.destination;
    rcpt.body.message.destination = d.body.message.source;
    rcpt.body.message.user_data =
        to_bytes(format_receipt({d.message_id, DeliveryState::Delivered, 0}, "2612030000", "2612030000"));
    rcpt.body.receipted_message_id = d.message_id;
    rcpt.body.message_state = 2;  // DELIVERED (§5.2.28)
    deliver(std::move(rcpt));
  }

  /// One ESME connection until it closes or breaks the protocol.
  void serve(std::shared_ptr<Connection> c) {
    PduReader reader;
    std::uint8_t buf[4096];
    bool open = true;
    while (open && running) {
      pollfd pf{c->fd, POLLIN, 0};
      if (::poll(&pf, 1, 100) <= 0) continue;
      const ssize_t n = ::recv(c->fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      reader.feed(ByteView(buf, static_cast<std::size_t>(n)));
      while (open) {
        auto next = reader.next();
        if (!next) {
          open = false;  // framing lost
          break;
        }
        if (!*next) break;
        auto pdu = decode(**next);
        if (!pdu) {
          const Pdu head = read_header(**next);
          Pdu nack;
          nack.command_id = cmd(Command::GenericNack);
          nack.sequence = head.sequence == 0 || head.sequence > 0x7FFFFFFF ? 1 : head.sequence;
          nack.status = pdu.error().kind == PduError::Kind::UnknownCommand ? status::kInvalidCommandId : status::kSystemError;
          c->send(nack);
          // Unknown commands are answered; a malformed PDU ends the connection.
          if (pdu.error().kind != PduError::Kind::UnknownCommand) open = false;
          continue;
        }
        switch (static_cast<Command>(pdu->command_id)) {
          case Command::BindTransmitter:
          case Command::BindReceiver:
          case Command::BindTransceiver: on_bind(*c, *pdu); break;
          case Command::SubmitSm: on_submit(*c, *pdu); break;
          case Command::DeliverSmResp: on_deliver_resp(*c, *pdu); break;
          case Command::EnquireLink: {
            if (muted()) break;
            Pdu r;
            r.command_id = cmd(Command::EnquireLinkResp);
            r.sequence = pdu->sequence;
            c->send(r);
            break;
          }
          case Command::Unbind: {
            Pdu r;
            r.command_id = cmd(Command::UnbindResp);
            r.sequence = pdu->sequence;
            c->send(r);
            open = false;
            break;
          }
          default: break;
        }
      }
    }
    // Deliveries it did not acknowledge wait for the next bind.
    std::lock_guard lock(mu);
    c->bound = false;
    for (auto& [seq, d] : c->outstanding) held[d.body.message.destination.digits].push_back(std::move(d));
    c->outstanding.clear();
    std::lock_guard wlock(c->write_mu);
    ::close(c->fd);
    c->fd = -1;
  }

  void accept_loop() {
    while (running) {
      pollfd pf{listen_fd, POLLIN, 0};
      if (::poll(&pf, 1, 100) <= 0) continue;
      const int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      timeval tv{2, 0};
      ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
      auto c = std::make_shared<Connection>();
      c->fd = fd;
      std::lock_guard lock(mu);
      connections.push_back(c);
      c->thread = std::thread([this, c] { serve(c); });
    }
  }

  void shutdown_all() {
    std::lock_guard lock(mu);
    for (auto& c : connections) {
      std::lock_guard wlock(c->write_mu);
      if (c->fd >= 0) ::shutdown(c->fd, SHUT_RDWR);
    }
  }

  void reap() {
    std::vector<std::shared_ptr<Connection>> all;
    {
      std::lock_guard lock(mu);
      all.swap(connections);
    }
    for (auto& c : all)
      if (c->thread.joinable()) c->thread.join();
  }
};

TestSmsc::TestSmsc(std::vector<Account> accounts) : state_(std::make_shared<State>()) {
  state_->accounts = std::move(accounts);
  ignore_sigpipe();
}

TestSmsc::~TestSmsc() { stop(); }

bool TestSmsc::start(int port) {
  if (state_->running) return true;
  if (port > 0) state_->port = port;
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(state_->port));
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 16) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    return false;
  }
  state_->listen_fd = fd;
  state_->port = ntohs(addr.sin_port);
  state_->running = true;
  state_->acceptor = std::thread([s = state_.get()] { s->accept_loop(); });
  return true;
}

void TestSmsc::stop() {
  if (!state_->running) return;
  state_->running = false;
  state_->acceptor.join();
  ::close(state_->listen_fd);
  state_->listen_fd = -1;
  state_->shutdown_all();
  state_->reap();
}

int TestSmsc::port() const { return state_->port; }

void TestSmsc::drop_connections() { state_->shutdown_all(); }

void TestSmsc::send_raw(const Bytes& bytes) {
  std::lock_guard lock(state_->mu);
  for (auto& c : state_->connections) {
    std::lock_guard wlock(c->write_mu);
    if (c->bound && c->fd >= 0) send_all(c->fd, bytes.data(), bytes.size());
  }
}

void TestSmsc::set_mute(bool mute) {
  std::lock_guard lock(state_->mu);
  state_->mute = mute;
}

std::size_t TestSmsc::bound_count() const {
  std::lock_guard lock(state_->mu);
  std::size_t n = 0;
  for (const auto& c : state_->connections) n += c->bound ? 1 : 0;
  return n;
}

std::size_t TestSmsc::submit_count() const {
  std::lock_guard lock(state_->mu);
  return state_->submits;
}

std::size_t TestSmsc::received_submits() const {
  std::lock_guard lock(state_->mu);
  return state_->received;
}

std::size_t TestSmsc::bind_count() const {
  std::lock_guard lock(state_->mu);
  return state_->binds;
}

}  // namespace rsp::test_support
