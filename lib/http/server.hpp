#pragma once

// A small HTTP/1.1 server for `listen` and replay's callback endpoint: one
// event loop (epoll) per core, all accepting on one socket, keep-alive and
// pipelining, Content-Length and chunked bodies, 100-continue. It faces the
// internet (behind a tunnel), so every resource a client can hold is
// bounded: head and body sizes, a deadline for each request from its first
// byte to its last (a slow client cannot hold a connection by dripping
// bytes), an idle timeout between requests, a cap on open connections, and
// a pause instead of a busy loop when the process runs out of descriptors.
// Framing is read by lib/http/wire, the same code the capture reader uses.
// cpp-httplib gives each connection a thread and polls before every read,
// which halves the rate of a verifying endpoint; this does not.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "lib/http/request_reader.hpp"
#include "lib/http/response.hpp"
#include "lib/http/wire.hpp"
#include "lib/util/error.hpp"
#include "lib/util/fd.hpp"

namespace epilot::http {

struct ServerLimits {
  unsigned threads = 1;
  std::size_t max_header = wire::k_max_head;         // 431 beyond
  std::size_t max_body = 10 * 1024 * 1024;           // 413 beyond
  std::size_t max_connections = 1000;                // open at once; more wait in the listen backlog
  std::chrono::milliseconds idle_timeout{5000};      // a kept-alive connection with no request is closed
  std::chrono::milliseconds request_timeout{10000};  // first byte to last of one request; 408 beyond
  std::chrono::milliseconds shutdown_grace{2000};    // after stop(): time to finish requests under way
};

// What a handler answers: the response (its reason phrase and keep_alive are
// the server's to write), and how the server is to give it.
struct ServerResponse : HttpResponse {
  std::chrono::milliseconds delay{0};  // answer later, without holding up other connections
  bool close = false;                  // close the connection after this answer
  std::string allow = {};              // for a 405: the methods the target takes (the Allow header)
  // An answer a proxy relays: `headers` are the upstream's, written as they
  // are, with no Content-Type of the server's; the framing is the server's.
  bool relayed = false;
};

// The JSON body of an answer the server, or a proxy on it, gives itself:
// {"error": ERROR, "message": MESSAGE}.
std::string error_body(std::string_view error, std::string_view message);

// Called on the event-loop threads, concurrently: must be thread-safe.
using RequestHandler = std::function<ServerResponse(wire::Request&& request)>;

namespace detail {
struct ReplySlot;
}

// A request's answer, to give once: at once, or later from any thread (a
// proxy answers when its upstream has). Until it is given, the connection
// reads no further requests, so answers keep their order. The first call
// counts and later ones are ignored; if every copy is dropped unused, the
// client gets a 500. An answer for a client that has gone is dropped.
class Responder {
 public:
  explicit Responder(std::shared_ptr<detail::ReplySlot> slot) : m_slot(std::move(slot)) {}
  void operator()(ServerResponse response) const;

 private:
  std::shared_ptr<detail::ReplySlot> m_slot;
};

// A handler that answers through `reply`, now or later. Called like
// RequestHandler, on the event-loop threads: it must not block them.
using DeferredHandler = std::function<void(wire::Request&& request, Responder reply)>;

// Told of every request the server answered itself without the handler
// seeing it (400, 408, 413, 431, 505), as it is answered, so that a caller
// can account for every request. The same threading as RequestHandler.
using RefusalHandler = std::function<void(const Refusal& refusal)>;

class HttpServer {
 public:
  explicit HttpServer(ServerLimits limits);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Listen on `host`:`port` (0 picks a free port); returns the port.
  Result<int> bind(const std::string& host, int port);

  // Why the last bind() failed, for the caller to say what to do about it.
  enum class BindFailure {
    none,
    in_use,     // another socket has that address and port
    not_local,  // the address is not one of this machine's
    denied,     // a privileged port
    other,
  };
  BindFailure bind_failure() const { return m_bind_failure; }

  // Serve until stop(). Then every request already received (whole, or
  // completed within the grace time) is answered, and every connection is
  // closed after its last answer. `on_refusal`, when set, is told of the
  // requests refused before they reached `handler`. `on_ready`, when set,
  // is called once every worker thread is running, before serving: a caller
  // that says "ready" there never has a client meet a thread still starting
  // (which, out of descriptors, sanitizers misreport).
  void run(const RequestHandler& handler, const RefusalHandler& on_refusal = {},
           const std::function<void()>& on_ready = {});
  // The same, for a handler that may answer later. While stopping, an answer
  // still owed when the grace time ends is given up: the connection closes.
  void run_deferred(const DeferredHandler& handler, const RefusalHandler& on_refusal = {},
                    const std::function<void()>& on_ready = {});

  // Thread-safe and async-signal-safe; returns at once.
  void stop();

 private:
  ServerLimits m_limits;
  util::Fd m_listen_fd;
  util::Fd m_stop_fd;
  std::atomic<bool> m_stopping{false};
  std::atomic<std::size_t> m_open{0};  // connections open, all workers together
  BindFailure m_bind_failure = BindFailure::none;
};

}  // namespace epilot::http
