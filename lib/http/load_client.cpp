#include "lib/http/load_client.hpp"

#include <arpa/inet.h>
#include <csignal>
#include <pthread.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <memory>
#include <thread>

namespace epilot {

std::string_view describe(Delivery delivery) {
  switch (delivery) {
    case Delivery::answered:
      return "answered";
    case Delivery::timeout:
      return "timeout";
    case Delivery::unreachable:
      return "unreachable";
    case Delivery::broken:
      return "broken";
  }
  return "broken";
}

namespace {

// OpenSSL writes to the socket with write(2), which raises SIGPIPE when the
// server has closed the connection (a 413 on a large body, a crash): that
// would kill the process where a plain send() with MSG_NOSIGNAL gets EPIPE.
// This blocks SIGPIPE on the calling thread for the TLS calls and discards
// one they raise (a write's SIGPIPE is directed at the thread that wrote).
class SigpipeBlocked {
 public:
  SigpipeBlocked() {
    sigemptyset(&m_pipe);
    sigaddset(&m_pipe, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &m_pipe, &m_old);
    sigset_t pending;
    sigpending(&pending);
    m_was_pending = sigismember(&pending, SIGPIPE) == 1;
  }
  ~SigpipeBlocked() {
    sigset_t pending;
    sigpending(&pending);
    if (!m_was_pending && sigismember(&pending, SIGPIPE) == 1) {
      const timespec now{0, 0};
      sigtimedwait(&m_pipe, nullptr, &now);
    }
    pthread_sigmask(SIG_SETMASK, &m_old, nullptr);
  }
  SigpipeBlocked(const SigpipeBlocked&) = delete;
  SigpipeBlocked& operator=(const SigpipeBlocked&) = delete;

 private:
  sigset_t m_pipe{};
  sigset_t m_old{};
  bool m_was_pending = false;
};

using Clock = std::chrono::steady_clock;

struct Address {
  sockaddr_storage storage{};
  socklen_t size = 0;
};

Result<std::vector<Address>> resolve(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* list = nullptr;
  const auto service = std::to_string(port);
  const int rc = getaddrinfo(host.c_str(), service.c_str(), &hints, &list);
  if (rc != 0) {
    return make_error(ErrorCode::network, "can't resolve '" + host + "': " + gai_strerror(rc));
  }
  std::vector<Address> addresses;
  for (auto* ai = list; ai != nullptr; ai = ai->ai_next) {
    Address a;
    std::memcpy(&a.storage, ai->ai_addr, ai->ai_addrlen);
    a.size = static_cast<socklen_t>(ai->ai_addrlen);
    addresses.push_back(a);
  }
  freeaddrinfo(list);
  if (addresses.empty()) {
    return make_error(ErrorCode::network, "'" + host + "' has no address");
  }
  return addresses;
}

// Everything the threads share.
struct Shared {
  Shared(const LoadPlan& p, const BuildRequest& b, const OnDelivered& d, LoadProgress* pr,
         const std::atomic<bool>* s, std::vector<Address> a)
      : plan(p), build(b), on_delivered(d), progress(pr), stop(s), addresses(std::move(a)) {}

  const LoadPlan& plan;
  const BuildRequest& build;
  const OnDelivered& on_delivered;
  LoadProgress* progress;
  const std::atomic<bool>* stop;
  std::vector<Address> addresses;
  SSL_CTX* tls = nullptr;  // https only
  std::atomic<std::size_t> preferred_address{0};  // the first address that accepted a connection
  std::atomic<std::uint64_t> next_job{0};
  std::atomic<std::uint64_t> connections_opened{0};
  std::atomic<std::uint64_t> delivered{0};
  Clock::time_point start;
  Clock::time_point deadline = Clock::time_point::max();
};

enum class Phase { idle, waiting, connecting, handshaking, writing, reading, backoff, done };

struct Connection {
  int fd = -1;
  SSL* ssl = nullptr;  // https only
  Phase phase = Phase::idle;
  bool reused = false;           // has completed an answer: a close before the next one is a stale keep-alive
  bool want_write = false;       // EPOLLOUT registered: only while connecting or while the send buffer is full
  bool stale_retry_used = false;
  std::string stale_error;  // why the reused connection failed, when it was resent
  std::size_t address = 0;
  std::size_t addresses_tried = 0;
  std::uint64_t job = 0;
  unsigned attempts = 0;
  OutgoingRequest request;
  std::size_t written = 0;
  ResponseParser parser;
  Clock::time_point wake = Clock::time_point::max();  // deadline or wake-up time of the phase
  Clock::time_point sent;
};

class Worker {
 public:
  Worker(Shared& shared, unsigned index, unsigned connections)
      : m_shared(shared), m_index(index), m_connections(connections) {}

