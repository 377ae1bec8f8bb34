#pragma once

// The byte stream under the load client: plain TCP or TLS (OpenSSL), both
// non-blocking, behind one interface, so that the client's state machine
// reads the same for http and https. A call never blocks: it moves what the
// socket allows and says what it waits for.

#include <sys/socket.h>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "lib/util/error.hpp"
#include "lib/util/fd.hpp"

// OpenSSL's context, without its headers in ours.
struct ssl_ctx_st;

namespace epilot::http {

enum class IoStatus {
  done,        // the handshake ended, everything was written, or `bytes` were read
  want_read,   // call again once the socket is readable
  want_write,  // call again once the socket is writable
  closed,      // (read) the server ended the stream
  failed,      // the stream broke: error() and fault() say how
};

struct IoResult {
  IoStatus status = IoStatus::done;
  std::size_t bytes = 0;  // read: how many landed in the buffer
  bool more = false;      // read: more bytes wait inside the stream (TLS), beyond `bytes`
};

// Why a stream failed, as far as trying again cares.
enum class StreamFault {
  transient,  // the connection broke or closed: another attempt may do better
  setup,      // TLS could not be set up here (never retried)
  untrusted,  // the server's certificate is not trusted (never retried)
  not_tls,    // the server does not speak TLS on that port (never retried)
};

class Stream {
 public:
  Stream() = default;
  virtual ~Stream();
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  // Take ownership of the socket `fd`, connected or connecting (closing any
  // socket held before).
  void adopt(int fd);
  bool is_open() const { return m_fd.valid(); }
  int fd() const { return m_fd.get(); }
  // Forget the connection's state (TLS) and close the socket.
  void close();

  // Once connected: set up the stream's own protocol. Plain TCP is done at once.
  virtual IoResult handshake() = 0;
  // Write `head` then `body` from offset `written` on (advanced by what went
  // out); done once all of it is out.
  virtual IoResult write(std::string_view head, std::string_view body, std::size_t& written) = 0;
  // Read into `buffer`: done with `bytes` > 0, want_*, closed or failed.
  virtual IoResult read(char* buffer, std::size_t size) = 0;
  // Read, without waiting, bytes the server sent while the request was still
  // going out (an answer given before the whole body was read); 0 if none.
  virtual std::size_t read_early(char* buffer, std::size_t size) = 0;

  // After `closed` or `failed`: what happened, in words, and whether to try again.
  std::string_view error() const { return m_error; }
  StreamFault fault() const { return m_fault; }

 protected:
  virtual void forget() {}
  // Record a failure (`text` must outlive the stream: a literal).
  IoResult fail(const char* text, StreamFault fault = StreamFault::transient);
  IoResult fail(std::string text, StreamFault fault = StreamFault::transient);
  IoResult ended(const char* text);

 private:
  util::Fd m_fd;
  std::string_view m_error;
  std::string m_error_text;
  StreamFault m_fault = StreamFault::transient;
};

// The TLS settings every connection of a run shares: TLS 1.2 or later, the
// server's certificate verified against the system's trust anchors and
// `ca_cert` (a PEM file, when not empty).
class TlsClient {
 public:
  static Result<std::unique_ptr<TlsClient>> create(const std::string& ca_cert);
  ~TlsClient();
  TlsClient(const TlsClient&) = delete;
  TlsClient& operator=(const TlsClient&) = delete;

  ssl_ctx_st* context() const { return m_context; }

 private:
  explicit TlsClient(ssl_ctx_st* context) : m_context(context) {}
  ssl_ctx_st* m_context;
};

// One address of a host, as the resolver gave it.
struct Address {
  sockaddr_storage storage{};
  socklen_t size = 0;
};

// Every address of `host` (a name or a literal) at `port`; errors are
// ErrorCode::network.
Result<std::vector<Address>> resolve(const std::string& host, int port);

// A stream to `host`:`port`: TLS when `tls` is set (the certificate must
// name `host`, which goes out as SNI when it is a name), plain TCP otherwise.
std::unique_ptr<Stream> make_stream(const TlsClient* tls, const std::string& host, int port);

}  // namespace epilot::http
