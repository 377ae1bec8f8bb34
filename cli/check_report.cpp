#include "cli/check_report.hpp"
#include "cli/wall_clock.hpp"

#include <cmath>
#include <cstdio>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "cli/output.hpp"
#include "cli/replay_report.hpp"
#include "lib/util/constants.hpp"
#include "lib/util/timefmt.hpp"
#include "lib/webhook/signature.hpp"

namespace epilot::cli {

namespace {

using Json = nlohmann::ordered_json;

// How much of an answer's body a report shows.
constexpr std::size_t k_body_excerpt = 200;

std::string plural(std::size_t n, const char* word) { return std::to_string(n) + " " + word + (n == 1 ? "" : "s"); }

void put(const std::string& text) {
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
}

std::string dump(const Json& doc) { return doc.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n"; }

std::string padded(std::string_view text, std::size_t width) {
  std::string out(text);
  if (out.size() < width) {
    out.append(width - out.size(), ' ');
  }
  return out;
}

double rounded_ms(std::chrono::nanoseconds latency) {
  return std::round(std::chrono::duration<double, std::milli>(latency).count() * 1000) / 1000;
}

bool counts(const CaseResult& r, bool strict) { return r.info->level == CheckLevel::must || strict; }

// The label a case's line starts with. A should case that failed is a
// warning unless --strict makes it count.
std::string_view label(const CaseResult& r, bool strict) {
  switch (r.judgement.verdict) {
    case CaseVerdict::pass:
      return "ok";
    case CaseVerdict::fail:
      return counts(r, strict) ? "FAIL" : "WARN";
    case CaseVerdict::inconclusive:
      return "????";
    case CaseVerdict::skipped:
      return "skip";
  }
  return "FAIL";
}

// The label, coloured for stdout, padded to `width`.
std::string toned_label(const CaseResult& r, bool strict, std::size_t width = 0) {
  const auto text = label(r, strict);
  const auto tone = text == "ok" ? Tone::good : text == "FAIL" ? Tone::bad : text == "skip" ? Tone::note : Tone::warn;
  return toned(text, tone, STDOUT_FILENO, width);
}

// The answer the case's verdict rests on.
const CaseAnswer* deciding_answer(const CaseResult& r) {
  return r.answers.empty() ? nullptr : &r.answers[std::min(r.judgement.deciding, r.answers.size() - 1)];
}

// "401", "200 success", "200 skipped", "422 failed", "timeout": the class
// where it says more than the status.
std::string answer_cell(const CaseAnswer& a) {
  std::string cell(to_code(a.classified.answer_class));
  if (a.delivered.delivery != http::Delivery::answered) {
    return cell;
  }
  const auto status = std::to_string(a.delivered.answer.status);
  return a.classified.answer_class == AnswerClass::other ? status : status + " " + cell;
}

// The start of an answer's body, cut on a character boundary.
std::string body_excerpt(const std::string& body) {
  auto end = std::min(k_body_excerpt, body.size());
  while (end < body.size() && end > 0 && (static_cast<unsigned char>(body[end]) & 0xC0) == 0x80) {
    --end;
  }
  return body.substr(0, end) + (end < body.size() ? "..." : "");
}

std::vector<const http::Header*> signing_headers(const SentRequest& sent) {
  std::vector<const http::Header*> out;
  for (const auto& h : sent.headers) {
    if (webhook::is_signing_header(h.name)) {
      out.push_back(&h);
    }
  }
  return out;
}

std::string trusted_key(const CheckFacts& facts) {
  return facts.whpk.empty() ? "the secret from " + facts.secret_source
                            : "the public key " + facts.whpk + " (" + facts.fingerprint + ")";
}

// Why a genuine request may not have been accepted, from how it was
// answered; and always the key it must trust (a verifier that throws on a
// key it does not know answers 500).
std::vector<std::string> genuine_hints(const CaseAnswer& a, const CheckFacts& facts) {
  std::vector<std::string> hints;
  if (a.delivered.delivery == http::Delivery::timeout) {
    hints.push_back("the endpoint did not answer within --timeout: is it busy, or waiting on something?");
  } else if (a.delivered.delivery == http::Delivery::broken) {
    hints.push_back("the connection broke without an answer: has the app crashed? its log will say");
  } else if (a.delivered.delivery == http::Delivery::answered) {
    const int status = a.delivered.answer.status;
    if (status / 100 == 3 || status == 404 || status == 405 || status == 501) {
      hints.push_back("is --url the endpoint's own path? it answered " + std::to_string(status));
    } else if (status / 100 == 5) {
      hints.push_back("the endpoint failed on a genuine request: its log will say why");
    }
  }
  hints.push_back("the endpoint must trust " + trusted_key(facts) + ", and accept " + facts.scheme + " signatures");
  hints.push_back("does it need a header (-H) or a token (--mock-token, --token-file)?");
  return hints;
}

// What a user can act on, beyond the case's fix: flags and the key.
std::vector<std::string> extra_hints(const CaseResult& r, const CheckFacts& facts) {
  std::vector<std::string> hints;
  const auto* a = deciding_answer(r);
  if (r.info->id == CaseId::genuine && a != nullptr) {
    hints = genuine_hints(*a, facts);
  }
  if (r.info->id == CaseId::replayed && r.judgement.verdict == CaseVerdict::fail) {
    hints.push_back(facts.duplicate_answer
                        ? "the repeat's answer is not the one --duplicate-answer describes"
                        : "an endpoint that deduplicates without saying so: describe its answer to a repeat with "
                          "--duplicate-answer SPEC, e.g. 200:duplicate");
  }
  if ((r.info->id == CaseId::stale || r.info->id == CaseId::future || r.info->id == CaseId::genuine_near_edge) &&
      r.judgement.verdict == CaseVerdict::fail) {
    hints.push_back("if the endpoint is meant to allow more than " + std::to_string(facts.tolerance) +
                    " s, say how much with --tolerance SECS");
  }
  return hints;
}

Json request_json(const SentRequest& sent, const CaseAnswer* answer) {
  Json doc;
  doc["method"] = sent.method;
  Json headers = Json::object();
  for (const auto* h : signing_headers(sent)) {
    headers[h->name] = h->value;
  }
  doc["signing_headers"] = headers;
  doc["body_bytes"] = sent.body_bytes;
  if (answer != nullptr) {
    const bool answered = answer->delivered.delivery == http::Delivery::answered;
    doc["delivery"] = std::string(to_code(answer->delivered.delivery));
    doc["status"] = answered ? Json(answer->delivered.answer.status) : Json(nullptr);
    doc["class"] = std::string(to_code(answer->classified.answer_class));
    doc["reason"] = answer->classified.reason.empty() ? Json(nullptr) : Json(answer->classified.reason);
    doc["body"] = answered ? Json(body_excerpt(answer->delivered.answer.body)) : Json(nullptr);
    doc["latency_ms"] = rounded_ms(answer->delivered.latency);
    doc["attempts"] = answer->delivered.attempts;
  }
  return doc;
}

std::string json_line(const CaseResult& r) {
  Json doc;
  doc["event"] = "case";
  doc["id"] = std::string(r.info->name);
  doc["level"] = std::string(to_code(r.info->level));
  doc["verdict"] = std::string(to_code(r.judgement.verdict));
  doc["met"] = r.judgement.verdict == CaseVerdict::pass;
  doc["expected"] = std::string(describe(r.info->wanted));
  doc["sent"] = r.sent.empty() ? Json(nullptr) : Json(r.sent);
  const auto* a = deciding_answer(r);
  doc["webhook_id"] = a != nullptr && !a->delivered.label.empty() ? Json(a->delivered.label) : Json(nullptr);
  doc["delivery"] = a != nullptr ? Json(std::string(to_code(a->delivered.delivery))) : Json(nullptr);
  doc["status"] = a != nullptr && a->delivered.delivery == http::Delivery::answered ? Json(a->delivered.answer.status)
                                                                                    : Json(nullptr);
  doc["class"] = a != nullptr ? Json(std::string(to_code(a->classified.answer_class))) : Json(nullptr);
  doc["reason"] = a != nullptr && !a->classified.reason.empty() ? Json(a->classified.reason) : Json(nullptr);
  doc["latency_ms"] = rounded_ms(r.latency);
  doc["why"] = r.judgement.why.empty() ? Json(nullptr) : Json(r.judgement.why);
  doc["fix"] = r.judgement.verdict == CaseVerdict::fail ? Json(std::string(r.info->fix)) : Json(nullptr);
  Json requests = Json::array();
  for (std::size_t i = 0; i < r.requests.size(); ++i) {
    requests.push_back(request_json(r.requests[i], i < r.answers.size() ? &r.answers[i] : nullptr));
  }
  doc["requests"] = requests;
  return dump(doc);
}

std::string text_line(const CaseResult& r, bool strict) {
  std::string line = "  " + toned_label(r, strict, 6) + padded(to_code(r.info->level), 8) + padded(r.info->name, 27);
  if (const auto* a = deciding_answer(r)) {
    line += padded(answer_cell(*a), 14) + padded(format_latency(r.latency), 10);
  }
  line += terminal_text(r.judgement.why);
  while (!line.empty() && line.back() == ' ') {
    line.pop_back();
  }
  return line + "\n";
}

// What was sent and what came back, for -v.
std::string details(const CaseResult& r) {
  std::string out;
  for (std::size_t i = 0; i < r.requests.size(); ++i) {
    const auto& sent = r.requests[i];
    out += "        > " + sent.method + ", " + plural(sent.body_bytes, "byte");
    for (const auto* h : signing_headers(sent)) {
      out += ", " + h->name + ": " + terminal_text(h->value.size() > 60 ? h->value.substr(0, 57) + "..." : h->value);
    }
    out += "\n";
    if (i < r.answers.size()) {
      const auto& a = r.answers[i];
      out += "        < " + terminal_text(describe_answer(a)) + "\n";
    }
  }
  return out;
}

Json summary_json(const std::vector<CaseResult>& results, const CheckFacts& facts, bool strict) {
  const auto t = count(results);
  Json doc;
  doc["event"] = "summary";
  doc["url"] = facts.url;
  doc["scheme"] = facts.scheme;
  Json key;
  if (!facts.whpk.empty()) {
    key["public_key"] = facts.whpk;
    key["fingerprint"] = facts.fingerprint;
  } else {
    key["secret_from"] = facts.secret_source;
  }
  doc["key"] = key;
  doc["tolerance"] = facts.tolerance;
  doc["strict"] = strict;
  doc["cases"] = results.size();
  doc["passed"] = t.passed;
  doc["failed"] = t.failed;
  doc["must_failed"] = t.must_failed;
  doc["should_failed"] = t.should_failed;
  doc["inconclusive"] = t.inconclusive;
  doc["skipped"] = t.skipped;
  doc["seconds"] = std::round(facts.seconds * 1000) / 1000;
  doc["ok"] = t.ok(strict);
  return doc;
}

// An inconclusive case that sent nothing (the endpoint was gone).
bool not_run(const CaseResult& r) {
  return r.judgement.verdict == CaseVerdict::inconclusive && r.answers.empty() && r.info->id != CaseId::genuine;
}

// A case the summary lists: what did not pass, but the cases a refused
// genuine request kept from running (one line says so).
bool listed(const CaseResult& r, bool genuine_passed) {
  if (r.info->id == CaseId::genuine) {
    return r.judgement.verdict != CaseVerdict::pass;
  }
  return r.judgement.verdict == CaseVerdict::fail ||
         (r.judgement.verdict == CaseVerdict::inconclusive && genuine_passed && !not_run(r));
}

}  // namespace

bool CheckTotals::ok(bool strict) const { return counted(strict) == 0; }

std::size_t CheckTotals::counted(bool strict) const {
  return must_failed + must_inconclusive + (strict ? should_failed + inconclusive - must_inconclusive : 0);
}

CheckTotals count(const std::vector<CaseResult>& results) {
  CheckTotals t;
  for (const auto& r : results) {
    const bool must = r.info->level == CheckLevel::must;
    switch (r.judgement.verdict) {
      case CaseVerdict::pass:
        ++t.passed;
        break;
      case CaseVerdict::fail:
        ++t.failed;
        ++(must ? t.must_failed : t.should_failed);
        break;
      case CaseVerdict::inconclusive:
        ++t.inconclusive;
        t.must_inconclusive += must ? 1 : 0;
        break;
      case CaseVerdict::skipped:
        ++t.skipped;
        break;
    }
  }
  return t;
}

void CheckReporter::start(const CheckFacts& facts) {
  if (m_format == Format::text && !m_started) {
    m_started = true;
    const auto key = facts.whpk.empty() ? "secret from " + facts.secret_source : "key " + facts.fingerprint;
    put("check " + terminal_text(facts.url) + ": " + facts.scheme + " signatures (" + key + "), tolerance " +
        std::to_string(facts.tolerance) + " s" + (m_strict ? ", strict" : "") + "\n");
  }
}

void CheckReporter::record(const CaseResult& r) {
  if (m_format == Format::json) {
    put(json_line(r));
    return;
  }
  // After a genuine request was refused, the cases not run get one line
  // in the summary, not one each; so do the ones left out on purpose.
  if (r.judgement.verdict == CaseVerdict::inconclusive && r.answers.empty() && r.info->id != CaseId::genuine) {
    return;
  }
  const auto index = static_cast<std::size_t>(r.info - check_battery().data());
  if (!m_verbose && index < m_left_out.size() && !m_left_out[index].empty()) {
    return;
  }
  put(text_line(r, m_strict) + (m_verbose ? details(r) : std::string()));
}

void CheckReporter::summary(const std::vector<CaseResult>& results, const CheckFacts& facts) {
  put(m_format == Format::json ? dump(summary_json(results, facts, m_strict)) : summary_text(results, facts));
}

std::string CheckReporter::summary_text(const std::vector<CaseResult>& results, const CheckFacts& facts) const {
  const auto t = count(results);
  const bool genuine_passed = results.front().judgement.verdict == CaseVerdict::pass;
  std::string out = "\n" + plural(results.size(), "case") + " in " +
                    format_latency(std::chrono::nanoseconds(static_cast<std::int64_t>(facts.seconds * 1e9))) + ": " +
                    std::to_string(t.passed) + " passed, " + std::to_string(t.failed) + " failed, " +
                    std::to_string(t.inconclusive) + " inconclusive, " + std::to_string(t.skipped) + " skipped\n";
  // Failures first: must before should, each with what to fix.
  std::string failures;
  for (const auto level : {CheckLevel::must, CheckLevel::should}) {
    for (const auto& r : results) {
      if (r.info->level != level || !listed(r, genuine_passed)) {
        continue;
      }
      failures +=
          toned_label(r, m_strict) + " " + std::string(r.info->name) + ": " + terminal_text(r.judgement.why) + "\n";
      if (r.judgement.verdict == CaseVerdict::fail) {
        failures += "     fix: " + std::string(r.info->fix) + "\n";
      }
      for (const auto& hint : extra_hints(r, facts)) {
        failures += "     hint: " + hint + "\n";
      }
    }
  }
  // The cases an endpoint that went away kept from running: one line.
  if (genuine_passed) {
    std::size_t unrun = 0;
    const CaseResult* first = nullptr;
    for (const auto& r : results) {
      if (not_run(r)) {
        first = first == nullptr ? &r : first;
        ++unrun;
      }
    }
    if (first != nullptr) {
      failures += toned("????", Tone::warn, STDOUT_FILENO) + " " + plural(unrun, "case") + " from " +
                  std::string(first->info->name) + " on: " + terminal_text(first->judgement.why) + "\n";
    }
  }
  if (!failures.empty()) {
    out += "\n" + failures;
  }
  if (!genuine_passed) {
    return out + "\n" + toned("FAIL", Tone::bad, STDOUT_FILENO) +
           ": the endpoint did not accept a genuine request, so " +
           (t.inconclusive == 1 ? std::string("the other case was")
                                : "the " + std::to_string(t.inconclusive) + " other cases were") +
           " not run\n";
  }
  if (t.ok(m_strict)) {
    const auto warned = t.should_failed + t.inconclusive - t.must_inconclusive;
    return out + "\n" + toned("ok", Tone::good, STDOUT_FILENO) + ": every must case passed" +
           (warned > 0 ? " (" + plural(warned, "should case") + " did not: they fail the run with --strict)" : "") +
           "\n";
  }
  return out + "\n" + toned("FAIL", Tone::bad, STDOUT_FILENO) + ": " + plural(t.counted(m_strict), "case") +
         " did not pass" + (m_strict ? "" : " (" + plural(t.must_failed + t.must_inconclusive, "must case") + ")") +
         "\n";
}

std::string battery_listing(bool json) {
  std::string out;
  for (const auto& info : check_battery()) {
    if (json) {
      Json doc;
      doc["event"] = "case";
      doc["id"] = std::string(info.name);
      doc["level"] = std::string(to_code(info.level));
      doc["expected"] = std::string(describe(info.wanted));
      doc["summary"] = std::string(info.summary);
      doc["fix"] = std::string(info.fix);
      out += dump(doc);
    } else {
      out += padded(info.name, 27) + padded(to_code(info.level), 8) + std::string(info.summary) + "\n";
    }
  }
  return out;
}

std::string check_junit(const std::vector<CaseResult>& results, const CheckFacts& facts) {
  std::vector<JunitCase> cases;
  for (const auto& r : results) {
    JunitCase c;
    c.name = std::string(r.info->name);
    c.classname = "epilot-action.check." + std::string(to_code(r.info->level));
    c.seconds = std::chrono::duration<double>(r.latency).count();
    std::string detail =
        r.sent.empty() ? std::string() : "sent: " + r.sent + "\nexpected: " + std::string(describe(r.info->wanted));
    for (const auto& a : r.answers) {
      detail += "\ngot: " + describe_answer(a);
    }
    if (r.info->id == CaseId::genuine && r.judgement.verdict != CaseVerdict::pass) {
      detail += "\nthe endpoint must trust " + trusted_key(facts);
    }
    switch (r.judgement.verdict) {
      case CaseVerdict::pass:
        c.details = detail;
        break;
      case CaseVerdict::fail:
        if (counts(r, facts.strict)) {
          c.failure = r.judgement.why;
          c.details = detail + "\nfix: " + std::string(r.info->fix);
        } else {
          c.details = "WARN (a should case: it fails the run with --strict): " + r.judgement.why + "\n" + detail +
                      "\nfix: " + std::string(r.info->fix);
        }
        break;
      case CaseVerdict::inconclusive:
        if (counts(r, facts.strict)) {
          c.failure = "inconclusive: " + r.judgement.why;
          c.details = detail;
        } else {
          c.details =
              "inconclusive (a should case: it fails the run with --strict): " + r.judgement.why + "\n" + detail;
        }
        break;
      case CaseVerdict::skipped:
        c.skipped = r.judgement.why;
        break;
    }
    cases.push_back(std::move(c));
  }
  return junit_xml("epilot-action check " + facts.url, cases, facts.seconds, util::iso8601(current_time()));
}

}  // namespace epilot::cli
