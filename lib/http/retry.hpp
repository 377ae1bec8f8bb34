#pragma once

// When the load client tries a request again: a pure function of what went
// wrong with an attempt, so that every branch is tested without a network.

#include <algorithm>
#include <chrono>

namespace epilot::http {

// What an attempt that did not end in an answer (nor a timeout) came to.
struct FailedAttempt {
  bool connected = false;          // false: unreachable (no connection, or no TLS over it); true: it broke
  bool final = false;              // trying again changes nothing (the certificate, the protocol, TLS setup)
  bool reused_connection = false;  // the connection had carried an answer before this request
  bool answer_started = false;     // some bytes of an answer had arrived
  bool request_cut = false;        // some, but not all, of the request had gone out
  bool stale_resend_used = false;  // this job was already resent once for a stale connection
  unsigned attempts = 1;           // attempts made, this one included (a stale resend is not one)
};

struct RetryPolicy {
  unsigned retries = 2;                      // extra attempts after the first
  std::chrono::milliseconds backoff{100};    // before retry n: backoff * 2^(n-1)
  std::chrono::milliseconds max_backoff{0};  // 0: no cap
};

enum class RetryAction {
  resend_now,      // on a new connection at once, and it is not one of the retries
  retry_later,     // after `wait`
  give_up,         // deliver the failure as it is
  give_up_broken,  // deliver it as broken: the stale connection's error, then this one
};

struct RetryDecision {
  RetryAction action = RetryAction::give_up;
  std::chrono::milliseconds wait{0};
};

constexpr RetryDecision decide_retry(const FailedAttempt& attempt, const RetryPolicy& policy) {
  if (attempt.final) {
    return {RetryAction::give_up};
  }
  // Refused before a byte went out, or closed after the last one, on a
  // connection that had answered before: what an idle keep-alive connection
  // the server dropped looks like (or one it closes after every answer
  // without saying so). The request never reached it. A body cut off halfway
  // is the server refusing this request (it may have answered, or crashed).
  if (attempt.connected && attempt.reused_connection && !attempt.answer_started && !attempt.request_cut &&
      !attempt.stale_resend_used) {
    return {RetryAction::resend_now};
  }
  // Once an answer has started, the server has acted on the request.
  const bool retriable = !attempt.connected || !attempt.answer_started;
  if (retriable && attempt.attempts <= policy.retries) {
    auto wait = policy.backoff * (1u << std::min(attempt.attempts - 1, 16u));
    if (policy.max_backoff.count() > 0) {
      wait = std::min(wait, policy.max_backoff);
    }
    return {RetryAction::retry_later, wait};
  }
  // The connection broke under this request and the server then took no new
  // one: it went away on this request, which is what to report.
  if (!attempt.connected && attempt.stale_resend_used) {
    return {RetryAction::give_up_broken};
  }
  return {RetryAction::give_up};
}

}  // namespace epilot::http
