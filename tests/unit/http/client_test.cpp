#include "lib/http/client.hpp"

#include <gtest/gtest.h>

#include <thread>

#include "lib/http/server.hpp"
#include "tests/unit/support.hpp"

namespace epilot::http {
namespace {

TEST(HttpClient, GetsAnAnswerFromALoopbackServer) {
  HttpServer server(ServerLimits{});
  const auto port = server.bind("127.0.0.1", 0);
  ASSERT_TRUE(port.ok());
  std::string seen_url;
  std::thread thread([&] {
    server.run([&](wire::Request&& request) {
      seen_url = request.target;
      return ServerResponse{{202, R"({"public_key":"x"})"}};
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
  const test::RefusedPort refused;
  const auto response =
      make_http_client(HttpOptions{})->get("http://127.0.0.1:" + std::to_string(refused.port()) + "/");
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().code, ErrorCode::network);
  EXPECT_NE(response.error().message.find("Connection refused"), std::string::npos) << response.error().message;
}

}  // namespace
}  // namespace epilot::http
