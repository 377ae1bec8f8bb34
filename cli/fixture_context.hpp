#pragma once

// Fixtures on the command line: which ones a run can name (the built-in
// ones, a folder of the user's own from --fixtures or EPILOT_ACTION_FIXTURES,
// template files named by path), and what fills their placeholders (the
// clock, the system's randomness, the environment and --option values).

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "lib/epilot/fixture_catalog.hpp"
#include "lib/epilot/templates.hpp"

namespace epilot::cli {

FillContext fill_context(const std::vector<std::string>& options);

// `fixture:NAME` or `fixture:PATH`: a fixture, whatever files there are.
inline constexpr std::string_view k_fixture_prefix = "fixture:";

// --fixtures DIR, for the commands that name fixtures.
void add_fixtures_flag(CLI::App& cmd, std::string& dir);

// The run's fixtures, with the user's folder (`dir`, else the environment)
// read on first use.
FixtureCatalog& fixture_catalog(const std::string& dir);

// A fixture named by `ref`: a path (it has a '/', or is a file ending in
// .json) or a name in the catalog. Fails with what there is.
const Fixture& resolve_fixture(FixtureCatalog& catalog, const std::string& ref);

// `fixture` itself, once a user's file has been found to be one: a payload
// or template, not a capture, JSON Lines or JSON cut short. Fails otherwise.
const Fixture& checked_fixture(const Fixture& fixture);

// A payload or NAME.request.json file, already read, as a fixture named by
// its path. With `warn`, warns about {{...}} text that is not a placeholder
// (warn_unknown_placeholders).
const Fixture& fixture_from_file(FixtureCatalog& catalog, const std::string& path, std::string data, bool warn = true);

// Say once that `data` holds {{...}} text that is not a placeholder, when it
// is a template (and so probably meant it as one).
void warn_unknown_placeholders(const std::string& path, std::string_view data);

// "did you mean" hints for a fixture name nothing has.
std::vector<std::string> fixture_hints(const FixtureCatalog& catalog, const std::string& name);

}  // namespace epilot::cli
