// listen against real clients: Node's http sends genuine requests signed by
// Node's crypto, forged, stale, duplicated, oversized, malformed, chunked and
// concurrent ones; captures on disk must equal what was sent.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import http from 'node:http';
import crypto from 'node:crypto';
import net from 'node:net';
import { spawn } from 'node:child_process';
import { BIN, tmpdir, run, runAsync, startListenProcess } from './helpers.mjs';

const { privateKey, publicKey } = crypto.generateKeyPairSync('ed25519');
const pubFile = path.join(tmpdir(), 'pub.pem');
fs.writeFileSync(pubFile, publicKey.export({ type: 'spki', format: 'pem' }));
const privFile = path.join(tmpdir(), 'priv.pem');
fs.writeFileSync(privFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });

function startListen(args) {
  return startListenProcess(['--public-key', pubFile, ...args]);
}

function signed(body = JSON.stringify({ type: 'external_integration', data: { org_id: '739224', n: crypto.randomUUID() } }),
  { ts = Math.floor(Date.now() / 1000), id = 'msg_' + crypto.randomBytes(16).toString('hex'), key = privateKey } = {}) {
  const sig = crypto.sign(null, Buffer.from(`${id}.${ts}.${body}`), key).toString('base64');
  return { id, body, headers: { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': `v1a,${sig}` } };
}

function send(url, { body, headers }, { chunked = false, agent } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers, agent }, (res) => {
      let data = '';
      res.on('data', (d) => { data += d; });
      res.on('end', () => resolve({ status: res.statusCode, body: data }));
    });
    req.on('error', reject);
    if (chunked) {
      const bytes = Buffer.from(body);
      req.write(bytes.subarray(0, 7));
      setTimeout(() => { req.write(bytes.subarray(7)); req.end(); }, 20);
    } else {
      req.end(body);
    }
  });
}

