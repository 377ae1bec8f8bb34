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
import { tmpdir, run, startListenProcess } from './helpers.mjs';

const { privateKey, publicKey } = crypto.generateKeyPairSync('ed25519');
const pubFile = path.join(tmpdir(), 'pub.pem');
fs.writeFileSync(pubFile, publicKey.export({ type: 'spki', format: 'pem' }));

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
    // The events name the same outcomes.
    assert.deepEqual(l.events.filter((e) => e.event === 'request').map((e) => e.status), [200, 409, 401, 401, 401, 200]);
  } finally {
    l.proc.kill('SIGTERM');
  }
  const end = await l.exited;
  assert.equal(end.status, 0, end.stderr);
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
  const skip = await startListen(['--skip', 'customer has no contract', '--max-requests', '1']);
  const s = await send(skip.url, signed());
  assert.deepEqual({ status: s.status, body: JSON.parse(s.body) }, { status: 200, body: { skip_reason: 'customer has no contract' } });
  assert.equal((await skip.exited).status, 0, 'exits after --max-requests');

  const failing = await startListen(['--fail', 'credit check failed', '--max-requests', '1']);
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

test('--timeout, --path and --out-dir', async () => {
  const dir = path.join(tmpdir(), 'caps');
  const l = await startListen(['--path', '/hook', '--out-dir', dir, '--timeout', '2']);
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
  assert.equal(end.status, 0);
  assert.match(end.stderr, /stopped \(timeout\)/);
  const files = fs.readdirSync(dir).sort();
  assert.equal(files.length, 2);
  assert.match(files[0], new RegExp(`^000001-${r.id}\\.json$`));
  assert.equal(run(['verify', path.join(dir, files[0]), '--public-key', pubFile, '--no-timestamp-check']).status, 0);
});

test('listen refuses a port in use and bad flags with exit 2', async () => {
  const l = await startListen([]);
  try {
    const port = new URL(l.url).port;
    const r = run(['listen', '--port', port, '--public-key', pubFile]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /cannot listen on 127\.0\.0\.1:\d+/);
    assert.equal(run(['listen', '--skip', 'a', '--fail', 'b', '--public-key', pubFile]).status, 2);
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
  } finally {
    l.proc.kill('SIGTERM');
  }
  assert.equal((await l.exited).status, 0);
});
