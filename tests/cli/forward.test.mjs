// listen --forward-to as the verifying proxy in front of an app: a raw TCP
// app on 127.0.0.1 (Node's net, so that every byte it gets is seen) records
// what arrives; genuine requests are signed by Node's crypto.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import http from 'node:http';
import net from 'node:net';
import crypto from 'node:crypto';
import { tmpdir, run, startListenProcess } from './helpers.mjs';

const { privateKey, publicKey } = crypto.generateKeyPairSync('ed25519');
const pubFile = path.join(tmpdir(), 'pub.pem');
fs.writeFileSync(pubFile, publicKey.export({ type: 'spki', format: 'pem' }));

const APP_ANSWER = 'HTTP/1.1 201 Created\r\nX-App: yes\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{"ok":true}';

// An app that answers every request with `answer` (or never, when null; an
// array gives its answers in turn, the last one from then on) and keeps the
// raw bytes of each.
function startApp(answer = APP_ANSWER) {
  const answers = Array.isArray(answer) ? answer : [answer];
  const requests = [];
  const sockets = new Set();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    let buffer = Buffer.alloc(0);
    socket.on('data', (d) => {
      buffer = Buffer.concat([buffer, d]);
      for (;;) {
        const end = buffer.indexOf('\r\n\r\n');
        if (end < 0) return;
        const m = /content-length: *(\d+)/i.exec(buffer.subarray(0, end).toString('latin1'));
        const total = end + 4 + (m ? Number(m[1]) : 0);
        if (buffer.length < total) return;
        requests.push(buffer.subarray(0, total));
        buffer = buffer.subarray(total);
        const next = answers[Math.min(requests.length, answers.length) - 1];
        if (next !== null) socket.write(next);
      }
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
    url: `http://127.0.0.1:${server.address().port}`,
    requests,
    close: () => { for (const s of sockets) s.destroy(); return new Promise((r) => server.close(r)); },
  })));
}