  void run();

 private:
  bool take_job(Connection& c, Clock::time_point now);
  void begin_attempt(Connection& c, Clock::time_point now);
  void open(Connection& c, Clock::time_point now);
  void connected(Connection& c, Clock::time_point now);
  void handshake(Connection& c, Clock::time_point now);
  bool write_tls(Connection& c, Clock::time_point now);
  void read_tls(Connection& c, Clock::time_point now);
  bool take_bytes(Connection& c, std::size_t size, bool more_buffered, Clock::time_point now);
  void connection_ended(Connection& c, const char* fallback, Clock::time_point now);
  void drive(Connection& c, std::uint32_t events, Clock::time_point now);
  void write_some(Connection& c, Clock::time_point now);
  bool early_answer(Connection& c, Clock::time_point now);
  void read_some(Connection& c, Clock::time_point now);
  void close_socket(Connection& c);
  void want_write(Connection& c, bool on);
  void connection_failed(Connection& c, Delivery kind, std::string error, Clock::time_point now);
  void deliver(Connection& c, Delivery kind, std::string error, Clock::time_point now,
               Delivered::Failure failure = Delivered::Failure::other);

  Shared& m_shared;
  unsigned m_index;
  std::vector<Connection> m_connections;
  int m_epoll = -1;
  char m_buffer[64 * 1024];
};

bool Worker::take_job(Connection& c, Clock::time_point now) {
  const auto& plan = m_shared.plan;
  if ((m_shared.stop != nullptr && m_shared.stop->load(std::memory_order_relaxed)) || now >= m_shared.deadline) {
    return false;
  }
  const auto job = m_shared.next_job.fetch_add(1, std::memory_order_relaxed);
  if (plan.total != 0 && job >= plan.total) {
    return false;
  }
  Clock::time_point due = now;
  if (plan.rate > 0) {
    due = m_shared.start + std::chrono::duration_cast<Clock::duration>(
                               std::chrono::duration<double>(static_cast<double>(job) / plan.rate));
    if (due >= m_shared.deadline) {
      return false;
    }
  }
  c.job = job;
  c.attempts = 0;
  c.stale_retry_used = false;
  c.stale_error.clear();
  c.request.head.clear();
  c.request.body = {};
  c.request.head_method = false;
  c.request.label.clear();
  m_shared.build(m_index, job, c.request);
  // Sent by the caller's next pass, together with every other request
  // built in this one (see run()).
  c.phase = Phase::waiting;
  c.wake = due;
  c.sent = now;  // until it is sent, so that a job stopped before that has no stale latency
  return true;
}

void Worker::begin_attempt(Connection& c, Clock::time_point now) {
  c.attempts += 1;
  if (c.attempts > 1 && m_shared.plan.rebuild_on_retry) {
    c.request.head.clear();
    c.request.body = {};
    c.request.label.clear();
    m_shared.build(m_index, c.job, c.request);
  }
  c.written = 0;
  c.parser = ResponseParser(c.request.head_method);
  c.wake = now + m_shared.plan.timeout;
  c.sent = now;
  c.addresses_tried = 0;
  c.address = m_shared.preferred_address.load(std::memory_order_relaxed);
  if (c.fd < 0) {
    open(c, now);
  } else {
    c.phase = Phase::writing;
    write_some(c, now);
  }
}

// Connect to c.address, moving on to the host's other addresses while they
// refuse (localhost may resolve to ::1 first, with the server on 127.0.0.1).
void Worker::open(Connection& c, Clock::time_point now) {
  for (;;) {
    const auto& address = m_shared.addresses[c.address % m_shared.addresses.size()];
    c.fd = ::socket(address.storage.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c.fd < 0) {
      deliver(c, Delivery::unreachable, std::string("can't create a socket: ") + std::strerror(errno), now);
      return;
    }
    const int one = 1;
    ::setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c.reused = false;
    c.addresses_tried += 1;
    m_shared.connections_opened.fetch_add(1, std::memory_order_relaxed);
    const int rc = ::connect(c.fd, reinterpret_cast<const sockaddr*>(&address.storage), address.size);
    if (rc == 0 || errno == EINPROGRESS) {
      epoll_event ev{};
      c.want_write = rc != 0;  // a connect in progress reports itself as writable
      ev.events = EPOLLIN | EPOLLRDHUP | EPOLLET | (c.want_write ? EPOLLOUT : 0u);
      ev.data.ptr = &c;
      ::epoll_ctl(m_epoll, EPOLL_CTL_ADD, c.fd, &ev);
      c.phase = Phase::connecting;
      if (rc == 0) {
        connected(c, now);
      }
      return;
    }
    const int error = errno;
    ::close(c.fd);
    c.fd = -1;
    if (c.addresses_tried < m_shared.addresses.size()) {
      c.address += 1;  // another address of the same host may listen
      continue;
    }
    connection_failed(c, Delivery::unreachable, std::string("can't connect: ") + std::strerror(error), now);
    return;
  }
}

// Edge-triggered EPOLLOUT would fire whenever ACKs free send-buffer space,
// that is after nearly every request: a wake-up and a syscall for nothing.
// So write interest is registered only while it is needed.
void Worker::want_write(Connection& c, bool on) {
  if (c.want_write == on) {
    return;
  }
  c.want_write = on;
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLRDHUP | EPOLLET | (on ? EPOLLOUT : 0u);
  ev.data.ptr = &c;
  ::epoll_ctl(m_epoll, EPOLL_CTL_MOD, c.fd, &ev);
}

void Worker::close_socket(Connection& c) {
  if (c.ssl != nullptr) {
    SSL_free(c.ssl);
    c.ssl = nullptr;
  }
  if (c.fd >= 0) {
    ::epoll_ctl(m_epoll, EPOLL_CTL_DEL, c.fd, nullptr);
    ::close(c.fd);
    c.fd = -1;
  }
  c.reused = false;
  c.want_write = false;
}

void Worker::connection_failed(Connection& c, Delivery kind, std::string error, Clock::time_point now) {
  const bool answered_before = c.reused;
  const bool got_bytes = c.parser.started();
  // Refused before a byte went out, or closed after the last one: what an
  // idle connection the server dropped looks like. A body cut off halfway
  // is the server refusing this request (it may have answered, or crashed).
  const bool none_or_all_sent = c.written == 0 || c.written >= c.request.head.size() + c.request.body.size();
  close_socket(c);
  if (kind == Delivery::broken && answered_before && !got_bytes && none_or_all_sent && !c.stale_retry_used) {
    // The server closed an idle keep-alive connection as we reused it (or
    // closes after every answer without saying so): the request never
    // reached it. Resend at once on a new connection; this is not one of
    // the user's retries.
    c.stale_retry_used = true;
    c.stale_error = error;
    c.attempts -= 1;
    begin_attempt(c, now);
    return;
  }
  const bool retriable = kind == Delivery::unreachable || (kind == Delivery::broken && !got_bytes);
  if (retriable && c.attempts <= m_shared.plan.retries) {
    c.phase = Phase::backoff;
    auto wait = m_shared.plan.backoff * (1u << std::min(c.attempts - 1, 16u));
    if (m_shared.plan.max_backoff.count() > 0) {
      wait = std::min(wait, m_shared.plan.max_backoff);
    }
    c.wake = now + wait;
    return;
  }
  if (kind == Delivery::unreachable && c.stale_retry_used) {
    // The connection broke under this request and the server then took no
    // new one: it went away on this request, which is what to report.
    deliver(c, Delivery::broken, c.stale_error + ", and then no new connection: " + error, now);
    return;
  }
  deliver(c, kind, std::move(error), now);
}

void Worker::deliver(Connection& c, Delivery kind, std::string error, Clock::time_point now,
                     Delivered::Failure failure) {
  Delivered d;
  d.job = c.job;
  d.delivery = kind;
  d.untrusted = failure == Delivered::Failure::untrusted;
  d.not_tls = failure == Delivered::Failure::not_tls;
  d.error = std::move(error);
  d.latency = now - c.sent;
  d.attempts = c.attempts;
  d.label = std::move(c.request.label);
  if (kind == Delivery::answered) {
    d.answer = std::move(c.parser.answer());
  }
  m_shared.on_delivered(m_index, d);
  m_shared.delivered.fetch_add(1, std::memory_order_relaxed);
  if (m_shared.progress != nullptr) {
    m_shared.progress->delivered.fetch_add(1, std::memory_order_relaxed);
  }
  c.phase = Phase::idle;
  c.wake = Clock::time_point::max();
  c.request.storage.clear();
}

void Worker::connected(Connection& c, Clock::time_point now) {
  if (m_shared.tls == nullptr) {
    c.phase = Phase::writing;
    write_some(c, now);
    return;
  }
  c.ssl = SSL_new(m_shared.tls);
  if (c.ssl == nullptr || SSL_set_fd(c.ssl, c.fd) != 1) {
    close_socket(c);
    deliver(c, Delivery::unreachable, "can't set up TLS", now);
    return;
  }
  // The certificate must name the host: an IP address as an IP SAN, a name
  // as a DNS SAN (and the name goes out as SNI).
  const auto& host = m_shared.plan.host;
  in6_addr ip{};
  const bool is_ip = ::inet_pton(AF_INET, host.c_str(), &ip) == 1 || ::inet_pton(AF_INET6, host.c_str(), &ip) == 1;
  auto* param = SSL_get0_param(c.ssl);
  if (is_ip) {
    X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str());
  } else {
    X509_VERIFY_PARAM_set1_host(param, host.c_str(), 0);
    // SSL_set_tlsext_host_name, without the macro's C cast.
    SSL_ctrl(c.ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, const_cast<char*>(host.c_str()));
  }
  c.phase = Phase::handshaking;
  handshake(c, now);
}

void Worker::handshake(Connection& c, Clock::time_point now) {
  ERR_clear_error();
  const int rc = [&] {
    const SigpipeBlocked no_sigpipe;
    return SSL_connect(c.ssl);
  }();
  if (rc == 1) {
    c.phase = Phase::writing;
    write_some(c, now);
    return;
  }
  const int error = SSL_get_error(c.ssl, rc);
  if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) {
    want_write(c, error == SSL_ERROR_WANT_WRITE);
    return;
  }
  const long verify = SSL_get_verify_result(c.ssl);
  std::string why;
  // The first bytes back were not a TLS record: most often a plain-HTTP
  // server answering the handshake with "HTTP/1.1 400" (OpenSSL reads the
  // "TP" of "HTTP" as a record version).
  bool not_tls = false;
  if (verify != X509_V_OK) {
    why = std::string("the certificate is not trusted: ") + X509_verify_cert_error_string(verify);
  } else if (const auto code = ERR_peek_last_error(); code != 0) {
    not_tls = ERR_GET_LIB(code) == ERR_LIB_SSL && ERR_GET_REASON(code) == SSL_R_WRONG_VERSION_NUMBER;
    why = not_tls ? "the server does not speak TLS on port " + std::to_string(m_shared.plan.port) +
                        " (it answered like a plain-HTTP server)"
          : ERR_reason_error_string(code) != nullptr ? ERR_reason_error_string(code)
                                                     : "TLS error";
  } else {
    why = "the connection closed during the handshake";
  }
  ERR_clear_error();
  if (verify != X509_V_OK || not_tls) {
    // Trying again will not change the certificate, nor the protocol spoken.
    close_socket(c);
    Delivered::Failure failure = not_tls ? Delivered::Failure::not_tls : Delivered::Failure::untrusted;
    deliver(c, Delivery::unreachable, "TLS handshake with " + m_shared.plan.host + " failed: " + why, now, failure);
    return;
  }
  connection_failed(c, Delivery::unreachable, "TLS handshake with " + m_shared.plan.host + " failed: " + why, now);
}

