// One JSON shape (issue 12): every command that has --format json, run on
// real inputs (runs that succeed and runs that fail), prints JSON Lines
// whose every line parses on its own, names its "event" first, and is valid
// against the command's published schema in docs/schemas/, checked by Ajv.
// Every event a schema defines must be seen at least once, so that a schema
// cannot keep describing a shape the tool no longer prints.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import http from 'node:http';
import https from 'node:https';
import crypto from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { run, runAsync, tmpdir, fixture, startListenProcess, testKeys } from './helpers.mjs';
import { startEndpoint } from './endpoints.mjs';
import { makeCertificates } from './tls.mjs';

const Ajv2020 = createRequire(import.meta.url)('ajv/dist/2020.js');

const SCHEMAS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../docs/schemas');
const COMMANDS = ['verify', 'inspect', 'replay', 'listen', 'check', 'fetch-key', 'fixtures', 'keygen'];

// Per command: the whole schema, and each of its events alone (to see which
// one a line is, and count it).
const ajv = new Ajv2020({ allErrors: true, allowUnionTypes: true, strict: true });
const schemas = {};
for (const command of COMMANDS) {
  const schema = JSON.parse(fs.readFileSync(path.join(SCHEMAS, `${command}.schema.json`), 'utf8'));
  const events = {};
  for (const name of Object.keys(schema.$defs)) {
    events[name] = ajv.compile({ ...schema, oneOf: [{ $ref: `#/$defs/${name}` }] });
  }
  schemas[command] = { validate: ajv.compile(schema), events, seen: new Set() };
}

// The lines of `stdout` (a Buffer or string) as `command` printed them:
// each checked, then returned parsed.
function eventsOf(command, stdout) {
  const bytes = Buffer.isBuffer(stdout) ? stdout : Buffer.from(stdout);
  if (bytes.length === 0) return [];
  // Valid UTF-8 throughout, whatever bytes the inputs held.
  new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  const text = bytes.toString();
  assert.ok(text.endsWith('\n'), `${command}: the output ends with a line end`);
  const { validate, events, seen } = schemas[command];
  return text.slice(0, -1).split('\n').map((line) => {
    assert.ok(!line.includes('\r'), `${command}: one line, no CR: ${line}`);
    let doc;
    assert.doesNotThrow(() => { doc = JSON.parse(line); }, `${command}: a line that is not JSON alone: ${line}`);
    assert.equal(typeof doc, 'object', line);
    assert.equal(Object.keys(doc)[0], 'event', `${command}: "event" comes first: ${line}`);
    assert.ok(validate(doc), `${command}: ${line}\n${ajv.errorsText(validate.errors)}`);
    const matched = Object.keys(events).filter((name) => events[name](doc));
    assert.equal(matched.length, 1, `${command}: exactly one event shape fits (${matched}): ${line}`);
    seen.add(matched[0]);
    return doc;
  });
}

const names = (events) => events.map((e) => e.event);

// Keys and secrets of the test's own, and a signing helper that is not ours.
const { dir, privateKey, publicKey, privFile, pubFile, secret, secretFile } = testKeys();

function capture(body, { id = 'msg_' + crypto.randomBytes(16).toString('hex'), ts = Math.floor(Date.now() / 1000) } = {}) {
  const content = Buffer.from(`${id}.${ts}.${body}`);
  const mac = crypto.createHmac('sha256', Buffer.from(secret.slice(6), 'base64')).update(content).digest('base64');
  const sig = crypto.sign(null, content, privateKey).toString('base64');
  return { method: 'POST', url: 'http://localhost:3000/hook',
    headers: { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(ts),
      'webhook-signature': `v1,${mac} v1a,${sig}` },
    body };
}
const body = (n) => JSON.stringify({ type: 'external_integration', data: { org_id: '739224', n } });
const write = (name, text) => { const f = path.join(dir, name); fs.writeFileSync(f, text); return f; };

