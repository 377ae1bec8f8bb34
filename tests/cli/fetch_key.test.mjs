// fetch-key and verify --epilot-key against real HTTPS servers on 127.0.0.1,
// with certificates the test makes.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import https from 'node:https';
import http from 'node:http';
import crypto from 'node:crypto';
import { runAsync, tmpdir } from './helpers.mjs';
import { makeCertificates } from './tls.mjs';

const certs = makeCertificates();

function ed25519() {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ed25519');
  const pem = publicKey.export({ type: 'spki', format: 'pem' });
  const der = publicKey.export({ type: 'spki', format: 'der' });
  const fingerprint = 'SHA256:' + crypto.createHash('sha256').update(der).digest('base64').replace(/=+$/, '');
  return { privateKey, pem, fingerprint, whpk: 'whpk_' + der.subarray(12).toString('base64') };
}

// One server, many behaviours, chosen by path; counts requests per path.
function startServer({ tls = certs.server, plain = false } = {}) {
  const state = { key: ed25519(), orgKeys: new Map(), hits: new Map(), flaky: 0 };
  const handler = (req, res) => {
    // A broken network, without freeing the port for another test to take.
    if (state.broken) return req.socket.destroy();
    const url = new URL(req.url, 'https://127.0.0.1');
    state.hits.set(url.pathname, (state.hits.get(url.pathname) ?? 0) + 1);
    const json = (status, doc) => { res.writeHead(status, { 'content-type': 'application/json' }); res.end(JSON.stringify(doc)); };
    switch (url.pathname) {
      case '/v1/.well-known/public-key':
      case '/v1/public/.well-known/public-key':
        return json(200, { public_key: state.key.pem, algorithm: 'ed25519', issuer: 'epilot' });
      case '/v1/webhooks/.well-known/public-key': {
        const org = url.searchParams.get('orgId');
        if (!org) return json(400, { message: 'orgId is required' });
        if (!state.orgKeys.has(org)) state.orgKeys.set(org, ed25519());
        return json(200, { publicKey: state.orgKeys.get(org).pem, algorithm: 'ed25519' });
      }
      case '/rsa': {
        const { publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
        return json(200, { public_key: publicKey.export({ type: 'spki', format: 'pem' }), algorithm: 'rsa-sha256' });
      }
      case '/rsa-claiming-ed25519': {
        const { publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
        return json(200, { public_key: publicKey.export({ type: 'spki', format: 'pem' }), algorithm: 'ed25519' });
      }
      case '/html':
        res.writeHead(200, { 'content-type': 'text/html' });
        return res.end('<html><body>Gateway says hello</body></html>');
      case '/flaky':
        if (state.flaky++ === 0) return json(500, { message: 'Internal Server Error' });
        return json(200, { public_key: state.key.pem, algorithm: 'ed25519' });
      case '/down':
        return json(503, { message: 'Service Unavailable' });
      case '/hang':
        return;  // never answers
      default:
        return json(404, { message: 'Not Found' });
    }
  };
  const server = plain ? http.createServer(handler) : https.createServer(tls, handler);
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      state.base = `${plain ? 'http' : 'https'}://127.0.0.1:${server.address().port}`;
      state.close = () => new Promise((r) => { server.closeAllConnections(); server.close(r); });
      resolve(state);
    });
  });
}

const fetchKey = (args, opts) => runAsync(['fetch-key', '--ca-cert', certs.ca, ...args], opts);

test('the three endpoint shapes, both field names, a per-org key', async () => {
  const s = await startServer();
  try {
    for (const endpoint of ['app', 'legacy']) {
      const r = await fetchKey(['--endpoint', endpoint, '--base-url', s.base]);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, s.key.pem);
      assert.match(r.stderr, new RegExp(`key ${s.key.fingerprint.replace(/[+/]/g, '\\$&')} \\(fetched from`));
    }
    const a = await fetchKey(['--endpoint', 'webhooks', '--org-id', '739224', '--base-url', s.base, '--format', 'whpk']);
    const b = await fetchKey(['--endpoint', 'webhooks', '--org-id', '100001', '--base-url', s.base, '--format', 'whpk']);
    assert.equal(a.status, 0, a.stderr);
    assert.equal(a.stdout.trim(), s.orgKeys.get('739224').whpk);
    assert.equal(b.stdout.trim(), s.orgKeys.get('100001').whpk);
    const noOrg = await fetchKey(['--endpoint', 'webhooks', '--base-url', s.base]);
    assert.equal(noOrg.status, 2);
    assert.match(noOrg.stderr, /give --org-id/);
  } finally {
    await s.close();
  }
});

