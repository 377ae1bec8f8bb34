#include "lib/http/load_client.hpp"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <thread>

#include "lib/http/retry.hpp"
#include "lib/http/transport.hpp"
#include "lib/util/fd.hpp"

namespace epilot::http {

std::string_view to_code(Delivery delivery) {
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

using Clock = std::chrono::steady_clock;

// Everything the threads share.
struct Shared {
  Shared(const LoadPlan& p, const BuildRequest& b, const OnDelivered& d, LoadProgress* pr, const std::atomic<bool>* s,
         std::vector<Address> a)
      : plan(p), build(b), on_delivered(d), progress(pr), stop(s), addresses(std::move(a)) {}

  const LoadPlan& plan;
  const BuildRequest& build;
  const OnDelivered& on_delivered;
  LoadProgress* progress;
  const std::atomic<bool>* stop;
  std::vector<Address> addresses;
  const TlsClient* tls = nullptr;                 // https only
  std::atomic<std::size_t> preferred_address{0};  // the first address that accepted a connection
  std::atomic<std::uint64_t> next_job{0};
  std::atomic<std::uint64_t> connections_opened{0};
  std::atomic<std::uint64_t> delivered{0};
  Clock::time_point start;
  Clock::time_point deadline = Clock::time_point::max();
};

enum class Phase { idle, waiting, connecting, handshaking, writing, reading, backoff, done };

// Not a byte of the job sent yet: a stop drops it.
bool before_sending(Phase phase) {
  return phase == Phase::waiting || phase == Phase::backoff || phase == Phase::connecting ||
         phase == Phase::handshaking;
}

// Waiting for its time to start an attempt.
bool due_to_start(Phase phase) { return phase == Phase::waiting || phase == Phase::backoff; }

// Within an attempt, and so under its timeout.
bool in_attempt(Phase phase) {
  return phase == Phase::connecting || phase == Phase::handshaking || phase == Phase::writing ||
         phase == Phase::reading;
}

Delivered::Failure failure_of(StreamFault fault) {
  switch (fault) {
    case StreamFault::untrusted:
      return Delivered::Failure::untrusted;
    case StreamFault::not_tls:
      return Delivered::Failure::not_tls;
    default:
      return Delivered::Failure::other;
  }
}

struct Connection {
  std::unique_ptr<Stream> stream;  // made once; each connection the job needs reopens it
  Phase phase = Phase::idle;
  bool reused = false;      // has completed an answer: a close before the next one is a stale keep-alive
  bool want_write = false;  // EPOLLOUT registered: only while connecting or while the send buffer is full
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

// One thread's connections, driven by its epoll loop. A job goes idle ->
// waiting (its rate slot) -> connecting -> handshaking -> writing -> reading
// -> delivered (idle again), with backoff between attempts.
class Worker {
 public:
  Worker(Shared& shared, unsigned index, unsigned connections);

  void run();

 private:
  // Scheduling.
  void take_jobs(Clock::time_point now);
  bool take_job(Connection& c, Clock::time_point now);
  std::optional<Clock::time_point> advance_all(Clock::time_point now);
  void advance(Connection& c, bool stopping, Clock::time_point now);
  void begin_attempt(Connection& c, Clock::time_point now);
  // Connecting.
  void open(Connection& c, Clock::time_point now);
  void connect_finished(Connection& c, Clock::time_point now);
  void connected(Connection& c, Clock::time_point now);
  void handshake(Connection& c, Clock::time_point now);
  // Sending and receiving.
  void drive(Connection& c, std::uint32_t events, Clock::time_point now);
  void write_some(Connection& c, Clock::time_point now);
  bool early_answer(Connection& c, Clock::time_point now);
  void read_some(Connection& c, Clock::time_point now);
  bool take_bytes(Connection& c, std::size_t size, bool more_buffered, Clock::time_point now);
  void connection_ended(Connection& c, std::string_view reason, Clock::time_point now);
  // The socket.
  void watch(Connection& c, int operation, bool writable);
  void want_write(Connection& c, bool on);
  void close_socket(Connection& c);
  // Endings.
  void connection_failed(Connection& c, Delivery kind, std::string error, Clock::time_point now,
                         StreamFault fault = StreamFault::transient);
  void timed_out(Connection& c, Clock::time_point now);
  void deliver(Connection& c, Delivery kind, std::string error, Clock::time_point now,
               Delivered::Failure failure = Delivered::Failure::other);

  Shared& m_shared;
  unsigned m_index;
  RetryPolicy m_retry;
  std::vector<Connection> m_connections;
  util::Fd m_epoll;
  char m_buffer[64 * 1024];
};

Worker::Worker(Shared& shared, unsigned index, unsigned connections)
    : m_shared(shared),
      m_index(index),
      m_retry{shared.plan.retries, shared.plan.backoff, shared.plan.max_backoff},
      m_connections(connections) {
  for (auto& c : m_connections) {
    c.stream = make_stream(shared.tls, shared.plan.host, shared.plan.port);
  }
}

// Build (sign) every request that can start before sending any: the requests
// then reach the server back to back, and it handles them in one wake-up
// instead of one each, which at signing-bound rates saves more of the shared
// CPU than anything else here.
void Worker::take_jobs(Clock::time_point now) {
  for (auto& c : m_connections) {
    if (c.phase == Phase::idle && !take_job(c, now)) {
      close_socket(c);
      c.phase = Phase::done;
    }
  }
}

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
  // built in this one (see take_jobs()).
  c.phase = Phase::waiting;
  c.wake = due;
  c.sent = now;  // until it is sent, so that a job stopped before that has no stale latency
  return true;
}

// Start or resume whatever is due, expire what is late. Returns when the
// loop must wake next, or nothing once every connection is done.
std::optional<Clock::time_point> Worker::advance_all(Clock::time_point now) {
  const bool stopping = m_shared.stop != nullptr && m_shared.stop->load(std::memory_order_relaxed);
  std::size_t active = 0;
  auto next_wake = Clock::time_point::max();
  for (auto& c : m_connections) {
    advance(c, stopping, now);
    if (c.phase != Phase::done) {
      active += 1;
      next_wake = std::min(next_wake, c.phase == Phase::idle ? now : c.wake);
    }
  }
  if (active == 0) {
    return std::nullopt;
  }
  return next_wake;
}

void Worker::advance(Connection& c, bool stopping, Clock::time_point now) {
  if (stopping && before_sending(c.phase)) {
    // Stopped before a byte of it was sent: the job is dropped, not reported.
    // Requests on the wire go on to their answer or their timeout: the
    // endpoint is acting on them, and their answers are what the user wants
    // to see.
    close_socket(c);
    c.phase = Phase::done;
    return;
  }
  if (due_to_start(c.phase) && c.wake <= now) {
    begin_attempt(c, now);  // may end at once (refused): then idle, and the next pass takes a job
  } else if (in_attempt(c.phase) && c.wake <= now) {
    close_socket(c);
    timed_out(c, now);
  }
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
  if (!c.stream->is_open()) {
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
    const int fd = ::socket(address.storage.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      deliver(c, Delivery::unreachable, std::string("can't create a socket: ") + std::strerror(errno), now);
      return;
    }
    c.stream->adopt(fd);
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c.reused = false;
    c.addresses_tried += 1;
    m_shared.connections_opened.fetch_add(1, std::memory_order_relaxed);
    const int rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&address.storage), address.size);
    if (rc == 0 || errno == EINPROGRESS) {
      watch(c, EPOLL_CTL_ADD, rc != 0);  // a connect in progress reports itself as writable
      c.phase = Phase::connecting;
      if (rc == 0) {
        connected(c, now);
      }
      return;
    }
    const int error = errno;
    c.stream->close();
    if (c.addresses_tried < m_shared.addresses.size()) {
      c.address += 1;  // another address of the same host may listen
      continue;
    }
    connection_failed(c, Delivery::unreachable, std::string("can't connect: ") + std::strerror(error), now);
    return;
  }
}

