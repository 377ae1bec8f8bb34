// verify and inspect on inputs holding several requests: HAR archives and JSON Lines.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { run, tmpdir, fixture, checkStderrGrammar } from './helpers.mjs';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const E1 = 'whpk_1SiA4o9hyqTCpIqC5V9HUakiiaeACeqfZTInDBbOir4=';
const NOW = '1614265330';

test('every entry of a Chromium HAR verifies, one line each, then a summary', () => {
  const r = run(['verify', fixture('captures/chromium.har'), '--secret', SECRET, '--public-key', E1, '--now', NOW]);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 3);
  assert.match(lines[0], /^ok {4}msg_p5jX\S+ {2}v1 verified/);
  assert.match(lines[1], /^ok {4}msg_p5jX\S+ {2}v1a verified/);
  assert.equal(lines[2], '2 requests: 2 verified, 0 not verified');
});

test('one failing entry makes the exit status 1, and JSON output numbers the entries', () => {
  const r = run(['verify', fixture('captures/chromium.har'), '--secret', SECRET, '--now', NOW, '--format', 'json']);
  assert.equal(r.status, 1);
  const docs = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(docs.map((d) => [d.index, d.valid]), [[0, true], [1, false], [undefined, undefined]]);
  assert.equal(docs[1].reasons[0].code, 'scheme_mismatch');
  assert.deepEqual(docs[2], { event: 'summary', requests: 2, verified: 1, failed: 1, unreadable: 0, left_out: 0 });
});

test('Firefox and mitmproxy HARs verify; an empty HAR is an input error', () => {
  for (const f of ['firefox.har', 'mitmproxy.har']) {
    const r = run(['verify', fixture(`captures/${f}`), '--secret', SECRET, '--now', NOW]);
    assert.equal(r.status, 0, `${f}: ${r.stdout}${r.stderr}`);
  }
  const e = run(['verify', fixture('captures/empty.har'), '--secret', SECRET]);
  assert.equal(e.status, 2);
  assert.match(e.stderr, /log\.entries is empty/);
  checkStderrGrammar(assert, e.stderr);
});

// A JSON Lines stream of `n` genuine v1a requests signed by Node's crypto,
// with the records listed in `bad` tampered.
function stream(n, bad = new Set()) {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ed25519');
  const lines = [];
  for (let i = 0; i < n; i++) {
    const id = `msg_${String(i).padStart(32, '0')}`;
    const body = JSON.stringify({ type: 'external_integration', data: { n: i } });
    const sig = crypto.sign(null, Buffer.from(`${id}.${NOW}.${body}`), privateKey).toString('base64');
    lines.push(JSON.stringify({ method: 'POST', url: 'http://localhost/', headers: { 'webhook-id': id, 'webhook-timestamp': NOW, 'webhook-signature': `v1a,${sig}` }, body: bad.has(i) ? body + '\n' : body }));
  }
  const dir = tmpdir();
  const pub = path.join(dir, 'pub.pem');
  fs.writeFileSync(pub, publicKey.export({ type: 'spki', format: 'pem' }));
  const file = path.join(dir, 'stream.jsonl');
  fs.writeFileSync(file, lines.join('\n') + '\n');
  return { file, pub };
}

test('a JSON Lines stream is verified in input order, whatever the number of threads', () => {
  const { file, pub } = stream(2000, new Set([7, 1500]));
  const outputs = [];
  for (const jobs of ['1', '2', '8']) {
    const r = run(['verify', file, '--public-key', pub, '--now', NOW, '--format', 'json', '--jobs', jobs]);
    assert.equal(r.status, 1);
    outputs.push(r.stdout);
    const docs = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(docs.length, 2001);
    docs.slice(0, 2000).forEach((d, i) => {
      assert.equal(d.index, i);
      assert.equal(d.webhook_id, `msg_${String(i).padStart(32, '0')}`);
      assert.equal(d.valid, i !== 7 && i !== 1500);
    });
    assert.equal(docs[7].reasons[0].code, 'trailing_newline');
    assert.deepEqual(docs[2000], { event: 'summary', requests: 2000, verified: 1998, failed: 2, unreadable: 0 });
  }
  assert.equal(outputs[0], outputs[1]);
  assert.equal(outputs[1], outputs[2]);
});

