#pragma once

// What `listen` does with each request, apart from the network: verify it,
// refuse replays, choose the answer a custom-action endpoint would give, and
// describe the result as a capture record.

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "lib/http/forwarder.hpp"
#include "lib/http/response.hpp"
#include "lib/webhook/capture.hpp"
#include "lib/webhook/stream_verify.hpp"

namespace epilot {

// The answers epilot reads from a custom-action endpoint (epilot's docs, "Custom Automated Action").
enum class AnswerShape {
  success,  // 2xx {}
  skip,     // 2xx {"skip_reason": ...}
  fail,     // 4xx/5xx {"error_output": {"error_reason": ..., "error_info": {...}}}
};

struct ReceiverConfig {
  webhook::VerifyKeys keys;
  webhook::VerifyKeys other_keys;
  std::int64_t tolerance = k_default_tolerance_seconds;
  bool accept_unsigned = false;   // answer as configured even when verification fails
  bool allow_duplicates = false;  // answer a webhook-id seen within the window as usual
  AnswerShape shape = AnswerShape::success;
  std::string reason;               // the skip or error reason
  int status = 0;                   // 0: 200, or 422 for AnswerShape::fail
  std::optional<std::string> body;  // overrides the shape's body
};

// The status of an answer to a replayed webhook-id.
inline constexpr int k_duplicate_status = 409;

// What the receiver of epilot's custom actions chose to answer a webhook
// (success, skip, fail, 401 or 409, and its JSON body): a domain decision,
// which becomes an HTTP response in to_http_response() alone.
struct Answer {
  int status = 200;
  std::string body;  // JSON
};

http::HttpResponse to_http_response(Answer answer);

// What the app behind a verifying proxy made of a request it was sent.
struct ForwardNote {
  http::ForwardOutcome outcome = http::ForwardOutcome::answered;
  int status = 0;                 // the app's, when it answered
  std::int64_t milliseconds = 0;  // from sending to the answer's last byte
  std::string error;              // when it did not answer
  bool unverified = false;        // sent on although it did not verify
};

struct Received {
  webhook::Capture request;
  webhook::RecordResult result;  // verification and reasons
  bool duplicate = false;
  Answer answer;  // what the caller was answered (the app's answer, when forwarded)
  std::int64_t received_at = 0;
  std::optional<ForwardNote> forwarded;  // set when the request went on to an app
};

class Receiver {
 public:
  explicit Receiver(ReceiverConfig config) : m_config(std::move(config)) {}

  // Verify `request` as of `now`, check it against the ids seen, choose the
  // answer. Thread-safe. Only verified requests are remembered, so a forged
  // request cannot make a genuine one look like a replay.
  Received handle(webhook::Capture request, std::int64_t now);

  // Forget that `id` was received: a request the app behind a proxy did not
  // take (no answer, or not 2xx) will be sent again by epilot, with the
  // same id, and must not then be turned away as a replay.
  void forget(const std::string& id);

 private:
  bool seen_before(const std::string& id, std::int64_t now);

  ReceiverConfig m_config;
  std::mutex m_mutex;
  std::unordered_map<std::string, std::int64_t> m_seen;  // webhook-id -> when
  std::int64_t m_last_prune = 0;
};

// The capture of `received` with what happened to it: the native capture
// fields plus `received_at`, `verdict`, `reasons`, `duplicate` and `status`
// (readers of captures ignore the extra fields), and `forwarded` when the
// request went on to an app. One line, newline-terminated.
std::string received_record(const Received& received);

}  // namespace epilot