// Returns true once everything is written.
bool Worker::write_tls(Connection& c, Clock::time_point now) {
  const auto& head = c.request.head;
  const auto body = c.request.body;
  const auto total = head.size() + body.size();
  while (c.written < total) {
    const char* data = c.written < head.size() ? head.data() + c.written : body.data() + (c.written - head.size());
    const auto size = c.written < head.size() ? head.size() - c.written : body.size() - (c.written - head.size());
    ERR_clear_error();
    const int n = [&] {
      const SigpipeBlocked no_sigpipe;
      return SSL_write(c.ssl, data, static_cast<int>(std::min<std::size_t>(size, 1 << 30)));
    }();
    if (n > 0) {
      c.written += static_cast<std::size_t>(n);
      continue;
    }
    const int error = SSL_get_error(c.ssl, n);
    if (error == SSL_ERROR_WANT_WRITE || error == SSL_ERROR_WANT_READ) {
      want_write(c, error == SSL_ERROR_WANT_WRITE);
      return false;
    }
    ERR_clear_error();
    connection_failed(c, Delivery::broken, "sending over TLS failed", now);
    return false;
  }
  return true;
}

// `size` bytes of an answer are in m_buffer; `more_buffered` when more wait
// beyond them. Returns true when the answer ended (it was delivered).
bool Worker::take_bytes(Connection& c, std::size_t size, bool more_buffered, Clock::time_point now) {
  const auto state = c.parser.feed(std::string_view(m_buffer, size));
  if (state == ResponseParser::State::error) {
    close_socket(c);
    deliver(c, Delivery::broken, c.parser.error(), now);
    return true;
  }
  if (state != ResponseParser::State::complete) {
    // A server that never stops sending (1xx answers, an endless body)
    // never lets the socket run dry: the timeout is checked here too.
    if (const auto later = Clock::now(); later >= c.wake) {
      close_socket(c);
      deliver(c, Delivery::timeout,
              "no complete answer within " + std::to_string(m_shared.plan.timeout.count()) + " ms", later);
      return true;
    }
    return false;
  }
  if (!c.parser.answer().keep_alive || more_buffered || c.parser.consumed() < size) {
    close_socket(c);  // bytes nobody asked for: this connection can't be trusted for the next answer
  } else {
    c.reused = true;
  }
  deliver(c, Delivery::answered, {}, now);
  return true;
}

