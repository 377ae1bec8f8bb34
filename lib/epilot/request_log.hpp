#pragma once

// The requests `listen` received, kept in memory for the web inspector:
// newest last, numbered from 1, paged and filtered without copying, and
// bounded in bytes (the oldest go first).

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "lib/epilot/action_receiver.hpp"

namespace epilot {

struct LoggedRequest {
  std::uint64_t seq = 0;   // set by the log
  std::int64_t at_ms = 0;  // unix milliseconds, when it came
  std::string method;
  std::string path;  // without the query (it may carry a token)
  std::string webhook_id;
  std::string verdict;  // a verification verdict's code, or "refused" (never verified)
  bool duplicate = false;
  int status = 0;                                            // what the caller was answered
  std::int64_t latency_us = 0;                               // from its arrival to its answer, microseconds
  std::vector<std::pair<std::string, std::string>> reasons;  // code, message
  std::optional<ForwardNote> forwarded;
  // The request as listen received and judged it (its capture, verdict and
  // answer); none for a request refused before it was read whole. The
  // capture record is made from it when asked for.
  std::optional<Received> received;
  std::string summary;  // the list's JSON object for it, made by the log
};

// What the list shows: every request, those answered as a success would be
// to epilot (verified and new), those that failed (did not verify, or were
// refused), or the replays.
enum class VerdictFilter { all, ok, failed, duplicate };

struct LogQuery {
  std::uint64_t before = 0;  // only requests numbered below this (0: no bound)
  std::uint64_t after = 0;   // only requests numbered above this
  std::size_t limit = 50;
  VerdictFilter verdict = VerdictFilter::all;
  // A part of the request's method, URL, webhook-id, reasons, a header's
  // name or value, or its body, as bytes (not as JSON text): exact case when
  // it has a capital letter, any ASCII case otherwise.
  std::string text;
};

using LoggedPtr = std::shared_ptr<const LoggedRequest>;

struct LogPage {
  std::vector<LoggedPtr> requests;  // newest first
  bool more = false;                // older ones match too
  std::uint64_t total = 0;          // kept, whatever matched
  std::uint64_t latest = 0;         // the newest request's number (0: none yet)
  std::uint64_t evicted = 0;        // dropped for the byte limit, so far
};

class RequestLog {
 public:
  explicit RequestLog(std::size_t max_bytes) : m_max_bytes(max_bytes) {}

  // Number it, keep it (dropping the oldest beyond the byte limit) and wake
  // the waiters. Returns its number.
  std::uint64_t add(LoggedRequest request);
  LoggedPtr find(std::uint64_t seq) const;
  LogPage page(const LogQuery& query) const;
  // The requests after `after`, oldest first and at most `limit`, waiting up
  // to `wait` for one; nullopt once closed.
  std::optional<std::vector<LoggedPtr>> wait_after(std::uint64_t after, std::size_t limit,
                                                   std::chrono::milliseconds wait) const;
  std::uint64_t latest() const;
  // Wakes the waiters for good.
  void close();

 private:
  LoggedPtr at(std::uint64_t seq) const;  // under the lock
  std::uint64_t take_range(std::uint64_t top, std::uint64_t bottom, std::size_t count,
                           std::vector<LoggedPtr>& out) const;  // under the lock

  std::size_t m_max_bytes;
  mutable std::mutex m_mutex;
  mutable std::condition_variable m_added;
  std::deque<LoggedPtr> m_entries;  // m_entries[i] is number m_first + i
  std::uint64_t m_first = 1;
  std::size_t m_bytes = 0;
  bool m_closed = false;
};

// What the log keeps of `received`.
LoggedRequest logged_request(Received received, std::string path, std::int64_t at_ms, std::int64_t latency_us);

// The list's JSON object for `request`: what a row shows.
std::string summary_json(const LoggedRequest& request);

}  // namespace epilot
