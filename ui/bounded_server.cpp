#include "ui/bounded_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <functional>
#include <string>

namespace epilot::ui {

namespace {

using Clock = std::chrono::steady_clock;

// Wait up to `timeout` for `events` on `fd`; false when none came.
bool ready(int fd, short events, std::chrono::milliseconds timeout) {
  const auto until = Clock::now() + timeout;
  while (true) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(until - Clock::now()).count();
    pollfd p{fd, events, 0};
    const int rc = ::poll(&p, 1, left > 0 ? static_cast<int>(left) : 0);
    if (rc > 0) {
      return true;
    }
    if ((rc < 0 && errno != EINTR) || left <= 0) {
      return rc < 0;  // an error is for the next read or write to report
    }
  }
}

void describe(const sockaddr_storage& address, std::string& ip, int& port) {
  std::array<char, INET6_ADDRSTRLEN> text{};
  if (address.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&address);
    ::inet_ntop(AF_INET, &in->sin_addr, text.data(), text.size());
    port = ntohs(in->sin_port);
  } else if (address.ss_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&address);
    ::inet_ntop(AF_INET6, &in6->sin6_addr, text.data(), text.size());
    port = ntohs(in6->sin6_port);
  }
  ip = text.data();
}

// One connection's bytes, as cpp-httplib reads and writes them. Reads come
// from a fixed buffer (cpp-httplib reads a line a byte at a time), and stop
// when the request's allowance of bytes or time is spent.
class BoundedStream final : public httplib::Stream {
 public:
  BoundedStream(int fd, const ConnectionLimits& limits) : m_fd(fd), m_limits(limits) {}

  // Wait for the next request's first byte, up to the keep-alive time, and
  // only while `serving()`.
  bool wait_for_request(const std::function<bool()>& serving) {
    const auto until = Clock::now() + m_limits.keep_alive;
    // In short slices, so that a stopping server lets go soon.
    constexpr std::chrono::milliseconds slice{100};
    while (m_begin == m_end && serving()) {
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(until - Clock::now());
      if (left.count() <= 0) {
        return false;
      }
      if (ready(m_fd, POLLIN, std::min(left, slice))) {
        return true;
      }
    }
    return serving();
  }

  // The request's allowance or time was spent, a read failed, or the
  // request was refused unread: what was answered is the connection's last.
  bool cut() const { return m_cut; }
  void cut_after_this_request() { m_cut = true; }

  void begin_request() {
    m_left = m_limits.max_request_bytes;
    m_deadline = Clock::now() + m_limits.request_timeout;
  }

  bool is_readable() const override { return m_begin < m_end || ready(m_fd, POLLIN, read_wait()); }
  bool is_writable() const override { return ready(m_fd, POLLOUT, m_limits.io_timeout); }

  ssize_t read(char* ptr, size_t size) override {
    if (m_left == 0) {
      m_cut = true;
      return -1;  // not 0: a body without a length would end here, cut short
    }
    if (m_begin == m_end && !fill()) {
      return m_cut ? -1 : 0;
    }
    const auto n = std::min({size, m_end - m_begin, m_left});
    std::copy_n(m_buffer.data() + m_begin, n, ptr);
    m_begin += n;
    m_left -= n;
    return static_cast<ssize_t>(n);
  }

