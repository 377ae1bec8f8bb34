#include "lib/http/load_client.hpp"

#include <gtest/gtest.h>

#include <mutex>
#include <set>
#include <thread>

#include "lib/http/server.hpp"
#include "tests/unit/support.hpp"

namespace epilot::http {
namespace {

// The project's own server on a free port, answering with `handler`.
class ServerFixture : public ::testing::Test {
 protected:
  void start(RequestHandler handler) {
    ServerLimits limits;
    limits.threads = 2;
    m_server = std::make_unique<HttpServer>(limits);
    auto port = m_server->bind("127.0.0.1", 0);
    ASSERT_TRUE(port.ok());
    m_port = *port;
    m_handler = std::move(handler);
    m_thread = std::thread([this] { m_server->run(m_handler); });
  }
  void TearDown() override {
    if (m_server) {
      m_server->stop();
      m_thread.join();
    }
  }
  LoadPlan plan(std::uint64_t total, unsigned connections) const {
    LoadPlan p;
    p.host = "127.0.0.1";
    p.port = m_port;
    p.total = total;
    p.connections = connections;
    p.threads = 2;
    return p;
  }

  std::unique_ptr<HttpServer> m_server;
  RequestHandler m_handler;
  std::thread m_thread;
  int m_port = 0;
};

void post_with_body(unsigned, std::uint64_t job, OutgoingRequest& out) {
  out.storage = "{\"job\":" + std::to_string(job) + "}";
  out.body = out.storage;
  out.head = "POST /x HTTP/1.1\r\nhost: t\r\ncontent-length: " + std::to_string(out.body.size()) + "\r\n\r\n";
  out.label = "job" + std::to_string(job);
}

TEST_F(ServerFixture, EveryJobIsDeliveredOnceOverKeepAliveConnections) {
  std::mutex mutex;
  std::multiset<std::string> bodies;
  start([&](wire::Request&& request) {
    std::lock_guard lock(mutex);
    bodies.insert(request.body);
    return ServerResponse{{201, "{\"echo\":" + request.body + "}"}};
  });
  std::mutex delivered_mutex;
  std::set<std::uint64_t> jobs;
  bool all_ok = true;
  const auto stats = run_load(plan(500, 8), post_with_body, [&](unsigned, Delivered& d) {
    std::lock_guard lock(delivered_mutex);
    jobs.insert(d.job);
    all_ok = all_ok && d.delivery == Delivery::answered && d.answer.status == 201 &&
             d.answer.body == "{\"echo\":{\"job\":" + std::to_string(d.job) + "}}" &&
             d.label == "job" + std::to_string(d.job);
  });
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->jobs, 500u);
  EXPECT_EQ(jobs.size(), 500u);
  EXPECT_TRUE(all_ok);
  EXPECT_EQ(bodies.size(), 500u);
  EXPECT_LE(stats->connections_opened, 8u) << "connections are reused";
}

TEST_F(ServerFixture, SlowAnswersTimeOutAndAreNotRetried) {
  std::atomic<int> seen{0};
  start([&](wire::Request&&) {
    seen += 1;
    ServerResponse answer{{200, "{}"}};
    answer.delay = std::chrono::milliseconds(500);
    return answer;
  });
  auto p = plan(1, 1);
  p.timeout = std::chrono::milliseconds(100);
  Delivered got;
  ASSERT_TRUE(run_load(p, post_with_body, [&](unsigned, Delivered& d) { got = d; }).ok());
  EXPECT_EQ(got.delivery, Delivery::timeout);
  EXPECT_EQ(got.attempts, 1u);
  EXPECT_EQ(seen.load(), 1);
}

TEST(Loadgen, NobodyListeningIsUnreachableAfterTheRetries) {
  const test::RefusedPort refused;
  LoadPlan p;
  p.host = "127.0.0.1";
  p.port = refused.port();
  p.total = 1;
  p.retries = 2;
  p.backoff = std::chrono::milliseconds(10);
  Delivered got;
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(run_load(p, post_with_body, [&](unsigned, Delivered& d) { got = d; }).ok());
  EXPECT_EQ(got.delivery, Delivery::unreachable);
  EXPECT_EQ(got.attempts, 3u);
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(30)) << "10 + 20 ms of backoff";
}

