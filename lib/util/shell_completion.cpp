#include "lib/util/shell_completion.hpp"

#include <cctype>
#include <sstream>
#include <string_view>

namespace epilot::util {

namespace {

// --- Shared ---

// `text` as one single-quoted word for bash and zsh. (fish reads a backslash
// inside quotes, so it has fish_quote.)
std::string sh_quote(std::string_view text) {
  std::string out = "'";
  for (const char c : text) {
    out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  }
  return out + "'";
}

std::string fish_quote(std::string_view text) {
  std::string out = "'";
  for (const char c : text) {
    if (c == '\'' || c == '\\') {
      out += '\\';
    }
    out += c;
  }
  return out + "'";
}

// A shell function name made of `program` ("epilot-action" -> "_epilot_action").
std::string function_name(std::string_view program) {
  std::string out = "_";
  for (const char c : program) {
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    out += plain ? c : '_';
  }
  return out;
}

std::string replace_all(std::string text, std::string_view from, std::string_view to) {
  for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

// `open` + `text` + `close`, built by appending: GCC 12 warns (-Wrestrict,
// wrongly) about "literal" + a temporary string.
std::string enclosed(std::string_view open, std::string_view text, std::string_view close = "") {
  std::string out(open);
  out += text;
  out += close;
  return out;
}

std::string join(const std::vector<std::string>& words, std::string_view separator = " ") {
  std::string out;
  for (const auto& w : words) {
    out += (out.empty() ? "" : std::string(separator)) + w;
  }
  return out;
}

// The positionals of a command, as one value: shells other than zsh do not
// count positionals, so the richest kind wins and every choice is offered.
CompletionValue merged_positionals(const CompletionCommand& command) {
  CompletionValue merged;
  const auto rank = [](ValueKind k) {
    switch (k) {
      case ValueKind::none:
        return 0;
      case ValueKind::choices:
        return 1;
      case ValueKind::directory:
        return 2;
      case ValueKind::file:
        return 3;
      case ValueKind::fixture:
        return 4;
    }
    return 0;
  };
  for (const auto& p : command.positionals) {
    if (rank(p.value.kind) > rank(merged.kind)) {
      merged.kind = p.value.kind;
    }
    merged.choices.insert(merged.choices.end(), p.value.choices.begin(), p.value.choices.end());
  }
  return merged;
}

std::vector<std::string> option_names(const CompletionCommand& command) {
  std::vector<std::string> names;
  for (const auto& o : command.options) {
    names.insert(names.end(), o.names.begin(), o.names.end());
  }
  return names;
}

// --- bash ---

// A value as the bash script describes it: its kind, then its choices.
std::string bash_value(const CompletionValue& value) {
  static constexpr const char* k_kinds[] = {"none", "choices", "file", "dir", "fixture"};
  std::vector<std::string> words{k_kinds[static_cast<int>(value.kind)]};
  words.insert(words.end(), value.choices.begin(), value.choices.end());
  return join(words);
}

// The case arms "COMMAND OPTION" -> value spec, for every option that takes a value.
void bash_value_arms(std::ostream& out, const CompletionCommand& command) {
  for (const auto& o : command.options) {
    if (!o.takes_value) {
      continue;
    }
    std::vector<std::string> patterns;
    for (const auto& n : o.names) {
      patterns.push_back(sh_quote(command.name + " " + n));
    }
    out << "    " << join(patterns, "|") << ") echo " << sh_quote(bash_value(o.value)) << " ;;\n";
  }
}

// The functions that read the tables, the same for every model; __FN__
// stands for the function name.
constexpr std::string_view k_bash_driver = R"sh(# Fill COMPREPLY with what value spec $1 offers for the word $2.
__FN___reply() {
  local kind="${1%% *}" choices=""
  [[ $1 == *" "* ]] && choices="${1#* }"
  COMPREPLY=()
  [[ -n $choices ]] && mapfile -t COMPREPLY < <(compgen -W "$choices" -- "$2")
  case "$kind" in
    fixture) mapfile -t -O "${#COMPREPLY[@]}" COMPREPLY < <(compgen -W "$__FN___fixtures" -- "$2") ;;
  esac
  case "$kind" in
    fixture|file)
      compopt -o filenames 2>/dev/null
      mapfile -t -O "${#COMPREPLY[@]}" COMPREPLY < <(compgen -f -- "$2") ;;
    dir)
      compopt -o filenames 2>/dev/null
      mapfile -t -O "${#COMPREPLY[@]}" COMPREPLY < <(compgen -d -- "$2") ;;
  esac
  return 0
}

