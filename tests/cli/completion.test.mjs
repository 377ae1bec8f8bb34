// Shell completions: every flag that a command's --help shows is in each
// shell's script, and the scripts work in their shells: bash's completion
// function is called the way bash calls it, fish answers `complete -C`
// itself, and an interactive zsh on a pseudo-terminal completes a TAB. Commands and flags come from --help,
// never from a list written here, so that the test follows the CLI.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { run, tmpdir, FIXTURES } from './helpers.mjs';

const PROGRAM = 'epilot-action';

// The commands listed by the top-level --help (CLI11: a "Subcommands:" block).
function commandsFromHelp() {
  const help = run(['--help']).stdout;
  const block = help.split(/^Subcommands:$/m)[1] ?? '';
  const names = [];
  for (const line of block.split('\n').slice(1)) {
    const m = /^\s+([a-z][\w-]*)(\s|$)/.exec(line);
    if (!m) break;
    names.push(m[1]);
  }
  assert.ok(names.length >= 5, `commands found in --help:\n${help}`);
  return names;
}

// The flags an option line of --help starts with: "  -H,--header TEXT ...".
function flagsFromHelp(args) {
  const help = run([...args, '--help']).stdout;
  const flags = new Set();
  for (const m of help.matchAll(/^\s{1,8}(-[^\s]+)/gm)) {
    for (const name of m[1].split(',')) {
      const flag = /^--?[A-Za-z0-9][\w-]*/.exec(name);
      if (flag) flags.add(flag[0]);
    }
  }
  assert.ok(flags.has('--help'), `${args.join(' ') || 'top level'}: --help found in --help:\n${help}`);
  return [...flags];
}

// Choices the help shows for options that take one of a few values: "--format text|json".
function choicesFromHelp(command) {
  const help = run([command, '--help']).stdout;
  return [...help.matchAll(/^ {2}(?:-\w,)?(--[\w-]+) ([a-z0-9-]+(?:\|[a-z0-9-]+)+)\s/gm)].map((m) => ({ flag: m[1], choices: m[2].split('|') }));
}

function script(shell, env) {
  const r = run(['completion', shell], { env });
  assert.equal(r.status, 0, r.stderr);
  const file = path.join(tmpdir(), shell === 'zsh' ? `_${PROGRAM}` : shell === 'fish' ? `${PROGRAM}.fish` : PROGRAM);
  fs.writeFileSync(file, r.stdout);
  return { text: r.stdout, file };
}

const bash = script('bash');
const zsh = script('zsh');
const fish = script('fish');
const commands = commandsFromHelp();

// COMPREPLY of bash's completion function for `words` (the last one is being
// typed), called as bash calls it, in `cwd`.
function bashComplete(words, { cwd = tmpdir() } = {}) {
  const driver = `
    source "$1"; shift
    spec=$(complete -p ${PROGRAM}) || exit 3
    fn=\${spec#*-F }; fn=\${fn%% *}
    COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 ))
    COMP_LINE="$*"; COMP_POINT=\${#COMP_LINE}
    "$fn" ${PROGRAM} "\${COMP_WORDS[COMP_CWORD]}" "\${COMP_WORDS[COMP_CWORD-1]}" || exit 4
    printf '%s\\n' "\${COMPREPLY[@]}"`;
  const r = spawnSync('bash', ['--norc', '--noprofile', '-c', driver, 'bash', bash.file, PROGRAM, ...words], { cwd });
  assert.equal(r.status, 0, `bash completion of ${words.join(' ')}: ${r.stderr}`);
  assert.equal(r.stderr.toString(), '', `bash completion of ${words.join(' ')} said something`);
  return r.stdout.toString().split('\n').filter(Boolean).sort();
}

