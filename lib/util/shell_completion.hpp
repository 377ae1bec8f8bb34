#pragma once

// Shell completion scripts for bash, zsh and fish, written from a model of
// the command line. The command line builds the model from its own parser at
// run time (cli/cmd_completion.cpp), so a script cannot name a flag the
// binary does not have, nor miss one it has.

#include <string>
#include <vector>

namespace epilot::util {

// What the value of an option (or a positional argument) completes to.
enum class ValueKind {
  none,       // nothing to offer (a number, a URL, a free text)
  choices,    // only the listed choices
  file,       // file names
  directory,  // directory names
  fixture,    // fixture names, and file names (a fixture may be named by path)
};

struct CompletionValue {
  ValueKind kind = ValueKind::none;
  std::vector<std::string> choices;  // offered for every kind; the only offer for `choices`
};

struct CompletionOption {
  std::vector<std::string> names;  // spelled as typed: "--format", "-f"
  std::string description;
  bool takes_value = false;  // false: a flag
  bool repeatable = false;   // may be given more than once
  CompletionValue value;     // when it takes one
};

struct CompletionPositional {
  std::string name;
  std::string description;
  bool required = false;
  bool repeatable = false;  // takes every remaining argument
  CompletionValue value;
};

struct CompletionCommand {
  std::string name;  // empty for the program itself
  std::string description;
  std::vector<CompletionOption> options;
  std::vector<CompletionPositional> positionals;  // in order
};

struct CompletionModel {
  std::string program;    // "epilot-action"
  CompletionCommand top;  // the program's own options
  std::vector<CompletionCommand> commands;
  std::vector<std::string> fixture_names;  // what a fixture value offers besides files
};

enum class Shell { bash, zsh, fish };

// The completion script for `shell`, to be sourced (bash), autoloaded from
// a `_PROGRAM` file or sourced (zsh), or read from `PROGRAM.fish` (fish).
// Names and texts that a shell would read as syntax are quoted.
std::string completion_script(const CompletionModel& model, Shell shell);

}  // namespace epilot::util