__FN__() {
  local cur="${COMP_WORDS[COMP_CWORD]}" prev="" cmd="" opt="" prefix="" spec word i
  COMPREPLY=()
  (( COMP_CWORD > 0 )) && prev="${COMP_WORDS[COMP_CWORD-1]}"

  # The command: the first word that is neither an option nor an option's value.
  for ((i = 1; i < COMP_CWORD; i++)); do
    word="${COMP_WORDS[i]}"
    if [[ $word == = ]]; then
      ((i++))  # --option = value: the value follows
    elif [[ $word == -* ]]; then
      if [[ $word != *=* && ${COMP_WORDS[i+1]-} != = ]] && __FN___value "" "$word" >/dev/null; then
        ((i++))
      fi
    else
      cmd="$word"
      break
    fi
  done

  # The option whose value is being typed, if any: readline splits
  # --option=value at '=' (COMP_WORDBREAKS); without that, it is one word.
  if [[ $cur == = ]]; then
    opt="$prev"
    cur=""
  elif [[ $prev == = ]] && (( COMP_CWORD > 1 )); then
    opt="${COMP_WORDS[COMP_CWORD-2]}"
  elif [[ $cur == -*=* ]]; then
    opt="${cur%%=*}"
    prefix="$opt="
    cur="${cur#*=}"
  elif [[ $prev == -* ]]; then
    opt="$prev"
  fi
  if [[ -n $opt ]] && spec="$(__FN___value "$cmd" "$opt")"; then
    __FN___reply "$spec" "$cur"
    [[ -n $prefix ]] && COMPREPLY=("${COMPREPLY[@]/#/$prefix}")
    return 0
  fi

  if [[ $cur == -* ]]; then
    mapfile -t COMPREPLY < <(compgen -W "$(__FN___options "$cmd")" -- "$cur")
  elif [[ -z $cmd ]]; then
    mapfile -t COMPREPLY < <(compgen -W "$__FN___commands" -- "$cur")
  else
    __FN___reply "$(__FN___positionals "$cmd")" "$cur"
  fi
  return 0
}

complete -F __FN__ )sh";

// The header and the lists: the commands and the built-in fixtures.
void bash_lists(std::ostream& out, const CompletionModel& model, const std::string& fn) {
  std::vector<std::string> commands;
  for (const auto& c : model.commands) {
    commands.push_back(c.name);
  }
  out << "# bash completion for " << model.program << "\n"
      << "# Written by `" << model.program << " completion bash` from the program's own command line: do not edit.\n"
      << "# Enable it for a session with: source <(" << model.program << " completion bash)\n\n"
      << fn << "_commands=" << sh_quote(join(commands)) << "\n"
      << fn << "_fixtures=" << sh_quote(join(model.fixture_names)) << "\n\n";
}

// FN_options COMMAND: the options of a command (empty: the program's own).
void bash_options_function(std::ostream& out, const CompletionModel& model, const std::string& fn) {
  out << "# The options of command $1 (empty: the program's own).\n"
      << fn << "_options() {\n  case \"$1\" in\n"
      << "    '') echo " << sh_quote(join(option_names(model.top))) << " ;;\n";
  for (const auto& c : model.commands) {
    out << "    " << sh_quote(c.name) << ") echo " << sh_quote(join(option_names(c))) << " ;;\n";
  }
  out << "  esac\n}\n\n";
}

// FN_value COMMAND OPTION: what the option's value is; fails for a flag.
void bash_value_function(std::ostream& out, const CompletionModel& model, const std::string& fn) {
  out << "# What the value of option $2 of command $1 is (a kind, then choices); fails for a flag.\n"
      << fn << "_value() {\n  case \"$1 $2\" in\n";
  bash_value_arms(out, model.top);
  for (const auto& c : model.commands) {
    bash_value_arms(out, c);
  }
  out << "    *) return 1 ;;\n  esac\n}\n\n";
}

// FN_positionals COMMAND: what the command's arguments are.
void bash_positionals_function(std::ostream& out, const CompletionModel& model, const std::string& fn) {
  out << "# What the arguments of command $1 are.\n" << fn << "_positionals() {\n  case \"$1\" in\n";
  for (const auto& c : model.commands) {
    out << "    " << sh_quote(c.name) << ") echo " << sh_quote(bash_value(merged_positionals(c))) << " ;;\n";
  }
  out << "    *) echo none ;;\n  esac\n}\n\n";
}

