#include "lib/http/forwarder.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>

#include "lib/http/response_reader.hpp"
#include "lib/util/bytes.hpp"
#include "lib/util/fd.hpp"
#include "lib/util/json.hpp"

namespace epilot::http {

namespace {

using Clock = std::chrono::steady_clock;

// Wait until `fd` is ready for `events` or `deadline` passes; false then.
bool wait_for(int fd, short events, Clock::time_point deadline) {
  while (true) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) {
      return false;
    }
    pollfd p{fd, events, 0};
    const int rc = ::poll(&p, 1, static_cast<int>(left));
    if (rc > 0) {
      return true;
    }
    if (rc < 0 && errno != EINTR) {
      return true;  // let the next call on the socket say what is wrong
    }
  }
}

short events_for(IoStatus status) { return status == IoStatus::want_write ? POLLOUT : POLLIN; }

Forwarded failed(ForwardOutcome outcome, std::string error) {
  Forwarded f;
  f.outcome = outcome;
  f.error = std::move(error);
  return f;
}

// Connect a stream to one of `addresses` (the next one while they refuse)
// and set up its protocol, by `deadline`.
Result<std::unique_ptr<Stream>> connect_stream(const std::vector<Address>& addresses, const TlsClient* tls,
                                               const ParsedUrl& target, Clock::time_point deadline) {
  std::string last_error = "no address";
  for (const auto& address : addresses) {
    util::Fd fd(::socket(address.storage.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd.valid()) {
      return make_error(ErrorCode::network, std::string("can't create a socket: ") + std::strerror(errno));
    }
    const int one = 1;
    ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address.storage), address.size) != 0) {
      if (errno != EINPROGRESS) {
        last_error = std::strerror(errno);
        continue;
      }
      if (!wait_for(fd.get(), POLLOUT, deadline)) {
        return make_error(ErrorCode::timeout, "no connection within the timeout");
      }
      int error = 0;
      socklen_t size = sizeof error;
      ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &error, &size);
      if (error != 0) {
        last_error = std::strerror(error);
        continue;
      }
    }
    auto stream = make_stream(tls, target.host, target.port);
    stream->adopt(fd.release());
    while (true) {
      const auto r = stream->handshake();
      if (r.status == IoStatus::done) {
        return stream;
      }
      if (r.status == IoStatus::closed || r.status == IoStatus::failed) {
        return make_error(ErrorCode::network, std::string(stream->error()));
      }
      if (!wait_for(stream->fd(), events_for(r.status), deadline)) {
        return make_error(ErrorCode::timeout, "no TLS handshake within the timeout");
      }
    }
  }
  return make_error(ErrorCode::network, "can't connect: " + last_error);
}

// Write all of `bytes` by `deadline`, counting them in `written`; the
// failure as a Forwarded otherwise.
std::optional<Forwarded> write_all(Stream& stream, std::string_view bytes, Clock::time_point deadline,
                                   std::size_t& written) {
  while (true) {
    const auto r = stream.write(bytes, {}, written);
    if (r.status == IoStatus::done) {
      return std::nullopt;
    }
    if (r.status == IoStatus::closed || r.status == IoStatus::failed) {
      return failed(ForwardOutcome::broken, "the connection broke while sending: " + std::string(stream.error()));
    }
    if (!wait_for(stream.fd(), events_for(r.status), deadline)) {
      return failed(ForwardOutcome::timeout, "the request was not taken within the timeout");
    }
  }
}

// Read one whole answer by `deadline`; `silent` says whether it failed
// before a byte of it came.
Forwarded read_answer(Stream& stream, bool head, std::size_t max_answer, Clock::time_point deadline, bool& silent) {
  ResponseParser parser(head, max_answer, true);
  std::vector<char> buffer(64 * 1024);
  silent = true;
  while (true) {
    const auto r = stream.read(buffer.data(), buffer.size());
    auto state = ResponseParser::State::need_more;
    if (r.status == IoStatus::done) {
      silent = silent && r.bytes == 0;
      state = parser.feed(std::string_view(buffer.data(), r.bytes));
      if (state == ResponseParser::State::complete && parser.consumed() < r.bytes) {
        stream.close();  // bytes nobody asked for: the connection is not reused
      }
    } else if (r.status == IoStatus::closed) {
      state = parser.finish();
      stream.close();
    } else if (r.status == IoStatus::failed) {
      return failed(ForwardOutcome::broken, "the connection broke: " + std::string(stream.error()));
    } else if (!wait_for(stream.fd(), events_for(r.status), deadline)) {
      return failed(ForwardOutcome::timeout, "no complete answer within the timeout");
    }
    if (state == ResponseParser::State::error) {
      // The parser's words name what was wrong ("the answer's body is
      // larger than ...", "the answer is not HTTP/1.x").
      return failed(ForwardOutcome::broken,
                    parser.error().empty() ? "the connection closed before an answer" : parser.error());
    }
    if (state == ResponseParser::State::complete) {
      Forwarded f;
      f.answer = std::move(parser.answer());
      return f;
    }
  }
}

}  // namespace