void Worker::connect_finished(Connection& c, Clock::time_point now) {
  int error = 0;
  socklen_t size = sizeof error;
  ::getsockopt(c.stream->fd(), SOL_SOCKET, SO_ERROR, &error, &size);
  if (error == 0) {
    m_shared.preferred_address.store(c.address % m_shared.addresses.size(), std::memory_order_relaxed);
    connected(c, now);
    return;
  }
  close_socket(c);
  if (c.addresses_tried < m_shared.addresses.size()) {
    c.address += 1;  // the host's next address, within the same attempt
    open(c, now);
    return;
  }
  connection_failed(c, Delivery::unreachable, std::string("can't connect: ") + std::strerror(error), now);
}

void Worker::connected(Connection& c, Clock::time_point now) {
  c.phase = Phase::handshaking;
  handshake(c, now);
}

void Worker::handshake(Connection& c, Clock::time_point now) {
  const auto result = c.stream->handshake();
  switch (result.status) {
    case IoStatus::done:
      c.phase = Phase::writing;
      write_some(c, now);
      return;
    case IoStatus::want_read:
    case IoStatus::want_write:
      want_write(c, result.status == IoStatus::want_write);
      return;
    case IoStatus::closed:
    case IoStatus::failed:
      connection_failed(c, Delivery::unreachable, std::string(c.stream->error()), now, c.stream->fault());
      return;
  }
}

