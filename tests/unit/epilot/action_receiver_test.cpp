#include "lib/epilot/action_receiver.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "lib/webhook/input_formats.hpp"

namespace epilot {
namespace {

constexpr std::int64_t k_now = 1700000000;

webhook::Secret secret() { return *webhook::parse_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"); }

webhook::Capture request(const std::string& id, std::int64_t ts = k_now, bool forged = false) {
  webhook::Capture c;
  c.method = "POST";
  c.url = "http://127.0.0.1:3000/";
  c.body = R"({"type":"external_integration"})";
  const auto t = std::to_string(ts);
  c.headers = {{"webhook-id", id},
               {"webhook-timestamp", t},
               {"webhook-signature", sign_v1(secret(), id, t, forged ? "other" : c.body)}};
  return c;
}

ReceiverConfig config() {
  ReceiverConfig c;
  c.keys.secrets.push_back({"s", secret()});
  return c;
}

TEST(Receiver, AnswersVerifiedRequestsWithTheConfiguredShape) {
  Receiver plain(config());
  const auto ok = plain.handle(request("msg_1"), k_now);
  EXPECT_EQ(ok.answer.status, 200);
  EXPECT_EQ(ok.answer.body, "{}");

  auto skip = config();
  skip.shape = AnswerShape::skip;
  skip.reason = "no contract";
  EXPECT_EQ(Receiver(skip).handle(request("msg_1"), k_now).answer.body, R"({"skip_reason":"no contract"})");

  auto failing = config();
  failing.shape = AnswerShape::fail;
  failing.reason = "credit check failed";
  const auto f = Receiver(failing).handle(request("msg_1"), k_now);
  EXPECT_EQ(f.answer.status, 422);
  const auto body = nlohmann::json::parse(f.answer.body);
  EXPECT_EQ(body["error_output"]["error_reason"], "credit check failed");
  EXPECT_EQ(body["error_output"]["error_info"]["details"][0]["explanation"], "credit check failed");

  auto custom = config();
  custom.status = 202;
  custom.body = "accepted";
  const auto c = Receiver(custom).handle(request("msg_1"), k_now);
  EXPECT_EQ(c.answer.status, 202);
  EXPECT_EQ(c.answer.body, "accepted");
}

TEST(Receiver, RejectsWhatDoesNotVerifyWithTheReasons) {
  Receiver r(config());
  const auto forged = r.handle(request("msg_1", k_now, true), k_now);
  EXPECT_EQ(forged.answer.status, 401);
  const auto body = nlohmann::json::parse(forged.answer.body);
  EXPECT_EQ(body["verdict"], "signature_mismatch");
  EXPECT_FALSE(body["reasons"].empty());
  const auto stale = r.handle(request("msg_2", k_now - 301), k_now);
  EXPECT_EQ(nlohmann::json::parse(stale.answer.body)["verdict"], "timestamp_too_old");
}

TEST(Receiver, RefusesReplaysButNotBecauseOfAForgery) {
  Receiver r(config());
  // A forged request with a genuine id first: it must not block the genuine one.
  EXPECT_EQ(r.handle(request("msg_1", k_now, true), k_now).answer.status, 401);
  EXPECT_EQ(r.handle(request("msg_1"), k_now).answer.status, 200);
  const auto again = r.handle(request("msg_1"), k_now + 10);
  EXPECT_TRUE(again.duplicate);
  EXPECT_EQ(again.answer.status, k_duplicate_status);
  // Once the window (twice the tolerance) has passed, the id is forgotten; by
  // then its old timestamp would fail anyway, so the request is re-signed.
  EXPECT_EQ(r.handle(request("msg_1", k_now + 700), k_now + 700).answer.status, 200);

  auto allow = config();
  allow.allow_duplicates = true;
  Receiver lenient(allow);
  EXPECT_EQ(lenient.handle(request("msg_1"), k_now).answer.status, 200);
  EXPECT_EQ(lenient.handle(request("msg_1"), k_now).answer.status, 200);
}

TEST(Receiver, AcceptUnsignedAnswersButRecordsTheVerdict) {
  auto c = config();
  c.accept_unsigned = true;
  const auto r = Receiver(c).handle(request("msg_1", k_now, true), k_now);
  EXPECT_EQ(r.answer.status, 200);
  EXPECT_EQ(r.result.verification.verdict, webhook::Verdict::signature_mismatch);
}

TEST(ReceivedRecord, IsACaptureWithTheOutcome) {
  Receiver r(config());
  const auto received = r.handle(request("msg_1"), k_now);
  const auto line = received_record(received);
  EXPECT_EQ(line.find('\n'), line.size() - 1);
  const auto doc = nlohmann::json::parse(line);
  EXPECT_EQ(doc["verdict"], "valid");
  EXPECT_EQ(doc["status"], 200);
  EXPECT_EQ(doc["received_at"], k_now);
  const auto capture = webhook::parse_capture_line(line);
  ASSERT_TRUE(capture.ok()) << capture.error().message;
  EXPECT_EQ(capture->body, received.request.body);
  EXPECT_EQ(*capture->find_header("webhook-signature"), *received.request.find_header("webhook-signature"));
}

TEST(ReceivedRecord, SaysWhatTheAppMadeOfAForwardedRequest) {
  Receiver r(config());
  auto received = r.handle(request("msg_1"), k_now);
  EXPECT_EQ(nlohmann::json::parse(received_record(received)).count("forwarded"), 0U);  // not forwarded: no field

  received.forwarded = ForwardNote{http::ForwardOutcome::answered, 201, 7, "", false};
  auto doc = nlohmann::json::parse(received_record(received));
  EXPECT_EQ(doc["forwarded"],
            nlohmann::json::parse(R"({"outcome":"answered","status":201,"ms":7,"unverified":false})"));

  received.forwarded =
      ForwardNote{http::ForwardOutcome::timeout, 0, 300, "no complete answer within the timeout", true};
  doc = nlohmann::json::parse(received_record(received));
  EXPECT_EQ(doc["forwarded"]["outcome"], "timeout");
  EXPECT_TRUE(doc["forwarded"]["status"].is_null());
  EXPECT_EQ(doc["forwarded"]["error"], "no complete answer within the timeout");
  EXPECT_EQ(doc["forwarded"]["unverified"], true);
}

}  // namespace
}  // namespace epilot
