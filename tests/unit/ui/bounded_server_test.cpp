#include "ui/bounded_server.hpp"

#include <gtest/gtest.h>
#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace epilot::ui {
namespace {

using namespace std::chrono_literals;

constexpr ConnectionLimits k_limits{
    .max_request_bytes = 104 * 1024,
    .request_timeout = 2s,
    .io_timeout = 1s,
    .keep_alive = 1s,
    .max_requests = 20,
};

std::atomic<int> g_handled{0};

// A handler installed without SA_RESTART, as a test harness or a library
// loaded into the program may: a blocking accept() it interrupts fails
// with EINTR.
class HandledSignal {
 public:
  explicit HandledSignal(int signal) : m_signal(signal) {
    struct sigaction action {};
    action.sa_handler = [](int) { ++g_handled; };
    sigemptyset(&action.sa_mask);
    sigaction(m_signal, &action, &m_previous);
  }
  ~HandledSignal() { sigaction(m_signal, &m_previous, nullptr); }
  HandledSignal(const HandledSignal&) = delete;
  HandledSignal& operator=(const HandledSignal&) = delete;

 private:
  int m_signal;
  struct sigaction m_previous {};
};

// cpp-httplib (0.11) ends its accept loop on most errors of accept(); an
// interrupted one must not be among them, or any handled signal the
// inspector's thread takes would end the page while listen goes on.
TEST(BoundedServer, ASignalTakenOnItsAcceptingThreadDoesNotEndIt) {
  const HandledSignal usr1(SIGUSR1);
  BoundedServer server(k_limits);
  server.Get("/alive",
             [](const httplib::Request&, httplib::Response& response) { response.set_content("yes", "text/plain"); });
  const int port = server.bind_to_any_port("127.0.0.1");
  ASSERT_GT(port, 0);
  std::thread thread([&] { server.listen_after_bind(); });
  while (!server.is_running()) {
    std::this_thread::sleep_for(1ms);
  }
  // The thread waits in accept(), which each signal interrupts. One at a
  // time: a signal sent while another is pending would merge with it.
  g_handled = 0;
  for (int i = 1; i <= 5; ++i) {
    pthread_kill(thread.native_handle(), SIGUSR1);
    for (int wait = 0; wait < 500 && g_handled.load() < i; ++wait) {
      std::this_thread::sleep_for(10ms);
    }
    std::this_thread::sleep_for(10ms);  // back in accept()
  }
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(2s);
  const auto result = client.Get("/alive");
  ASSERT_TRUE(result) << httplib::to_string(result.error());
  EXPECT_EQ(result->status, 200);
  EXPECT_EQ(result->body, "yes");
  EXPECT_TRUE(server.is_running());
  EXPECT_EQ(g_handled.load(), 5);  // taken there, so accept() was interrupted
  server.stop();
  server.shut_connections();
  thread.join();
}

}  // namespace
}  // namespace epilot::ui
