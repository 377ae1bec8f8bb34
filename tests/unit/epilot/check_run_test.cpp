#include "lib/epilot/check_run.hpp"

#include <gtest/gtest.h>

#include <set>

#include "tests/unit/check_support.hpp"

namespace epilot {
namespace {

using namespace epilot::test;

// Answers every request with `answer_for(request bytes)`, recording them.
class FakeSender : public CaseSender {
 public:
  std::function<CaseAnswer(const std::string& head)> answer_for;
  std::vector<std::string> heads;
  std::vector<std::uint64_t> batches;

  Status send(std::uint64_t count, const std::function<void(std::uint64_t, http::OutgoingRequest&)>& build,
              const std::function<void(http::Delivered&)>& done, const std::atomic<bool>& stop) override {
    batches.push_back(count);
    for (std::uint64_t job = 0; job < count && !stop.load(); ++job) {
      http::OutgoingRequest out;
      build(job, out);
      heads.push_back(out.head);
      auto delivered = answer_for(out.head).delivered;
      delivered.job = job;
      done(delivered);
    }
    return ok_status();
  }
};

BatteryRun battery_run(std::vector<std::string>* order) {
  BatteryRun run;
  run.keys = v1a_keys();
  run.context = [] { return context(); };
  run.on_case = [order](const CaseResult& r) { order->emplace_back(r.info->name); };
  return run;
}

TEST(CheckRun, EveryCaseIsReportedOnceInBatteryOrder) {
  std::vector<std::string> order;
  auto run = battery_run(&order);
  FakeSender sender;
  // genuine needs a 2xx: answer it by its place (the first request).
  bool first = true;
  sender.answer_for = [&first](const std::string& head) {
    const bool was_first = first;
    first = false;
    return answer(was_first ? 200 : (head.rfind("GET", 0) == 0 ? 405 : 401));
  };
  const auto results = *run_battery(run, sender);
  ASSERT_EQ(order.size(), 25u);
  for (std::size_t i = 0; i < order.size(); ++i) {
    EXPECT_EQ(order[i], check_battery()[i].name);
  }
  EXPECT_EQ(sender.batches, (std::vector<std::uint64_t>{1, 26})) << "genuine alone, then the rest (skip: v1a-and-v1)";
  EXPECT_EQ(results[static_cast<std::size_t>(CaseId::genuine_v1a_and_v1)].judgement.verdict, CaseVerdict::skipped);
  EXPECT_EQ(results[static_cast<std::size_t>(CaseId::stale)].judgement.verdict, CaseVerdict::pass);
  EXPECT_EQ(results[static_cast<std::size_t>(CaseId::genuine_near_edge)].judgement.verdict, CaseVerdict::fail);
  EXPECT_EQ(results[static_cast<std::size_t>(CaseId::replayed)].answers.size(), 2u);
}

TEST(CheckRun, ARefusedGenuineRequestSendsNothingElse) {
  std::vector<std::string> order;
  auto run = battery_run(&order);
  FakeSender sender;
  sender.answer_for = [](const std::string&) { return answer(401); };
  const auto results = *run_battery(run, sender);
  EXPECT_EQ(sender.heads.size(), 1u);
  EXPECT_EQ(results[0].judgement.verdict, CaseVerdict::fail);
  for (std::size_t i = 1; i < results.size(); ++i) {
    EXPECT_EQ(results[i].judgement.verdict, CaseVerdict::inconclusive) << results[i].info->name;
    EXPECT_TRUE(results[i].answers.empty());
  }
  EXPECT_EQ(order.size(), 25u);
}

TEST(CheckRun, EveryRequestOfARunHasItsOwnWebhookId) {
  std::vector<std::string> order;
  auto run = battery_run(&order);
  FakeSender sender;
  bool first = true;
  sender.answer_for = [&first](const std::string&) {
    const bool was_first = first;
    first = false;
    return answer(was_first ? 200 : 401);
  };
  (void)*run_battery(run, sender);
  std::set<std::string> ids;
  std::size_t with_id = 0;
  for (const auto& head : sender.heads) {
    const auto at = head.find("\r\nwebhook-id: ");
    if (at != std::string::npos) {
      ++with_id;
      ids.insert(head.substr(at + 14, 36));
    }
  }
  EXPECT_GT(with_id, 20u);
  EXPECT_EQ(ids.size() + 1, with_id) << "only replayed sends one id twice";
}

// Fails the second batch: nothing can be sent after genuine.
class FailingSender : public FakeSender {
 public:
  Status send(std::uint64_t count, const std::function<void(std::uint64_t, http::OutgoingRequest&)>& build,
              const std::function<void(http::Delivered&)>& done, const std::atomic<bool>& stop) override {
    if (!batches.empty()) {
      return make_error(ErrorCode::network, "gone");
    }
    return FakeSender::send(count, build, done, stop);
  }
};

// Can't start at all (a host that does not resolve).
class NowhereSender : public FakeSender {
 public:
  Status send(std::uint64_t, const std::function<void(std::uint64_t, http::OutgoingRequest&)>&,
              const std::function<void(http::Delivered&)>&, const std::atomic<bool>&) override {
    return make_error(ErrorCode::network, "no-such-host.invalid does not resolve");
  }
};

TEST(CheckRun, AGenuineRequestThatCannotStartIsUndelivered) {
  std::vector<std::string> order;
  auto run = battery_run(&order);
  NowhereSender sender;
  const auto results = run_battery(run, sender);
  ASSERT_TRUE(results.ok());
  const auto& genuine = results->front();
  ASSERT_EQ(genuine.answers.size(), 1u);
  EXPECT_EQ(genuine.answers[0].delivered.delivery, http::Delivery::unreachable);
  EXPECT_EQ(genuine.answers[0].delivered.error, "no-such-host.invalid does not resolve");
  EXPECT_EQ(genuine.judgement.verdict, CaseVerdict::inconclusive);
  EXPECT_EQ(order.size(), 25u) << "every case still reported";
}

TEST(CheckRun, ASenderThatFailsLaterIsTheRunsError) {
  std::vector<std::string> order;
  auto run = battery_run(&order);
  FailingSender sender;
  sender.answer_for = [](const std::string&) { return answer(200); };
  const auto results = run_battery(run, sender);
  ASSERT_FALSE(results.ok());
  EXPECT_EQ(results.error().message, "gone");
  EXPECT_EQ(order.front(), "genuine") << "what was judged before was reported";
}

TEST(CheckRun, AnEndpointThatGoesAwayIsNotSentTheRest) {
  std::vector<std::string> order;
  auto run = battery_run(&order);
  FakeSender sender;
  int n = 0;
  sender.answer_for = [&n](const std::string&) {
    ++n;
    return n == 1 ? answer(200) : (n < 4 ? answer(401) : failure(http::Delivery::unreachable, "can't connect"));
  };
  const auto results = *run_battery(run, sender);
  EXPECT_EQ(sender.heads.size(), 4u) << "genuine, two answered, the one that found nobody";
  const auto& gone = results[static_cast<std::size_t>(CaseId::tampered_id)];
  EXPECT_EQ(gone.judgement.verdict, CaseVerdict::inconclusive);
  EXPECT_EQ(gone.judgement.why, "the endpoint could not be reached: can't connect");
  const auto& after = results[static_cast<std::size_t>(CaseId::stale)];
  EXPECT_EQ(after.judgement.verdict, CaseVerdict::inconclusive);
  EXPECT_EQ(after.judgement.why, "not run: the endpoint was gone by tampered-id");
  EXPECT_TRUE(after.answers.empty());
  EXPECT_EQ(order.size(), 25u);
}

TEST(CheckRun, LeftOutCasesAreSkippedWithTheirReason) {
  std::vector<std::string> order;
  auto run = battery_run(&order);
  run.left_out.assign(check_battery().size(), "not named");
  run.left_out[0].clear();
  run.left_out[static_cast<std::size_t>(CaseId::stale)].clear();
  FakeSender sender;
  sender.answer_for = [](const std::string& head) {
    return answer(head.find("webhook-timestamp: 1750000000\r\n") != std::string::npos ? 200 : 401);
  };
  const auto results = *run_battery(run, sender);
  EXPECT_EQ(sender.heads.size(), 2u);
  EXPECT_EQ(results[static_cast<std::size_t>(CaseId::stale)].judgement.verdict, CaseVerdict::pass);
  EXPECT_EQ(results[static_cast<std::size_t>(CaseId::oversized)].judgement.verdict, CaseVerdict::skipped);
  EXPECT_EQ(results[static_cast<std::size_t>(CaseId::oversized)].judgement.why, "not named");
  EXPECT_EQ(results[static_cast<std::size_t>(CaseId::stale)].requests.size(), 1u);
  EXPECT_EQ(results[static_cast<std::size_t>(CaseId::stale)].sent, "a request signed 360 s ago (tolerance 300 s)");
}

}  // namespace
}  // namespace epilot