function captures(file) {
  return fs.readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

test('genuine, forged, stale, duplicated, malformed, oversized and chunked requests', async () => {
  const out = path.join(tmpdir(), 'caps.jsonl');
  const l = await startListen(['--out', out, '--max-body', '4096']);
  try {
    const genuine = signed();
    assert.deepEqual(await send(l.url, genuine), { status: 200, body: '{}' });
    const dup = await send(l.url, genuine);
    assert.equal(dup.status, 409);
    assert.equal(JSON.parse(dup.body).error, 'duplicate');

    const forged = signed();
    forged.body = forged.body.replace('739224', '739225');
    const f = await send(l.url, forged);
    assert.equal(f.status, 401);
    assert.equal(JSON.parse(f.body).verdict, 'signature_mismatch');

    const stale = await send(l.url, signed(undefined, { ts: Math.floor(Date.now() / 1000) - 3600 }));
    assert.equal(stale.status, 401);
    assert.equal(JSON.parse(stale.body).reasons[0].code, 'timestamp_too_old');

    const bare = await send(l.url, { body: '{}', headers: { 'content-type': 'application/json' } });
    assert.equal(bare.status, 401);
    assert.equal(JSON.parse(bare.body).verdict, 'missing_header');

    const big = signed('x'.repeat(5000));
    assert.equal((await send(l.url, big)).status, 413);

    const chunked = signed(JSON.stringify({ type: 'external_integration', data: { note: 'Köln 🚀' } }));
    assert.equal((await send(l.url, chunked, { chunked: true })).status, 200);

    // A forged request must not make the genuine id look replayed: the forged one reused no id.
    const records = captures(out);
    assert.deepEqual(records.map((r) => r.status), [200, 409, 401, 401, 401, 200]);
    assert.equal(records[0].body, genuine.body);
    assert.equal(records[0].verdict, 'valid');
    assert.equal(records[5].body, chunked.body);
    for (const [name, value] of Object.entries(chunked.headers)) {
      const header = Object.entries(records[5].headers).find(([n]) => n.toLowerCase() === name);
      assert.equal(header[1], value, name);
    }
    // Each capture verifies again with verify, byte for byte.
    const again = path.join(tmpdir(), 'again.json');
    fs.writeFileSync(again, JSON.stringify(records[5]));
    assert.equal(run(['verify', again, '--public-key', pubFile]).status, 0);
    // The events name the same outcomes, the refused 413 included, each with its method and path.
    const events = l.events.filter((e) => e.event === 'request');
    assert.deepEqual(events.map((e) => e.status), [200, 409, 401, 401, 401, 413, 200]);
    assert.deepEqual(events[5], { event: 'request', method: 'POST', path: '/', webhook_id: null, verdict: 'refused',
      duplicate: false, status: 413, reasons: [{ code: 'too_large', message: 'the body exceeds 4096 bytes' }] });
    for (const e of events) assert.equal(e.method, 'POST');
  } finally {
    l.proc.kill('SIGTERM');
  }
  // A signal ends it cleanly, but requests failed verification: exit 1, for CI.
  const end = await l.exited;
  assert.equal(end.status, 1, end.stderr);
  assert.match(end.stderr, /listen stopped \(SIGTERM\)/);
  assert.match(end.stderr, /listen stopped \(.*\); FAIL: 4 of 7 requests did not verify or were refused/);
  const stopped = l.events.at(-1);
  assert.deepEqual(stopped, { event: 'summary', reason: 'SIGTERM', requests: 7, failed: 4 });
});

test('many concurrent requests are all answered and all captured', async () => {
  const out = path.join(tmpdir(), 'caps.jsonl');
  const l = await startListen(['--out', out, '--allow-duplicates']);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
  try {
    const requests = Array.from({ length: 200 }, () => signed());
    const answers = await Promise.all(requests.map((r) => send(l.url, r, { agent })));
    assert.ok(answers.every((a) => a.status === 200), JSON.stringify(answers.filter((a) => a.status !== 200)[0]));
    const records = captures(out);
    assert.equal(records.length, 200);
    const byId = new Map(records.map((r) => [r.headers['webhook-id'], r]));
    for (const r of requests) assert.equal(byId.get(r.id).body, r.body);
  } finally {
    agent.destroy();
    l.proc.kill('SIGINT');
  }
  assert.equal((await l.exited).status, 0);
});

for (const sig of ['SIGINT', 'SIGTERM']) {
  test(`${sig} stops listen promptly, with its summary and exit 0 when nothing failed`, async () => {
    const l = await startListen(['--duration', '30s']);
    assert.equal((await send(l.url, signed())).status, 200);
    const started = Date.now();
    l.proc.kill(sig);
    const end = await l.exited;
    assert.ok(Date.now() - started < 3000, 'stops long before the 30 s are up');
    assert.equal(end.signal, null);
    assert.equal(end.status, 0, end.stderr);
    assert.match(end.stderr, new RegExp(`listen stopped \\(${sig}\\)\n$`));
    assert.deepEqual(l.events.at(-1), { event: 'summary', reason: sig, requests: 1, failed: 0 });
  });
}

test('SIGTERM in the middle of a burst loses nothing that was answered 2xx', async () => {
  const out = path.join(tmpdir(), 'caps.jsonl');
  const l = await startListen(['--out', out]);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  const ok = [];
  let sent = 0;
  let stopped = false;
  // Bounded: a listen that never answers 2xx fails this test in seconds
  // (the assertion below) instead of keeping it busy until ctest's limit.
  const worker = async () => {
    while ((!stopped || sent < 40) && sent < 400) {
      const r = signed();
      sent++;
      try {
        const a = await send(l.url, r, { agent });
        if (a.status >= 200 && a.status < 300) ok.push(r.id);
      } catch {
        return;  // the server is gone
      }
      if (ok.length === 30 && !stopped) {
        stopped = true;
        l.proc.kill('SIGTERM');
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  agent.destroy();
  const end = await l.exited;
  assert.equal(end.status, 0, end.stderr);
  assert.match(end.stderr, /listen stopped \(SIGTERM\)/);
  const kept = new Set(captures(out).map((r) => r.headers['webhook-id']));
  assert.ok(ok.length >= 30);
  for (const id of ok) assert.ok(kept.has(id), `answered 2xx but not captured: ${id}`);
});

test('answer shapes: skip, fail, a custom status and body, a delay', async () => {
  const skip = await startListen(['--skip-reason', 'customer has no contract', '--max-requests', '1']);
  const s = await send(skip.url, signed());
  assert.deepEqual({ status: s.status, body: JSON.parse(s.body) }, { status: 200, body: { skip_reason: 'customer has no contract' } });
  assert.equal((await skip.exited).status, 0, 'exits after --max-requests');

  const failing = await startListen(['--fail-reason', 'credit check failed', '--max-requests', '1']);
  const f = await send(failing.url, signed());
  assert.equal(f.status, 422);
  assert.equal(JSON.parse(f.body).error_output.error_reason, 'credit check failed');
  await failing.exited;

  const bodyFile = path.join(tmpdir(), 'answer.json');
  fs.writeFileSync(bodyFile, '{"accepted": true}');
  const custom = await startListen(['--respond', '202', '--respond-body', bodyFile, '--delay', '300', '--max-requests', '1']);
  const started = Date.now();
  const c = await send(custom.url, signed());
  assert.ok(Date.now() - started >= 300, 'answered after the delay');
  assert.deepEqual(c, { status: 202, body: '{"accepted": true}' });
  await custom.exited;
});

test('--duration, --path and --out-dir', async () => {
  const dir = path.join(tmpdir(), 'caps');
  const l = await startListen(['--path', '/hook', '--out-dir', dir, '--duration', '2s']);
  const url = new URL(l.url);
  assert.equal(url.pathname, '/hook');
  assert.equal((await send(new URL('/other', url).href, signed())).status, 404);
  const r = signed();
  assert.equal((await send(l.url, r)).status, 200);
  // HTTP/1.0 without a Host header: the path still comes from the request line.
  const bare = signed();
  const head = Object.entries(bare.headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  const answer = await raw(url.port, `POST /hook HTTP/1.0\r\n${head}Content-Length: ${Buffer.byteLength(bare.body)}\r\n\r\n${bare.body}`);
  assert.match(answer, /^HTTP\/1\.1 200 OK/);
  const end = await l.exited;
  // --duration with no --max-requests is the expected end; the 404 is a failed request.
  assert.equal(end.status, 1);
  assert.match(end.stderr, /stopped \(duration\)/);
  assert.match(end.stderr, /1 of 3 requests did not verify or were refused/);
  const notFound = l.events.find((e) => e.status === 404);
  assert.equal(notFound.path, '/other');
  assert.equal(notFound.verdict, 'refused');
  assert.deepEqual(notFound.reasons.map((r) => r.code), ['not_found']);
  const files = fs.readdirSync(dir).sort();
  assert.equal(files.length, 2);
  assert.match(files[0], new RegExp(`^000001-${r.id}\\.json$`));
  assert.equal(run(['verify', path.join(dir, files[0]), '--public-key', pubFile, '--no-timestamp-check']).status, 0);
});

test('listen refuses a port in use, an address not its own and bad flags with exit 2, each with its own hint', async () => {
  const l = await startListen([]);
  try {
    const port = new URL(l.url).port;
    const r = run(['listen', '--port', port, '--public-key', pubFile]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /cannot listen on 127\.0\.0\.1:\d+: Address already in use/);
    assert.match(r.stderr, new RegExp(`hint: another program is listening on port ${port}; --port 0 picks a free one`));
    assert.equal(run(['listen', '--skip-reason', 'a', '--fail-reason', 'b', '--public-key', pubFile]).status, 2);
    assert.match(run(['listen', '--skip', 'a', '--public-key', pubFile]).stderr, /--skip is now --skip-reason for listen/);
    // An address that is not this machine's is not a port problem (192.0.2.1 is TEST-NET-1).
    const far = run(['listen', '--host', '192.0.2.1', '--port', '0', '--public-key', pubFile]);
    assert.equal(far.status, 2);
    assert.match(far.stderr, /cannot listen on 192\.0\.2\.1:0: Cannot assign requested address/);
    assert.match(far.stderr, /hint: 192\.0\.2\.1 is not an address of this machine: --host 127\.0\.0\.1 .*--host 0\.0\.0\.0/);
    assert.doesNotMatch(far.stderr, /another program|--port 0/);
  } finally {
    l.proc.kill('SIGTERM');
  }
  await l.exited;
});

test('idle, slow and broken clients cannot stall it for long', async () => {
  const l = await startListen(['--allow-duplicates']);
  const { port } = new URL(l.url);
  const sockets = [];
  try {
    // 100 connections that never send a byte, and 20 that stop halfway through their headers.
    for (let i = 0; i < 100; i++) sockets.push(net.connect(Number(port), '127.0.0.1'));
    for (let i = 0; i < 20; i++) {
      const s = net.connect(Number(port), '127.0.0.1', () => s.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Len'));
      sockets.push(s);
    }
    for (const s of sockets) s.on('error', () => {});
    const started = Date.now();
    const a = await send(l.url, signed());
    assert.equal(a.status, 200);
    // Bounded by the 5 s read timeout that frees a stalled connection's thread.
    assert.ok(Date.now() - started < 8000, `answered after ${Date.now() - started} ms`);
    // A client that sends a body shorter than its Content-Length is dropped, and the server goes on.
    const broken = net.connect(Number(port), '127.0.0.1', () => {
      broken.end('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{}');
    });
    broken.on('error', () => {});
    assert.equal((await send(l.url, signed())).status, 200);
  } finally {
    for (const s of sockets) s.destroy();
    l.proc.kill('SIGTERM');
  }
  assert.equal((await l.exited).status, 0);
});

// Raw bytes over one connection: what Node's http client would never send.
function raw(port, bytes, { wait = 1500 } = {}) {
  return new Promise((resolve) => {
    const s = net.connect(Number(port), '127.0.0.1', () => s.write(bytes));
    let data = '';
    s.on('data', (d) => { data += d; });
    s.on('error', () => {});
    s.on('close', () => resolve(data));
    setTimeout(() => { s.destroy(); resolve(data); }, wait);
  });
}

test('pipelining, 100-continue, HTTP/1.0, oversized heads and garbage', async () => {
  const l = await startListen(['--allow-duplicates']);
  const { port } = new URL(l.url);
  try {
    const a = signed();
    const b = signed();
    const http11 = (r, extra = '') => `POST / HTTP/1.1\r\nHost: x\r\n${Object.entries(r.headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}Content-Length: ${Buffer.byteLength(r.body)}\r\n${extra}\r\n${r.body}`;
    // Two requests in one write, answered in order on the same connection.
    const two = await raw(port, http11(a) + http11(b, 'Connection: close\r\n'));
    assert.equal((two.match(/HTTP\/1\.1 200 OK/g) ?? []).length, 2, two);
    // 100-continue: the head first, the body only after the interim answer.
    const c = signed();
    const head = http11(c, 'Expect: 100-continue\r\nConnection: close\r\n').split('\r\n\r\n')[0] + '\r\n\r\n';
    const answer = await new Promise((resolve) => {
      const s = net.connect(Number(port), '127.0.0.1', () => s.write(head));
      let data = '';
      s.on('data', (d) => {
        data += d;
        if (data.includes('100 Continue') && !s.sentBody) { s.sentBody = true; s.write(c.body); }
      });
      s.on('close', () => resolve(data));
    });
    assert.match(answer, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK/);
    // HTTP/1.0 closes after the answer.
    const old = await raw(port, http11(signed()).replace('HTTP/1.1', 'HTTP/1.0').replace('Host: x\r\n', ''));
    assert.match(old, /^HTTP\/1\.1 200 OK[\s\S]*Connection: close/);
    // A head larger than 64 KiB, and a request line that is not HTTP.
    assert.match(await raw(port, 'POST / HTTP/1.1\r\nX-Big: ' + 'a'.repeat(70000) + '\r\n'), /^HTTP\/1\.1 431 /);
    assert.match(await raw(port, 'hello there\r\n\r\n'), /^HTTP\/1\.1 400 Bad Request/);
    // And it still serves.
    assert.equal((await send(l.url, signed())).status, 200);
    // The refused ones were logged: what could be read of them, escaped.
    const refused = l.events.filter((e) => e.verdict === 'refused');
    assert.deepEqual(refused.map((e) => [e.status, e.method, e.path]), [[431, 'POST', '/'], [400, null, null]]);
    assert.equal(refused[1].request_line, 'hello there');
  } finally {
    l.proc.kill('SIGTERM');
  }
  assert.equal((await l.exited).status, 1, 'two requests were refused');
});

test('every request gets a line with its method and path, refused ones too, and counts toward --max-requests', async () => {
  const proc = spawn(BIN, ['listen', '--port', '0', '--public-key', pubFile, '--path', '/hook', '--max-body', '200',
    '--max-requests', '5'], { env: { ...process.env, XDG_CONFIG_HOME: tmpdir(), XDG_CACHE_HOME: tmpdir() } });
  let stdout = '';
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr += d; });
  const ready = new Promise((resolve) => proc.stdout.on('data', (d) => {
    stdout += d;
    if (stdout.includes('\n')) resolve(stdout.split('\n')[0]);
  }));
  const exited = new Promise((resolve) => proc.on('close', resolve));
  const url = new URL((await ready).replace('listening on ', ''));
  const at = (p) => new URL(p, url).href;
  assert.equal((await send(at('/other?token=hunter2'), signed())).status, 404);
  assert.equal((await send(url.href, signed('x'.repeat(300)))).status, 413);
  assert.match(await raw(url.port, 'G\x01T /\x1b[2J HTTP/1.1\r\n\r\n'), /^HTTP\/1\.1 400 /);
  const forged = signed();
  forged.headers['webhook-signature'] = signed().headers['webhook-signature'];
  assert.equal((await send(url.href, forged)).status, 401);
  assert.equal((await send(url.href, signed())).status, 200);
  // The fifth request ended it: the refused ones counted.
  const status = await exited;
  const lines = stdout.trim().split('\n').slice(1);
  assert.equal(lines.length, 5, stdout);
  assert.match(lines[0], /^404 +REFUSED +POST \/other +- +not_found: listen answers \/hook only$/);
  assert.doesNotMatch(stdout, /hunter2/, 'the query is not shown');
  assert.match(lines[1], /^413 +REFUSED +POST \/hook +- +too_large: /);
  assert.match(lines[2], /^400 +REFUSED +"G\\x01T \/\\x1b\[2J HTTP\/1\.1" +- +bad_request: /);
  assert.doesNotMatch(stdout, /\x1b/, 'no escape byte reaches the terminal');
  assert.match(lines[3], /^401 +FAIL +POST \/hook +msg_\w+ +signature_mismatch/);
  assert.match(lines[4], /^200 +ok +POST \/hook +msg_\w+ +v1a verified with /);
  assert.equal(status, 1, stderr);
  assert.match(stderr, /listen stopped \(max-requests\)/);
  assert.match(stderr, /; FAIL: 4 of 5 requests did not verify or were refused/);
});

test('a method other than POST is 405 with Allow: POST, and a refused request like any other', async () => {
  const l = await startListen(['--max-requests', '2']);
  const get = await new Promise((resolve, reject) => {
    const signedGet = signed('');
    http.request(l.url, { method: 'GET', headers: signedGet.headers }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode, allow: res.headers.allow }));
    }).on('error', reject).end();
  });
  assert.deepEqual(get, { status: 405, allow: 'POST' });
  assert.equal((await send(l.url, signed())).status, 200);
  const { status } = await l.exited;
  assert.equal(status, 1, 'a refused request fails the run');
  const refused = l.events.find((e) => e.status === 405);
  assert.equal(refused.method, 'GET');
  assert.equal(refused.verdict, 'refused');
});

