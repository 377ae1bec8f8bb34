// replay against real local servers: an independent verifier written with
// Node's http, crypto and the standardwebhooks package (so "re-signed fresh"
// is proven by code nobody here wrote), servers answering epilot's answer
// shapes, one that performs the callback, one that breaks connections, one
// that never answers, listen itself, and no server at all.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import http from 'node:http';
import https from 'node:https';
import crypto from 'node:crypto';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { makeCertificates } from './tls.mjs';
import { BIN, FIXTURES, run, runAsync, tmpdir, fixture, startListenProcess, checkStderrGrammar, testKeys } from './helpers.mjs';

const { Webhook } = createRequire(import.meta.url)('standardwebhooks');

const { privateKey, publicKey, privFile, pubFile, secret, secretFile } = testKeys();

const FIXTURE_NAMES = fs.readdirSync(path.join(FIXTURES, 'payloads'))
  .filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).sort();

// A server on 127.0.0.1:0 whose handler gets (req, body, res); resolves with
// its URL, the requests it saw and close().
function serve(handler) {
  const seen = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (d) => chunks.push(d));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const record = { method: req.method, url: req.url, headers: req.headers, raw: body, body: body.toString() };
      seen.push(record);
      handler(req, record, res);
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    const sockets = new Set();
    server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
    resolve({
      server,
      url: `http://127.0.0.1:${server.address().port}`,
      seen,
      close: () => new Promise((r) => { for (const s of sockets) s.destroy(); server.close(r); }),
    });
  }));
}

