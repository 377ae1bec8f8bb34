#include "lib/http/server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace epilot::http {
namespace {

using namespace std::chrono_literals;

// A plain TCP client to the server under test.
class Client {
 public:
  explicit Client(int port) {
    m_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    if (::connect(m_fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
      ADD_FAILURE() << "can't connect";
    }
  }
  ~Client() {
    if (m_fd >= 0) {
      ::close(m_fd);
    }
  }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // False once the server has closed the connection.
  bool send(std::string_view bytes) {
    return ::send(m_fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size());
  }

  // Everything the server sends until it closes the connection, or until
  // `limit` passes (then `closed` is false); 0 looks without waiting.
  std::string read_until_closed(std::chrono::milliseconds limit = 10s) {
    std::string out;
    const auto end = std::chrono::steady_clock::now() + limit;
    while (true) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
      pollfd p{m_fd, POLLIN, 0};
      if (left.count() < 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
        closed = false;
        return out;
      }
      char buffer[4096];
      const auto n = ::recv(m_fd, buffer, sizeof buffer, 0);
      if (n <= 0) {
        closed = true;
        return out;
      }
      out.append(buffer, static_cast<std::size_t>(n));
    }
  }

  // Close with a reset (RST), as a client that crashed does.
  void reset() {
    linger hard{1, 0};
    ::setsockopt(m_fd, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
    ::close(m_fd);
    m_fd = -1;
  }

  bool closed = false;

 private:
  int m_fd = -1;
};

class ServerTest : public ::testing::Test {
 protected:
  void start(ServerLimits limits = {}, std::chrono::milliseconds delay = {}) {
    m_server = std::make_unique<HttpServer>(limits);
    const auto port = m_server->bind("127.0.0.1", 0);
    ASSERT_TRUE(port.ok());
    m_port = *port;
    m_thread = std::thread([this, delay] {
      m_server->run(
          [this, delay](wire::Request&& request) {
            ++m_handled;
            return ServerResponse{{200, "{\"target\":\"" + request.target + "\"}"}, delay};
          },
          [this](const Refusal& refusal) {
            std::lock_guard lock(m_mutex);
            m_refusals.push_back(refusal);
          });
    });
  }
  // The refusals reported so far (each is reported before its answer is sent).
  std::vector<Refusal> refusals() {
    std::lock_guard lock(m_mutex);
    return m_refusals;
  }
  void stop() {
    if (m_thread.joinable()) {
      m_server->stop();
      m_thread.join();
    }
  }
  void TearDown() override { stop(); }

