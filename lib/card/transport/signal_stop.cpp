#include "rsp/card/transport/signal_stop.hpp"

#include <pthread.h>

#include <ctime>

namespace rsp::card::transport {

namespace {

sigset_t stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

}  // namespace

StopOnSignals::StopOnSignals(std::stop_source source) {
  const sigset_t set = stop_signals();
  pthread_sigmask(SIG_BLOCK, &set, &previous_);
  waiter_ = std::jthread([this, set, source](std::stop_token own) mutable {
    // Wake up regularly to notice our own destruction.
    const timespec tick{0, 200'000'000};
    while (!own.stop_requested()) {
      const int sig = sigtimedwait(&set, nullptr, &tick);
      if (sig == SIGINT || sig == SIGTERM) {
        signalled_ = true;
        source.request_stop();
        return;
      }
    }
  });
}

StopOnSignals::~StopOnSignals() {
  waiter_.request_stop();
  if (waiter_.joinable()) waiter_.join();
  pthread_sigmask(SIG_SETMASK, &previous_, nullptr);
}

}  // namespace rsp::card::transport
