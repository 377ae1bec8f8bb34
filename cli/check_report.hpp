#pragma once

// What `check` tells its user: a line per case as it is judged (text, or a
// JSON line), then a summary with the failures first, each with what to
// fix; and the JUnit report.

#include <string>
#include <vector>

#include "lib/check.hpp"

namespace epilot::cli {

struct CheckFacts {
  std::string url;         // as shown: no query, no userinfo
  std::string scheme;      // "v1a" or "v1"
  std::string key;         // how the endpoint's key is named: "whpk_... (SHA256:...)", or the secret's source
  std::int64_t tolerance = 300;
  bool strict = false;
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
};

CheckTotals count(const std::vector<CaseResult>& results);

class CheckReporter {
 public:
  enum class Format { text, json };
  CheckReporter(Format format, bool verbose, bool strict) : m_format(format), m_verbose(verbose), m_strict(strict) {}

  // The heading line (text only, once).
  void start(const CheckFacts& facts);
  void record(const CaseResult& result);
  void summary(const std::vector<CaseResult>& results, const CheckFacts& facts);

 private:
  Format m_format;
  bool m_verbose;
  bool m_strict;
  bool m_started = false;
};

// The battery, a line per case (for --list), as text or JSON Lines.
std::string battery_listing(bool json);

std::string check_junit(const std::vector<CaseResult>& results, const CheckFacts& facts);

}  // namespace epilot::cli