  ssize_t write(const char* ptr, size_t size) override {
    std::size_t done = 0;
    while (done < size) {
      const auto n = ::send(m_fd, ptr + done, size - done, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) {
        done += static_cast<std::size_t>(n);
      } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        if (!ready(m_fd, POLLOUT, m_limits.io_timeout)) {
          return -1;  // the client reads nothing: give up on it
        }
      } else {
        return -1;
      }
    }
    return static_cast<ssize_t>(size);
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    sockaddr_storage address{};
    socklen_t size = sizeof address;
    if (::getpeername(m_fd, reinterpret_cast<sockaddr*>(&address), &size) == 0) {
      describe(address, ip, port);
    }
  }

  void get_local_ip_and_port(std::string& ip, int& port) const override {
    sockaddr_storage address{};
    socklen_t size = sizeof address;
    if (::getsockname(m_fd, reinterpret_cast<sockaddr*>(&address), &size) == 0) {
      describe(address, ip, port);
    }
  }

  socket_t socket() const override { return m_fd; }

 private:
  // How long a read may wait: one read's timeout, or what is left of the
  // request's time if that is less.
  std::chrono::milliseconds read_wait() const {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(m_deadline - Clock::now());
    return std::clamp(left, std::chrono::milliseconds(0), m_limits.io_timeout);
  }

  // Refill the empty buffer; false at the end of the stream, and also (cut)
  // on an error or when the request's time is up.
  bool fill() {
    while (true) {
      const auto n = ::recv(m_fd, m_buffer.data(), m_buffer.size(), MSG_DONTWAIT);
      if (n > 0) {
        m_begin = 0;
        m_end = static_cast<std::size_t>(n);
        return true;
      }
      if (n == 0) {
        return false;
      }
      if (errno != EAGAIN && errno != EINTR) {
        m_cut = true;
        return false;
      }
      const auto wait = read_wait();
      if (wait.count() == 0 || !ready(m_fd, POLLIN, wait)) {
        m_cut = true;
        return false;
      }
    }
  }

  int m_fd;
  const ConnectionLimits& m_limits;
  std::array<char, 4096> m_buffer{};
  std::size_t m_begin = 0;
  std::size_t m_end = 0;
  std::size_t m_left = 0;  // bytes the request under way may still read
  bool m_cut = false;
  Clock::time_point m_deadline = Clock::now();
};

// The stream of the connection this thread serves, for the pre-routing
// handler to end it.
thread_local BoundedStream* t_stream = nullptr;

}  // namespace

BoundedServer::BoundedServer(const ConnectionLimits& limits) : m_limits(limits) {
  // What cpp-httplib writes in each answer's Keep-Alive header.
  set_keep_alive_timeout(std::chrono::ceil<std::chrono::seconds>(limits.keep_alive).count());
  set_keep_alive_max_count(limits.max_requests);
  set_pre_routing_handler([](const httplib::Request& request, httplib::Response& response) {
    // cpp-httplib answers a Range header's every range, each a copy of the
    // answer: a few kilobytes of "0-,0-,..." would make one answer tens of
    // megabytes. Nothing here needs part of an answer: the header is
    // ignored, as a server may. (The request is cpp-httplib's own,
    // non-const object; the handler is only given a const view of it.)
    const_cast<httplib::Request&>(request).ranges.clear();
    const auto coding = request.get_header_value("Content-Encoding");
    if (coding.empty() || coding == "identity") {
      return HandlerResponse::Unhandled;
    }
    response.status = 415;
    response.set_content("a request body must not be compressed\n", "text/plain");
    if (t_stream != nullptr) {
      t_stream->cut_after_this_request();  // its body is still unread
    }
    return HandlerResponse::Handled;
  });
}

void BoundedServer::shut_connections() {
  std::lock_guard lock(m_mutex);
  m_shut = true;
  for (const auto sock : m_open) {
    ::shutdown(sock, SHUT_RDWR);
  }
}

bool BoundedServer::track(socket_t sock) {
  std::lock_guard lock(m_mutex);
  if (m_shut) {
    return false;
  }
  m_open.insert(sock);
  return true;
}

void BoundedServer::close_tracked(socket_t sock) {
  std::lock_guard lock(m_mutex);
  m_open.erase(sock);
  ::shutdown(sock, SHUT_RDWR);
  ::close(sock);
}

bool BoundedServer::process_and_close_socket(socket_t sock) {
  if (!track(sock)) {
    ::close(sock);
    return false;
  }
  BoundedStream stream(sock, m_limits);
  t_stream = &stream;
  const auto serving = [this] { return svr_sock_ != INVALID_SOCKET; };
  bool ok = false;
  for (auto left = m_limits.max_requests; left > 0 && stream.wait_for_request(serving); --left) {
    stream.begin_request();
    bool closed = false;
    ok = process_request(stream, left == 1, closed, nullptr);
    if (!ok || closed || stream.cut()) {
      break;
    }
  }
  t_stream = nullptr;
  close_tracked(sock);
  return ok;
}

}  // namespace epilot::ui