// The server closed the connection: that completes an answer whose body
// runs to the end, and breaks any other.
void Worker::connection_ended(Connection& c, const char* fallback, Clock::time_point now) {
  if (c.parser.finish() == ResponseParser::State::complete) {
    close_socket(c);
    deliver(c, Delivery::answered, {}, now);
  } else {
    connection_failed(c, Delivery::broken, c.parser.error().empty() ? fallback : c.parser.error(), now);
  }
}

// Reads until the answer is complete or OpenSSL wants more from the socket.
void Worker::read_tls(Connection& c, Clock::time_point now) {
  for (;;) {
    ERR_clear_error();
    const int n = [&] {
      const SigpipeBlocked no_sigpipe;  // a read may write (a key update's answer)
      return SSL_read(c.ssl, m_buffer, sizeof m_buffer);
    }();
    if (n > 0) {
      if (take_bytes(c, static_cast<std::size_t>(n), SSL_pending(c.ssl) > 0, now)) {
        return;
      }
      continue;
    }
    const int error = SSL_get_error(c.ssl, n);
    if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) {
      want_write(c, error == SSL_ERROR_WANT_WRITE);
      return;
    }
    ERR_clear_error();
    if (error == SSL_ERROR_ZERO_RETURN || error == SSL_ERROR_SYSCALL) {
      // The end of the connection (SSL_OP_IGNORE_UNEXPECTED_EOF makes a
      // close without close_notify an ordinary end, as most servers do it).
      connection_ended(c, "the TLS connection broke", now);
      return;
    }
    connection_failed(c, Delivery::broken, "the TLS connection broke", now);
    return;
  }
}

