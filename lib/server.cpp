#include "lib/server.hpp"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <memory>
#include <thread>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "lib/bytes.hpp"

namespace epilot {

namespace {

using Clock = std::chrono::steady_clock;

const char* reason_phrase(int status) {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 422: return "Unprocessable Entity";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    default: return "Status";
  }
}

std::string response(int status, const std::string& body, bool close) {
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + reason_phrase(status) + "\r\n";
  if (status != 204 && status >= 200) {
    out += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  }
  if (close) {
    out += "Connection: close\r\n";
  }
  out += "\r\n";
  if (status != 204) {
    out += body;
  }
  return out;
}

std::string error_body(const std::string& error, const std::string& message) {
  return "{\"error\":\"" + error + "\",\"message\":" + nlohmann::json(message).dump() + "}";
}

struct Connection {
  int fd = -1;
  std::string in;
  std::string out;
  bool close_after_write = false;
  bool continue_sent = false;
  bool want_write = false;
  Clock::time_point deadline;
  // A delayed answer waits here; input behind it waits too (answers keep their order).
  std::string delayed;
  bool delayed_close = false;
  Clock::time_point due;
};

// What the head of a request says about its body.
struct Framing {
  std::size_t head_size = 0;  // bytes up to and including the blank line
  bool chunked = false;
  std::optional<std::size_t> content_length;
  bool close = false;
  bool expect_continue = false;
};

// Find the end of the head; nullopt if incomplete. Malformed framing headers
// are left to parse_raw_http, which names the problem.
std::optional<Framing> read_framing(std::string_view in) {
  std::size_t end = std::string_view::npos;
  std::size_t sep = 0;
  for (std::size_t i = 0; i + 1 < in.size(); ++i) {
    if (in[i] == '\n' && in[i + 1] == '\n') {
      end = i, sep = 2;
      break;
    }
    if (in[i] == '\n' && in[i + 1] == '\r' && i + 2 < in.size() && in[i + 2] == '\n') {
      end = i, sep = 3;
      break;
    }
  }
  if (end == std::string_view::npos) {
    return std::nullopt;
  }
  Framing f;
  f.head_size = end + sep;
  const auto head = in.substr(0, end);
  const auto first_eol = head.find('\n');
  const auto request_line = trim_whitespace(head.substr(0, first_eol));
  f.close = request_line.size() >= 8 && request_line.substr(request_line.size() - 8) == "HTTP/1.0";
  std::size_t pos = first_eol == std::string_view::npos ? head.size() : first_eol + 1;
  while (pos < head.size()) {
    auto eol = head.find('\n', pos);
    if (eol == std::string_view::npos) {
      eol = head.size();
    }
    const auto line = head.substr(pos, eol - pos);
    pos = eol + 1;
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) {
      continue;
    }
    const auto name = line.substr(0, colon);
    const auto value = trim_whitespace(line.substr(colon + 1));
    if (iequals_ascii(name, "content-length")) {
      std::size_t n = 0;
      const auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (ec == std::errc() && ptr == value.data() + value.size()) {
        f.content_length = n;
      }
    } else if (iequals_ascii(name, "transfer-encoding")) {
      f.chunked = iequals_ascii(value, "chunked");
    } else if (iequals_ascii(name, "connection")) {
      if (iequals_ascii(value, "close")) {
        f.close = true;
      } else if (iequals_ascii(value, "keep-alive")) {
        f.close = false;
      }
    } else if (iequals_ascii(name, "expect")) {
      f.expect_continue = iequals_ascii(value, "100-continue");
    }
  }
  return f;
}

enum class BodyState { complete, incomplete, too_large };

