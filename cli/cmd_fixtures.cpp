// `epilot-action fixtures`: list the built-in fixtures, show one.

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <optional>

#include "cli/commands.hpp"
#include "cli/fixture_context.hpp"
#include "cli/flags.hpp"
#include "lib/epilot/templates.hpp"
#include "lib/util/json.hpp"

namespace epilot::cli {

namespace {

struct FixturesOptions {
  std::string action;  // "list" or "show"
  std::string name;
  bool filled = false;
  std::vector<std::string> options;
  std::string fixtures_dir;
  OutputFormat format = OutputFormat::text;
};

using Json = nlohmann::ordered_json;

// What a fixture is about, in a phrase: its description, or the event and
// entity of its payload; empty when its text says neither.
std::string description(const Fixture& f) {
  try {
    auto doc = util::parse_json_or_discarded<nlohmann::json>(f.text);
    if (doc.is_object() && doc.contains("description") && doc["description"].is_string()) {
      return doc["description"].get<std::string>();
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
    return text;
  } catch (const nlohmann::json::exception&) {
    return {};
  }
}

// The text line of the list: name, what it is about, its size, its file.
std::string text_line(const Fixture& f) {
  const auto about = description(f);
  const auto size = std::to_string(f.text.size()) + " bytes";
  const auto origin = f.origin.empty() ? std::string() : "  (" + terminal_text(f.origin) + ")";
  auto name = terminal_text(f.name);
  name.resize(std::max<std::size_t>(name.size(), 24), ' ');
  return name + " " + (about.empty() ? size : about + ", " + size) + origin + "\n";
}

// A `fixture` event: what the list shows, as data.
Json fixture_event(const Fixture& f) {
  Json doc;
  doc["event"] = "fixture";
  doc["name"] = std::string(f.name);
  doc["source"] = f.origin.empty() ? "built-in" : "user";
  doc["file"] = f.origin.empty() ? Json() : Json(std::string(f.origin));
  doc["description"] = description(f);
  doc["bytes"] = f.text.size();
  return doc;
}

void print_json(const Json& doc) {
  std::printf("%s\n", doc.dump(-1, ' ', false, Json::error_handler_t::replace).c_str());
}

void list_fixtures(const FixtureCatalog& catalog, bool json) {
  for (const auto* f : catalog.all()) {
    if (json) {
      print_json(fixture_event(*f));
    } else {
      std::fputs(text_line(*f).c_str(), stdout);
    }
  }
}

// The `fixture` event of `fixtures show`: the fixture's exact text, and,
// when `filled` is given, the headers and body it became.
Json shown_event(const Fixture& fixture, const RequestTemplate* filled) {
  auto doc = fixture_event(fixture);
  doc["text"] = std::string(fixture.text);
  if (filled != nullptr) {
    Json headers = Json::array();
    for (const auto& h : filled->headers) {
      headers.push_back({{"name", h.name}, {"value", h.value}});
    }
    doc["headers"] = headers;
    doc["body"] = filled->body;
  }
  return doc;
}

// One fixture, as it is or filled.
void show_fixture(const Fixture& fixture, const FixturesOptions& opts) {
  std::optional<RequestTemplate> filled;
  if (opts.filled) {
    filled = take(instantiate_fixture(fixture, fill_context(opts.options), {}));
  }
  if (opts.format == OutputFormat::json) {
    print_json(shown_event(fixture, filled ? &*filled : nullptr));
    return;
  }
  if (!filled) {
    std::fwrite(fixture.text.data(), 1, fixture.text.size(), stdout);
    std::printf("\n");
    return;
  }
  for (const auto& h : filled->headers) {
    std::printf("%s: %s\n", h.name.c_str(), h.value.c_str());
  }
  std::fwrite(filled->body.data(), 1, filled->body.size(), stdout);
  std::printf("\n");
}

Outcome run_fixtures(const FixturesOptions& opts) {
  auto& catalog = fixture_catalog(opts.fixtures_dir);
  if (opts.action == "list" || opts.action.empty()) {
    list_fixtures(catalog, opts.format == OutputFormat::json);
    return Outcome::success;
  }
  if (opts.name.empty()) {
    fail(ErrorCode::usage, "fixtures show needs a NAME", {"list them with: epilot-action fixtures"});
  }
  show_fixture(resolve_fixture(catalog, opts.name), opts);
  return Outcome::success;
}

}  // namespace

Command register_fixtures(CLI::App& app) {
  auto opts = std::make_shared<FixturesOptions>();
  auto* cmd = app.add_subcommand("fixtures", "List the custom-action fixtures (built-in and your own), or show one");
  cmd->add_option("action", opts->action, "list (default) or show")->check(one_of({"list", "show"}));
  cmd->add_option("name", opts->name, "the fixture to show");
  cmd->add_flag("--filled", opts->filled, "show it with its placeholders filled");
  cmd->add_option("--option", opts->options, "a value for {{option.NAME}} placeholders, NAME=VALUE, repeatable")
      ->allow_extra_args(false)
      ->type_name("NAME=VALUE");
  add_fixtures_flag(*cmd, opts->fixtures_dir);
  add_format_flag(*cmd, opts->format, "text or json (a fixture event per fixture)");
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
  $ epilot-action fixtures --fixtures ./my-fixtures
  $ epilot-action fixtures show custom-action --format json | jq -r .text)");
  return Command{cmd, [opts] { return run_fixtures(*opts); }};
}

}  // namespace epilot::cli