function answer(res, status, body) {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

// The independent check: v1a with Node's crypto and the public key, v1 with
// the standardwebhooks package and the secret; the timestamp within 300 s.
function independentlyVerified({ headers, body, raw }) {
  const id = headers['webhook-id'];
  const ts = headers['webhook-timestamp'];
  const entries = (headers['webhook-signature'] ?? '').split(' ');
  const result = { v1a: false, v1: false, fresh: Math.abs(Date.now() / 1000 - Number(ts)) <= 300 };
  for (const entry of entries) {
    const [version, sig] = entry.split(',');
    if (version === 'v1a') {
      result.v1a = crypto.verify(null, Buffer.concat([Buffer.from(`${id}.${ts}.`), raw]), publicKey, Buffer.from(sig, 'base64'));
    }
  }
  if (entries.some((e) => e.startsWith('v1,'))) {
    try {
      new Webhook(secret).verify(body, headers);
      result.v1 = true;
    } catch {
      result.v1 = false;
    }
  }
  return result;
}

function verifier() {
  return serve((req, record, res) => {
    record.verdict = independentlyVerified(record);
    const ok = (record.verdict.v1a || record.verdict.v1) && record.verdict.fresh;
    answer(res, ok ? 200 : 401, ok ? {} : { error: 'signature' });
  });
}

const replay = (args, opts) => runAsync(['replay', ...args], opts);
const jsonLines = (stdout) => stdout.trim().split('\n').map((l) => JSON.parse(l));

test('every built-in fixture, re-signed at send time, verifies under an independent verifier (v1a and v1)', async () => {
  const s = await verifier();
  try {
    const r = await replay([...FIXTURE_NAMES, '--url', `${s.url}/hook`, '--private-key', privFile, '--secret-file', secretFile,
      '--option', 'callback_post_url=http://unused.invalid/', '--callback-timeout', '0.2', '--format', 'json']);
    // wait-for-callback has no callback from this server: the only unmet one.
    const lines = jsonLines(r.stdout);
    const results = lines.filter((l) => l.event === 'request');
    assert.equal(results.length, FIXTURE_NAMES.length);
    assert.equal(s.seen.length, FIXTURE_NAMES.length);
    for (const seen of s.seen) {
      assert.deepEqual(seen.verdict, { v1a: true, v1: true, fresh: true }, seen.body.slice(0, 80));
      assert.equal(seen.url, '/hook');
      assert.equal(seen.method, 'POST');
      assert.match(seen.headers['webhook-id'], /^msg_[0-9a-f]{32}$/);
      assert.match(seen.headers['webhook-signature'], /^v1a,\S+ v1,\S+$/);
      assert.doesNotMatch(seen.body, /\{\{/, 'placeholders are filled');
    }
    assert.equal(new Set(s.seen.map((x) => x.headers['webhook-id'])).size, s.seen.length, 'fresh ids');
    // The custom-headers fixture's own headers arrive.
    const custom = s.seen.find((x) => x.headers['x-api-key']);
    assert.ok(custom, 'custom-headers.request sends its x-api-key');
    const summary = lines.at(-1);
    assert.equal(summary.event, 'summary');
    assert.equal(summary.classes.success, FIXTURE_NAMES.length);
    const unmet = results.filter((x) => !x.met);
    assert.deepEqual(unmet.map((x) => x.input), ['wait-for-callback']);
    assert.equal(unmet[0].callback.state, 'timed_out');
    assert.equal(r.status, 1);
  } finally {
    await s.close();
  }
});

test('a capture signed long ago is re-signed fresh; --as-is sends it stale and the verifier refuses it', async () => {
  const s = await verifier();
  try {
    const stale = path.join(tmpdir(), 'stale.json');
    const signed = run(['sign', '--private-key', privFile, '--timestamp', String(Math.floor(Date.now() / 1000) - 3600), '-o', stale]);
    assert.equal(signed.status, 0, signed.stderr);
    const original = JSON.parse(fs.readFileSync(stale, 'utf8'));

    const fresh = await replay([stale, '--url', s.url, '--private-key', privFile]);
    assert.equal(fresh.status, 0, fresh.stdout + fresh.stderr);
    assert.deepEqual(s.seen[0].verdict, { v1a: true, v1: false, fresh: true });
    assert.equal(s.seen[0].body, original.body, 'the body is sent byte for byte');
    assert.notEqual(s.seen[0].headers['webhook-id'], original.headers['webhook-id']);

    const asIs = await replay([stale, '--as-is', '--url', s.url]);
    assert.equal(asIs.status, 1);
    assert.equal(s.seen[1].headers['webhook-signature'], original.headers['webhook-signature']);
    assert.equal(s.seen[1].headers['webhook-id'], original.headers['webhook-id']);
    assert.match(asIs.stdout, /FAIL +401 other +.*stale\.json/);
    assert.match(asIs.stdout, /expected 2xx, got 401 other/);

    const expected = await replay([stale, '--as-is', '--url', s.url, '--expect', '401']);
    assert.equal(expected.status, 0, expected.stdout);
  } finally {
    await s.close();
  }
});

test('answers are classified as epilot reads them; --expect per input decides the exit status', async () => {
  const s = await serve((req, record, res) => {
    if (record.body.includes('"_schema":"contact"')) return answer(res, 200, { skip_reason: 'contact has no email' });
    if (record.body.includes('"_schema":"opportunity"')) {
      return answer(res, 422, { error_output: { error_code: 'VALIDATION', error_reason: 'IBAN is invalid', error_info: { details: [] } } });
    }
    if (record.body.includes('"_schema":"contract"')) return answer(res, 500, 'internal');
    return answer(res, 200, {});
  });
  try {
    const inputs = ['contact-updated', 'opportunity-created', 'contract-created', 'order-created'];
    const base = [...inputs, '--url', s.url, '--private-key', privFile];
    const r = await replay([...base, '--format', 'json']);
    assert.equal(r.status, 1);
    const byInput = Object.fromEntries(jsonLines(r.stdout).filter((l) => l.event === 'request').map((l) => [l.input, l]));
    assert.equal(byInput['contact-updated'].class, 'skipped');
    assert.equal(byInput['contact-updated'].reason, 'contact has no email');
    assert.equal(byInput['contact-updated'].met, true, '2xx by default');
    assert.equal(byInput['opportunity-created'].class, 'failed');
    assert.equal(byInput['opportunity-created'].status, 422);
    assert.equal(byInput['opportunity-created'].reason, 'VALIDATION: IBAN is invalid');
    assert.equal(byInput['contract-created'].class, 'other');
    assert.equal(byInput['contract-created'].status, 500);
    assert.equal(byInput['order-created'].class, 'success');

    const text = await replay(base);
    assert.match(text.stdout, /FAIL +422 failed +opportunity-created/);
    assert.match(text.stdout, /IBAN is invalid/);
    assert.match(text.stdout, /^ {2}skipped +1$/m);

    const met = await replay([...base, '--expect', 'contact-updated=skipped', '--expect', 'opportunity-created=failed',
      '--expect', 'contract-created=5xx', '--expect', 'success']);
    assert.equal(met.status, 0, met.stdout);
    const unmet = await replay([...base, '--expect', 'contact-updated=success', '--expect', 'opportunity-created=failed',
      '--expect', 'contract-created=500', '--expect', '200']);
    assert.equal(unmet.status, 1);
    assert.match(unmet.stdout, /expected success, got 200 skipped: contact has no email/);

    const bad = await replay([...base, '--expect', 'nosuch=2xx']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--expect names 'nosuch', which is not one of the inputs/);
    const badSpec = await replay([...base, '--expect', '2xy']);
    assert.equal(badSpec.status, 2);
    checkStderrGrammar(assert, badSpec.stderr);
  } finally {
    await s.close();
  }
});

test('the callback flow: the endpoint POSTs the resume_token back to the URL replay gave it', async () => {
  let mode = 'good';
  const s = await serve((req, record, res) => {
    answer(res, 202, {});
    const data = JSON.parse(record.body).data;
    if (mode === 'silent') return;
    const token = mode === 'wrong' ? 'rt_not-the-one' : data.resume_token;
    setTimeout(() => {
      const body = JSON.stringify({ resume_token: token });
      const cb = http.request(data.callback_post_url, { method: 'POST', headers: { 'content-type': 'application/json' } }, (r) => {
        record.callbackStatus = r.statusCode;
        r.resume();
      });
      cb.on('error', () => {});
      cb.end(body);
    }, 50);
  });
  try {
    const base = ['wait-for-callback', '--url', s.url, '--private-key', privFile];
    const good = await replay([...base, '--callback-timeout', '3', '--format', 'json']);
    assert.equal(good.status, 0, good.stdout + good.stderr);
    const [result, summary] = jsonLines(good.stdout);
    assert.equal(result.callback.state, 'received');
    assert.ok(result.callback.after_ms >= 40, `callback after ${result.callback.after_ms} ms`);
    assert.equal(summary.callbacks.received, 1);
    const data = JSON.parse(s.seen[0].body).data;
    assert.match(data.callback_post_url, /^http:\/\/127\.0\.0\.1:\d+\/v1\/automation\/public\/executions:resume$/);
    assert.match(data.resume_token, /^rt_[0-9a-f]{32}$/);
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(s.seen[0].callbackStatus, 200);

    mode = 'wrong';
    const wrong = await replay([...base, '--callback-timeout', '0.5']);
    assert.equal(wrong.status, 1);
    assert.match(wrong.stdout, /problem: a callback with a resume_token no request carried/);
    assert.match(wrong.stdout, /no callback with its resume_token within/);

    mode = 'silent';
    const silent = await replay([...base, '--callback-timeout', '0.3']);
    assert.equal(silent.status, 1);
    assert.match(silent.stdout, /callbacks +0 received, 1 timed out/);
  } finally {
    await s.close();
  }
});

test('https: the certificate is verified (a CA of your own with --ca-cert), and requests verify as over http', async () => {
  const certs = makeCertificates();
  const seen = [];
  const start = (tlsOptions) => new Promise((resolve) => {
    const server = https.createServer(tlsOptions, (req, res) => {
      const chunks = [];
      req.on('data', (d) => chunks.push(d));
      req.on('end', () => {
        const record = { headers: req.headers, raw: Buffer.concat(chunks) };
        record.body = record.raw.toString();
        record.verdict = independentlyVerified(record);
        seen.push(record);
        answer(res, record.verdict.v1a && record.verdict.fresh ? 200 : 401, {});
      });
    });
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
  const trusted = await start(certs.server);
  const untrusted = await start(certs.selfSigned);
  try {
    const url = `https://localhost:${trusted.address().port}/hook`;
    const ok = await replay(['--url', url, '--ca-cert', certs.ca, '--private-key', privFile, '-n', '3', '-c', '2']);
    assert.equal(ok.status, 0, ok.stdout + ok.stderr);
    assert.equal(seen.length, 3);
    assert.ok(seen.every((x) => x.verdict.v1a && x.verdict.fresh));
    assert.equal(seen[0].headers.host, `localhost:${trusted.address().port}`);

    // Not trusted without the CA, and not retried: exit 3, and the reason.
    const noCa = await replay(['--url', url, '--private-key', privFile, '-q']);
    assert.equal(noCa.status, 3);
    assert.match(noCa.stderr, /TLS handshake with localhost failed: the certificate is not trusted/);
    assert.match(noCa.stderr, /hint: .*--ca-cert FILE/);
    const selfSigned = await replay(['--url', `https://127.0.0.1:${untrusted.address().port}/`, '--ca-cert', certs.ca,
      '--private-key', privFile, '-q']);
    assert.equal(selfSigned.status, 3);
    assert.match(selfSigned.stderr, /the certificate is not trusted/);
    assert.equal(seen.length, 3, 'nothing reached a server over an untrusted connection');
  } finally {
    trusted.close();
    untrusted.close();
  }
});

test('https to a plain-HTTP endpoint says so, and does not suggest --ca-cert', async () => {
  const s = await serve((req, record, res) => answer(res, 200, {}));
  try {
    const r = await replay(['--url', s.url.replace('http:', 'https:'), '--private-key', privFile, '-q']);
    assert.equal(r.status, 3);
    assert.match(r.stderr, /the server does not speak TLS on port \d+/);
    assert.match(r.stderr, /hint: the server there speaks plain HTTP: use an http:\/\/ URL/);
    assert.doesNotMatch(r.stderr, /ca-cert/);
    assert.equal(s.seen.length, 0);
  } finally {
    await s.close();
  }
});

test('--mock-token sends a JWT with epilot\'s claims, marked as not epilot\'s; --token-file passes one through', async () => {
  const s = await verifier();
  try {
    const r = await replay(['opportunity-created', '--url', s.url, '--private-key', privFile, '--mock-token', '--option', 'org_id=4242']);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const token = s.seen[0].headers['x-epilot-token'];
    const [header, claims] = token.split('.').slice(0, 2).map((p) => JSON.parse(Buffer.from(p, 'base64url')));
    assert.equal(header.alg, 'EdDSA');
    assert.match(header.kid, /mock/);
    assert.equal(claims.org_id, '4242');
    assert.equal(claims.token_type, 'app');
    assert.deepEqual(claims.assume_roles, ['4242:owner']);
    assert.equal(claims.exp - claims.iat, 600);
    assert.ok(Math.abs(claims.iat - Date.now() / 1000) < 60);
    assert.match(claims.iss, /not epilot/);

    const file = path.join(tmpdir(), 'token');
    const given = 'eyJhbGciOiJSUzI1NiJ9.eyJvcmdfaWQiOiIxIn0.c2ln';
    fs.writeFileSync(file, given + '\n');
    const passed = await replay(['--url', s.url, '--private-key', privFile, '--token-file', file]);
    assert.equal(passed.status, 0, passed.stderr);
    assert.equal(s.seen[1].headers['x-epilot-token'], given);
    assert.doesNotMatch(passed.stdout + passed.stderr, /c2ln/, 'the token is never printed');

    // A capture's expired token is sent as captured, with a warning.
    const captured = await replay([fixture('captures/custom-action-with-token.json'), '--url', s.url, '--private-key', privFile]);
    assert.equal(captured.status, 0, captured.stderr);
    assert.match(captured.stderr, /its x-epilot-token expired .* ago; it is sent as captured/);
    assert.ok(s.seen[2].headers['x-epilot-token']);
  } finally {
    await s.close();
  }
});

test('--keep-id repeats a webhook-id, and listen answers the duplicate with 409', async () => {
  const listen = await startListenProcess(['--public-key', pubFile]);
  try {
    const r = await replay(['--url', listen.url, '--private-key', privFile, '-n', '3', '--keep-id', '--format', 'json']);
    const results = jsonLines(r.stdout).filter((l) => l.event === 'request');
    assert.deepEqual(results.map((x) => x.status), [200, 409, 409]);
    assert.equal(new Set(results.map((x) => x.webhook_id)).size, 1);
    assert.equal(r.status, 1);
    const idempotent = await replay(['--url', listen.url, '--private-key', privFile, '-n', '2', '--keep-id', '--expect', '200,409']);
    assert.equal(idempotent.status, 0, idempotent.stdout);
    const fresh = await replay(['--url', listen.url, '--private-key', privFile, '-n', '5', '-c', '2']);
    assert.equal(fresh.status, 0, fresh.stdout);
  } finally {
    listen.proc.kill('SIGTERM');
    await listen.exited;
  }
});

test('captures in every format, directories and globs are inputs; --set and -H change what is sent', async () => {
  const s = await verifier();
  try {
    const dir = tmpdir();
    for (const name of ['tv-h1.json', 'tv-h1-crlf.http', 'chromium.har']) {
      fs.copyFileSync(fixture(`captures/${name}`), path.join(dir, name));
    }
    const r = await replay([dir, path.join(FIXTURES, 'captures', 'stream.*'), '--url', s.url, '--private-key', privFile,
      '-H', 'x-trace: abc', '--format', 'json']);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const results = jsonLines(r.stdout).filter((l) => l.event === 'request');
    assert.ok(results.length >= 4);
    assert.ok(results.some((x) => /stream\.jsonl#2$/.test(x.input)));
    assert.ok(s.seen.every((x) => x.verdict.v1a && x.headers['x-trace'] === 'abc'));

    // A browser export holds more than webhooks: only the webhook requests are sent.
    const har = JSON.parse(fs.readFileSync(fixture('captures/chromium.har'), 'utf8'));
    har.log.entries.unshift({ ...har.log.entries[0], request: { method: 'GET', url: 'http://localhost:3000/favicon.ico',
      httpVersion: 'HTTP/1.1', headers: [], queryString: [], cookies: [], headersSize: -1, bodySize: 0 } });
    const session = path.join(tmpdir(), 'session.har');
    fs.writeFileSync(session, JSON.stringify(har));
    const before = s.seen.length;
    const fromHar = await replay([session, '--url', s.url, '--private-key', privFile]);
    assert.equal(fromHar.status, 0, fromHar.stdout + fromHar.stderr);
    assert.match(fromHar.stderr, /session\.har: 1 of its 3 requests is left out: only those with webhook-\* headers are sent/);
    assert.equal(s.seen.length - before, 2);
    assert.ok(s.seen.slice(before).every((x) => x.method === 'POST'));

    const set = await replay(['--url', s.url, '--private-key', privFile, '--set', 'data.org_id=99', '--set', 'data.n:=5']);
    assert.equal(set.status, 0, set.stderr);
    const body = JSON.parse(s.seen.at(-1).body);
    assert.equal(body.data.org_id, '99');
    assert.equal(body.data.n, 5);
    assert.ok(s.seen.at(-1).verdict.v1a);
  } finally {
    await s.close();
  }
});

test('connection errors are retried with backoff; timeouts are not; no endpoint at all is exit 3', async () => {
  // Closes the first connection before answering, then behaves.
  let dropped = 0;
  const flaky = await serve((req, record, res) => answer(res, 200, {}));
  flaky.server.prependListener('connection', (socket) => { if (dropped++ === 0) socket.destroy(); });
  const silent = await serve(() => {});
  try {
    const retried = await replay(['--url', flaky.url, '--private-key', privFile, '--format', 'json']);
    assert.equal(retried.status, 0, retried.stdout + retried.stderr);
    assert.equal(jsonLines(retried.stdout)[0].attempts, 2);

    dropped = 0;
    const noRetry = await replay(['--url', flaky.url, '--private-key', privFile, '--retries', '0', '--format', 'json']);
    assert.equal(noRetry.status, 1);
    assert.equal(jsonLines(noRetry.stdout)[0].class, 'broken');

    const timedOut = await replay(['--url', silent.url, '--private-key', privFile, '--timeout', '0.3', '--format', 'json']);
    assert.equal(timedOut.status, 1);
    const [t] = jsonLines(timedOut.stdout);
    assert.equal(t.class, 'timeout');
    assert.equal(t.attempts, 1);
    assert.equal(silent.seen.length, 1);

    const port = flaky.server.address().port;
    await flaky.close();
    const started = Date.now();
    const none = await replay(['--url', `http://127.0.0.1:${port}/`, '--private-key', privFile, '--retries', '2']);
    assert.equal(none.status, 3);
    assert.match(none.stderr, /^epilot-action: error: can't reach http:\/\/127\.0\.0\.1:\d+\/: can't connect: Connection refused$/m);
    assert.match(none.stdout, /unreachable 1/);
    assert.ok(Date.now() - started >= 300, 'two retries back off 100 + 200 ms');
  } finally {
    await silent.close();
  }
});

test('--concurrency, --repeat, --rate and --duration; the JUnit report', async () => {
  const s = await serve((req, record, res) => answer(res, 200, {}));
  try {
    const junit = path.join(tmpdir(), 'replay.xml');
    const r = await replay(['custom-action', 'order-created', '--url', s.url, '--private-key', privFile, '-c', '4', '-n', '50',
      '--junit', junit, '--expect', 'order-created=500']);
    assert.equal(r.status, 1);
    assert.equal(s.seen.length, 100);
    assert.match(r.stdout, /replayed 100 requests .*4 connections/);
    assert.match(r.stdout, /latency +p50 [\d.]+ m?s +p95 .* max /);
    const xml = fs.readFileSync(junit, 'utf8');
    assert.match(xml, /<testsuite name="epilot-action replay [^"]*" tests="2" failures="1"/);
    assert.match(xml, /<testcase name="custom-action" classname="epilot-action.replay" time="[\d.]+">\s*<system-out>50 requests, expected 2xx: all met/);
    assert.match(xml, /<testcase name="order-created"[^>]*>\s*<failure message="50 of 50 requests, expected 500: not met"/);
    // Only the first 20 unmet requests are listed one by one.
    assert.equal((r.stdout.match(/^FAIL/mg) ?? []).length, 20);
    assert.match(r.stdout, /\.\.\. and 30 more requests/);

    const before = s.seen.length;
    const started = Date.now();
    const rated = await replay(['--url', s.url, '--private-key', privFile, '--rate', '40', '--duration', '0.5', '-q']);
    assert.equal(rated.status, 0, rated.stderr);
    const sent = s.seen.length - before;
    // 20 are due before the deadline; a starved machine may start fewer, never more.
    assert.ok(sent >= 10 && sent <= 20, `40/s for 0.5 s sent ${sent}`);
    assert.ok(Date.now() - started >= 450);
  } finally {
    await s.close();
  }
});

// Run a shell command under script(1), which gives it a pseudo-terminal;
// asynchronously, so that this process's servers keep answering.
function underScript(command) {
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qefc', command, '/dev/null'], {
      env: { ...process.env, XDG_CONFIG_HOME: tmpdir(), XDG_CACHE_HOME: tmpdir() },
    });
    const out = [];
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => out.push(d));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout: Buffer.concat(out) }));
  });
}