// Where a chunked body ends (from `start`), counting the decoded size.
BodyState chunked_end(std::string_view in, std::size_t start, std::size_t max_body, std::size_t& end) {
  std::size_t pos = start;
  std::size_t total = 0;
  while (true) {
    const auto eol = in.find('\n', pos);
    if (eol == std::string_view::npos) {
      return BodyState::incomplete;
    }
    const auto line = trim_whitespace(in.substr(pos, eol - pos).substr(0, in.substr(pos, eol - pos).find(';')));
    std::size_t size = 0;
    const auto [ptr, ec] = std::from_chars(line.data(), line.data() + line.size(), size, 16);
    if (ec != std::errc() || ptr != line.data() + line.size()) {
      end = eol + 1;  // malformed: let the full reader say so
      return BodyState::complete;
    }
    pos = eol + 1;
    if (size == 0) {
      // Trailers, then an empty line.
      while (true) {
        const auto t = in.find('\n', pos);
        if (t == std::string_view::npos) {
          return BodyState::incomplete;
        }
        const bool empty = trim_whitespace(in.substr(pos, t - pos)).empty();
        pos = t + 1;
        if (empty) {
          end = pos;
          return BodyState::complete;
        }
      }
    }
    total += size;
    if (total > max_body) {
      return BodyState::too_large;
    }
    if (in.size() - pos < size + 1) {
      return BodyState::incomplete;
    }
    pos += size;
    if (in[pos] == '\r') {
      if (in.size() - pos < 2) {
        return BodyState::incomplete;
      }
      ++pos;
    }
    ++pos;  // the '\n' (or whatever is there: the full reader checks)
  }
}

}  // namespace

HttpServer::HttpServer(ServerLimits limits) : m_limits(limits) {}

HttpServer::~HttpServer() {
  if (m_listen_fd >= 0) {
    ::close(m_listen_fd);
  }
  if (m_stop_fd >= 0) {
    ::close(m_stop_fd);
  }
}

Result<int> HttpServer::bind(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const auto service = std::to_string(port);
  if (const int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &found); rc != 0) {
    return make_error(ErrorCode::usage, "cannot resolve " + host + ": " + ::gai_strerror(rc));
  }
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> guard(found, &::freeaddrinfo);
  const int fd = ::socket(found->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return make_error(ErrorCode::io, std::string("cannot create a socket: ") + std::strerror(errno));
  }
  int yes = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);  // not SO_REUSEPORT: a second listener must fail
  if (::bind(fd, found->ai_addr, found->ai_addrlen) != 0 || ::listen(fd, 1024) != 0) {
    const int err = errno;
    ::close(fd);
    return make_error(ErrorCode::io, "cannot listen on " + host + ":" + service + ": " + std::strerror(err),
                      {"is another server on that port? --port 0 picks a free one"});
  }
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  m_listen_fd = fd;
  m_stop_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  return ntohs(addr.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port
                                          : reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
}

void HttpServer::stop() {
  m_stopping = true;
  if (m_stop_fd >= 0) {
    const std::uint64_t one = 1;
    [[maybe_unused]] const auto n = ::write(m_stop_fd, &one, sizeof one);
  }
}

void HttpServer::run(const RequestHandler& handler) {
  std::vector<std::thread> threads;
  for (unsigned i = 1; i < std::max(1u, m_limits.threads); ++i) {
    threads.emplace_back([&] { worker(handler); });
  }
  worker(handler);
  for (auto& t : threads) {
    t.join();
  }
}

