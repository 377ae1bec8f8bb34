#pragma once

// A small HTTP/1.1 server for `listen`: one event loop (epoll) per core, all
// accepting on one socket, keep-alive and pipelining, Content-Length and
// chunked bodies, 100-continue, limits and timeouts. Requests reach the
// handler as byte-exact Captures (read by parse_raw_http, the same reader
// `verify` uses). cpp-httplib gives each connection a thread and polls before
// every read, which halves the rate of a verifying endpoint; this does not.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <string>

#include "lib/capture.hpp"
#include "lib/error.hpp"

namespace epilot {

struct ServerLimits {
  unsigned threads = 1;
  std::size_t max_header = 64 * 1024;       // 431 beyond
  std::size_t max_body = 10 * 1024 * 1024;  // 413 beyond
  std::chrono::seconds idle_timeout{5};     // idle or stalled connections are closed
};

struct ServerAnswer {
  int status = 200;
  std::string body;                    // sent as application/json
  std::chrono::milliseconds delay{0};  // answer later, without holding up other connections
};

// Called on the event-loop threads, concurrently: must be thread-safe.
using RequestHandler = std::function<ServerAnswer(Capture&& request)>;

class HttpServer {
 public:
  explicit HttpServer(ServerLimits limits);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Listen on `host`:`port` (0 picks a free port); returns the port.
  Result<int> bind(const std::string& host, int port);

  // Serve until stop(): answers already computed are still sent, then every
  // connection is closed.
  void run(const RequestHandler& handler);

  // Thread-safe; returns at once.
  void stop();

 private:
  void worker(const RequestHandler& handler);

  ServerLimits m_limits;
  int m_listen_fd = -1;
  int m_stop_fd = -1;
  std::atomic<bool> m_stopping{false};
};

}  // namespace epilot
