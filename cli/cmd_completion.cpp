// `epilot-action completion bash|zsh|fish`: a shell completion script,
// written at run time from the parser's own command tree (commands, their
// flags, enumerated values), so that it cannot drift from the binary.

#include <algorithm>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cli/commands.hpp"
#include "cli/flags.hpp"
#include "cli/output.hpp"
#include "lib/epilot/templates.hpp"
#include "lib/util/shell_completion.hpp"

namespace epilot::cli {

namespace {

struct CompletionOptions {
  std::string shell;
};

// The items of a CLI11 set text "{a,b,c}" at the end of `text`.
std::optional<std::vector<std::string>> set_at_end(std::string_view text) {
  const auto open = text.rfind('{');
  if (open == std::string_view::npos || text.empty() || text.back() != '}') {
    return std::nullopt;
  }
  std::vector<std::string> items;
  std::string_view rest = text.substr(open + 1, text.size() - open - 2);
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    items.emplace_back(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
  }
  return items;
}

// The choices of an option declared with ->check(CLI::IsMember({...})).
// CLI11 keeps the set inside the validator; what it shows of it is the
// description "{a,b}" (the help's type) and the error for any other value,
// "X not in {a,b}". The error is asked for too, so that the choices are
// still found if help text is made quieter by blanking the description.
std::vector<std::string> choices_of(CLI::Option& option) {
  for (int i = 0;; ++i) {
    CLI::Validator* validator = nullptr;
    try {
      validator = option.get_validator(i);
    } catch (const CLI::OptionNotFound&) {
      return {};
    }
    if (auto set = set_at_end(validator->get_description())) {
      return *set;
    }
    std::string probe = "\x01";  // a control character is nobody's choice
    if (auto set = set_at_end((*validator)(probe))) {
      return *set;
    }
  }
}

bool has_long_name(const CLI::Option& option, std::string_view name) {
  for (const auto& n : option.get_lnames()) {
    if (n == name) {
      return true;
    }
  }
  return false;
}

// Options of `command` a user can see, its option groups' included.
std::vector<CLI::Option*> visible_options(CLI::App& command) {
  auto options = command.get_options([](const CLI::Option* o) { return !o->get_group().empty(); });
  for (auto* group : command.get_subcommands([](const CLI::App* a) { return a->get_name().empty(); })) {
    const auto more = visible_options(*group);
    options.insert(options.end(), more.begin(), more.end());
  }
  return options;
}

// What a value completes to. Choices come from the option itself; the rest
// from what names and the value's name in --help say: `--fixture` and the
// arguments of a command that reads a fixtures folder (`--fixtures`) name
// fixtures; a DIR, or an option named "fixtures" or "*-dir", is a folder; a
// FILE or KEY (a file or whpk_...) and the arguments are files; anything else
// (URL, DURATION, N, PORT, HEADER...) is nothing a shell can guess.
util::CompletionValue value_of(CLI::Option& option, CLI::App& command) {
  util::CompletionValue value;
  value.choices = choices_of(option);
  const std::string type = option.get_type_name();
  const std::string base_type = type.substr(0, type.find(':'));
  const bool positional = !option.nonpositional();
  const auto reads_fixtures = [&] {
    for (const auto* o : visible_options(command)) {
      if (has_long_name(*o, "fixtures")) {
        return true;
      }
    }
    return false;
  };
  const std::string long_name = option.get_lnames().empty() ? "" : option.get_lnames().front();
  if (command.get_name() == "help" && positional && command.get_parent() != nullptr) {
    // help's topic is a command.
    for (const auto* sub : command.get_parent()->get_subcommands([](const CLI::App*) { return true; })) {
      value.choices.push_back(sub->get_name());
    }
  }
  if (!value.choices.empty()) {
    value.kind = util::ValueKind::choices;
  } else if (long_name == "fixture" || (positional && reads_fixtures())) {
    value.kind = util::ValueKind::fixture;
  } else if (base_type == "DIR" || long_name == "fixtures" || long_name.ends_with("-dir")) {
    value.kind = util::ValueKind::directory;
  } else if (positional || base_type == "FILE" || base_type == "KEY") {
    value.kind = util::ValueKind::file;
  } else {
    value.kind = util::ValueKind::none;
  }
  return value;
}

std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

util::CompletionOption option_model(CLI::Option& option, CLI::App& command) {
  util::CompletionOption model;
  for (const auto& n : option.get_lnames()) {
    model.names.push_back("--" + n);
  }
  for (const auto& n : option.get_snames()) {
    model.names.push_back("-" + n);
  }
  model.description = first_line(option.get_description());
  model.takes_value = option.get_expected_max() != 0;
  model.repeatable = model.takes_value && option.get_items_expected_max() > 1;
  if (model.takes_value) {
    model.value = value_of(option, command);
  }
  return model;
}

util::CompletionCommand command_model(CLI::App& command) {
  util::CompletionCommand model;
  model.name = command.get_parent() == nullptr ? "" : command.get_name();
  model.description = first_line(command.get_description());
  for (auto* option : visible_options(command)) {
    if (option->nonpositional()) {
      model.options.push_back(option_model(*option, command));
      continue;
    }
    util::CompletionPositional positional;
    positional.name = option->get_name();
    positional.description = first_line(option->get_description());
    positional.required = option->get_required();
    positional.repeatable = option->get_items_expected_max() > 1;
    positional.value = value_of(*option, command);
    model.positionals.push_back(std::move(positional));
  }
  return model;
}

// A command that lets its parent's options through takes them too (a
// global --color, say), unless it has one of the same name.
void add_fallthrough_options(util::CompletionCommand& command, const util::CompletionCommand& parent) {
  for (const auto& option : parent.options) {
    bool taken = false;
    for (const auto& own : command.options) {
      for (const auto& name : own.names) {
        taken = taken || std::find(option.names.begin(), option.names.end(), name) != option.names.end();
      }
    }
    if (!taken) {
      command.options.push_back(option);
    }
  }
}

util::CompletionModel model_of(CLI::App& app) {
  util::CompletionModel model;
  model.program = app.get_name();
  model.top = command_model(app);
  const auto visible = [](const CLI::App* a) { return !a->get_name().empty() && !a->get_group().empty(); };
  for (auto* command : app.get_subcommands(visible)) {
    model.commands.push_back(command_model(*command));
    if (command->get_fallthrough()) {
      add_fallthrough_options(model.commands.back(), model.top);
    }
  }
  for (const auto& fixture : builtin_fixtures()) {
    model.fixture_names.emplace_back(fixture.name);
  }
  return model;
}

util::Shell shell_named(const std::string& name) {
  if (name == "zsh") {
    return util::Shell::zsh;
  }
  if (name == "fish") {
    return util::Shell::fish;
  }
  return util::Shell::bash;
}

}  // namespace

Command register_completion(CLI::App& app) {
  auto opts = std::make_shared<CompletionOptions>();
  auto* cmd = app.add_subcommand("completion", "Print a shell completion script (bash, zsh or fish)");
  cmd->add_option("shell", opts->shell, "bash, zsh or fish")->required()->check(one_of({"bash", "zsh", "fish"}));
  cmd->footer(R"(Enable completions:
  bash: source <(epilot-action completion bash)     (in ~/.bashrc)
  zsh:  epilot-action completion zsh > ~/.zfunc/_epilot-action
        (with fpath=(~/.zfunc $fpath) before compinit in ~/.zshrc)
  fish: epilot-action completion fish > ~/.config/fish/completions/epilot-action.fish
An installed epilot-action has them already, where each shell looks.)");
  // The tree is read when the command runs, once every command is registered.
  auto* root = &app;
  return Command{cmd, [opts, root] {
                   const std::string script = completion_script(model_of(*root), shell_named(opts->shell));
                   std::fwrite(script.data(), 1, script.size(), stdout);
                   return Outcome::success;
                 }};
}

}  // namespace epilot::cli