void Worker::write_some(Connection& c, Clock::time_point now) {
  if (c.ssl != nullptr) {
    if (write_tls(c, now)) {
      want_write(c, false);
      c.phase = Phase::reading;
    }
    return;
  }
  const auto& head = c.request.head;
  const auto body = c.request.body;
  const auto total = head.size() + body.size();
  while (c.written < total) {
    iovec parts[2];
    int count = 0;
    if (c.written < head.size()) {
      parts[count++] = iovec{const_cast<char*>(head.data()) + c.written, head.size() - c.written};
      if (!body.empty()) {
        parts[count++] = iovec{const_cast<char*>(body.data()), body.size()};
      }
    } else {
      const auto offset = c.written - head.size();
      parts[count++] = iovec{const_cast<char*>(body.data()) + offset, body.size() - offset};
    }
    msghdr message{};
    message.msg_iov = parts;
    message.msg_iovlen = static_cast<std::size_t>(count);
    const auto n = ::sendmsg(c.fd, &message, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        want_write(c, true);  // EPOLLOUT brings us back
        return;
      }
      if (errno == EINTR) {
        continue;
      }
      const int error = errno;
      if (early_answer(c, now)) {
        return;
      }
      connection_failed(c, Delivery::broken, std::string("sending failed: ") + std::strerror(error), now);
      return;
    }
    c.written += static_cast<std::size_t>(n);
  }
  want_write(c, false);
  // Everything is out. The answer comes with an EPOLLIN edge: the socket was
  // registered at connect, so an answer that arrives before epoll_wait is
  // still reported, and reading now would mostly cost a syscall for nothing.
  c.phase = Phase::reading;
}