test('exit status for CI: 0 when every request verified, 1 when --duration came before --max-requests', async () => {
  const enough = await startListen(['--max-requests', '2']);
  assert.equal((await send(enough.url, signed())).status, 200);
  assert.equal((await send(enough.url, signed())).status, 200);
  assert.equal((await enough.exited).status, 0);

  const short = await startListen(['--max-requests', '3', '--duration', '1']);
  assert.equal((await send(short.url, signed())).status, 200);
  const end = await short.exited;
  assert.equal(end.status, 1, end.stderr);
  assert.match(end.stderr, /listen stopped \(duration\)/);
  assert.match(end.stderr, /listen stopped \(duration\); FAIL: --duration came after 1 of the 3 requests of --max-requests/);

  const quiet = await startListen(['--duration', '1000ms']);
  assert.equal((await quiet.exited).status, 0, 'no --max-requests: the timeout is the expected end');

  const signalled = await startListen([]);
  assert.equal((await send(signalled.url, signed())).status, 200);
  signalled.proc.kill('SIGINT');
  assert.equal((await signalled.exited).status, 0, 'a signal with nothing failed is success');
});

// A server that counts what reaches it: the callback target, and where it redirects to.
function counter(answer) {
  const hits = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      hits.push({ method: req.method, url: req.url, type: req.headers['content-type'], body });
      answer(res);
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
    hits,
    url: `http://127.0.0.1:${server.address().port}`,
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }),
  })));
}

