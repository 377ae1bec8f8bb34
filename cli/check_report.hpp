#pragma once

// What `check` tells its user: a line per case as it is judged (text, or a
// JSON line), then a summary with the failures first, each with what to
// fix; and the JUnit report.

#include <string>
#include <vector>

#include "lib/epilot/check_battery.hpp"
#include "lib/epilot/check_run.hpp"

namespace epilot::cli {

struct CheckFacts {
  std::string url;     // as shown: no query, no userinfo
  std::string scheme;  // "v1a" or "v1"
  // The key the endpoint must trust: for v1a its whpk_ form and fingerprint;
  // for v1 where the secret came from (never the secret).
  std::string whpk;
  std::string fingerprint;
  std::string secret_source;
  std::int64_t tolerance = 300;
  bool strict = false;
  bool duplicate_answer = false;  // the user described a silent repeat answer
  double seconds = 0;
};

struct CheckTotals {
  std::size_t passed = 0;
  std::size_t failed = 0;
  std::size_t must_failed = 0;
  std::size_t should_failed = 0;
  std::size_t inconclusive = 0;
  std::size_t must_inconclusive = 0;
  std::size_t skipped = 0;
  // The run's outcome: every must case passed (with strict, every case that ran).
  bool ok(bool strict) const;
  // Cases that fail the run: must cases that did not pass, and with strict
  // should cases that failed or were inconclusive.
  std::size_t counted(bool strict) const;
};

CheckTotals count(const std::vector<CaseResult>& results);

class CheckReporter {
 public:
  enum class Format { text, json };
  // `left_out`: per case, why the user left it out (--only, --skip); those
  // get no line of their own in text unless verbose.
  CheckReporter(Format format, bool verbose, bool strict, std::vector<std::string> left_out)
      : m_format(format), m_verbose(verbose), m_strict(strict), m_left_out(std::move(left_out)) {}

  // The heading line (text only, once).
  void start(const CheckFacts& facts);
  void record(const CaseResult& result);
  void summary(const std::vector<CaseResult>& results, const CheckFacts& facts);

 private:
  Format m_format;
  bool m_verbose;
  bool m_strict;
  std::vector<std::string> m_left_out;
  bool m_started = false;
  std::string summary_text(const std::vector<CaseResult>& results, const CheckFacts& facts) const;
};

// The battery, a line per case (for --list), as text or JSON Lines.
std::string battery_listing(bool json);

// One <testcase> per battery case. A should case that failed without
// strict does not fail the run, so it is not a <failure> either: its
// warning goes to <system-out>.
std::string check_junit(const std::vector<CaseResult>& results, const CheckFacts& facts);

}  // namespace epilot::cli