test('verify: a request event per capture; a stream of good, tampered and unreadable ones ends with its summary', () => {
  const one = write('one.json', JSON.stringify(capture(body(1))));
  const ok = run(['verify', one, '--secret-file', secretFile, '--format', 'json']);
  assert.equal(ok.status, 0, ok.stderr);
  assert.deepEqual(names(eventsOf('verify', ok.raw)), ['request'], 'one request, no summary');

  const tampered = { ...capture(body(2)), body: body(3) };
  const stale = capture(body(4), { ts: Math.floor(Date.now() / 1000) - 3600 });
  const lines = [capture(body(1)), tampered, stale, capture(body(5))].map((c) => JSON.stringify(c));
  const stream = write('stream.jsonl', [...lines, '{"method": "POST", "headers": ', '{"not": "a capture"}', ''].join('\n'));
  const mixed = run(['verify', stream, '--secret-file', secretFile, '--public-key', pubFile, '--format', 'json']);
  assert.equal(mixed.status, 2, 'unreadable records are an input error');
  const events = eventsOf('verify', mixed.raw);
  assert.deepEqual(names(events), ['request', 'request', 'request', 'request', 'request', 'request', 'summary']);
  assert.deepEqual(events.slice(0, 6).map((e) => e.verdict),
    ['valid', 'signature_mismatch', 'timestamp_too_old', 'valid', 'unreadable', 'unreadable']);
  assert.deepEqual(events[6], { event: 'summary', requests: 6, verified: 2, failed: 2, unreadable: 2 });

  const failing = run(['verify', write('two.jsonl', lines.slice(0, 2).join('\n') + '\n'), '--secret-file', secretFile,
    '--format', 'json']);
  assert.equal(failing.status, 1);
  assert.deepEqual(names(eventsOf('verify', failing.raw)), ['request', 'request', 'summary']);

  const otherSecret = 'whsec_' + crypto.randomBytes(32).toString('base64');
  const wrongKey = run(['verify', one, '--secret', otherSecret, '--format', 'json']);
  assert.equal(wrongKey.status, 1);
  assert.equal(eventsOf('verify', wrongKey.raw)[0].verdict, 'signature_mismatch');
  const noKey = run(['verify', one, '--format', 'json']);
  assert.equal(noKey.status, 2, 'no key to verify with is a usage error');
  assert.equal(noKey.stdout, '');

  const notCapture = run(['verify', write('payload.json', body(6)), '--secret-file', secretFile, '--format', 'json']);
  assert.equal(notCapture.status, 2);
  assert.equal(notCapture.stdout, '', 'errors are not JSON events: they go to stderr');
});

test('verify: HAR archives (entry, left_out) and a parsed body (reencoded_body) fit the schema', () => {
  const har = run(['verify', fixture('captures/chromium.har'), '--secret', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    '--now', '1614265330', '--format', 'json']);
  assert.equal(har.status, 1);
  const events = eventsOf('verify', har.raw);
  assert.equal(events.at(-1).left_out, 0);
  const c = capture(body(7));
  const parsed = write('parsed.json', JSON.stringify({ ...c, body: JSON.parse(c.body) }));
  const r = run(['verify', parsed, '--secret-file', secretFile, '--format', 'json']);
  assert.equal(r.status, 1);
  assert.equal(eventsOf('verify', r.raw)[0].matched.reencoded_body, true);
});

test('verify and inspect: bytes that are not UTF-8 come out as U+FFFD, each line still valid JSON', () => {
  const id = Buffer.from('msg_\xff\xfe"\\', 'latin1');
  const raw = Buffer.concat([Buffer.from('POST /hook HTTP/1.1\r\nhost: x\r\nwebhook-id: '), id,
    Buffer.from('\r\nwebhook-timestamp: 1\r\nwebhook-signature: v1,AAAA\r\ncontent-length: 2\r\n\r\n{}')]);
  const file = write('odd.http', raw);
  const v = run(['verify', file, '--secret-file', secretFile, '--format', 'json']);
  assert.equal(v.status, 1, v.stderr);
  assert.equal(eventsOf('verify', v.raw)[0].webhook_id, 'msg_\ufffd\ufffd"\\');
  const i = run(['inspect', file, '--format', 'json']);
  assert.equal(i.status, 0, i.stderr);
  assert.equal(eventsOf('inspect', i.raw)[0].webhook_id.value, 'msg_\ufffd\ufffd"\\');
});

