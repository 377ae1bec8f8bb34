// check against real endpoints on 127.0.0.1: a correct receiver, the same
// receiver with one flaw each (tests/cli/endpoints.mjs), one built on the
// standardwebhooks package, listen itself, and no server at all. Each flaw
// must be caught by the case that names it, and by no other case.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import http from 'node:http';
import crypto from 'node:crypto';
import { createRequire } from 'node:module';
import { startEndpoint, FLAWS } from './endpoints.mjs';
import { makeCertificates } from './tls.mjs';
import { runAsync, tmpdir, startListenProcess, checkStderrGrammar } from './helpers.mjs';

const require = createRequire(import.meta.url);
const { Webhook } = require('standardwebhooks');
const express = require('express');

const { privateKey, publicKey } = crypto.generateKeyPairSync('ed25519');
const keyDir = tmpdir();
const privFile = path.join(keyDir, 'key.pem');
const pubFile = path.join(keyDir, 'pub.pem');
const publicPem = publicKey.export({ type: 'spki', format: 'pem' });
fs.writeFileSync(privFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
fs.writeFileSync(pubFile, publicPem);
const secret = 'whsec_' + crypto.randomBytes(32).toString('base64');
const secretFile = path.join(keyDir, 'secret');
fs.writeFileSync(secretFile, secret + '\n', { mode: 0o600 });

// The battery's ids, in order: a public contract.
const MUST = ['genuine', 'forged-key', 'tampered-body', 'tampered-id', 'tampered-timestamp', 'unsigned',
  'empty-signature', 'stale', 'future', 'wrong-scheme', 'version-swap'];
const SHOULD = ['genuine-last-of-many', 'genuine-unknown-version', 'genuine-header-case', 'genuine-near-edge',
  'genuine-v1a-and-v1', 'genuine-noncanonical-json', 'genuine-non-ascii', 'replayed', 'malformed-signature',
  'missing-id', 'missing-timestamp', 'timestamp-garbage', 'wrong-method', 'oversized'];

function events(stdout) {
  return stdout.trim().split('\n').map((line) => JSON.parse(line));
}

async function check(url, args = []) {
  const r = await runAsync(['check', '--url', url, '--format', 'json', ...args]);
  const all = r.stdout.trim() ? events(r.stdout) : [];
  const cases = all.filter((e) => e.event === 'case');
  const failing = cases.filter((c) => c.verdict === 'fail' || c.verdict === 'inconclusive').map((c) => c.id).sort();
  return { ...r, all, cases, failing, summary: all.find((e) => e.event === 'summary') };
}

const v1aOnly = ['--private-key', privFile];

test('check --list names the battery in order, must cases first', async () => {
  const r = await runAsync(['check', '--list']);
  assert.equal(r.status, 0, r.stderr);
  const rows = r.stdout.trim().split('\n').map((line) => line.split(/\s+/));
  assert.deepEqual(rows.map((row) => row[0]), [...MUST, ...SHOULD]);
  assert.deepEqual(rows.map((row) => row[1]), [...MUST.map(() => 'must'), ...SHOULD.map(() => 'should')]);
  const json = events((await runAsync(['check', '--list', '--format', 'json'])).stdout);
  assert.deepEqual(json.map((e) => e.id), [...MUST, ...SHOULD]);
  for (const e of json) {
    assert.equal(e.event, 'case');
    assert.ok(e.summary.length > 10 && e.fix.length > 10, JSON.stringify(e));
  }
});

test('a correct endpoint passes the whole battery with --strict, v1a and v1 together', async () => {
  const endpoint = await startEndpoint({ publicKey: publicPem, secret });
  try {
    const r = await check(endpoint.url, ['--strict', '--private-key', privFile, '--secret-file', secretFile]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.deepEqual(r.cases.map((c) => c.id), [...MUST, ...SHOULD]);
    assert.deepEqual(r.cases.filter((c) => c.verdict !== 'pass').map((c) => c.id), []);
    assert.equal(r.summary.passed, 25);
    assert.equal(r.summary.ok, true);
    // Every case reached the endpoint: 25 cases, three of which send two requests.
    assert.equal(endpoint.state.requests, 28);
    // The 413 the endpoint sent while the 12 MiB body was still going out is read.
    const oversized = r.cases.find((c) => c.id === 'oversized');
    assert.equal(oversized.status, 413, JSON.stringify(oversized));
    assert.match(oversized.requests[0].body, /body too large/);
  } finally {
    await endpoint.close();
  }
});

test('a 413 sent before the body was read, the connection kept and reading stopped (as Express does), is read', async () => {
  const endpoint = await startEndpoint({ publicKey: publicPem, limitByLength: true });
  try {
    const r = await check(endpoint.url, [...v1aOnly, '--only', 'oversized,stale', '--timeout', '5']);
    const oversized = r.cases.find((c) => c.id === 'oversized');
    assert.equal(oversized.verdict, 'pass', JSON.stringify(oversized));
    assert.equal(oversized.status, 413);
    assert.ok(oversized.latency_ms < 4000, 'not by the timeout');
  } finally {
    await endpoint.close();
  }
});

test('an endpoint that drops the connection after every answer, without saying so, still passes', async () => {
  const endpoint = await startEndpoint({ publicKey: publicPem, closeAfterAnswer: true });
  try {
    for (let i = 0; i < 3; i++) {
      const r = await check(endpoint.url, [...v1aOnly, '--strict']);
      assert.equal(r.status, 0, r.stdout);
      assert.equal(r.summary.passed, 24);
    }
  } finally {
    await endpoint.close();
  }
});

test('a correct HMAC-only endpoint passes with a secret alone (testing v1)', async () => {
  const endpoint = await startEndpoint({ secret });
  try {
    const r = await check(endpoint.url, ['--strict', '--secret-file', secretFile]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.equal(r.summary.scheme, 'v1');
    const skipped = r.cases.filter((c) => c.verdict === 'skipped');
    assert.deepEqual(skipped.map((c) => c.id), ['genuine-v1a-and-v1']);
    assert.match(skipped[0].why, /private key and a secret/);
    // wrong-scheme sends a v1a entry only; version-swap the HMAC bytes labelled v1a.
    const swap = r.cases.find((c) => c.id === 'version-swap');
    assert.match(swap.requests[0].signing_headers['webhook-signature'], /^v1a,[A-Za-z0-9+/]{43}=$/);
  } finally {
    await endpoint.close();
  }
});

// Each flaw, and the cases that must catch it: no more, no fewer.
const CAUGHT_BY = {
  'no-signature-check': ['empty-signature', 'forged-key', 'malformed-signature', 'tampered-body', 'tampered-id',
    'tampered-timestamp', 'unsigned', 'version-swap', 'wrong-scheme'],
  'stale-accepted': ['stale'],
  'future-accepted': ['future', 'timestamp-garbage'],  // a millisecond timestamp is far in the future
  'first-entry-only': ['genuine-last-of-many', 'genuine-unknown-version'],
  'reserialises': ['genuine-noncanonical-json'],
  'no-dedupe': ['replayed'],
  '500-on-missing-header': ['missing-id', 'missing-timestamp'],
  'any-v1': ['version-swap', 'wrong-scheme'],
  'crash-on-malformed': ['malformed-signature'],
  'accepts-ms': ['timestamp-garbage'],
  'no-body-limit': ['oversized'],
  'any-method': ['wrong-method'],
  'exact-header-case': ['genuine-header-case'],
  'tight-tolerance': ['genuine-near-edge'],
  'hangs-on-oversized': ['oversized'],
};

for (const [flaw, cases] of Object.entries(CAUGHT_BY)) {
  const mustCaught = cases.filter((id) => MUST.includes(id));
  test(`flaw '${flaw}' (${FLAWS[flaw]}) is caught by ${cases.join(', ')} only`, async () => {
    const endpoint = await startEndpoint({ flaw, publicKey: publicPem });
    try {
      const timeout = flaw === 'hangs-on-oversized' ? ['--timeout', '2'] : [];
      const plain = await check(endpoint.url, [...v1aOnly, ...timeout]);
      assert.deepEqual(plain.failing, [...cases].sort(), plain.stdout);
      for (const id of cases) {
        const c = plain.cases.find((e) => e.id === id);
        assert.equal(c.verdict, 'fail', JSON.stringify(c));
        assert.ok(c.why && c.fix, JSON.stringify(c));
      }
      // Exit 1 only for a must case, unless --strict.
      assert.equal(plain.status, mustCaught.length > 0 ? 1 : 0, plain.stderr);
      assert.equal(plain.summary.must_failed, mustCaught.length);
      const strict = await check(endpoint.url, [...v1aOnly, ...timeout, '--strict', '--only', cases.join(',')]);
      assert.equal(strict.status, 1, strict.stdout);
    } finally {
      await endpoint.close();
    }
  });
}

test('a flaw shows in text as a test runner would: FAIL or WARN lines, failures first with the fix', async () => {
  const endpoint = await startEndpoint({ flaw: 'stale-accepted', publicKey: publicPem });
  try {
    const r = await runAsync(['check', '--url', endpoint.url, ...v1aOnly]);
    assert.equal(r.status, 1);
    assert.match(r.stdout, /^ {2}FAIL {2}must {4}stale +200 success .*accepted a request signed 360 s ago \(tolerance 300 s\)/m);
    assert.match(r.stdout, /^ {2}ok {4}must {4}future /m);
    assert.match(r.stdout, /^25 cases in .*: 23 passed, 1 failed, 0 inconclusive, 1 skipped$/m);
    const summary = r.stdout.slice(r.stdout.indexOf('25 cases'));
    assert.match(summary, /FAIL stale: accepted a request signed 360 s ago[^\n]*\n {5}fix: refuse a webhook-timestamp/);
    assert.match(summary, /hint: if the endpoint is meant to allow more than 300 s, say how much with --tolerance SECS/);
    assert.match(summary, /FAIL: 1 case did not pass \(1 must case\)/);
    // With a wider tolerance the same endpoint's stale case is further back, and still accepted.
    const wide = await check(endpoint.url, [...v1aOnly, '--tolerance', '600', '--only', 'stale,genuine-near-edge']);
    assert.match(wide.cases.find((c) => c.id === 'stale').why, /signed 660 s ago/);
    assert.equal(wide.cases.find((c) => c.id === 'genuine-near-edge').verdict, 'pass');
  } finally {
    await endpoint.close();
  }
  const dedupe = await startEndpoint({ flaw: 'no-dedupe', publicKey: publicPem });
  try {
    const r = await runAsync(['check', '--url', dedupe.url, ...v1aOnly, '--only', 'replayed']);
    assert.equal(r.status, 0, 'a should case fails the run only with --strict');
    assert.match(r.stdout, /^ {2}WARN {2}should {2}replayed .*accepted the same request twice/m);
    assert.match(r.stdout, /hint: an endpoint that deduplicates without saying so: describe its answer to a repeat with --duplicate-answer SPEC/);
    assert.match(r.stdout, /ok: every must case passed \(1 should case did not: they fail the run with --strict\)/);
  } finally {
    await dedupe.close();
  }
});

test('a genuine request the endpoint refuses makes every other case inconclusive, and says which key to trust', async () => {
  const endpoint = await startEndpoint({ flaw: 'ignores-timestamp-in-signature', publicKey: publicPem });
  try {
    const r = await check(endpoint.url, v1aOnly);
    assert.equal(r.status, 1);
    assert.equal(r.cases[0].verdict, 'fail');
    assert.ok(r.cases.slice(1).every((c) => c.verdict === 'inconclusive' && c.requests.length === 0));
    assert.equal(endpoint.state.requests, 1, 'nothing is sent after a refused genuine request');
    const text = await runAsync(['check', '--url', endpoint.url, ...v1aOnly]);
    const whpk = 'whpk_' + publicKey.export({ format: 'der', type: 'spki' }).subarray(12).toString('base64');
    assert.ok(text.stdout.includes(`the endpoint must trust the public key ${whpk} (SHA256:`), text.stdout);
    assert.match(text.stdout, /the endpoint did not accept a genuine request, so the 24 other cases were not run/);
    assert.equal(text.stdout.split('\n').filter((l) => /^ {2}(ok|FAIL|WARN|skip|\?{4}) /.test(l)).length, 1,
      'one case line, not 25');
  } finally {
    await endpoint.close();
  }
  // A key the endpoint does not trust: the same.
  const other = await startEndpoint({ publicKey: crypto.generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }) });
  try {
    const r = await check(other.url, v1aOnly);
    assert.equal(r.status, 1);
    assert.equal(r.summary.inconclusive, 24);
  } finally {
    await other.close();
  }
});

test('over https: the whole battery with --ca-cert, exit 3 with a hint without it', async () => {
  const certs = makeCertificates();
  const endpoint = await startEndpoint({ publicKey: publicPem, tls: certs.server });
  try {
    const r = await check(endpoint.url, [...v1aOnly, '--ca-cert', certs.ca, '--strict']);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.equal(r.summary.passed, 24);
    const untrusted = await runAsync(['check', '--url', endpoint.url, ...v1aOnly]);
    assert.equal(untrusted.status, 3);
    assert.match(untrusted.stderr, /hint: for a certificate of your own CA .*--ca-cert FILE/);
    const plain = await runAsync(['check', '--url', endpoint.url.replace('https:', 'http:'), ...v1aOnly]);
    assert.notEqual(plain.status, 0);
  } finally {
    await endpoint.close();
  }
  const cleartext = await startEndpoint({ publicKey: publicPem });
  try {
    const r = await runAsync(['check', '--url', cleartext.url.replace('http:', 'https:'), ...v1aOnly]);
    assert.equal(r.status, 3);
    assert.match(r.stderr, /hint: the server there speaks plain HTTP: use an http:\/\/ URL/);
  } finally {
    await cleartext.close();
  }
});

test('an endpoint that cannot be reached is exit 3, with nothing on stdout', async () => {
  const server = http.createServer();
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  await new Promise((r) => server.close(r));
  const r = await runAsync(['check', '--url', `http://127.0.0.1:${port}/hook`, ...v1aOnly]);
  assert.equal(r.status, 3, r.stderr);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^epilot-action: error: can't reach http:\/\/127\.0\.0\.1:\d+\/hook: /);
  checkStderrGrammar(assert, r.stderr);
  // The JUnit report is there for CI to keep, even for a host that does not resolve.
  const junit = path.join(tmpdir(), 'nowhere.xml');
  const nowhere = await runAsync(['check', '--url', 'http://no-such-host.invalid/hook', ...v1aOnly, '--junit', junit]);
  assert.equal(nowhere.status, 3, nowhere.stderr);
  const xml = fs.readFileSync(junit, 'utf8');
  assert.match(xml, /<testcase name="genuine" classname="epilot-action\.check\.must" time="[\d.]+">\n {6}<failure message="inconclusive: the endpoint could not be reached: /);
});

test('--wait keeps trying to connect while the endpoint starts, then runs the battery', async () => {
  const probe = http.createServer();
  await new Promise((r) => probe.listen(0, '127.0.0.1', r));
  const { port } = probe.address();
  await new Promise((r) => probe.close(r));
  const url = `http://127.0.0.1:${port}/hook`;
  const pending = runAsync(['check', '--url', url, ...v1aOnly, '--wait', '20', '--only', 'stale']);
  // Nothing listens for the first second.
  await new Promise((r) => setTimeout(r, 1000));
  const endpoint = await startEndpoint({ publicKey: publicPem });
  const forward = http.createServer((req, res) => {
    const upstream = http.request(endpoint.url, { method: req.method, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode, up.headers);
      up.pipe(res);
    });
    req.pipe(upstream);
  });
  await new Promise((r) => forward.listen(port, '127.0.0.1', r));
  try {
    const r = await pending;
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^ {2}ok {4}must {4}genuine /m);
    assert.match(r.stdout, /^ {2}ok {4}must {4}stale /m);
  } finally {
    await new Promise((r) => { forward.closeAllConnections(); forward.close(r); });
    await endpoint.close();
  }
  const never = await runAsync(['check', '--url', url, ...v1aOnly, '--wait', '1']);
  assert.equal(never.status, 3);
  const bad = await runAsync(['check', '--url', url, ...v1aOnly, '--wait', '-1']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--wait must be a duration such as 250ms, 10s or 5m \(a bare number is seconds\), not '-1'/);
});