// What fish itself offers for the command line `line`.
function fishComplete(line, { cwd = tmpdir() } = {}) {
  const r = spawnSync('fish', ['--no-config', '-c', 'source $argv[1]; complete -C $argv[2]', fish.file, line], { cwd });
  assert.equal(r.status, 0, `fish completion of ${line}: ${r.stderr}`);
  return r.stdout.toString().split('\n').filter(Boolean).map((l) => l.split('\t')[0]).sort();
}

// What zsh's completion offers for each of `lines`, the script loaded by
// compinit from $fpath (see zsh_complete.zsh): one sorted list per line.
const zshDriver = path.join(path.dirname(new URL(import.meta.url).pathname), 'zsh_complete.zsh');
function zshComplete(lines, { cwd = tmpdir() } = {}) {
  const r = spawnSync('zsh', ['-f', zshDriver, path.dirname(zsh.file), ...lines], {
    cwd, timeout: 60_000, env: { ...process.env, HOME: tmpdir() },
  });
  assert.equal(r.status, 0, `zsh completion of ${lines.join(' | ')}: ${r.stderr}`);
  const parts = r.stdout.toString().split('<<DONE>>').slice(0, lines.length);
  assert.equal(parts.length, lines.length, `zsh answered every line: ${r.stdout}`);
  return parts.map((part) => {
    const offers = [...part.matchAll(/<<OFFER ([^>\r\n]*)>>/g)].flatMap((m) => m[1].split(' '));
    return [...new Set(offers)].sort();
  });
}

const fixtureNames = fs.readdirSync(path.join(FIXTURES, 'payloads')).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5));

test('every flag of every command in --help is in each shell\'s script, for that command', () => {
  for (const command of commands) {
    const flags = flagsFromHelp([command]);
    const offered = bashComplete([command, '-']);
    const zshBody = zsh.text.split(`\n# ${command}\n`)[1]?.split('\n}\n')[0];
    assert.ok(zshBody, `zsh: no function for ${command}`);
    const fishLines = fish.text.split('\n').filter((l) => l.includes(`'__fish_seen_subcommand_from ${command}'`)).join('\n');
    for (const flag of flags) {
      assert.ok(offered.includes(flag), `bash: ${command} ${flag} is not offered for '-' (got ${offered.join(' ')})`);
      assert.ok(zshBody.includes(`${flag}[`) || zshBody.includes(`${flag}=[`), `zsh: ${command} ${flag}`);
      const fishFlag = flag.startsWith('--') ? ` -l '${flag.slice(2)}'` : ` -s '${flag.slice(1)}'`;
      assert.ok(fishLines.includes(fishFlag), `fish: ${command} ${flag}`);
    }
  }
});

test('the program\'s own flags and every command are offered at the top', () => {
  const offered = bashComplete(['-']);
  const fishTop = fish.text.split('\n').filter((l) => l.includes(' -n __fish_use_subcommand ')).join('\n');
  for (const flag of flagsFromHelp([])) {
    assert.ok(offered.includes(flag), `bash: ${flag}`);
    assert.ok(zsh.text.includes(`${flag}[`) || zsh.text.includes(`${flag}=[`), `zsh: ${flag}`);
    const fishFlag = flag.startsWith('--') ? ` -l '${flag.slice(2)}'` : ` -s '${flag.slice(1)}'`;
    assert.ok(fishTop.includes(fishFlag), `fish: ${flag}`);
  }
  assert.deepEqual(bashComplete(['']), [...commands].sort());
  assert.deepEqual(fishComplete(`${PROGRAM} `).filter((w) => !w.startsWith('-')), [...commands].sort());
  for (const command of commands) assert.ok(zsh.text.includes(`'${command}:`), `zsh: ${command}`);
});

