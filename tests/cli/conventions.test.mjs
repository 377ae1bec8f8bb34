// The conventions every command shares: did-you-mean, help and version,
// --color, durations with units, checks in words, one meaning per flag name,
// and EPILOT_ACTION_* variables that stand in for flags.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { BIN, run, runAsync, tmpdir, checkStderrGrammar } from './helpers.mjs';

const COMMANDS = ['keygen', 'sign', 'verify', 'inspect', 'fetch-key', 'listen', 'replay', 'check', 'fixtures'];
const ESC = '\x1b[';

function helpOf(cmd) {
  const r = run([cmd, '--help']);
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

// The option lines of a --help: [{ names: ['-o', '--out'], value: 'FILE', text }].
function options(help) {
  const out = [];
  for (const m of help.matchAll(/^ {2}((?:-\w,)?--[a-z][a-z-]*)(?: ([^ \n]+))?\s*(.*)$/gm)) {
    out.push({ names: m[1].split(','), value: m[2], text: m[3], line: m[0] });
  }
  return out;
}

// The description of a flag, which may wrap to the next line.
function description(help, flag) {
  const lines = help.split('\n');
  const i = lines.findIndex((l) => new RegExp(`^ {2}(?:-\\w,)?${flag}\\b`).test(l));
  assert.notEqual(i, -1, `${flag} not in help`);
  return lines[i] + (lines[i + 1]?.startsWith('      ') ? lines[i + 1] : '');
}

test('did you mean: a mistyped command, flag or help topic gets the closest names, exit 2', () => {
  const cases = [
    [['verfy'], /error: unknown command 'verfy'\nepilot-action: hint: did you mean verify\?/],
    [['replya', '--url', 'x'], /did you mean replay\?/],
    [['verify', '--formt', 'json'], /error: unknown flag --formt for verify\nepilot-action: hint: did you mean --format\?/],
    [['verify', '--formt=json'], /unknown flag --formt for verify\n.*did you mean --format\?/],
    [['replay', '--concurency', '4'], /unknown flag --concurency for replay\n.*did you mean --concurrency\?/],
    [['listen', '--max-request', '1'], /did you mean --max-requests\?/],
    [['check', '--strikt'], /did you mean --strict\?/],
    [['--colr', 'never', 'verify'], /unknown flag --colr\n.*did you mean --color\?/],
    [['help', 'chek'], /unknown command 'chek'\n.*did you mean check\?/],
    [['sign', '--fixture', 'contact-updatd'], /did you mean: contact-updated\?/],
  ];
  for (const [args, message] of cases) {
    const r = run(args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message, args.join(' '));
    assert.equal(r.stdout, '', args.join(' '));
    checkStderrGrammar(assert, r.stderr);
  }
  // Nothing close: no guess, but the way to the list.
  const far = run(['verify', '--zzzzzzzz']);
  assert.equal(far.status, 2);
  assert.doesNotMatch(far.stderr, /did you mean/);
  assert.match(far.stderr, /'epilot-action verify --help' lists them all/);
  // A stray secret is not echoed, wherever it lands.
  const secret = 'whsec_c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI=';
  for (const args of [['fixtures', 'list', 'x', secret], [secret], ['--secret', secret, 'verify'], ['help', secret],
    ['verify', `-S${secret}`], ['sign', `--secrt=${secret}`]]) {
    const r = run(args);
    assert.equal(r.status, 2, args.join(' '));
    assert.doesNotMatch(r.stderr, /c2VjcmV0/, args.join(' '));
  }
  // A mistyped command before a real one is still a mistyped command.
  assert.match(run(['hlep', 'verify']).stderr, /unknown command 'hlep'\n.*did you mean help\?/);
});

test('help [COMMAND], version, -V and --version', () => {
  const top = run(['help']);
  assert.equal(top.status, 0);
  assert.equal(top.stdout, run(['--help']).stdout);
  for (const cmd of COMMANDS) {
    const r = run(['help', cmd]);
    assert.equal(r.status, 0, cmd);
    assert.equal(r.stdout, helpOf(cmd), cmd);
    assert.match(r.stdout, new RegExp(`^Usage: epilot-action ${cmd} `, 'm'));
  }
  const version = run(['version']).stdout;
  assert.match(version, /^epilot-action \d+\.\d+\.\d+\n$/);
  assert.equal(run(['-V']).stdout, version);
  assert.equal(run(['--version']).stdout, version);
});

test('help shows values by name, choices, defaults and variables, not CLI11 type names', () => {
  for (const cmd of COMMANDS) {
    const help = helpOf(cmd);
    assert.doesNotMatch(help, /:\{|in \[/, `${cmd} --help:\n${help}`);
    for (const o of options(help)) {
      if (o.value === undefined) continue;
      // A name (FILE, URL, PATH=VALUE) or the choices (text|json); no type, range or default.
      assert.match(o.value, /^[A-Z][A-Z_=|]*$|^[a-z]+(\|[a-z0-9-]+)+$/, `${cmd}: ${o.line}`);
      assert.doesNotMatch(o.value, /^(INT|UINT|FLOAT|TEXT)$/, `${cmd}: ${o.line}`);
    }
  }
  assert.match(description(helpOf('listen'), '--format'), /--format text\|json .*\(default: text\)/);
  assert.match(description(helpOf('replay'), '--timeout'), /--timeout DURATION .*\(default: 10s\)/);
});

test('one meaning per flag: -f is --force, --timeout a per-request network timeout, durations take units', () => {
  for (const cmd of COMMANDS) {
    const help = helpOf(cmd);
    for (const o of options(help)) {
      if (o.names.includes('-f')) assert.deepEqual(o.names, ['-f', '--force'], `${cmd}: ${o.line}`);
      if (o.names.includes('--timeout')) {
        assert.match(description(help, '--timeout'), /--timeout DURATION +how long a request may take, connecting included/, cmd);
      }
      if (/timeout|duration|delay|tolerance|wait|max-age/.test(o.names.at(-1))) assert.equal(o.value, 'DURATION', `${cmd}: ${o.line}`);
    }
  }
  assert.equal(run(['sign', '-f', 'custom-action']).status, 2);
  // listen's run-time limit was --timeout; now it is the forwarding timeout,
  // and without --forward-to the old use is refused, with the new names.
  const old = run(['listen', '--port', '0', '--timeout', '5']);
  assert.equal(old.status, 2);
  assert.match(old.stderr, /listen's --timeout is how long the app behind --forward-to may take/);
  assert.match(old.stderr, /hint: to stop listening after a while, use --duration/);
  assert.match(old.stderr, /hint: .*use --read-timeout/);
  checkStderrGrammar(assert, old.stderr);
});

test('values out of range or not numbers are refused in words', () => {
  const cases = [
    [['listen', '--port', 'abc'], /--port must be a whole number from 0 to 65535, not 'abc'/],
    [['listen', '--port', '70000'], /--port must be from 0 to 65535, not '70000'/],
    [['listen', '--respond', '99'], /--respond must be from 200 to 599, not '99'/],
    [['listen', '--delay', '20m'], /--delay must be from 0s to 10m, not '20m'/],
    [['listen', '--delay', '5 ms'], /--delay must be a duration such as 250ms, 10s or 5m \(a bare number is seconds\), not '5 ms'/],
    [['listen', '--duration', '-1'], /--duration must be a duration such as/],
    [['replay', '--url', 'http://127.0.0.1:1/', '-n', '0'], /--repeat must be from 1 to/],
    [['replay', '--url', 'http://127.0.0.1:1/', '--rate', 'fast'], /--rate must be a number from 0 to/],
    [['verify', '--tolerance', '1.5s', '-'], /--tolerance must be whole seconds \(such as 30, 30s or 5m\), not '1.5s'/],
    [['verify', '--format', 'jsn'], /--format must be text or json, not 'jsn'/],
    [['verify', '-j', '0'], /--jobs must be from 1 to 1024, not '0'/],
    [['fetch-key', '--endpoint', 'ap'], /--endpoint must be app, legacy or webhooks, not 'ap'/],
    [['fetch-key', '--timeout', '0'], /--timeout must be from 1ms to 1h, not '0'/],
    [['verify', '--color', 'yes'], /--color must be auto, always or never, not 'yes'/],
  ];
  for (const [args, message] of cases) {
    const r = run(args, { input: '' });
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message, args.join(' '));
    checkStderrGrammar(assert, r.stderr);
  }
});

test('durations: units and bare seconds mean what they say', async () => {
  // listen --duration 1500ms ends it after that long, not 1.5 ms nor 1500 s.
  const started = Date.now();
  const listen = spawnSync(BIN, ['listen', '--port', '0', '--accept-unsigned', '--duration', '1500ms', '--format', 'json'], {
    env: { ...process.env, XDG_CONFIG_HOME: tmpdir() },
  });
  const took = Date.now() - started;
  assert.equal(listen.status, 0, listen.stderr.toString());
  assert.ok(took >= 1400, `--duration 1500ms ended after ${took} ms`);
  const last = JSON.parse(listen.stdout.toString().trim().split('\n').at(-1));
  assert.equal(last.reason, 'duration');

  // replay --timeout 0.3 (bare seconds) against an endpoint that never answers: a timeout, not a wait of 0.3 ms or 300 s.
  const server = http.createServer(() => {});
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}/`;
  const config = tmpdir();
  run(['keygen'], { config });
  const t0 = Date.now();
  const r = await runAsync(['replay', '--url', url, '--timeout', '0.3', '--format', 'json'], { config });
  const elapsed = Date.now() - t0;
  server.closeAllConnections();
  server.close();
  assert.equal(r.status, 1, r.stderr);
  const record = JSON.parse(r.stdout.split('\n')[0]);
  assert.equal(record.class, 'timeout');
  assert.ok(elapsed >= 300, `timed out after ${elapsed} ms`);
});

test('EPILOT_ACTION_* variables stand in for flags, and a flag wins over its variable', async () => {
  const dir = tmpdir();
  const priv = path.join(dir, 'k.pem');
  const pub = path.join(dir, 'k.pub.pem');
  assert.equal(run(['keygen', '--private-key', priv, '--public-key', pub]).status, 0);
  const other = path.join(dir, 'o.pem');
  assert.equal(run(['keygen', '--private-key', other, '--public-key', path.join(dir, 'o.pub.pem')]).status, 0);

  // sign with EPILOT_ACTION_PRIVATE_KEY and EPILOT_ACTION_URL; verify with EPILOT_ACTION_PUBLIC_KEY.
  const signed = run(['sign', '--timestamp', '1000000000'], { env: { EPILOT_ACTION_PRIVATE_KEY: priv, EPILOT_ACTION_URL: 'http://example.test/hook' } });
  assert.equal(signed.status, 0, signed.stderr);
  assert.equal(JSON.parse(signed.stdout).url, 'http://example.test/hook');
  const capture = path.join(dir, 'c.json');
  fs.writeFileSync(capture, signed.stdout);
  const env = { EPILOT_ACTION_PUBLIC_KEY: pub };
  assert.equal(run(['verify', capture, '--no-timestamp-check'], { env }).status, 0);
  // The timestamp is years old: EPILOT_ACTION_TOLERANCE lets it through, --tolerance on the line wins.
  assert.equal(run(['verify', capture], { env }).status, 1);
  assert.equal(run(['verify', capture], { env: { ...env, EPILOT_ACTION_TOLERANCE: '36500d' } }).status, 0);
  assert.equal(run(['verify', capture, '--tolerance', '5m'], { env: { ...env, EPILOT_ACTION_TOLERANCE: '36500d' } }).status, 1);
  // Another command's bounds do not apply (listen's --tolerance stops at 1e9 s).
  assert.equal(run(['verify', capture], { env: { ...env, EPILOT_ACTION_TOLERANCE: '20000d' } }).status, 0);
  assert.equal(run(['sign', '--secret', 'whsec_c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI='], { env: { EPILOT_ACTION_TOLERANCE: 'soon' } }).status, 0);
  // A bad value in a variable is an error that names the variable, and never stands in the way of --help.
  const bad = run(['verify', capture], { env: { ...env, EPILOT_ACTION_TOLERANCE: 'soon' } });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /error: EPILOT_ACTION_TOLERANCE \(for --tolerance\) must be a duration such as 250ms/);
  assert.equal(run(['verify', '--help'], { env: { EPILOT_ACTION_TOLERANCE: 'soon' } }).status, 0);
  // --public-key on the line wins over the variable.
  assert.equal(run(['verify', capture, '--no-timestamp-check', '--public-key', path.join(dir, 'o.pub.pem')], { env }).status, 1);

  // replay and check find the endpoint in EPILOT_ACTION_URL, the key in EPILOT_ACTION_PRIVATE_KEY.
  const seen = [];
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => { seen.push(req.headers['webhook-signature']); res.writeHead(200); res.end('{}'); });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}/hook`;
  const r = await runAsync(['replay'], { env: { EPILOT_ACTION_URL: url, EPILOT_ACTION_PRIVATE_KEY: priv } });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(seen.length, 1);
  assert.match(seen[0], /^v1a,/);
  const list = await runAsync(['check', '--only', 'stale', '--format', 'json'], { env: { EPILOT_ACTION_URL: url, EPILOT_ACTION_PRIVATE_KEY: priv } });
  server.close();
  const summary = JSON.parse(list.stdout.trim().split('\n').at(-1));
  assert.equal(summary.url, url);
});

test('every flag that names a key, secret, URL, tolerance or fixtures folder has its variable, shown in help', () => {
  const wants = /^--(?:epilot-key-)?(private-key|public-key|secret-file|url|ca-cert|tolerance|token-file|endpoint|org-id|base-url)$/;
  let seen = 0;
  for (const cmd of COMMANDS) {
    const help = helpOf(cmd);
    for (const o of options(help)) {
      const name = o.names.at(-1);
      // keygen's key flags say where to write a new key: no variable may choose that.
      if (cmd === 'keygen' || !wants.test(name)) continue;
      assert.match(description(help, name), /\[env: EPILOT_ACTION_[A-Z_]+\]/, `${cmd} ${name}`);
      seen++;
    }
    if (/--secret /.test(help)) assert.match(description(help, '--secret'), /EPILOT_ACTION_SECRET/, cmd);
    if (/--fixtures /.test(help)) assert.match(description(help, '--fixtures'), /EPILOT_ACTION_FIXTURES/, cmd);
  }
  assert.ok(seen >= 25, `only ${seen} flags checked`);
  // The man page lists each variable.
  const man = fs.readFileSync(path.join(path.dirname(new URL(import.meta.url).pathname), '../../man/epilot-action.1.md'), 'utf8');
  const environment = man.slice(man.indexOf('# ENVIRONMENT'), man.indexOf('# FILES'));
  for (const cmd of COMMANDS) {
    for (const m of helpOf(cmd).matchAll(/\[env: (EPILOT_ACTION_[A-Z_]+)\]/g)) {
      assert.ok(environment.includes('`' + m[1] + '`'), `${m[1]} is not in the man page's ENVIRONMENT`);
    }
  }
});

// A command on a terminal: `script` gives it a pty.
function onTerminal(args, env = {}) {
  const config = tmpdir();
  const r = spawnSync('script', ['-qec', [BIN, ...args].map((a) => `'${a}'`).join(' '), '/dev/null'], {
    env: { ...process.env, XDG_CONFIG_HOME: config, TERM: 'xterm', NO_COLOR: '', ...env },
  });
  return r.stdout.toString();
}

test('--color: auto colours a terminal unless NO_COLOR or TERM=dumb; always and never override; results are coloured', () => {
  const config = tmpdir();
  run(['keygen'], { config });
  const capture = path.join(tmpdir(), 'c.json');
  fs.writeFileSync(capture, run(['sign'], { config }).stdout);
  const tampered = path.join(tmpdir(), 't.json');
  const doc = JSON.parse(fs.readFileSync(capture, 'utf8'));
  doc.body = doc.body.replace('{', '{ ');
  fs.writeFileSync(tampered, JSON.stringify(doc));

  // A pipe: no colour unless asked.
  const piped = run(['verify', capture], { config });
  assert.ok(piped.stdout.startsWith('ok    '), piped.stdout);
  const forced = run(['verify', capture, '--color', 'always'], { config });
  assert.ok(forced.stdout.startsWith(`${ESC}32mok${ESC}0m    `), JSON.stringify(forced.stdout));
  const failed = run(['--color', 'always', 'verify', tampered], { config });
  assert.ok(failed.stdout.startsWith(`${ESC}1;31mFAIL${ESC}0m  `), JSON.stringify(failed.stdout));
  const err = run(['verify', '/nonexistent', '--color', 'always']);
  assert.match(err.stderr, /^epilot-action: \x1b\[1;31merror\x1b\[0m: /);

  // A terminal.
  const sh = (extra, env) => {
    const out = onTerminal(['verify', '--public-key', path.join(config, 'epilot-action/public-key.pem'), capture, ...extra], env);
    assert.match(out, /ok/);
    return out.includes(ESC);
  };
  assert.equal(sh([], {}), true, 'auto on a terminal');
  assert.equal(sh([], { NO_COLOR: '1' }), false, 'NO_COLOR');
  assert.equal(sh([], { TERM: 'dumb' }), false, 'TERM=dumb');
  assert.equal(sh(['--color', 'never'], {}), false, '--color never');
  assert.equal(sh(['--color', 'always'], { NO_COLOR: '1' }), true, '--color always beats NO_COLOR');
});

test('a variable stands in for its flags only: it never adds to keys named on the line, nor reaches a mode not in use', () => {
  const dir = tmpdir();
  const config = tmpdir();
  run(['keygen'], { config });
  const s1 = path.join(dir, 's1');
  const s2 = path.join(dir, 's2');
  fs.writeFileSync(s1, run(['keygen', '--hmac']).stdout);
  fs.writeFileSync(s2, run(['keygen', '--hmac']).stdout);
  const signedWith = (secretFile) => {
    const file = path.join(dir, `c-${path.basename(secretFile)}.json`);
    fs.writeFileSync(file, run(['sign', '--secret-file', secretFile], { config }).stdout);
    return file;
  };
  const c1 = signedWith(s1);
  // EPILOT_ACTION_SECRET_FILE does not join a --secret-file given: s2 alone must fail on c1.
  assert.equal(run(['verify', c1, '--secret-file', s2], { config, env: { EPILOT_ACTION_SECRET_FILE: s1 } }).status, 1);
  assert.equal(run(['verify', c1], { config, env: { EPILOT_ACTION_SECRET_FILE: s1 } }).status, 0);
  // sign with --secret-file and EPILOT_ACTION_SECRET_FILE set: one v1 entry, not two.
  const once = JSON.parse(run(['sign', '--secret-file', s2], { config, env: { EPILOT_ACTION_SECRET_FILE: s1 } }).stdout);
  assert.equal(once.headers['webhook-signature'].split(' ').length, 1);
  // A bad EPILOT_ACTION_SECRET is not this run's business when a secret is named.
  assert.equal(run(['verify', c1, '--secret-file', s1], { config, env: { EPILOT_ACTION_SECRET: 'garbage!!' } }).status, 0);

  // epilot's key variables matter only where epilot's key is used.
  const local = path.join(dir, 'local.json');
  fs.writeFileSync(local, run(['sign'], { config }).stdout);
  for (const env of [{ EPILOT_ACTION_KEY_URL: 'http://127.0.0.1:1/k' }, { EPILOT_ACTION_ORG_ID: '739224' },
    { EPILOT_ACTION_KEY_ENDPOINT: 'webhooks', EPILOT_ACTION_ORG_ID: '1' }, { EPILOT_ACTION_CA_CERT: '/nonexistent.pem' },
    { EPILOT_ACTION_KEY_ENDPOINT: 'nonsense' }]) {
    const r = run(['verify', local], { config, env });
    assert.equal(r.status, 0, `${JSON.stringify(env)}: ${r.stderr}`);
  }
  // ...and there they yield to the line: --endpoint app wins over an organisation meant for webhooks.
  const offline = run(['fetch-key', '--endpoint', 'app', '--offline'], { env: { EPILOT_ACTION_ORG_ID: '739224', EPILOT_ACTION_KEY_URL: 'http://127.0.0.1:1/k' } });
  assert.match(offline.stderr, /no key for https:\/\/[^ ]*epilot/, 'the app endpoint, not the variables');
  const fromVariable = run(['fetch-key', '--offline'], { env: { EPILOT_ACTION_KEY_URL: 'http://127.0.0.1:1/k' } });
  assert.match(fromVariable.stderr, /no key for http:\/\/127\.0\.0\.1:1\/k/);

  // check --list in a CI job that exports the endpoint.
  const list = run(['check', '--list'], { env: { EPILOT_ACTION_URL: 'http://127.0.0.1:1/' } });
  assert.equal(list.status, 0, list.stderr);
});

test('parse errors in words, listen\'s old flag names refused, a bare --delay in seconds said', () => {
  const cases = [
    [['listen', '--port', '1', '--port', '2'], /--port was given 2 times: give it once/],
    [['verify', '--format'], /--format needs a value/],
    [['completion', 'bsh'], /shell must be bash, zsh or fish, not 'bsh'/],
    [['listen', '--respond-body', '/nonexistent'], /--respond-body \/nonexistent: no such file/],
    [['fixtures', 'lst'], /action must be list or show, not 'lst'/],
    [['listen', '--skip', 'no contract'], /--skip is now --skip-reason for listen/],
    [['listen', '--fail', 'no'], /--fail is now --fail-reason for listen/],
    [['--color', 'never', 'verfy'], /unknown command 'verfy'\n.*did you mean verify\?/],
  ];
  for (const [args, message] of cases) {
    const r = run(args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message, args.join(' '));
    checkStderrGrammar(assert, r.stderr);
  }
  const delayed = run(['listen', '--port', '0', '--accept-unsigned', '--delay', '500', '--duration', '1ms']);
  assert.equal(delayed.status, 0, delayed.stderr);
  assert.match(delayed.stderr, /warning: --delay 500 is 500 seconds \(a bare number is seconds\); for milliseconds, write 500ms/);
  assert.doesNotMatch(run(['listen', '--port', '0', '--accept-unsigned', '--delay', '500ms', '--duration', '1ms']).stderr, /warning/);
});