  std::unique_ptr<HttpServer> m_server;
  int m_port = 0;
  std::atomic<int> m_handled{0};
  std::thread m_thread;
  std::mutex m_mutex;
  std::vector<Refusal> m_refusals;
};

TEST_F(ServerTest, AnswersPipelinedRequestsInOrder) {
  start();
  Client c(m_port);
  c.send(
      "GET /a HTTP/1.1\r\n\r\nPOST /b HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi"
      "POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n2\r\nhi\r\n0\r\n\r\n");
  const auto out = c.read_until_closed();
  EXPECT_TRUE(c.closed);
  const auto a = out.find("/a"), b = out.find("/b"), d = out.find("/c");
  ASSERT_NE(d, std::string::npos) << out;
  EXPECT_LT(a, b);
  EXPECT_LT(b, d);
}

TEST_F(ServerTest, ATargetThatIsNotAPathIs400) {
  start();
  for (const auto* line : {"POST hook HTTP/1.1", "POST * HTTP/1.1"}) {
    Client bad(m_port);
    bad.send(std::string(line) + "\r\nContent-Length: 0\r\n\r\n");
    const auto out = bad.read_until_closed();
    EXPECT_EQ(out.rfind("HTTP/1.1 400 ", 0), 0u) << out;
    EXPECT_NE(out.find("must start with '/'"), std::string::npos) << out;
  }
}

TEST_F(ServerTest, ABadMethodIs400AndTheServerGoesOn) {
  start();
  {
    Client bad(m_port);
    bad.send("G\xffT / HTTP/1.1\r\n\r\n");
    const auto out = bad.read_until_closed();
    EXPECT_EQ(out.rfind("HTTP/1.1 400 ", 0), 0u) << out;
    EXPECT_NE(out.find("\\\\xff"), std::string::npos) << "the byte is escaped in the JSON message: " << out;
  }
  const auto reported = refusals();
  ASSERT_EQ(reported.size(), 1u);
  EXPECT_EQ(reported[0].status, 400);
  EXPECT_EQ(reported[0].method, "") << "the request line did not parse";
  EXPECT_EQ(reported[0].line, "G\\xffT / HTTP/1.1");
  Client good(m_port);
  good.send("GET /ok HTTP/1.1\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(good.read_until_closed().rfind("HTTP/1.1 200 ", 0), 0u);
}

TEST_F(ServerTest, OtherVersionsAre505) {
  start();
  Client c(m_port);
  c.send("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
  EXPECT_EQ(c.read_until_closed().rfind("HTTP/1.1 505 ", 0), 0u);
  EXPECT_EQ(m_handled, 0);
}

TEST_F(ServerTest, AHeadOverTheLimitIs431EvenInOneRead) {
  ServerLimits limits;
  limits.max_header = 1024;
  start(limits);
  Client c(m_port);
  c.send("GET /" + std::string(4000, 'a') + " HTTP/1.1\r\n\r\n");
  EXPECT_EQ(c.read_until_closed().rfind("HTTP/1.1 431 ", 0), 0u);
  EXPECT_EQ(m_handled, 0);
  ASSERT_EQ(refusals().size(), 1u);
  EXPECT_EQ(refusals()[0].status, 431);
}

// The deadline runs from a request's first byte: dripping bytes does not
// move it, so a slow client cannot hold a connection.
TEST_F(ServerTest, ARequestThatDripsPastItsDeadlineIs408AndNeverHandled) {
  ServerLimits limits;
  limits.request_timeout = 300ms;
  limits.idle_timeout = 5s;
  start(limits);
  Client c(m_port);
  const std::string request = "POST / HTTP/1.1\r\nContent-Length: 14\r\n\r\n{\"drip\":12345}";
  for (char byte : request) {
    if (!c.send(std::string_view(&byte, 1))) {
      break;  // refused at its deadline
    }
    std::this_thread::sleep_for(40ms);
  }
  const auto out = c.read_until_closed();
  EXPECT_EQ(out.rfind("HTTP/1.1 408 ", 0), 0u) << out;
  EXPECT_EQ(m_handled, 0);
  ASSERT_EQ(refusals().size(), 1u);
  EXPECT_EQ(refusals()[0].status, 408);
  // The request line had not all come: what had is shown as it is.
  EXPECT_EQ(refusals()[0].line.rfind("POST /", 0), 0u) << refusals()[0].line;
}

// More clients than the cap wait in the backlog, and are served once the
// connections holding the slots are gone.
TEST_F(ServerTest, ConnectionsBeyondTheCapWaitTheirTurn) {
  ServerLimits limits;
  limits.max_connections = 2;
  limits.idle_timeout = 300ms;
  start(limits);
  Client idle1(m_port);
  Client idle2(m_port);
  std::this_thread::sleep_for(100ms);  // both accepted: the cap is reached
  Client third(m_port);
  third.send("GET /third HTTP/1.1\r\nConnection: close\r\n\r\n");
  const auto out = third.read_until_closed();
  EXPECT_EQ(out.rfind("HTTP/1.1 200 ", 0), 0u) << out;
  // By then the two idle ones were closed (their idle timeout), which is
  // what freed a slot: without the cap the third would have been answered
  // at once, while they were still open.
  idle1.read_until_closed(0ms);
  EXPECT_TRUE(idle1.closed);
  idle2.read_until_closed(0ms);
  EXPECT_TRUE(idle2.closed);
}

TEST_F(ServerTest, StopAnswersEveryRequestAlreadySent) {
  start();
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 20; ++i) {
    clients.push_back(std::make_unique<Client>(m_port));
    ASSERT_TRUE(clients.back()->send("GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n"));
  }
  stop();
  for (auto& c : clients) {
    const auto out = c->read_until_closed();
    EXPECT_NE(out.find("/1"), std::string::npos) << out;
    EXPECT_NE(out.find("/2"), std::string::npos) << out;
    EXPECT_TRUE(c->closed);
  }
  EXPECT_EQ(m_handled, 40);
}

TEST_F(ServerTest, AHeadAnswerHasNoBody) {
  start();
  Client c(m_port);
  c.send("HEAD /h HTTP/1.1\r\n\r\nGET /after HTTP/1.1\r\nConnection: close\r\n\r\n");
  const auto out = c.read_until_closed();
  // The HEAD answer's Content-Length says what a GET would get; no bytes follow it.
  const auto second = out.find("HTTP/1.1 200", 1);
  ASSERT_NE(second, std::string::npos) << out;
  EXPECT_EQ(out.substr(second - 4, 4), "\r\n\r\n") << out;
  EXPECT_EQ(out.find("/h\""), std::string::npos) << out;
}

// Closing a connection with unread input sends a reset, which can destroy
// the answer just sent: the server shuts its side and drains first.
TEST_F(ServerTest, ARefusedUploadStillGetsItsAnswer) {
  ServerLimits limits;
  limits.max_body = 1024;
  start(limits);
  for (int i = 0; i < 5; ++i) {
    Client c(m_port);
    c.send("POST / HTTP/1.1\r\nContent-Length: 600000\r\n\r\n");
    c.send(std::string(300000, 'x'));  // still sending when the 413 comes
    EXPECT_EQ(c.read_until_closed().rfind("HTTP/1.1 413 ", 0), 0u);
  }
  EXPECT_EQ(refusals().size(), 5u);
}

TEST_F(ServerTest, StopServesTheBacklogHeldAtTheCap) {
  ServerLimits limits;
  limits.max_connections = 1;
  limits.idle_timeout = 10s;
  start(limits);
  Client holder(m_port);
  std::this_thread::sleep_for(100ms);  // accepted: the cap is reached
  Client waiting(m_port);
  ASSERT_TRUE(waiting.send("GET /backlog HTTP/1.1\r\n\r\n"));
  std::this_thread::sleep_for(100ms);
  stop();
  EXPECT_NE(waiting.read_until_closed().find("/backlog"), std::string::npos);
}

TEST_F(ServerTest, NoDelayOutlastsTheGraceTimeOnStop) {
  ServerLimits limits;
  limits.shutdown_grace = 300ms;
  start(limits, 60s);
  Client c(m_port);
  ASSERT_TRUE(c.send("GET /slow HTTP/1.1\r\n\r\n"));
  std::this_thread::sleep_for(100ms);
  stop();  // returns within the grace time, not after the 60 s delay
  EXPECT_NE(c.read_until_closed(5s).find("/slow"), std::string::npos);
}

// --- Answers given later (Responder) ---

class DeferredServerTest : public ServerTest {
 protected:
  // Serve with `handler`; the server keeps no other state of the test's.
  void start_deferred(DeferredHandler handler, ServerLimits limits = {}) {
    m_deferred = std::move(handler);
    m_server = std::make_unique<HttpServer>(limits);
    const auto port = m_server->bind("127.0.0.1", 0);
    ASSERT_TRUE(port.ok());
    m_port = *port;
    m_thread = std::thread([this] { m_server->run_deferred(m_deferred); });
  }
  void TearDown() override {
    stop();
    for (auto& t : m_helpers) {
      t.join();
    }
  }
  // Answer on another thread after `wait`, as a proxy does when its upstream answers.
  void answer_later(Responder reply, std::chrono::milliseconds wait, ServerResponse response) {
    m_helpers.emplace_back([reply = std::move(reply), wait, response = std::move(response)] {
      std::this_thread::sleep_for(wait);
      reply(response);
    });
  }

  DeferredHandler m_deferred;
  std::vector<std::thread> m_helpers;
};

TEST_F(DeferredServerTest, AnAnswerGivenLaterKeepsItsPlaceAmongPipelinedOnes) {
  std::mutex mutex;
  start_deferred([&](wire::Request&& request, Responder reply) {
    std::lock_guard lock(mutex);
    if (request.target == "/slow") {
      answer_later(std::move(reply), 200ms, ServerResponse{{200, "slow answer"}});
    } else {
      reply(ServerResponse{{200, "answer to " + request.target}});
    }
  });
  Client c(m_port);
  ASSERT_TRUE(c.send("GET /slow HTTP/1.1\r\n\r\nGET /fast HTTP/1.1\r\nConnection: close\r\n\r\n"));
  const auto out = c.read_until_closed();
  EXPECT_TRUE(c.closed);
  const auto slow = out.find("slow answer");
  const auto fast = out.find("answer to /fast");
  ASSERT_NE(slow, std::string::npos) << out;
  ASSERT_NE(fast, std::string::npos) << out;
  EXPECT_LT(slow, fast);
}

TEST_F(DeferredServerTest, OtherConnectionsAreServedWhileAnAnswerIsOwed) {
  std::mutex mutex;
  start_deferred([&](wire::Request&& request, Responder reply) {
    std::lock_guard lock(mutex);
    if (request.target == "/slow") {
      answer_later(std::move(reply), 2s, ServerResponse{{200, "slow answer"}});
    } else {
      reply(ServerResponse{{200, "quick answer"}});
    }
  });
  Client slow(m_port);
  ASSERT_TRUE(slow.send("GET /slow HTTP/1.1\r\nConnection: close\r\n\r\n"));
  Client quick(m_port);
  ASSERT_TRUE(quick.send("GET /quick HTTP/1.1\r\nConnection: close\r\n\r\n"));
  // One worker thread: the quick answer comes well before the slow one.
  EXPECT_NE(quick.read_until_closed(1s).find("quick answer"), std::string::npos);
  EXPECT_TRUE(quick.closed);
  EXPECT_NE(slow.read_until_closed().find("slow answer"), std::string::npos);
}

TEST_F(DeferredServerTest, OnlyTheFirstAnswerCounts) {
  start_deferred([&](wire::Request&&, Responder reply) {
    reply(ServerResponse{{200, "first"}});
    reply(ServerResponse{{500, "second"}});
  });
  Client c(m_port);
  ASSERT_TRUE(c.send("GET / HTTP/1.1\r\nConnection: close\r\n\r\n"));
  const auto out = c.read_until_closed();
  EXPECT_NE(out.find("200 OK"), std::string::npos) << out;
  EXPECT_EQ(out.find("second"), std::string::npos) << out;
}

TEST_F(DeferredServerTest, ARequestNeverAnsweredGets500) {
  start_deferred([](wire::Request&& request, Responder /*reply*/) {
    if (request.target == "/throws") {
      throw std::runtime_error("handler failed");
    }
    // /dropped: the Responder goes out of scope unused
  });
  for (const auto* target : {"/dropped", "/throws"}) {
    Client c(m_port);
    ASSERT_TRUE(c.send(std::string("GET ") + target + " HTTP/1.1\r\n\r\n"));
    const auto out = c.read_until_closed(5s);
    EXPECT_NE(out.find("500 Internal Server Error"), std::string::npos) << target << ": " << out;
    EXPECT_TRUE(c.closed) << target;
  }
}

TEST_F(DeferredServerTest, AnAnswerForAClientThatLeftNeverReachesTheNextOne) {
  std::mutex mutex;
  std::vector<Responder> owed;
  start_deferred([&](wire::Request&&, Responder reply) {
    std::lock_guard lock(mutex);
    owed.push_back(std::move(reply));  // every answer is given by the test, later
  });
  {
    Client gone(m_port);
    ASSERT_TRUE(gone.send("GET /left HTTP/1.1\r\n\r\n"));
    std::this_thread::sleep_for(100ms);
    gone.reset();  // gone while its answer is owed: the server closes its side too
  }
  std::this_thread::sleep_for(100ms);
  Client next(m_port);  // most likely given the same descriptor on the server
  ASSERT_TRUE(next.send("GET /new HTTP/1.1\r\nConnection: close\r\n\r\n"));
  // A loaded machine may take a while to hand the request over.
  const auto owed_count = [&] {
    std::lock_guard lock(mutex);
    return owed.size();
  };
  for (int waited = 0; waited < 500 && owed_count() < 2; ++waited) {
    std::this_thread::sleep_for(10ms);
  }
  {
    // Both owe an answer now: only the connection's serial tells them apart.
    std::lock_guard lock(mutex);
    ASSERT_EQ(owed.size(), 2U);
    owed[0](ServerResponse{{200, "stale answer"}});
  }
  std::this_thread::sleep_for(100ms);
  {
    std::lock_guard lock(mutex);
    owed[1](ServerResponse{{200, "for the newcomer"}});
  }
  const auto out = next.read_until_closed();
  EXPECT_NE(out.find("for the newcomer"), std::string::npos) << out;
  EXPECT_EQ(out.find("stale answer"), std::string::npos) << out;
}

TEST_F(DeferredServerTest, StopGivesUpAnAnswerStillOwedAtTheGraceTime) {
  std::mutex mutex;
  std::vector<Responder> owed;
  ServerLimits limits;
  limits.shutdown_grace = 300ms;
  start_deferred(
      [&](wire::Request&&, Responder reply) {
        std::lock_guard lock(mutex);
        owed.push_back(std::move(reply));
      },
      limits);
  Client c(m_port);
  ASSERT_TRUE(c.send("GET /never HTTP/1.1\r\n\r\n"));
  std::this_thread::sleep_for(100ms);
  const auto started = std::chrono::steady_clock::now();
  stop();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
  EXPECT_EQ(c.read_until_closed(5s), "");
  EXPECT_TRUE(c.closed);
  std::lock_guard lock(mutex);
  ASSERT_EQ(owed.size(), 1U);
  owed[0](ServerResponse{{200, "after the end"}});  // the server has gone: dropped, no crash
}

TEST_F(DeferredServerTest, ARelayedAnswerKeepsTheUpstreamFieldsAndGetsTheServersFraming) {
  start_deferred([](wire::Request&&, Responder reply) {
    ServerResponse relayed;
    relayed.status = 418;
    relayed.reason = "I'm a teapot";
    relayed.body = "short and stout";
    relayed.headers = {{"X-App", "yes"}, {"Transfer-Encoding", "chunked"}, {"content-type", "text/plain"}};
    relayed.relayed = true;
    reply(relayed);
  });
  Client c(m_port);
  ASSERT_TRUE(c.send("POST / HTTP/1.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"));
  EXPECT_EQ(c.read_until_closed(),
            "HTTP/1.1 418 I'm a teapot\r\nX-App: yes\r\ncontent-type: text/plain\r\nContent-Length: 15\r\n"
            "Connection: close\r\n\r\nshort and stout");
}

TEST_F(DeferredServerTest, AStatusHasItsReasonPhraseOrNone) {
  start_deferred([](wire::Request&& request, Responder reply) {
    reply(ServerResponse{{request.target == "/504" ? 504 : 418, ""}});
  });
  Client timeout(m_port);
  ASSERT_TRUE(timeout.send("POST /504 HTTP/1.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"));
  EXPECT_EQ(timeout.read_until_closed().rfind("HTTP/1.1 504 Gateway Timeout\r\n", 0), 0U);
  Client teapot(m_port);
  ASSERT_TRUE(teapot.send("POST /418 HTTP/1.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"));
  EXPECT_EQ(teapot.read_until_closed().rfind("HTTP/1.1 418 \r\n", 0), 0U);  // none made up
}

TEST_F(DeferredServerTest, ARelayedAnswerToHeadSaysNoLength) {
  start_deferred([](wire::Request&&, Responder reply) {
    ServerResponse relayed;
    relayed.status = 200;
    relayed.body = "a body HEAD never gets";
    relayed.headers = {{"X-App", "yes"}};
    relayed.relayed = true;
    reply(relayed);
  });
  Client c(m_port);
  ASSERT_TRUE(c.send("HEAD / HTTP/1.1\r\nConnection: close\r\n\r\n"));
  EXPECT_EQ(c.read_until_closed(), "HTTP/1.1 200 OK\r\nX-App: yes\r\nConnection: close\r\n\r\n");
}

}  // namespace
}  // namespace epilot::http
