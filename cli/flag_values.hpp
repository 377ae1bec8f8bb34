#pragma once

// The grammars of the flag values that have one: the library holds the
// models (an Expectation, a DuplicateAnswer, overrides as pairs) and their
// evaluation; the text a user types for them is read here.

#include <string>
#include <string_view>
#include <utility>

#include "lib/epilot/check_battery.hpp"
#include "lib/epilot/replay_verdicts.hpp"
#include "lib/util/error.hpp"

namespace epilot::cli {

// --expect-repeat, and each part of --expect: a comma-separated list of
// statuses (200), status classes (2xx) and answer classes (success,
// skipped, failed, other, timeout, broken); any one must match.
Result<Expectation> parse_expectation(std::string_view text);

// --expect: "SPEC" for every input, or "INPUT=SPEC" for one.
struct ExpectRule {
  std::string input;  // empty: every input without a rule of its own
  Expectation expectation;
};
Result<ExpectRule> parse_expect_rule(std::string_view text);

// --duplicate-answer: "SPEC" or "SPEC:TEXT", SPEC as for an expectation and
// TEXT what the answer's body must hold.
Result<DuplicateAnswer> parse_duplicate_answer(std::string_view text);

// --set and --option: "NAME=VALUE", split at the first '='; `flag` names the
// text in the error.
Result<std::pair<std::string, std::string>> parse_assignment(std::string_view text, std::string_view flag);

}  // namespace epilot::cli
