#include "lib/epilot/resume_call.hpp"

#include <algorithm>

#include "lib/util/json.hpp"

namespace epilot {

using Clock = std::chrono::steady_clock;

std::optional<ResumeCall> resume_call_of(std::string_view body) {
  // listen asks this of every verified request: most carry no token, and
  // parsing each body would cost more than verifying it. A key spelled with
  // \u escapes still gets the full reading.
  if (body.find("resume_token") == std::string_view::npos && body.find("\\u") == std::string_view::npos) {
    return std::nullopt;
  }
  const auto doc = util::parse_json_or_discarded<nlohmann::json>(body);
  if (!doc.is_object() || !doc.contains("data") || !doc["data"].is_object()) {
    return std::nullopt;
  }
  const auto& data = doc["data"];
  const auto token = data.find("resume_token");
  const auto url = data.find("callback_post_url");
  if (token == data.end() || url == data.end() || !token->is_string() || !url->is_string() ||
      token->get_ref<const std::string&>().empty()) {
    return std::nullopt;
  }
  ResumeCall call;
  call.token = token->get<std::string>();
  call.url = url->get<std::string>();
  return call;
}

std::string resume_body(const std::string& token) { return "{\"resume_token\":" + util::json_quote(token) + "}"; }

ResumeQueue::ResumeQueue(http::HttpClient& http, unsigned threads, std::size_t max_pending, Report report)
    : m_http(http), m_max_pending(max_pending), m_report(std::move(report)) {
  for (unsigned i = 0; i < std::max(1u, threads); ++i) {
    m_threads.emplace_back([this] { work(); });
  }
}

ResumeQueue::~ResumeQueue() { finish(Clock::now()); }

bool ResumeQueue::submit(ResumeCall call) {
  std::lock_guard lock(m_mutex);
  if (m_deadline || m_queue.size() >= m_max_pending) {
    return false;
  }
  m_queue.push_back(std::move(call));
  m_changed.notify_one();
  return true;
}

void ResumeQueue::finish(Clock::time_point deadline) {
  {
    std::lock_guard lock(m_mutex);
    if (m_deadline) {
      return;
    }
    m_deadline = deadline;
    m_changed.notify_all();
  }
  for (auto& thread : m_threads) {
    thread.join();
  }
}

// The next call whose time has come; nullopt once finish() was called and
// nothing is left that may still be sent.
std::optional<ResumeCall> ResumeQueue::next() {
  std::unique_lock lock(m_mutex);
  while (true) {
    if (!m_queue.empty()) {
      auto& front = m_queue.front();
      const auto now = Clock::now();
      if (m_deadline && std::max(now, front.not_before) > *m_deadline) {
        // Too late to start it: said so, not dropped silently.
        auto late = std::move(front);
        m_queue.pop_front();
        lock.unlock();
        m_report(ResumeOutcome{std::move(late), std::nullopt, "not sent: stopped before its time came", {}});
        lock.lock();
        continue;
      }
      if (front.not_before <= now) {
        auto call = std::move(front);
        m_queue.pop_front();
        return call;
      }
      m_changed.wait_until(lock, front.not_before);
      continue;
    }
    if (m_deadline) {
      return std::nullopt;
    }
    m_changed.wait(lock);
  }
}

void ResumeQueue::send(ResumeCall call) {
  const auto started = Clock::now();
  auto answer = m_http.post(call.url, "application/json", resume_body(call.token));
  ResumeOutcome outcome;
  outcome.took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
  if (answer) {
    outcome.status = answer->status;
  } else {
    outcome.error = answer.error().message;
  }
  outcome.call = std::move(call);
  m_report(outcome);
}

void ResumeQueue::work() {
  while (auto call = next()) {
    try {
      send(std::move(*call));
    } catch (const std::exception&) {
      // A report that throws must not end the thread with calls still queued.
    }
  }
}

}  // namespace epilot
