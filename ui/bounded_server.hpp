#pragma once

// cpp-httplib's server with what one connection may cost bounded. Debian's
// cpp-httplib (0.11) reads a header line whole before it judges its length,
// and a chunked body for as long as the client sends it, and keeps a
// connection as long as a byte comes every few seconds: a local process
// could grow listen by gigabytes through the inspector's port, or hold its
// stop for ever. Here every connection is read through a stream of our own:
// each request may read a fixed number of bytes, framing included, within a
// deadline from its first byte; and the server knows the connections it
// serves, so that stopping shuts them all.

#include <httplib.h>

#include <chrono>
#include <cstddef>
#include <mutex>
#include <set>

namespace epilot::ui {

struct ConnectionLimits {
  std::size_t max_request_bytes = 0;             // a request's head and body as sent, chunk sizes included
  std::chrono::milliseconds request_timeout{0};  // from a request's first byte to its last
  std::chrono::milliseconds io_timeout{0};       // one read or write making no progress
  std::chrono::milliseconds keep_alive{0};       // a connection waits this long for its next request
  std::size_t max_requests = 0;                  // on one connection
};

class BoundedServer : public httplib::Server {
 public:
  // Also refuses a compressed request body (415): cpp-httplib would inflate
  // it past every limit, a kilobyte of gzip into a megabyte of body.
  explicit BoundedServer(const ConnectionLimits& limits);

  // Shut every connection being served, and any accepted later: after
  // stop(), cpp-httplib waits for every connection to end.
  void shut_connections();

 private:
  // cpp-httplib's own serves a connection with its unbounded stream.
  bool process_and_close_socket(socket_t sock) override;
  bool track(socket_t sock);
  void close_tracked(socket_t sock);

  ConnectionLimits m_limits;
  std::mutex m_mutex;
  std::set<socket_t> m_open;  // closed under the mutex, so that no reused descriptor is shut
  bool m_shut = false;
};

}  // namespace epilot::ui