const waiting = (callbackUrl, token = 'rt_' + crypto.randomUUID()) => JSON.stringify({ type: 'external_integration',
  data: { org_id: '739224', action_config: { wait_for_callback: true }, resume_token: token, callback_post_url: callbackUrl } });

test('wait_for_callback: listen POSTs the resume_token after answering, so replay wait-for-callback passes', async () => {
  const l = await startListen([]);
  let r;
  try {
    r = await runAsync(['replay', 'wait-for-callback', '--url', l.url, '--private-key', privFile,
      '--callback-timeout', '10', '--format', 'json']);
  } finally {
    l.proc.kill('SIGTERM');
  }
  const end = await l.exited;
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const result = r.stdout.trim().split('\n').map((x) => JSON.parse(x)).find((x) => x.event === 'request');
  assert.equal(result.callback.state, 'received');
  assert.equal(end.status, 0, end.stderr);
  const request = l.events.find((e) => e.event === 'request');
  const callback = l.events.find((e) => e.event === 'callback');
  assert.equal(callback.webhook_id, request.webhook_id);
  assert.equal(callback.ok, true);
  assert.equal(callback.status, 200);
  assert.match(callback.url, /^http:\/\/127\.0\.0\.1:\d+\/v1\/automation\/public\/executions:resume$/);
  assert.doesNotMatch(JSON.stringify(l.events), /rt_/, 'the resume token is never shown');
});

