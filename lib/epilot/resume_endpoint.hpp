#pragma once

// The local stand-in for epilot's resume endpoint during `replay`: a
// wait_for_callback request carries a fresh resume_token and a
// callback_post_url pointing here; the endpoint under test is expected to
// POST {"resume_token": "..."} back, as epilot's
// `executions:resume` takes it (JSON, no other fields, no auth).

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "lib/http/server.hpp"

namespace epilot {

// The path the callback URL uses: epilot's own (its executions:resume endpoint).
inline constexpr std::string_view k_callback_path = "/v1/automation/public/executions:resume";

struct CallbackOutcome {
  enum class State { awaited, received, timed_out, not_awaited };
  State state = State::not_awaited;
  std::chrono::nanoseconds after{0};  // from the request being sent to its callback
};

class CallbackBoard {
 public:
  using Clock = std::chrono::steady_clock;

  // A request carrying `token` is about to be sent.
  void issued(std::uint64_t job, const std::string& token);
  // Its answer came: wait for the callback (the action succeeded), or do not
  // (it failed or was skipped: epilot would not wait either).
  void answered(std::uint64_t job, bool awaited);

  // The callback endpoint, for an HttpServer (thread-safe).
  http::ServerResponse receive(const http::wire::Request& request);

  // Block until every awaited callback has come or `timeout` has passed
  // since its request's answer, or `stop` is set (then every callback still
  // awaited is timed out at once).
  void wait(std::chrono::milliseconds timeout, const std::atomic<bool>* stop = nullptr);

  std::optional<CallbackOutcome> outcome(std::uint64_t job) const;
  // Callbacks that matched no request, came twice or were malformed, as sentences.
  std::vector<std::string> problems() const;
  std::size_t received_count() const;

 private:
  struct Entry {
    std::uint64_t job = 0;
    Clock::time_point issued;
    std::optional<Clock::time_point> answered;
    bool awaited = false;
    std::optional<Clock::time_point> received;
  };

  mutable std::mutex m_mutex;
  std::condition_variable m_changed;
  std::map<std::string, Entry> m_by_token;
  std::map<std::uint64_t, std::string> m_token_of;
  std::vector<std::string> m_problems;
  std::map<std::uint64_t, CallbackOutcome> m_timed_out;
};

}  // namespace epilot