// A server may answer before it has read the whole request (413 for a body
// too large) and close the connection: sending then fails, but the answer
// may be waiting in the socket. True when it was there, whole, and delivered.
bool Worker::early_answer(Connection& c, Clock::time_point now) {
  for (;;) {
    const auto n = ::recv(c.fd, m_buffer, sizeof m_buffer, MSG_DONTWAIT);
    if (n <= 0) {
      return false;
    }
    if (take_bytes(c, static_cast<std::size_t>(n), false, now)) {
      close_socket(c);  // it failed for sending: never reuse it
      return true;
    }
  }
}

void Worker::read_some(Connection& c, Clock::time_point now) {
  if (c.ssl != nullptr) {
    read_tls(c, now);
    return;
  }
  for (;;) {
    const auto n = ::recv(c.fd, m_buffer, sizeof m_buffer, 0);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        return;
      }
      if (errno == EINTR) {
        continue;
      }
      connection_failed(c, Delivery::broken, std::string("the connection broke: ") + std::strerror(errno), now);
      return;
    }
    if (n == 0) {
      connection_ended(c, "the connection closed", now);
      return;
    }
    if (take_bytes(c, static_cast<std::size_t>(n), false, now)) {
      return;
    }
  }
}

void Worker::drive(Connection& c, std::uint32_t events, Clock::time_point now) {
  switch (c.phase) {
    case Phase::connecting: {
      if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) == 0) {
        return;
      }
      int error = 0;
      socklen_t size = sizeof error;
      ::getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &error, &size);
      if (error != 0) {
        close_socket(c);
        if (c.addresses_tried < m_shared.addresses.size()) {
          c.address += 1;  // the host's next address, within the same attempt
          open(c, now);
          return;
        }
        connection_failed(c, Delivery::unreachable, std::string("can't connect: ") + std::strerror(error), now);
        return;
      }
      m_shared.preferred_address.store(c.address % m_shared.addresses.size(), std::memory_order_relaxed);
      connected(c, now);
      return;
    }
    case Phase::handshaking:
      handshake(c, now);
      return;
    case Phase::writing:
      // A server may answer before it has read the whole body (413, and
      // then stop reading): that answer ends the request.
      if (c.ssl == nullptr && (events & (EPOLLIN | EPOLLRDHUP)) != 0 && early_answer(c, now)) {
        return;
      }
      // TLS may need to read before it can write (a key update).
      if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) != 0 || (c.ssl != nullptr && (events & EPOLLIN) != 0)) {
        write_some(c, now);
      }
      return;
    case Phase::reading:
      if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLERR | EPOLLHUP)) != 0) {
        read_some(c, now);
      }
      return;
    case Phase::idle:
      if (c.fd >= 0 && (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) {
        close_socket(c);  // the server closed an idle connection: open a new one when needed
      }
      return;
    default:
      return;
  }
}