function startReplay(args) {
  const child = spawn(BIN, ['replay', ...args], {
    env: { ...process.env, XDG_CONFIG_HOME: tmpdir(), XDG_CACHE_HOME: tmpdir() },
  });
  let stdout = '';
  child.stdout.on('data', (d) => { stdout += d; });
  const exited = new Promise((resolve) => child.on('close', (status, signal) => resolve({ status, signal, stdout })));
  return { child, exited };
}

test('Ctrl-C: the requests in flight finish and are reported with their real answers; nothing new starts', async () => {
  const s = await serve((req, record, res) => setTimeout(() => answer(res, 202, {}), 800));
  try {
    const { child, exited } = startReplay(['--url', s.url, '--private-key', privFile, '-c', '2', '-n', '10', '--timeout', '60']);
    while (s.seen.length < 2) await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGINT');
    const { status, stdout } = await exited;
    assert.equal(status, 1, stdout);
    assert.match(stdout, /replayed 2 requests .*, interrupted/);
    assert.equal((stdout.match(/^ok +202 success/gm) ?? []).length, 2, stdout);
    assert.doesNotMatch(stdout, /timeout|interrupted before/);
    assert.equal(s.seen.length, 2, 'nothing new starts');
  } finally {
    await s.close();
  }
});

test('a second Ctrl-C stops at once, without waiting for the requests in flight', async () => {
  const s = await serve(() => {});  // never answers
  try {
    const { child, exited } = startReplay(['--url', s.url, '--private-key', privFile, '-c', '2', '-n', '10', '--timeout', '60']);
    while (s.seen.length < 2) await new Promise((r) => setTimeout(r, 20));
    const started = Date.now();
    child.kill('SIGINT');
    await new Promise((r) => setTimeout(r, 300));
    child.kill('SIGINT');
    const { signal } = await exited;
    assert.equal(signal, 'SIGINT');
    assert.ok(Date.now() - started < 5000, 'does not wait out the 60 s timeout');
    assert.equal(s.seen.length, 2, 'nothing new starts');
  } finally {
    await s.close();
  }
});

