#include "lib/epilot/resume_endpoint.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace epilot {
namespace {

http::wire::Request post(std::string body, std::string target = std::string(k_callback_path)) {
  http::wire::Request r;
  r.method = "POST";
  r.target = std::move(target);
  r.body = std::move(body);
  return r;
}

TEST(CallbackBoard, MatchesTheResumeTokenToItsRequest) {
  CallbackBoard board;
  board.issued(3, "rt_a");
  board.answered(3, true);
  EXPECT_EQ(board.receive(post(R"({"resume_token":"rt_a"})")).status, 200);
  board.wait(std::chrono::milliseconds(50));
  const auto outcome = board.outcome(3);
  ASSERT_TRUE(outcome);
  EXPECT_EQ(outcome->state, CallbackOutcome::State::received);
  EXPECT_EQ(board.received_count(), 1u);
  EXPECT_TRUE(board.problems().empty());
}

TEST(CallbackBoard, ACallbackBeforeTheAnswerStillCounts) {
  CallbackBoard board;
  board.issued(0, "rt_early");
  EXPECT_EQ(board.receive(post(R"({"resume_token":"rt_early"})", std::string(k_callback_path) + "?x=1")).status, 200);
  board.answered(0, true);
  board.wait(std::chrono::milliseconds(10));
  EXPECT_EQ(board.outcome(0)->state, CallbackOutcome::State::received);
}

TEST(CallbackBoard, WaitsUntilTheTimeoutThenMarksItTimedOut) {
  CallbackBoard board;
  board.issued(1, "rt_late");
  board.answered(1, true);
  const auto start = std::chrono::steady_clock::now();
  std::thread late([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    board.receive(post(R"({"resume_token":"rt_late"})"));
  });
  board.wait(std::chrono::seconds(5));
  late.join();
  EXPECT_EQ(board.outcome(1)->state, CallbackOutcome::State::received);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(4)) << "woken by the callback";

  board.issued(2, "rt_never");
  board.answered(2, true);
  board.wait(std::chrono::milliseconds(20));
  EXPECT_EQ(board.outcome(2)->state, CallbackOutcome::State::timed_out);
}

TEST(CallbackBoard, DoesNotWaitForFailedActions) {
  CallbackBoard board;
  board.issued(5, "rt_x");
  board.answered(5, false);
  board.wait(std::chrono::seconds(10));  // returns at once
  EXPECT_EQ(board.outcome(5)->state, CallbackOutcome::State::not_awaited);
}

TEST(CallbackBoard, RefusesAndReportsWhatEpilotWouldRefuse) {
  CallbackBoard board;
  board.issued(0, "rt_a");
  EXPECT_EQ(board.receive(post(R"({"resume_token":"rt_zzz"})")).status, 404);
  EXPECT_EQ(board.receive(post(R"({"resume_token":"rt_a","extra":1})")).status, 400);
  EXPECT_EQ(board.receive(post("rt_a")).status, 400);
  auto get = post("");
  get.method = "GET";
  EXPECT_EQ(board.receive(get).status, 404);
  EXPECT_EQ(board.receive(post(R"({"resume_token":"rt_a"})")).status, 200);
  EXPECT_EQ(board.receive(post(R"({"resume_token":"rt_a"})")).status, 400);
  EXPECT_EQ(board.problems().size(), 5u);
}

}  // namespace
}  // namespace epilot
