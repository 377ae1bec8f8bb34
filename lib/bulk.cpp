#include "lib/bulk.hpp"

#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

#include "lib/inputs.hpp"

namespace epilot {

namespace {

struct Batch {
  std::size_t first_index = 0;
  std::vector<std::size_t> lines;      // line number of each record
  std::vector<std::string> records;    // one JSON text each
  std::vector<RecordResult> results;
  bool done = false;
};

// Splits a byte stream into lines, keeping only the unfinished tail in memory.
class LineReader {
 public:
  LineReader(int fd, std::string_view prefix) : m_fd(fd), m_buffer(prefix) {}

  // The next line without its end, or nullopt at the end of input.
  Result<std::optional<std::string>> next() {
    while (true) {
      const auto eol = m_buffer.find('\n', m_scan);
      if (eol != std::string::npos) {
        std::string line = m_buffer.substr(m_start, eol - m_start);
        m_start = eol + 1;
        m_scan = m_start;
        ++m_line;
        return std::optional<std::string>(std::move(line));
      }
      m_scan = m_buffer.size();
      if (m_eof) {
        if (m_start < m_buffer.size()) {
          std::string line = m_buffer.substr(m_start);
          m_start = m_scan = m_buffer.size();
          ++m_line;
          return std::optional<std::string>(std::move(line));
        }
        return std::optional<std::string>();
      }
      if (m_buffer.size() - m_start > k_max_input_size) {
        return make_error(ErrorCode::bad_input, "line " + std::to_string(m_line + 1) + " is longer than " +
                                                    std::to_string(k_max_input_size >> 20) + " MiB");
      }
      // Drop consumed bytes before growing, so memory follows the longest line.
      m_buffer.erase(0, m_start);
      m_scan -= m_start;
      m_start = 0;
      const auto old = m_buffer.size();
      m_buffer.resize(old + k_chunk);
      ssize_t n = 0;
      do {
        n = ::read(m_fd, m_buffer.data() + old, k_chunk);
      } while (n < 0 && errno == EINTR);
      if (n < 0) {
        return make_error(ErrorCode::io, std::string("cannot read the input: ") + std::strerror(errno));
      }
      m_buffer.resize(old + static_cast<std::size_t>(n));
      m_eof = n == 0;
    }
  }

  std::size_t line_number() const { return m_line; }

 private:
  static constexpr std::size_t k_chunk = 1 << 20;
  int m_fd;
  std::string m_buffer;
  std::size_t m_start = 0;
  std::size_t m_scan = 0;
  std::size_t m_line = 0;
  bool m_eof = false;
};

bool blank(std::string_view s) {
  for (char c : s) {
    if (c != ' ' && c != '\t' && c != '\r') {
      return false;
    }
  }
  return true;
}

}  // namespace

RecordResult verify_one(const Capture& request, const VerifyKeys& keys, const VerifyKeys& other_keys,
                        const VerifyPolicy& policy) {
  RecordResult r;
  r.verification = verify_request(request, keys, policy);
  if (!r.verification.ok()) {
    r.reasons = explain(request, keys, other_keys, policy, r.verification);
  }
  return r;
}

Status verify_stream(int fd, std::string_view prefix, const VerifyKeys& keys,
                     const VerifyKeys& other_keys, const VerifyPolicy& policy,
                     const StreamOptions& options,
                     const std::function<void(const RecordResult&)>& sink) {
  const unsigned threads = options.threads == 0 ? 1 : options.threads;
  const std::size_t max_in_flight = 4 * static_cast<std::size_t>(threads);

  std::mutex mutex;
  std::condition_variable work_ready;   // workers wait for batches
  std::condition_variable batch_done;   // the caller waits for results or room
  std::deque<std::shared_ptr<Batch>> pending;   // in input order, delivered from the front
  std::deque<std::shared_ptr<Batch>> queue;     // not yet taken by a worker
  bool closing = false;

  const auto work = [&] {
    while (true) {
      std::shared_ptr<Batch> batch;
      {
        std::unique_lock lock(mutex);
        work_ready.wait(lock, [&] { return closing || !queue.empty(); });
        if (queue.empty()) {
          return;
        }
        batch = queue.front();
        queue.pop_front();
      }
      batch->results.resize(batch->records.size());
      for (std::size_t i = 0; i < batch->records.size(); ++i) {
        auto& r = batch->results[i];
        auto capture = parse_capture_line(batch->records[i]);
        if (capture) {
          r = verify_one(*capture, keys, other_keys, policy);
        } else {
          r.error = capture.error();
        }
        r.index = batch->first_index + i;
        r.line = batch->lines[i];
        std::string().swap(batch->records[i]);  // free the text early
      }
      {
        std::lock_guard lock(mutex);
        batch->done = true;
      }
      batch_done.notify_all();
    }
  };

  std::vector<std::thread> workers;
  workers.reserve(threads);
  for (unsigned i = 0; i < threads; ++i) {
    workers.emplace_back(work);
  }

  // Deliver finished batches from the front, in order; with `wait`, block
  // until the front one is finished.
  const auto deliver = [&](bool all) {
    while (true) {
      std::shared_ptr<Batch> front;
      {
        std::unique_lock lock(mutex);
        if (all) {
          batch_done.wait(lock, [&] { return pending.empty() || pending.front()->done; });
        }
        if (pending.empty() || !pending.front()->done) {
          return;
        }
        front = pending.front();
        pending.pop_front();
      }
      batch_done.notify_all();
      for (const auto& r : front->results) {
        sink(r);
      }
    }
  };

  Status status = ok_status();
  LineReader reader(fd, prefix);
  std::size_t index = 0;
  auto batch = std::make_shared<Batch>();
  const auto submit = [&] {
    if (batch->records.empty()) {
      return;
    }
    {
      std::unique_lock lock(mutex);
      // Bounded memory: wait for room, delivering what is done meanwhile.
      while (pending.size() >= max_in_flight) {
        lock.unlock();
        deliver(false);
        lock.lock();
        if (pending.size() >= max_in_flight) {
          batch_done.wait(lock);
        }
      }
      pending.push_back(batch);
      queue.push_back(batch);
    }
    work_ready.notify_one();
    batch = std::make_shared<Batch>();
  };
  while (true) {
    auto line = reader.next();
    if (!line) {
      status = line.error();
      break;
    }
    if (!line->has_value()) {
      break;
    }
    if (blank(**line)) {
      continue;
    }
    if (batch->records.empty()) {
      batch->first_index = index;
    }
    batch->lines.push_back(reader.line_number());
    batch->records.push_back(std::move(**line));
    ++index;
    if (batch->records.size() >= options.batch_lines) {
      submit();
      deliver(false);
    }
  }
  submit();
  {
    std::lock_guard lock(mutex);
    closing = true;
  }
  work_ready.notify_all();
  deliver(true);
  for (auto& t : workers) {
    t.join();
  }
  deliver(true);
  return status;
}

}  // namespace epilot