for (const sig of ['SIGINT', 'SIGTERM']) {
  test(`${sig} stops a --duration run promptly, with its summary and exit 1`, async () => {
    const s = await serve((req, record, res) => answer(res, 200, {}));
    try {
      const { child, exited } = startReplay(['--url', s.url, '--private-key', privFile, '--duration', '30s',
        '--format', 'json']);
      while (s.seen.length < 5) await new Promise((r) => setTimeout(r, 20));
      const started = Date.now();
      child.kill(sig);
      const { status, signal, stdout } = await exited;
      assert.ok(Date.now() - started < 3000, 'stops long before the 30 s are up');
      assert.equal(signal, null, 'the first signal asks for a stop; it does not kill');
      assert.equal(status, 1, stdout);
      const summary = JSON.parse(stdout.trim().split('\n').at(-1));
      assert.equal(summary.event, 'summary');
      assert.equal(summary.interrupted, true);
      assert.ok(summary.requests >= 5, stdout);
    } finally {
      await s.close();
    }
  });
}

test('a progress bar on a terminal, none when piped', async () => {
  const s = await serve((req, record, res) => answer(res, 200, {}));
  try {
    const args = ['replay', '--url', s.url, '--private-key', privFile, '--rate', '20', '-n', '20'];
    const piped = await runAsync(args);
    assert.equal(piped.status, 0);
    assert.doesNotMatch(piped.stderr, /\[#/);
    // script(1) gives the command a pseudo-terminal.
    const command = [BIN, ...args].map((a) => `'${a}'`).join(' ');
    const tty = await underScript(command);
    assert.equal(tty.status, 0, tty.stdout.toString());
    assert.match(tty.stdout.toString(), /\r\[#+-*\] \d+\/20 +\d+%/);
    // -q asks for the summary alone: no bar either.
    const quiet = await underScript(`${command} -q`);
    assert.equal(quiet.status, 0);
    assert.doesNotMatch(quiet.stdout.toString(), /\[#/);
  } finally {
    await s.close();
  }
});

test('bad input is exit 2 with a clear message, and nothing is sent', async () => {
  const s = await verifier();
  try {
    const broken = path.join(tmpdir(), 'broken.json');
    fs.writeFileSync(broken, '{"headers": {}, "body": ');
    const cases = [
      [['nosuch-fixture'], /'nosuch-fixture' is neither a file nor a fixture/],
      [['contact-updatd'], /hint: did you mean: contact-updated\?/],
      [['fixture:nosuch'], /no fixture is called 'nosuch'/],
      [[broken], /broken\.json: /],
      [['--url', 'ftp://127.0.0.1:1/'], /unsupported URL scheme 'ftp'/],
      [['--url', 'https://127.0.0.1:1/', '--ca-cert', '/nonexistent.pem'], /can't read the CA certificate/],
      [['-H', 'webhook-signature: v1,x'], /-H can't set webhook-signature/],
      [['custom-action', '--as-is'], /custom-action is a payload or fixture, not a capture: it has no captured signature/],
      [['--mock-token', '--token', 'a.b.c'], /can't be combined/],
      [['--set', 'data'], /--set/],
      [['-c', '0'], /--concurrency must be from 1 to 100000, not '0'/],
      [['--timeout', '10x'], /--timeout must be a duration such as 250ms, 10s or 5m \(a bare number is seconds\), not '10x'/],
      [['--timeout', '0'], /--timeout must be from 1ms to 1h, not '0'/],
      [['-d', '1', '-n', '2'], /--duration and --repeat can't be combined/],
      [['wait-for-callback', '--option', 'x'], /--option/],
      [[path.join(tmpdir(), 'nothing-here-*.json')], /no file matches/],
    ];
    for (const [args, message] of cases) {
      const withUrl = args.includes('--url') ? args : [...args, '--url', s.url];
      const keys = args.includes('--as-is') ? [] : ['--private-key', privFile];
      const r = await replay([...withUrl, ...keys]);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
      checkStderrGrammar(assert, r.stderr);
    }
    const noUrl = await replay(['--private-key', privFile]);
    assert.equal(noUrl.status, 2);
    assert.match(noUrl.stderr, /name the endpoint with --url/);
    assert.equal(s.seen.length, 0);
  } finally {
    await s.close();
  }
});

// --- Issue 10: one meaning per file, and replay as users meet it ---

// A server that answers 200 and, for a request that waits for a callback,
// POSTs the resume_token back after `callbackDelay` ms (as a real action would).
function actionServer({ callbackDelay = 50, status = 200 } = {}) {
  return serve((req, record, res) => {
    record.verdict = independentlyVerified(record);
    answer(res, status, {});
    let data;
    try { data = JSON.parse(record.body).data; } catch { return; }
    if (!data?.callback_post_url) return;
    setTimeout(() => {
      const cb = http.request(data.callback_post_url, { method: 'POST', headers: { 'content-type': 'application/json' } }, (r) => r.resume());
      cb.on('error', () => {});
      cb.end(JSON.stringify({ resume_token: data.resume_token }));
    }, callbackDelay);
  });
}

test('a payload file is sent byte for byte as the body, signed afresh; never an empty body', async () => {
  const s = await actionServer();
  try {
    const dir = tmpdir();
    const payload = path.join(dir, 'mypayload.json');
    const bytes = '{\n  "type": "external_integration",\n  "data": {"n": 1.50, "name": "J\\u00fcrgen"}\n}\n';
    fs.writeFileSync(payload, bytes);
    const text = path.join(dir, 'note.txt');
    fs.writeFileSync(text, 'not JSON at all\n');
    const r = await replay([payload, text, '--url', s.url, '--private-key', privFile]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.equal(s.seen.length, 2);
    assert.equal(s.seen[0].body, bytes, 'the payload, exactly');
    assert.deepEqual(s.seen[0].verdict, { v1a: true, v1: false, fresh: true });
    assert.equal(s.seen[0].headers['content-type'], 'application/json');
    assert.equal(s.seen[1].body, 'not JSON at all\n');
    assert.equal(s.seen[1].headers['content-type'], 'text/plain; charset=utf-8', 'not JSON: not labelled JSON');
    // -H asks for a type: it is sent as asked.
    const asked = await replay([text, '--url', s.url, '--private-key', privFile, '-H', 'content-type: application/json']);
    assert.equal(asked.status, 0);
    assert.equal(s.seen[2].headers['content-type'], 'application/json');
    // The project's own payload fixture by path: a template, its placeholders filled.
    const contact = await replay([fixture('payloads/contact-updated.json'), '--url', s.url, '--private-key', privFile]);
    assert.equal(contact.status, 0, contact.stderr);
    assert.doesNotMatch(s.seen[3].body, /\{\{/);
    assert.match(JSON.parse(s.seen[3].body).data.entity._id, /^[0-9a-f-]{36}$/);
  } finally {
    await s.close();
  }
});

test('the project\'s own folders replay: fixtures/payloads and fixtures/captures', async () => {
  const s = await actionServer();
  try {
    const payloads = await replay([fixture('payloads'), '--url', s.url, '--private-key', privFile, '--callback-timeout', '3', '--format', 'json']);
    assert.equal(payloads.status, 0, payloads.stdout + payloads.stderr);
    const results = jsonLines(payloads.stdout).filter((l) => l.event === 'request');
    assert.equal(results.length, FIXTURE_NAMES.length);
    assert.ok(s.seen.every((x) => x.body.length > 0 && !x.body.includes('{{')));
    const custom = s.seen.find((x) => x.headers['x-api-key']);
    assert.ok(custom, 'custom-headers.request.json is a template with headers');
    assert.equal(JSON.parse(custom.body).type, 'external_integration');

    const before = s.seen.length;
    const captures = await replay([fixture('captures'), '--url', s.url, '--private-key', privFile, '--format', 'json']);
    assert.equal(captures.status, 0, captures.stdout + captures.stderr);
    assert.match(captures.stderr, /README\.md/, 'the README is left out, and said so');
    assert.match(captures.stderr, /empty\.har is left out: the archive holds no requests/);
    const sent = s.seen.slice(before);
    assert.ok(sent.length >= 10, `${sent.length} sent`);
    assert.ok(sent.every((x) => x.verdict.v1a && x.verdict.fresh), 're-signed fresh');
  } finally {
    await s.close();
  }
});

test('user fixtures: by path (replay ./my.json, fixture:./my.json) and from --fixtures DIR or EPILOT_ACTION_FIXTURES', async () => {
  const s = await actionServer();
  try {
    const dir = tmpdir();
    const mine = path.join(dir, 'my.json');
    fs.writeFileSync(mine, '{"id":"{{uuid}}","org":"{{option.org|42}}","greeting":"Hi {{contact.first_name}}"}');
    const folder = path.join(dir, 'fx');
    fs.mkdirSync(folder);
    fs.writeFileSync(path.join(folder, 'team-event.json'), '{"team":"{{option.team|core}}","at":"{{now}}"}');
    fs.writeFileSync(path.join(folder, 'with-key.request.json'),
      JSON.stringify({ description: 'd', headers: { 'x-api-key': '{{option.key|k1}}' }, body: { a: '{{unix}}' } }));
    const a = await replay([mine, `fixture:${mine}`, '--url', s.url, '--private-key', privFile, '--option', 'org=7']);
    assert.equal(a.status, 0, a.stdout + a.stderr);
    for (const seen of s.seen.slice(0, 2)) {
      const body = JSON.parse(seen.body);
      assert.match(body.id, /^[0-9a-f-]{36}$/);
      assert.equal(body.org, '7');
      assert.equal(body.greeting, 'Hi {{contact.first_name}}', 'text that is no placeholder is kept');
    }
    assert.match(a.stderr, /\{\{contact\.first_name\}\} is not a placeholder; it is kept as written/);
    const b = await replay(['team-event', 'with-key.request', '--fixtures', folder, '--url', s.url, '--private-key', privFile]);
    assert.equal(b.status, 0, b.stdout + b.stderr);
    assert.equal(JSON.parse(s.seen[2].body).team, 'core');
    assert.equal(s.seen[3].headers['x-api-key'], 'k1');
    const c = await replay(['fixture:team-event', '--url', s.url, '--private-key', privFile, '--option', 'team=x'],
      { env: { EPILOT_ACTION_FIXTURES: folder } });
    assert.equal(c.status, 0, c.stderr);
    assert.equal(JSON.parse(s.seen[4].body).team, 'x');
  } finally {
    await s.close();
  }
});

test('--expect-repeat: the dedupe recipe fails against an endpoint that does not deduplicate', async () => {
  const naive = await actionServer();
  const listen = await startListenProcess(['--public-key', pubFile]);
  try {
    const recipe = ['--keep-id', '-n', '2', '--expect-repeat', 'skipped,409', '--private-key', privFile, '--format', 'json'];
    const fooled = await replay([...recipe, '--url', naive.url]);
    assert.equal(fooled.status, 1, fooled.stdout);
    const results = jsonLines(fooled.stdout).filter((l) => l.event === 'request');
    assert.deepEqual(results.map((x) => [x.status, x.met, x.repeat ?? false]), [[200, true, false], [200, false, true]]);
    assert.match(results[1].why, /expected skipped,409 for a repeated webhook-id, got 200 success/);
    // listen deduplicates (409 for a webhook-id it has seen): the recipe passes.
    const deduped = await replay([...recipe, '--url', listen.url]);
    assert.equal(deduped.status, 0, deduped.stdout);
    // Without a repeated id the rule could never fail: a usage error.
    const pointless = await replay(['-n', '2', '--expect-repeat', '409', '--url', naive.url, '--private-key', privFile]);
    assert.equal(pointless.status, 2);
    assert.match(pointless.stderr, /--expect-repeat judges requests that repeat a webhook-id, and none of these does/);
    assert.match(pointless.stderr, /hint: .*--keep-id -n 2/);
    const help = run(['replay', '--help']);
    assert.match(help.stdout, /--keep-id -n 2 --expect-repeat skipped,409/);
  } finally {
    await naive.close();
    listen.proc.kill('SIGTERM');
    await listen.exited;
  }
});

test('results print in input order, a callback wait included, and the summary\'s time covers the wait', async () => {
  const s = await actionServer({ callbackDelay: 700 });
  try {
    const r = await replay(['wait-for-callback', 'custom-action', 'order-created', '--url', s.url, '--private-key', privFile,
      '--callback-timeout', '5']);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const names = r.stdout.split('\n').filter((l) => l.startsWith('ok')).map((l) => l.split(/\s+/)[3]);
    assert.deepEqual(names, ['wait-for-callback', 'custom-action', 'order-created']);
    const seconds = Number(r.stdout.match(/in ([0-9.]+) s/)[1]);
    assert.ok(seconds >= 0.6, `the summary says ${seconds} s; the callback came after 0.7 s`);
    const json = await replay(['wait-for-callback', 'custom-action', '--url', s.url, '--private-key', privFile,
      '--callback-timeout', '5', '--format', 'json']);
    assert.deepEqual(jsonLines(json.stdout).filter((l) => l.event === 'request').map((l) => l.index), [0, 1]);
  } finally {
    await s.close();
  }
});

test('captures re-signed while --expect wants them refused: a warning says --as-is', async () => {
  const s = await verifier();
  try {
    const stale = path.join(tmpdir(), 'stale.json');
    run(['sign', '--private-key', privFile, '--timestamp', String(Math.floor(Date.now() / 1000) - 3600), '-o', stale]);
    const r = await replay([stale, '--url', s.url, '--private-key', privFile, '--expect', '4xx']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /--expect wants the captures refused, but replay signs each one afresh/);
    assert.match(r.stderr, /hint: .*add --as-is/);
    const asIs = await replay([stale, '--url', s.url, '--as-is', '--expect', '4xx']);
    assert.equal(asIs.status, 0, asIs.stdout);
    assert.doesNotMatch(asIs.stderr, /--as-is/);
    const fixtureOnly = await replay(['custom-action', '--url', s.url, '--private-key', privFile, '--expect', '4xx']);
    assert.doesNotMatch(fixtureOnly.stderr, /signs each one afresh/, 'only for captures');
  } finally {
    await s.close();
  }
});

test('a capture whose body was logged parsed (an Express log) is sent re-encoded, with a warning', async () => {
  const s = await actionServer();
  try {
    const logged = JSON.parse(fs.readFileSync(fixture('captures/express-log.json'), 'utf8'));
    const r = await replay([fixture('captures/express-log.json'), '--url', s.url, '--private-key', privFile]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stderr, /express-log\.json: a body was logged parsed .* sent re-encoded compactly/);
    assert.equal(s.seen[0].body, JSON.stringify(logged.body));
    assert.ok(s.seen[0].verdict.v1a && s.seen[0].verdict.fresh);
    const signed = run(['sign', fixture('captures/express-log.json'), '--private-key', privFile]);
    assert.equal(signed.status, 0, signed.stderr);
    assert.match(signed.stderr, /the body was logged parsed/);
    assert.equal(JSON.parse(signed.stdout).body, JSON.stringify(logged.body));
  } finally {
    await s.close();
  }
});

test('a capture whose body was logged under another name is not sent empty without a word', async () => {
  const s = await actionServer();
  try {
    const log = path.join(tmpdir(), 'log.json');
    fs.writeFileSync(log, JSON.stringify({ headers: { 'content-type': 'application/json', 'content-length': '15' },
      payload: { type: 'x', n: 1 } }));
    const r = await replay([log, '--url', s.url, '--private-key', privFile]);
    assert.match(r.stderr, /content-length is 15 but the capture holds no body .*it is sent empty/);
  } finally {
    await s.close();
  }
});

test('a JSON array of captures (jq -s over a log) is captures: replay sends each, verify checks each', async () => {
  const s = await actionServer();
  try {
    const one = JSON.parse(run(['sign', '--private-key', privFile, '--compact']).stdout);
    const two = JSON.parse(run(['sign', '--private-key', privFile, '--compact', '--fixture', 'order-created']).stdout);
    const file = path.join(tmpdir(), 'log.json');
    fs.writeFileSync(file, JSON.stringify([one, two], null, 2));
    const r = await replay([file, '--url', s.url, '--private-key', privFile]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.deepEqual(s.seen.map((x) => x.body), [one.body, two.body]);
    const v = run(['verify', file, '--public-key', pubFile]);
    assert.equal(v.status, 0, v.stdout + v.stderr);
    assert.match(v.stdout, /2 requests: 2 verified/);
  } finally {
    await s.close();
  }
});

// --- Found by a newcomer's try of issue 10 ---

test('templates may put placeholders where a JSON value goes; signing headers in a template are refused', async () => {
  const s = await actionServer();
  try {
    const dir = tmpdir();
    const numeric = path.join(dir, 'numeric.json');
    fs.writeFileSync(numeric, '{"id":"{{uuid}}","at":{{unix}},"n":{{option.n|3}}}');
    const r = await replay([numeric, `fixture:${numeric}`, '--url', s.url, '--private-key', privFile]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    for (const seen of s.seen) {
      const body = JSON.parse(seen.body);
      assert.equal(typeof body.at, 'number');
      assert.equal(body.n, 3);
      assert.equal(seen.headers['content-type'], 'application/json');
    }
    const signed = run(['sign', numeric, '--private-key', privFile]);
    assert.equal(signed.status, 0, signed.stderr);
    assert.equal(signed.stderr, '', 'no "signed byte for byte" warning: it is a template');
    assert.equal(typeof JSON.parse(JSON.parse(signed.stdout).body).at, 'number');
    const evil = path.join(dir, 'evil.request.json');
    fs.writeFileSync(evil, JSON.stringify({ headers: { 'Webhook-Signature': 'v1,AAAA' }, body: { a: 1 } }));
    for (const args of [['sign', '--fixture', evil, '--private-key', privFile], ['replay', evil, '--url', s.url, '--private-key', privFile]]) {
      const e = await runAsync(args);
      assert.equal(e.status, 2, `${args[0]}: ${e.stdout}${e.stderr}`);
      assert.match(e.stderr, /sets Webhook-Signature, which the signer computes/);
    }
  } finally {
    await s.close();
  }
});

test('a user fixture that is cut-short JSON, a capture or JSON Lines is refused by name, as by path', async () => {
  const dir = tmpdir();
  fs.writeFileSync(path.join(dir, 'broken.json'), '{"broken":');
  fs.writeFileSync(path.join(dir, 'cap.json'), fs.readFileSync(fixture('captures/tv-h1.json')));
  fs.writeFileSync(path.join(dir, 'described.request.json'), JSON.stringify({ description: 'my described request', headers: {}, body: {} }));
  const env = { EPILOT_ACTION_FIXTURES: dir };
  const broken = await replay(['broken', '--url', 'http://127.0.0.1:9/', '--private-key', privFile], { env });
  assert.equal(broken.status, 2);
  assert.match(broken.stderr, /broken\.json: it starts as JSON but is not/);
  const cap = run(['sign', '--fixture', 'cap', '--private-key', privFile], { env });
  assert.equal(cap.status, 2);
  assert.match(cap.stderr, /cap\.json is a capture, not a fixture/);
  // NAME finds NAME.request, and the list shows its description.
  const listed = run(['fixtures'], { env });
  assert.match(listed.stdout, /described\.request +my described request/);
  assert.equal(run(['sign', '--fixture', 'described', '--private-key', privFile], { env }).status, 0);
  // A stale variable does not stop a run that needs none of its fixtures; it is said.
  const stale = run(['sign', '--private-key', privFile], { env: { EPILOT_ACTION_FIXTURES: path.join(dir, 'gone') } });
  assert.equal(stale.status, 0, stale.stderr);
  assert.match(stale.stderr, /warning: EPILOT_ACTION_FIXTURES: can't read the fixtures folder .*only the built-in fixtures are used/);
  const flag = run(['sign', '--private-key', privFile, '--fixtures', path.join(dir, 'gone')]);
  assert.equal(flag.status, 2);
});

test('svix-* headers of a capture are not forwarded beside fresh webhook-* ones; a Lambda event is sent decoded', async () => {
  const s = await actionServer();
  try {
    const r = await replay([fixture('captures/svix-headers.json'), fixture('captures/lambda-event.json'), '--url', s.url,
      '--private-key', privFile]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.equal(s.seen[0].headers['svix-signature'], undefined);
    assert.equal(s.seen[0].headers['svix-id'], undefined);
    assert.ok(s.seen[0].verdict.v1a);
    assert.equal(s.seen[1].body, '{"test": 2432232314}');
    assert.match(r.stderr, /lambda-event\.json: its body is base64 \("isBase64Encoded": true\); the decoded bytes are sent/);
    const signed = JSON.parse(run(['sign', fixture('captures/svix-headers.json'), '--private-key', privFile]).stdout);
    assert.equal(Object.keys(signed.headers).filter((h) => h.toLowerCase().startsWith('svix-')).length, 0);
  } finally {
    await s.close();
  }
});

test('JSON Lines of payloads send a request a line; deep but valid JSON is a payload; stdin\'s newline is pointed out', async () => {
  const s = await actionServer();
  try {
    const dir = tmpdir();
    const two = path.join(dir, 'two.jsonl');
    fs.writeFileSync(two, '{"a":1}\n\n{"b":2}\n');
    const deep = path.join(dir, 'deep.json');
    fs.writeFileSync(deep, '['.repeat(5000) + ']'.repeat(5000));
    const r = await replay([two, deep, '--url', s.url, '--private-key', privFile]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.deepEqual(s.seen.map((x) => x.body), ['{"a":1}', '{"b":2}', '['.repeat(5000) + ']'.repeat(5000)]);
    assert.match(r.stdout, /two\.jsonl#1/);
    assert.match(r.stdout, /two\.jsonl#3/);
    const piped = await replay(['-', '--url', s.url, '--private-key', privFile], { input: '{"a":1}\n' });
    assert.equal(piped.status, 0);
    assert.match(piped.stderr, /the payload on stdin ends with a newline, which is sent as part of the body/);
    const sign = run(['sign', two, '--private-key', privFile]);
    assert.equal(sign.status, 2);
    assert.match(sign.stderr, /holds JSON Lines, a payload a line; sign takes one payload/);
  } finally {
    await s.close();
  }
});

test('a folder\'s symlinks, subfolders and other files are left out, and said so', async () => {
  const s = await actionServer();
  try {
    const dir = tmpdir();
    const secret = path.join(tmpdir(), 'secret.json');
    fs.writeFileSync(secret, '{"secret":"do not send"}');
    fs.symlinkSync(secret, path.join(dir, 'link.json'));
    fs.mkdirSync(path.join(dir, 'sub.json'));
    fs.writeFileSync(path.join(dir, 'real.json'), '{"real":true}');
    const r = await replay([dir, '--url', s.url, '--private-key', privFile]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.deepEqual(s.seen.map((x) => x.body), ['{"real":true}']);
    assert.match(r.stderr, /2 files are left out .*no symlink/);
  } finally {
    await s.close();
  }
});

test('the --as-is warning covers per-input and 4xx,5xx expectations; --expect-repeat errors name the flag once', async () => {
  const s = await verifier();
  try {
    const stale = path.join(tmpdir(), 'stale.json');
    run(['sign', '--private-key', privFile, '--timestamp', '1600000000', '-o', stale]);
    for (const expect of ['stale.json=401', '4xx,5xx', 'failed,other']) {
      const r = await replay([stale, '--url', s.url, '--private-key', privFile, '--expect', expect]);
      assert.match(r.stderr, /signs each one afresh/, expect);
    }
    const bogus = await replay(['--url', s.url, '--private-key', privFile, '--keep-id', '-n', '2', '--expect-repeat', 'bogus']);
    assert.equal(bogus.status, 2);
    assert.match(bogus.stderr, /error: --expect-repeat 'bogus': 'bogus' is not a status/);
    assert.doesNotMatch(bogus.stderr, /--expect '/);
  } finally {
    await s.close();
  }
});