void HttpServer::worker(const RequestHandler& handler) {
  const int ep = ::epoll_create1(EPOLL_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLEXCLUSIVE;
  ev.data.fd = m_listen_fd;
  ::epoll_ctl(ep, EPOLL_CTL_ADD, m_listen_fd, &ev);
  ev.events = EPOLLIN;
  ev.data.fd = m_stop_fd;
  ::epoll_ctl(ep, EPOLL_CTL_ADD, m_stop_fd, &ev);
  std::unordered_map<int, std::unique_ptr<Connection>> connections;

  const auto close_connection = [&](int fd) {
    ::epoll_ctl(ep, EPOLL_CTL_DEL, fd, nullptr);
    ::close(fd);
    connections.erase(fd);
  };
  const auto set_write_interest = [&](Connection& c, bool want) {
    if (c.want_write == want) {
      return;
    }
    c.want_write = want;
    epoll_event e{};
    e.events = EPOLLIN | EPOLLRDHUP | (want ? EPOLLOUT : 0u);
    e.data.fd = c.fd;
    ::epoll_ctl(ep, EPOLL_CTL_MOD, c.fd, &e);
  };
  // Write what is buffered; false if the connection is gone.
  const auto flush = [&](Connection& c) {
    while (!c.out.empty()) {
      const auto n = ::send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EINTR) {
          continue;
        }
        if (errno == EAGAIN) {
          set_write_interest(c, true);
          return true;
        }
        close_connection(c.fd);
        return false;
      }
      c.out.erase(0, static_cast<std::size_t>(n));
    }
    set_write_interest(c, false);
    if (c.close_after_write) {
      close_connection(c.fd);
      return false;
    }
    return true;
  };
  const auto answer_now = [&](Connection& c, int status, const std::string& body, bool close) {
    c.out += response(status, body, close);
    c.close_after_write = c.close_after_write || close;
  };
  // Handle every complete request in the input, in order.
  const auto process = [&](Connection& c) {
    while (c.delayed.empty() && !c.close_after_write) {
      const auto framing = read_framing(c.in);
      if (!framing) {
        if (c.in.size() > m_limits.max_header) {
          answer_now(c, 431, error_body("headers too large", "the request head exceeds " +
                                                                 std::to_string(m_limits.max_header) + " bytes"), true);
        }
        break;
      }
      std::size_t end = 0;
      if (framing->chunked) {
        const auto state = chunked_end(c.in, framing->head_size, m_limits.max_body, end);
        if (state == BodyState::too_large) {
          answer_now(c, 413, error_body("too large", "the body exceeds " + std::to_string(m_limits.max_body) + " bytes"), true);
          break;
        }
        if (state == BodyState::incomplete) {
          if (framing->expect_continue && !c.continue_sent) {
            c.out += "HTTP/1.1 100 Continue\r\n\r\n";
            c.continue_sent = true;
          }
          break;
        }
      } else {
        const auto length = framing->content_length.value_or(0);
        if (length > m_limits.max_body) {
          answer_now(c, 413, error_body("too large", "the body exceeds " + std::to_string(m_limits.max_body) + " bytes"), true);
          break;
        }
        if (c.in.size() - framing->head_size < length) {
          if (framing->expect_continue && !c.continue_sent) {
            c.out += "HTTP/1.1 100 Continue\r\n\r\n";
            c.continue_sent = true;
          }
          break;
        }
        end = framing->head_size + length;
      }
      auto request = parse_raw_http(std::string_view(c.in).substr(0, end));
      c.in.erase(0, end);
      c.continue_sent = false;
      if (!request) {
        answer_now(c, 400, error_body("bad request", request.error().message), true);
        break;
      }
      ServerAnswer answer;
      try {
        answer = handler(std::move(*request));
      } catch (const std::exception& e) {
        answer = {500, error_body("internal error", e.what()), {}};
      }
      if (answer.delay.count() > 0) {
        c.delayed = response(answer.status, answer.body, framing->close);
        c.delayed_close = framing->close;
        c.due = Clock::now() + answer.delay;
        break;
      }
      answer_now(c, answer.status, answer.body, framing->close);
    }
    return flush(c);
  };

  std::vector<epoll_event> events(256);
  bool accepting = true;
  while (true) {
    // Wake for the nearest delayed answer, and at least every 250 ms to expire idle connections.
    auto wait = std::chrono::milliseconds(250);
    const auto now = Clock::now();
    for (const auto& [fd, c] : connections) {
      if (!c->delayed.empty()) {
        wait = std::min(wait, std::max(std::chrono::milliseconds(0),
                                       std::chrono::duration_cast<std::chrono::milliseconds>(c->due - now)));
      }
    }
    const int n = ::epoll_wait(ep, events.data(), static_cast<int>(events.size()), static_cast<int>(wait.count()));
    if (n < 0 && errno != EINTR) {
      break;
    }
    for (int i = 0; i < n; ++i) {
      const int fd = events[static_cast<std::size_t>(i)].data.fd;
      const auto flags = events[static_cast<std::size_t>(i)].events;
      if (fd == m_stop_fd) {
        continue;  // m_stopping is checked below; the eventfd stays readable for the other workers
      }
      if (fd == m_listen_fd) {
        while (accepting) {
          const int client = ::accept4(m_listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (client < 0) {
            break;  // EAGAIN: another worker took it, or none left
          }
          int yes = 1;
          ::setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
          auto c = std::make_unique<Connection>();
          c->fd = client;
          c->deadline = Clock::now() + m_limits.idle_timeout;
          epoll_event e{};
          e.events = EPOLLIN | EPOLLRDHUP;
          e.data.fd = client;
          ::epoll_ctl(ep, EPOLL_CTL_ADD, client, &e);
          connections.emplace(client, std::move(c));
        }
        continue;
      }
      const auto it = connections.find(fd);
      if (it == connections.end()) {
        continue;
      }
      Connection& c = *it->second;
      if ((flags & EPOLLOUT) != 0 && !flush(c)) {
        continue;
      }
      if ((flags & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) {
        bool closed = false;
        char buffer[65536];
        while (true) {
          const auto got = ::recv(fd, buffer, sizeof buffer, 0);
          if (got > 0) {
            c.in.append(buffer, static_cast<std::size_t>(got));
            if (c.in.size() > m_limits.max_header + m_limits.max_body + 65536) {
              break;  // process() refuses it below
            }
            continue;
          }
          if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
            closed = true;
          }
          if (got < 0 && errno == EINTR) {
            continue;
          }
          break;
        }
        c.deadline = Clock::now() + m_limits.idle_timeout;
        if (!process(c)) {
          continue;
        }
        if (closed && c.out.empty() && c.delayed.empty()) {
          close_connection(fd);  // the peer is gone; a half-read request is dropped
        }
      }
    }
    // Delayed answers that are due, then idle connections.
    const auto later = Clock::now();
    std::vector<int> expired;
    for (auto& [fd, c] : connections) {
      if (!c->delayed.empty() && c->due <= later) {
        c->out += c->delayed;
        c->close_after_write = c->close_after_write || c->delayed_close;
        c->delayed.clear();
        c->deadline = later + m_limits.idle_timeout;
        expired.push_back(-fd);  // negative: process again after the loop
      } else if (c->delayed.empty() && c->out.empty() && c->deadline <= later) {
        expired.push_back(fd);
      }
    }
    for (int fd : expired) {
      const auto it = connections.find(fd < 0 ? -fd : fd);
      if (it == connections.end()) {
        continue;
      }
      if (fd < 0) {
        process(*it->second);
      } else {
        close_connection(fd);
      }
    }
    if (m_stopping) {
      if (accepting) {
        accepting = false;
        ::epoll_ctl(ep, EPOLL_CTL_DEL, m_listen_fd, nullptr);
        ::epoll_ctl(ep, EPOLL_CTL_DEL, m_stop_fd, nullptr);  // it stays readable: stop waking on it
      }
      // Delayed answers are still given at their time; then the answers
      // already made are sent (blocking briefly) and everything closes.
      bool delayed_pending = false;
      for (const auto& [fd, c] : connections) {
        delayed_pending = delayed_pending || !c->delayed.empty();
      }
      if (delayed_pending) {
        continue;
      }
      for (auto& [fd, c] : connections) {
        const auto deadline = Clock::now() + std::chrono::seconds(2);
        while (!c->out.empty() && Clock::now() < deadline) {
          const auto sent = ::send(fd, c->out.data(), c->out.size(), MSG_NOSIGNAL);
          if (sent > 0) {
            c->out.erase(0, static_cast<std::size_t>(sent));
          } else if (sent < 0 && errno != EAGAIN && errno != EINTR) {
            break;
          } else {
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
          }
        }
        ::close(fd);
      }
      connections.clear();
      break;
    }
  }
  ::close(ep);
}

}  // namespace epilot