test('a forged, duplicate, skipped or --no-callback request sends nothing; a redirect is not followed', async () => {
  const elsewhere = await counter((res) => { res.writeHead(200); res.end('{}'); });
  const target = await counter((res) => { res.writeHead(302, { location: `${elsewhere.url}/stolen` }); res.end(); });
  const callbackUrl = `${target.url}/v1/automation/public/executions:resume`;
  try {
    // --accept-unsigned answers a forged request 200 like a genuine one: it still must not call back.
    const l = await startListen(['--accept-unsigned']);
    const forged = signed(waiting(callbackUrl));
    forged.body = forged.body.replace('739224', '666');
    assert.equal((await send(l.url, forged)).status, 200);
    const stranger = signed(waiting(callbackUrl), { key: crypto.generateKeyPairSync('ed25519').privateKey });
    assert.equal((await send(l.url, stranger)).status, 200);
    const genuine = signed(waiting(callbackUrl, 'rt_genuine'));
    assert.equal((await send(l.url, genuine)).status, 200);
    assert.equal((await send(l.url, genuine)).status, 409, 'a replay of it');
    l.proc.kill('SIGTERM');
    const end = await l.exited;  // pending callbacks are sent before it exits
    assert.equal(end.status, 1, 'two requests did not verify');
    assert.deepEqual(target.hits, [{ method: 'POST', url: '/v1/automation/public/executions:resume',
      type: 'application/json', body: '{"resume_token":"rt_genuine"}' }]);
    assert.equal(elsewhere.hits.length, 0, 'the redirect was not followed');
    const callbacks = l.events.filter((e) => e.event === 'callback');
    assert.equal(callbacks.length, 1);
    assert.equal(callbacks[0].webhook_id, genuine.id);
    assert.equal(callbacks[0].status, 302);
    assert.equal(callbacks[0].ok, false);

    for (const flags of [['--skip-reason', 'not today'], ['--fail-reason', 'no'], ['--no-callback']]) {
      const quiet = await startListen(flags);
      await send(quiet.url, signed(waiting(callbackUrl)));
      quiet.proc.kill('SIGTERM');
      await quiet.exited;
      assert.equal(quiet.events.filter((e) => e.event === 'callback').length, 0, flags.join(' '));
    }
    assert.equal(target.hits.length, 1, 'still only the genuine one');
  } finally {
    await target.close();
    await elsewhere.close();
  }
});

test('a callback that cannot be delivered is reported, without the URL\'s query, and does not change the exit status', async () => {
  const gone = await counter((res) => res.end());
  await gone.close();  // nothing listens there any more
  const l = await startListen([]);
  const request = signed(waiting(`${gone.url}/resume?key=hunter2`));
  assert.equal((await send(l.url, request)).status, 200);
  l.proc.kill('SIGTERM');
  const end = await l.exited;
  assert.equal(end.status, 0, end.stderr);
  const callback = l.events.find((e) => e.event === 'callback');
  assert.equal(callback.webhook_id, request.id);
  assert.equal(callback.ok, false);
  assert.equal(callback.status, null);
  assert.equal(callback.url, `${gone.url}/resume`);
  assert.match(callback.error, /Connection refused/);
  assert.doesNotMatch(JSON.stringify(l.events) + end.stderr, /hunter2/);
});
