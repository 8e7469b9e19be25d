#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <thread>

#include "rsp/card/transport/signal_stop.hpp"

namespace rsp::card::transport {
namespace {

TEST(StopOnSignals, SigtermRequestsStop) {
  std::stop_source source;
  {
    StopOnSignals guard(source);
    ASSERT_EQ(::kill(::getpid(), SIGTERM), 0);  // process-directed, blocked here
    for (int i = 0; i < 50 && !source.stop_requested(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    EXPECT_TRUE(source.stop_requested());
    EXPECT_TRUE(guard.signalled());
  }
  // The previous mask is back: SIGTERM is not blocked any more.
  sigset_t now;
  pthread_sigmask(SIG_SETMASK, nullptr, &now);
  EXPECT_FALSE(sigismember(&now, SIGTERM));
}

TEST(StopOnSignals, QuietWithoutSignal) {
  std::stop_source source;
  {
    StopOnSignals guard(source);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_FALSE(guard.signalled());
  }
  EXPECT_FALSE(source.stop_requested());
}

}  // namespace
}  // namespace rsp::card::transport
