#include "lib/http/server.hpp"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <latch>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "lib/http/request_reader.hpp"
#include "lib/util/json.hpp"

namespace epilot::http {

namespace detail {

// Where the answers given on other threads wait for their worker's loop,
// which an eventfd wakes.
struct Mailbox {
  struct Item {
    int fd;
    std::uint64_t serial;  // the connection's, as fds are reused
    ServerResponse response;
  };
  std::mutex mutex;
  std::vector<Item> items;
  util::Fd wake{::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)};
  bool closed = false;  // the worker has ended: answers are dropped

  void post(Item item) {
    std::lock_guard lock(mutex);
    if (closed) {
      return;
    }
    items.push_back(std::move(item));
    const std::uint64_t one = 1;
    [[maybe_unused]] const auto n = ::write(wake.get(), &one, sizeof one);
  }
};

// One request's answer, owed until given (see Responder).
struct ReplySlot {
  ReplySlot(std::shared_ptr<Mailbox> box, int fd_, std::uint64_t serial_)
      : mailbox(std::move(box)), fd(fd_), serial(serial_), worker(std::this_thread::get_id()) {}
  ReplySlot(const ReplySlot&) = delete;
  ReplySlot& operator=(const ReplySlot&) = delete;
  // Dropped unanswered: the client still gets an answer.
  ~ReplySlot() {
    try {
      give(ServerResponse{{500, R"({"error":"internal error","message":"the request was never answered"})"}, {}, true});
    } catch (const std::exception&) {
      // Out of memory: the connection is closed at the grace time or with the server.
    }
  }

  void give(ServerResponse response) {
    if (given.exchange(true)) {
      return;
    }
    // Given on the worker's own thread while the handler runs: taken from
    // here, without a trip through the mailbox.
    if (in_handler.load() && std::this_thread::get_id() == worker) {
      at_once = std::move(response);
      return;
    }
    mailbox->post({fd, serial, std::move(response)});
  }

  std::shared_ptr<Mailbox> mailbox;
  int fd;
  std::uint64_t serial;
  std::thread::id worker;
  std::atomic<bool> given{false};
  std::atomic<bool> in_handler{true};
  std::optional<ServerResponse> at_once;  // only ever touched on the worker's thread
};

}  // namespace detail

void Responder::operator()(ServerResponse response) const { m_slot->give(std::move(response)); }

// The message may quote request bytes: json_quote never throws on them.
std::string error_body(std::string_view error, std::string_view message) {
  return "{\"error\":" + util::json_quote(error) + ",\"message\":" + util::json_quote(message) + "}";
}

