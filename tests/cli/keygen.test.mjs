import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { run, tmpdir, checkStderrGrammar } from './helpers.mjs';

const mode = (p) => fs.statSync(p).mode & 0o777;

test('keygen with no paths creates the default keypair under XDG_CONFIG_HOME', () => {
  const config = tmpdir();
  const r = run(['keygen'], { config });
  assert.equal(r.status, 0, r.stderr);
  const dir = path.join(config, 'epilot-action');
  assert.equal(mode(dir), 0o700);
  assert.equal(mode(path.join(dir, 'private-key.pem')), 0o600);
  const pub = fs.readFileSync(path.join(dir, 'public-key.pem'), 'utf8');
  assert.match(pub, /^-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA/);
  // stdout carries the whpk_ form of the same key
  const raw = crypto.createPublicKey(pub).export({ format: 'der', type: 'spki' }).subarray(12);
  assert.equal(r.stdout.trim(), 'whpk_' + raw.toString('base64'));
  assert.deepEqual(fs.readdirSync(dir).sort(), ['private-key.pem', 'public-key.pem']);
});

test('keygen never overwrites a key without --force', () => {
  const config = tmpdir();
  assert.equal(run(['keygen'], { config }).status, 0);
  const keyPath = path.join(config, 'epilot-action', 'private-key.pem');
  const before = fs.readFileSync(keyPath);
  const again = run(['keygen'], { config });
  assert.equal(again.status, 2);
  assert.match(again.stderr, /already exists/);
  assert.match(again.stderr, /hint: use --force/);
  checkStderrGrammar(assert, again.stderr);
  assert.deepEqual(fs.readFileSync(keyPath), before);
  const forced = run(['keygen', '--force'], { config });
  assert.equal(forced.status, 0, forced.stderr);
  assert.notDeepEqual(fs.readFileSync(keyPath), before);
  assert.equal(mode(keyPath), 0o600);
});

test('keygen with explicit paths writes keys OpenSSL reads', () => {
  const dir = tmpdir();
  const priv = path.join(dir, 'k.pem');
  const pub = path.join(dir, 'k.pub.pem');
  const r = run(['keygen', '--private-key', priv, '--public-key', pub]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(mode(priv), 0o600);
  const derived = execFileSync('openssl', ['pkey', '-in', priv, '-pubout']).toString();
  assert.equal(derived, fs.readFileSync(pub, 'utf8'));
  const text = execFileSync('openssl', ['pkey', '-in', priv, '-noout', '-text']).toString();
  assert.match(text, /ED25519 Private-Key/);
});

test('keygen refuses half a keypair, and a public-key path that exists leaves no private key behind', () => {
  const dir = tmpdir();
  const one = run(['keygen', '--private-key', path.join(dir, 'a.pem')]);
  assert.equal(one.status, 2);
  assert.match(one.stderr, /go together/);
  fs.writeFileSync(path.join(dir, 'taken.pem'), 'mine');
  const r = run(['keygen', '--private-key', path.join(dir, 'new.pem'), '--public-key', path.join(dir, 'taken.pem')]);
  assert.equal(r.status, 2);
  assert.equal(fs.existsSync(path.join(dir, 'new.pem')), false);
  assert.equal(fs.readFileSync(path.join(dir, 'taken.pem'), 'utf8'), 'mine');
});

test('keygen --key-format whsk writes Standard Webhooks key strings', () => {
  const dir = tmpdir();
  const r = run(['keygen', '--key-format', 'whsk', '--private-key', path.join(dir, 'k'), '--public-key', path.join(dir, 'k.pub')]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(fs.readFileSync(path.join(dir, 'k'), 'utf8'), /^whsk_[A-Za-z0-9+/]{43}=\n$/);
  assert.equal(fs.readFileSync(path.join(dir, 'k.pub'), 'utf8'), r.stdout);
  assert.doesNotMatch(r.stderr, /warning/);
});

// --format is the output's format everywhere (issue 12); old scripts that
// chose the key files' format with it keep working, warned.
test('keygen --format pem|whsk still chooses the key format, with a warning naming --key-format', () => {
  const dir = tmpdir();
  const r = run(['keygen', '--format', 'whsk', '--private-key', path.join(dir, 'k'), '--public-key', path.join(dir, 'k.pub')]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(fs.readFileSync(path.join(dir, 'k'), 'utf8'), /^whsk_/);
  assert.equal(fs.readFileSync(path.join(dir, 'k.pub'), 'utf8'), r.stdout, 'the output is text, as before');
  assert.match(r.stderr, /^epilot-action: warning: --format pem\|whsk is now --key-format; --format is the output's format$/m);
  checkStderrGrammar(assert, r.stderr);
  const pem = run(['keygen', '--format', 'pem', '--private-key', path.join(dir, 'p.pem'), '--public-key', path.join(dir, 'p.pub')]);
  assert.equal(pem.status, 0, pem.stderr);
  assert.match(fs.readFileSync(path.join(dir, 'p.pub'), 'utf8'), /^-----BEGIN PUBLIC KEY-----/);
  assert.match(pem.stderr, /warning: --format pem\|whsk is now --key-format/);
  const both = run(['keygen', '--format', 'whsk', '--key-format', 'pem', '--private-key', path.join(dir, 'b'), '--public-key', path.join(dir, 'b.pub')]);
  assert.equal(both.status, 2);
  assert.match(both.stderr, /error: --format whsk can't be combined with --key-format/);
  assert.equal(fs.existsSync(path.join(dir, 'b')), false);
});

test('keygen --hmac prints a 32-byte whsec_ secret, or writes it 0600', () => {
  const r = run(['keygen', '--hmac']);
  assert.equal(r.status, 0);
  const m = r.stdout.match(/^whsec_([A-Za-z0-9+/=]+)\n$/);
  assert.ok(m, r.stdout);
  assert.equal(Buffer.from(m[1], 'base64').length, 32);
  assert.notEqual(run(['keygen', '--hmac']).stdout, r.stdout, 'two secrets differ');
  const file = path.join(tmpdir(), 'secret');
  const w = run(['keygen', '--hmac', '--out', file]);
  assert.equal(w.status, 0, w.stderr);
  assert.equal(w.stdout, '', 'the secret is not echoed when written to a file');
  assert.equal(mode(file), 0o600);
  assert.equal(run(['keygen', '--hmac', '--out', file]).status, 2);
});

test('keygen rejects unknown flags and bad values with exit 2', () => {
  for (const args of [['keygen', '--bogus'], ['keygen', '--format', 'der'], ['keygen', '--key-format', 'json'],
    ['keygen', '--hmac', '--private-key', 'x']]) {
    const r = run(args);
    assert.equal(r.status, 2, args.join(' '));
    assert.match(r.stderr, /^epilot-action: error: /);
  }
});
