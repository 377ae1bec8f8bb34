#include "lib/epilot/request_log.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <limits>
#include <thread>

namespace epilot {
namespace {

LoggedRequest logged(std::string path, std::string verdict = "valid", bool duplicate = false) {
  LoggedRequest r;
  r.at_ms = 1700000000123;
  r.method = "POST";
  r.path = std::move(path);
  r.webhook_id = "msg_1";
  r.verdict = std::move(verdict);
  r.duplicate = duplicate;
  r.status = r.verdict == "valid" ? 200 : 401;
  r.received = Received{};
  r.received->request.method = "POST";
  r.received->request.url = "http://127.0.0.1/hook?token=SeCrEt";
  r.received->request.headers = {{"x-customer", "Globex \"Inc\""}};
  r.received->request.body = R"({"note":"Order 42 for ACME"})";
  return r;
}

std::vector<std::uint64_t> numbers(const LogPage& page) {
  std::vector<std::uint64_t> out;
  for (const auto& r : page.requests) {
    out.push_back(r->seq);
  }
  return out;
}

TEST(RequestLog, NumbersFromOneAndPagesNewestFirst) {
  RequestLog log(1 << 20);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(log.add(logged(std::string("/").append(std::to_string(i)))), static_cast<std::uint64_t>(i + 1));
  }
  LogQuery query;
  query.limit = 2;
  auto page = log.page(query);
  EXPECT_EQ(numbers(page), (std::vector<std::uint64_t>{5, 4}));
  EXPECT_TRUE(page.more);
  EXPECT_EQ(page.total, 5u);
  EXPECT_EQ(page.latest, 5u);
  query.before = 4;
  EXPECT_EQ(numbers(log.page(query)), (std::vector<std::uint64_t>{3, 2}));
  query.before = 2;
  page = log.page(query);
  EXPECT_EQ(numbers(page), (std::vector<std::uint64_t>{1}));
  EXPECT_FALSE(page.more);
  query = {};
  query.after = 3;
  EXPECT_EQ(numbers(log.page(query)), (std::vector<std::uint64_t>{5, 4}));
  EXPECT_EQ(log.find(3)->path, "/2");
  EXPECT_EQ(log.find(0), nullptr);
  EXPECT_EQ(log.find(6), nullptr);
}

TEST(RequestLog, AnEmptyLogHasNoPage) {
  RequestLog log(1 << 20);
  const auto page = log.page({});
  EXPECT_TRUE(page.requests.empty());
  EXPECT_EQ(page.latest, 0u);
  EXPECT_EQ(log.latest(), 0u);
}

TEST(RequestLog, FiltersByVerdictAndText) {
  RequestLog log(1 << 20);
  log.add(logged("/a"));
  log.add(logged("/b", "signature_mismatch"));
  log.add(logged("/c", "valid", true));
  log.add(logged("/d", "refused"));
  LogQuery query;
  query.verdict = VerdictFilter::ok;
  EXPECT_EQ(numbers(log.page(query)), (std::vector<std::uint64_t>{1}));
  query.verdict = VerdictFilter::failed;
  EXPECT_EQ(numbers(log.page(query)), (std::vector<std::uint64_t>{4, 2}));
  query.verdict = VerdictFilter::duplicate;
  EXPECT_EQ(numbers(log.page(query)), (std::vector<std::uint64_t>{3}));
  // Lower case finds any case; a capital letter asks for exact case. The
  // body is searched too.
  query.verdict = VerdictFilter::all;
  query.text = "acme";
  EXPECT_EQ(log.page(query).requests.size(), 4u);
  query.text = "Acme";
  EXPECT_TRUE(log.page(query).requests.empty());
  query.text = "ACME";
  EXPECT_EQ(log.page(query).requests.size(), 4u);
  query.text = "/b";
  EXPECT_EQ(numbers(log.page(query)), (std::vector<std::uint64_t>{2}));
  // Fields as they came, not as JSON: a quote is a quote; the URL's query
  // and header values are searched; JSON's own words are not.
  query.text = "\"note\":\"order";
  EXPECT_EQ(log.page(query).requests.size(), 4u);
  query.text = "globex \"inc\"";
  EXPECT_EQ(log.page(query).requests.size(), 4u);
  query.text = "token=SeCrEt";
  EXPECT_EQ(log.page(query).requests.size(), 4u);
  for (const auto* json_word : {"latency_us", "duplicate", "seq", "null"}) {
    query.text = json_word;
    EXPECT_TRUE(log.page(query).requests.empty()) << json_word;
  }
}

TEST(RequestLog, FindsTextAtEitherEndAndNotPastIt) {
  RequestLog log(1 << 20);
  auto r = logged("/x");
  r.received->request.body = "Zebra in the middle, yak";
  r.received->request.headers.clear();
  r.received->request.url.clear();
  log.add(r);
  LogQuery query;
  for (const auto* found : {"z", "zebra", "yak", "k", "ebra in the middle, ya", "Zebra"}) {
    query.text = found;
    EXPECT_EQ(log.page(query).requests.size(), 1u) << found;
  }
  for (const auto* missing :
       {"yaks", "Yak", "ZEBRA", "zebra  in", "xyak", "zebra in the middle, yak and more than the body"}) {
    query.text = missing;
    EXPECT_TRUE(log.page(query).requests.empty()) << missing;
  }
}

TEST(RequestLog, DropsTheOldestBeyondItsBytesButKeepsTheNewest) {
  RequestLog log(2000);
  for (int i = 0; i < 20; ++i) {
    log.add(logged(std::string("/").append(std::to_string(i))));
  }
  const auto page = log.page({});
  EXPECT_LT(page.total, 20u);
  EXPECT_GT(page.total, 0u);
  EXPECT_EQ(page.latest, 20u);
  EXPECT_EQ(page.evicted, 20u - page.total);
  EXPECT_EQ(log.find(1), nullptr);
  EXPECT_EQ(log.find(20)->path, "/19");

  RequestLog tiny(1);
  tiny.add(logged("/only"));
  EXPECT_EQ(tiny.find(1)->path, "/only");
}

TEST(RequestLog, TheSummaryIsTheRowAsJson) {
  RequestLog log(1 << 20);
  auto r = logged("/p<script>");
  r.reasons = {{"signature_mismatch", "no \"entry\" verifies"}};
  r.forwarded = ForwardNote{http::ForwardOutcome::answered, 201, 3, "", true};
  r.latency_us = 1500;
  log.add(std::move(r));
  const auto doc = nlohmann::json::parse(log.find(1)->summary);
  EXPECT_EQ(doc["seq"], 1);
  EXPECT_EQ(doc["at_ms"], 1700000000123);
  EXPECT_EQ(doc["path"], "/p<script>");
  EXPECT_EQ(doc["latency_us"], 1500);
  EXPECT_EQ(doc["reasons"][0]["message"], "no \"entry\" verifies");
  EXPECT_EQ(doc["forwarded"]["status"], 201);
  EXPECT_EQ(doc["forwarded"]["unverified"], true);
  EXPECT_TRUE(doc["forwarded"]["error"].is_null());
}

TEST(RequestLog, PagesAtTheEndsOfTheNumbers) {
  RequestLog log(1 << 20);
  log.add(logged("/a"));
  LogQuery query;
  query.after = std::numeric_limits<std::uint64_t>::max();
  EXPECT_TRUE(log.page(query).requests.empty());
  query = {};
  query.before = std::numeric_limits<std::uint64_t>::max();
  EXPECT_EQ(log.page(query).requests.size(), 1u);
  query.before = 1;
  EXPECT_TRUE(log.page(query).requests.empty());
  EXPECT_TRUE(log.wait_after(std::numeric_limits<std::uint64_t>::max(), 10, std::chrono::milliseconds(1))->empty());
}

TEST(RequestLog, WaitersWakeForANewRequestAndForClose) {
  RequestLog log(1 << 20);
  log.add(logged("/old"));
  std::thread adder([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    log.add(logged("/new"));
  });
  const auto got = log.wait_after(1, 10, std::chrono::seconds(10));
  adder.join();
  ASSERT_TRUE(got.has_value());
  ASSERT_EQ(got->size(), 1u);
  EXPECT_EQ((*got)[0]->path, "/new");
  // Nothing new: an empty answer once the wait is over.
  EXPECT_TRUE(log.wait_after(2, 10, std::chrono::milliseconds(1))->empty());
  // At most `limit`, oldest first.
  const auto first = log.wait_after(0, 1, std::chrono::milliseconds(1));
  ASSERT_EQ(first->size(), 1u);
  EXPECT_EQ((*first)[0]->seq, 1u);
  std::thread closer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    log.close();
  });
  EXPECT_FALSE(log.wait_after(2, 10, std::chrono::seconds(10)).has_value());
  closer.join();
}