std::string_view to_code(ForwardOutcome outcome) {
  switch (outcome) {
    case ForwardOutcome::answered:
      return "answered";
    case ForwardOutcome::unreachable:
      return "unreachable";
    case ForwardOutcome::timeout:
      return "timeout";
    case ForwardOutcome::broken:
      return "broken";
  }
  return "broken";
}

std::string forwarded_target(std::string_view request_target, std::string_view base_target) {
  const auto own = wire::split_target(request_target);
  const auto base = wire::split_target(base_target);
  // "/app" + "/hook" -> "/app/hook"; a bare "/" base adds nothing.
  auto base_path = base.path;
  while (!base_path.empty() && base_path.back() == '/') {
    base_path.remove_suffix(1);
  }
  std::string out(base_path);
  out.append(own.path);
  // The base's query first (a key the app was given in the URL, say), then
  // the request's, joined with '&' when both have one.
  if (base.has_query || own.has_query) {
    out.append("?").append(base.query);
    if (!base.query.empty() && !own.query.empty()) {
      out.append("&");
    }
    out.append(own.query);
  }
  return out;
}

std::string forwarded_request(const wire::Request& request, std::string_view base_target) {
  std::string out;
  out.reserve(256 + request.body.size());
  out.append(request.method).append(" ").append(forwarded_target(request.target, base_target)).append(" HTTP/1.1\r\n");
  for (const auto& h : request.headers) {
    // Expect was the server's to answer (100-continue); the body is whole now.
    if (wire::is_hop_by_hop(h.name, request.headers) || util::iequals_ascii(h.name, "expect")) {
      continue;
    }
    out.append(h.name).append(": ").append(h.value).append("\r\n");
  }
  out.append("Content-Length: ").append(std::to_string(request.body.size())).append("\r\n\r\n");
  out.append(request.body);
  return out;
}

ServerResponse relayed_answer(const Forwarded& forwarded) {
  ServerResponse out;
  switch (forwarded.outcome) {
    case ForwardOutcome::answered:
      out.status = forwarded.answer.status;
      out.reason = forwarded.answer.reason;
      out.body = forwarded.answer.body;
      for (const auto& h : forwarded.answer.headers) {
        if (!wire::is_hop_by_hop(h.name, forwarded.answer.headers)) {
          out.headers.push_back(h);
        }
      }
      out.relayed = true;
      return out;
    case ForwardOutcome::timeout:
      out.status = 504;
      out.body = error_body("gateway timeout", forwarded.error);
      return out;
    case ForwardOutcome::unreachable:
    case ForwardOutcome::broken:
      out.status = 502;
      out.body = error_body("bad gateway", forwarded.error);
      return out;
  }
  return out;
}

// One thread's connection to the target.
struct Forwarder::Link {
  std::unique_ptr<Stream> stream;
  // A kept-alive connection the target has closed (or written to unasked)
  // while idle is readable: it is not reused.
  bool usable() const {
    if (!stream || !stream->is_open()) {
      return false;
    }
    pollfd p{stream->fd(), POLLIN, 0};
    return ::poll(&p, 1, 0) == 0;
  }
};

Forwarder::Forwarder(const ParsedUrl& target, const ForwardOptions& options) : m_target(target), m_options(options) {}

Result<std::unique_ptr<Forwarder>> Forwarder::create(const ParsedUrl& target, const ForwardOptions& options) {
  std::unique_ptr<Forwarder> f(new Forwarder(target, options));
  EPILOT_TRY_ASSIGN(f->m_addresses, resolve(target.host, target.port));
  if (target.scheme == "https") {
    EPILOT_TRY_ASSIGN(f->m_tls, TlsClient::create(options.ca_cert));
  }
  for (unsigned i = 0; i < std::max(1u, options.connections); ++i) {
    f->m_threads.emplace_back([raw = f.get()] { raw->serve(); });
  }
  return f;
}

