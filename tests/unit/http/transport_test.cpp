// The load client's streams over a real socket pair: what a plain stream
// moves and reports, and a TLS stream meeting a peer that answers in plain
// HTTP (the most common https-to-http mistake). The full TLS path, with a
// certificate, runs in the CLI suites against a local HTTPS server.

#include "lib/http/transport.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

namespace epilot::http {
namespace {

// One end for the stream (non-blocking, as the client's sockets are), the
// other for the test to play the server with.
struct SocketPair {
  int ours = -1;
  int peer = -1;
  SocketPair() {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    ours = fds[0];
    peer = fds[1];
    ::fcntl(ours, F_SETFL, ::fcntl(ours, F_GETFL) | O_NONBLOCK);
  }
  ~SocketPair() {
    if (peer >= 0) {
      ::close(peer);
    }
  }
  std::string peer_read(std::size_t size) const {
    std::string out(size, '\0');
    std::size_t got = 0;
    while (got < size) {
      const auto n = ::read(peer, out.data() + got, size - got);
      if (n <= 0) {
        break;
      }
      got += static_cast<std::size_t>(n);
    }
    out.resize(got);
    return out;
  }
  void peer_write(std::string_view text) const {
    ASSERT_EQ(::write(peer, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  }
  void peer_close() {
    ::close(peer);
    peer = -1;
  }
};

TEST(PlainStream, HandshakeIsImmediateAndWritesHeadThenBody) {
  SocketPair pair;
  auto stream = make_stream(nullptr, "127.0.0.1", 80);
  stream->adopt(pair.ours);
  ASSERT_TRUE(stream->is_open());
  EXPECT_EQ(stream->handshake().status, IoStatus::done);

  const std::string head = "POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 4\r\n\r\n";
  std::size_t written = 0;
  EXPECT_EQ(stream->write(head, "body", written).status, IoStatus::done);
  EXPECT_EQ(written, head.size() + 4);
  EXPECT_EQ(pair.peer_read(head.size() + 4), head + "body");
}

TEST(PlainStream, ReadsWhatArrivesWaitsWhenNothingDidAndSeesTheEnd) {
  SocketPair pair;
  auto stream = make_stream(nullptr, "127.0.0.1", 80);
  stream->adopt(pair.ours);
  std::array<char, 64> buffer{};

  EXPECT_EQ(stream->read(buffer.data(), buffer.size()).status, IoStatus::want_read);
  EXPECT_EQ(stream->read_early(buffer.data(), buffer.size()), 0u);

  pair.peer_write("HTTP/1.1 204 No Content\r\n\r\n");
  const auto got = stream->read(buffer.data(), buffer.size());
  ASSERT_EQ(got.status, IoStatus::done);
  EXPECT_EQ(std::string_view(buffer.data(), got.bytes), "HTTP/1.1 204 No Content\r\n\r\n");

  pair.peer_close();
  EXPECT_EQ(stream->read(buffer.data(), buffer.size()).status, IoStatus::closed);
}

TEST(PlainStream, ReadsAnEarlyAnswerWithoutWaiting) {
  SocketPair pair;
  auto stream = make_stream(nullptr, "127.0.0.1", 80);
  stream->adopt(pair.ours);
  pair.peer_write("HTTP/1.1 413 Payload Too Large\r\n\r\n");
  std::array<char, 64> buffer{};
  const auto n = stream->read_early(buffer.data(), buffer.size());
  EXPECT_EQ(std::string_view(buffer.data(), n), "HTTP/1.1 413 Payload Too Large\r\n\r\n");
}

TEST(PlainStream, CloseReleasesTheSocket) {
  SocketPair pair;
  auto stream = make_stream(nullptr, "127.0.0.1", 80);
  stream->adopt(pair.ours);
  stream->close();
  EXPECT_FALSE(stream->is_open());
  std::array<char, 8> buffer{};
  EXPECT_EQ(::read(pair.peer, buffer.data(), buffer.size()), 0);  // the peer sees the end
}

TEST(TlsClient, TrustsTheSystemAnchorsWithoutACaFile) {
  const auto client = TlsClient::create("");
  ASSERT_TRUE(client.ok()) << client.error().message;
  EXPECT_NE((*client)->context(), nullptr);
}

TEST(TlsClient, AnUnreadableCaFileIsAnIoErrorAboutCaCertificates) {
  const auto client = TlsClient::create("/nonexistent/ca.pem");
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.error().code, ErrorCode::io);
  EXPECT_EQ(client.error().about, Subject::ca_certificates);
  EXPECT_NE(client.error().message.find("/nonexistent/ca.pem"), std::string::npos);
}

TEST(TlsStream, APlainHttpPeerIsNotTlsAndNotWorthARetry) {
  SocketPair pair;
  const auto client = TlsClient::create("");
  ASSERT_TRUE(client.ok());
  auto stream = make_stream(client->get(), "localhost", 8443);
  stream->adopt(pair.ours);
  // The ClientHello goes out; the peer answers as a plain-HTTP server does.
  auto step = stream->handshake();
  ASSERT_NE(step.status, IoStatus::done);
  pair.peer_write("HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n");
  for (int i = 0; i < 100 && (step.status == IoStatus::want_read || step.status == IoStatus::want_write); ++i) {
    ::usleep(1000);
    step = stream->handshake();
  }
  ASSERT_EQ(step.status, IoStatus::failed);
  EXPECT_EQ(stream->fault(), StreamFault::not_tls);
  EXPECT_NE(std::string(stream->error()).find("does not speak TLS on port 8443"), std::string::npos);
}

}  // namespace
}  // namespace epilot::http
