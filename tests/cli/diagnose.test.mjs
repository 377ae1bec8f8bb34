// Each diagnosis code, produced through the real binary the way it happens:
// a body re-encoded by a JSON library, an editor's newline, the wrong key...
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { run, tmpdir, fixture } from './helpers.mjs';

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
  const codes = reasons(file);
  assert.deepEqual(codes.slice(0, 2), ['svix_headers', 'missing_header']);
  assert.ok(codes.includes('malformed_signature_header'), codes.join());
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

// Issue 10: the new diagnoses, each made the way it happens.
function reasonDocs(file, args = ['--secret', SECRET]) {
  const r = run(['verify', file, ...args, '--format', 'json']);
  assert.equal(r.status, 1, r.stdout + r.stderr);
  return JSON.parse(r.stdout).reasons;
}

const TV_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const TV_NOW = '1614265330';

test('timestamp_in_milliseconds: Date.now() where seconds were meant', () => {
  const file = capture({ signedBody: payload, ts: String(Date.now()) });
  const r = reasonDocs(file);
  assert.deepEqual(r.map((x) => x.code), ['timestamp_in_milliseconds', 'timestamp_too_new']);
  assert.match(r[0].message, /is in milliseconds; as seconds it would be \d{10} \(20\d\d-.*Standard Webhooks timestamps are unix seconds \(the signature itself is valid\)/);
});

test('timestamp_not_canonical: the libraries sign the integer, the header says +N or 0N', () => {
  const ts = String(Math.floor(Date.now() / 1000));
  const signed = capture({ signedBody: payload, ts });
  const doc = JSON.parse(fs.readFileSync(signed, 'utf8'));
  for (const [text, verdict] of [[`0${ts}`, 'signature_mismatch'], [`+${ts}`, 'malformed_header']]) {
    doc.headers['webhook-timestamp'] = text;
    fs.writeFileSync(signed, JSON.stringify(doc));
    const r = run(['verify', signed, '--secret', SECRET, '--format', 'json']);
    assert.equal(r.status, 1);
    const out = JSON.parse(r.stdout);
    assert.equal(out.verdict, verdict);
    const reason = out.reasons.find((x) => x.code === 'timestamp_not_canonical');
    assert.ok(reason, `${text}: ${JSON.stringify(out.reasons)}`);
    assert.match(reason.message, new RegExp(`'${text.replace('+', '[+]')}' is not written as the plain integer ${ts}: the signature matches with ${ts} in its place`));
  }
});

test('signature_hex_encoded: an HMAC written with digest("hex")', () => {
  const file = capture({ signedBody: payload });
  const doc = JSON.parse(fs.readFileSync(file, 'utf8'));
  const { 'webhook-id': id, 'webhook-timestamp': ts } = doc.headers;
  doc.headers['webhook-signature'] = 'v1,' + crypto.createHmac('sha256', KEY).update(`${id}.${ts}.${payload}`).digest('hex');
  fs.writeFileSync(file, JSON.stringify(doc));
  const r = reasonDocs(file);
  assert.equal(r[0].code, 'signature_hex_encoded');
  assert.match(r[0].message, /v1 signature is written in hex \(64 hex digits\).*decoded as hex it verifies under --secret #1/);
  doc.headers['webhook-signature'] = 'v1,' + crypto.randomBytes(32).toString('hex');
  fs.writeFileSync(file, JSON.stringify(doc));
  assert.match(reasonDocs(file)[0].message, /decoded as hex it does not verify either/);
});

test('body_base64_encoded: an AWS Lambda event read as a capture', () => {
  const r = reasonDocs(fixture('captures/lambda-event.json'), ['--secret', TV_SECRET, '--now', TV_NOW]);
  assert.equal(r[0].code, 'body_base64_encoded');
  assert.match(r[0].message, /matches this body base64-decoded.*isBase64Encoded/);
});

test('trailing_newline: any trailing whitespace (jq\'s two newlines, CR LF), never body_reserialized', () => {
  for (const [tail, shown] of [['\n\n', '"\\n\\n"'], ['\r\n', '"\\r\\n"'], [' \n', '" \\n"']]) {
    const r = reasonDocs(capture({ signedBody: payload, sentBody: payload + tail }));
    assert.deepEqual(r.map((x) => x.code), ['trailing_newline'], JSON.stringify(tail));
    assert.ok(r[0].message.includes(`without its trailing whitespace (${shown})`), r[0].message);
  }
});

test('svix_headers comes first and says whether the request verifies with them read as webhook-*', () => {
  const r = reasonDocs(fixture('captures/svix-headers.json'), ['--secret', TV_SECRET, '--now', TV_NOW]);
  assert.deepEqual(r.map((x) => x.code), ['svix_headers', 'missing_header']);
  assert.match(r[0].message, /read as webhook-\* headers, it verifies \(v1 under --secret #1\)/);
  const doc = JSON.parse(fs.readFileSync(fixture('captures/svix-headers.json'), 'utf8'));
  const stale = path.join(tmpdir(), 'stale.json');
  fs.writeFileSync(stale, JSON.stringify({ ...doc, body: doc.body + '\n' }));
  const s = reasonDocs(stale, ['--secret', TV_SECRET, '--now', TV_NOW]);
  assert.deepEqual(s.map((x) => x.code), ['svix_headers', 'missing_header', 'trailing_newline']);
  assert.match(s[0].message, /it does not verify either \(the reasons follow\)/);
});

test('inspect reads svix-* headers where webhook-* ones are missing, and says so', () => {
  const file = fixture('captures/svix-headers.json');
  const j = JSON.parse(run(['inspect', file, '--now', TV_NOW, '--format', 'json']).stdout);
  assert.deepEqual(j.svix_headers, ['svix-id', 'svix-timestamp', 'svix-signature']);
  assert.deepEqual(j.webhook_id, { value: 'msg_p5jXN8AQM9LWM0D4loKWxJek', epilot_shape: false, header: 'svix-id' });
  assert.equal(j.timestamp.header, 'svix-timestamp');
  assert.equal(j.signature.length, 1);
  const t = run(['inspect', file, '--now', TV_NOW]);
  assert.equal(t.status, 0, t.stderr);
  assert.match(t.stdout, /\nsvix-id +msg_p5jXN8AQM9LWM0D4loKWxJek\nsvix-timestamp +1614265330 = /);
  assert.match(t.stdout, /\nsvix-signature +1 entry\n/);
  assert.match(t.stdout, /note: read from svix-\* headers/);
  assert.deepEqual(JSON.parse(run(['inspect', fixture('captures/tv-h1.json'), '--format', 'json']).stdout).svix_headers, []);
});

test('a diagnosis never claims a check it could not make: no key of the entry\'s scheme is said so', () => {
  const ts = String(Math.floor(Date.now() / 1000));
  const id = 'msg_' + crypto.randomBytes(16).toString('hex');
  const { privateKey } = crypto.generateKeyPairSync('ed25519');
  const sig = crypto.sign(null, Buffer.from(`${id}.${ts}.${payload}`), privateKey).toString('base64');
  const file = path.join(tmpdir(), 'ed.json');
  fs.writeFileSync(file, JSON.stringify({ headers: { 'webhook-id': id, 'webhook-timestamp': '0' + ts,
    'webhook-signature': `v1a,${sig}` }, body: payload }));
  // Only an HMAC secret: the v1a entry could not be checked at all.
  const r = run(['verify', file, '--secret', SECRET, '--format', 'json']);
  assert.equal(r.status, 1);
  const reason = JSON.parse(r.stdout).reasons.find((x) => x.code === 'timestamp_not_canonical');
  assert.ok(reason, r.stdout);
  assert.match(reason.message, /no key of its scheme was given, so it could not be checked/);
  assert.doesNotMatch(reason.message, /does not match/);
});
