// `epilot-action fixtures`: list the built-in fixtures, show one.

#include <nlohmann/json.hpp>

#include <cstdio>
#include <memory>

#include "cli/commands.hpp"
#include "cli/fixture_context.hpp"
#include "lib/json.hpp"
#include "lib/payload.hpp"

namespace epilot::cli {

namespace {

struct FixturesOptions {
  std::string action;  // "list" or "show"
  std::string name;
  bool filled = false;
  std::vector<std::string> options;
  std::string fixtures_dir;
};

// A one-line summary: the event and the entity a fixture is about.
std::string summary(const Fixture& f) {
  try {
    auto doc = parse_json_or_discarded<nlohmann::json>(f.text);
    if (doc.is_object() && doc.contains("description") && doc["description"].is_string()) {
      return doc["description"].get<std::string>() + ", " + std::to_string(f.text.size()) + " bytes";
    }
    if (doc.contains("body")) {
      doc = doc["body"];
    }
    const auto& data = doc.value("data", nlohmann::json::object());
    std::string text = data.value("trigger_event", std::string("?"));
    if (data.contains("entity") && data["entity"].is_object()) {
      text += ", " + data["entity"].value("_schema", std::string("?"));
    }
    if (data.contains("resume_token")) {
      text += ", waits for a callback";
    }
    return text + ", " + std::to_string(f.text.size()) + " bytes";
  } catch (const nlohmann::json::exception&) {
    return std::to_string(f.text.size()) + " bytes";
  }
}

Outcome run_fixtures(const FixturesOptions& opts) {
  auto& catalog = fixture_catalog(opts.fixtures_dir);
  if (opts.action == "list" || opts.action.empty()) {
    for (const auto* f : catalog.all()) {
      const auto origin = f->origin.empty() ? std::string() : "  (" + terminal_text(f->origin) + ")";
      std::printf("%-24s %s%s\n", terminal_text(f->name).c_str(), summary(*f).c_str(), origin.c_str());
    }
    return Outcome::success;
  }
  if (opts.action != "show") {
    fail(ErrorCode::usage, "unknown fixtures action '" + opts.action + "'", {"use: fixtures list, or fixtures show NAME"});
  }
  if (opts.name.empty()) {
    fail(ErrorCode::usage, "fixtures show needs a NAME", {"list them with: epilot-action fixtures"});
  }
  const auto* fixture = &resolve_fixture(catalog, opts.name);
  if (!opts.filled) {
    std::fwrite(fixture->text.data(), 1, fixture->text.size(), stdout);
    std::printf("\n");
    return Outcome::success;
  }
  const auto instance = take(instantiate_fixture(*fixture, fill_context(opts.options), {}));
  for (const auto& h : instance.headers) {
    std::printf("%s: %s\n", h.name.c_str(), h.value.c_str());
  }
  std::fwrite(instance.body.data(), 1, instance.body.size(), stdout);
  std::printf("\n");
  return Outcome::success;
}

}  // namespace

Command register_fixtures(CLI::App& app) {
  auto opts = std::make_shared<FixturesOptions>();
  auto* cmd = app.add_subcommand("fixtures", "List the custom-action fixtures (built-in and your own), or show one");
  cmd->add_option("action", opts->action, "list (default) or show");
  cmd->add_option("name", opts->name, "the fixture to show");
  cmd->add_flag("--filled", opts->filled, "show it with its placeholders filled");
  cmd->add_option("--option", opts->options, "a value for {{option.NAME}} placeholders, NAME=VALUE, repeatable")
      ->allow_extra_args(false)
      ->type_name("NAME=VALUE");
  add_fixtures_flag(*cmd, opts->fixtures_dir);
  cmd->footer(R"(Fixtures are realistic external_integration requests. Their placeholders
({{now}}, {{unix}}, {{uuid}}, {{env.NAME}}, {{option.NAME}}, with |default)
are filled when they are signed: epilot-action sign --fixture NAME.

Your own fixtures go in a folder named by --fixtures DIR or
EPILOT_ACTION_FIXTURES: each NAME.json is a body, each NAME.request.json is
{"description": "...", "headers": {...}, "body": {...}}. They are listed here
and named like the built-in ones (a name of yours replaces a built-in one).

Examples:
  $ epilot-action fixtures
  $ epilot-action fixtures show wait-for-callback --filled --option callback_post_url=http://127.0.0.1:4000/
  $ epilot-action fixtures --fixtures ./my-fixtures)");
  return Command{cmd, [opts] { return run_fixtures(*opts); }};
}

}  // namespace epilot::cli