test('bash: commands, flags and enumerated values complete', () => {
  assert.deepEqual(bashComplete(['ver']), ['verify', 'version']);
  assert.deepEqual(bashComplete(['veri']), ['verify']);
  assert.deepEqual(bashComplete(['verify', '--for']), ['--format']);
  assert.deepEqual(bashComplete(['verify', '--format', '']), ['json', 'text']);
  assert.deepEqual(bashComplete(['verify', '--format', 'j']), ['json']);
  assert.deepEqual(bashComplete(['fetch-key', '--format', '']), ['json', 'jwk', 'pem', 'whpk']);
  assert.deepEqual(bashComplete(['completion', '']), ['bash', 'fish', 'zsh']);
  // --format=VALUE: readline splits at '=' (COMP_WORDBREAKS), or does not.
  assert.deepEqual(bashComplete(['verify', '--format', '=', '']), ['json', 'text']);
  assert.deepEqual(bashComplete(['verify', '--format', '=', 't']), ['text']);
  assert.deepEqual(bashComplete(['verify', '--format=j']), ['--format=json']);
  // A flag takes no value: what follows is an argument again.
  assert.deepEqual(bashComplete(['verify', '--quiet', '--for']), ['--format']);
});

test('bash: every enumeration the help shows completes to its choices', () => {
  let seen = 0;
  for (const command of commands) {
    for (const { flag, choices } of choicesFromHelp(command)) {
      assert.deepEqual(bashComplete([command, flag, '']), [...choices].sort(), `${command} ${flag}`);
      seen++;
    }
  }
  // --format of 8 commands, --color of every one, --endpoint, --key-format...: the help must keep showing them.
  assert.ok(seen >= 20, `only ${seen} enumerations found in the help`);
});

test('bash: fixture names for replay and sign arguments and for --fixture, with files', () => {
  assert.ok(fixtureNames.includes('opportunity-created'), 'fixtures/payloads has opportunity-created.json');
  assert.deepEqual(bashComplete(['replay', 'opp']), ['opportunity-created']);
  assert.deepEqual(bashComplete(['sign', 'opp']), ['opportunity-created']);
  const all = bashComplete(['replay', '']);
  for (const name of fixtureNames) assert.ok(all.includes(name), `replay: ${name} (got ${all.join(' ')})`);
  for (const words of [['sign', '--fixture', ''], ['check', '--fixture', '']]) {
    const offered = bashComplete(words);
    for (const name of fixtureNames) assert.ok(offered.includes(name), `${words.join(' ')}: ${name}`);
  }
  // A fixture may be named by path: files are offered beside the names.
  const cwd = tmpdir();
  fs.writeFileSync(path.join(cwd, 'opportunity-mine.json'), '{}');
  assert.deepEqual(bashComplete(['replay', 'opp'], { cwd }), ['opportunity-created', 'opportunity-mine.json']);
  assert.deepEqual(bashComplete(['sign', '--fixture', 'opportunity-m'], { cwd }), ['opportunity-mine.json']);
});

test('bash: file names for files, none for numbers, folders for folders', () => {
  const cwd = tmpdir();
  fs.writeFileSync(path.join(cwd, 'request.json'), '{}');
  fs.writeFileSync(path.join(cwd, 'key.pem'), '');
  fs.mkdirSync(path.join(cwd, 'received'));
  assert.deepEqual(bashComplete(['verify', 're'], { cwd }), ['received', 'request.json']);
  assert.deepEqual(bashComplete(['sign', '--private-key', 'k'], { cwd }), ['key.pem']);
  assert.deepEqual(bashComplete(['listen', '--out-dir', 'r'], { cwd }), ['received']);
  assert.deepEqual(bashComplete(['verify', '--now', ''], { cwd }), []);
  assert.deepEqual(bashComplete(['listen', '--port', ''], { cwd }), []);
});

test('fish: the script parses and fish completes with it', () => {
  const syntax = spawnSync('fish', ['--no-config', '-n', fish.file]);
  assert.equal(syntax.status, 0, syntax.stderr.toString());
  assert.ok(fishComplete(`${PROGRAM} ver`).includes('verify'));
  assert.deepEqual(fishComplete(`${PROGRAM} verify --for`), ['--format']);
  assert.deepEqual(fishComplete(`${PROGRAM} verify --format `), ['json', 'text']);
  assert.ok(fishComplete(`${PROGRAM} replay opp`).includes('opportunity-created'));
  assert.ok(fishComplete(`${PROGRAM} sign --fixture opp`).includes('opportunity-created'));
});

