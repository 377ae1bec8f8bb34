#pragma once

// The conformance battery behind `check`: which cases there are, the
// requests each one sends (a genuine request, signed as of the moment it is
// built, then changed the way the case says), and how an endpoint's answers
// are judged. Sending is the caller's; nothing here touches the network.
//
// The case ids are a public contract: scripts and JUnit reports key on them.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lib/capture.hpp"
#include "lib/crypto.hpp"
#include "lib/keys.hpp"
#include "lib/loadgen.hpp"
#include "lib/replay_report.hpp"

namespace epilot {

// must: a failure means the endpoint can be fooled. should: it will break
// on real traffic or under attack.
enum class CheckLevel { must, should };
std::string_view describe(CheckLevel level);

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
  success,              // 2xx
  refusal,              // a 4xx; a 5xx or a closed connection is not being fooled either (noted)
  client_error,         // 4xx: not a 5xx, a hang or a reset
  client_error_or_close,  // 4xx, or the connection closed
  not_repeated,         // the repeat of a genuine request is refused or skipped
};

struct CaseInfo {
  CaseId id;
  std::string_view name;     // the public id: "tampered-body"
  CheckLevel level;
  Wanted wanted;
  std::string_view summary;  // one line: what it sends and wants
  std::string_view fix;      // what an endpoint that fails it should do
};

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
  std::optional<PrivateKey> private_key;
  std::optional<Secret> secret;
};

struct CaseContext {
  Capture base;               // method, url, headers (Host first) and the genuine body, unsigned
  std::int64_t now = 0;       // unix seconds, the moment of sending
  std::int64_t tolerance = k_default_tolerance_seconds;
  RandomSource random;
};

struct CaseRequests {
  std::vector<Capture> requests;  // sent one after the other, in order
  std::string sent;               // what was sent, in words ("a request signed 360 s ago")
  std::vector<std::string> each;  // when the requests differ: each one, in words
  std::string skipped;            // set instead when the case can't be made from these inputs
};

// The requests case `id` sends, built from `context` under `keys`. A body
// with data.execution_id (an epilot custom action) gets a fresh one per
// case, so that an app that deduplicates executions sees a new one each
// time (replayed's two sends share theirs).
CaseRequests build_case(CaseId id, const CaseContext& context, const CheckKeys& keys);

// How old genuine-near-edge's timestamp is: 30 s inside the tolerance (half
// of it when that is under a minute).
std::int64_t near_edge_age(std::int64_t tolerance);

// --- Judging ---

enum class CaseVerdict { pass, fail, inconclusive, skipped };
std::string_view describe(CaseVerdict verdict);

struct CaseAnswer {
  Delivered delivered;
  Classified classified;
};

// For `replayed`: how an endpoint that deduplicates without saying so
// answers a repeat, as given by its user. `expectation` as replay's are;
// `body_text`, when set, must also be in the answer's body.
struct DuplicateAnswer {
  Expectation expectation;
  std::string body_text;
};

// "SPEC" or "SPEC:TEXT": statuses, status classes or answer classes as for
// an expectation, and text the body must hold.
Result<DuplicateAnswer> parse_duplicate_answer(std::string_view text);

struct Judgement {
  CaseVerdict verdict = CaseVerdict::fail;
  std::string why;   // a line: why it failed or is inconclusive; a note on a pass, if any
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

// --- Running the battery ---

// The network, as a parameter: sends `count` requests one after another,
// asking `build` for each one's bytes just before it goes, and hands every
// answer (or failure) to `done`, in order. Once `stop` is set (by `done`),
// nothing more is sent. Fails only when nothing can be sent.
class CaseSender {
 public:
  virtual ~CaseSender() = default;
  virtual Status send(std::uint64_t count, const std::function<void(std::uint64_t, OutgoingRequest&)>& build,
                      const std::function<void(Delivered&)>& done, const std::atomic<bool>& stop) = 0;
};

// The real sender: lib/loadgen with one connection. The first send (the
// genuine request) keeps trying to connect for `wait` while the endpoint
// starts (at least the plan's retries); later ones never retry: a closed
// connection is an answer the battery judges.
std::unique_ptr<CaseSender> make_load_sender(LoadPlan plan, std::chrono::milliseconds wait);

// What was sent, for reports (the bodies can be 12 MB: only their size).
struct SentRequest {
  std::string method;
  std::vector<Header> headers;
  std::size_t body_bytes = 0;
  std::string what;  // in words
};

struct CaseResult {
  const CaseInfo* info = nullptr;
  std::string sent;  // in words
  std::vector<SentRequest> requests;
  std::vector<CaseAnswer> answers;
  Judgement judgement;
  std::chrono::nanoseconds latency{0};  // all its requests together
};

struct BatteryRun {
  // Per case of check_battery(), in its order: why it is left out (empty:
  // it runs). genuine always runs.
  std::vector<std::string> left_out;
  CheckKeys keys;
  // The base request (unsigned, its body filled afresh) and the clock, at
  // the moment a case is built.
  std::function<CaseContext()> context;
  const DuplicateAnswer* duplicate = nullptr;
  std::function<void(const CaseResult&)> on_case;  // each case as it is judged, in order
};

// Send `genuine`; if the endpoint accepts it, every other case that runs,
// in battery order; otherwise the rest are inconclusive, as are the cases
// after the endpoint stopped taking connections (they are not sent). One
// result per case of the battery, in order. An error only when nothing
// could be sent.
Result<std::vector<CaseResult>> run_battery(const BatteryRun& run, CaseSender& sender);

// --- Bodies (exposed for tests) ---

// `body` with a new random data.execution_id when it has one (a string),
// re-encoded compactly; otherwise `body` as it is.
std::string with_fresh_execution_id(std::string_view body, const RandomSource& random);

// `body` with one byte changed: a letter or digit inside the first JSON
// string value (so JSON stays JSON), else the first letter or digit, else
// the last byte; an empty body gains one.
std::string tamper_one_byte(std::string_view body);

// A JSON object's text with a member added right after its `{`, the rest
// left byte for byte; nullopt when `body` is not a JSON object.
std::optional<std::string> with_leading_member(std::string_view body, std::string_view name,
                                               std::string_view value_json);

// The same object in bytes no JSON serialiser writes by itself: pretty with
// four-space indents, non-ASCII as \u escapes, '/' as '\/', and a member
// holding "Gr\u00fc\u00dfe", 1.50 and "\/" kept as written.
std::optional<std::string> noncanonical_json(std::string_view body);

inline constexpr std::string_view k_check_member = "epilot_action_check";
inline constexpr std::size_t k_oversized_body = 12u * 1024 * 1024;

}  // namespace epilot
