#include "lib/epilot/request_log.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <limits>

#include "lib/util/json_writer.hpp"

namespace epilot {

namespace {

// What a request costs the log, roughly: its strings and a fixed share for
// each part (the entry, the allocator's headers).
std::size_t weight(const LoggedRequest& r) {
  std::size_t bytes = sizeof(LoggedRequest) + r.summary.capacity() + r.path.capacity() + 128;
  for (const auto& [code, message] : r.reasons) {
    bytes += code.capacity() + message.capacity() + 64;
  }
  if (const auto& received = r.received) {
    bytes += received->request.body.capacity() + received->request.url.capacity() + received->answer.body.capacity();
    for (const auto& h : received->request.headers) {
      bytes += h.name.capacity() + h.value.capacity() + 64;
    }
    bytes += received->result.verification.entries.size() * 160;
  }
  return bytes;
}

bool has_capital(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char c) { return std::isupper(static_cast<unsigned char>(c)); });
}

// Finds a text in a request's fields, as bytes, in exact case or in any
// (ASCII) case. Boyer-Moore-Horspool over bytes, with the case folded
// into its table: a filter reads the hundreds of megabytes 100,000 kept
// requests hold skipping most of their bytes.
class TextMatcher {
 public:
  explicit TextMatcher(std::string_view text) : m_exact(has_capital(text)) {
    for (std::size_t c = 0; c < m_fold.size(); ++c) {
      m_fold[c] = static_cast<unsigned char>(m_exact ? c : std::tolower(static_cast<int>(c)));
    }
    for (const char c : text) {
      m_needle.push_back(static_cast<char>(m_fold[static_cast<unsigned char>(c)]));
    }
    m_skip.fill(std::max<std::size_t>(m_needle.size(), 1));
    for (std::size_t i = 0; i + 1 < m_needle.size(); ++i) {
      m_skip[static_cast<unsigned char>(m_needle[i])] = m_needle.size() - 1 - i;
    }
  }

  bool in(const LoggedRequest& r) const {
    if (m_needle.empty() || found(r.method) || found(r.path) || found(r.webhook_id)) {
      return true;
    }
    for (const auto& [code, message] : r.reasons) {
      if (found(code) || found(message)) {
        return true;
      }
    }
    if (!r.received) {
      return false;
    }
    const auto& capture = r.received->request;
    if (found(capture.url) || found(capture.body)) {
      return true;
    }
    return std::any_of(capture.headers.begin(), capture.headers.end(),
                       [&](const http::Header& h) { return found(h.name) || found(h.value); });
  }

 private:
  bool found(std::string_view hay) const {
    const auto n = m_needle.size();
    const auto last = static_cast<unsigned char>(m_needle[n - 1]);
    for (std::size_t at = 0; at + n <= hay.size();) {
      const auto end = m_fold[static_cast<unsigned char>(hay[at + n - 1])];
      if (end == last && equal(hay.substr(at, n - 1))) {
        return true;
      }
      at += m_skip[end];
    }
    return false;
  }
  // Whether `part` is the needle but its last byte.
  bool equal(std::string_view part) const {
    for (std::size_t i = 0; i < part.size(); ++i) {
      if (m_fold[static_cast<unsigned char>(part[i])] != static_cast<unsigned char>(m_needle[i])) {
        return false;
      }
    }
    return true;
  }

  bool m_exact;
  std::array<unsigned char, 256> m_fold{};
  std::string m_needle;  // folded
  std::array<std::size_t, 256> m_skip{};
};

bool has_verdict(const LoggedRequest& r, VerdictFilter filter) {
  switch (filter) {
    case VerdictFilter::all:
      return true;
    case VerdictFilter::ok:
      return r.verdict == "valid" && !r.duplicate;
    case VerdictFilter::failed:
      return r.verdict != "valid";
    case VerdictFilter::duplicate:
      return r.duplicate;
  }
  return true;
}

}  // namespace

LoggedRequest logged_request(Received received, std::string path, std::int64_t at_ms, std::int64_t latency_us) {
  const auto& v = received.result.verification;
  LoggedRequest out;
  out.at_ms = at_ms;
  out.method = received.request.method;
  out.path = std::move(path);
  out.webhook_id = v.id;
  out.verdict = std::string(webhook::to_code(v.verdict));
  out.duplicate = received.duplicate;
  out.status = received.answer.status;
  out.latency_us = latency_us;
  for (const auto& reason : received.result.reasons) {
    out.reasons.emplace_back(std::string(webhook::to_code(reason.code)), reason.message);
  }
  out.forwarded = received.forwarded;
  out.received = std::move(received);
  return out;
}

