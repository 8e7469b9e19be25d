// The device's count of sessions whose connection could not be made or
// whose PSK-TLS handshake failed (what bench_smsr prints per operation):
// each failure lands in its own counter, and a failure of the other kind
// never in it.

#include "rsp/m2m_device/device.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "m2m_fixture.hpp"

namespace rsp::m2m_device {
namespace {

using namespace std::chrono_literals;

/// A loopback listener on a port of the kernel's choice; -1 when none.
int listen_loopback(int& port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, 8) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    ::close(fd);
    return -1;
  }
  port = ntohs(a.sin_port);
  return fd;
}

class DeviceFailures : public euicc_m2m::test::M2mTest {
 protected:
  ota::AdminSessionTrigger trigger(int port) {
    ota::AdminSessionTrigger t;
    t.host = "127.0.0.1:" + std::to_string(port);
    t.uri = "/gsma/adminagent";
    return t;
  }
  M2mDeviceOptions options() {
    M2mDeviceOptions o;
    o.http_timeout = 2000ms;
    return o;
  }
};

TEST_F(DeviceFailures, AConnectionRefusedIsAConnectFailure) {
  int port = 0;
  const int fd = listen_loopback(port);
  ASSERT_GE(fd, 0);
  ::close(fd);  // nothing listens there now: the connect is refused
  M2mDevice device(card_->isd_r(), options());
  auto r = device.run_session(trigger(port));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, DeviceError::Kind::Connect);
  EXPECT_EQ(r.error().stage, DeviceError::Stage::Connect);
  EXPECT_EQ(device.connect_failures(), 1u);
  EXPECT_EQ(device.handshake_failures(), 0u);
}

TEST_F(DeviceFailures, AConnectionClosedBeforeTheHandshakeIsAHandshakeFailure) {
  int port = 0;
  const int fd = listen_loopback(port);
  ASSERT_GE(fd, 0);
  // Accepts the connection and closes it unanswered, as a listener that
  // refuses it after the TCP handshake does.
  std::thread server([fd] {
    const int c = ::accept(fd, nullptr, nullptr);
    if (c >= 0) ::close(c);
  });
  M2mDevice device(card_->isd_r(), options());
  auto r = device.run_session(trigger(port));
  server.join();
  ::close(fd);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, DeviceError::Kind::Connect);
  EXPECT_EQ(r.error().stage, DeviceError::Stage::Handshake);
  EXPECT_EQ(device.connect_failures(), 0u);
  EXPECT_EQ(device.handshake_failures(), 1u);
}

TEST_F(DeviceFailures, NoHostIsNeitherKind) {
  M2mDevice device(card_->isd_r(), options());
  auto r = device.run_session(ota::AdminSessionTrigger{});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, DeviceError::Kind::NoServer);
  EXPECT_EQ(device.connect_failures(), 0u);
  EXPECT_EQ(device.handshake_failures(), 0u);
}

}  // namespace
}  // namespace rsp::m2m_device
