#include "cli/check_report.hpp"

#include <cmath>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "cli/output.hpp"
#include "cli/replay_report.hpp"
#include "lib/constants.hpp"
#include "lib/timefmt.hpp"

namespace epilot::cli {

namespace {

using Json = nlohmann::ordered_json;

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

// The label a case's line starts with. A should case that failed is a
// warning unless --strict makes it count.
std::string_view label(const CaseResult& r, bool strict) {
  switch (r.judgement.verdict) {
    case CaseVerdict::pass:
      return "ok";
    case CaseVerdict::fail:
      return r.info->level == CheckLevel::must || strict ? "FAIL" : "WARN";
    case CaseVerdict::inconclusive:
      return "????";
    case CaseVerdict::skipped:
      return "skip";
  }
  return "FAIL";
}

// The answer that decided the case: the last one.
const CaseAnswer* last_answer(const CaseResult& r) { return r.answers.empty() ? nullptr : &r.answers.back(); }

std::string answer_cell(const CaseAnswer& a) {
  if (a.delivered.delivery == Delivery::answered) {
    return std::to_string(a.delivered.answer.status) + " " + std::string(describe(a.classified.answer_class));
  }
  return std::string(describe(a.classified.answer_class));
}

// The flag a user can act on, for the cases whose fix involves one.
std::vector<std::string> extra_hints(const CaseResult& r, const CheckFacts& facts) {
  std::vector<std::string> hints;
  if (r.info->id == CaseId::genuine) {
    hints.push_back("the endpoint must trust " + facts.key + ", and accept " + facts.scheme + " signatures");
    hints.push_back("is --url the endpoint's own path? does it need a header (-H) or a token (--mock-token)?");
  }
  if (r.info->id == CaseId::replayed && r.judgement.verdict != CaseVerdict::pass) {
    hints.push_back("an endpoint that deduplicates without saying so: describe its answer to a repeat with "
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
  for (const auto& h : sent.headers) {
    if (iequals_ascii(h.name, k_header_id) || iequals_ascii(h.name, k_header_timestamp) ||
        iequals_ascii(h.name, k_header_signature)) {
      headers[h.name] = h.value;
    }
  }
  doc["signing_headers"] = headers;
  doc["body_bytes"] = sent.body_bytes;
  if (answer != nullptr) {
    doc["delivery"] = std::string(describe(answer->delivered.delivery));
    doc["status"] = answer->delivered.delivery == Delivery::answered ? Json(answer->delivered.answer.status) : Json(nullptr);
    doc["class"] = std::string(describe(answer->classified.answer_class));
    doc["reason"] = answer->classified.reason.empty() ? Json(nullptr) : Json(answer->classified.reason);
    doc["latency_ms"] = rounded_ms(answer->delivered.latency);
  }
  return doc;
}

std::string json_line(const CaseResult& r) {
  Json doc;
  doc["event"] = "case";
  doc["id"] = std::string(r.info->name);
  doc["level"] = std::string(describe(r.info->level));
  doc["verdict"] = std::string(describe(r.judgement.verdict));
  doc["expected"] = std::string(describe(r.info->wanted));
  doc["sent"] = r.sent.empty() ? Json(nullptr) : Json(r.sent);
  const auto* a = last_answer(r);
  doc["status"] = a != nullptr && a->delivered.delivery == Delivery::answered ? Json(a->delivered.answer.status) : Json(nullptr);
  doc["class"] = a != nullptr ? Json(std::string(describe(a->classified.answer_class))) : Json(nullptr);
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
  std::string line = "  " + padded(label(r, strict), 6) + padded(describe(r.info->level), 8) + padded(r.info->name, 27);
  if (const auto* a = last_answer(r)) {
    line += padded(answer_cell(*a), 14) + padded(format_latency(r.latency), 10);
  }
  if (r.judgement.verdict != CaseVerdict::pass || !r.judgement.why.empty()) {
    line += terminal_text(r.judgement.why);
  }
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
    out += "        > " + sent.method + ", " + std::to_string(sent.body_bytes) + " bytes";
    for (const auto& h : sent.headers) {
      if (iequals_ascii(h.name, k_header_id) || iequals_ascii(h.name, k_header_timestamp) ||
          iequals_ascii(h.name, k_header_signature)) {
        out += ", " + h.name + ": " + terminal_text(h.value.size() > 60 ? h.value.substr(0, 57) + "..." : h.value);
      }
    }
    out += "\n";
    if (i < r.answers.size()) {
      const auto& a = r.answers[i];
      out += "        < " + answer_cell(a) + (a.classified.reason.empty() ? "" : ": " + terminal_text(a.classified.reason)) + "\n";
    }
  }
  return out;
}

}  // namespace

bool CheckTotals::ok(bool strict) const {
  return must_failed == 0 && must_inconclusive == 0 && (!strict || (failed == 0 && inconclusive == 0));
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
    put("check " + terminal_text(facts.url) + ": " + facts.scheme + " signatures, tolerance " +
        std::to_string(facts.tolerance) + " s" + (m_strict ? ", strict" : "") + "\n");
  }
}

void CheckReporter::record(const CaseResult& r) {
  if (m_format == Format::json) {
    put(json_line(r));
    return;
  }
  // After a genuine request was refused, the cases not run get one line
  // in the summary, not one each.
  if (r.judgement.verdict == CaseVerdict::inconclusive && r.answers.empty() && r.info->id != CaseId::genuine) {
    return;
  }
  put(text_line(r, m_strict) + (m_verbose ? details(r) : std::string()));
}

void CheckReporter::summary(const std::vector<CaseResult>& results, const CheckFacts& facts) {
  const auto t = count(results);
  const bool ok = t.ok(m_strict);
  if (m_format == Format::json) {
    Json doc;
    doc["event"] = "summary";
    doc["url"] = facts.url;
    doc["scheme"] = facts.scheme;
    doc["tolerance"] = facts.tolerance;
    doc["strict"] = m_strict;
    doc["cases"] = results.size();
    doc["passed"] = t.passed;
    doc["failed"] = t.failed;
    doc["must_failed"] = t.must_failed;
    doc["should_failed"] = t.should_failed;
    doc["inconclusive"] = t.inconclusive;
    doc["skipped"] = t.skipped;
    doc["seconds"] = std::round(facts.seconds * 1000) / 1000;
    doc["ok"] = ok;
    put(dump(doc));
    return;
  }
  std::string out = "\n" + std::to_string(results.size()) + " cases in " + format_latency(std::chrono::nanoseconds(
                        static_cast<std::int64_t>(facts.seconds * 1e9))) + ": " + std::to_string(t.passed) +
                    " passed, " + std::to_string(t.failed) + " failed, " + std::to_string(t.inconclusive) +
                    " inconclusive, " + std::to_string(t.skipped) + " skipped\n";
  // Failures first: must before should, each with what to fix.
  bool any = false;
  for (const auto level : {CheckLevel::must, CheckLevel::should}) {
    for (const auto& r : results) {
      const bool listed = r.judgement.verdict == CaseVerdict::fail ||
                          (r.judgement.verdict == CaseVerdict::inconclusive && r.info->id != CaseId::genuine &&
                           results.front().judgement.verdict == CaseVerdict::pass) ||
                          (r.info->id == CaseId::genuine && r.judgement.verdict != CaseVerdict::pass);
      if (r.info->level != level || !listed) {
        continue;
      }
      if (!any) {
        out += "\n";
        any = true;
      }
      out += std::string(label(r, m_strict)) + " " + std::string(r.info->name) + ": " + terminal_text(r.judgement.why) + "\n";
      if (r.judgement.verdict == CaseVerdict::fail) {
        out += "     fix: " + std::string(r.info->fix) + "\n";
      }
      for (const auto& hint : extra_hints(r, facts)) {
        out += "     hint: " + hint + "\n";
      }
    }
  }
  if (results.front().judgement.verdict != CaseVerdict::pass) {
    out += "\nFAIL: the endpoint did not accept a genuine request, so the " + std::to_string(t.inconclusive) +
           " other cases were not run\n";
  } else if (ok) {
    out += "\nok: every must case passed" +
           std::string(t.should_failed > 0 && !m_strict
                           ? " (" + std::to_string(t.should_failed) + " should case" + (t.should_failed == 1 ? "" : "s") +
                                 " failed: they fail the run with --strict)"
                           : "") +
           "\n";
  } else {
    out += "\nFAIL: " + std::to_string(t.must_failed + t.must_inconclusive) + " must case" +
           (t.must_failed + t.must_inconclusive == 1 ? "" : "s") + " did not pass" +
           (m_strict && t.should_failed + t.inconclusive - t.must_inconclusive > 0
                ? ", and " + std::to_string(t.should_failed + t.inconclusive - t.must_inconclusive) + " should case(s) (--strict)"
                : "") +
           "\n";
  }
  put(out);
}

std::string battery_listing(bool json) {
  std::string out;
  for (const auto& info : check_battery()) {
    if (json) {
      Json doc;
      doc["event"] = "case";
      doc["id"] = std::string(info.name);
      doc["level"] = std::string(describe(info.level));
      doc["expected"] = std::string(describe(info.wanted));
      doc["summary"] = std::string(info.summary);
      doc["fix"] = std::string(info.fix);
      out += dump(doc);
    } else {
      out += padded(info.name, 27) + padded(describe(info.level), 8) + std::string(info.summary) + "\n";
    }
  }
  return out;
}

std::string check_junit(const std::vector<CaseResult>& results, const CheckFacts& facts) {
  std::vector<JunitCase> cases;
  for (const auto& r : results) {
    JunitCase c;
    c.name = std::string(r.info->name);
    c.classname = "epilot-action.check." + std::string(describe(r.info->level));
    c.seconds = std::chrono::duration<double>(r.latency).count();
    std::string detail = r.sent.empty() ? std::string() : "sent: " + r.sent + "\nexpected: " + std::string(describe(r.info->wanted));
    for (const auto& a : r.answers) {
      detail += "\ngot: " + answer_cell(a) + (a.classified.reason.empty() ? "" : ": " + a.classified.reason);
    }
    switch (r.judgement.verdict) {
      case CaseVerdict::pass:
        c.details = detail;
        break;
      case CaseVerdict::fail:
        c.failure = r.judgement.why;
        c.details = detail + "\nfix: " + std::string(r.info->fix);
        break;
      case CaseVerdict::inconclusive:
        c.failure = "inconclusive: " + r.judgement.why;
        c.details = detail;
        break;
      case CaseVerdict::skipped:
        c.skipped = r.judgement.why;
        break;
    }
    cases.push_back(std::move(c));
  }
  return junit_xml("epilot-action check " + facts.url, cases, facts.seconds, iso8601(std::time(nullptr)));
}

}  // namespace epilot::cli