test('inspect: a request event per request, a key event per key, nothing for bad input', () => {
  const c = capture(body(8));
  c.headers['x-epilot-token'] = ['e30', Buffer.from(JSON.stringify({ org_id: '1', iat: 1, exp: 2 })).toString('base64url'),
    'c2ln'].join('.');
  const two = write('two-captures.jsonl', [c, capture(body(9))].map((x) => JSON.stringify(x)).join('\n') + '\n');
  const r = run(['inspect', two, '--format', 'json']);
  assert.equal(r.status, 0, r.stderr);
  const events = eventsOf('inspect', r.raw);
  assert.deepEqual(names(events), ['request', 'request']);
  assert.equal(events[0].epilot_token.org_id, '1');
  const badToken = { ...c, headers: { ...c.headers, 'x-epilot-token': 'not-a-jwt' } };
  assert.ok(eventsOf('inspect', run(['inspect', write('bad-token.json', JSON.stringify(badToken)), '--format', 'json']).raw)[0]
    .epilot_token.error);
  const svix = { method: 'POST', url: '', headers: { 'svix-id': 'msg_1', 'svix-timestamp': 'soon' }, body: 'x' };
  assert.deepEqual(eventsOf('inspect', run(['inspect', write('svix.json', JSON.stringify(svix)), '--format', 'json']).raw)[0]
    .svix_headers, ['svix-id', 'svix-timestamp']);
  for (const key of [pubFile, privFile]) {
    const k = run(['inspect', key, '--format', 'json']);
    assert.equal(k.status, 0, k.stderr);
    assert.deepEqual(names(eventsOf('inspect', k.raw)), ['key']);
  }
  const bad = run(['inspect', write('garbage.json', '{"method": "POST", "headers": '), '--format', 'json']);
  assert.equal(bad.status, 2);
  assert.equal(bad.stdout, '');
});

// A server answering every request with `status`; resolves with its URL.
function answering(status) {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => { res.writeHead(status, { 'content-type': 'application/json' }); res.end('{}'); });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
    url: `http://127.0.0.1:${server.address().port}/hook`,
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }),
  })));
}

test('replay: request events then a summary, whether expectations are met, missed or nothing answers', async () => {
  const ok = await answering(200);
  const refusing = await answering(401);
  try {
    const met = await runAsync(['replay', 'custom-action', 'contact-updated', '--url', ok.url, '--secret-file', secretFile,
      '--format', 'json']);
    assert.equal(met.status, 0, met.stderr);
    assert.deepEqual(names(eventsOf('replay', met.stdout)), ['request', 'request', 'summary']);
    const missed = await runAsync(['replay', '--url', refusing.url, '--private-key', privFile, '-n', '2', '--keep-id',
      '--format', 'json']);
    assert.equal(missed.status, 1);
    const events = eventsOf('replay', missed.stdout);
    assert.deepEqual(names(events), ['request', 'request', 'summary']);
    assert.equal(events[1].repeat, true);
    assert.equal(events[0].met, false);
  } finally {
    await ok.close();
    await refusing.close();
  }
  const closed = await answering(200);
  await closed.close();
  const none = await runAsync(['replay', '--url', closed.url, '--private-key', privFile, '--retries', '0', '--format', 'json']);
  assert.equal(none.status, 3, none.stderr);
  const events = eventsOf('replay', none.stdout);
  assert.equal(events[0].delivery, 'unreachable');
  assert.equal(events.at(-1).event, 'summary');
});

test('listen: ready, a request per request (verified, failed, refused), callbacks, then the summary', async () => {
  const l = await startListenProcess(['--public-key', pubFile, '--secret-file', secretFile]);
  let replayed;
  try {
    replayed = await runAsync(['replay', 'wait-for-callback', '--url', l.url, '--private-key', privFile,
      '--callback-timeout', '10', '--format', 'json']);
    const post = (headers, method = 'POST') => new Promise((resolve, reject) => {
      const req = http.request(l.url, { method, headers }, (res) => { res.resume(); res.on('end', resolve); });
      req.on('error', reject);
      req.end(method === 'POST' ? body(10) : undefined);
    });
    await post({ 'content-type': 'application/json' });
    await post({}, 'GET');
  } finally {
    l.proc.kill('SIGTERM');
  }
  const end = await l.exited;
  assert.equal(end.status, 1, 'a request failed: exit 1');
  assert.equal(replayed.status, 0, replayed.stdout + replayed.stderr);
  assert.equal(eventsOf('replay', replayed.stdout)[0].callback.state, 'received');
  const events = eventsOf('listen', l.lines.map((line) => line + '\n').join(''));
  assert.deepEqual(names(events), ['ready', 'request', 'callback', 'request', 'request', 'summary']);
  assert.deepEqual(events.filter((e) => e.event === 'request').map((e) => e.verdict), ['valid', 'missing_header', 'refused']);
  assert.deepEqual(events.at(-1), { event: 'summary', reason: 'SIGTERM', requests: 3, failed: 2 });
});

