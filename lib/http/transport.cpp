#include "lib/http/transport.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#include <csignal>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace epilot::http {

Stream::~Stream() = default;

void Stream::adopt(int fd) {
  forget();
  m_fd.reset(fd);
}

void Stream::close() {
  forget();
  m_fd.reset();
}

IoResult Stream::fail(const char* text, StreamFault fault) {
  m_error = text;
  m_fault = fault;
  return {IoStatus::failed};
}

IoResult Stream::fail(std::string text, StreamFault fault) {
  m_error_text = std::move(text);
  m_error = m_error_text;
  m_fault = fault;
  return {IoStatus::failed};
}

IoResult Stream::ended(const char* text) {
  m_error = text;
  m_fault = StreamFault::transient;
  return {IoStatus::closed};
}

namespace {

class PlainStream final : public Stream {
 public:
  IoResult handshake() override { return {IoStatus::done}; }
  IoResult write(std::string_view head, std::string_view body, std::size_t& written) override;
  IoResult read(char* buffer, std::size_t size) override;
  std::size_t read_early(char* buffer, std::size_t size) override;
};

// Head and body go out in one sendmsg: a small request is one segment.
IoResult PlainStream::write(std::string_view head, std::string_view body, std::size_t& written) {
  const auto total = head.size() + body.size();
  while (written < total) {
    iovec parts[2];
    int count = 0;
    if (written < head.size()) {
      parts[count++] = iovec{const_cast<char*>(head.data()) + written, head.size() - written};
      if (!body.empty()) {
        parts[count++] = iovec{const_cast<char*>(body.data()), body.size()};
      }
    } else {
      const auto offset = written - head.size();
      parts[count++] = iovec{const_cast<char*>(body.data()) + offset, body.size() - offset};
    }
    msghdr message{};
    message.msg_iov = parts;
    message.msg_iovlen = static_cast<std::size_t>(count);
    const auto n = ::sendmsg(fd(), &message, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        return {IoStatus::want_write};
      }
      if (errno == EINTR) {
        continue;
      }
      return fail(std::string("sending failed: ") + std::strerror(errno));
    }
    written += static_cast<std::size_t>(n);
  }
  return {IoStatus::done};
}

IoResult PlainStream::read(char* buffer, std::size_t size) {
  for (;;) {
    const auto n = ::recv(fd(), buffer, size, 0);
    if (n > 0) {
      return {IoStatus::done, static_cast<std::size_t>(n)};
    }
    if (n == 0) {
      return ended("the connection closed");
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      return {IoStatus::want_read};
    }
    if (errno != EINTR) {
      return fail(std::string("the connection broke: ") + std::strerror(errno));
    }
  }
}

std::size_t PlainStream::read_early(char* buffer, std::size_t size) {
  const auto n = ::recv(fd(), buffer, size, MSG_DONTWAIT);
  return n > 0 ? static_cast<std::size_t>(n) : 0;
}

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

class TlsStream final : public Stream {
 public:
  TlsStream(SSL_CTX* context, std::string host, int port) : m_context(context), m_host(std::move(host)), m_port(port) {}
  ~TlsStream() override { forget(); }
  TlsStream(const TlsStream&) = delete;
  TlsStream& operator=(const TlsStream&) = delete;

  IoResult handshake() override;
  IoResult write(std::string_view head, std::string_view body, std::size_t& written) override;
  IoResult read(char* buffer, std::size_t size) override;
  // The records that arrive during a write are OpenSSL's to take (a key
  // update); an answer is read once the request is out.
  std::size_t read_early(char*, std::size_t) override { return 0; }

 private:
  void forget() override;
  bool set_up();
  IoResult handshake_failed();
  // What a failed SSL_ call `rc` waits for; failed (cleared) when it waits for nothing.
  IoStatus waits_for(int rc) const;

  SSL_CTX* m_context;
  std::string m_host;
  int m_port;
  SSL* m_ssl = nullptr;  // from the first handshake step until the socket closes
};

void TlsStream::forget() {
  if (m_ssl != nullptr) {
    SSL_free(m_ssl);
    m_ssl = nullptr;
  }
}

IoStatus TlsStream::waits_for(int rc) const {
  const int error = SSL_get_error(m_ssl, rc);
  if (error == SSL_ERROR_WANT_READ) {
    return IoStatus::want_read;
  }
  if (error == SSL_ERROR_WANT_WRITE) {
    return IoStatus::want_write;
  }
  return error == SSL_ERROR_ZERO_RETURN || error == SSL_ERROR_SYSCALL ? IoStatus::closed : IoStatus::failed;
}

// The certificate must name the host: an IP address as an IP SAN, a name as
// a DNS SAN (and the name goes out as SNI).
bool TlsStream::set_up() {
  m_ssl = SSL_new(m_context);
  if (m_ssl == nullptr || SSL_set_fd(m_ssl, fd()) != 1) {
    return false;
  }
  in6_addr ip{};
  const bool is_ip = ::inet_pton(AF_INET, m_host.c_str(), &ip) == 1 || ::inet_pton(AF_INET6, m_host.c_str(), &ip) == 1;
  auto* param = SSL_get0_param(m_ssl);
  if (is_ip) {
    X509_VERIFY_PARAM_set1_ip_asc(param, m_host.c_str());
  } else {
    X509_VERIFY_PARAM_set1_host(param, m_host.c_str(), 0);
    // SSL_set_tlsext_host_name, without the macro's C cast.
    SSL_ctrl(m_ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, const_cast<char*>(m_host.c_str()));
  }
  return true;
}