void Worker::drive(Connection& c, std::uint32_t events, Clock::time_point now) {
  constexpr std::uint32_t writable = EPOLLOUT | EPOLLERR | EPOLLHUP;
  switch (c.phase) {
    case Phase::connecting:
      if ((events & writable) != 0) {
        connect_finished(c, now);
      }
      return;
    case Phase::handshaking:
      handshake(c, now);
      return;
    case Phase::writing:
      // A server may answer before it has read the whole body (413, and
      // then stop reading): that answer ends the request.
      if ((events & (EPOLLIN | EPOLLRDHUP)) != 0 && early_answer(c, now)) {
        return;
      }
      // A stream may need to read before it can write (a TLS key update).
      if ((events & writable) != 0 || (!c.want_write && (events & EPOLLIN) != 0)) {
        write_some(c, now);
      }
      return;
    case Phase::reading:
      if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLERR | EPOLLHUP)) != 0) {
        read_some(c, now);
      }
      return;
    case Phase::idle:
      if (c.stream->is_open() && (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) {
        close_socket(c);  // the server closed an idle connection: open a new one when needed
      }
      return;
    default:
      return;
  }
}

void Worker::write_some(Connection& c, Clock::time_point now) {
  const auto result = c.stream->write(c.request.head, c.request.body, c.written);
  switch (result.status) {
    case IoStatus::done:
      want_write(c, false);
      // Everything is out. The answer comes with an EPOLLIN edge: the socket
      // was registered at connect, so an answer that arrives before
      // epoll_wait is still reported, and reading now would mostly cost a
      // syscall for nothing.
      c.phase = Phase::reading;
      return;
    case IoStatus::want_read:
    case IoStatus::want_write:
      want_write(c, result.status == IoStatus::want_write);  // EPOLLOUT brings us back
      return;
    case IoStatus::closed:
    case IoStatus::failed:
      if (early_answer(c, now)) {
        return;
      }
      connection_failed(c, Delivery::broken, std::string(c.stream->error()), now);
      return;
  }
}

// A server may answer before it has read the whole request (413 for a body
// too large) and close the connection: sending then fails, but the answer
// may be waiting in the socket. True when it was there, whole, and delivered.
bool Worker::early_answer(Connection& c, Clock::time_point now) {
  for (;;) {
    const auto size = c.stream->read_early(m_buffer, sizeof m_buffer);
    if (size == 0) {
      return false;
    }
    if (take_bytes(c, size, false, now)) {
      close_socket(c);  // it failed for sending: never reuse it
      return true;
    }
  }
}