namespace {

using Clock = std::chrono::steady_clock;

// Answers queue up for a client that does not read them; past this, the
// server reads no further requests from it until it does.
constexpr std::size_t k_max_pending_output = 1024 * 1024;

// RFC 9110's status codes, and 429, 431 and 451 (RFC 6585, 7725). A code
// not here gets an empty reason phrase, which HTTP/1.1 allows and clients
// ignore, rather than a made-up one.
constexpr std::pair<int, const char*> k_reasons[] = {
    {100, "Continue"},
    {101, "Switching Protocols"},
    {200, "OK"},
    {201, "Created"},
    {202, "Accepted"},
    {203, "Non-Authoritative Information"},
    {204, "No Content"},
    {205, "Reset Content"},
    {206, "Partial Content"},
    {300, "Multiple Choices"},
    {301, "Moved Permanently"},
    {302, "Found"},
    {303, "See Other"},
    {304, "Not Modified"},
    {307, "Temporary Redirect"},
    {308, "Permanent Redirect"},
    {400, "Bad Request"},
    {401, "Unauthorized"},
    {402, "Payment Required"},
    {403, "Forbidden"},
    {404, "Not Found"},
    {405, "Method Not Allowed"},
    {406, "Not Acceptable"},
    {407, "Proxy Authentication Required"},
    {408, "Request Timeout"},
    {409, "Conflict"},
    {410, "Gone"},
    {411, "Length Required"},
    {412, "Precondition Failed"},
    {413, "Content Too Large"},
    {414, "URI Too Long"},
    {415, "Unsupported Media Type"},
    {416, "Range Not Satisfiable"},
    {417, "Expectation Failed"},
    {421, "Misdirected Request"},
    {422, "Unprocessable Content"},
    {426, "Upgrade Required"},
    {429, "Too Many Requests"},
    {431, "Request Header Fields Too Large"},
    {451, "Unavailable For Legal Reasons"},
    {500, "Internal Server Error"},
    {501, "Not Implemented"},
    {502, "Bad Gateway"},
    {503, "Service Unavailable"},
    {504, "Gateway Timeout"},
    {505, "HTTP Version Not Supported"},
};

const char* reason_phrase(int status) {
  for (const auto& [code, reason] : k_reasons) {
    if (code == status) {
      return reason;
    }
  }
  return "";
}

enum class Method { head, other };

// An answer on the wire. A HEAD request's answer, and 204 and 304, carry no
// body (a proxy in front would read one as the start of the next answer).
std::string response(int status, const std::string& body, bool close, Method method = Method::other,
                     const std::string& allow = {}, std::string_view content_type = {}) {
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + reason_phrase(status) + "\r\n";
  const bool bodiless = status == 204 || status == 304;
  if (!bodiless) {
    out.append("Content-Type: ").append(content_type.empty() ? "application/json" : content_type);
    out += "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  }
  if (!allow.empty()) {
    out += "Allow: " + allow + "\r\n";
  }
  if (close) {
    out += "Connection: close\r\n";
  }
  out += "\r\n";
  if (!bodiless && method != Method::head) {
    out += body;
  }
  return out;
}

// An answer relayed from upstream: its fields as they came (the relay left
// out the hop-by-hop ones), then the server's own framing.
std::string relayed_response(const ServerResponse& answer, bool close, Method method) {
  // The upstream's own reason phrase (418's, say), when it is plain text.
  const bool own_reason =
      !answer.reason.empty() && std::all_of(answer.reason.begin(), answer.reason.end(),
                                            [](char ch) { return ch == '\t' || (ch >= ' ' && ch <= '~'); });
  std::string out = "HTTP/1.1 " + std::to_string(answer.status) + " ";
  out.append(own_reason ? answer.reason : reason_phrase(answer.status)).append("\r\n");
  for (const auto& h : answer.headers) {
    if (!wire::is_hop_by_hop(h.name, {})) {  // the framing below is the only one
      out.append(h.name).append(": ").append(h.value).append("\r\n");
    }
  }
  const bool bodiless = answer.status == 204 || answer.status == 304 || answer.status < 200;
  // To HEAD, the upstream's length was that of a body not sent; none is said.
  if (!bodiless && method != Method::head) {
    out += "Content-Length: " + std::to_string(answer.body.size()) + "\r\n";
  }
  if (close) {
    out += "Connection: close\r\n";
  }
  out += "\r\n";
  if (!bodiless && method != Method::head) {
    out += answer.body;
  }
  return out;
}

struct Connection {
  explicit Connection(RequestLimits limits) : reader(limits) {}
  util::Fd fd;
  std::string in;
  std::string out;
  RequestReader reader;
  bool close_after_write = false;
  std::uint32_t events = EPOLLIN | EPOLLRDHUP;  // what epoll watches for
  bool continue_sent = false;
  bool in_request = false;  // some of a request came: request_deadline applies
  // When the connection is closed if nothing happens: no request starts, or
  // the client does not read what it was sent.
  Clock::time_point deadline;
  // When the request under way must be whole (set at its first byte, never moved).
  Clock::time_point request_deadline;
  // Closing: output shut down, input read and dropped until the client
  // closes too, so that its unread bytes do not turn the close into a reset
  // that destroys the answers just sent.
  bool lingering = false;
  std::size_t lingered = 0;
  // A delayed answer waits here; input behind it waits too (answers keep their order).
  std::string delayed;
  bool delayed_close = false;
  Clock::time_point due;
  // An answer the handler gives later (Responder): input waits behind it too.
  std::uint64_t serial = 0;  // tells this connection from a later one on the same fd
  bool awaiting = false;
  bool awaiting_head = false;   // the request was HEAD
  bool awaiting_close = false;  // the client asked to close after it

  // No further request is read until the answer under way is out.
  bool held() const { return !delayed.empty() || awaiting; }
};

class Worker {
 public:
  Worker(const ServerLimits& limits, int listen_fd, int stop_fd, const std::atomic<bool>& stopping,
         std::atomic<std::size_t>& open, const DeferredHandler& handler, const RefusalHandler& on_refusal)
      : m_limits(limits),
        m_listen_fd(listen_fd),
        m_stop_fd(stop_fd),
        m_stopping(stopping),
        m_open(open),
        m_handler(handler),
        m_on_refusal(on_refusal) {}
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  void run();

 private:
  void watch_listener(bool on);
  void accept_all(Clock::time_point now);
  void on_ready(Connection& c, std::uint32_t flags, Clock::time_point now);
  bool read_input(Connection& c);
  // false when the connection was closed
  bool process(Connection& c, Clock::time_point now);
  bool next_request(Connection& c, Clock::time_point now);
  void answer(Connection& c, const ServerResponse& answer, bool client_close, bool head, Clock::time_point now);
  void refuse(Connection& c, const Refusal& refusal);
  bool flush(Connection& c, Clock::time_point now);
  void linger(Connection& c, Clock::time_point now);
  void drain(Connection& c);
  Clock::time_point deadline_of(const Connection& c) const;
  void update_interest(Connection& c);
  void close(Connection& c);
  void expire(Clock::time_point now);
  void begin_shutdown(Clock::time_point now);
  void drop_unfinished();
  void deliver_answers(Clock::time_point now);
  std::chrono::milliseconds wait_time(Clock::time_point now) const;

  const ServerLimits& m_limits;
  int m_listen_fd;
  int m_stop_fd;
  const std::atomic<bool>& m_stopping;
  std::atomic<std::size_t>& m_open;
  const DeferredHandler& m_handler;
  const RefusalHandler& m_on_refusal;
  std::shared_ptr<detail::Mailbox> m_mailbox = std::make_shared<detail::Mailbox>();
  std::uint64_t m_next_serial = 0;
  util::Fd m_epoll;
  std::unordered_map<int, std::unique_ptr<Connection>> m_connections;
  bool m_listening = false;
  std::optional<Clock::time_point> m_resume_accept;  // paused after EMFILE, until then
  std::optional<Clock::time_point> m_shutdown_by;    // stopping: everything closes by then
};

// The connections close as m_connections goes; answers given later are dropped.
Worker::~Worker() {
  m_open.fetch_sub(m_connections.size(), std::memory_order_relaxed);
  std::lock_guard lock(m_mailbox->mutex);
  m_mailbox->closed = true;
}

void Worker::watch_listener(bool on) {
  if (on == m_listening) {
    return;
  }
  m_listening = on;
  if (on) {
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLEXCLUSIVE;
    ev.data.fd = m_listen_fd;
    ::epoll_ctl(m_epoll.get(), EPOLL_CTL_ADD, m_listen_fd, &ev);
  } else {
    ::epoll_ctl(m_epoll.get(), EPOLL_CTL_DEL, m_listen_fd, nullptr);
  }
}

void Worker::accept_all(Clock::time_point now) {
  while (true) {
    if (m_open.load(std::memory_order_relaxed) >= m_limits.max_connections) {
      watch_listener(false);  // the rest wait in the backlog until a connection closes
      return;
    }
    const int fd = ::accept4(m_listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        // Out of descriptors or memory: the listening socket stays readable,
        // so waiting on it would spin. Look again in a while.
        watch_listener(false);
        m_resume_accept = now + std::chrono::milliseconds(100);
      }
      return;  // EAGAIN: another worker took it, or none left
    }
    m_open.fetch_add(1, std::memory_order_relaxed);
    int yes = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
    auto c = std::make_unique<Connection>(RequestLimits{m_limits.max_header, m_limits.max_body});
    c->fd.reset(fd);
    c->serial = ++m_next_serial;
    c->deadline = now + m_limits.idle_timeout;
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.fd = fd;
    ::epoll_ctl(m_epoll.get(), EPOLL_CTL_ADD, fd, &ev);
    m_connections.emplace(fd, std::move(c));
  }
}

void Worker::close(Connection& c) {
  const int fd = c.fd.get();
  ::epoll_ctl(m_epoll.get(), EPOLL_CTL_DEL, fd, nullptr);
  m_connections.erase(fd);  // destroys c, closing its socket
  m_open.fetch_sub(1, std::memory_order_relaxed);
}

// Watch for input only while it can be used (no answer delayed, not too
// many unread answers, room in the buffer): a level-triggered socket that
// is never read would wake the loop without end. Watch for output only
// while some waits.
void Worker::update_interest(Connection& c) {
  const bool read = c.lingering || (!c.held() && !c.close_after_write && c.out.size() < k_max_pending_output &&
                                    c.in.size() < c.reader.wanted());
  const std::uint32_t events = (read ? EPOLLIN | EPOLLRDHUP : 0u) | (c.out.empty() ? 0u : EPOLLOUT);
  if (events != c.events) {
    c.events = events;
    epoll_event ev{};
    ev.events = events;
    ev.data.fd = c.fd.get();
    ::epoll_ctl(m_epoll.get(), EPOLL_CTL_MOD, c.fd.get(), &ev);
  }
}

// Write what is buffered; false if the connection is gone.
bool Worker::flush(Connection& c, Clock::time_point now) {
  bool progress = false;
  while (!c.out.empty()) {
    const auto n = ::send(c.fd.get(), c.out.data(), c.out.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      if (errno == EAGAIN) {
        if (progress || (c.events & EPOLLOUT) == 0) {
          c.deadline = now + m_limits.idle_timeout;  // a client that reads may take its time
        }
        update_interest(c);
        return true;
      }
      close(c);
      return false;
    }
    progress = true;
    c.out.erase(0, static_cast<std::size_t>(n));
  }
  if (c.close_after_write) {
    linger(c, now);
    return false;
  }
  update_interest(c);
  return true;
}

void Worker::linger(Connection& c, Clock::time_point now) {
  if (::shutdown(c.fd.get(), SHUT_WR) != 0) {
    close(c);
    return;
  }
  c.lingering = true;
  c.in.clear();
  c.delayed.clear();
  c.awaiting = false;
  c.in_request = false;
  c.deadline = now + std::chrono::milliseconds(1000);
  update_interest(c);
  drain(c);
}

// Read and drop what a lingering connection's client still sends; close
// once it closes too, or once it has sent too much.
void Worker::drain(Connection& c) {
  constexpr std::size_t k_max_lingered = 1024 * 1024;
  char buffer[65536];
  while (true) {
    const auto got = ::recv(c.fd.get(), buffer, sizeof buffer, 0);
    if (got > 0) {
      c.lingered += static_cast<std::size_t>(got);
      if (c.lingered <= k_max_lingered) {
        continue;
      }
    } else if (got < 0 && errno == EINTR) {
      continue;
    } else if (got < 0 && errno == EAGAIN) {
      return;
    }
    close(c);
    return;
  }
}

// The earliest time something must happen to `c`.
Clock::time_point Worker::deadline_of(const Connection& c) const {
  if (c.awaiting) {
    // The handler times its own work out; only a stop sets a limit here.
    return m_shutdown_by ? *m_shutdown_by : Clock::time_point::max();
  }
  if (!c.delayed.empty()) {
    return c.due;
  }
  return c.in_request ? std::min(c.deadline, c.request_deadline) : c.deadline;
}

// Read what the socket has, up to what one request may need; true when the
// peer has finished sending.
bool Worker::read_input(Connection& c) {
  char buffer[65536];
  while (c.in.size() < c.reader.wanted()) {
    const auto got = ::recv(c.fd.get(), buffer, sizeof buffer, 0);
    if (got > 0) {
      c.in.append(buffer, static_cast<std::size_t>(got));
      continue;
    }
    if (got < 0 && errno == EINTR) {
      continue;
    }
    return got == 0 || errno != EAGAIN;
  }
  return false;  // the rest is read once this is used up (see update_interest)
}

void Worker::refuse(Connection& c, const Refusal& refusal) {
  c.out += response(refusal.status, error_body(refusal.error, refusal.message), true);
  c.close_after_write = true;
  c.in.clear();
  if (m_on_refusal) {
    try {
      m_on_refusal(refusal);
    } catch (const std::exception&) {
      // Reporting is the caller's business; one request can never stop the server.
    }
  }
}

void Worker::answer(Connection& c, const ServerResponse& answer, bool client_close, bool head, Clock::time_point now) {
  // While stopping, the connection closes after the last request already
  // received (see process), not after the first.
  const bool close = client_close || answer.close;
  const auto method = head ? Method::head : Method::other;
  auto bytes = answer.relayed ? relayed_response(answer, close, method)
                              : response(answer.status, answer.body, close, method, answer.allow, answer.content_type);
  if (answer.delay.count() > 0) {
    c.delayed = std::move(bytes);
    c.delayed_close = close;
    // While stopping, no delay outlasts the grace time.
    c.due = m_shutdown_by ? std::min(now + answer.delay, *m_shutdown_by) : now + answer.delay;
    return;
  }
  c.out += bytes;
  c.close_after_write = c.close_after_write || close;
}

// Read and answer one request if it is all there; false to stop reading.
bool Worker::next_request(Connection& c, Clock::time_point now) {
  const auto step = c.reader.next(c.in);
  if (c.reader.started() && !c.in_request) {
    c.in_request = true;  // its first byte: the request's clock starts
    c.request_deadline = now + m_limits.request_timeout;
  }
  if (step == RequestReader::Step::refuse) {
    refuse(c, c.reader.refusal());
    return false;
  }
  if (step == RequestReader::Step::need_more) {
    if (c.reader.wants_continue() && !c.continue_sent) {
      c.out += "HTTP/1.1 100 Continue\r\n\r\n";
      c.continue_sent = true;
    }
    return false;
  }
  const bool keep_alive = c.reader.framing().keep_alive;
  auto request = c.reader.take_request();
  const bool head = request.method == "HEAD";
  c.continue_sent = false;
  c.in_request = false;
  c.deadline = now + m_limits.idle_timeout;
  const auto slot = std::make_shared<detail::ReplySlot>(m_mailbox, c.fd.get(), c.serial);
  try {
    m_handler(std::move(request), Responder(slot));
  } catch (const std::exception& e) {
    slot->give(ServerResponse{{500, error_body("internal error", e.what())}, {}, true});  // unless it answered
  }
  slot->in_handler = false;
  if (slot->at_once) {
    answer(c, *slot->at_once, !keep_alive, head, now);
  } else {
    c.awaiting = true;
    c.awaiting_head = head;
    c.awaiting_close = !keep_alive;
  }
  return true;
}

// Answer every complete request in the input, in order; false when the
// connection was closed.
bool Worker::process(Connection& c, Clock::time_point now) {
  while (true) {
    while (!c.held() && !c.close_after_write && c.out.size() < k_max_pending_output && next_request(c, now)) {
    }
    // While stopping, what the kernel still holds was sent before the stop:
    // it is read and answered before the connection is called done.
    const bool room =
        !c.held() && !c.close_after_write && c.out.size() < k_max_pending_output && c.in.size() < c.reader.wanted();
    if (!m_shutdown_by || !room) {
      break;
    }
    const auto before = c.in.size();
    read_input(c);
    if (c.in.size() == before) {
      break;
    }
  }
  if (m_shutdown_by && !c.in_request && !c.held()) {
    c.close_after_write = true;  // nothing more will be read from it
  }
  return flush(c, now);
}

void Worker::on_ready(Connection& c, std::uint32_t flags, Clock::time_point now) {
  if ((flags & (EPOLLHUP | EPOLLERR)) != 0) {
    close(c);  // reset, or shut both ways: no answer can reach it
    return;
  }
  if (c.lingering) {
    drain(c);
    return;
  }
  if ((flags & EPOLLOUT) != 0) {
    if (!flush(c, now)) {
      return;
    }
    if (c.out.size() < k_max_pending_output && !process(c, now)) {
      return;  // input held back by unread answers
    }
  }
  if ((flags & (EPOLLIN | EPOLLRDHUP)) == 0) {
    return;
  }
  const bool ended = read_input(c);
  if (!process(c, now)) {
    return;
  }
  if (ended && !c.held()) {
    if (c.out.empty()) {
      close(c);  // the peer is gone; a half-read request is dropped
    } else {
      c.close_after_write = true;
    }
  }
}

void Worker::expire(Clock::time_point now) {
  std::vector<int> due;
  for (auto& [fd, c] : m_connections) {
    if (deadline_of(*c) <= now) {
      due.push_back(fd);
    }
  }
  for (const int fd : due) {
    auto& c = *m_connections.at(fd);
    if (c.lingering || c.awaiting) {
      close(c);  // lingered long enough, or an answer still owed at the end of the grace time
    } else if (!c.delayed.empty()) {
      c.out += c.delayed;
      c.close_after_write = c.close_after_write || c.delayed_close;
      c.delayed.clear();
      c.deadline = now + m_limits.idle_timeout;
      process(c, now);  // the input that waited behind it
    } else if (c.in_request && c.request_deadline <= now && c.out.empty()) {
      c.reader.abandon(
          408, "request timeout",
          "the request did not arrive whole within " + std::to_string(m_limits.request_timeout.count()) + " ms", c.in);
      refuse(c, c.reader.refusal());
      flush(c, now);
    } else {
      close(c);  // idle, or not reading what it was sent
    }
  }
}

void Worker::begin_shutdown(Clock::time_point now) {
  m_shutdown_by = now + m_limits.shutdown_grace;
  // Connections still in the backlog were made before the stop: serve them too.
  accept_all(now);
  watch_listener(false);
  m_resume_accept.reset();
  ::epoll_ctl(m_epoll.get(), EPOLL_CTL_DEL, m_stop_fd, nullptr);  // it stays readable: stop waking on it
  std::vector<int> fds;
  for (const auto& [fd, c] : m_connections) {
    fds.push_back(fd);
  }
  for (const int fd : fds) {
    auto& c = *m_connections.at(fd);
    if (c.lingering) {
      continue;
    }
    if (!c.delayed.empty()) {
      c.due = std::min(c.due, *m_shutdown_by);  // no delay outlasts the grace time
    }
    // What arrived before the stop is answered; idle connections close.
    read_input(c);
    process(c, now);
  }
}

// The grace time is over: requests still arriving and answers still unread
// are given up; delayed answers are still given at their time.
void Worker::drop_unfinished() {
  std::vector<int> fds;
  for (const auto& [fd, c] : m_connections) {
    if (c->delayed.empty()) {
      fds.push_back(fd);
    }
  }
  for (const int fd : fds) {
    close(*m_connections.at(fd));
  }
}

// Give the answers handlers gave on other threads, each to its connection
// if it is still there.
void Worker::deliver_answers(Clock::time_point now) {
  std::uint64_t count = 0;
  [[maybe_unused]] const auto n = ::read(m_mailbox->wake.get(), &count, sizeof count);
  std::vector<detail::Mailbox::Item> items;
  {
    std::lock_guard lock(m_mailbox->mutex);
    items.swap(m_mailbox->items);
  }
  for (auto& item : items) {
    const auto it = m_connections.find(item.fd);
    if (it == m_connections.end() || it->second->serial != item.serial || !it->second->awaiting) {
      continue;  // the client has gone
    }
    auto& c = *it->second;
    c.awaiting = false;
    c.deadline = now + m_limits.idle_timeout;
    answer(c, item.response, c.awaiting_close, c.awaiting_head, now);
    process(c, now);  // sends it, then reads the requests that waited behind it
  }
}

std::chrono::milliseconds Worker::wait_time(Clock::time_point now) const {
  auto next = now + std::chrono::milliseconds(250);
  for (const auto& [fd, c] : m_connections) {
    next = std::min(next, deadline_of(*c));
  }
  if (m_resume_accept) {
    next = std::min(next, *m_resume_accept);
  }
  return std::max(std::chrono::milliseconds(0), std::chrono::ceil<std::chrono::milliseconds>(next - now));
}

void Worker::run() {
  m_epoll.reset(::epoll_create1(EPOLL_CLOEXEC));
  watch_listener(true);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = m_stop_fd;
  ::epoll_ctl(m_epoll.get(), EPOLL_CTL_ADD, m_stop_fd, &ev);
  ev.data.fd = m_mailbox->wake.get();
  ::epoll_ctl(m_epoll.get(), EPOLL_CTL_ADD, ev.data.fd, &ev);

  std::vector<epoll_event> events(256);
  while (true) {
    const int n = ::epoll_wait(m_epoll.get(), events.data(), static_cast<int>(events.size()),
                               static_cast<int>(wait_time(Clock::now()).count()));
    if (n < 0 && errno != EINTR) {
      break;
    }
    const auto now = Clock::now();
    for (int i = 0; i < n; ++i) {
      const int fd = events[static_cast<std::size_t>(i)].data.fd;
      if (fd == m_listen_fd) {
        accept_all(now);
      } else if (fd == m_mailbox->wake.get()) {
        deliver_answers(now);
      } else if (const auto it = m_connections.find(fd); it != m_connections.end()) {
        on_ready(*it->second, events[static_cast<std::size_t>(i)].events, now);
      }
      // m_stop_fd: m_stopping is checked below
    }
    if (!m_mailbox->wake.valid()) {
      deliver_answers(now);  // no eventfd (out of descriptors): look at least every 250 ms
    }
    if (m_resume_accept && *m_resume_accept <= now) {
      m_resume_accept.reset();
    }
    if (!m_listening && !m_resume_accept && !m_shutdown_by &&
        m_open.load(std::memory_order_relaxed) < m_limits.max_connections) {
      watch_listener(true);  // below the cap again (this worker's or another's connection closed)
    }
    expire(now);
    if (m_stopping.load() && !m_shutdown_by) {
      begin_shutdown(now);
    }
    if (m_shutdown_by) {
      if (now < *m_shutdown_by) {
        accept_all(now);  // a backlog held at the cap: those were made before the stop too
        watch_listener(false);
      } else {
        drop_unfinished();
      }
      if (m_connections.empty()) {
        break;
      }
    }
  }
}

}  // namespace

