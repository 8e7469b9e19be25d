#include "process_memory.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <thread>

namespace rsp::bench::smdpp_https {

long status_kib(const std::string& field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(field + ":", 0) == 0) return std::atol(line.c_str() + field.size() + 1);
  return 0;
}

double gauge_value(const std::string& text, const std::string& name) {
  const auto at = text.find("\n" + name + " ");
  return at == std::string::npos ? -1 : std::atof(text.c_str() + at + name.size() + 2);
}

long idle_connections_rss(int port, int n, net::Metrics& metrics, int& opened) {
  int ready[2], release[2];
  if (::pipe(ready) != 0 || ::pipe(release) != 0) return -1;
  const double open_before = gauge_value(metrics.render(), "rsp_http_connections_active");
  const long rss_before = status_kib("VmRSS");
  const pid_t child = ::fork();
  if (child < 0) return -1;
  if (child == 0) {  // only system calls from here on
    ::close(ready[0]);
    ::close(release[1]);
    int count = 0;
    for (int i = 0; i < n; ++i) {
      const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
      if (fd < 0) break;
      const int on = 1;
      ::setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &on, sizeof on);
      sockaddr_in from{};
      from.sin_family = AF_INET;
      from.sin_addr.s_addr = htonl((127u << 24) | (4u << 16) | (static_cast<unsigned>(i / 250) << 8) |
                                   static_cast<unsigned>(1 + i % 250));
      sockaddr_in to{};
      to.sin_family = AF_INET;
      to.sin_port = htons(static_cast<std::uint16_t>(port));
      to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      if (::bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof from) != 0 ||
          ::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0)
        break;
      ++count;
    }
    [[maybe_unused]] auto w = ::write(ready[1], &count, sizeof count);
    char c;
    [[maybe_unused]] auto r = ::read(release[0], &c, 1);
    ::_exit(0);
  }
  ::close(ready[1]);
  ::close(release[0]);
  opened = 0;
  if (::read(ready[0], &opened, sizeof opened) != sizeof opened) opened = 0;
  // The server accepts them on its own time: wait until it holds them all.
  for (int i = 0; i < 200 && gauge_value(metrics.render(), "rsp_http_connections_active") < open_before + opened; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  const long rss_after = status_kib("VmRSS");
  ::close(release[1]);
  ::waitpid(child, nullptr, 0);
  ::close(ready[0]);
  return rss_after - rss_before;
}

}  // namespace rsp::bench::smdpp_https