test('a stream on stdin works too', () => {
  const { file, pub } = stream(50);
  const r = run(['verify', '-', '--public-key', pub, '--now', NOW], { input: fs.readFileSync(file) });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /\n50 requests: 50 verified, 0 not verified\n$/);
});

test('an unreadable record is reported on its line, the rest still verified, and the exit status is 2', () => {
  const file = path.join(tmpdir(), 'mixed.jsonl');
  const good = fs.readFileSync(fixture('captures/tv-h1-pairs.json'), 'utf8').trim();
  fs.writeFileSync(file, [good, '{"body": "unterminated', good].join('\n') + '\n');
  const r = run(['verify', file, '--secret', SECRET, '--now', NOW]);
  assert.equal(r.status, 2);
  const lines = r.stdout.trim().split('\n');
  assert.match(lines[0], /^ok /);
  assert.match(lines[1], /^error line 2: capture is not valid JSON/);
  assert.match(lines[2], /^ok /);
  assert.match(lines[3], /3 requests: 2 verified, 0 not verified, 1 unreadable/);
  assert.match(r.stderr, /error: 1 of 3 records could not be read/);
});

test('inspect shows the x-epilot-token decoded and never the token itself', () => {
  const capture = fixture('captures/custom-action-with-token.json');
  const token = JSON.parse(fs.readFileSync(capture, 'utf8')).headers['x-epilot-token'];
  const r = run(['inspect', capture, '--now', '1749649200']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /x-epilot-token +decoded, NOT verified/);
  assert.match(r.stdout, /org_id: +739224/);
  assert.match(r.stdout, /expires: +2025-06-11T13:49:19Z \(valid for 9 min\)/);
  assert.match(r.stdout, /timestamp +1749649159 = 2025-06-11T13:39:19Z, 41 s ago \(within tolerance\)/);
  assert.match(r.stdout, /\[1\] v1a +ed25519 +64 bytes, ok/);
  assert.match(r.stdout, /payload +external_integration, org 739224/);
  assert.ok(!r.stdout.includes(token.split('.')[2].slice(0, 20)), 'the token signature is not shown');
  const late = JSON.parse(run(['inspect', capture, '--now', '1749660000', '--format', 'json']).stdout);
  assert.equal(late.epilot_token.expired, true);
  assert.equal(late.epilot_token.verified, false);
  assert.equal(late.timestamp.within_tolerance, false);
});

test('inspect reads every format and numbers several requests', () => {
  const r = run(['inspect', fixture('captures/chromium.har'), '--now', NOW]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^# request 1 of 2\n/);
  assert.match(r.stdout, /\n# request 2 of 2\n/);
  const j = run(['inspect', fixture('captures/stream.jsonl'), '--format', 'json']);
  assert.equal(j.stdout.trim().split('\n').length, 3);
  const bad = run(['inspect', fixture('captures/empty.har')]);
  assert.equal(bad.status, 2);
});

test("inspect shows a key's fingerprint as openssl computes it, and no private material", () => {
  const expected = fs.readFileSync(fixture('keys/tv-e1.fingerprint'), 'utf8').trim();
  const pub = run(['inspect', fixture('keys/tv-e1.pub.pem'), '--format', 'json']);
  assert.equal(pub.status, 0, pub.stderr);
  assert.equal(JSON.parse(pub.stdout).fingerprint, expected);
  const priv = run(['inspect', '-'], { input: 'whsk_6Xb/dCcHpPea21PS1N9VY/NZW723CEc77N4rJCubMbfVKIDij2HKpMKkioLlX0dRqSKJp4AJ6p9lMicMFs6Kvg==' });
  assert.equal(priv.status, 0, priv.stderr);
  assert.match(priv.stdout, new RegExp(`public_key_fingerprint +${expected.replace(/[+/]/g, '\\$&')}`));
  assert.ok(!priv.stdout.includes('6Xb/dCcH'), 'the private key is not echoed');
  const rsa = run(['inspect', fixture('keys/rsa-2048.pub.pem')]);
  assert.equal(rsa.status, 2);
  assert.match(rsa.stderr, /RSA/);
});
