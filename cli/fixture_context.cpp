#include "cli/fixture_context.hpp"

#include <chrono>
#include <cstdlib>

#include "cli/output.hpp"

namespace epilot::cli {

FillContext fill_context(const std::vector<std::string>& options) {
  FillContext context;
  context.now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  context.random = system_random();
  context.env = [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    return value == nullptr ? std::nullopt : std::optional<std::string>(value);
  };
  for (const auto& text : options) {
    auto [name, value] = take(parse_assignment(text, "--option"));
    context.options[name] = value;
  }
  return context;
}

}  // namespace epilot::cli
