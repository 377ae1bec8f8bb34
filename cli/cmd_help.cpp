// `epilot-action help [COMMAND]` and `epilot-action version`: the spellings
// people try before --help and --version.

#include <cstdio>
#include <memory>

#include "cli/commands.hpp"
#include "cli/usage.hpp"

namespace epilot::cli {

Command register_help(CLI::App& app) {
  auto topic = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("help", "Show the help of the tool, or of one command");
  cmd->add_option("command", *topic, "the command to explain");
  return Command{cmd, [&app, topic] {
                   const CLI::App* about = &app;
                   if (!topic->empty()) {
                     try {
                       about = app.get_subcommand(*topic);
                     } catch (const CLI::OptionNotFound&) {
                       throw Failure(unknown_command(app, *topic));
                     }
                   }
                   // Not about->help(): once `help` is parsed, CLI11 would explain `help`.
                   // A command's usage line names the tool first, as its --help does.
                   const auto name = about == &app ? app.get_name() : app.get_name() + " " + about->get_name();
                   const auto text = about->get_formatter()->make_help(about, name, CLI::AppFormatMode::Normal);
                   std::fwrite(text.data(), 1, text.size(), stdout);
                   return Outcome::success;
                 }};
}

Command register_version(CLI::App& app) {
  auto* cmd = app.add_subcommand("version", "Show the version (as --version and -V do)");
  return Command{cmd, [] {
                   std::printf("epilot-action %s\n", EPILOT_VERSION);
                   return Outcome::success;
                 }};
}

}  // namespace epilot::cli
