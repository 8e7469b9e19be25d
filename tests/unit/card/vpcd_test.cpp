// run_vpcd against a fake vpcd (a TCP listener speaking vpcd's framing):
// control commands, APDUs, reconnection after the driver goes away, stop.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "rsp/card/transport/vpcd.hpp"
#include "test_app.hpp"

namespace rsp::card::transport {
namespace {

Bytes hex(std::string_view h) { return from_hex(h).value(); }

class FakeVpcd {
 public:
  FakeVpcd() {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    EXPECT_EQ(::bind(listener_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(::listen(listener_, 1), 0);
    socklen_t len = sizeof a;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
  }
  ~FakeVpcd() {
    drop();
    ::close(listener_);
  }
  std::uint16_t port() const { return port_; }
  void accept() { conn_ = ::accept(listener_, nullptr, nullptr); }
  void drop() {
    if (conn_ >= 0) ::close(conn_);
    conn_ = -1;
  }
  void send(ByteView payload) {
    Bytes frame{static_cast<std::uint8_t>(payload.size() >> 8),
                static_cast<std::uint8_t>(payload.size())};
    frame.insert(frame.end(), payload.begin(), payload.end());
    ASSERT_EQ(::send(conn_, frame.data(), frame.size(), 0), static_cast<ssize_t>(frame.size()));
  }
  Bytes receive() {
    std::uint8_t h[2];
    if (!read_exact(h, 2)) return {};
    Bytes out((h[0] << 8) | h[1]);
    if (!read_exact(out.data(), out.size())) return {};
    return out;
  }

 private:
  bool read_exact(std::uint8_t* p, std::size_t n) {
    std::size_t got = 0;
    while (got < n) {
      const ssize_t r = ::recv(conn_, p + got, n - got, 0);
      if (r <= 0) return false;
      got += static_cast<std::size_t>(r);
    }
    return true;
  }
  int listener_ = -1;
  int conn_ = -1;
  std::uint16_t port_ = 0;
};

TEST(Vpcd, ServesControlAndApdusAndReconnects) {
  FakeVpcd vpcd;
  Card card;
  auto app = std::make_shared<test::EchoApp>();
  card.add_application(app);
  VpcdOptions options;
  options.port = vpcd.port();
  options.retry_interval = std::chrono::milliseconds(50);
  std::jthread server([&](std::stop_token st) { EXPECT_TRUE(run_vpcd(card, options, st)); });

  vpcd.accept();
  vpcd.send(Bytes{vpcd_ctrl::kPowerOn});
  vpcd.send(Bytes{vpcd_ctrl::kGetAtr});
  EXPECT_EQ(vpcd.receive(), card.atr());
  vpcd.send(hex("00A4040010A0000005591010FFFFFFFF890000010000"));
  const Bytes fci = vpcd.receive();
  EXPECT_EQ(to_hex(fci), to_hex(make_fci(kIsdRAid)) + "9000");
  vpcd.send(hex("80E2910003BF2E0000"));
  EXPECT_EQ(to_hex(vpcd.receive()), "BF2E009000");

  // The driver goes away (pcscd restart): the card is reset and comes back.
  vpcd.drop();
  vpcd.accept();
  vpcd.send(Bytes{vpcd_ctrl::kReset});
  vpcd.send(hex("80E2910003BF2E0000"));
  EXPECT_EQ(to_hex(vpcd.receive()), "6986");  // nothing selected after reset
  server.request_stop();
  server.join();
}

TEST(Vpcd, WaitsForTheDriverAndStops) {
  Card card;
  VpcdOptions options;
  options.port = 1;  // nothing listens there
  options.retry_interval = std::chrono::milliseconds(20);
  int logged = 0;
  options.log = [&](std::string_view) { ++logged; };
  std::stop_source stop;
  std::thread t([&] { EXPECT_TRUE(run_vpcd(card, options, stop.get_token())); });
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  stop.request_stop();
  t.join();
  EXPECT_EQ(logged, 1);  // "waiting" once, not once per attempt
}

TEST(Vpcd, BadHost) {
  Card card;
  std::stop_source stop;
  auto r = run_vpcd(card, "no-such-host.invalid", 35963, stop.get_token());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), VpcdError::kBadAddress);
  EXPECT_FALSE(message(r.error()).empty());
}

}  // namespace
}  // namespace rsp::card::transport
