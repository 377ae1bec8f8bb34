#include "lib/webhook/stream_verify.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

#include "lib/webhook/input_formats.hpp"

namespace epilot::webhook {

namespace {

// A block of whole lines, read in one go; workers split it themselves, so the
// reading thread never touches single records.
struct Batch {
  std::string text;
  std::vector<RecordResult> results;  // `line` counts from the block's start until delivery
  std::size_t line_count = 0;         // lines in the block
  bool done = false;
};

bool blank(std::string_view s) {
  for (char c : s) {
    if (c != ' ' && c != '\t' && c != '\r') {
      return false;
    }
  }
  return true;
}

// Verify every record of `batch`, reusing one Capture for all of them.
void verify_block(Batch& batch, const VerifyKeys& keys, const VerifyKeys& other_keys, const VerifyPolicy& policy,
                  Capture& capture) {
  std::string_view text = batch.text;
  std::size_t line = 0;
  while (!text.empty()) {
    const auto eol = text.find('\n');
    const auto record = text.substr(0, eol);
    text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
    if (!blank(record)) {
      auto status = parse_capture_line(record, capture);
      RecordResult r;
      if (status) {
        r = verify_one(capture, keys, other_keys, policy);
      } else {
        r.error = status.error();
      }
      r.line = line;
      batch.results.push_back(std::move(r));
    }
    ++line;
  }
  batch.line_count = line;
  std::string().swap(batch.text);  // free the text before the results are delivered
}

// Reads `fd` (after `prefix`) in blocks of whole lines; the unfinished last
// line carries over to the next block.
class BlockReader {
 public:
  BlockReader(int fd, std::string_view prefix, std::size_t block_size)
      : m_fd(fd), m_block_size(block_size), m_buffer(prefix) {}

  // Move the next block into `text` (true), or say the input has ended
  // (false). A line longer than k_max_input_size is an error.
  Result<bool> next(std::string& text) {
    while (true) {
      while (!m_eof && m_buffer.size() < m_block_size) {
        EPILOT_TRY(read_more());
      }
      // Cut after the last line end; at the end of the input, take everything.
      const auto last_eol = m_buffer.rfind('\n');
      const std::size_t cut = m_eof ? m_buffer.size() : last_eol == std::string::npos ? 0 : last_eol + 1;
      if (cut != 0) {
        std::string rest = m_buffer.substr(cut);
        m_buffer.resize(cut);
        text = std::move(m_buffer);
        m_buffer = std::move(rest);
        return true;
      }
      if (m_eof) {
        return false;
      }
      if (m_buffer.size() > k_max_input_size) {
        return make_error(ErrorCode::bad_input,
                          "a line is longer than " + std::to_string(k_max_input_size >> 20) + " MiB");
      }
      EPILOT_TRY(read_more());  // a line longer than a block: keep reading
    }
  }

 private:
  Status read_more() {
    const auto old = m_buffer.size();
    m_buffer.resize(old + m_block_size);
    ssize_t n = 0;
    do {
      n = ::read(m_fd, m_buffer.data() + old, m_block_size);
    } while (n < 0 && errno == EINTR);
    m_buffer.resize(old + static_cast<std::size_t>(std::max<ssize_t>(n, 0)));
    if (n < 0) {
      return make_error(ErrorCode::io, std::string("cannot read the input: ") + std::strerror(errno));
    }
    m_eof = n == 0;
    return ok_status();
  }

  int m_fd;
  std::size_t m_block_size;
  std::string m_buffer;
  bool m_eof = false;
};

// Workers verify blocks as they come; the calling thread submits blocks and
// hands the results to the sink in input order. At most `max_in_flight`
// blocks are held at once, which bounds memory whatever the input size.
class VerifyPipeline {
 public:
  VerifyPipeline(const VerifyKeys& keys, const VerifyKeys& other_keys, const VerifyPolicy& policy, unsigned threads,
                 const std::function<void(const RecordResult&)>& sink)
      : m_keys(keys),
        m_other_keys(other_keys),
        m_policy(policy),
        m_sink(sink),
        // A few blocks per worker, and never more than 16 MiB of text.
        m_max_in_flight(std::min<std::size_t>(2 * static_cast<std::size_t>(threads) + 2, 16)) {
    m_workers.reserve(threads);
    for (unsigned i = 0; i < threads; ++i) {
      m_workers.emplace_back([this] { work(); });
    }
  }

