#include "lib/http/forwarder.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "lib/util/fd.hpp"

namespace epilot::http {
namespace {

using namespace std::chrono_literals;

// A stand-in for the app behind the proxy, on 127.0.0.1: it records every
// request's bytes and answers each as `behaviour` says. Raw sockets, so
// that what arrives is seen byte for byte.
class Upstream {
 public:
  // close_unanswered: reads a request and closes; close_after_first: answers
  // a connection's first request, and closes on the next unanswered (an
  // idle timeout that ran out as the request came); cut_after_first: the
  // second answer is cut short.
  enum class Behaviour {
    answer,
    answer_then_close,
    never_answer,
    close_mid_answer,
    close_unanswered,
    close_after_first,
    cut_after_first,
    close_late_after_first,  // as close_after_first, 300 ms after the request came
  };

  explicit Upstream(Behaviour behaviour, std::string answer =
                                             "HTTP/1.1 201 Created\r\nX-App: yes\r\n"
                                             "Content-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello")
      : m_behaviour(behaviour), m_answer(std::move(answer)) {
    m_listener.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(m_listener.get(), reinterpret_cast<sockaddr*>(&address), sizeof address);
    ::listen(m_listener.get(), 16);
    socklen_t size = sizeof address;
    ::getsockname(m_listener.get(), reinterpret_cast<sockaddr*>(&address), &size);
    port = ntohs(address.sin_port);
    m_thread = std::thread([this] { serve(); });
  }
  ~Upstream() {
    m_stop = true;
    m_thread.join();
  }
  Upstream(const Upstream&) = delete;
  Upstream& operator=(const Upstream&) = delete;

  std::vector<std::string> requests() {
    std::lock_guard lock(m_mutex);
    return m_requests;
  }
  int accepted() const { return m_accepted.load(); }

  int port = 0;

 private:
  // Serve one connection at a time, until stopped.
  void serve() {
    while (!m_stop) {
      pollfd p{m_listener.get(), POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) {
        continue;
      }
      util::Fd connection(::accept(m_listener.get(), nullptr, nullptr));
      ++m_accepted;
      serve_connection(connection.get());
    }
  }

  void serve_connection(int fd) {
    std::string in;
    for (int n = 0; !m_stop; ++n) {
      const auto request = next_request(fd, in);
      if (request.empty()) {
        return;
      }
      {
        std::lock_guard lock(m_mutex);
        m_requests.push_back(request);
      }
      switch (m_behaviour) {
        case Behaviour::answer:
          ::send(fd, m_answer.data(), m_answer.size(), MSG_NOSIGNAL);
          break;
        case Behaviour::answer_then_close:
          ::send(fd, m_answer.data(), m_answer.size(), MSG_NOSIGNAL);
          return;
        case Behaviour::never_answer:
          while (!m_stop) {
            std::this_thread::sleep_for(10ms);
          }
          return;
        case Behaviour::close_mid_answer:
          ::send(fd, m_answer.data(), m_answer.size() / 2, MSG_NOSIGNAL);
          return;
        case Behaviour::close_unanswered:
          return;
        case Behaviour::close_after_first:
        case Behaviour::cut_after_first:
        case Behaviour::close_late_after_first:
          if (n > 0 && m_behaviour == Behaviour::close_late_after_first) {
            std::this_thread::sleep_for(300ms);
            return;
          }
          if (n > 0) {
            const auto cut = m_behaviour == Behaviour::close_after_first ? 0 : m_answer.size() / 2;
            ::send(fd, m_answer.data(), cut, MSG_NOSIGNAL);
            return;
          }
          ::send(fd, m_answer.data(), m_answer.size(), MSG_NOSIGNAL);
          break;
      }
    }
  }