test('an endpoint that crashes mid-battery: the case that killed it fails, the rest are inconclusive', async () => {
  // Dies (closes its listener and every connection) on the first request without webhook-id.
  let server;
  const endpoint = await startEndpoint({ publicKey: publicPem });
  const proxy = http.createServer((req, res) => {
    if (!req.headers['webhook-id'] && req.method === 'POST') {
      server.close();
      server.closeAllConnections();
      return;
    }
    const upstream = http.request(endpoint.url, { method: req.method, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode, up.headers);
      up.pipe(res);
    });
    req.pipe(upstream);
  });
  server = proxy;
  await new Promise((r) => proxy.listen(0, '127.0.0.1', r));
  try {
    const r = await check(`http://127.0.0.1:${proxy.address().port}/hook`, v1aOnly);
    const byId = Object.fromEntries(r.cases.map((c) => [c.id, c]));
    assert.equal(byId['missing-id'].verdict, 'fail');
    assert.match(byId['missing-id'].why, /(connection (broke|closed)|sending failed).*: the endpoint may have crashed on a signed request without webhook-id/);
    // A connection that reached the closing listener is reset (fail); the
    // ones after find nothing listening (inconclusive). None passes.
    for (const id of ['missing-timestamp', 'timestamp-garbage', 'wrong-method', 'oversized']) {
      assert.notEqual(byId[id].verdict, 'pass', JSON.stringify(byId[id]));
      assert.match(byId[id].why, /could not be reached|may have crashed|endpoint was gone by/);
    }
    assert.equal(byId.oversized.verdict, 'inconclusive');
    for (const c of r.cases.filter((e) => /^not run/.test(e.why ?? ''))) {
      assert.deepEqual(c.requests, [], `${c.id} was not sent, so nothing is said of what it sent`);
    }
    assert.equal(r.status, 0, 'every must case passed before the crash');
  } finally {
    await endpoint.close();
  }
});

