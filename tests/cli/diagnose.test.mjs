// Each diagnosis code, produced through the real binary the way it happens:
// a body re-encoded by a JSON library, an editor's newline, the wrong key...
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { run, tmpdir } from './helpers.mjs';

const SECRET = 'whsec_' + crypto.randomBytes(32).toString('base64');
const KEY = Buffer.from(SECRET.slice(6), 'base64');
const payload = JSON.stringify({ type: 'external_integration', data: { org_id: '739224', entity: { _schema: 'opportunity', title: 'Müller' } } });

function capture({ signedBody, sentBody = signedBody, key = KEY, ts = String(Math.floor(Date.now() / 1000)), headers = {} }) {
  const id = 'msg_' + crypto.randomBytes(16).toString('hex');
  const sig = crypto.createHmac('sha256', key).update(`${id}.${ts}.${signedBody}`).digest('base64');
  const file = path.join(tmpdir(), 'c.json');
  fs.writeFileSync(file, JSON.stringify({ method: 'POST', url: 'http://localhost/', headers: { 'webhook-id': id, 'webhook-timestamp': ts, 'webhook-signature': `v1,${sig}`, ...headers }, body: sentBody }));
  return file;
}

function reasons(file, args = ['--secret', SECRET], env = {}) {
  const r = run(['verify', file, ...args, '--format', 'json'], { env });
  assert.equal(r.status, 1, r.stdout + r.stderr);
  return JSON.parse(r.stdout).reasons.map((x) => x.code);
}

test('body_reserialized: JSON.stringify(JSON.parse(body), null, 2) after signing', () => {
  const file = capture({ signedBody: payload, sentBody: JSON.stringify(JSON.parse(payload), null, 2) });
  assert.equal(reasons(file)[0], 'body_reserialized');
  const text = run(['verify', file, '--secret', SECRET]).stdout;
  assert.match(text, /body_reserialized: the signature matches this body re-encoded as compact JSON/);
});

test('trailing_newline and line_endings_changed', () => {
  assert.equal(reasons(capture({ signedBody: payload, sentBody: payload + '\n' }))[0], 'trailing_newline');
  assert.equal(reasons(capture({ signedBody: 'a\r\nb\r\n', sentBody: 'a\nb\n' }))[0], 'line_endings_changed');
});

test('timestamp_too_old and timestamp_too_new give the skew', () => {
  const old = capture({ signedBody: payload, ts: String(Math.floor(Date.now() / 1000) - 1000) });
  const r = run(['verify', old, '--secret', SECRET, '--format', 'json']);
  const doc = JSON.parse(r.stdout);
  assert.equal(doc.reasons[0].code, 'timestamp_too_old');
  assert.match(doc.reasons[0].message, /\b(999|1000|1001) s in the past/);
  assert.equal(reasons(capture({ signedBody: payload, ts: String(Math.floor(Date.now() / 1000) + 1000) }))[0], 'timestamp_too_new');
});

test('wrong_key names the default local public key when it is the one that verifies', () => {
  const config = tmpdir();
  assert.equal(run(['keygen'], { config }).status, 0);
  const signed = run(['sign'], { config }).stdout;
  const file = path.join(tmpdir(), 'r.json');
  fs.writeFileSync(file, signed);
  const other = path.join(tmpdir(), 'other.pub.pem');
  assert.equal(run(['keygen', '--private-key', path.join(path.dirname(other), 'o.pem'), '--public-key', other]).status, 0);
  const r = run(['verify', file, '--public-key', other, '--format', 'json'], { config });
  assert.equal(r.status, 1);
  const reason = JSON.parse(r.stdout).reasons[0];
  assert.equal(reason.code, 'wrong_key');
  assert.match(reason.message, /the default local public key/);
});

test('wrong_key names EPILOT_ACTION_SECRET when --secret overrode it', () => {
  const file = capture({ signedBody: payload });
  const other = 'whsec_' + crypto.randomBytes(32).toString('base64');
  const codes = reasons(file, ['--secret', other], { EPILOT_ACTION_SECRET: SECRET });
  assert.equal(codes[0], 'wrong_key');
});

test('secret_format: the sender used the whsec_ string itself as the key', () => {
  assert.equal(reasons(capture({ signedBody: payload, key: Buffer.from(SECRET) }))[0], 'secret_format');
});

test('scheme_mismatch: a v1 request checked with only a public key', () => {
  const dir = tmpdir();
  assert.equal(run(['keygen', '--private-key', path.join(dir, 'k'), '--public-key', path.join(dir, 'k.pub')]).status, 0);
  assert.deepEqual(reasons(capture({ signedBody: payload }), ['--public-key', path.join(dir, 'k.pub')]), ['scheme_mismatch']);
});

test('missing_header with svix_headers, and malformed_signature_header', () => {
  const file = path.join(tmpdir(), 's.json');
  fs.writeFileSync(file, JSON.stringify({ headers: { 'svix-id': 'msg_1', 'svix-timestamp': '1', 'svix-signature': 'v1,x' }, body: '{}' }));
  assert.deepEqual(reasons(file), ['missing_header', 'svix_headers']);
  const bad = capture({ signedBody: payload, headers: { 'webhook-signature': 'v1,not-base64 v1a,AAAA' } });
  assert.deepEqual(reasons(bad), ['malformed_signature_header']);
});

test('signature_mismatch when nothing explains it, then the skipped entries', () => {
  const file = capture({ signedBody: payload, key: crypto.randomBytes(32) });
  assert.deepEqual(reasons(file), ['signature_mismatch']);
});

test('malformed_header: a timestamp in milliseconds is still digits, but a date is not', () => {
  const file = capture({ signedBody: payload, headers: { 'webhook-timestamp': '2026-11-24T03:00:00Z' } });
  assert.deepEqual(reasons(file), ['malformed_header']);
});