IoResult TlsStream::handshake() {
  if (m_ssl == nullptr && !set_up()) {
    return fail("can't set up TLS", StreamFault::setup);
  }
  ERR_clear_error();
  const int rc = [&] {
    const SigpipeBlocked no_sigpipe;
    return SSL_connect(m_ssl);
  }();
  if (rc == 1) {
    return {IoStatus::done};
  }
  const auto status = waits_for(rc);
  if (status == IoStatus::want_read || status == IoStatus::want_write) {
    return {status};
  }
  return handshake_failed();
}

IoResult TlsStream::handshake_failed() {
  const long verify = SSL_get_verify_result(m_ssl);
  std::string why;
  // The first bytes back were not a TLS record: most often a plain-HTTP
  // server answering the handshake with "HTTP/1.1 400" (OpenSSL reads the
  // "TP" of "HTTP" as a record version).
  bool not_tls = false;
  if (verify != X509_V_OK) {
    why = std::string("the certificate is not trusted: ") + X509_verify_cert_error_string(verify);
  } else if (const auto code = ERR_peek_last_error(); code != 0) {
    not_tls = ERR_GET_LIB(code) == ERR_LIB_SSL && ERR_GET_REASON(code) == SSL_R_WRONG_VERSION_NUMBER;
    why = not_tls ? "the server does not speak TLS on port " + std::to_string(m_port) +
                        " (it answered like a plain-HTTP server)"
          : ERR_reason_error_string(code) != nullptr ? ERR_reason_error_string(code)
                                                     : "TLS error";
  } else {
    why = "the connection closed during the handshake";
  }
  ERR_clear_error();
  // Trying again will not change the certificate, nor the protocol spoken.
  const auto fault = verify != X509_V_OK ? StreamFault::untrusted
                     : not_tls           ? StreamFault::not_tls
                                         : StreamFault::transient;
  return fail("TLS handshake with " + m_host + " failed: " + why, fault);
}

IoResult TlsStream::write(std::string_view head, std::string_view body, std::size_t& written) {
  const auto total = head.size() + body.size();
  while (written < total) {
    const char* data = written < head.size() ? head.data() + written : body.data() + (written - head.size());
    const auto size = written < head.size() ? head.size() - written : body.size() - (written - head.size());
    ERR_clear_error();
    const int n = [&] {
      const SigpipeBlocked no_sigpipe;
      return SSL_write(m_ssl, data, static_cast<int>(std::min<std::size_t>(size, 1 << 30)));
    }();
    if (n > 0) {
      written += static_cast<std::size_t>(n);
      continue;
    }
    const auto status = waits_for(n);
    if (status == IoStatus::want_read || status == IoStatus::want_write) {
      return {status};
    }
    ERR_clear_error();
    return fail("sending over TLS failed");
  }
  return {IoStatus::done};
}

IoResult TlsStream::read(char* buffer, std::size_t size) {
  ERR_clear_error();
  const int n = [&] {
    const SigpipeBlocked no_sigpipe;  // a read may write (a key update's answer)
    return SSL_read(m_ssl, buffer, static_cast<int>(std::min<std::size_t>(size, 1 << 30)));
  }();
  if (n > 0) {
    return {IoStatus::done, static_cast<std::size_t>(n), SSL_pending(m_ssl) > 0};
  }
  const auto status = waits_for(n);
  if (status == IoStatus::want_read || status == IoStatus::want_write) {
    return {status};
  }
  ERR_clear_error();
  // SSL_OP_IGNORE_UNEXPECTED_EOF makes a close without close_notify an
  // ordinary end, as most servers do it.
  return status == IoStatus::closed ? ended("the TLS connection broke") : fail("the TLS connection broke");
}

}  // namespace

Result<std::unique_ptr<TlsClient>> TlsClient::create(const std::string& ca_cert) {
  std::unique_ptr<TlsClient> client(new TlsClient(SSL_CTX_new(TLS_client_method())));
  SSL_CTX* context = client->m_context;
  if (context == nullptr) {
    return make_error(ErrorCode::network, "can't set up TLS");
  }
  SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION);
  SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nullptr);
  SSL_CTX_set_options(context, SSL_OP_IGNORE_UNEXPECTED_EOF);
  SSL_CTX_set_mode(context, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_CTX_set_default_verify_paths(context);
  if (!ca_cert.empty() && SSL_CTX_load_verify_locations(context, ca_cert.c_str(), nullptr) != 1) {
    ERR_clear_error();
    return make_error(ErrorCode::io, Subject::ca_certificates, "can't read the CA certificate " + ca_cert);
  }
  return client;
}

TlsClient::~TlsClient() { SSL_CTX_free(m_context); }

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

std::unique_ptr<Stream> make_stream(const TlsClient* tls, const std::string& host, int port) {
  if (tls == nullptr) {
    return std::make_unique<PlainStream>();
  }
  return std::make_unique<TlsStream>(tls->context(), host, port);
}

}  // namespace epilot::http
