#include "lib/epilot/check_battery.hpp"

#include <array>
#include <utility>

#include <nlohmann/json.hpp>

#include "lib/util/json.hpp"

namespace epilot {

namespace {

using W = Wanted;
using L = CheckLevel;

// The battery, in run order. Ids and levels are the public contract.
constexpr std::array<CaseInfo, k_case_count> k_battery{{
    {CaseId::genuine, "genuine", L::must, W::success, "a genuine request, signed now: accepted",
     "accept a request signed now with the key the endpoint trusts"},
    {CaseId::forged_key, "forged-key", L::must, W::refusal,
     "signed by a throwaway key (testing v1: a random secret): refused",
     "verify webhook-signature with the key you trust, and answer 401 when no entry verifies"},
    {CaseId::tampered_body, "tampered-body", L::must, W::refusal, "one body byte changed after signing: refused",
     "verify the raw body bytes as received, before doing anything with them"},
    {CaseId::tampered_id, "tampered-id", L::must, W::refusal, "webhook-id changed after signing: refused",
     "verify over <webhook-id>.<webhook-timestamp>.<body>, the id and timestamp as received"},
    {CaseId::tampered_timestamp, "tampered-timestamp", L::must, W::refusal,
     "webhook-timestamp moved by one second after signing: refused",
     "verify over <webhook-id>.<webhook-timestamp>.<body>, the id and timestamp as received"},
    {CaseId::unsigned_request, "unsigned", L::must, W::refusal, "no webhook-signature header: refused",
     "refuse a request without webhook-signature (401)"},
    {CaseId::empty_signature, "empty-signature", L::must, W::refusal, "webhook-signature present but empty: refused",
     "refuse a request whose webhook-signature holds no entry (401)"},
    {CaseId::stale, "stale", L::must, W::refusal, "signed tolerance + 60 s ago: refused",
     "refuse a webhook-timestamp further than the tolerance from now, in the past as in the future"},
    {CaseId::future, "future", L::must, W::refusal, "signed tolerance + 60 s ahead: refused",
     "refuse a webhook-timestamp further than the tolerance from now, in the past as in the future"},
    {CaseId::wrong_scheme, "wrong-scheme", L::must, W::refusal,
     "only an entry of the other scheme (v1 with a random secret, or v1a by a throwaway key): refused",
     "count only entries of the scheme you hold a key for, each checked with that key"},
    {CaseId::version_swap, "version-swap", L::must, W::refusal,
     "the genuine signature under the other version's label (v1a bytes as v1, or the reverse): refused",
     "check each entry with the algorithm its version names: v1a is Ed25519, v1 is HMAC-SHA256"},
    {CaseId::genuine_last_of_many, "genuine-last-of-many", L::should, W::success,
     "two invalid entries, the valid one last: accepted",
     "try every space-separated entry of webhook-signature, not only the first"},
    {CaseId::genuine_unknown_version, "genuine-unknown-version", L::should, W::success,
     "a v2 entry before the valid one: accepted", "skip entries of versions you do not know instead of failing"},
    {CaseId::genuine_header_case, "genuine-header-case", L::should, W::success,
     "header names in mixed case (Webhook-Id, WEBHOOK-TIMESTAMP): accepted", "read header names case-insensitively"},
    {CaseId::genuine_near_edge, "genuine-near-edge", L::should, W::success,
     "signed tolerance - 30 s ago (half the tolerance under a minute): accepted",
     "allow a webhook-timestamp up to the tolerance away from now, inclusive"},
    {CaseId::genuine_v1a_and_v1, "genuine-v1a-and-v1", L::should, W::success,
     "a v1a and a v1 entry (needs a private key and a secret): accepted",
     "accept a request that carries entries of both schemes, verifying the one you hold a key for"},
    {CaseId::genuine_noncanonical_json, "genuine-noncanonical-json", L::should, W::success,
     "a body that parse-and-reserialise changes (pretty, \\u00fc, 1.50, \\/): accepted",
     "verify the raw body bytes, never JSON.stringify(req.body) or any other re-encoding"},
    {CaseId::genuine_non_ascii, "genuine-non-ascii", L::should, W::success, "non-ASCII UTF-8 in the body: accepted",
     "verify the raw bytes; do not decode and re-encode the body's text"},
    {CaseId::replayed, "replayed", L::should, W::not_repeated,
     "a genuine request sent twice, byte for byte: the second refused or skipped",
     "remember the webhook-ids processed (for at least the tolerance) and answer a repeat with 409 or "
     "{\"skip_reason\": ...}"},
    {CaseId::malformed_signature, "malformed-signature", L::should, W::client_error,
     "webhook-signature that is not version,base64: 4xx, not a 5xx, a hang or a reset",
     "treat a signature you cannot parse as no signature: 401, never a crash"},
    {CaseId::missing_id, "missing-id", L::should, W::client_error, "no webhook-id header: 4xx",
     "answer a request without webhook-id with 400 or 401, never a crash"},
    {CaseId::missing_timestamp, "missing-timestamp", L::should, W::client_error, "no webhook-timestamp header: 4xx",
     "answer a request without webhook-timestamp with 400 or 401, never a crash"},
    {CaseId::timestamp_garbage, "timestamp-garbage", L::should, W::client_error,
     "webhook-timestamp not digits, and in milliseconds (each signed): 4xx",
     "accept only a timestamp of digits, in seconds; answer anything else with 400 or 401"},
    {CaseId::wrong_method, "wrong-method", L::should, W::client_error, "a signed GET: 4xx",
     "answer methods other than POST with 405"},
    {CaseId::oversized, "oversized", L::should, W::client_error_or_close,
     "a signed 12 MiB body: a 4xx (413) or a closed connection, not a hang or a 5xx",
     "limit the body size and answer 413 beyond it (epilot's requests are small)"},
}};

static_assert(
    [] {
      for (std::size_t i = 0; i < k_battery.size(); ++i) {
        if (static_cast<std::size_t>(k_battery[i].id) != i) {
          return false;
        }
      }
      return true;
    }(),
    "k_battery lists the cases in CaseId order");

}  // namespace

std::string_view to_code(CheckLevel level) { return level == CheckLevel::must ? "must" : "should"; }

std::span<const CaseInfo> check_battery() { return k_battery; }

const CaseInfo& case_info(CaseId id) { return k_battery[static_cast<std::size_t>(id)]; }

const CaseInfo* find_case(std::string_view name) {
  for (const auto& info : k_battery) {
    if (info.name == name) {
      return &info;
    }
  }
  return nullptr;
}

std::string_view describe(Wanted wanted) {
  switch (wanted) {
    case Wanted::success:
      return "2xx";
    case Wanted::refusal:
      return "a refusal (4xx)";
    case Wanted::client_error:
      return "4xx";
    case Wanted::client_error_or_close:
      return "4xx or a closed connection";
    case Wanted::not_repeated:
      return "4xx or skipped";
  }
  return "4xx";
}

std::string_view to_code(CaseVerdict verdict) {
  switch (verdict) {
    case CaseVerdict::pass:
      return "pass";
    case CaseVerdict::fail:
      return "fail";
    case CaseVerdict::inconclusive:
      return "inconclusive";
    case CaseVerdict::skipped:
      return "skipped";
  }
  return "fail";
}

std::string unavailable_reason(CaseId id, const CheckKeys& keys, std::string_view genuine_body) {
  switch (id) {
    case CaseId::genuine_v1a_and_v1:
      return keys.private_key && keys.secret ? "" : "it needs a private key and a secret";
    case CaseId::genuine_noncanonical_json:
    case CaseId::genuine_non_ascii:
      if (!util::check_json_nesting(genuine_body).ok()) {
        return "the genuine body nests deeper than " + std::to_string(util::k_max_json_depth) + " levels";
      }
      return util::parse_json_or_discarded(genuine_body).is_object() ? "" : "the genuine body is not a JSON object";
    default:
      return "";
  }
}

std::size_t request_count(CaseId id) {
  switch (id) {
    case CaseId::replayed:
    case CaseId::malformed_signature:
    case CaseId::timestamp_garbage:
      return 2;
    default:
      return 1;
  }
}

// --- Judging ---

namespace {

int status_class(const CaseAnswer& a) {
  return a.delivered.delivery == http::Delivery::answered ? a.delivered.answer.status / 100 : 0;
}

Judgement pass(std::string note = {}) { return {CaseVerdict::pass, std::move(note)}; }
Judgement fail(std::string why) { return {CaseVerdict::fail, std::move(why)}; }
Judgement inconclusive(std::string why) { return {CaseVerdict::inconclusive, std::move(why)}; }

Judgement unreachable_or(const CaseAnswer& a, Judgement otherwise) {
  if (a.delivered.delivery == http::Delivery::unreachable) {
    return inconclusive("the endpoint could not be reached: " + a.classified.reason);
  }
  return otherwise;
}

Judgement judge_success(const CaseAnswer& a) {
  if (status_class(a) == 2) {
    return pass();
  }
  return unreachable_or(a, fail("expected 2xx, got " + describe_answer(a)));
}

// A request that must not fool the endpoint: any refusal will do, a 4xx is right.
Judgement judge_refusal(const CaseAnswer& a, const std::string& sent) {
  switch (status_class(a)) {
    case 4:
      return pass();
    case 2:
      return fail("accepted " + sent + " (" + describe_answer(a) + ")");
    case 5:
      return pass("refused, but with " + std::to_string(a.delivered.answer.status) +
                  ": 401 is the answer for a request that does not verify");
    case 0:
      if (a.delivered.delivery == http::Delivery::broken) {
        return pass("refused by closing the connection: 401 is the answer for a request that does not verify");
      }
      return unreachable_or(a, inconclusive("neither accepted nor refused: " + describe_answer(a)));
    default:
      return inconclusive("answered " + describe_answer(a) + ": neither accepted nor refused");
  }
}

Judgement judge_client_error(const CaseAnswer& a, bool close_is_fine, const std::string& sent) {
  if (status_class(a) == 4) {
    return pass();
  }
  if (close_is_fine && a.delivered.delivery == http::Delivery::broken) {
    return pass("the connection was closed without an answer");
  }
  if (status_class(a) == 2) {
    return fail("accepted " + sent + " (" + describe_answer(a) + ")");
  }
  if (a.delivered.delivery == http::Delivery::timeout) {
    return fail("no answer in time: the endpoint hangs on " + sent);
  }
  if (a.delivered.delivery == http::Delivery::broken) {
    return fail(a.classified.reason + ": the endpoint may have crashed on " + sent);
  }
  return unreachable_or(a, fail("expected 4xx, got " + describe_answer(a)));
}

bool duplicate_matches(const DuplicateAnswer& d, const CaseAnswer& a) {
  return expectation_met(d.expectation, a.delivered, a.classified.answer_class) &&
         (d.body_text.empty() || a.delivered.answer.body.find(d.body_text) != std::string::npos);
}

Judgement judge_second_send(std::span<const CaseAnswer> answers, const DuplicateAnswer* duplicate) {
  const auto& first = answers[0];
  if (first.classified.answer_class != AnswerClass::success) {
    return unreachable_or(first, inconclusive("the first send was not a plain success (" + describe_answer(first) +
                                              "), so a repeat can't be told from it"));
  }
  if (answers.size() < 2) {
    return inconclusive("the repeat was not sent");
  }
  const auto& second = answers[1];
  if (duplicate != nullptr && duplicate_matches(*duplicate, second)) {
    if (duplicate_matches(*duplicate, first)) {
      return inconclusive("the duplicate answer described matches the first answer too (" + describe_answer(first) +
                          "), so it can't tell a repeat from a new request");
    }
    return pass("the repeat got the duplicate answer (" + describe_answer(second) + ")");
  }
  if (status_class(second) == 4 || second.classified.answer_class == AnswerClass::skipped) {
    return pass();
  }
  if (second.classified.answer_class == AnswerClass::success) {
    return fail("accepted the same request twice (" + describe_answer(first) + ", then " + describe_answer(second) +
                ")");
  }
  return unreachable_or(second, fail("expected 4xx or skipped for the repeat, got " + describe_answer(second)));
}

Judgement judge_repeat(std::span<const CaseAnswer> answers, const DuplicateAnswer* duplicate) {
  auto verdict = judge_second_send(answers, duplicate);
  verdict.deciding = answers.size() > 1 && answers[0].classified.answer_class == AnswerClass::success ? 1 : 0;
  return verdict;
}

}  // namespace

std::string describe_answer(const CaseAnswer& a) {
  std::string text(to_code(a.classified.answer_class));
  if (a.delivered.delivery == http::Delivery::answered) {
    text = std::to_string(a.delivered.answer.status) + " " + text;
  }
  return a.classified.reason.empty() ? text : text + ": " + a.classified.reason;
}

Judgement judge_case(const CaseInfo& info, std::span<const CaseAnswer> answers, std::span<const std::string> what,
                     const DuplicateAnswer* duplicate) {
  if (answers.empty()) {
    return inconclusive("nothing was sent");
  }
  if (info.wanted == Wanted::not_repeated) {
    return judge_repeat(answers, duplicate);
  }
  // Several requests: each must do what the case wants; the first that does
  // not decides, and its answer is the one reported.
  Judgement verdict = pass();
  for (std::size_t i = 0; i < answers.size(); ++i) {
    const std::string& sent = i < what.size() ? what[i] : (what.empty() ? std::string() : what.back());
    Judgement one;
    switch (info.wanted) {
      case Wanted::success:
        one = judge_success(answers[i]);
        break;
      case Wanted::refusal:
        one = judge_refusal(answers[i], sent);
        break;
      case Wanted::client_error:
      case Wanted::client_error_or_close:
        one = judge_client_error(answers[i], info.wanted == Wanted::client_error_or_close, sent);
        break;
      case Wanted::not_repeated:
        break;
    }
    one.deciding = i;
    if (one.verdict != CaseVerdict::pass) {
      return one;
    }
    if (verdict.why.empty()) {
      verdict.why = std::move(one.why);
    }
    verdict.deciding = i;
  }
  return verdict;
}

}  // namespace epilot