std::string summary_json(const LoggedRequest& r) {
  std::string out;
  util::JsonWriter w(out);
  w.begin_object().key("seq").number(r.seq).key("at_ms").number(r.at_ms);
  w.key("method").string(r.method).key("path").string(r.path);
  w.key("webhook_id");
  r.webhook_id.empty() ? w.null() : w.string(r.webhook_id);
  w.key("verdict").string(r.verdict).key("duplicate").boolean(r.duplicate);
  w.key("status").number(r.status).key("latency_us").number(r.latency_us);
  w.key("reasons").begin_array();
  for (const auto& [code, message] : r.reasons) {
    w.begin_object().key("code").string(code).key("message").string(message).end_object();
  }
  w.end_array().key("forwarded");
  if (const auto& f = r.forwarded) {
    const bool answered = f->outcome == http::ForwardOutcome::answered;
    w.begin_object().key("outcome").string(http::to_code(f->outcome)).key("status");
    answered ? w.number(f->status) : w.null();
    w.key("ms").number(f->milliseconds).key("error");
    answered ? w.null() : w.string(f->error);
    w.key("unverified").boolean(f->unverified).end_object();
  } else {
    w.null();
  }
  w.key("bytes").number(r.received ? r.received->request.body.size() : 0).end_object();
  return out;
}

std::uint64_t RequestLog::add(LoggedRequest request) {
  std::uint64_t seq = 0;
  {
    std::lock_guard lock(m_mutex);
    seq = m_first + m_entries.size();
    request.seq = seq;
    request.summary = summary_json(request);
    // Kept for long: no spare capacity from the strings' growth.
    request.summary.shrink_to_fit();
    if (request.received) {
      request.received->request.body.shrink_to_fit();
      request.received->answer.body.shrink_to_fit();
    }
    m_bytes += weight(request);
    m_entries.push_back(std::make_shared<const LoggedRequest>(std::move(request)));
    // The newest always stays, however large.
    while (m_bytes > m_max_bytes && m_entries.size() > 1) {
      m_bytes -= weight(*m_entries.front());
      m_entries.pop_front();
      ++m_first;
    }
  }
  m_added.notify_all();
  return seq;
}

LoggedPtr RequestLog::at(std::uint64_t seq) const {
  if (seq < m_first || seq - m_first >= m_entries.size()) {
    return nullptr;
  }
  return m_entries[seq - m_first];
}

LoggedPtr RequestLog::find(std::uint64_t seq) const {
  std::lock_guard lock(m_mutex);
  return at(seq);
}

std::uint64_t RequestLog::latest() const {
  std::lock_guard lock(m_mutex);
  return m_first + m_entries.size() - 1;
}

// The requests numbered `top` down to `bottom` (at most `count`), newest
// first, and where to go on from; under the lock.
std::uint64_t RequestLog::take_range(std::uint64_t top, std::uint64_t bottom, std::size_t count,
                                     std::vector<LoggedPtr>& out) const {
  out.clear();
  for (; top >= bottom && top >= m_first && top > 0 && out.size() < count; --top) {
    out.push_back(m_entries[top - m_first]);
  }
  return top;
}

LogPage RequestLog::page(const LogQuery& query) const {
  // Matching runs outside the lock, a block of requests at a time: listen
  // adds a request for every one it answers, and must never wait on a
  // filter reading hundreds of megabytes.
  constexpr std::size_t block = 4096;
  const TextMatcher matcher(query.text);
  LogPage page;
  std::vector<LoggedPtr> range;
  std::uint64_t next = 0;
  std::uint64_t bottom = 0;
  {
    std::lock_guard lock(m_mutex);
    page.total = m_entries.size();
    page.latest = m_first + m_entries.size() - 1;
    page.evicted = m_first - 1;
    next = query.before == 0 || query.before > page.latest ? page.latest : query.before - 1;
    bottom = query.after == std::numeric_limits<std::uint64_t>::max() ? query.after : query.after + 1;
    next = take_range(next, bottom, block, range);
  }
  while (!range.empty()) {
    for (const auto& entry : range) {
      if (!has_verdict(*entry, query.verdict) || !matcher.in(*entry)) {
        continue;
      }
      if (page.requests.size() == query.limit) {
        page.more = true;
        return page;
      }
      page.requests.push_back(entry);
    }
    std::lock_guard lock(m_mutex);
    next = take_range(next, bottom, block, range);
  }
  return page;
}

std::optional<std::vector<LoggedPtr>> RequestLog::wait_after(std::uint64_t after, std::size_t limit,
                                                             std::chrono::milliseconds wait) const {
  std::unique_lock lock(m_mutex);
  const auto newest = [&] { return m_first + m_entries.size() - 1; };
  m_added.wait_for(lock, wait, [&] { return m_closed || newest() > after; });
  if (m_closed) {
    return std::nullopt;
  }
  std::vector<LoggedPtr> out;
  const auto from = after == std::numeric_limits<std::uint64_t>::max() ? after : after + 1;
  for (auto seq = std::max(from, m_first); seq <= newest() && out.size() < limit; ++seq) {
    out.push_back(m_entries[seq - m_first]);
  }
  return out;
}

void RequestLog::close() {
  {
    std::lock_guard lock(m_mutex);
    m_closed = true;
  }
  m_added.notify_all();
}

}  // namespace epilot
