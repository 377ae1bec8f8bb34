#include "cli/signals.hpp"

#include <gtest/gtest.h>

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>

namespace epilot::cli {
namespace {

bool blocked(int signal) {
  sigset_t mask;
  pthread_sigmask(SIG_BLOCK, nullptr, &mask);
  return sigismember(&mask, signal) == 1;
}

// Waits up to a few seconds for `flag`: the stop comes from another thread.
bool eventually(const std::atomic<int>& value, int expected) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (value.load() != expected && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return value.load() == expected;
}

TEST(StopSignals, TheFirstSignalCallsOnStopWithItsNumber) {
  std::atomic<int> got{0};
  std::atomic<int> calls{0};
  {
    StopSignals signals(
        [&](int signal) {
          got = signal;
          ++calls;
        },
        StopSignals::Again::ignore);
    ASSERT_EQ(kill(getpid(), SIGTERM), 0);
    EXPECT_TRUE(eventually(got, SIGTERM));
    // Ignored, not a second call; and not delivered once the mask is restored.
    ASSERT_EQ(kill(getpid(), SIGINT), 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(calls.load(), 1);
  EXPECT_FALSE(blocked(SIGINT));
}

TEST(StopSignals, WithoutASignalItClosesAtOnceAndRestoresTheMask) {
  ASSERT_FALSE(blocked(SIGINT));
  std::atomic<int> calls{0};
  const auto started = std::chrono::steady_clock::now();
  {
    StopSignals signals([&](int) { ++calls; }, StopSignals::Again::terminate);
    EXPECT_TRUE(blocked(SIGINT));
    EXPECT_TRUE(blocked(SIGTERM));
  }
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(1));
  EXPECT_EQ(calls.load(), 0);
  EXPECT_FALSE(blocked(SIGINT));
  EXPECT_FALSE(blocked(SIGTERM));
}

TEST(StopSignals, AThrowLeavesNothingBehind) {
  try {
    StopSignals signals([](int) {}, StopSignals::Again::terminate);
    throw std::runtime_error("bad input");
  } catch (const std::runtime_error&) {
  }
  EXPECT_FALSE(blocked(SIGINT));
  EXPECT_FALSE(blocked(SIGTERM));
}

TEST(StopSignals, AMaskAlreadyBlockedStaysBlocked) {
  sigset_t term;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &term, nullptr);
  {
    StopSignals signals([](int) {}, StopSignals::Again::ignore);
  }
  EXPECT_TRUE(blocked(SIGTERM));
  EXPECT_FALSE(blocked(SIGINT));
  pthread_sigmask(SIG_UNBLOCK, &term, nullptr);
}

TEST(StopSignalsDeathTest, ASecondSignalEndsTheProcessByThatSignal) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        std::atomic<int> got{0};
        StopSignals signals([&](int signal) { got = signal; }, StopSignals::Again::terminate);
        kill(getpid(), SIGINT);
        eventually(got, SIGINT);
        kill(getpid(), SIGINT);
        std::this_thread::sleep_for(std::chrono::seconds(5));
        std::exit(0);
      },
      testing::KilledBySignal(SIGINT), "");
}

}  // namespace
}  // namespace epilot::cli
