#pragma once

// The conformance battery behind `check`: which cases there are, what each
// wants of an answer, and the verdict on the answers an endpoint gave. The
// requests are check_requests', sending them check_run's.
//
// The case ids are a public contract: scripts and JUnit reports key on them.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lib/epilot/replay_verdicts.hpp"
#include "lib/http/load_client.hpp"
#include "lib/webhook/keys.hpp"

namespace epilot {

// must: a failure means the endpoint can be fooled. should: it will break
// on real traffic or under attack.
enum class CheckLevel { must, should };
std::string_view to_code(CheckLevel level);

enum class CaseId {
  genuine,
  forged_key,
  tampered_body,
  tampered_id,
  tampered_timestamp,
  unsigned_request,
  empty_signature,
  stale,
  future,
  wrong_scheme,
  version_swap,
  genuine_last_of_many,
  genuine_unknown_version,
  genuine_header_case,
  genuine_near_edge,
  genuine_v1a_and_v1,
  genuine_noncanonical_json,
  genuine_non_ascii,
  replayed,
  malformed_signature,
  missing_id,
  missing_timestamp,
  timestamp_garbage,
  wrong_method,
  oversized,
};

// What an answer must be for the case to pass.
enum class Wanted {
  success,                // 2xx
  refusal,                // a 4xx; a 5xx or a closed connection is not being fooled either (noted)
  client_error,           // 4xx: not a 5xx, a hang or a reset
  client_error_or_close,  // 4xx, or the connection closed
  not_repeated,           // the repeat of a genuine request is refused or skipped
};

struct CaseInfo {
  CaseId id;
  std::string_view name;  // the public id: "tampered-body"
  CheckLevel level;
  Wanted wanted;
  std::string_view summary;  // one line: what it sends and wants
  std::string_view fix;      // what an endpoint that fails it should do
};

inline constexpr std::size_t k_case_count = 25;

// Every case, in the order they run: `genuine` first, the must cases, then
// the should cases, `oversized` last (it may close the connection).
std::span<const CaseInfo> check_battery();
const CaseInfo& case_info(CaseId id);
const CaseInfo* find_case(std::string_view name);

// What a case expects, in words: "2xx", "4xx", ...
std::string_view describe(Wanted wanted);

// The keys the battery signs with: the scheme under test is v1a when there
// is a private key, else v1. A secret beside a private key is used by
// genuine-v1a-and-v1 only.
struct CheckKeys {
  std::optional<webhook::PrivateKey> private_key;
  std::optional<webhook::Secret> secret;
};

// --- Judging ---

enum class CaseVerdict { pass, fail, inconclusive, skipped };
std::string_view to_code(CaseVerdict verdict);

struct CaseAnswer {
  http::Delivered delivered;
  Classified classified;
};

// For `replayed`: how an endpoint that deduplicates without saying so
// answers a repeat, as given by its user. `expectation` as replay's are;
// `body_text`, when set, must also be in the answer's body.
struct DuplicateAnswer {
  Expectation expectation;
  std::string body_text;
};

struct Judgement {
  CaseVerdict verdict = CaseVerdict::fail;
  std::string why;           // a line: why it failed or is inconclusive; a note on a pass, if any
  std::size_t deciding = 0;  // the answer the verdict rests on
};

// "401 other: HTTP 401: ...", "timeout: no complete answer within 10000 ms".
std::string describe_answer(const CaseAnswer& answer);

// The verdict on case `info` from the answers to its requests (one each, in
// order); `what` says what each request was, in words. `duplicate` is the
// user's description of a silent repeat answer.
Judgement judge_case(const CaseInfo& info, std::span<const CaseAnswer> answers, std::span<const std::string> what,
                     const DuplicateAnswer* duplicate);

// Why case `id` can't be made from these keys and this genuine body (for
// example genuine-v1a-and-v1 without a secret); empty when it can.
std::string unavailable_reason(CaseId id, const CheckKeys& keys, std::string_view genuine_body);

// How many requests case `id` sends (build_case makes exactly this many,
// unless the case is unavailable).
std::size_t request_count(CaseId id);

}  // namespace epilot