test('zsh: completion offers every flag of every command, and values', () => {
  const offers = zshComplete(commands.map((command) => `${PROGRAM} ${command} -`));
  commands.forEach((command, i) => {
    for (const flag of flagsFromHelp([command])) {
      assert.ok(offers[i].includes(flag), `zsh: ${command} ${flag} is not offered for '-' (got ${offers[i].join(' ')})`);
    }
  });
  const cases = [
    [`${PROGRAM} `, [...commands].sort()],
    [`${PROGRAM} ver`, ['verify', 'version']],
    [`${PROGRAM} verify --for`, ['--format']],
    [`${PROGRAM} verify --format `, ['json', 'text']],
    [`${PROGRAM} replay opp`, ['opportunity-created']],
    [`${PROGRAM} sign --fixture opp`, ['opportunity-created']],
    [`${PROGRAM} completion `, ['bash', 'fish', 'zsh']],
  ];
  const got = zshComplete(cases.map(([line]) => line));
  cases.forEach(([line, expected], i) => assert.deepEqual(got[i], expected, line));
});

test('zsh: the script parses, and loads as a completion function', () => {
  const syntax = spawnSync('zsh', ['-n', zsh.file]);
  assert.equal(syntax.status, 0, syntax.stderr.toString());
  assert.ok(zsh.text.startsWith(`#compdef ${PROGRAM}\n`));
  // Sourced after compinit, it registers itself; autoloaded from $fpath, compinit finds it by its #compdef line.
  const home = tmpdir();
  const load = `autoload -Uz compinit && compinit -u -d ${home}/zcompdump
    source ${zsh.file}; print -r -- "sourced=$_comps[${PROGRAM}]"
    unset "_comps[${PROGRAM}]"; fpath=(${path.dirname(zsh.file)} $fpath); compinit -u -D; print -r -- "fpath=$_comps[${PROGRAM}]"`;
  const r = spawnSync('zsh', ['-f', '-c', load], { env: { ...process.env, HOME: home, ZDOTDIR: home } });
  assert.equal(r.status, 0, r.stderr.toString());
  assert.equal(r.stderr.toString(), '');
  assert.match(r.stdout.toString(), new RegExp(`^sourced=_${PROGRAM}$`, 'm'));
  assert.match(r.stdout.toString(), new RegExp(`^fpath=_${PROGRAM}$`, 'm'));
});

test('the scripts name only built-in fixtures, whatever the environment holds', () => {
  const dir = tmpdir();
  fs.writeFileSync(path.join(dir, 'mine-only.json'), '{}');
  for (const shell of ['bash', 'zsh', 'fish']) {
    const r = run(['completion', shell], { env: { EPILOT_ACTION_FIXTURES: dir } });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(!r.stdout.includes('mine-only'), shell);
  }
});

test('a shell it does not know, or none, is a usage error', () => {
  for (const args of [['completion', 'tcsh'], ['completion']]) {
    const r = run(args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /^epilot-action: error: .*(shell|tcsh)/m);
    assert.equal(r.stdout, '');
  }
  assert.match(run(['completion', 'tcsh']).stderr, /bash.*zsh.*fish/);
});

test('the man page documents the completion command and how to enable each shell', () => {
  const md = fs.readFileSync(path.join(FIXTURES, '..', 'man', 'epilot-action.1.md'), 'utf8');
  const start = md.indexOf('## completion\n');
  assert.notEqual(start, -1, 'no section for completion');
  const section = md.slice(start, md.indexOf('\n#', start + 1));
  for (const shell of ['bash', 'zsh', 'fish']) assert.ok(section.includes(shell), shell);
});
