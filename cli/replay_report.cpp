#include "cli/replay_report.hpp"
#include "cli/wall_clock.hpp"

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "cli/output.hpp"
#include "lib/util/timefmt.hpp"

namespace epilot::cli {

namespace {

// Unmet requests shown one by one before the rest are only counted.
constexpr std::uint64_t k_max_unmet_lines = 20;
constexpr std::size_t k_max_examples = 5;

double milliseconds(std::chrono::nanoseconds d) { return static_cast<double>(d.count()) / 1e6; }

std::string fixed(double value, int decimals) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
  return buffer;
}

std::string status_text(const ReplayRecord& r) {
  return r.delivered.delivery == http::Delivery::answered ? std::to_string(r.delivered.answer.status) : "---";
}

const char* callback_state(CallbackOutcome::State state) {
  switch (state) {
    case CallbackOutcome::State::received:
      return "received";
    case CallbackOutcome::State::timed_out:
      return "timed_out";
    case CallbackOutcome::State::awaited:
      return "awaited";
    case CallbackOutcome::State::not_awaited:
      return "not_awaited";
  }
  return "not_awaited";
}

}  // namespace

std::string format_latency(std::chrono::nanoseconds latency) {
  const double ms = milliseconds(latency);
  if (ms >= 1000) {
    return fixed(ms / 1000, 2) + " s";
  }
  return fixed(ms, ms < 10 ? 2 : 1) + " ms";
}

void Tally::add(const ReplayRecord& record) {
  classes[static_cast<std::size_t>(record.classified.answer_class)] += 1;
  (record.met ? met : unmet) += 1;
  if (record.delivered.delivery == http::Delivery::answered) {
    latency.add(record.delivered.latency);
  }
  if (items.size() <= record.item) {
    items.resize(record.item + 1);
  }
  auto& item = items[record.item];
  item.sent += 1;
  item.latency_sum += record.delivered.latency;
  if (!record.met) {
    item.unmet += 1;
    if (item.unmet_examples.size() < k_max_examples) {
      item.unmet_examples.push_back(record.why_unmet);
    }
  }
}

void Tally::merge(const Tally& other) {
  for (std::size_t i = 0; i < classes.size(); ++i) {
    classes[i] += other.classes[i];
  }
  met += other.met;
  unmet += other.unmet;
  latency.merge(other.latency);
  if (items.size() < other.items.size()) {
    items.resize(other.items.size());
  }
  for (std::size_t i = 0; i < other.items.size(); ++i) {
    auto& mine = items[i];
    const auto& theirs = other.items[i];
    mine.sent += theirs.sent;
    mine.unmet += theirs.unmet;
    mine.latency_sum += theirs.latency_sum;
    for (const auto& e : theirs.unmet_examples) {
      if (mine.unmet_examples.size() < k_max_examples) {
        mine.unmet_examples.push_back(e);
      }
    }
  }
}

ReplayReporter::ReplayReporter(Format format, bool every_line, bool quiet, std::size_t name_width, bool in_order)
    : m_format(format), m_every_line(every_line), m_quiet(quiet), m_name_width(name_width), m_in_order(in_order) {}

void ReplayReporter::flush_stdout(const std::string& text) {
  if (m_progress_shown) {
    std::fputs("\r\x1b[K", stderr);
    m_progress_shown = false;
  }
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
}

std::string ReplayReporter::text_line(const ReplayRecord& r) const {
  std::string line = r.met ? toned("ok", Tone::good, STDOUT_FILENO, 6) : toned("FAIL", Tone::bad, STDOUT_FILENO, 6);
  line += status_text(r) + " ";
  auto cls = std::string(to_code(r.classified.answer_class));
  cls.resize(std::max<std::size_t>(cls.size(), 11), ' ');
  auto name = terminal_text(*r.input);
  if (name.size() < m_name_width) {
    name.resize(m_name_width, ' ');
  }
  line += cls + " " + name;
  if (!r.delivered.label.empty()) {
    line += "  " + terminal_text(r.delivered.label);
  }
  if (r.repeat) {
    line += " (repeat)";
  }
  line += "  " + format_latency(r.delivered.latency);
  if (r.callback && r.callback->state == CallbackOutcome::State::received) {
    line += "  callback after " + format_latency(r.callback->after);
  }
  if (!r.met) {
    line += "\n      " + terminal_text(r.why_unmet);
  } else if (!r.classified.reason.empty()) {
    line += "  (" + terminal_text(r.classified.reason) + ")";
  }
  return line + "\n";
}

