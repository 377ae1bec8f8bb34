#include "lib/epilot/resume_endpoint.hpp"

#include <nlohmann/json.hpp>

#include "lib/http/wire.hpp"
#include "lib/util/json.hpp"

namespace epilot {

namespace {

http::ServerResponse json_answer(int status, std::string body) {
  http::ServerResponse answer;
  answer.status = status;
  answer.body = std::move(body);
  return answer;
}

std::string short_text(std::string_view text) { return http::wire::printable(text, 80); }

}  // namespace

void CallbackBoard::issued(std::uint64_t job, const std::string& token) {
  std::lock_guard lock(m_mutex);
  Entry entry;
  entry.job = job;
  entry.issued = Clock::now();
  m_by_token[token] = entry;
  m_token_of[job] = token;
}

void CallbackBoard::answered(std::uint64_t job, bool awaited) {
  std::lock_guard lock(m_mutex);
  const auto it = m_token_of.find(job);
  if (it == m_token_of.end()) {
    return;
  }
  auto& entry = m_by_token[it->second];
  entry.answered = Clock::now();
  entry.awaited = awaited;
  m_changed.notify_all();
}

http::ServerResponse CallbackBoard::receive(const http::wire::Request& request) {
  const auto path = std::string_view(request.target).substr(0, request.target.find('?'));
  if (request.method != "POST" || path != k_callback_path) {
    std::lock_guard lock(m_mutex);
    m_problems.push_back("a " + request.method + " to " + short_text(request.target) + ": the callback is a POST to " +
                         std::string(k_callback_path));
    return json_answer(404, R"({"message":"not found"})");
  }
  const auto doc = util::parse_json_or_discarded<nlohmann::json>(request.body);
  // epilot's ResumeReq has one property and allows no others.
  if (!doc.is_object() || doc.size() != 1 || !doc.contains("resume_token") || !doc["resume_token"].is_string()) {
    std::lock_guard lock(m_mutex);
    m_problems.push_back("a callback whose body is not {\"resume_token\": \"...\"}: " + short_text(request.body));
    return json_answer(400, R"({"message":"body must be {\"resume_token\": string}"})");
  }
  const auto token = doc["resume_token"].get<std::string>();
  std::lock_guard lock(m_mutex);
  const auto it = m_by_token.find(token);
  if (it == m_by_token.end()) {
    m_problems.push_back("a callback with a resume_token no request carried: " + short_text(token));
    return json_answer(404, R"({"message":"unknown resume_token"})");
  }
  if (it->second.received) {
    m_problems.push_back("a second callback with the resume_token of request #" + std::to_string(it->second.job + 1));
    return json_answer(400, R"({"message":"execution already resumed"})");
  }
  it->second.received = Clock::now();
  m_changed.notify_all();
  return json_answer(200, R"({"resumed":true})");
}

void CallbackBoard::wait(std::chrono::milliseconds timeout, const std::atomic<bool>* stop) {
  std::unique_lock lock(m_mutex);
  for (;;) {
    auto next = Clock::time_point::max();
    for (const auto& [token, entry] : m_by_token) {
      if (entry.awaited && !entry.received && entry.answered) {
        next = std::min(next, *entry.answered + timeout);
      }
    }
    const bool stopped = stop != nullptr && stop->load();
    if (next == Clock::time_point::max() || Clock::now() >= next || stopped) {
      if (next == Clock::time_point::max()) {
        return;
      }
      // Someone's time is up (everyone's, once stopped): mark it, then look again.
      const auto now = Clock::now();
      for (auto& [token, entry] : m_by_token) {
        if (entry.awaited && !entry.received && entry.answered && (stopped || now >= *entry.answered + timeout)) {
          entry.awaited = false;
          m_timed_out[entry.job] = CallbackOutcome{CallbackOutcome::State::timed_out, now - entry.issued};
        }
      }
      continue;
    }
    // A stop is noticed within this.
    m_changed.wait_until(lock, stop != nullptr ? std::min(next, Clock::now() + std::chrono::milliseconds(100)) : next);
  }
}

std::optional<CallbackOutcome> CallbackBoard::outcome(std::uint64_t job) const {
  std::lock_guard lock(m_mutex);
  if (const auto t = m_timed_out.find(job); t != m_timed_out.end()) {
    return t->second;
  }
  const auto it = m_token_of.find(job);
  if (it == m_token_of.end()) {
    return std::nullopt;
  }
  const auto& entry = m_by_token.at(it->second);
  if (entry.received) {
    return CallbackOutcome{CallbackOutcome::State::received, *entry.received - entry.issued};
  }
  return CallbackOutcome{entry.awaited ? CallbackOutcome::State::awaited : CallbackOutcome::State::not_awaited, {}};
}

std::vector<std::string> CallbackBoard::problems() const {
  std::lock_guard lock(m_mutex);
  return m_problems;
}

std::size_t CallbackBoard::received_count() const {
  std::lock_guard lock(m_mutex);
  std::size_t n = 0;
  for (const auto& [token, entry] : m_by_token) {
    n += entry.received ? 1 : 0;
  }
  return n;
}

}  // namespace epilot
