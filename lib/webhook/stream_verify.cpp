#include "lib/webhook/stream_verify.hpp"

#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <algorithm>
#include <thread>

#include "lib/webhook/input_formats.hpp"

namespace epilot {

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
void verify_block(Batch& batch, const VerifyKeys& keys, const VerifyKeys& other_keys,
                  const VerifyPolicy& policy, Capture& capture) {
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

Status verify_stream(int fd, std::string_view prefix, const VerifyKeys& keys,
                     const VerifyKeys& other_keys, const VerifyPolicy& policy,
                     const StreamOptions& options,
                     const std::function<void(const RecordResult&)>& sink) {
  const unsigned threads = options.threads == 0 ? 1 : options.threads;
  const std::size_t block_size = std::max<std::size_t>(options.block_size, 1);
  // Bounded memory: a few blocks per worker, and never more than 16 MiB of text.
  const std::size_t max_in_flight = std::min<std::size_t>(2 * static_cast<std::size_t>(threads) + 2, 16);

  std::mutex mutex;
  std::condition_variable work_ready;  // workers wait for blocks
  std::condition_variable batch_done;  // the reader waits for results or room
  std::deque<std::shared_ptr<Batch>> pending;  // in input order, delivered from the front
  std::deque<std::shared_ptr<Batch>> queue;    // not yet taken by a worker
  bool closing = false;

  const auto work = [&] {
    Capture capture;
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
      verify_block(*batch, keys, other_keys, policy, capture);
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

  // Hand finished blocks to `sink`, in order. With `wait`, block until every
  // pending block is delivered; without, deliver what is ready and return.
  std::size_t next_index = 0;
  std::size_t next_line = 1;  // the first line of the next block delivered
  const auto deliver = [&](bool wait) {
    while (true) {
      std::shared_ptr<Batch> front;
      {
        std::unique_lock lock(mutex);
        if (wait) {
          batch_done.wait(lock, [&] { return pending.empty() || pending.front()->done; });
        }
        if (pending.empty() || !pending.front()->done) {
          return;
        }
        front = pending.front();
        pending.pop_front();
      }
      for (auto& r : front->results) {
        r.index = next_index++;
        r.line += next_line;
        sink(r);
      }
      next_line += front->line_count;
    }
  };
  const auto submit = [&](std::shared_ptr<Batch> batch) {
    std::unique_lock lock(mutex);
    while (pending.size() >= max_in_flight) {
      lock.unlock();
      deliver(false);
      lock.lock();
      if (pending.size() >= max_in_flight) {
        batch_done.wait(lock, [&] { return pending.front()->done; });
      }
    }
    pending.push_back(batch);
    queue.push_back(std::move(batch));
    lock.unlock();
    work_ready.notify_one();
  };

  // Read blocks of whole lines; the unfinished last line carries over.
  std::string buffer(prefix);
  bool eof = false;
  const auto read_more = [&]() -> Status {
    const auto old = buffer.size();
    buffer.resize(old + block_size);
    ssize_t n = 0;
    do {
      n = ::read(fd, buffer.data() + old, block_size);
    } while (n < 0 && errno == EINTR);
    buffer.resize(old + static_cast<std::size_t>(std::max<ssize_t>(n, 0)));
    if (n < 0) {
      return make_error(ErrorCode::io, std::string("cannot read the input: ") + std::strerror(errno));
    }
    eof = n == 0;
    return ok_status();
  };
  Status status = ok_status();
  while (status) {
    while (status && !eof && buffer.size() < block_size) {
      status = read_more();
    }
    if (!status) {
      break;
    }
    // Cut after the last line end; at the end of the input, take everything.
    const auto last_eol = buffer.rfind('\n');
    const std::size_t cut = eof ? buffer.size() : last_eol == std::string::npos ? 0 : last_eol + 1;
    if (cut == 0) {
      if (eof) {
        break;
      }
      if (buffer.size() > k_max_input_size) {
        status = make_error(ErrorCode::bad_input, "a line is longer than " +
                                                      std::to_string(k_max_input_size >> 20) + " MiB");
        break;
      }
      status = read_more();  // a line longer than a block: keep reading
      continue;
    }
    auto batch = std::make_shared<Batch>();
    std::string rest = buffer.substr(cut);
    buffer.resize(cut);
    batch->text = std::move(buffer);
    buffer = std::move(rest);
    submit(std::move(batch));
    deliver(false);
  }
  {
    std::lock_guard lock(mutex);
    closing = true;
  }
  work_ready.notify_all();
  for (auto& t : workers) {
    t.join();
  }
  deliver(true);
  return status;
}

}  // namespace epilot