std::string ReplayReporter::json_line(const ReplayRecord& r) const {
  nlohmann::ordered_json doc;
  doc["event"] = "request";
  doc["index"] = r.job;
  doc["input"] = *r.input;
  doc["webhook_id"] = r.delivered.label;
  doc["delivery"] = std::string(to_code(r.delivered.delivery));
  if (r.delivered.delivery == http::Delivery::answered) {
    doc["status"] = r.delivered.answer.status;
  } else {
    doc["status"] = nullptr;
  }
  doc["class"] = std::string(to_code(r.classified.answer_class));
  doc["reason"] =
      r.classified.reason.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(r.classified.reason);
  doc["latency_ms"] = std::round(milliseconds(r.delivered.latency) * 1000) / 1000;
  doc["attempts"] = r.delivered.attempts;
  if (r.callback) {
    nlohmann::ordered_json cb;
    cb["state"] = callback_state(r.callback->state);
    if (r.callback->state == CallbackOutcome::State::received) {
      cb["after_ms"] = std::round(milliseconds(r.callback->after) * 1000) / 1000;
    }
    doc["callback"] = cb;
  }
  if (r.repeat) {
    doc["repeat"] = true;
  }
  doc["expected"] = r.expectation->text;
  doc["met"] = r.met;
  if (!r.met) {
    doc["why"] = r.why_unmet;
  }
  return doc.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

void ReplayReporter::draw_progress(const std::string& bar) {
  std::lock_guard lock(m_mutex);
  std::fputs(("\r" + bar + "\x1b[K").c_str(), stderr);
  std::fflush(stderr);
  m_progress_shown = true;
}

void ReplayReporter::clear_progress() {
  std::lock_guard lock(m_mutex);
  if (m_progress_shown) {
    std::fputs("\r\x1b[K", stderr);
    m_progress_shown = false;
  }
}

void ReplayReporter::emit_in_order(std::uint64_t job, std::string line) {
  if (!m_in_order) {
    flush_stdout(line);
    return;
  }
  m_waiting.emplace(job, std::move(line));
  while (!m_waiting.empty() && m_waiting.begin()->first == m_next_job) {
    flush_stdout(m_waiting.begin()->second);
    m_waiting.erase(m_waiting.begin());
    ++m_next_job;
  }
}

void ReplayReporter::record(const ReplayRecord& record) {
  if (m_format == Format::json) {
    auto line = json_line(record);
    std::lock_guard lock(m_mutex);
    emit_in_order(record.job, std::move(line));
    return;
  }
  if (m_quiet) {
    return;
  }
  if (m_every_line) {
    auto line = text_line(record);
    std::lock_guard lock(m_mutex);
    emit_in_order(record.job, std::move(line));
    ++m_lines_printed;
  } else if (!record.met) {
    std::lock_guard lock(m_mutex);
    if (++m_unmet_lines <= k_max_unmet_lines) {
      flush_stdout(text_line(record));
      ++m_lines_printed;
    }
  }
}

void ReplayReporter::finish() {
  std::lock_guard lock(m_mutex);
  // Jobs a stop dropped never come: whatever waits behind them goes out now.
  for (auto& [job, line] : m_waiting) {
    flush_stdout(line);
  }
  m_waiting.clear();
}

void ReplayReporter::summary(const Tally& tally, const RunFacts& facts) {
  const auto total = tally.met + tally.unmet;
  const double rate = facts.seconds > 0 ? static_cast<double>(total) / facts.seconds : 0;
  if (m_format == Format::json) {
    nlohmann::ordered_json doc;
    doc["event"] = "summary";
    doc["url"] = facts.url;
    doc["requests"] = total;
    doc["seconds"] = std::round(facts.seconds * 1000) / 1000;
    doc["rate"] = std::round(rate * 10) / 10;
    doc["connections"] = facts.connections;
    nlohmann::ordered_json classes;
    for (std::size_t i = 0; i < k_answer_class_count; ++i) {
      classes[std::string(to_code(static_cast<AnswerClass>(i)))] = tally.classes[i];
    }
    doc["classes"] = classes;
    nlohmann::ordered_json latency;
    for (const auto& [name, q] : {std::pair{"p50", 0.5}, {"p95", 0.95}, {"p99", 0.99}}) {
      latency[name] = std::round(milliseconds(tally.latency.percentile(q)) * 1000) / 1000;
    }
    latency["max"] = std::round(milliseconds(tally.latency.max()) * 1000) / 1000;
    doc["latency_ms"] = latency;
    doc["callbacks"] = {{"received", facts.callbacks_received},
                        {"timed_out", facts.callbacks_timed_out},
                        {"problems", facts.callback_problems}};
    doc["met"] = tally.met;
    doc["unmet"] = tally.unmet;
    doc["interrupted"] = facts.stopped;
    flush_stdout(doc.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n");
    return;
  }
  std::string out;
  if (!m_every_line && m_unmet_lines > k_max_unmet_lines) {
    out += "... and " + std::to_string(m_unmet_lines - k_max_unmet_lines) +
           " more requests that did not meet expectations\n";
  }
  if (m_lines_printed > 0) {
    out += "\n";  // between the request lines and the summary
  }
  out += "replayed " + std::to_string(total) + (total == 1 ? " request" : " requests") + " to " + facts.url + " in " +
         fixed(facts.seconds, 2) + " s (" + fixed(rate, rate < 100 ? 1 : 0) + "/s, " +
         std::to_string(facts.connections) + (facts.connections == 1 ? " connection" : " connections") + ")" +
         (facts.stopped ? ", interrupted" : "") + "\n";
  for (std::size_t i = 0; i < k_answer_class_count; ++i) {
    if (tally.classes[i] != 0 || i <= static_cast<std::size_t>(AnswerClass::failed)) {
      auto name = std::string(to_code(static_cast<AnswerClass>(i)));
      name.resize(12, ' ');
      out += "  " + name + std::to_string(tally.classes[i]) + "\n";
    }
  }
  if (tally.latency.count() > 0) {
    out += "latency       p50 " + format_latency(tally.latency.percentile(0.5)) + "   p95 " +
           format_latency(tally.latency.percentile(0.95)) + "   p99 " + format_latency(tally.latency.percentile(0.99)) +
           "   max " + format_latency(tally.latency.max()) + "\n";
  }
  if (facts.callbacks_received + facts.callbacks_timed_out + facts.callback_problems.size() > 0) {
    out += "callbacks     " + std::to_string(facts.callbacks_received) + " received, " +
           std::to_string(facts.callbacks_timed_out) + " timed out\n";
    for (const auto& problem : facts.callback_problems) {
      out += "  problem: " + problem + "\n";
    }
  }
  out += "expectations  " + std::to_string(tally.met) + " met, " + std::to_string(tally.unmet) + " not met\n";
  flush_stdout(out);
}

std::string ReplayReporter::junit(const std::vector<std::string>& names,
                                  const std::vector<const Expectation*>& expectations, const Tally& tally,
                                  const RunFacts& facts) const {
  std::vector<JunitCase> cases;
  for (std::size_t i = 0; i < names.size(); ++i) {
    const ItemTally empty;
    const auto& item = i < tally.items.size() ? tally.items[i] : empty;
    JunitCase c;
    c.name = names[i];
    c.classname = "epilot-action.replay";
    c.seconds =
        item.sent == 0 ? 0 : static_cast<double>(item.latency_sum.count()) / 1e9 / static_cast<double>(item.sent);
    const auto summary =
        std::to_string(item.sent) + (item.sent == 1 ? " request" : " requests") + ", expected " + expectations[i]->text;
    if (item.unmet > 0 || item.sent == 0) {
      c.failure =
          item.sent == 0 ? std::string("not sent") : std::to_string(item.unmet) + " of " + summary + ": not met";
      for (const auto& e : item.unmet_examples) {
        c.details += e + "\n";
      }
    } else {
      c.details = summary + ": all met";
    }
    cases.push_back(std::move(c));
  }
  for (const auto& problem : facts.callback_problems) {
    JunitCase c;
    c.name = "callback";
    c.classname = "epilot-action.replay";
    c.failure = problem;
    cases.push_back(std::move(c));
  }
  return junit_xml("epilot-action replay " + facts.url, cases, facts.seconds, util::iso8601(current_time()));
}

}  // namespace epilot::cli