test('formats: pem, whpk, json and jwk describe the same key; --out is written whole', async () => {
  const s = await startServer();
  try {
    const cache = tmpdir();
    const url = `${s.base}/v1/.well-known/public-key`;
    const json = JSON.parse((await fetchKey(['--url', url, '--format', 'json'], { cache })).stdout);
    assert.equal(json.fingerprint, s.key.fingerprint);
    assert.equal(json.whpk, s.key.whpk);
    assert.equal(json.source, 'network');
    const jwk = JSON.parse((await fetchKey(['--url', url, '--format', 'jwk'], { cache })).stdout);
    assert.equal(jwk.kty, 'OKP');
    assert.equal(jwk.crv, 'Ed25519');
    assert.equal(crypto.createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' }), s.key.pem);
    const out = path.join(tmpdir(), 'epilot.pem');
    const r = await fetchKey(['--url', url, '--out', out], { cache });
    assert.equal(r.status, 0);
    assert.equal(fs.readFileSync(out, 'utf8'), s.key.pem);
    assert.equal(s.hits.get('/v1/.well-known/public-key'), 1, 'later calls used the cache');
  } finally {
    await s.close();
  }
});

test('answers that are not an Ed25519 key are exit 2, with the status and an excerpt', async () => {
  const s = await startServer();
  try {
    const cases = [['/rsa', /algorithm "rsa-sha256", not ed25519/], ['/rsa-claiming-ed25519', /not usable: .*RSA/],
      ['/html', /answered 200 but not with JSON: '<html><body>Gateway says hello/], ['/nope', /answered 404 but not with a key: '\{"message":"Not Found"\}'/]];
    for (const [p, pattern] of cases) {
      const r = await fetchKey(['--url', s.base + p]);
      assert.equal(r.status, 2, `${p}: ${r.stderr}`);
      assert.match(r.stderr, pattern, p);
      assert.equal(r.stdout, '');
    }
  } finally {
    await s.close();
  }
});

test('a 500 is retried; a server that stays down or hangs is exit 3, and a timeout is not retried', async () => {
  const s = await startServer();
  try {
    const r = await fetchKey(['--url', s.base + '/flaky']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(s.hits.get('/flaky'), 2);
    const down = await fetchKey(['--url', s.base + '/down']);
    assert.equal(down.status, 3);
    assert.match(down.stderr, /answered 503.*after 3 attempts/);
    // A timeout is not retried: another attempt would most likely wait it out again.
    const hang = await fetchKey(['--url', s.base + '/hang', '--timeout', '1']);
    assert.equal(hang.status, 3);
    assert.match(hang.stderr, /no answer within 1 s/);
    assert.doesNotMatch(hang.stderr, /attempts/);
    assert.equal(s.hits.get('/hang'), 1);
  } finally {
    await s.close();
  }
});

test('an untrusted certificate is refused unless its CA is given', async () => {
  const s = await startServer({ tls: certs.selfSigned });
  try {
    const r = await runAsync(['fetch-key', '--url', `${s.base}/v1/.well-known/public-key`]);
    assert.equal(r.status, 3);
    assert.match(r.stderr, /not trusted|TLS/);
    assert.match(r.stderr, /hint: .*--ca-cert/);
    assert.doesNotMatch(r.stderr, /attempts/, 'a certificate does not change on a retry');
    // Our own CA does not vouch for it either.
    assert.equal((await fetchKey(['--url', `${s.base}/v1/.well-known/public-key`])).status, 3);
  } finally {
    await s.close();
  }
});

test('https to a plain-HTTP server is said to be that, not a --ca-cert problem, and is not retried', async () => {
  const s = await startServer({ plain: true });
  try {
    const url = s.base.replace('http:', 'https:') + '/v1/.well-known/public-key';
    const r = await fetchKey(['--url', url]);
    assert.equal(r.status, 3, r.stderr);
    assert.match(r.stderr, /error: GET https:\/\/127\.0\.0\.1:\d+\/v1\/\.well-known\/public-key: TLS handshake with 127\.0\.0\.1 failed: the server does not speak TLS on port \d+/);
    assert.match(r.stderr, /hint: a local server without TLS is reached with http:\/\/, not https:\/\//);
    assert.doesNotMatch(r.stderr, /ca-cert|attempts/);
  } finally {
    await s.close();
  }
});

test('--expect-fingerprint takes the fingerprint with or without SHA256:; a malformed one is exit 2 before any fetch', async () => {
  const s = await startServer();
  try {
    const url = `${s.base}/v1/.well-known/public-key`;
    const bare = s.key.fingerprint.slice('SHA256:'.length);
    for (const given of [s.key.fingerprint, bare, `sha256:${bare}`, `${bare}=`]) {
      const r = await fetchKey(['--url', url, '--expect-fingerprint', given, '--max-age', '0']);
      assert.equal(r.status, 0, `${given}: ${r.stderr}`);
    }
    const other = ed25519().fingerprint.slice('SHA256:'.length);
    const wrong = await fetchKey(['--url', url, '--expect-fingerprint', other, '--max-age', '0']);
    assert.equal(wrong.status, 1);
    assert.match(wrong.stderr, new RegExp(`expected SHA256:${other.replace(/[+/]/g, '\\$&')}, got`));
    const hits = s.hits.get('/v1/.well-known/public-key');
    for (const bad of ['SHA256:abc', bare.slice(1), `MD5:${bare}`, 'SHA256:' + bare.slice(0, 42) + '!']) {
      const r = await fetchKey(['--url', url, '--expect-fingerprint', bad, '--max-age', '0']);
      assert.equal(r.status, 2, `${bad}: ${r.stderr}`);
      assert.match(r.stderr, /error: '.*' is not a key fingerprint/);
    }
    assert.equal(s.hits.get('/v1/.well-known/public-key'), hits, 'refused before fetching');
  } finally {
    await s.close();
  }
});

test('the --offline hint names the key that was asked for', async () => {
  const cache = tmpdir();
  const url = 'https://127.0.0.1:9/v1/.well-known/public-key?x=1';
  const r = await fetchKey(['--url', url, '--offline'], { cache });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /error: no key for https:\/\/127\.0\.0\.1:9\/v1\/\.well-known\/public-key\?x=1 is cached/);
  assert.ok(r.stderr.includes(`hint: fetch it once while online: epilot-action fetch-key --url '${url}' --ca-cert ${certs.ca}\n`), r.stderr);
  const org = await runAsync(['fetch-key', '--endpoint', 'webhooks', '--org-id', '739224', '--offline'], { cache });
  assert.equal(org.status, 2);
  assert.match(org.stderr, /hint: fetch it once while online: epilot-action fetch-key --endpoint webhooks --org-id 739224\n/);
  // verify's flags have a prefix; the hint is a fetch-key command all the same.
  const file = path.join(tmpdir(), 'r.json');
  fs.writeFileSync(file, JSON.stringify({ headers: { 'webhook-id': 'msg_1', 'webhook-timestamp': '1', 'webhook-signature': 'v1a,AAAA' }, body: '{}' }));
  const v = await runAsync(['verify', file, '--epilot-key-url', url, '--epilot-key-offline'], { cache });
  assert.equal(v.status, 2);
  assert.ok(v.stderr.includes(`hint: fetch it once while online: epilot-action fetch-key --url '${url}'\n`), v.stderr);
});

test('plain http only to loopback', async () => {
  const s = await startServer({ plain: true });
  try {
    const r = await runAsync(['fetch-key', '--url', `${s.base}/v1/.well-known/public-key`]);
    assert.equal(r.status, 0, r.stderr);
    const far = await runAsync(['fetch-key', '--url', 'http://example.com/key']);
    assert.equal(far.status, 2);
    assert.match(far.stderr, /refusing plain http/);
  } finally {
    await s.close();
  }
});

test('offline, stale and corrupt caches', async () => {
  const s = await startServer();
  const cache = tmpdir();
  const url = `${s.base}/v1/.well-known/public-key`;
  assert.equal((await fetchKey(['--url', url], { cache })).status, 0);
  // The network fails: the cached key is used, with its age.
  s.broken = true;
  const stale = await fetchKey(['--url', url, '--max-age', '0'], { cache });
  assert.equal(stale.status, 0, stale.stderr);
  assert.match(stale.stderr, /warning: .*\(after 3 attempts\); using the cached key fetched \d+ s ago/);
  assert.equal(stale.stdout, s.key.pem);
  const offline = await fetchKey(['--url', url, '--offline'], { cache });
  assert.equal(offline.status, 0);
  assert.equal((await fetchKey(['--url', url, '--offline'], { cache: tmpdir() })).status, 2);
  // A corrupt entry is discarded with a warning, never trusted.
  const dir = path.join(cache, 'epilot-action', 'keys');
  const [entry] = fs.readdirSync(dir);
  const doc = JSON.parse(fs.readFileSync(path.join(dir, entry), 'utf8'));
  doc.public_key = ed25519().pem;  // no longer matches its fingerprint
  fs.writeFileSync(path.join(dir, entry), JSON.stringify(doc));
  const corrupt = await fetchKey(['--url', url, '--offline'], { cache });
  assert.equal(corrupt.status, 2);
  assert.match(corrupt.stderr, /warning: cache entry .* is corrupt \(the key does not match its fingerprint\); discarded/);
  assert.equal(fs.existsSync(path.join(dir, entry)), false);
  // A FIFO where the entry belongs would block a read for ever.
  assert.equal(spawnSync('mkfifo', [path.join(dir, entry)]).status, 0);
  s.broken = false;
  const fifo = await fetchKey(['--url', url], { cache });
  assert.equal(fifo.status, 0, fifo.stderr);
  assert.match(fifo.stderr, /not a regular file\); discarded/);
  // An entry fetched "in the future" has no meaningful age: not used.
  const future = JSON.parse(fs.readFileSync(path.join(dir, entry), 'utf8'));
  future.fetched_at += 10 * 365 * 86400;
  fs.writeFileSync(path.join(dir, entry), JSON.stringify(future));
  const ahead = await fetchKey(['--url', url, '--offline'], { cache });
  assert.equal(ahead.status, 2);
  assert.match(ahead.stderr, /fetched .* from now; discarded/);
  assert.doesNotMatch(ahead.stderr, /days ago/);
  await s.close();
});

test('a key that changes: pin failure, a loud warning, and verify refetches once', async () => {
  const s = await startServer();
  try {
    const cache = tmpdir();
    const url = `${s.base}/v1/.well-known/public-key`;
    const first = s.key;
    assert.equal((await fetchKey(['--url', url, '--expect-fingerprint', first.fingerprint], { cache })).status, 0);

    // A request signed with the first key verifies through the cache.
    const request = (key) => {
      const id = 'msg_' + crypto.randomBytes(16).toString('hex');
      const ts = String(Math.floor(Date.now() / 1000));
      const body = '{"type":"external_integration"}';
      const sig = crypto.sign(null, Buffer.from(`${id}.${ts}.${body}`), key.privateKey).toString('base64');
      const file = path.join(tmpdir(), 'r.json');
      fs.writeFileSync(file, JSON.stringify({ headers: { 'webhook-id': id, 'webhook-timestamp': ts, 'webhook-signature': `v1a,${sig}` }, body }));
      return file;
    };
    const verify = (file) => runAsync(['verify', file, '--epilot-key-url', url, '--ca-cert', certs.ca], { cache });
    const ok = await verify(request(first));
    assert.equal(ok.status, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, /verified with epilot's key \(SHA256:/);

    // epilot rotates: the cached key fails, verify refetches once and succeeds.
    s.key = ed25519();
    const rotated = await verify(request(s.key));
    assert.equal(rotated.status, 0, rotated.stdout + rotated.stderr);
    assert.match(rotated.stderr, /CHANGED/);
    assert.match(rotated.stderr, /epilot's key has changed since it was cached; verifying again/);

    // A stream is not refetched for: it says how to refetch.
    const stream = path.join(tmpdir(), 's.jsonl');
    fs.writeFileSync(stream, [fs.readFileSync(request(first), 'utf8'), fs.readFileSync(request(s.key), 'utf8')].join('\n') + '\n');
    const streamed = await runAsync(['verify', stream, '--epilot-key-url', url, '--ca-cert', certs.ca, '--no-timestamp-check'], { cache });
    assert.equal(streamed.status, 1);
    assert.match(streamed.stderr, /hint: epilot's key came from the cache; .*--epilot-key-max-age 0/);

    // A forged request still fails after the one refetch, which finds the key unchanged.
    const forged = await verify(request(ed25519()));
    assert.equal(forged.status, 1);
    assert.match(forged.stderr, /refetched epilot's key after a mismatch: it has not changed/);

    // The pin catches the change loudly.
    const pinned = await fetchKey(['--url', url, '--refresh', '--expect-fingerprint', first.fingerprint], { cache });
    assert.equal(pinned.status, 1);
    assert.match(pinned.stderr, /does not match the pinned fingerprint: expected .*, got /);
    assert.equal(pinned.stdout, '');
  } finally {
    await s.close();
  }
});
