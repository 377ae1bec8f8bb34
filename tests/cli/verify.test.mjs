import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { run, tmpdir, fixture, checkStderrGrammar } from './helpers.mjs';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const NOW = '1614265330';
const TV_H1 = JSON.parse(fs.readFileSync(fixture('captures/tv-h1.json'), 'utf8'));

function write(name, data) {
  const p = path.join(tmpdir(), name);
  fs.writeFileSync(p, data);
  return p;
}

test('every capture format verifies with the TV-H1 secret', () => {
  for (const file of ['tv-h1.json', 'tv-h1-pairs.json', 'tv-h1-name-value.json', 'tv-h1-crlf.http', 'tv-h1-lf.http', 'tv-h1-chunked.http', 'binary-body.json']) {
    const r = run(['verify', fixture(`captures/${file}`), '--secret', SECRET, '--now', NOW]);
    assert.equal(r.status, 0, `${file}: ${r.stdout}${r.stderr}`);
    assert.match(r.stdout, /^ok {4}msg_p5jXN8AQM9LWM0D4loKWxJek {2}v1 verified with --secret #1; sent 0 s ago\n$/);
    assert.equal(r.stderr, '');
  }
});

test('verify reads the capture from stdin', () => {
  const r = run(['verify', '--secret', SECRET, '--now', NOW], { input: fs.readFileSync(fixture('captures/tv-h1-crlf.http')) });
  assert.equal(r.status, 0, r.stdout + r.stderr);
});

test('a tampered body fails with exit 1 and says why', () => {
  const tampered = write('t.json', JSON.stringify({ ...TV_H1, body: '{"test": 2432232315}' }));
  const r = run(['verify', tampered, '--secret', SECRET, '--now', NOW]);
  assert.equal(r.status, 1);
  assert.match(r.stdout, /^FAIL {2}msg_p5jXN8AQM9LWM0D4loKWxJek {2}POST http:\/\/localhost:3000\/hook\n {6}signature_mismatch: /);
  const j = run(['verify', tampered, '--secret', SECRET, '--now', NOW, '--format', 'json']);
  assert.equal(j.status, 1);
  const doc = JSON.parse(j.stdout);
  assert.equal(doc.valid, false);
  assert.equal(doc.verdict, 'signature_mismatch');
  assert.equal(doc.reasons[0].code, 'signature_mismatch');
});

test('timestamps: stale and future are exit 1, told apart, and the skew is given', () => {
  const old = run(['verify', fixture('captures/tv-h1.json'), '--secret', SECRET, '--now', String(+NOW + 301), '--format', 'json']);
  assert.equal(old.status, 1);
  const o = JSON.parse(old.stdout);
  assert.equal(o.verdict, 'timestamp_too_old');
  assert.equal(o.age_seconds, 301);
  assert.match(o.reasons[0].message, /301 s in the past.*signature itself is valid/);
  const fut = run(['verify', fixture('captures/tv-h1.json'), '--secret', SECRET, '--now', String(+NOW - 301)]);
  assert.equal(fut.status, 1);
  assert.match(fut.stdout, /timestamp_too_new: webhook-timestamp is 301 s in the future/);
  // --tolerance widens the window; --no-timestamp-check drops it
  assert.equal(run(['verify', fixture('captures/tv-h1.json'), '--secret', SECRET, '--now', String(+NOW + 301), '--tolerance', '301']).status, 0);
  const skip = run(['verify', fixture('captures/tv-h1.json'), '--secret', SECRET, '--no-timestamp-check']);
  assert.equal(skip.status, 0);
  assert.match(skip.stdout, /timestamp not checked/);
});

test('missing and malformed headers are a failed check (exit 1), not a usage error', () => {
  const noSig = { ...TV_H1, headers: { 'webhook-id': 'msg_1', 'webhook-timestamp': NOW } };
  const r = run(['verify', write('a.json', JSON.stringify(noSig)), '--secret', SECRET, '--now', NOW, '--format', 'json']);
  assert.equal(r.status, 1);
  assert.equal(JSON.parse(r.stdout).verdict, 'missing_header');
  assert.match(JSON.parse(r.stdout).reasons[0].message, /webhook-signature is missing/);
  const svix = { ...TV_H1, headers: { 'svix-id': 'msg_1', 'svix-timestamp': NOW, 'svix-signature': 'v1,x' } };
  const s = run(['verify', write('s.json', JSON.stringify(svix)), '--secret', SECRET, '--now', NOW]);
  assert.equal(s.status, 1);
  assert.match(s.stdout, /svix_headers: /);
  const repeated = { ...TV_H1, headers: [['webhook-id', 'a'], ['Webhook-Id', 'b'], ['webhook-timestamp', NOW], ['webhook-signature', 'v1,x']] };
  const d = run(['verify', write('d.json', JSON.stringify(repeated)), '--secret', SECRET, '--now', NOW]);
  assert.equal(d.status, 1);
  assert.match(d.stdout, /malformed_header: webhook-id appears 2 times/);
});

test('verify --body with -H headers, and -q prints nothing', () => {
  const body = write('body.json', '{"test": 2432232314}');
  const args = ['verify', '--body', body, '-H', 'webhook-id: msg_p5jXN8AQM9LWM0D4loKWxJek', '-H', `webhook-timestamp: ${NOW}`,
    '-H', 'webhook-signature: v1a,hnO3f9T8Ytu9HwrXslvumlUpqtNVqkhqw/enGzPCXe5BdqzCInXqYXFymVJaA7AZdpXwVLPo3mNl8EM+m7TBAg==',
    '--public-key', 'whpk_1SiA4o9hyqTCpIqC5V9HUakiiaeACeqfZTInDBbOir4=', '--now', NOW];
  const r = run(args);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const q = run([...args, '-q']);
  assert.equal(q.status, 0);
  assert.equal(q.stdout + q.stderr, '');
  const wrong = run([...args.slice(0, -4), '--public-key', fixture('keys/openssl-ed25519.pub.pem'), '--now', NOW, '-q']);
  assert.equal(wrong.status, 1);
  assert.equal(wrong.stdout, '');
});

test('verify with a PEM public key and several keys names the one that matched', () => {
  const tv = fixture('keys/tv-e1.pub.pem');
  const capture = write('e1.json', JSON.stringify({ ...TV_H1, headers: { ...TV_H1.headers, 'Webhook-Signature': 'v1a,hnO3f9T8Ytu9HwrXslvumlUpqtNVqkhqw/enGzPCXe5BdqzCInXqYXFymVJaA7AZdpXwVLPo3mNl8EM+m7TBAg==' } }));
  const r = run(['verify', capture, '--public-key', fixture('keys/openssl-ed25519.pub.pem'), '--public-key', tv, '--now', NOW, '--format', 'json']);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.deepEqual(JSON.parse(r.stdout).matched, { version: 'v1a', key: tv });
});

test('only a public key for a v1-only request names the scheme mismatch', () => {
  const r = run(['verify', fixture('captures/tv-h1.json'), '--public-key', fixture('keys/tv-e1.pub.pem'), '--now', NOW]);
  assert.equal(r.status, 1);
  assert.match(r.stdout, /scheme_mismatch: the signature has only v1 \(HMAC\) entries, but no secret was used/);
  assert.match(r.stderr, /^epilot-action: hint: a secret: --secret-file FILE or EPILOT_ACTION_SECRET; a public key: /);
  checkStderrGrammar(assert, r.stderr);
});

test('bad input is exit 2 with a clear message, never a crash or a pass', () => {
  const big = path.join(tmpdir(), 'big.json');
  fs.writeFileSync(big, Buffer.alloc(64 * 1024 * 1024 + 1, 0x20));
  const cases = [
    ['missing file', ['verify', '/nonexistent.json'], /cannot open \/nonexistent\.json: No such file/],
    ['directory', ['verify', tmpdir()], /Is a directory/i],
    ['empty', ['verify', write('e.json', '')], /empty/],
    ['truncated json', ['verify', write('t.json', '{"method": "POST", "body": "abc')], /not valid JSON/],
    ['invalid utf-8', ['verify', write('u.json', Buffer.concat([Buffer.from('{"body": "'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]))], /not valid JSON.*UTF-8/],
    ['nul bytes', ['verify', write('n.json', Buffer.from('{"body":\u0000"x"}'))], /NUL byte at offset 8/],
    ['not a capture', ['verify', write('x.bin', Buffer.from([1, 2, 3]))], /this is a payload, not a capture/],
    ['json array', ['verify', write('arr.json', '[1,2]')], /this is a payload, not a capture/],
    ['request template', ['verify', fixture('payloads/custom-headers.request.json')], /this is a request template, not a capture/],
    ['json lines of payloads', ['verify', write('p.jsonl', '{"a":1}\n{"b":2}\n')], /this is JSON Lines of payloads, not a capture/],
    ['numeric header value', ['verify', write('h.json', '{"headers": {"webhook-timestamp": 1614265330}}')], /header values are strings/],
    ['truncated raw http', ['verify', write('r.http', 'POST / HTTP/1.1\r\nContent-Length: 50\r\n\r\n{}')], /truncated/],
    ['huge file', ['verify', big], /larger than/],
    ['oversized header', ['verify', write('o.json', JSON.stringify({ headers: { 'x-big': 'a'.repeat(70000) } }))], /header 'x-big' is 70000 bytes long/],
    ['bad base64 body', ['verify', write('b.json', '{"body_base64": "***"}')], /body_base64/],
    ['bad public key', ['verify', fixture('captures/tv-h1.json'), '--public-key', 'whpk_AAAA'], /decodes to 3 bytes/],
    ['rsa public key', ['verify', fixture('captures/tv-h1.json'), '--public-key', fixture('keys/rsa-2048.pub.pem')], /RSA/],
    ['missing key file', ['verify', fixture('captures/tv-h1.json'), '--public-key', '/nonexistent.pem'], /cannot open/],
    ['short secret', ['verify', fixture('captures/tv-h1.json'), '--secret', 'whsec_AAAA'], /at least 24/],
    ['no key at all', ['verify', fixture('captures/tv-h1.json')], /no key to verify with/],
    ['unknown flag', ['verify', '--bogus'], /--bogus/],
    ['bad format', ['verify', '--format', 'xml'], /xml/],
    ['bad tolerance', ['verify', '--tolerance', '-5'], /tolerance/],
    ['bad now', ['verify', '--now', 'yesterday'], /now/],
    ['body and capture', ['verify', fixture('captures/tv-h1.json'), '--body', fixture('captures/tv-h1.json'), '--secret', SECRET], /--body can't be combined/],
  ];
  for (const [what, args, pattern] of cases) {
    const r = run(args);
    assert.equal(r.status, 2, `${what}: status ${r.status} ${r.stdout}${r.stderr}`);
    assert.equal(r.signal, null, what);
    assert.match(r.stderr, pattern, what);
    assert.equal(r.stdout, '', `${what}: nothing on stdout`);
    checkStderrGrammar(assert, r.stderr);
  }
});

test('an unknown command is exit 2 and --help is exit 0 with examples', () => {
  const r = run(['frobnicate']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^epilot-action: error: /);
  for (const cmd of ['keygen', 'sign', 'verify', 'inspect', 'fetch-key', 'listen', 'replay', 'fixtures']) {
    const h = run([cmd, '--help']);
    assert.equal(h.status, 0);
    assert.match(h.stdout, /Examples:\n {2}\$ epilot-action /);
  }
  assert.equal(run(['--help']).status, 0);
  assert.match(run(['--version']).stdout, /^epilot-action \d+\.\d+\.\d+/);
});

test('colour never appears when output is not a terminal', () => {
  const r = run(['verify', '/nonexistent']);
  assert.doesNotMatch(r.stderr, /\x1b\[/);
});

// Issue 10: a browser HAR holds the page beside the webhooks.
const E1 = 'whpk_1SiA4o9hyqTCpIqC5V9HUakiiaeACeqfZTInDBbOir4=';
const SESSION = fixture('captures/session.har');

test('of a HAR session only the webhook requests are checked, and the left-out entries are counted', () => {
  const r = run(['verify', SESSION, '--secret', SECRET, '--public-key', E1, '--now', NOW]);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.equal(r.stdout.trim().split('\n').length, 3);
  assert.match(r.stdout, /\n2 requests: 2 verified, 0 not verified\n$/);
  assert.equal(r.stderr, 'epilot-action: warning: ' + SESSION + ': 1 of its 3 entries is left out: only those with ' +
    'webhook-* headers are checked (--all-entries checks every one)\n');
  checkStderrGrammar(assert, r.stderr);
  const j = run(['verify', SESSION, '--secret', SECRET, '--public-key', E1, '--now', NOW, '--format', 'json']);
  const docs = j.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(docs.slice(0, 2).map((d) => [d.index, d.entry, d.valid]), [[0, 2, true], [1, 3, true]]);
  assert.deepEqual(docs[2], { event: 'summary', requests: 2, verified: 2, failed: 0, unreadable: 0, left_out: 1 });
  assert.equal(run(['verify', SESSION, '--secret', SECRET, '--public-key', E1, '--now', NOW, '-q']).stderr, '');
});

test('--all-entries checks every entry of a HAR, and a FAIL line names the entry, its method and URL', () => {
  const r = run(['verify', SESSION, '--all-entries', '--secret', SECRET, '--public-key', E1, '--now', NOW]);
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.equal(r.stderr, '');
  const lines = r.stdout.split('\n');
  assert.equal(lines[0], 'FAIL  -  entry 1 GET http://localhost:3000/');
  assert.match(lines[1], /^ {6}missing_header: webhook-id is missing$/);
  assert.match(r.stdout, /\n3 requests: 2 verified, 1 not verified\n$/);
});

test('a HAR without any webhook request is an input error that points to --all-entries', () => {
  const har = JSON.parse(fs.readFileSync(SESSION, 'utf8'));
  har.log.entries = har.log.entries.slice(0, 1).concat(har.log.entries.slice(0, 1));
  const file = write('pages.har', JSON.stringify(har));
  const r = run(['verify', file, '--secret', SECRET, '--now', NOW]);
  assert.equal(r.status, 2, r.stdout + r.stderr);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /pages\.har holds no webhook request: none of its 2 entries is a POST or carries webhook-\* headers\n/);
  assert.match(r.stderr, /hint: check every entry anyway with --all-entries/);
  checkStderrGrammar(assert, r.stderr);
  assert.equal(run(['verify', file, '--all-entries', '--secret', SECRET, '--now', NOW]).status, 1);
});

test('a HAR exported before signing: its POSTs are checked', () => {
  const har = JSON.parse(fs.readFileSync(SESSION, 'utf8'));
  for (const e of har.log.entries) e.request.headers = e.request.headers.filter((h) => !h.name.startsWith('webhook-'));
  const r = run(['verify', write('unsigned.har', JSON.stringify(har)), '--secret', SECRET, '--now', NOW]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /1 of its 3 entries is left out: only those that are POSTs are checked/);
  assert.match(r.stdout, /^FAIL {2}- {2}entry 2 POST http:\/\/localhost:3000\/hook\n/);
});

test('FAIL lines of a JSON Lines stream name the line; a lone capture without an id is named by method and URL', () => {
  const good = JSON.stringify(TV_H1);
  const bad = JSON.stringify({ ...TV_H1, url: 'http://localhost:3000/other', body: '{}' });
  const r = run(['verify', write('s.jsonl', [good, '', bad].join('\n') + '\n'), '--secret', SECRET, '--now', NOW]);
  assert.equal(r.status, 1);
  assert.match(r.stdout, /\nFAIL {2}msg_p5jXN8AQM9LWM0D4loKWxJek {2}line 3 POST http:\/\/localhost:3000\/other\n {6}signature_mismatch: /);
  const noId = { ...TV_H1, headers: { 'webhook-timestamp': NOW, 'webhook-signature': 'v1,x' } };
  const one = run(['verify', write('n.json', JSON.stringify(noId)), '--secret', SECRET, '--now', NOW]);
  assert.equal(one.stdout.split('\n')[0], 'FAIL  -  POST http://localhost:3000/hook');
});

// Issue 10: each entry's outcome in JSON, never "ok" for one that did not verify.
test('--format json names what became of each signature entry', () => {
  const other = 'v1,' + crypto.randomBytes(32).toString('base64');
  const e1 = 'v1a,hnO3f9T8Ytu9HwrXslvumlUpqtNVqkhqw/enGzPCXe5BdqzCInXqYXFymVJaA7AZdpXwVLPo3mNl8EM+m7TBAg==';
  const signature = [other, TV_H1.headers['Webhook-Signature'], e1, 'v2,abc', 'v1,!!', 'nocomma', 'v1,AAAA'].join(' ');
  const statuses = (capture) => {
    const r = run(['verify', write('e.json', JSON.stringify(capture)), '--secret', SECRET, '--now', NOW, '--format', 'json']);
    return { status: r.status, doc: JSON.parse(r.stdout) };
  };
  const headers = { ...TV_H1.headers, 'Webhook-Signature': signature };
  const ok = statuses({ ...TV_H1, headers });
  assert.equal(ok.status, 0);
  assert.deepEqual(ok.doc.entries.map((e) => e.status),
    ['not_verified', 'verified', 'not_tried', 'unknown_version', 'bad_base64', 'no_version', 'wrong_length']);
  const bad = statuses({ ...TV_H1, headers, body: '{}' });
  assert.equal(bad.status, 1);
  assert.deepEqual(bad.doc.entries.map((e) => e.status),
    ['not_verified', 'not_verified', 'no_key', 'unknown_version', 'bad_base64', 'no_version', 'wrong_length']);
  const { 'Webhook-Id': _, ...noId } = headers;
  const unchecked = statuses({ ...TV_H1, headers: noId });
  assert.equal(unchecked.doc.verdict, 'missing_header');
  assert.deepEqual(unchecked.doc.entries.slice(0, 3).map((e) => e.status), ['not_checked', 'not_checked', 'not_checked']);
  for (const doc of [bad.doc, unchecked.doc]) assert.ok(doc.entries.every((e) => e.status !== 'ok'));
});

test('with no key named, results and reasons name the default key and its path', () => {
  const config = tmpdir();
  assert.equal(run(['keygen'], { config }).status, 0);
  const path_ = path.join(config, 'epilot-action', 'public-key.pem');
  const signed = write('d.json', run(['sign'], { config }).stdout);
  const ok = run(['verify', signed], { config });
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, new RegExp(`v1a verified with the default local public key \\(${path_.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\\)`));
  const doc = JSON.parse(fs.readFileSync(signed, 'utf8'));
  const tampered = write('t.json', JSON.stringify({ ...doc, body: '{"tampered": true}' }));
  const r = run(['verify', tampered, '--format', 'json'], { config });
  assert.equal(r.status, 1);
  const reasons = JSON.parse(r.stdout).reasons;
  const mismatch = reasons.find((x) => x.code === 'signature_mismatch');
  assert.ok(mismatch, JSON.stringify(reasons));
  assert.ok(mismatch.message.includes(`under the default local public key (${path_})`), mismatch.message);
  assert.doesNotMatch(mismatch.message, /1 public key/);
});

// Issue 10: the usual Express log `{headers, body: req.body}`.
test('a capture whose body was logged parsed is exit 1 with body_parsed, not an input error', () => {
  const r = run(['verify', fixture('captures/express-log.json'), '--secret', SECRET, '--now', NOW, '--format', 'json']);
  assert.equal(r.status, 1, r.stdout + r.stderr);
  const doc = JSON.parse(r.stdout);
  assert.equal(doc.verdict, 'body_parsed');
  assert.equal(doc.valid, false);
  assert.deepEqual(doc.reasons.map((x) => x.code), ['body_parsed', 'body_reserialized']);
  assert.match(doc.reasons[0].message, /the body was parsed before it was logged .*signatures cover the raw bytes; log the raw body; its compact re-serialisation \(JSON\.stringify\) does not verify/);
  assert.match(doc.reasons[1].message, /Python json\.dumps/);
  const text = run(['verify', fixture('captures/express-log.json'), '--secret', SECRET, '--now', NOW]);
  assert.equal(text.status, 1);
  assert.match(text.stdout, /\n {6}body_parsed: the body was parsed before it was logged/);
});

test('body_parsed says when the compact re-serialisation verifies, arrays too, and in a JSON Lines stream', () => {
  const key = Buffer.from(SECRET.slice(6), 'base64');
  const line = (body) => {
    const sig = crypto.createHmac('sha256', key).update(`msg_1.${NOW}.${JSON.stringify(body)}`).digest('base64');
    return JSON.stringify({ headers: { 'webhook-id': 'msg_1', 'webhook-timestamp': NOW, 'webhook-signature': `v1,${sig}` }, body });
  };
  const file = write('parsed.jsonl', [line({ a: 'ü', b: [1, 2] }), line([{ x: null }])].join('\n') + '\n');
  const r = run(['verify', file, '--secret', SECRET, '--now', NOW, '--format', 'json']);
  assert.equal(r.status, 1, r.stdout + r.stderr);
  const docs = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  for (const doc of docs.slice(0, 2)) {
    assert.equal(doc.verdict, 'body_parsed');
    assert.deepEqual(doc.reasons.map((x) => x.code), ['body_parsed']);
    assert.match(doc.reasons[0].message, /does verify under --secret #1, so the sender most likely sent exactly that/);
    assert.deepEqual(doc.matched, { version: 'v1', key: '--secret #1', reencoded_body: true });
    assert.equal(doc.entries[0].status, 'matches_reencoded_body', 'a re-encoded match is no verification');
  }
  assert.deepEqual(docs[2], { event: 'summary', requests: 2, verified: 0, failed: 2, unreadable: 0 });
});

test('a structured body without headers is not a capture (exit 2), and inspect shows body_parsed', () => {
  const r = run(['verify', write('p.json', '{"body": {"a": 1}}'), '--secret', SECRET]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /this is a payload, not a capture/);
  checkStderrGrammar(assert, r.stderr);
  const i = run(['inspect', fixture('captures/express-log.json'), '--now', NOW]);
  assert.equal(i.status, 0, i.stderr);
  assert.match(i.stdout, /\n {2}body_parsed: the body was parsed before it was logged/);
  const j = JSON.parse(run(['inspect', fixture('captures/express-log.json'), '--format', 'json']).stdout);
  assert.equal(j.body.parsed, true);
  assert.equal(JSON.parse(run(['inspect', fixture('captures/tv-h1.json'), '--format', 'json']).stdout).body.parsed, false);
});