test('--duplicate-answer describes a silent deduplication; one that fits the first answer too is inconclusive', async () => {
  const endpoint = await startEndpoint({ flaw: 'silent-dedupe', publicKey: publicPem });
  try {
    const plain = await check(endpoint.url, [...v1aOnly, '--only', 'replayed']);
    assert.equal(plain.cases.find((c) => c.id === 'replayed').verdict, 'fail');
    const described = await check(endpoint.url, [...v1aOnly, '--only', 'replayed', '--duplicate-answer', '200:duplicate']);
    const c = described.cases.find((e) => e.id === 'replayed');
    assert.equal(c.verdict, 'pass', JSON.stringify(c));
    assert.equal(c.requests.length, 2);
    assert.equal(c.requests[0].signing_headers['webhook-id'], c.requests[1].signing_headers['webhook-id']);
    const vague = await check(endpoint.url, [...v1aOnly, '--only', 'replayed', '--duplicate-answer', '2xx']);
    const v = vague.cases.find((e) => e.id === 'replayed');
    assert.equal(v.verdict, 'inconclusive');
    assert.match(v.why, /matches the first answer too/);
    const bad = await runAsync(['check', '--url', endpoint.url, ...v1aOnly, '--duplicate-answer', '200:']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--duplicate-answer '200:' has nothing after its ':'/);
  } finally {
    await endpoint.close();
  }
});