// Reads until the answer is complete or the socket runs dry.
void Worker::read_some(Connection& c, Clock::time_point now) {
  for (;;) {
    const auto result = c.stream->read(m_buffer, sizeof m_buffer);
    switch (result.status) {
      case IoStatus::done:
        if (take_bytes(c, result.bytes, result.more, now)) {
          return;
        }
        continue;
      case IoStatus::want_read:
      case IoStatus::want_write:
        want_write(c, result.status == IoStatus::want_write);
        return;
      case IoStatus::closed:
        connection_ended(c, c.stream->error(), now);
        return;
      case IoStatus::failed:
        connection_failed(c, Delivery::broken, std::string(c.stream->error()), now);
        return;
    }
  }
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
      timed_out(c, later);
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
void Worker::connection_ended(Connection& c, std::string_view reason, Clock::time_point now) {
  if (c.parser.finish() == ResponseParser::State::complete) {
    close_socket(c);
    deliver(c, Delivery::answered, {}, now);
  } else {
    connection_failed(c, Delivery::broken, c.parser.error().empty() ? std::string(reason) : c.parser.error(), now);
  }
}

void Worker::watch(Connection& c, int operation, bool writable) {
  c.want_write = writable;
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLRDHUP | EPOLLET | (writable ? EPOLLOUT : 0u);
  ev.data.ptr = &c;
  ::epoll_ctl(m_epoll.get(), operation, c.stream->fd(), &ev);
}

// Edge-triggered EPOLLOUT would fire whenever ACKs free send-buffer space,
// that is after nearly every request: a wake-up and a syscall for nothing.
// So write interest is registered only while it is needed.
void Worker::want_write(Connection& c, bool on) {
  if (c.want_write != on) {
    watch(c, EPOLL_CTL_MOD, on);
  }
}

void Worker::close_socket(Connection& c) {
  if (c.stream->is_open()) {
    ::epoll_ctl(m_epoll.get(), EPOLL_CTL_DEL, c.stream->fd(), nullptr);
    c.stream->close();
  }
  c.reused = false;
  c.want_write = false;
}

void Worker::connection_failed(Connection& c, Delivery kind, std::string error, Clock::time_point now,
                               StreamFault fault) {
  FailedAttempt attempt;
  attempt.connected = kind == Delivery::broken;
  attempt.final = fault != StreamFault::transient;
  attempt.reused_connection = c.reused;
  attempt.answer_started = c.parser.started();
  attempt.request_cut = c.written != 0 && c.written < c.request.head.size() + c.request.body.size();
  attempt.stale_resend_used = c.stale_retry_used;
  attempt.attempts = c.attempts;
  close_socket(c);
  const auto decision = decide_retry(attempt, m_retry);
  switch (decision.action) {
    case RetryAction::resend_now:
      c.stale_retry_used = true;
      c.stale_error = std::move(error);
      c.attempts -= 1;
      begin_attempt(c, now);
      return;
    case RetryAction::retry_later:
      c.phase = Phase::backoff;
      c.wake = now + decision.wait;
      return;
    case RetryAction::give_up_broken:
      deliver(c, Delivery::broken, c.stale_error + ", and then no new connection: " + error, now);
      return;
    case RetryAction::give_up:
      deliver(c, kind, std::move(error), now, failure_of(fault));
      return;
  }
}

void Worker::timed_out(Connection& c, Clock::time_point now) {
  deliver(c, Delivery::timeout, "no complete answer within " + std::to_string(m_shared.plan.timeout.count()) + " ms",
          now);
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

// How long epoll_wait may sleep before `next_wake`.
int wait_ms(Clock::time_point next_wake, Clock::time_point now) {
  if (next_wake == Clock::time_point::max()) {
    return 100;  // a stop request is noticed within this
  }
  const auto wait = std::chrono::duration_cast<std::chrono::microseconds>(next_wake - now).count();
  return wait <= 0 ? 0 : static_cast<int>(std::min<long long>((wait + 999) / 1000, 1000));
}

void Worker::run() {
  m_epoll.reset(::epoll_create1(EPOLL_CLOEXEC));
  epoll_event events[256];
  for (;;) {
    auto now = Clock::now();
    take_jobs(now);
    const auto next_wake = advance_all(now);
    if (!next_wake) {
      break;
    }
    const int n = ::epoll_wait(m_epoll.get(), events, 256, wait_ms(*next_wake, now));
    now = Clock::now();
    for (int i = 0; i < n; ++i) {
      drive(*static_cast<Connection*>(events[i].data.ptr), events[i].events, now);
    }
  }
  m_epoll.reset();
}

}  // namespace

Result<LoadStats> run_load(const LoadPlan& plan, const BuildRequest& build, const OnDelivered& on_delivered,
                           LoadProgress* progress, const std::atomic<bool>* stop) {
  auto addresses = resolve(plan.host, plan.port);
  if (!addresses.ok()) {
    return addresses.error();
  }
  Shared shared{plan, build, on_delivered, progress, stop, std::move(addresses).value()};
  std::unique_ptr<TlsClient> tls;
  if (plan.tls) {
    auto made = TlsClient::create(plan.ca_cert);
    if (!made.ok()) {
      return made.error();
    }
    tls = std::move(made).value();
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

}  // namespace epilot::http
