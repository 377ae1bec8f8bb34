#include "lib/epilot/resume_call.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <mutex>
#include <thread>

#include "lib/http/server.hpp"

namespace epilot {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

TEST(ResumeCallOf, FindsTheTokenAndTheUrlInData) {
  const auto call = resume_call_of(
      R"({"type":"external_integration","data":{"resume_token":"rt_1","callback_post_url":"https://a/b"}})");
  ASSERT_TRUE(call.has_value());
  EXPECT_EQ(call->token, "rt_1");
  EXPECT_EQ(call->url, "https://a/b");
}

// The quick look for "resume_token" must not miss a key spelled with escapes.
TEST(ResumeCallOf, ReadsAKeySpelledWithEscapes) {
  const auto call = resume_call_of(R"({"data":{"resume\u005ftoken":"rt_2","callback_post_url":"https://a/"}})");
  ASSERT_TRUE(call.has_value());
  EXPECT_EQ(call->token, "rt_2");
}

TEST(ResumeCallOf, IgnoresBodiesThatDoNotWaitForACallback) {
  for (const char* body :
       {"", "not json", "[]", R"({"data":{}})", R"({"resume_token":"x","callback_post_url":"u"})",
        R"({"data":{"resume_token":"","callback_post_url":"https://a/"}})",
        R"({"data":{"resume_token":7,"callback_post_url":"https://a/"}})", R"({"data":{"resume_token":"x"}})"}) {
    EXPECT_FALSE(resume_call_of(body).has_value()) << body;
  }
}

TEST(ResumeBody, IsTheTokenAlone) { EXPECT_EQ(resume_body("rt_\"1"), R"({"resume_token":"rt_\"1"})"); }

// Records the POSTs; answers each with `status`, after `wait`.
class RecordingHttp : public http::HttpClient {
 public:
  Result<http::HttpResponse> get(const std::string&) override { return make_error(ErrorCode::usage, "not used"); }
  Result<http::HttpResponse> post(const std::string& url, const std::string& type, const std::string& body) override {
    std::this_thread::sleep_for(wait);
    std::lock_guard lock(mutex);
    posts.push_back(url + " " + type + " " + body);
    return http::HttpResponse{status, "{}", "application/json"};
  }
  std::chrono::milliseconds wait{0};
  int status = 200;
  std::mutex mutex;
  std::vector<std::string> posts;
};

struct Reports {
  std::mutex mutex;
  std::vector<ResumeOutcome> outcomes;
  ResumeQueue::Report report() {
    return [this](const ResumeOutcome& o) {
      std::lock_guard lock(mutex);
      outcomes.push_back(o);
    };
  }
};

ResumeCall call(std::string token, Clock::time_point not_before = Clock::now()) {
  return ResumeCall{"https://h/resume", std::move(token), "msg_1", not_before};
}

TEST(ResumeQueue, SendsEveryCallAndReportsItsAnswer) {
  RecordingHttp http;
  http.status = 404;
  Reports reports;
  {
    ResumeQueue queue(http, 2, 10, reports.report());
    EXPECT_TRUE(queue.submit(call("a")));
    EXPECT_TRUE(queue.submit(call("b")));
    queue.finish(Clock::now() + 5s);
  }
  ASSERT_EQ(reports.outcomes.size(), 2u);
  for (const auto& o : reports.outcomes) {
    EXPECT_EQ(o.status, 404);
    EXPECT_FALSE(o.ok());
  }
  std::sort(http.posts.begin(), http.posts.end());
  EXPECT_EQ(http.posts[0], R"(https://h/resume application/json {"resume_token":"a"})");
}

TEST(ResumeQueue, RefusesBeyondItsCapAndReportsWhatCouldNotStartInTime) {
  RecordingHttp http;
  Reports reports;
  ResumeQueue queue(http, 1, 2, reports.report());
  const auto later = Clock::now() + 60s;  // never due before the deadline below
  EXPECT_TRUE(queue.submit(call("a", later)));
  EXPECT_TRUE(queue.submit(call("b", later)));
  EXPECT_FALSE(queue.submit(call("c", later))) << "two wait already";
  queue.finish(Clock::now());
  EXPECT_TRUE(http.posts.empty());
  ASSERT_EQ(reports.outcomes.size(), 2u);
  EXPECT_FALSE(reports.outcomes[0].status.has_value());
  EXPECT_NE(reports.outcomes[0].error.find("not sent"), std::string::npos);
  EXPECT_FALSE(queue.submit(call("d"))) << "finished";
}

// The real client against a real server: the POST as epilot's endpoint reads it.
TEST(ResumeQueue, PostsJsonOverTheRealClient) {
  http::HttpServer server(http::ServerLimits{});
  const auto port = server.bind("127.0.0.1", 0);
  ASSERT_TRUE(port.ok());
  std::string seen;
  std::thread thread([&] {
    server.run([&](http::wire::Request&& request) {
      seen = request.method + " " + request.target + " " + request.body;
      return http::ServerResponse{{302, "{}"}};  // a redirect is an answer, not followed
    });
  });
  http::HttpOptions options;
  options.timeout = 5s;
  const auto http = make_http_client(options);
  Reports reports;
  {
    ResumeQueue queue(*http, 1, 4, reports.report());
    auto c = call("rt_9");
    c.url = "http://127.0.0.1:" + std::to_string(*port) + "/v1/automation/public/executions:resume";
    ASSERT_TRUE(queue.submit(c));
    queue.finish(Clock::now() + 10s);
  }
  server.stop();
  thread.join();
  EXPECT_EQ(seen, R"(POST /v1/automation/public/executions:resume {"resume_token":"rt_9"})");
  ASSERT_EQ(reports.outcomes.size(), 1u);
  EXPECT_EQ(reports.outcomes[0].status, 302);
  EXPECT_FALSE(reports.outcomes[0].ok());
}

}  // namespace
}  // namespace epilot