test('--only and --skip pick cases by id, with did-you-mean; genuine always runs', async () => {
  const endpoint = await startEndpoint({ publicKey: publicPem });
  try {
    const only = await check(endpoint.url, [...v1aOnly, '--only', 'stale', '--only', 'future,replayed']);
    assert.equal(only.status, 0);
    const ran = only.cases.filter((c) => c.verdict !== 'skipped').map((c) => c.id);
    assert.deepEqual(ran, ['genuine', 'stale', 'future', 'replayed']);
    assert.equal(only.cases.find((c) => c.id === 'oversized').why, 'not named by --only');
    const skip = await check(endpoint.url, [...v1aOnly, '--skip', 'oversized,wrong-method']);
    assert.deepEqual(skip.cases.filter((c) => c.verdict === 'skipped').map((c) => c.id).sort(),
      ['genuine-v1a-and-v1', 'oversized', 'wrong-method']);
    const typo = await runAsync(['check', '--url', endpoint.url, ...v1aOnly, '--only', 'stael']);
    assert.equal(typo.status, 2);
    assert.match(typo.stderr, /--only names 'stael', which is not a case\nepilot-action: hint: did you mean 'stale'\?/);
    const noGenuine = await runAsync(['check', '--url', endpoint.url, ...v1aOnly, '--skip', 'genuine']);
    assert.equal(noGenuine.status, 2);
    checkStderrGrammar(assert, typo.stderr + noGenuine.stderr);
  } finally {
    await endpoint.close();
  }
});

