#include "cli/flag_values.hpp"

#include <charconv>

namespace epilot::cli {
namespace {

// 'text' followed by `rest`. Appending, rather than a chain of operator+ on
// temporaries: GCC 12 at -O3 reports a false -Wrestrict overlap in the chain.
std::string quoted(std::string_view text, std::string_view rest = {}) {
  std::string out;
  out.reserve(text.size() + rest.size() + 2);
  out += '\'';
  out.append(text);
  out += '\'';
  out.append(rest);
  return out;
}

}  // namespace

Result<Expectation> parse_expectation(std::string_view text) {
  Expectation expectation;
  expectation.text = std::string(text);
  std::size_t pos = 0;
  while (pos <= text.size()) {
    auto comma = text.find(',', pos);
    if (comma == std::string_view::npos) {
      comma = text.size();
    }
    auto item = text.substr(pos, comma - pos);
    while (!item.empty() && item.front() == ' ') {
      item.remove_prefix(1);
    }
    while (!item.empty() && item.back() == ' ') {
      item.remove_suffix(1);
    }
    pos = comma + 1;
    Expectation::Matcher matcher;
    int number = 0;
    const auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), number);
    if (item.size() == 3 && ec == std::errc() && end == item.data() + 3 && number >= 100 && number <= 599) {
      matcher.status = number;
    } else if (item.size() == 3 && item[0] >= '1' && item[0] <= '5' && (item[1] == 'x' || item[1] == 'X') &&
               (item[2] == 'x' || item[2] == 'X')) {
      matcher.status_class = item[0] - '0';
    } else if (auto c = parse_answer_class(item)) {
      matcher.answer_class = c;
    } else {
      return make_error(
          ErrorCode::usage,
          quoted(text, ": ") + quoted(item, " is not a status (200), a status class (2xx) or an answer class"),
          {"answer classes: success, skipped, failed, other, timeout, broken"});
    }
    expectation.any_of.push_back(matcher);
  }
  return expectation;
}

Result<ExpectRule> parse_expect_rule(std::string_view text) {
  ExpectRule rule;
  const auto equals = text.rfind('=');
  auto spec = text;
  if (equals != std::string_view::npos) {
    rule.input = std::string(text.substr(0, equals));
    spec = text.substr(equals + 1);
    if (rule.input.empty()) {
      return make_error(ErrorCode::usage, quoted(text, " names no input before '='"));
    }
  }
  if (spec.empty()) {
    return make_error(ErrorCode::usage, quoted(text, " expects nothing"),
                      {"for example: 2xx, 401, skipped,409, or stale.json=401 for one input"});
  }
  auto expectation = parse_expectation(spec);
  if (!expectation.ok()) {
    return expectation.error();
  }
  rule.expectation = std::move(expectation).value();
  return rule;
}

Result<DuplicateAnswer> parse_duplicate_answer(std::string_view text) {
  DuplicateAnswer out;
  const auto colon = text.find(':');
  if (colon != std::string_view::npos) {
    out.body_text = std::string(text.substr(colon + 1));
    if (out.body_text.empty()) {
      return make_error(ErrorCode::usage, quoted(text, " has nothing after its ':'"),
                        {"SPEC:TEXT: the answer's status and a text its body holds, e.g. 200:duplicate"});
    }
  }
  auto expectation = parse_expectation(text.substr(0, colon));
  if (!expectation.ok()) {
    return expectation.error();
  }
  out.expectation = std::move(expectation).value();
  out.expectation.text = std::string(text);
  return out;
}

Result<std::pair<std::string, std::string>> parse_assignment(std::string_view text, std::string_view flag) {
  const auto eq = text.find('=');
  if (eq == std::string_view::npos || eq == 0) {
    return make_error(ErrorCode::usage, std::string(flag) + " '" + std::string(text) + "' is not NAME=VALUE");
  }
  return std::pair{std::string(text.substr(0, eq)), std::string(text.substr(eq + 1))};
}

}  // namespace epilot::cli