function signed(body, { id = 'msg_' + crypto.randomBytes(8).toString('hex'), key = privateKey } = {}) {
  const ts = Math.floor(Date.now() / 1000);
  const sig = crypto.sign(null, Buffer.from(`${id}.${ts}.${body}`), key).toString('base64');
  return { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': `v1a,${sig}` };
}

function post(url, headers, body) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers }, (res) => {
      const chunks = [];
      res.on('data', (d) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function stop(listen) {
  listen.proc.kill('SIGTERM');
  return listen.exited;
}

test('a verified request reaches the app byte for byte, and the app answer comes back', async () => {
  const app = await startApp();
  const out = path.join(tmpdir(), 'forward.jsonl');
  // The URL's own query goes first, then the request's.
  const listen = await startListenProcess(['--public-key', pubFile, '--forward-to', `${app.url}/app/?key=k1`, '--out', out]);
  try {
    const body = '{"type":"external_integration","data":{"name":"Wärmepumpe"}}';
    const headers = { ...signed(body), 'x-trace': 'a  b', connection: 'keep-alive, x-hop', 'x-hop': 'drop me' };
    const answer = await post(`${listen.url}hook?run=7`, headers, body);
    assert.equal(answer.status, 201);
    assert.equal(answer.headers['x-app'], 'yes');
    assert.equal(answer.body, '{"ok":true}');
    assert.equal(app.requests.length, 1);
    const got = app.requests[0];
    const head = got.subarray(0, got.indexOf('\r\n\r\n')).toString('latin1').split('\r\n');
    assert.equal(head[0], 'POST /app/hook?key=k1&run=7 HTTP/1.1');
    const names = head.slice(1).map((l) => l.slice(0, l.indexOf(':')).toLowerCase());
    assert.ok(!names.includes('x-hop') && !names.includes('connection'), head.join('\n'));
    for (const name of ['webhook-id', 'webhook-timestamp', 'webhook-signature', 'x-trace', 'host', 'content-type']) {
      assert.ok(names.includes(name), `${name} missing from ${head.join('\n')}`);
    }
    assert.ok(head.includes('x-trace: a  b'), 'a value keeps its bytes');
    assert.ok(head.includes(`webhook-signature: ${headers['webhook-signature']}`));
    assert.equal(got.subarray(got.indexOf('\r\n\r\n') + 4).toString(), body, 'the body, byte for byte');
  } finally {
    await stop(listen);
    await app.close();
  }
  const [capture] = fs.readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(capture.status, 201);
  assert.deepEqual(capture.forwarded, { outcome: 'answered', status: 201, ms: capture.forwarded.ms, unverified: false });
  const logged = listen.events.find((e) => e.event === 'request');
  assert.equal(logged.forwarded.status, 201);
});

test('a forged request is answered 401 and never reaches the app, unless --forward-unverified', async () => {
  const app = await startApp();
  const { privateKey: otherKey } = crypto.generateKeyPairSync('ed25519');
  const body = '{"forged":true}';
  const listen = await startListenProcess(['--public-key', pubFile, '--forward-to', app.url]);
  try {
    const answer = await post(listen.url, signed(body, { key: otherKey }), body);
    assert.equal(answer.status, 401);
    assert.match(answer.body, /signature_mismatch/);
    assert.equal(app.requests.length, 0);
  } finally {
    await stop(listen);
  }
  const open = await startListenProcess(['--public-key', pubFile, '--forward-to', app.url, '--forward-unverified']);
  try {
    const answer = await post(open.url, signed(body, { key: otherKey }), body);
    assert.equal(answer.status, 201);
    assert.equal(app.requests.length, 1);
  } finally {
    const exit = await stop(open);
    assert.equal(exit.status, 1, 'a request that did not verify still fails the run');
    await app.close();
  }
  const logged = open.events.find((e) => e.event === 'request');
  assert.equal(logged.verdict, 'signature_mismatch');
  assert.equal(logged.forwarded.unverified, true);
});

test('an app that is down is 502 and one too slow is 504 within --timeout', async () => {
  const down = await startApp();
  const downUrl = down.url;
  await down.close();
  const body = '{"n":1}';
  let listen = await startListenProcess(['--public-key', pubFile, '--forward-to', downUrl]);
  try {
    const answer = await post(listen.url, signed(body), body);
    assert.equal(answer.status, 502);
    assert.equal(JSON.parse(answer.body).error, 'bad gateway');
    assert.match(JSON.parse(answer.body).message, /can't reach 127\.0\.0\.1/);
  } finally {
    await stop(listen);
  }
  const silent = await startApp(null);
  listen = await startListenProcess(['--public-key', pubFile, '--forward-to', silent.url, '--timeout', '300ms']);
  try {
    const started = Date.now();
    const answer = await post(listen.url, signed(body), body);
    assert.equal(answer.status, 504);
    assert.ok(Date.now() - started < 5000);
    assert.equal(silent.requests.length, 1, 'the app got it, and said nothing');
  } finally {
    await stop(listen);
    await silent.close();
  }
});

test('a request the app failed is let through again when epilot retries it; a replay of a taken one is not', async () => {
  const failing = 'HTTP/1.1 500 Internal Server Error\r\nContent-Length: 2\r\n\r\n{}';
  const app = await startApp([failing, APP_ANSWER]);
  const listen = await startListenProcess(['--public-key', pubFile, '--forward-to', app.url]);
  try {
    const body = '{"n":2}';
    const headers = signed(body);
    assert.equal((await post(listen.url, headers, body)).status, 500);
    assert.equal((await post(listen.url, headers, body)).status, 201, 'the retry, same webhook-id, reached the app');
    const replay = await post(listen.url, headers, body);
    assert.equal(replay.status, 409, 'once the app took it, the same id is a replay');
    assert.equal(app.requests.length, 2);
  } finally {
    await stop(listen);
    await app.close();
  }
});

test('a forgery the app refuses (--forward-unverified) does not let a replay of a taken request through', async () => {
  const refusing = 'HTTP/1.1 401 Unauthorized\r\nContent-Length: 2\r\n\r\n{}';
  const app = await startApp([APP_ANSWER, refusing, APP_ANSWER]);
  const { privateKey: otherKey } = crypto.generateKeyPairSync('ed25519');
  const listen = await startListenProcess(['--public-key', pubFile, '--forward-to', app.url, '--forward-unverified']);
  try {
    const body = '{"n":3}';
    const id = 'msg_' + crypto.randomBytes(8).toString('hex');
    const genuine = signed(body, { id });
    assert.equal((await post(listen.url, genuine, body)).status, 201);
    assert.equal((await post(listen.url, signed(body, { id, key: otherKey }), body)).status, 401, "the app's refusal");
    assert.equal((await post(listen.url, genuine, body)).status, 409, 'still a replay');
    assert.equal(app.requests.length, 2, 'the genuine request reached the app once');
  } finally {
    await stop(listen);
    await app.close();
  }
});

test('--timeout and --forward-unverified need --forward-to; a --forward-to without a scheme is refused with the URL it meant', () => {
  const t = run(['listen', '--public-key', pubFile, '--timeout', '5s']);
  assert.equal(t.status, 2);
  assert.match(t.stderr, /--timeout is how long the app behind --forward-to may take/);
  assert.match(t.stderr, /hint: to stop listening after a while, use --duration/);
  const u = run(['listen', '--public-key', pubFile, '--forward-unverified']);
  assert.equal(u.status, 2);
  assert.match(u.stderr, /--forward-unverified needs --forward-to/);
  const bare = run(['listen', '--public-key', pubFile, '--forward-to', '127.0.0.1:3000']);
  assert.equal(bare.status, 2);
  assert.match(bare.stderr, /epilot-action: error: --forward-to: '127\.0\.0\.1:3000' is not an absolute URL/);
  assert.match(bare.stderr, /hint: for an app on this machine, that is --forward-to http:\/\/127\.0\.0\.1:3000/);
});
