#include "lib/util/shell_completion.hpp"

#include <gtest/gtest.h>

#include <string>

namespace epilot::util {
namespace {

// A program whose texts hold every character the shells read as syntax.
CompletionModel awkward_model() {
  CompletionModel model;
  model.program = "prog";
  model.top.options.push_back({{"--help", "-h"}, "it's [help]: all\\of $it", false, false, {}});
  CompletionCommand run;
  run.name = "run";
  run.description = "run it: 'now' [fast]";
  run.options.push_back({{"--format"}, "text or json", true, false, {ValueKind::choices, {"text", "json"}}});
  run.options.push_back({{"--fixture", "-f"}, "a fixture", true, false, {ValueKind::fixture, {}}});
  run.options.push_back({{"-H", "--header"}, "repeatable", true, true, {ValueKind::none, {}}});
  run.positionals.push_back({"input", "what to run", false, true, {ValueKind::fixture, {}}});
  model.commands.push_back(run);
  model.fixture_names = {"one", "two-2"};
  return model;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(CompletionScript, BashNamesEveryCommandFlagAndValue) {
  const std::string script = completion_script(awkward_model(), Shell::bash);
  EXPECT_TRUE(contains(script, "_prog_commands='run'\n"));
  EXPECT_TRUE(contains(script, "_prog_fixtures='one two-2'\n"));
  EXPECT_TRUE(contains(script, "    'run') echo '--format --fixture -f -H --header' ;;\n"));
  EXPECT_TRUE(contains(script, "    'run --format') echo 'choices text json' ;;\n"));
  EXPECT_TRUE(contains(script, "    'run --fixture'|'run -f') echo 'fixture' ;;\n"));
  EXPECT_TRUE(contains(script, "complete -F _prog prog\n"));
  EXPECT_FALSE(contains(script, "__FN__"));
}

TEST(CompletionScript, ZshQuotesSpecSyntaxInTexts) {
  const std::string script = completion_script(awkward_model(), Shell::zsh);
  EXPECT_EQ(script.rfind("#compdef prog\n", 0), 0u);
  // Brackets, colons and backslashes are escaped in specs; a quote closes and reopens the word.
  EXPECT_TRUE(contains(script, R"('(--help -h)--help[it'\''s \[help\]\: all\\of \$it]')"));
  EXPECT_TRUE(contains(script, "'(--format)--format=[text or json]:format:(text json)'"));
  EXPECT_TRUE(contains(script, "'*-H[repeatable]:H: '"));
  EXPECT_TRUE(contains(script, "'*:input:_prog_fixture'"));
  EXPECT_TRUE(contains(script, R"('run:run it: '\''now'\'' [fast]')"));
}

TEST(CompletionScript, FishEscapesQuotesAndBackslashes) {
  const std::string script = completion_script(awkward_model(), Shell::fish);
  EXPECT_TRUE(contains(
      script, R"(complete -c 'prog' -n __fish_use_subcommand -l 'help' -s 'h' -d 'it\'s [help]: all\\of $it')"));
  EXPECT_TRUE(contains(script, "-n '__fish_seen_subcommand_from run' -l 'format' -x -a 'text json' -d 'text or json'"));
  EXPECT_TRUE(contains(script, "-n '__fish_seen_subcommand_from run' -l 'fixture' -s 'f' -r -F -a '$_prog_fixtures'"));
  EXPECT_TRUE(contains(script, "complete -c 'prog' -n '__fish_seen_subcommand_from run' -F -a '$_prog_fixtures'\n"));
}

}  // namespace
}  // namespace epilot::util