std::string bash_script(const CompletionModel& model) {
  const std::string fn = function_name(model.program);
  std::ostringstream out;
  bash_lists(out, model, fn);
  bash_options_function(out, model, fn);
  bash_value_function(out, model, fn);
  bash_positionals_function(out, model, fn);
  out << replace_all(std::string(k_bash_driver), "__FN__", fn) << model.program << "\n";
  return out.str();
}

// --- zsh ---

// `text` inside an _arguments spec: brackets and colons are syntax there,
// and `$` and backquotes could be expanded.
std::string zsh_spec_text(std::string_view text) {
  std::string out;
  for (const char c : text) {
    if (c == '[' || c == ']' || c == ':' || c == '\\' || c == '$' || c == '`') {
      out += '\\';
    }
    out += c;
  }
  return out;
}

// A choice as one word inside an _arguments "(a b c)" action.
std::string zsh_word(std::string_view text) {
  std::string out;
  for (const char c : text) {
    const bool plain = std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_' || c == '.' || c == '/';
    if (!plain) {
      out += '\\';
    }
    out += c;
  }
  return out;
}

// The action part of an _arguments spec for `value`.
std::string zsh_action(const CompletionValue& value, const std::string& fn) {
  std::vector<std::string> words;
  for (const auto& c : value.choices) {
    words.push_back(zsh_word(c));
  }
  switch (value.kind) {
    case ValueKind::none:
      return words.empty() ? " " : enclosed("(", join(words), ")");
    case ValueKind::choices:
      return enclosed("(", join(words), ")");
    case ValueKind::file:
      return "_files";
    case ValueKind::directory:
      return "_files -/";
    case ValueKind::fixture:
      return fn + "_fixture";
  }
  return " ";
}

// One _arguments spec per name, all in one exclusion group unless repeatable.
void zsh_option_specs(std::ostream& out, const CompletionOption& option, const std::string& fn) {
  const std::string exclusion = option.repeatable ? "*" : enclosed("(", join(option.names), ")");
  for (const auto& name : option.names) {
    std::string spec = exclusion + name;
    if (option.takes_value && name.rfind("--", 0) == 0) {
      spec += "=";  // --name=value or --name value
    }
    spec += enclosed("[", zsh_spec_text(option.description), "]");
    if (option.takes_value) {
      const std::string message = name.substr(name.find_first_not_of('-'));
      spec += enclosed(":", zsh_spec_text(message), ":") + zsh_action(option.value, fn);
    }
    out << " \\\n    " << sh_quote(spec);
  }
}

void zsh_positional_specs(std::ostream& out, const CompletionCommand& command, const std::string& fn) {
  for (const auto& p : command.positionals) {
    const std::string head = p.repeatable ? "*:" : (p.required ? ":" : "::");
    out << " \\\n    " << sh_quote(head + zsh_spec_text(p.name) + ":" + zsh_action(p.value, fn));
  }
}

std::string zsh_script(const CompletionModel& model) {
  const std::string fn = function_name(model.program);
  const std::string main_fn = "_" + model.program;  // the name of the file it lives in
  std::ostringstream out;
  out << "#compdef " << model.program << "\n"
      << "# zsh completion for " << model.program << "\n"
      << "# Written by `" << model.program << " completion zsh` from the program's own command line: do not edit.\n"
      << "# Install it as _" << model.program << " in a folder of $fpath, or source it after compinit.\n\n";
  std::vector<std::string> fixtures;
  for (const auto& f : model.fixture_names) {
    fixtures.push_back(zsh_word(f));
  }
  out << fn << "_fixtures=(" << join(fixtures) << ")\n\n"
      << "# A fixture: by name, or by path.\n"
      << fn << "_fixture() {\n"
      << "  _alternative \"fixtures:fixture:(${" << fn << "_fixtures[*]})\" 'files:file:_files'\n"
      << "}\n";
  for (const auto& c : model.commands) {
    out << "\n# " << c.name << "\n" << fn << "_command_" << function_name(c.name).substr(1) << "() {\n  _arguments";
    for (const auto& o : c.options) {
      zsh_option_specs(out, o, fn);
    }
    zsh_positional_specs(out, c, fn);
    out << "\n}\n";
  }
  out << "\n"
      << main_fn << "() {\n"
      << "  local curcontext=\"$curcontext\" state line\n"
      << "  typeset -A opt_args\n"
      << "  _arguments -C";
  for (const auto& o : model.top.options) {
    zsh_option_specs(out, o, fn);
  }
  out << " \\\n    '1:command:->command' \\\n    '*::argument:->argument'\n"
      << "  case $state in\n"
      << "    command)\n"
      << "      local -a commands\n"
      << "      commands=(";
  for (const auto& c : model.commands) {
    out << "\n        " << sh_quote(zsh_spec_text(c.name) + ":" + c.description);
  }
  out << "\n      )\n"
      << "      _describe -t commands command commands ;;\n"
      << "    argument)\n"
      << "      curcontext=\"${curcontext%:*:*}:" << model.program << "-$line[1]:\"\n"
      << "      case $line[1] in\n";
  for (const auto& c : model.commands) {
    out << "        (" << zsh_word(c.name) << ") " << fn << "_command_" << function_name(c.name).substr(1) << " ;;\n";
  }
  out << "      esac ;;\n"
      << "  esac\n"
      << "}\n\n"
      << "# Autoloaded from its file, run it; sourced, register it.\n"
      << "if [[ $funcstack[1] == " << main_fn << " ]]; then\n"
      << "  " << main_fn << " \"$@\"\n"
      << "else\n"
      << "  compdef " << main_fn << " " << model.program << "\n"
      << "fi\n";
  return out.str();
}

