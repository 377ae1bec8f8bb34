// The committed man page is what its source generates, and documents every flag.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { run } from './helpers.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const source = path.join(root, 'man/epilot-action.1.md');
const committed = fs.readFileSync(path.join(root, 'man/epilot-action.1'), 'utf8');

test('man/epilot-action.1 is up to date with its source', () => {
  const generated = execFileSync('node', [path.join(root, 'man/genman.mjs'), source]).toString();
  assert.equal(generated, committed, 'run: node man/genman.mjs man/epilot-action.1.md > man/epilot-action.1');
});

test('the man page has the sections a man page needs', () => {
  for (const section of ['NAME', 'SYNOPSIS', 'DESCRIPTION', 'OPTIONS|COMMANDS', 'ENVIRONMENT', 'FILES', 'EXIT STATUS', 'EXAMPLES']) {
    assert.match(committed, new RegExp(`^\\.SH "(${section})"$`, 'm'), section);
  }
});

// Flags every command has (--color) are documented once, under GLOBAL OPTIONS.
test('every flag of every command is documented in its man section', () => {
  const md = fs.readFileSync(source, 'utf8');
  const globalStart = md.indexOf('# GLOBAL OPTIONS\n');
  const globalSection = md.slice(globalStart, md.indexOf('\n# ', globalStart + 1));
  const topHelp = run(['--help']).stdout;
  const globalFlags = [...topHelp.matchAll(/^\s+(?:-\w,)?(--[a-z-]+)/gm)].map((m) => m[1]);
  assert.ok(globalFlags.includes('--color') && globalFlags.includes('--version'), topHelp);
  for (const flag of globalFlags) assert.ok(globalSection.includes('`' + flag + '`'), `${flag} is not under GLOBAL OPTIONS`);
  for (const cmd of ['keygen', 'sign', 'verify', 'inspect', 'fetch-key', 'listen', 'replay', 'check', 'fixtures']) {
    const start = md.indexOf(`## ${cmd}\n`);
    assert.notEqual(start, -1, `no section for ${cmd}`);
    const end = md.indexOf('\n#', start + 1);
    const section = md.slice(start, end);
    const help = run([cmd, '--help']).stdout;
    const flags = [...help.matchAll(/^\s+(?:-\w,)?(--[a-z-]+)/gm)].map((m) => m[1]).filter((f) => f !== '--help');
    assert.ok(flags.length >= 2, `${cmd}: flags found in --help`);
    for (const flag of flags.filter((f) => !globalFlags.includes(f))) {
      assert.ok(section.includes('`' + flag + '`'), `${cmd} ${flag} is not in the man page`);
    }
  }
});