void Worker::run() {
  m_epoll = ::epoll_create1(EPOLL_CLOEXEC);
  epoll_event events[256];
  for (;;) {
    auto now = Clock::now();
    // Start or resume whatever is due.
    std::size_t active = 0;
    auto next_wake = Clock::time_point::max();
    // Build (sign) every request that can start before sending any: the
    // requests then reach the server back to back, and it handles them in
    // one wake-up instead of one each, which at signing-bound rates saves
    // more of the shared CPU than anything else here.
    for (auto& c : m_connections) {
      if (c.phase == Phase::idle && !take_job(c, now)) {
        close_socket(c);
        c.phase = Phase::done;
      }
    }
    const bool stopping = m_shared.stop != nullptr && m_shared.stop->load(std::memory_order_relaxed);
    for (auto& c : m_connections) {
      if (stopping && (c.phase == Phase::waiting || c.phase == Phase::backoff || c.phase == Phase::connecting ||
                       c.phase == Phase::handshaking)) {
        // Stopped before a byte of it was sent: the job is dropped, not reported.
        // Requests on the wire go on to their answer or their timeout: the
        // endpoint is acting on them, and their answers are what the user
        // wants to see.
        close_socket(c);
        c.phase = Phase::done;
        continue;
      }
      if ((c.phase == Phase::waiting || c.phase == Phase::backoff) && c.wake <= now) {
        begin_attempt(c, now);  // may end at once (refused): then idle, and the next pass takes a job
      } else if ((c.phase == Phase::connecting || c.phase == Phase::handshaking || c.phase == Phase::writing ||
                  c.phase == Phase::reading) &&
                 c.wake <= now) {
        close_socket(c);
        deliver(c, Delivery::timeout,
                "no complete answer within " + std::to_string(m_shared.plan.timeout.count()) + " ms", now);
      }
      if (c.phase != Phase::done) {
        active += 1;
        next_wake = std::min(next_wake, c.phase == Phase::idle ? now : c.wake);
      }
    }
    if (active == 0) {
      break;
    }
    int timeout_ms = -1;
    if (next_wake != Clock::time_point::max()) {
      const auto wait = std::chrono::duration_cast<std::chrono::microseconds>(next_wake - now).count();
      timeout_ms = wait <= 0 ? 0 : static_cast<int>(std::min<long long>((wait + 999) / 1000, 1000));
    } else {
      timeout_ms = 100;  // a stop request is noticed within this
    }
    const int n = ::epoll_wait(m_epoll, events, 256, timeout_ms);
    now = Clock::now();
    for (int i = 0; i < n; ++i) {
      drive(*static_cast<Connection*>(events[i].data.ptr), events[i].events, now);
    }
  }
  ::close(m_epoll);
}

}  // namespace

Result<LoadStats> run_load(const LoadPlan& plan, const BuildRequest& build, const OnDelivered& on_delivered,
                           LoadProgress* progress, const std::atomic<bool>* stop) {
  auto addresses = resolve(plan.host, plan.port);
  if (!addresses.ok()) {
    return addresses.error();
  }
  Shared shared{plan, build, on_delivered, progress, stop, std::move(addresses).value()};
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> tls(nullptr, SSL_CTX_free);
  if (plan.tls) {
    tls.reset(SSL_CTX_new(TLS_client_method()));
    if (!tls) {
      return make_error(ErrorCode::network, "can't set up TLS");
    }
    SSL_CTX_set_min_proto_version(tls.get(), TLS1_2_VERSION);
    SSL_CTX_set_verify(tls.get(), SSL_VERIFY_PEER, nullptr);
    SSL_CTX_set_options(tls.get(), SSL_OP_IGNORE_UNEXPECTED_EOF);
    SSL_CTX_set_mode(tls.get(), SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_default_verify_paths(tls.get());
    if (!plan.ca_cert.empty() && SSL_CTX_load_verify_locations(tls.get(), plan.ca_cert.c_str(), nullptr) != 1) {
      ERR_clear_error();
      return make_error(ErrorCode::io, Subject::ca_certificates, "can't read the CA certificate " + plan.ca_cert);
    }
    shared.tls = tls.get();
  }
  shared.start = Clock::now();
  if (plan.duration.count() > 0) {
    shared.deadline = shared.start + plan.duration;
  }
  const unsigned connections = std::max(1u, plan.connections);
  const unsigned threads = std::clamp(plan.threads, 1u, connections);
  std::vector<std::unique_ptr<Worker>> workers;
  for (unsigned t = 0; t < threads; ++t) {
    // Connections spread evenly: thread t gets every threads-th one.
    const unsigned mine = connections / threads + (t < connections % threads ? 1 : 0);
    workers.push_back(std::make_unique<Worker>(shared, t, mine));
  }
  std::vector<std::thread> running;
  for (unsigned t = 1; t < threads; ++t) {
    running.emplace_back([&workers, t] { workers[t]->run(); });
  }
  workers[0]->run();
  for (auto& thread : running) {
    thread.join();
  }
  LoadStats stats;
  stats.elapsed = Clock::now() - shared.start;
  stats.jobs = shared.delivered.load();
  stats.connections_opened = shared.connections_opened.load();
  return stats;
}

}  // namespace epilot