// The stop eventfd exists from the start: stop() may come from another
// thread (a signal) at any time, bind() included, and must never race with
// its creation.
HttpServer::HttpServer(ServerLimits limits) : m_limits(limits), m_stop_fd(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}

HttpServer::~HttpServer() = default;

Result<int> HttpServer::bind(const std::string& host, int port) {
  m_bind_failure = BindFailure::none;
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
  util::Fd fd(::socket(found->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid()) {
    return make_error(ErrorCode::io, std::string("cannot create a socket: ") + std::strerror(errno));
  }
  int yes = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);  // not SO_REUSEPORT: a second listener must fail
  if (::bind(fd.get(), found->ai_addr, found->ai_addrlen) != 0 || ::listen(fd.get(), 1024) != 0) {
    const int err = errno;
    m_bind_failure = err == EADDRINUSE      ? BindFailure::in_use
                     : err == EADDRNOTAVAIL ? BindFailure::not_local
                     : err == EACCES        ? BindFailure::denied
                                            : BindFailure::other;
    return make_error(ErrorCode::io, "cannot listen on " + host + ":" + service + ": " + std::strerror(err));
  }
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len);
  m_listen_fd = std::move(fd);
  return ntohs(addr.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port
                                          : reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
}

void HttpServer::stop() {
  m_stopping = true;
  if (m_stop_fd.valid()) {
    const std::uint64_t one = 1;
    [[maybe_unused]] const auto n = ::write(m_stop_fd.get(), &one, sizeof one);
  }
}

void HttpServer::run(const RequestHandler& handler, const RefusalHandler& on_refusal,
                     const std::function<void()>& on_ready) {
  run_deferred([&handler](wire::Request&& request, const Responder& reply) { reply(handler(std::move(request))); },
               on_refusal, on_ready);
}

void HttpServer::run_deferred(const DeferredHandler& handler, const RefusalHandler& on_refusal,
                              const std::function<void()>& on_ready) {
  const auto serve = [&] {
    Worker(m_limits, m_listen_fd.get(), m_stop_fd.get(), m_stopping, m_open, handler, on_refusal).run();
  };
  const unsigned extra = std::max(1u, m_limits.threads) - 1;
  std::latch started(extra);
  std::vector<std::thread> threads;
  for (unsigned i = 0; i < extra; ++i) {
    threads.emplace_back([&] {
      started.count_down();
      serve();
    });
  }
  started.wait();
  if (on_ready) {
    on_ready();
  }
  serve();
  for (auto& t : threads) {
    t.join();
  }
}

}  // namespace epilot::http