TEST(RequestLog, KeepsWhatListenMadeOfARequest) {
  Received r;
  r.request.method = "POST";
  r.result.verification.id = "msg_x";
  r.result.verification.verdict = webhook::Verdict::timestamp_too_old;
  r.result.reasons.push_back({webhook::ReasonCode::timestamp_too_old, "12 minutes old"});
  r.duplicate = false;
  r.answer = {401, "{}"};
  r.forwarded = ForwardNote{http::ForwardOutcome::timeout, 0, 10000, "no answer", true};
  r.request.body = "the body";
  const auto logged = logged_request(r, "/hook", 1700000000123, 250);
  EXPECT_EQ(logged.method, "POST");
  EXPECT_EQ(logged.path, "/hook");
  EXPECT_EQ(logged.webhook_id, "msg_x");
  EXPECT_EQ(logged.verdict, "timestamp_too_old");
  EXPECT_EQ(logged.status, 401);
  EXPECT_EQ(logged.latency_us, 250);
  EXPECT_EQ(logged.at_ms, 1700000000123);
  ASSERT_EQ(logged.reasons.size(), 1u);
  EXPECT_EQ(logged.reasons[0], (std::pair<std::string, std::string>{"timestamp_too_old", "12 minutes old"}));
  EXPECT_EQ(logged.forwarded->error, "no answer");
  EXPECT_EQ(logged.received->request.body, "the body");
}

}  // namespace
}  // namespace epilot