test('listen: a run that --max-requests ends, ends with its summary; --ui adds the inspector to ready', async () => {
  const l = await startListenProcess(['--secret-file', secretFile, '--max-requests', '1', '--ui', '0']);
  assert.match(l.events[0].ui, /^http:\/\/127\.0\.0\.1:\d+\/$/);
  const r = await runAsync(['replay', '--url', l.url, '--secret-file', secretFile]);
  assert.equal(r.status, 0, r.stderr);
  const end = await l.exited;
  assert.equal(end.status, 0, end.stderr);
  assert.deepEqual(names(eventsOf('listen', l.lines.map((line) => line + '\n').join(''))),
    ['ready', 'request', 'summary']);
  assert.equal(l.events.at(-1).reason, 'max-requests');
});

test('check: a case per case then the summary, for an endpoint that passes and one that fails; --list', async () => {
  const good = await startEndpoint({ publicKey: publicKey.export({ type: 'spki', format: 'pem' }) });
  const flawed = await startEndpoint({ secret, flaw: 'stale-accepted' });
  try {
    const pass = await runAsync(['check', '--url', good.url, '--private-key', privFile, '--format', 'json']);
    assert.equal(pass.status, 0, pass.stderr);
    const events = eventsOf('check', pass.stdout);
    assert.equal(events.at(-1).event, 'summary');
    assert.ok(events.slice(0, -1).every((e) => e.event === 'case'));
    assert.equal(events.at(-1).ok, true);
    const fail = await runAsync(['check', '--url', flawed.url, '--secret-file', secretFile, '--format', 'json']);
    assert.equal(fail.status, 1);
    const failed = eventsOf('check', fail.stdout);
    assert.equal(failed.find((e) => e.id === 'stale').verdict, 'fail');
    assert.match(failed.at(-1).key.secret_from, /secret/);
  } finally {
    await good.close();
    await flawed.close();
  }
  const list = await runAsync(['check', '--list', '--format', 'json']);
  assert.equal(list.status, 0);
  assert.ok(eventsOf('check', list.stdout).every((e) => e.event === 'case' && e.summary));
  const nobody = await runAsync(['check', '--url', 'http://127.0.0.1:9/hook', '--secret-file', secretFile, '--format', 'json']);
  assert.equal(nobody.status, 3);
  assert.equal(nobody.stdout, '', 'a network error is an error, on stderr, not a report');
});

test('fetch-key: one key event, fetched then cached; a pin that does not match prints nothing', async () => {
  const certs = makeCertificates();
  const pem = publicKey.export({ type: 'spki', format: 'pem' });
  const server = https.createServer(certs.server, (req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ public_key: pem, algorithm: 'ed25519', issuer: 'epilot' }));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const url = `https://127.0.0.1:${server.address().port}/v1/.well-known/public-key`;
  const cache = tmpdir();
  const fetchKey = (args) => runAsync(['fetch-key', '--url', url, '--ca-cert', certs.ca, '--format', 'json', ...args], { cache });
  try {
    const fetched = await fetchKey([]);
    assert.equal(fetched.status, 0, fetched.stderr);
    const [key] = eventsOf('fetch-key', fetched.stdout);
    assert.equal(key.public_key, pem);
    assert.equal(key.source, 'network');
    const der = publicKey.export({ type: 'spki', format: 'der' });
    assert.equal(key.fingerprint, 'SHA256:' + crypto.createHash('sha256').update(der).digest('base64').replace(/=+$/, ''));
    assert.equal(eventsOf('fetch-key', (await fetchKey([])).stdout)[0].source, 'cache');
    const pinned = await fetchKey(['--expect-fingerprint', 'SHA256:' + 'A'.repeat(43)]);
    assert.equal(pinned.status, 1);
    assert.equal(pinned.stdout, '');
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
});