  // Queue `batch` for the workers, first waiting (and delivering) while
  // too many blocks are in flight.
  void submit(std::shared_ptr<Batch> batch) {
    std::unique_lock lock(m_mutex);
    while (m_pending.size() >= m_max_in_flight) {
      lock.unlock();
      deliver(false);
      lock.lock();
      if (m_pending.size() >= m_max_in_flight) {
        m_batch_done.wait(lock, [&] { return m_pending.front()->done; });
      }
    }
    m_pending.push_back(batch);
    m_queue.push_back(std::move(batch));
    lock.unlock();
    m_work_ready.notify_one();
  }

  // Hand finished blocks to the sink, in order. With `wait`, block until
  // every pending block is delivered; without, deliver what is ready.
  void deliver(bool wait) {
    while (true) {
      std::shared_ptr<Batch> front;
      {
        std::unique_lock lock(m_mutex);
        if (wait) {
          m_batch_done.wait(lock, [&] { return m_pending.empty() || m_pending.front()->done; });
        }
        if (m_pending.empty() || !m_pending.front()->done) {
          return;
        }
        front = m_pending.front();
        m_pending.pop_front();
      }
      for (auto& r : front->results) {
        r.index = m_next_index++;
        r.line += m_next_line;
        m_sink(r);
      }
      m_next_line += front->line_count;
    }
  }

  // Let the workers finish what is queued, stop them and deliver the rest.
  void finish() {
    {
      std::lock_guard lock(m_mutex);
      m_closing = true;
    }
    m_work_ready.notify_all();
    for (auto& t : m_workers) {
      t.join();
    }
    deliver(true);
  }

 private:
  // One worker: take blocks until closing, reusing one Capture for all.
  void work() {
    Capture capture;
    while (true) {
      std::shared_ptr<Batch> batch;
      {
        std::unique_lock lock(m_mutex);
        m_work_ready.wait(lock, [&] { return m_closing || !m_queue.empty(); });
        if (m_queue.empty()) {
          return;
        }
        batch = m_queue.front();
        m_queue.pop_front();
      }
      verify_block(*batch, m_keys, m_other_keys, m_policy, capture);
      {
        std::lock_guard lock(m_mutex);
        batch->done = true;
      }
      m_batch_done.notify_all();
    }
  }

  const VerifyKeys& m_keys;
  const VerifyKeys& m_other_keys;
  const VerifyPolicy& m_policy;
  const std::function<void(const RecordResult&)>& m_sink;
  const std::size_t m_max_in_flight;

  std::mutex m_mutex;
  std::condition_variable m_work_ready;          // workers wait for blocks
  std::condition_variable m_batch_done;          // the reader waits for results or room
  std::deque<std::shared_ptr<Batch>> m_pending;  // in input order, delivered from the front
  std::deque<std::shared_ptr<Batch>> m_queue;    // not yet taken by a worker
  bool m_closing = false;
  std::size_t m_next_index = 0;
  std::size_t m_next_line = 1;         // the first line of the next block delivered
  std::vector<std::thread> m_workers;  // last: started once everything above exists
};

}  // namespace

RecordResult verify_one(const Capture& request, const VerifyKeys& keys, const VerifyKeys& other_keys,
                        const VerifyPolicy& policy) {
  RecordResult r;
  r.verification = verify_request(request, keys, policy);
  if (!r.verification.ok()) {
    r.reasons = explain(request, keys, other_keys, policy, r.verification);
    r.method = request.method;
    r.url = request.url;
  }
  return r;
}

Status verify_stream(int fd, std::string_view prefix, const VerifyKeys& keys, const VerifyKeys& other_keys,
                     const VerifyPolicy& policy, const StreamOptions& options,
                     const std::function<void(const RecordResult&)>& sink) {
  const unsigned threads = options.threads == 0 ? 1 : options.threads;
  BlockReader reader(fd, prefix, std::max<std::size_t>(options.block_size, 1));
  VerifyPipeline pipeline(keys, other_keys, policy, threads, sink);
  std::string text;
  auto more = reader.next(text);
  while (more && *more) {
    auto batch = std::make_shared<Batch>();
    batch->text = std::move(text);
    pipeline.submit(std::move(batch));
    pipeline.deliver(false);
    more = reader.next(text);
  }
  pipeline.finish();
  if (!more) {
    return more.error();
  }
  return ok_status();
}

}  // namespace epilot::webhook
