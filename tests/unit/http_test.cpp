#include "lib/http.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <thread>

#include "lib/server.hpp"

namespace epilot {
namespace {

TEST(HttpClient, GetsAnAnswerFromALoopbackServer) {
  HttpServer server(ServerLimits{});
  const auto port = server.bind("127.0.0.1", 0);
  ASSERT_TRUE(port.ok());
  std::string seen_url;
  std::thread thread([&] {
    server.run([&](Capture&& request) {
      seen_url = request.url;
      return ServerAnswer{202, R"({"public_key":"x"})"};
    });
  });
  HttpOptions options;
  options.timeout = std::chrono::seconds(5);
  const auto response = make_http_client(options)->get("http://127.0.0.1:" + std::to_string(*port) + "/v1/key?orgId=7");
  server.stop();
  thread.join();
  ASSERT_TRUE(response.ok()) << response.error().message;
  EXPECT_EQ(response->status, 202);
  EXPECT_EQ(response->body, R"({"public_key":"x"})");
  EXPECT_EQ(response->content_type, "application/json");
  EXPECT_NE(seen_url.find("/v1/key?orgId=7"), std::string::npos) << seen_url;
}

TEST(HttpClient, RefusesPlainHttpBeyondLoopback) {
  const auto response = make_http_client(HttpOptions{})->get("http://example.com/key");
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().code, ErrorCode::usage);
}

TEST(HttpClient, ANetworkFailureIsANetworkError) {
  // A port bound but never listened on: the connection is refused.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  socklen_t size = sizeof address;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size);
  const auto response =
      make_http_client(HttpOptions{})->get("http://127.0.0.1:" + std::to_string(ntohs(address.sin_port)) + "/");
  ::close(fd);
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().code, ErrorCode::network);
  EXPECT_NE(response.error().message.find("Connection refused"), std::string::npos) << response.error().message;
}

}  // namespace
}  // namespace epilot