test('fixtures: a fixture event per fixture, built-in and the user\'s; show and show --filled', () => {
  const mine = tmpdir();
  fs.writeFileSync(path.join(mine, 'mine.json'), body(11));
  const list = run(['fixtures', '--fixtures', mine, '--format', 'json']);
  assert.equal(list.status, 0, list.stderr);
  const events = eventsOf('fixtures', list.raw);
  const text = run(['fixtures', '--fixtures', mine]).stdout.trim().split('\n');
  assert.deepEqual(events.map((e) => e.name), text.map((l) => l.split(/\s+/)[0]), 'the same fixtures as the text list');
  const own = events.find((e) => e.name === 'mine');
  assert.deepEqual([own.source, own.file, own.bytes], ['user', path.join(mine, 'mine.json'), body(11).length]);
  assert.equal(events.find((e) => e.name === 'custom-action').source, 'built-in');

  const shown = run(['fixtures', 'show', 'custom-action', '--format', 'json']);
  assert.equal(shown.status, 0, shown.stderr);
  const [one] = eventsOf('fixtures', shown.raw);
  assert.equal(one.text, fs.readFileSync(fixture('payloads/custom-action.json'), 'utf8'));
  const filled = run(['fixtures', 'show', 'custom-headers.request', '--filled', '--option', 'api_key=k-1', '--format', 'json']);
  assert.equal(filled.status, 0, filled.stderr);
  const [f] = eventsOf('fixtures', filled.raw);
  assert.ok(f.headers.some((h) => h.value === 'k-1'), JSON.stringify(f.headers));
  assert.equal(JSON.parse(f.body).type, 'external_integration');
  const nope = run(['fixtures', 'show', 'nope', '--format', 'json']);
  assert.equal(nope.status, 2);
  assert.equal(nope.stdout, '');
});

test('keygen: a key event for a keypair (either key format) and for a secret, printed or written', () => {
  const out = tmpdir();
  const priv = path.join(out, 'k.pem');
  const pub = path.join(out, 'k.pub.pem');
  const pair = run(['keygen', '--private-key', priv, '--public-key', pub, '--format', 'json']);
  assert.equal(pair.status, 0, pair.stderr);
  const [key] = eventsOf('keygen', pair.raw);
  const der = crypto.createPublicKey(fs.readFileSync(pub)).export({ type: 'spki', format: 'der' });
  assert.deepEqual(key, { event: 'key', kind: 'ed25519', key_format: 'pem', private_key_file: priv, public_key_file: pub,
    whpk: 'whpk_' + der.subarray(12).toString('base64'),
    fingerprint: 'SHA256:' + crypto.createHash('sha256').update(der).digest('base64').replace(/=+$/, '') });
  assert.doesNotMatch(pair.stdout, /PRIVATE|whsk_/, 'never the private key');
  const inspected = eventsOf('inspect', run(['inspect', pub, '--format', 'json']).raw)[0];
  assert.equal(inspected.fingerprint, key.fingerprint, 'as inspect names the key');

  const whsk = run(['keygen', '--key-format', 'whsk', '--private-key', path.join(out, 'k'), '--public-key',
    path.join(out, 'k.pub'), '--format', 'json']);
  assert.equal(whsk.status, 0, whsk.stderr);
  assert.equal(eventsOf('keygen', whsk.raw)[0].key_format, 'whsk');

  const printed = run(['keygen', '--hmac', '--format', 'json']);
  assert.equal(printed.status, 0, printed.stderr);
  assert.equal(Buffer.from(eventsOf('keygen', printed.raw)[0].secret.slice(6), 'base64').length, 32);
  const file = path.join(out, 'secret');
  const written = run(['keygen', '--hmac', '--out', file, '--format', 'json']);
  assert.equal(written.status, 0, written.stderr);
  assert.deepEqual(eventsOf('keygen', written.raw), [{ event: 'key', kind: 'hmac', secret_file: file }]);
  assert.doesNotMatch(written.stdout, /whsec_/, 'a secret written to a file is not printed');

  const again = run(['keygen', '--private-key', priv, '--public-key', pub, '--format', 'json']);
  assert.equal(again.status, 2);
  assert.equal(again.stdout, '');
});

test('every event each schema defines was printed by some run above', () => {
  for (const command of COMMANDS) {
    const { events, seen } = schemas[command];
    assert.deepEqual([...seen].sort(), Object.keys(events).sort(), `${command}: events never seen`);
  }
});

test('the schemas are draft 2020-12, with every event closed and naming its event', () => {
  for (const command of COMMANDS) {
    const schema = JSON.parse(fs.readFileSync(path.join(SCHEMAS, `${command}.schema.json`), 'utf8'));
    assert.equal(schema.$schema, 'https://json-schema.org/draft/2020-12/schema');
    for (const [name, def] of Object.entries(schema.$defs)) {
      assert.equal(def.additionalProperties, false, `${command}: ${name} is closed`);
      assert.ok(def.properties.event.const, `${command}: ${name} names its event`);
      assert.ok(def.required.includes('event'), `${command}: ${name} requires event`);
    }
  }
  const listed = fs.readdirSync(SCHEMAS).filter((f) => f.endsWith('.schema.json')).map((f) => f.replace('.schema.json', ''));
  assert.deepEqual(listed.sort(), [...COMMANDS].sort(), 'a schema per command that has --format json');
});