test('--junit writes one test case per battery case: failures, skips and passes', async () => {
  const endpoint = await startEndpoint({ flaw: 'stale-accepted', publicKey: publicPem });
  const junit = path.join(tmpdir(), 'check.xml');
  try {
    const r = await runAsync(['check', '--url', endpoint.url, ...v1aOnly, '--junit', junit]);
    assert.equal(r.status, 1);
    const xml = fs.readFileSync(junit, 'utf8');
    assert.match(xml, /<testsuite name="epilot-action check http:\/\/127\.0\.0\.1:\d+\/hook" tests="25" failures="1" errors="0" skipped="1"/);
    for (const id of [...MUST, ...SHOULD]) assert.ok(xml.includes(`<testcase name="${id}" classname="epilot-action.check.`), id);
    assert.match(xml, /<testcase name="stale" classname="epilot-action\.check\.must" time="[\d.]+">\n {6}<failure message="accepted a request signed 360 s ago/);
    assert.match(xml, /<testcase name="genuine-v1a-and-v1" [^>]*>\n {6}<skipped message="it needs a private key and a secret"\/>/);
  } finally {
    await endpoint.close();
  }
});

test('the genuine request is the payload or fixture given, and every case carries -H and the token', async () => {
  const seen = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (d) => chunks.push(d));
    req.on('end', () => {
      seen.push({ headers: req.headers, body: Buffer.concat(chunks).toString() });
      res.writeHead(req.headers['x-api-key'] === 'k1' ? 200 : 403).end();
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${server.address().port}/hook`;
  try {
    const payload = path.join(tmpdir(), 'mine.json');
    fs.writeFileSync(payload, '{"mine":true,"at":"{{unix}}"}');
    const r = await check(url, [payload, ...v1aOnly, '-H', 'x-api-key: k1', '--mock-token', '--only', 'stale']);
    assert.equal(r.cases[0].verdict, 'pass', r.stdout + r.stderr);
    assert.equal(seen.length, 2);
    for (const s of seen) {
      assert.match(s.body, /^\{"mine":true,"at":"\d{10}"\}$/);
      assert.equal(s.headers['content-type'], 'application/json');
      assert.match(s.headers['x-epilot-token'], /^eyJ[\w-]+\.[\w-]+\.[\w-]+$/);
    }
    const fixtureRun = await check(url, ['--fixture', 'contact-updated', ...v1aOnly, '-H', 'x-api-key: k1', '--only', 'stale']);
    assert.equal(fixtureRun.cases[0].verdict, 'pass');
    assert.match(seen[2].body, /"contact"/);
    const signing = await runAsync(['check', '--url', url, ...v1aOnly, '-H', 'Webhook-Signature: v1a,x']);
    assert.equal(signing.status, 2);
    assert.match(signing.stderr, /-H can't set webhook-signature: check signs every request itself/);
    const capture = path.join(tmpdir(), 'capture.json');
    fs.writeFileSync(capture, JSON.stringify({ method: 'POST', url: 'http://x/', headers: { a: 'b' }, body: '{}' }));
    const refused = await runAsync(['check', capture, '--url', url, ...v1aOnly]);
    assert.equal(refused.status, 2);
    assert.match(refused.stderr, /is a capture, not a fixture/);
  } finally {
    await new Promise((r) => server.close(r));
  }
});

test('a wait_for_callback fixture points its callback at a local endpoint that answers the app', async () => {
  const callbacks = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (d) => chunks.push(d));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString());
      const { callback_post_url: url, resume_token: token } = body.data;
      // Resume before answering, as an app that finishes at once would.
      const cb = http.request(url, { method: 'POST', headers: { 'content-type': 'application/json' } }, (r) => {
        r.resume();
        callbacks.push({ url, status: r.statusCode });
        res.writeHead(r.statusCode === 200 ? 200 : 502).end();
      });
      cb.end(JSON.stringify({ resume_token: token }));
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  try {
    const r = await check(`http://127.0.0.1:${server.address().port}/hook`,
      ['--fixture', 'wait-for-callback', ...v1aOnly, '--only', 'genuine-near-edge']);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.equal(r.cases.find((c) => c.id === 'genuine-near-edge').verdict, 'pass');
    assert.equal(callbacks.length, 2);
    for (const c of callbacks) {
      assert.match(c.url, /^http:\/\/127\.0\.0\.1:\d+\/v1\/automation\/public\/executions:resume$/);
      assert.equal(c.status, 200);
    }
  } finally {
    await new Promise((r) => server.close(r));
  }
});

