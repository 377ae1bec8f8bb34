#include "lib/http/retry.hpp"

#include <gtest/gtest.h>

namespace epilot::http {
namespace {

using std::chrono::milliseconds;

RetryPolicy policy(unsigned retries, milliseconds backoff = milliseconds(100), milliseconds cap = milliseconds(0)) {
  return RetryPolicy{retries, backoff, cap};
}

FailedAttempt refused(unsigned attempts) {
  FailedAttempt a;
  a.connected = false;
  a.attempts = attempts;
  return a;
}

FailedAttempt broke(unsigned attempts) {
  FailedAttempt a;
  a.connected = true;
  a.attempts = attempts;
  return a;
}

// A reused keep-alive connection that closed before any answer byte.
FailedAttempt stale(unsigned attempts) {
  auto a = broke(attempts);
  a.reused_connection = true;
  return a;
}

TEST(DecideRetry, FinalFailuresAreNeverRetried) {
  auto a = refused(1);
  a.final = true;
  EXPECT_EQ(decide_retry(a, policy(5)).action, RetryAction::give_up);
  a.stale_resend_used = true;  // not reported as broken either: the certificate is the news
  EXPECT_EQ(decide_retry(a, policy(5)).action, RetryAction::give_up);
  auto s = stale(1);
  s.final = true;
  EXPECT_EQ(decide_retry(s, policy(5)).action, RetryAction::give_up);
}

TEST(DecideRetry, StaleKeepAliveIsResentAtOnceEvenWithoutRetries) {
  const auto d = decide_retry(stale(1), policy(0));
  EXPECT_EQ(d.action, RetryAction::resend_now);
  EXPECT_EQ(d.wait, milliseconds(0));
}

TEST(DecideRetry, StaleResendAlsoWhenTheWholeRequestWentOut) {
  // request_cut stays false both when nothing and when everything was sent.
  EXPECT_EQ(decide_retry(stale(3), policy(0)).action, RetryAction::resend_now);
}

TEST(DecideRetry, StaleResendOnlyOnce) {
  auto a = stale(1);
  a.stale_resend_used = true;
  EXPECT_EQ(decide_retry(a, policy(0)).action, RetryAction::give_up);
  EXPECT_EQ(decide_retry(a, policy(1)).action, RetryAction::retry_later);
}

TEST(DecideRetry, NoStaleResendWhenTheAnswerHadStarted) {
  auto a = stale(1);
  a.answer_started = true;
  EXPECT_EQ(decide_retry(a, policy(3)).action, RetryAction::give_up);  // the server acted on it
}

TEST(DecideRetry, NoStaleResendWhenTheBodyWasCutOff) {
  auto a = stale(1);
  a.request_cut = true;
  EXPECT_EQ(decide_retry(a, policy(0)).action, RetryAction::give_up);
  EXPECT_EQ(decide_retry(a, policy(1)).action, RetryAction::retry_later);
}

TEST(DecideRetry, NoStaleResendOnAFreshConnection) {
  EXPECT_EQ(decide_retry(broke(1), policy(0)).action, RetryAction::give_up);
}

TEST(DecideRetry, NoStaleResendWhenUnreachable) {
  auto a = refused(1);
  a.reused_connection = true;
  EXPECT_EQ(decide_retry(a, policy(0)).action, RetryAction::give_up);
}

TEST(DecideRetry, UnreachableIsRetriedWhileRetriesLast) {
  EXPECT_EQ(decide_retry(refused(1), policy(2)).action, RetryAction::retry_later);
  EXPECT_EQ(decide_retry(refused(2), policy(2)).action, RetryAction::retry_later);
  EXPECT_EQ(decide_retry(refused(3), policy(2)).action, RetryAction::give_up);
  EXPECT_EQ(decide_retry(refused(1), policy(0)).action, RetryAction::give_up);
}

TEST(DecideRetry, BrokenBeforeAnyAnswerIsRetried) {
  EXPECT_EQ(decide_retry(broke(1), policy(1)).action, RetryAction::retry_later);
  EXPECT_EQ(decide_retry(broke(2), policy(1)).action, RetryAction::give_up);
}

TEST(DecideRetry, BrokenAfterTheAnswerStartedIsNot) {
  auto a = broke(1);
  a.answer_started = true;
  EXPECT_EQ(decide_retry(a, policy(5)).action, RetryAction::give_up);
}

TEST(DecideRetry, BackoffDoublesPerAttempt) {
  EXPECT_EQ(decide_retry(refused(1), policy(9)).wait, milliseconds(100));
  EXPECT_EQ(decide_retry(refused(2), policy(9)).wait, milliseconds(200));
  EXPECT_EQ(decide_retry(refused(4), policy(9)).wait, milliseconds(800));
}

TEST(DecideRetry, BackoffDoublingStopsAtTwoToTheSixteenth) {
  EXPECT_EQ(decide_retry(refused(17), policy(100, milliseconds(1))).wait, milliseconds(65536));
  EXPECT_EQ(decide_retry(refused(40), policy(100, milliseconds(1))).wait, milliseconds(65536));
}

TEST(DecideRetry, MaxBackoffCapsTheWait) {
  EXPECT_EQ(decide_retry(refused(1), policy(9, milliseconds(100), milliseconds(150))).wait, milliseconds(100));
  EXPECT_EQ(decide_retry(refused(3), policy(9, milliseconds(100), milliseconds(150))).wait, milliseconds(150));
  EXPECT_EQ(decide_retry(refused(3), policy(9, milliseconds(100), milliseconds(0))).wait, milliseconds(400));
}

TEST(DecideRetry, ZeroBackoffRetriesAtOnce) {
  const auto d = decide_retry(refused(1), policy(1, milliseconds(0)));
  EXPECT_EQ(d.action, RetryAction::retry_later);
  EXPECT_EQ(d.wait, milliseconds(0));
}

TEST(DecideRetry, UnreachableAfterAStaleResendIsReportedAsBroken) {
  auto a = refused(1);
  a.stale_resend_used = true;
  EXPECT_EQ(decide_retry(a, policy(0)).action, RetryAction::give_up_broken);
  a.attempts = 3;
  EXPECT_EQ(decide_retry(a, policy(2)).action, RetryAction::give_up_broken);
  EXPECT_EQ(decide_retry(a, policy(3)).action, RetryAction::retry_later);  // retries first
}

TEST(DecideRetry, BrokenAfterAStaleResendIsReportedAsItself) {
  auto a = broke(1);
  a.stale_resend_used = true;
  a.answer_started = true;
  EXPECT_EQ(decide_retry(a, policy(0)).action, RetryAction::give_up);
}

static_assert(decide_retry(FailedAttempt{}, RetryPolicy{}).action == RetryAction::retry_later,
              "decide_retry is usable at compile time");

}  // namespace
}  // namespace epilot::http
