// The web inspector's HTTP front (ui/bounded_server over cpp-httplib), over
// real loopback connections: whatever bytes a client sends, the server
// answers or closes within its limits (a hang is a failure: the reading
// side gives up after 10 s), never crashes, and goes on serving: after each
// input, a plain request on a new connection must get its answer.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <thread>

#include "ui/bounded_server.hpp"

namespace {

using namespace std::chrono_literals;

// As the module's, with less time: nothing here waits on a slow client.
constexpr epilot::ui::ConnectionLimits k_limits{
    .max_request_bytes = 104 * 1024,
    .request_timeout = 2s,
    .io_timeout = 1s,
    .keep_alive = 1s,
    .max_requests = 20,
};

// A handler that reads what the API's would: method, path, query, headers,
// body; and one event stream, written in chunks as the module's is.
void answer(const httplib::Request& request, httplib::Response& response) {
  if (request.path == "/api/events") {
    response.set_chunked_content_provider("text/event-stream", [n = 0](std::size_t, httplib::DataSink& sink) mutable {
      if (n++ == 2) {
        sink.done();
        return true;
      }
      return sink.write("data: {}\n\n", 10);
    });
    return;
  }
  const std::string summary = request.method + " " + request.path + " " + std::to_string(request.params.size()) + " " +
                              std::to_string(request.headers.size()) + " " + std::to_string(request.body.size());
  response.set_content(summary, "text/plain");
}

struct Front {
  epilot::ui::BoundedServer server{k_limits};
  int port = 0;
  std::thread thread;

  Front() {
    server.Get(".*", answer).Post(".*", answer).Put(".*", answer).Delete(".*", answer).Options(".*", answer);
    server.set_payload_max_length(64 * 1024);
    port = server.bind_to_any_port("127.0.0.1");
    if (port <= 0) {
      std::abort();
    }
    // libFuzzer's SIGALRM is for this thread, the one that runs inputs:
    // the server's threads (which inherit the mask) are left alone.
    sigset_t alarm;
    sigset_t previous;
    sigemptyset(&alarm);
    sigaddset(&alarm, SIGALRM);
    pthread_sigmask(SIG_BLOCK, &alarm, &previous);
    thread = std::thread([this] { server.listen_after_bind(); });
    pthread_sigmask(SIG_SETMASK, &previous, nullptr);
    while (!server.is_running()) {
      std::this_thread::sleep_for(1ms);
    }
  }
};

Front& front() {
  static auto* front = new Front;  // serves until the process ends
  return *front;
}

// A connect() interrupted by libFuzzer's timer goes on by itself: wait
// for it to end, and take its outcome.
bool connected(int fd, int result) {
  if (result == 0) {
    return true;
  }
  if (errno != EINTR) {
    return false;
  }
  pollfd writable{fd, POLLOUT, 0};
  while (::poll(&writable, 1, 10'000) < 0 && errno == EINTR) {
  }
  int error = ETIMEDOUT;
  socklen_t length = sizeof error;
  if ((writable.revents & (POLLOUT | POLLERR | POLLHUP)) != 0) {
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length);
  }
  errno = error;
  return error == 0;
}

// Send `bytes` on a new connection, end the sending side, and read what
// comes back until the server closes; abort if it never does.
std::string exchange(int port, std::string_view bytes) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || !connected(fd, ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address))) {
    std::fprintf(stderr, "cannot connect (has the server stopped listening?): %s\n", std::strerror(errno));
    std::abort();
  }
  const timeval wait{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof wait);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &wait, sizeof wait);
  for (std::size_t sent = 0; sent < bytes.size();) {
    const auto n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      break;  // the server closed early: it may
    }
    sent += static_cast<std::size_t>(n);
  }
  ::shutdown(fd, SHUT_WR);
  std::string out;
  char buffer[4096];
  // Each read waits 10 s at most, and all of them 20 s: an answer that
  // trickles on for ever is a hang too.
  const auto give_up = std::chrono::steady_clock::now() + 20s;
  while (true) {
    if (std::chrono::steady_clock::now() > give_up) {
      std::fprintf(stderr, "the answer has not ended in 20 s\n");
      std::abort();
    }
    const auto n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n == 0 || (n < 0 && errno == ECONNRESET)) {
      break;
    }
    if (n < 0 && errno == EINTR) {
      continue;  // libFuzzer's own timer
    }
    if (n < 0) {
      std::fprintf(stderr, "no answer and no close: %s\n", std::strerror(errno));
      std::abort();  // 10 s and the server neither answered nor closed
    }
    out.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto port = front().port;
  exchange(port, std::string_view(reinterpret_cast<const char*>(data), size));
  const auto probe = exchange(port, "GET /alive?x=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
  if (probe.rfind("HTTP/1.1 200 OK\r\n", 0) != 0 || probe.find("GET /alive 1 ") == std::string::npos) {
    std::abort();
  }
  return 0;
}
