#pragma once

// What `replay` tells its user: a line per request (text or JSON), the
// summary, the JUnit file, and the tallies they are made from.

#include <array>
#include <cstdint>
#include <cstdio>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "cli/output.hpp"
#include "lib/epilot/replay_verdicts.hpp"
#include "lib/epilot/resume_endpoint.hpp"
#include "lib/http/load_client.hpp"

namespace epilot::cli {

// One finished request.
struct ReplayRecord {
  std::uint64_t job = 0;
  std::size_t item = 0;
  const std::string* input = nullptr;  // the item's name
  http::Delivered delivered;
  Classified classified;
  const Expectation* expectation = nullptr;
  bool repeat = false;  // its webhook-id was sent before in this run
  std::optional<CallbackOutcome> callback;
  bool met = false;
  std::string why_unmet;
};

struct ItemTally {
  std::uint64_t sent = 0;
  std::uint64_t unmet = 0;
  std::chrono::nanoseconds latency_sum{0};
  std::vector<std::string> unmet_examples;  // the first few
};

struct Tally {
  std::array<std::uint64_t, k_answer_class_count> classes{};
  std::uint64_t met = 0;
  std::uint64_t unmet = 0;
  LatencyHistogram latency;
  std::vector<ItemTally> items;

  void add(const ReplayRecord& record);
  void merge(const Tally& other);
};

struct RunFacts {
  std::string url;
  unsigned connections = 1;
  double seconds = 0;
  std::size_t callbacks_received = 0;
  std::size_t callbacks_timed_out = 0;
  std::vector<std::string> callback_problems;
  bool stopped = false;  // interrupted
};

class ReplayReporter {
 public:
  using Format = OutputFormat;
  // `every_line`: a line for every request; otherwise only for requests that
  // did not meet their expectation, at most a screenful.
  // `name_width`: the inputs' names are padded to this, so columns line up.
  // `in_order`: lines wait for the jobs before them (see record()); for runs
  // of a bounded length only, since a line may wait for the run's end.
  ReplayReporter(Format format, bool every_line, bool quiet, std::size_t name_width, bool in_order);

  // Thread-safe: called as requests finish. With in_order, lines come out in
  // job order (the inputs' order), each as soon as every job before it is
  // reported; otherwise as they come.
  void record(const ReplayRecord& record);
  // Print what still waits for a job that never came (a stop dropped it).
  void finish();

  // The progress bar draws on stderr under the same lock as lines go to
  // stdout, and a line first wipes the bar, so that the two never mix on a
  // terminal. `draw` gets the text of the bar.
  void draw_progress(const std::string& bar);
  void clear_progress();
  void summary(const Tally& tally, const RunFacts& facts);

  // One <testcase> per input.
  std::string junit(const std::vector<std::string>& names, const std::vector<const Expectation*>& expectations,
                    const Tally& tally, const RunFacts& facts) const;

 private:
  std::string text_line(const ReplayRecord& record) const;
  std::string json_line(const ReplayRecord& record) const;
  void flush_stdout(const std::string& text);
  void emit_in_order(std::uint64_t job, std::string line);

  Format m_format;
  bool m_every_line;
  bool m_quiet;
  std::size_t m_name_width;
  std::mutex m_mutex;
  std::uint64_t m_unmet_lines = 0;
  std::uint64_t m_lines_printed = 0;
  bool m_progress_shown = false;
  std::map<std::uint64_t, std::string> m_waiting;  // lines of jobs reported before an earlier one
  std::uint64_t m_next_job = 0;
  bool m_in_order;
};

// "3.2 ms", "1.24 s".
std::string format_latency(std::chrono::nanoseconds latency);

}  // namespace epilot::cli