Forwarder::~Forwarder() {
  {
    std::lock_guard lock(m_mutex);
    m_stopping = true;
  }
  m_ready.notify_all();
  for (auto& t : m_threads) {
    t.join();
  }
}

void Forwarder::forward(const wire::Request& request, Done done, Replayable replayable) {
  Job job{forwarded_request(request, m_target.target), request.method == "HEAD", replayable, std::move(done),
          Clock::now() + m_options.timeout};
  {
    std::lock_guard lock(m_mutex);
    m_jobs.push(std::move(job));
  }
  m_ready.notify_one();
}

void Forwarder::serve() {
  Link link;
  while (true) {
    Job job;
    bool stopping = false;
    {
      std::unique_lock lock(m_mutex);
      m_ready.wait(lock, [this] { return m_stopping || !m_jobs.empty(); });
      if (m_jobs.empty()) {
        return;  // stopping, and nothing left to send
      }
      job = std::move(m_jobs.front());
      m_jobs.pop();
      stopping = m_stopping;
    }
    // Once stopping, a request not yet sent is not sent: its client is being
    // let go, and the app should not act on what nobody will hear about.
    // One request never stops the pool: reporting is the caller's business.
    try {
      auto result = stopping ? failed(ForwardOutcome::broken, "not sent: listen is stopping") : send(link, job);
      job.done(std::move(result));
    } catch (const std::exception& e) {
      try {
        job.done(failed(ForwardOutcome::broken, std::string("internal error: ") + e.what()));
      } catch (const std::exception&) {
        // Nothing more to tell anyone.
      }
    }
  }
}

Forwarded Forwarder::send(Link& link, const Job& job) {
  const auto started = Clock::now();
  if (started >= job.deadline) {
    return failed(ForwardOutcome::timeout, "waited for a free connection past the timeout; not sent");
  }
  const bool reused = link.usable();
  bool silent = false;
  auto result = reused ? exchange(link, job, silent) : connect_and_exchange(link, job, silent);
  if (worth_retrying(job, result, reused, silent)) {
    result = connect_and_exchange(link, job, silent);
  }
  result.latency = Clock::now() - started;
  return result;
}

// A kept-alive connection the target closed just as the request went out
// (its idle timeout ran out) breaks at once, before any byte of an answer.
// Only a request that may arrive twice is sent again, on a new connection,
// and only with time left for it: else the first failure is the answer.
bool Forwarder::worth_retrying(const Job& job, const Forwarded& first, bool reused, bool silent) const {
  const auto needed = std::min<Clock::duration>(std::chrono::seconds(1), m_options.timeout / 4);
  return job.replayable == Replayable::yes && reused && silent && first.outcome == ForwardOutcome::broken &&
         job.deadline - Clock::now() >= needed;
}

Forwarded Forwarder::connect_and_exchange(Link& link, const Job& job, bool& silent) {
  auto stream = connect_stream(m_addresses, m_tls.get(), m_target, job.deadline);
  if (!stream) {
    const auto outcome =
        stream.error().code == ErrorCode::timeout ? ForwardOutcome::timeout : ForwardOutcome::unreachable;
    return failed(outcome,
                  "can't reach " + url_host_port(m_target.host, m_target.port) + ": " + stream.error().message);
  }
  link.stream = std::move(*stream);
  return exchange(link, job, silent);
}

// The request, and its answer, on the link's connection. `silent`: it broke
// at once, unanswered; the request not taken (no byte of it written), or
// taken and the connection closed within moments, before any answer byte.
Forwarded Forwarder::exchange(Link& link, const Job& job, bool& silent) {
  std::size_t written = 0;
  if (auto broke = write_all(*link.stream, job.bytes, job.deadline, written)) {
    link.stream->close();
    silent = written == 0;
    return std::move(*broke);
  }
  const auto sent = Clock::now();
  bool unanswered = false;
  auto result = read_answer(*link.stream, job.head, m_options.max_answer, job.deadline, unanswered);
  silent = unanswered && Clock::now() - sent < m_options.at_once;
  if (result.outcome != ForwardOutcome::answered || !result.answer.keep_alive) {
    link.stream->close();
  }
  return result;
}

}  // namespace epilot::http