// --- fish ---

// The arguments of `complete` that say what a value completes to.
std::string fish_value(const CompletionValue& value, const std::string& fish_fixtures) {
  std::vector<std::string> words = value.choices;
  if (value.kind == ValueKind::fixture) {
    words.insert(words.begin(), fish_fixtures);  // a variable, expanded when completing
  }
  std::string choices = words.empty() ? "" : enclosed(" -a ", fish_quote(join(words)));
  switch (value.kind) {
    case ValueKind::none:
      return words.empty() ? "" : choices;
    case ValueKind::choices:
      return choices;
    case ValueKind::file:
    case ValueKind::fixture:
      return " -F" + choices;
    case ValueKind::directory:
      return " -a '(__fish_complete_directories)'";
  }
  return "";
}

void fish_options(std::ostream& out, const std::string& head, const CompletionCommand& command,
                  const std::string& fish_fixtures) {
  for (const auto& o : command.options) {
    out << head;
    for (const auto& name : o.names) {
      const bool is_long = name.rfind("--", 0) == 0;
      out << (is_long ? " -l " : " -s ") << fish_quote(name.substr(is_long ? 2 : 1));
    }
    if (o.takes_value) {
      // -r: it takes a value; -x: one that is not a file name.
      const bool files = o.value.kind == ValueKind::file || o.value.kind == ValueKind::fixture;
      out << (files ? " -r" : " -x") << fish_value(o.value, fish_fixtures);
    }
    out << " -d " << fish_quote(o.description) << "\n";
  }
}

std::string fish_script(const CompletionModel& model) {
  const std::string var = function_name(model.program) + "_fixtures";
  const std::string base = "complete -c " + fish_quote(model.program);
  std::ostringstream out;
  out << "# fish completion for " << model.program << "\n"
      << "# Written by `" << model.program << " completion fish` from the program's own command line: do not edit.\n\n"
      << "set -g " << var;
  for (const auto& f : model.fixture_names) {
    out << " " << fish_quote(f);
  }
  out << "\n" << base << " -f  # no file names unless a value or argument takes them\n";
  const std::string top = base + " -n __fish_use_subcommand";
  fish_options(out, top, model.top, "$" + var);
  for (const auto& c : model.commands) {
    out << top << " -a " << fish_quote(c.name) << " -d " << fish_quote(c.description) << "\n";
  }
  for (const auto& c : model.commands) {
    const std::string head = base + " -n " + fish_quote("__fish_seen_subcommand_from " + c.name);
    out << "\n# " << c.name << "\n";
    fish_options(out, head, c, "$" + var);
    const std::string positionals = fish_value(merged_positionals(c), "$" + var);
    if (!positionals.empty()) {
      out << head << positionals << "\n";
    }
  }
  return out.str();
}

}  // namespace

std::string completion_script(const CompletionModel& model, Shell shell) {
  switch (shell) {
    case Shell::bash:
      return bash_script(model);
    case Shell::zsh:
      return zsh_script(model);
    case Shell::fish:
      return fish_script(model);
  }
  return {};
}

}  // namespace epilot::util