TEST(Loadgen, MaxBackoffCapsTheWaitBetweenAttempts) {
  const test::RefusedPort refused;
  LoadPlan p;
  p.host = "127.0.0.1";
  p.port = refused.port();
  p.total = 1;
  p.retries = 6;
  p.backoff = std::chrono::milliseconds(40);
  p.max_backoff = std::chrono::milliseconds(40);
  Delivered got;
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(run_load(p, post_with_body, [&](unsigned, Delivered& d) { got = d; }).ok());
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(got.attempts, 7u);
  EXPECT_GE(elapsed, std::chrono::milliseconds(240)) << "six waits of 40 ms";
  EXPECT_LT(elapsed, std::chrono::milliseconds(2520)) << "uncapped, the waits would add up to 2520 ms";
}

TEST(Loadgen, AHostThatDoesNotResolveIsAnError) {
  LoadPlan p;
  p.host = "no-such-host.invalid";
  p.total = 1;
  const auto stats = run_load(p, post_with_body, [](unsigned, Delivered&) {});
  ASSERT_FALSE(stats.ok());
  EXPECT_EQ(stats.error().code, ErrorCode::network);
}

TEST_F(ServerFixture, RateAndDurationBoundTheRun) {
  start([](wire::Request&&) { return ServerResponse{{204, ""}}; });
  auto p = plan(0, 2);
  p.rate = 100;
  p.duration = std::chrono::milliseconds(300);
  std::atomic<int> count{0};
  const auto stats = run_load(p, post_with_body, [&](unsigned, Delivered& d) {
    EXPECT_EQ(d.answer.status, 204);
    count += 1;
  });
  ASSERT_TRUE(stats.ok());
  // 30 are due before the deadline; a starved machine (sanitizers, parallel
  // tests) may start fewer, never more.
  EXPECT_GE(count.load(), 15);
  EXPECT_LE(count.load(), 30);
  EXPECT_GE(stats->elapsed, std::chrono::milliseconds(250));
}

TEST_F(ServerFixture, StopEndsTheRunEarly) {
  start([](wire::Request&&) { return ServerResponse{{200, "{}"}}; });
  std::atomic<bool> stop{false};
  std::atomic<int> count{0};
  const auto stats = run_load(
      plan(0, 2), post_with_body,
      [&](unsigned, Delivered&) {
        if (++count == 50) {
          stop = true;
        }
      },
      nullptr, &stop);
  ASSERT_TRUE(stats.ok());
  EXPECT_GE(count.load(), 50);
  EXPECT_LE(count.load(), 52);
}

// Ctrl-C: what is on the wire finishes and is reported with its real
// answer; nothing new starts.
TEST_F(ServerFixture, StopLetsTheRequestsInFlightFinish) {
  std::atomic<int> seen{0};
  start([&](wire::Request&&) {
    seen += 1;
    ServerResponse answer{{201, "{}"}};
    answer.delay = std::chrono::milliseconds(700);
    return answer;
  });
  std::atomic<bool> stop{false};
  // Stop once all four requests are at the server (or after 5 s, so a bug
  // can't hang the test).
  std::thread stopper([&] {
    for (int i = 0; i < 500 && seen.load() < 4; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    stop = true;
  });
  std::mutex mutex;
  std::vector<Delivered> got;
  const auto stats = run_load(
      plan(0, 4), post_with_body,
      [&](unsigned, Delivered& d) {
        std::lock_guard lock(mutex);
        got.push_back(d);
      },
      nullptr, &stop);
  stopper.join();
  ASSERT_TRUE(stats.ok());
  ASSERT_EQ(seen.load(), 4);
  ASSERT_EQ(got.size(), 4u) << "a request was started after the stop, or one in flight was not reported";
  for (const auto& d : got) {
    EXPECT_EQ(d.delivery, Delivery::answered) << d.error;
    EXPECT_EQ(d.answer.status, 201);
  }
}

}  // namespace
}  // namespace epilot::http
