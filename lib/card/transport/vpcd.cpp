#include "rsp/card/transport/vpcd.hpp"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <thread>

#include "rsp/common/socket_io.hpp"

namespace rsp::card::transport {

std::string_view message(VpcdError e) {
  switch (e) {
    case VpcdError::kBadAddress: return "the vpcd host does not resolve";
  }
  return "unknown vpcd error";
}

namespace {

constexpr int kPollMillis = 200;

class Socket {
 public:
  explicit Socket(int fd = -1) : fd_(fd) {}
  ~Socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  int fd() const { return fd_; }

 private:
  int fd_;
};

struct AddressList {
  addrinfo* head = nullptr;
  ~AddressList() {
    if (head) freeaddrinfo(head);
  }
};

void say(const VpcdOptions& o, const std::string& line) {
  if (o.log) o.log(line);
}

// Waits in short slices so that a stop request is noticed promptly.
bool sleep_unless_stopped(std::chrono::milliseconds total, const std::stop_token& stop) {
  const auto end = std::chrono::steady_clock::now() + total;
  while (!stop.stop_requested()) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= end) return true;
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
        end - now, std::chrono::milliseconds(kPollMillis)));
  }
  return false;
}

// Reads exactly out.size() bytes; false on EOF, error or stop.
bool read_exact(int fd, std::uint8_t* out, std::size_t n, const std::stop_token& stop) {
  std::size_t got = 0;
  while (got < n) {
    if (stop.stop_requested()) return false;
    pollfd p{fd, POLLIN, 0};
    const int ready = ::poll(&p, 1, kPollMillis);
    if (ready < 0 && errno != EINTR) return false;
    if (ready <= 0) continue;
    const ssize_t r = ::recv(fd, out + got, n - got, 0);
    if (r == 0) return false;
    if (r < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return false;
    }
    got += static_cast<std::size_t>(r);
  }
  return true;
}

bool write_message(int fd, ByteView payload) {
  if (payload.size() > 0xFFFF) return false;
  Bytes frame{static_cast<std::uint8_t>(payload.size() >> 8),
              static_cast<std::uint8_t>(payload.size() & 0xFF)};
  frame.insert(frame.end(), payload.begin(), payload.end());
  return send_all(fd, frame.data(), frame.size());
}

// One connection: answers vpcd until it goes away or we are stopped.
void serve(Card& card, int fd, const std::stop_token& stop) {
  Bytes message;
  for (;;) {
    std::uint8_t header[2];
    if (!read_exact(fd, header, 2, stop)) return;
    const std::size_t len = (static_cast<std::size_t>(header[0]) << 8) | header[1];
    message.resize(len);
    if (len > 0 && !read_exact(fd, message.data(), len, stop)) return;
    if (len == 0) continue;
    if (len == 1) {
      switch (message[0]) {
        case vpcd_ctrl::kPowerOff:
        case vpcd_ctrl::kPowerOn:
        case vpcd_ctrl::kReset:
          card.reset();
          break;
        case vpcd_ctrl::kGetAtr:
          if (!write_message(fd, card.atr())) return;
          break;
        default:
          break;  // unknown control bytes are ignored, as vicc does
      }
      continue;
    }
    if (!write_message(fd, card.transmit(message))) return;
  }
}

int connect_any(const addrinfo* list) {
  for (const addrinfo* a = list; a; a = a->ai_next) {
    const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    if (::connect(fd, a->ai_addr, a->ai_addrlen) == 0) return fd;
    ::close(fd);
  }
  return -1;
}

}  // namespace

expected<void, VpcdError> run_vpcd(Card& card, const VpcdOptions& options, std::stop_token stop) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  AddressList addresses;
  const std::string port = std::to_string(options.port);
  if (getaddrinfo(options.host.c_str(), port.c_str(), &hints, &addresses.head) != 0) {
    return unexpected(VpcdError::kBadAddress);
  }
  const std::string where = options.host + ":" + port;
  bool waiting_logged = false;
  while (!stop.stop_requested()) {
    Socket socket(connect_any(addresses.head));
    if (socket.fd() < 0) {
      if (!waiting_logged) say(options, "waiting for vpcd at " + where);
      waiting_logged = true;
      sleep_unless_stopped(options.retry_interval, stop);
      continue;
    }
    waiting_logged = false;
    say(options, "connected to vpcd at " + where);
    serve(card, socket.fd(), stop);
    // The reader lost the card: a power cycle from the card's point of view.
    card.reset();
    if (!stop.stop_requested()) say(options, "vpcd connection closed; reconnecting");
  }
  return {};
}

expected<void, VpcdError> run_vpcd(Card& card, const std::string& host, std::uint16_t port,
                                   std::stop_token stop) {
  VpcdOptions options;
  options.host = host;
  options.port = port;
  return run_vpcd(card, options, std::move(stop));
}

}  // namespace rsp::card::transport
