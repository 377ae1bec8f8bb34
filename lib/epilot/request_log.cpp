#include "lib/epilot/request_log.hpp"

#include <algorithm>
#include <cctype>

#include "lib/util/json_writer.hpp"

namespace epilot {

namespace {

// What a request costs the log, roughly: its strings and a fixed share for
// the rest.
std::size_t weight(const LoggedRequest& r) { return r.record.size() + r.summary.size() + 256; }

bool has_capital(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char c) { return std::isupper(static_cast<unsigned char>(c)); });
}

// Whether `haystack` holds `needle`, ignoring ASCII case; `needle` is lower case.
bool contains_any_case(std::string_view haystack, std::string_view needle) {
  const auto it = std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end(), [](char a, char b) {
    return std::tolower(static_cast<unsigned char>(a)) == static_cast<unsigned char>(b);
  });
  return it != haystack.end();
}

bool has_text(const LoggedRequest& r, std::string_view text, bool exact_case) {
  if (text.empty()) {
    return true;
  }
  // The summary has the line, the id and the reasons; the record the
  // headers and the body.
  for (const std::string_view field : {std::string_view(r.summary), std::string_view(r.record)}) {
    if (exact_case ? field.find(text) != std::string_view::npos : contains_any_case(field, text)) {
      return true;
    }
  }
  return false;
}

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

bool matches(const LoggedRequest& request, const LogQuery& query) {
  if (!has_verdict(request, query.verdict)) {
    return false;
  }
  if (has_capital(query.text)) {
    return has_text(request, query.text, true);
  }
  return has_text(request, query.text, false);
}

LoggedRequest logged_request(const Received& received, std::string path, std::int64_t at_ms, std::int64_t latency_us,
                             std::string record) {
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
  out.record = std::move(record);
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
  w.key("bytes").number(r.record.size()).end_object();
  return out;
}

std::uint64_t RequestLog::add(LoggedRequest request) {
  std::uint64_t seq = 0;
  {
    std::lock_guard lock(m_mutex);
    seq = m_first + m_entries.size();
    request.seq = seq;
    request.summary = summary_json(request);
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

LogPage RequestLog::page(const LogQuery& query) const {
  LogPage page;
  std::lock_guard lock(m_mutex);
  page.total = m_entries.size();
  page.latest = m_first + m_entries.size() - 1;
  page.evicted = m_first - 1;
  // Newest first, from just below `before`, down to just above `after`.
  std::uint64_t seq = query.before == 0 || query.before > page.latest ? page.latest : query.before - 1;
  for (; seq >= m_first && seq > query.after && seq > 0; --seq) {
    const auto& entry = m_entries[seq - m_first];
    if (!matches(*entry, query)) {
      continue;
    }
    if (page.requests.size() == query.limit) {
      page.more = true;
      break;
    }
    page.requests.push_back(entry);
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
  for (auto seq = std::max(after + 1, m_first); seq <= newest() && out.size() < limit; ++seq) {
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