  // One whole request (head and Content-Length body) from `fd`; empty when
  // the connection ends first.
  std::string next_request(int fd, std::string& in) {
    while (!m_stop) {
      if (const auto end = in.find("\r\n\r\n"); end != std::string::npos) {
        std::size_t length = 0;
        if (const auto at = in.find("Content-Length: "); at != std::string::npos && at < end) {
          length = std::stoul(in.substr(at + 16));
        }
        if (in.size() >= end + 4 + length) {
          auto request = in.substr(0, end + 4 + length);
          in.erase(0, request.size());
          return request;
        }
      }
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) {
        continue;
      }
      char buffer[4096];
      const auto n = ::recv(fd, buffer, sizeof buffer, 0);
      if (n <= 0) {
        return {};
      }
      in.append(buffer, static_cast<std::size_t>(n));
    }
    return {};
  }

  Behaviour m_behaviour;
  std::string m_answer;
  util::Fd m_listener;
  std::atomic<bool> m_stop{false};
  std::atomic<int> m_accepted{0};
  std::mutex m_mutex;
  std::vector<std::string> m_requests;
  std::thread m_thread;
};

wire::Request signed_post() {
  wire::Request r;
  r.method = "POST";
  r.target = "/hook?run=1";
  r.headers = {{"Host", "abc.ngrok.example"}, {"webhook-id", "msg_1"},    {"Connection", "keep-alive, X-Tunnel-Hop"},
               {"X-Tunnel-Hop", "1"},         {"Expect", "100-continue"}, {"content-type", "application/json"}};
  r.body = "{\"a\": \"\xc3\xbc\"}";
  return r;
}

std::unique_ptr<Forwarder> forwarder_to(const std::string& url, ForwardOptions options = {}) {
  const auto target = parse_url(url);
  EXPECT_TRUE(target.ok());
  auto f = Forwarder::create(*target, options);
  EXPECT_TRUE(f.ok()) << (f.ok() ? "" : f.error().message);
  return f.ok() ? std::move(*f) : nullptr;
}

Forwarded forward_one(Forwarder& forwarder, const wire::Request& request,
                      Forwarder::Replayable replayable = Forwarder::Replayable::no) {
  std::promise<Forwarded> result;
  forwarder.forward(
      request, [&](Forwarded&& f) { result.set_value(std::move(f)); }, replayable);
  return result.get_future().get();
}

TEST(ForwardedRequest, KeepsEndToEndFieldsAndJoinsThePaths) {
  const auto bytes = forwarded_request(signed_post(), "/app/");
  EXPECT_EQ(bytes,
            "POST /app/hook?run=1 HTTP/1.1\r\n"
            "Host: abc.ngrok.example\r\n"
            "webhook-id: msg_1\r\n"
            "content-type: application/json\r\n"
            "Content-Length: 11\r\n\r\n"
            "{\"a\": \"\xc3\xbc\"}");
  auto absolute = signed_post();
  absolute.target = "http://abc.ngrok.example/hook";
  EXPECT_EQ(forwarded_request(absolute, "/").substr(0, 25), "POST /hook HTTP/1.1\r\nHost");
}

TEST(Forwarder, JoinsTheTargetsPathsAndQueries) {
  EXPECT_EQ(forwarded_target("/hook", "/"), "/hook");
  EXPECT_EQ(forwarded_target("/hook?x=2", "/app/"), "/app/hook?x=2");
  EXPECT_EQ(forwarded_target("/hook", "/app?k=1"), "/app/hook?k=1");
  EXPECT_EQ(forwarded_target("/hook?x=2", "/app?k=1"), "/app/hook?k=1&x=2");
  EXPECT_EQ(forwarded_target("/hook?x=2", "/?k=1"), "/hook?k=1&x=2");
  // An empty query stays as it came: the app sees the bytes it would have.
  EXPECT_EQ(forwarded_target("/hook?", "/app"), "/app/hook?");
  EXPECT_EQ(forwarded_target("/hook", "/app?"), "/app/hook?");
  EXPECT_EQ(forwarded_target("http://abc.example/hook?x=2", "/app?k=1"), "/app/hook?k=1&x=2");
  EXPECT_EQ(forwarded_target("http://abc.example?x=2", "/app"), "/app/?x=2");  // as "/?x=2" would
  EXPECT_EQ(forwarded_target("http://abc.example?x=2", "/"), "/?x=2");
}

TEST(Forwarder, SendsTheRequestAsItCameAndRelaysTheWholeAnswer) {
  Upstream app(Upstream::Behaviour::answer);
  // One connection: the second request must go on the same one (the app
  // here serves one connection at a time).
  auto forwarder = forwarder_to("http://127.0.0.1:" + std::to_string(app.port) + "/app", {.connections = 1});
  ASSERT_TRUE(forwarder);
  const auto first = forward_one(*forwarder, signed_post());
  const auto second = forward_one(*forwarder, signed_post());
  ASSERT_EQ(first.outcome, ForwardOutcome::answered) << first.error;
  EXPECT_EQ(first.answer.status, 201);
  EXPECT_EQ(first.answer.body, "hello");
  ASSERT_EQ(app.requests().size(), 2U);
  EXPECT_EQ(app.requests()[0], forwarded_request(signed_post(), "/app"));
  EXPECT_EQ(second.outcome, ForwardOutcome::answered);
  EXPECT_EQ(app.accepted(), 1);  // kept alive

  const auto relayed = relayed_answer(first);
  EXPECT_TRUE(relayed.relayed);
  EXPECT_EQ(relayed.status, 201);
  EXPECT_EQ(relayed.reason, "Created");
  std::vector<std::string> names;
  for (const auto& h : relayed.headers) {
    names.push_back(h.name);
  }
  EXPECT_EQ(names, (std::vector<std::string>{"X-App", "Content-Type"}));  // no Content-Length: the server frames
}

TEST(Forwarder, AConnectionTheAppClosedIsNotReused) {
  Upstream app(Upstream::Behaviour::answer_then_close,
               "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");  // closes without saying so
  auto forwarder = forwarder_to("http://127.0.0.1:" + std::to_string(app.port), {.connections = 1});
  ASSERT_TRUE(forwarder);
  EXPECT_EQ(forward_one(*forwarder, signed_post()).outcome, ForwardOutcome::answered);
  std::this_thread::sleep_for(100ms);  // the close reaches this side
  const auto again = forward_one(*forwarder, signed_post());
  EXPECT_EQ(again.outcome, ForwardOutcome::answered) << again.error;
  EXPECT_EQ(app.accepted(), 2);
}

TEST(Forwarder, AKeptAliveConnectionTheAppClosesAsTheRequestGoesOutIsRetriedOnANewOne) {
  Upstream app(Upstream::Behaviour::close_after_first);
  // "At once" is wide here: the stand-in app reads the request before it
  // closes, and a loaded machine may be slow to run it.
  auto forwarder = forwarder_to("http://127.0.0.1:" + std::to_string(app.port), {.connections = 1, .at_once = 5000ms});
  ASSERT_TRUE(forwarder);
  const auto replayable = Forwarder::Replayable::yes;
  EXPECT_EQ(forward_one(*forwarder, signed_post(), replayable).outcome, ForwardOutcome::answered);
  const auto again = forward_one(*forwarder, signed_post(), replayable);
  EXPECT_EQ(again.outcome, ForwardOutcome::answered) << again.error;
  EXPECT_EQ(app.accepted(), 2);
  EXPECT_EQ(app.requests().size(), 3U);  // the second went out twice
}

TEST(Forwarder, ARequestThatMayNotArriveTwiceIsNotRetried) {
  Upstream app(Upstream::Behaviour::close_after_first);
  auto forwarder = forwarder_to("http://127.0.0.1:" + std::to_string(app.port), {.connections = 1});
  ASSERT_TRUE(forwarder);
  EXPECT_EQ(forward_one(*forwarder, signed_post()).outcome, ForwardOutcome::answered);
  EXPECT_EQ(forward_one(*forwarder, signed_post()).outcome, ForwardOutcome::broken);
  EXPECT_EQ(app.requests().size(), 2U);
}

TEST(Forwarder, AKeptAliveConnectionThatBreaksLaterIsNotRetried) {
  Upstream app(Upstream::Behaviour::close_late_after_first);
  auto forwarder = forwarder_to("http://127.0.0.1:" + std::to_string(app.port), {.connections = 1, .at_once = 100ms});
  ASSERT_TRUE(forwarder);
  const auto replayable = Forwarder::Replayable::yes;
  EXPECT_EQ(forward_one(*forwarder, signed_post(), replayable).outcome, ForwardOutcome::answered);
  EXPECT_EQ(forward_one(*forwarder, signed_post(), replayable).outcome, ForwardOutcome::broken);
  EXPECT_EQ(app.requests().size(), 2U);  // the app had it a while: it may have acted on it
}

TEST(Forwarder, AnAnswerCutShortOnAKeptAliveConnectionIsNotRetried) {
  Upstream app(Upstream::Behaviour::cut_after_first);
  auto forwarder = forwarder_to("http://127.0.0.1:" + std::to_string(app.port), {.connections = 1});
  ASSERT_TRUE(forwarder);
  const auto replayable = Forwarder::Replayable::yes;
  EXPECT_EQ(forward_one(*forwarder, signed_post(), replayable).outcome, ForwardOutcome::answered);
  EXPECT_EQ(forward_one(*forwarder, signed_post(), replayable).outcome, ForwardOutcome::broken);
  EXPECT_EQ(app.requests().size(), 2U);  // the app began an answer: it took the request
}

TEST(Forwarder, ANewConnectionClosedUnansweredIsBrokenAndNotRetried) {
  Upstream app(Upstream::Behaviour::close_unanswered);
  auto forwarder = forwarder_to("http://127.0.0.1:" + std::to_string(app.port), {.connections = 1});
  ASSERT_TRUE(forwarder);
  const auto f = forward_one(*forwarder, signed_post(), Forwarder::Replayable::yes);
  EXPECT_EQ(f.outcome, ForwardOutcome::broken);
  EXPECT_EQ(relayed_answer(f).status, 502);
  EXPECT_EQ(app.requests().size(), 1U);
}

TEST(Forwarder, AnAppThatIsDownIsUnreachableAnd502) {
  int port = 0;
  {
    Upstream gone(Upstream::Behaviour::answer);
    port = gone.port;
  }  // closed: nothing listens there now
  auto forwarder = forwarder_to("http://127.0.0.1:" + std::to_string(port));
  ASSERT_TRUE(forwarder);
  const auto f = forward_one(*forwarder, signed_post());
  EXPECT_EQ(f.outcome, ForwardOutcome::unreachable);
  EXPECT_NE(f.error.find("can't reach 127.0.0.1:" + std::to_string(port)), std::string::npos) << f.error;
  const auto answer = relayed_answer(f);
  EXPECT_EQ(answer.status, 502);
  EXPECT_FALSE(answer.relayed);
  EXPECT_NE(answer.body.find("\"bad gateway\""), std::string::npos);
}

TEST(Forwarder, AnAppThatDoesNotAnswerInTimeIs504) {
  Upstream app(Upstream::Behaviour::never_answer);
  auto forwarder = forwarder_to("http://127.0.0.1:" + std::to_string(app.port), {.timeout = 300ms});
  ASSERT_TRUE(forwarder);
  const auto started = std::chrono::steady_clock::now();
  const auto f = forward_one(*forwarder, signed_post());
  EXPECT_EQ(f.outcome, ForwardOutcome::timeout);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
  EXPECT_EQ(relayed_answer(f).status, 504);
}

TEST(Forwarder, TheTimeoutCountsFromQueueingAndAStopSendsNothingMore) {
  Upstream app(Upstream::Behaviour::never_answer);
  std::mutex mutex;
  std::vector<Forwarded> results;
  std::vector<std::chrono::steady_clock::time_point> ended;
  const auto started = std::chrono::steady_clock::now();
  {
    auto forwarder = forwarder_to("http://127.0.0.1:" + std::to_string(app.port), {.timeout = 300ms, .connections = 1});
    ASSERT_TRUE(forwarder);
    // Both are queued at once. The first one's report holds the only worker
    // 150 ms past the first deadline, so the second's (counted from its
    // queueing, microseconds after the first's) has surely passed when its
    // turn comes; counted from its sending, it would be sent.
    std::array requests{signed_post(), signed_post()};
    for (const auto& request : requests) {
      forwarder->forward(request, [&](Forwarded&& f) {
        {
          std::lock_guard lock(mutex);
          results.push_back(std::move(f));
          ended.push_back(std::chrono::steady_clock::now());
        }
        std::this_thread::sleep_for(150ms);
      });
    }
    std::this_thread::sleep_for(1s);
  }
  ASSERT_EQ(results.size(), 2U);
  EXPECT_EQ(results[0].outcome, ForwardOutcome::timeout);
  EXPECT_EQ(results[1].outcome, ForwardOutcome::timeout);
  EXPECT_NE(results[1].error.find("not sent"), std::string::npos) << results[1].error;
  EXPECT_LT(ended[1] - started, 800ms);
  EXPECT_EQ(app.requests().size(), 1U);

  // Stopping: the request under way is waited for, the queued ones are not sent.
  Upstream slow(Upstream::Behaviour::never_answer);
  results.clear();
  {
    auto forwarder =
        forwarder_to("http://127.0.0.1:" + std::to_string(slow.port), {.timeout = 300ms, .connections = 1});
    ASSERT_TRUE(forwarder);
    for (int i = 0; i < 3; ++i) {
      forwarder->forward(signed_post(), [&](Forwarded&& f) {
        std::lock_guard lock(mutex);
        results.push_back(std::move(f));
      });
    }
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_EQ(results.size(), 3U);
  EXPECT_EQ(results[0].outcome, ForwardOutcome::timeout);
  EXPECT_EQ(results[1].error, "not sent: listen is stopping");
  EXPECT_EQ(results[2].error, "not sent: listen is stopping");
  EXPECT_EQ(slow.requests().size(), 1U);
}

TEST(Forwarder, AnAnswerCutShortIsBroken) {
  Upstream app(Upstream::Behaviour::close_mid_answer);
  auto forwarder = forwarder_to("http://127.0.0.1:" + std::to_string(app.port));
  ASSERT_TRUE(forwarder);
  const auto f = forward_one(*forwarder, signed_post());
  EXPECT_EQ(f.outcome, ForwardOutcome::broken);
  EXPECT_EQ(relayed_answer(f).status, 502);
}

TEST(Forwarder, AnAnswerThatIsNotHttpOrTooLargeIsBrokenAndSaysWhy) {
  Upstream garbage(Upstream::Behaviour::answer_then_close, "NOT HTTP AT ALL\r\n\r\n");
  auto to_garbage = forwarder_to("http://127.0.0.1:" + std::to_string(garbage.port));
  ASSERT_TRUE(to_garbage);
  const auto f = forward_one(*to_garbage, signed_post());
  EXPECT_EQ(f.outcome, ForwardOutcome::broken);
  EXPECT_EQ(f.error, "the answer is not HTTP/1.x");

  Upstream large(Upstream::Behaviour::answer, "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nhello world");
  auto to_large = forwarder_to("http://127.0.0.1:" + std::to_string(large.port), {.max_answer = 10});
  ASSERT_TRUE(to_large);
  const auto g = forward_one(*to_large, signed_post());
  EXPECT_EQ(g.outcome, ForwardOutcome::broken);
  EXPECT_EQ(g.error, "the answer's body is larger than 10 bytes");
  EXPECT_EQ(relayed_answer(g).status, 502);
}

TEST(Forwarder, AnHttpsTargetWithAnUnreadableCaFileIsRefusedAtTheStart) {
  const auto target = parse_url("https://127.0.0.1:1/");
  ASSERT_TRUE(target.ok());
  const auto f = Forwarder::create(*target, {.ca_cert = "/nonexistent/ca.pem"});
  EXPECT_FALSE(f.ok());
}

}  // namespace
}  // namespace epilot::http