test('the query goes to the endpoint, the fragment does not; answers that are not UTF-8 keep the JUnit file XML', async () => {
  const seen = [];
  const server = http.createServer((req, res) => {
    seen.push(req.url);
    req.resume();
    req.on('end', () => res.writeHead(seen.length === 1 ? 200 : 401).end(Buffer.from([0x3c, 0xff, 0xfe, 0x26])));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const junit = path.join(tmpdir(), 'bytes.xml');
  try {
    const url = `http://127.0.0.1:${server.address().port}/hook?token=abc#frag`;
    const r = await check(url, [...v1aOnly, '--only', 'forged-key , stale', '--junit', junit]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.deepEqual(seen, ['/hook?token=abc', '/hook?token=abc', '/hook?token=abc']);
    assert.equal(r.summary.url, `http://127.0.0.1:${server.address().port}/hook`, 'shown without the query');
    const xml = fs.readFileSync(junit);
    assert.ok(new TextDecoder('utf-8', { fatal: true }).decode(xml).includes('&lt;\ufffd\ufffd&amp;'));
  } finally {
    await new Promise((r) => server.close(r));
  }
});

test('an endpoint built on the standardwebhooks package passes every case of the v1 battery', async () => {
  const wh = new Webhook(secret);
  const seen = new Set();
  const server = http.createServer((req, res) => {
    if (req.method !== 'POST') return res.writeHead(405, { allow: 'POST' }).end();
    const chunks = [];
    let size = 0;
    req.on('data', (d) => {
      size += d.length;
      if (size > 1 << 20 && !res.headersSent) res.writeHead(413, { connection: 'close' }).end();
      else chunks.push(d);
    });
    req.on('end', () => {
      if (res.headersSent) return;
      try {
        wh.verify(Buffer.concat(chunks).toString(), req.headers);
      } catch {
        return res.writeHead(401).end();
      }
      const id = req.headers['webhook-id'];
      if (seen.has(id)) return res.writeHead(409).end();
      seen.add(id);
      res.writeHead(204).end();
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  try {
    const r = await check(`http://127.0.0.1:${server.address().port}/hook`, ['--secret-file', secretFile, '--strict']);
    assert.equal(r.status, 0, r.stdout);
    assert.equal(r.summary.passed, 24);
  } finally {
    await new Promise((r) => { server.closeAllConnections(); server.close(r); });
  }
});

// An app as its developer would write it with Express: the raw body kept
// for the verifier (express.raw, 1 MB), standardwebhooks, ids remembered.
function expressApp({ reserialise = false } = {}) {
  const app = express();
  const wh = new Webhook(secret);
  const seen = new Set();
  const parser = reserialise ? express.json({ limit: '1mb' }) : express.raw({ type: '*/*', limit: '1mb' });
  app.post('/hook', parser, (req, res) => {
    const body = reserialise ? JSON.stringify(req.body) : req.body.toString('utf8');
    try {
      wh.verify(body, req.headers);
    } catch {
      return res.status(401).json({ error: 'invalid signature' });
    }
    const id = req.headers['webhook-id'];
    if (seen.has(id)) return res.status(409).json({ error: 'duplicate' });
    seen.add(id);
    return res.json({ ok: true });
  });
  return new Promise((resolve) => {
    const server = app.listen(0, '127.0.0.1', () => resolve({
      url: `http://127.0.0.1:${server.address().port}/hook`,
      close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }),
    }));
  });
}

test('an Express app (express.raw, standardwebhooks) passes the v1 battery; one on express.json is caught re-serialising', async () => {
  const good = await expressApp();
  try {
    const r = await check(good.url, ['--secret-file', secretFile, '--strict', '--timeout', '5']);
    assert.equal(r.status, 0, r.stdout);
    assert.equal(r.summary.passed, 24);
    const oversized = r.cases.find((c) => c.id === 'oversized');
    assert.equal(oversized.status, 413, JSON.stringify(oversized));
  } finally {
    await good.close();
  }
  const parsed = await expressApp({ reserialise: true });
  try {
    const r = await check(parsed.url, ['--secret-file', secretFile, '--timeout', '5']);
    assert.equal(r.status, 0, 'no must case fails');
    assert.deepEqual(r.failing, ['genuine-noncanonical-json']);
  } finally {
    await parsed.close();
  }
});

test('listen, as an endpoint, passes the whole battery with --strict', async () => {
  const l = await startListenProcess(['--public-key', pubFile, '--secret-file', secretFile]);
  try {
    const r = await check(l.url, ['--private-key', privFile, '--secret-file', secretFile, '--strict']);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.equal(r.summary.passed, 25);
  } finally {
    l.proc.kill('SIGTERM');
    await l.exited;
  }
});

test('bad usage is exit 2 with a clear error', async () => {
  for (const [args, message] of [
    [['check'], /name the endpoint with --url/],
    [['check', '--url', 'http://127.0.0.1:1/', '--tolerance', '0'], /--tolerance must be from 1s to 365d, not '0'/],
    [['check', '--url', 'http://127.0.0.1:1/', '--tolerance', '9223372036854775807'], /--tolerance must be from 1s to 365d, not '9223372036854775807'/],
    [['check', '--url', 'http://127.0.0.1:1/', '--timeout', '0'], /--timeout must be from 1ms to 1h, not '0'/],
    [['check', '--url', 'http://127.0.0.1:1/', '--wait', '2 s'], /--wait must be a duration such as 250ms, 10s or 5m/],
    [['check', '--url', 'http://127.0.0.1:1/', '--formt', 'json'], /unknown flag --formt for check\nepilot-action: hint: did you mean --format\?/],
    [['check', '--url', 'http://127.0.0.1:1/', '--timeout', '1e300'], /--timeout must be/],
    [['check', '--url', 'http://127.0.0.1:1/', '--only', 'stale,,nope'], /--only names 'nope', which is not a case/],
    [['check', '--url', 'http://127.0.0.1:1/', '--only', ' , '], /--only names no case/],
    [['check', '--url', 'http://127.0.0.1:1/', '--only', 'stale', '--skip', 'stale'], /--only and --skip both name stale/],
    [['check', '--url', 'http://127.0.0.1:1/', '-H', 'Content-Length: 5'], /-H can't set content-length: check frames every request itself/],
    [['check', '--list', 'extra'], /--list takes nothing else/],
    [['check', '--url', 'http://127.0.0.1:1/', '--junit', '/nonexistent-dir/x.xml'], /--junit \/nonexistent-dir\/x.xml: the folder \/nonexistent-dir does not exist/],
    [['check', '--url', 'ftp://127.0.0.1:1/'], /error: /],
    [['check', '--url', 'http://127.0.0.1:1/', '--mock-token', '--token-file', 'x'], /can't be combined/],
    [['check', '--url', 'http://127.0.0.1:1/', '--fixture', 'no-such-fixture'], /no fixture is called 'no-such-fixture'/],
  ]) {
    const r = await runAsync([...args, '--private-key', privFile]);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    checkStderrGrammar(assert, r.stderr);
  }
});
