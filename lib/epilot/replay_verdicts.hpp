#pragma once

// How `replay` reads an endpoint's answers (the way epilot's workflow engine
// would, per epilot's docs, "Custom Automated Action"), what the user expects of them, and
// the figures and reports a run ends with.

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/http/load_client.hpp"
#include "lib/http/response_reader.hpp"
#include "lib/util/error.hpp"

namespace epilot {

// One name per way a request can end. Stable: they appear in JSON and JUnit.
enum class AnswerClass {
  success,      // 2xx (without skip_reason)
  skipped,      // 2xx with {"skip_reason": ...}
  failed,       // 4xx/5xx with {"error_output": {"error_reason": ...}}
  other,        // any other answer: 4xx/5xx without that shape, 1xx/3xx
  timeout,      // no complete answer in time
  unreachable,  // no connection, after the retries
  broken,       // the connection broke or the answer was not HTTP
};
inline constexpr std::size_t k_answer_class_count = 7;
std::string_view to_code(AnswerClass answer_class);
std::optional<AnswerClass> parse_answer_class(std::string_view name);

struct Classified {
  AnswerClass answer_class = AnswerClass::other;
  std::string reason;  // skip_reason, error_reason (+ error_code), or a short excerpt of the body
};

Classified classify(const http::Delivered& delivered);

// --- Expectations: what a run expects of an answer (statuses, status classes, answer classes) ---

struct Expectation {
  std::string text;  // as written, for messages
  struct Matcher {
    int status = 0;        // an exact status, or
    int status_class = 0;  // 2 for 2xx, ..., or
    std::optional<AnswerClass> answer_class;
  };
  std::vector<Matcher> any_of;
};

// Met when any one matcher matches: the status, its class or the answer class.
bool expectation_met(const Expectation& expectation, const http::Delivered& delivered, AnswerClass answer_class);

// What a run expects when told nothing: every answer is 2xx (success or skipped).
Expectation default_expectation();

// --- Latency ---

// Log-linear buckets (1/32 relative precision) from 1 us to about 1.2 hours:
// fixed memory however long the run, and exact enough for p50/p95/p99.
class LatencyHistogram {
 public:
  void add(std::chrono::nanoseconds latency);
  void merge(const LatencyHistogram& other);
  std::uint64_t count() const { return m_count; }
  std::chrono::nanoseconds max() const { return m_max; }
  // The latency at or below which `quantile` (0..1) of the samples fall:
  // the upper bound of that sample's bucket, never more than max().
  std::chrono::nanoseconds percentile(double quantile) const;

 private:
  static constexpr int k_sub_bits = 5;
  static constexpr int k_buckets = (32 - k_sub_bits + 1) << k_sub_bits;
  static std::size_t bucket_of(std::uint64_t micros);
  static std::uint64_t upper_bound_of(std::size_t bucket);

  std::array<std::uint64_t, k_buckets> m_counts{};
  std::uint64_t m_count = 0;
  std::chrono::nanoseconds m_max{0};
};

// --- JUnit XML ---

struct JunitCase {
  std::string name;
  std::string classname;
  double seconds = 0;
  std::optional<std::string> failure;  // message; absent when it passed
  std::optional<std::string> skipped;  // why it did not run (never set with failure)
  std::string details;                 // body of <failure>, or <system-out> when it passed
};

// One <testsuite> in a <testsuites>, as Jenkins, GitLab and GitHub reporters read it.
std::string junit_xml(std::string_view suite, const std::vector<JunitCase>& cases, double seconds,
                      std::string_view timestamp_iso8601);

}  // namespace epilot
