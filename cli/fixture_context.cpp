#include "cli/fixture_context.hpp"
#include "cli/wall_clock.hpp"

#include <cstdlib>
#include <memory>

#include "cli/environment.hpp"
#include "cli/flag_values.hpp"
#include "cli/input_output.hpp"
#include "cli/output.hpp"
#include "lib/epilot/input_kind.hpp"
#include "lib/util/constants.hpp"
#include "lib/util/file.hpp"
#include "lib/webhook/input_formats.hpp"

namespace epilot::cli {

FillContext fill_context(const std::vector<std::string>& options) {
  FillContext context;
  context.now_ms = current_time_ms();
  context.random = util::system_random();
  context.env = [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    return value == nullptr ? std::nullopt : std::optional<std::string>(value);
  };
  context.reserved_env_prefix = std::string(k_env_own_prefix);
  for (const auto& text : options) {
    auto [name, value] = take(parse_assignment(text, "--option"));
    context.options[name] = value;
  }
  return context;
}

void add_fixtures_flag(CLI::App& cmd, std::string& dir) {
  cmd.add_option("--fixtures", dir,
                 "a folder of your own fixtures (NAME.json, NAME.request.json), named like the built-in ones "
                 "(default: $EPILOT_ACTION_FIXTURES)")
      ->type_name("DIR");
}

FixtureCatalog& fixture_catalog(const std::string& dir) {
  static std::unique_ptr<FixtureCatalog> catalog;
  if (!catalog) {
    catalog = std::make_unique<FixtureCatalog>();
    std::string folder = dir;
    const char* env = std::getenv(k_env_fixtures);
    const bool from_env = folder.empty() && env != nullptr && *env != '\0';
    if (from_env) {
      folder = env;
    }
    if (auto added = folder.empty() ? ok_status() : catalog->add_directory(folder); !added.ok()) {
      // A variable set long ago must not stop a run that names no fixture of
      // its folder: it is said, and the built-in fixtures serve.
      if (!from_env) {
        throw Failure(added.error());
      }
      print_warning(std::string(k_env_fixtures) + ": " + added.error().message +
                    "; only the built-in fixtures are used");
    }
  }
  return *catalog;
}

std::vector<std::string> fixture_hints(const FixtureCatalog& catalog, const std::string& name) {
  std::vector<std::string> hints;
  const auto close = catalog.similar(name);
  if (!close.empty()) {
    std::string list;
    for (std::size_t i = 0; i < close.size() && i < 3; ++i) {
      list += (i == 0 ? "" : ", ") + close[i];
    }
    hints.push_back("did you mean: " + list + "?");
  }
  hints.push_back("list them with: epilot-action fixtures");
  return hints;
}

void warn_unknown_placeholders(const std::string& path, std::string_view data) {
  if (const auto unknown = unknown_placeholders(data); !unknown.empty() && has_placeholders(data)) {
    print_warning(terminal_text(path) + ": " + terminal_text(unknown.front()) +
                  " is not a placeholder; it is kept as written");
  }
}

const Fixture& fixture_from_file(FixtureCatalog& catalog, const std::string& path, std::string data, bool warn) {
  if (warn) {
    warn_unknown_placeholders(path, data);
  }
  auto name = path;
  if (name.size() > 5 && name.compare(name.size() - 5, 5, ".json") == 0) {
    name.resize(name.size() - 5);
  }
  return catalog.add_file(std::move(name), std::move(data), path);
}

const Fixture& checked_fixture(const Fixture& fixture) {
  if (fixture.origin.empty()) {
    return fixture;  // built in: the tests read every one
  }
  const auto origin = terminal_text(fixture.origin);
  const auto kind = classify_input(fixture.text, fixture.origin);
  if (!kind.ok()) {
    fail(kind.error().code, origin + ": " + kind.error().message, kind.error().hints);
  }
  if (*kind == InputKind::captures) {
    fail(ErrorCode::usage, origin + " is a capture, not a fixture",
         {"replay it with: epilot-action replay " + origin, "a fixture is a payload or a NAME.request.json template"});
  }
  if (*kind == InputKind::payload_lines) {
    fail(ErrorCode::usage, origin + " holds JSON Lines: a fixture is one payload",
         {"to send a request per line: epilot-action replay " + origin + " --url URL"});
  }
  return fixture;
}

const Fixture& resolve_fixture(FixtureCatalog& catalog, const std::string& ref) {
  const bool path_like = ref.find('/') != std::string::npos ||
                         (ref.size() > 5 && ref.compare(ref.size() - 5, 5, ".json") == 0 && util::file_exists(ref));
  if (!path_like) {
    if (const auto* fixture = catalog.find(ref)) {
      return checked_fixture(*fixture);
    }
    fail(ErrorCode::usage, "no fixture is called '" + terminal_text(ref) + "'", fixture_hints(catalog, ref));
  }
  return checked_fixture(fixture_from_file(catalog, ref, read_input(ref, k_max_input_size)));
}

}  // namespace epilot::cli
