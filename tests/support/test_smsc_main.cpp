// `rsp-test-smsc`: the SMPP 3.4 test double of an SMSC (test_smsc.hpp) as a
// process, for the cross-process end-to-end tests and for trying the SM-SR and
// the simulated M2M device by hand. A test double, not an SMSC: it routes a
// submit_sm to the ESME bound for its destination address and nothing else.
//
//   rsp-test-smsc [--port N] --account SYSTEM_ID:PASSWORD [--account ...]
//
// Prints "listening on 127.0.0.1:<port>" once it accepts binds, and runs until
// SIGTERM or SIGINT. Passwords are never printed.

#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "test_support/test_smsc.hpp"

namespace {

int usage(const char* why) {
  std::fprintf(stderr, "rsp-test-smsc: %s\nusage: rsp-test-smsc [--port N] --account SYSTEM_ID:PASSWORD [...]\n", why);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<rsp::test_support::TestSmsc::Account> accounts;
  int port = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (i + 1 >= argc) return usage(("missing value after " + arg).c_str());
    const std::string value = argv[++i];
    if (arg == "--port") {
      char* end = nullptr;
      const long p = std::strtol(value.c_str(), &end, 10);
      if (*end != '\0' || p < 0 || p > 65535) return usage("--port must be 0..65535");
      port = static_cast<int>(p);
    } else if (arg == "--account") {
      const auto colon = value.find(':');
      if (colon == std::string::npos || colon == 0 || colon > 15 || value.size() - colon - 1 > 8)
        return usage("--account must be SYSTEM_ID:PASSWORD (at most 15 and 8 characters)");
      accounts.push_back({value.substr(0, colon), value.substr(colon + 1)});
    } else {
      return usage(("unknown option " + arg).c_str());
    }
  }
  if (accounts.empty()) return usage("no --account");
  // Signals blocked before the SMSC's threads start, so only sigwait sees them.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  rsp::test_support::TestSmsc smsc(std::move(accounts));
  if (!smsc.start(port)) {
    std::fprintf(stderr, "rsp-test-smsc: cannot listen on 127.0.0.1:%d\n", port);
    return 1;
  }
  std::printf("rsp-test-smsc (a test double, not an SMSC) listening on 127.0.0.1:%d\n", smsc.port());
  std::fflush(stdout);
  int sig = 0;
  sigwait(&set, &sig);
  std::printf("%s received, %zu message(s) routed, stopping\n", sig == SIGTERM ? "SIGTERM" : "SIGINT",
              smsc.submit_count());
  std::fflush(stdout);
  smsc.stop();
  return 0;
}
