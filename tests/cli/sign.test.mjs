import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { run, tmpdir, fixture, checkStderrGrammar } from './helpers.mjs';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const secretKey = Buffer.from(SECRET.slice(6), 'base64');

function keypair() {
  const dir = tmpdir();
  const priv = path.join(dir, 'k.pem');
  const pub = path.join(dir, 'k.pub.pem');
  assert.equal(run(['keygen', '--private-key', priv, '--public-key', pub]).status, 0);
  return { dir, priv, pub };
}

// Check a capture's signatures with Node's crypto, independently of our verifier.
function nodeVerifies(capture, { pub, secret }) {
  const h = capture.headers;
  const body = capture.body_base64 ? Buffer.from(capture.body_base64, 'base64') : Buffer.from(capture.body);
  const content = Buffer.concat([Buffer.from(`${h['webhook-id']}.${h['webhook-timestamp']}.`), body]);
  const found = {};
  for (const entry of h['webhook-signature'].split(' ')) {
    const [v, sig] = entry.split(',');
    if (v === 'v1a' && pub) found.v1a = crypto.verify(null, content, fs.readFileSync(pub), Buffer.from(sig, 'base64'));
    if (v === 'v1' && secret) found.v1 = crypto.createHmac('sha256', secret).update(content).digest('base64') === sig;
  }
  return found;
}

test('sign with no payload signs the built-in custom-action payload byte for byte', () => {
  const { priv, pub } = keypair();
  const r = run(['sign', '--private-key', priv]);
  assert.equal(r.status, 0, r.stderr);
  const capture = JSON.parse(r.stdout);
  assert.equal(capture.method, 'POST');
  assert.equal(capture.body, fs.readFileSync(fixture('payloads/custom-action.json'), 'utf8'));
  const body = JSON.parse(capture.body);
  assert.equal(body.type, 'external_integration');
  assert.ok('exection_action_id' in body.data, 'epilot spells it exection_action_id');
  assert.equal(typeof body.data.entity, 'object');
  assert.match(capture.headers['webhook-id'], /^msg_[0-9a-f]{32}$/);
  assert.match(capture.headers['webhook-timestamp'], /^\d+$/);
  assert.ok(Math.abs(Number(capture.headers['webhook-timestamp']) - Date.now() / 1000) < 60);
  assert.match(capture.headers['webhook-signature'], /^v1a,[A-Za-z0-9+/]{86}==$/);
  assert.deepEqual(nodeVerifies(capture, { pub }), { v1a: true });
});

test('sign with a key and a secret puts v1a first, then v1; both verify under Node crypto', () => {
  const { priv, pub } = keypair();
  const secretFile = path.join(tmpdir(), 's');
  fs.writeFileSync(secretFile, SECRET + '\n');
  const r = run(['sign', '--private-key', priv, '--secret-file', secretFile, '--id', 'msg_x', '--timestamp', '1700000000']);
  assert.equal(r.status, 0, r.stderr);
  const capture = JSON.parse(r.stdout);
  assert.equal(capture.headers['webhook-id'], 'msg_x');
  assert.equal(capture.headers['webhook-timestamp'], '1700000000');
  assert.match(capture.headers['webhook-signature'], /^v1a,\S+ v1,\S+$/);
  assert.deepEqual(nodeVerifies(capture, { pub, secret: secretKey }), { v1a: true, v1: true });
});

test('sign takes the secret from EPILOT_ACTION_SECRET and never prints it', () => {
  const r = run(['sign', '--id', 'msg_1', '--timestamp', '1614265330', fixture('payloads/custom-action.json')], {
    env: { EPILOT_ACTION_SECRET: SECRET },
  });
  assert.equal(r.status, 0, r.stderr);
  assert.ok(!r.stdout.includes(SECRET.slice(6)) && !r.stderr.includes(SECRET.slice(6)));
  assert.match(JSON.parse(r.stdout).headers['webhook-signature'], /^v1,/);
});

test('sign reproduces TV-H1 exactly from a payload on stdin', () => {
  const r = run(['sign', '-', '--secret', SECRET, '--id', 'msg_p5jXN8AQM9LWM0D4loKWxJek', '--timestamp', '1614265330'], {
    input: '{"test": 2432232314}',
  });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).headers['webhook-signature'], 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
});

test('a body that is not UTF-8 is kept byte-exact as body_base64', () => {
  const bytes = Buffer.from([0x00, 0xff, 0xfe, 0x0a, 0x0d, 0x80]);
  const r = run(['sign', '-', '--secret', SECRET], { input: bytes });
  assert.equal(r.status, 0, r.stderr);
  const capture = JSON.parse(r.stdout);
  assert.equal(capture.body, undefined);
  assert.deepEqual(Buffer.from(capture.body_base64, 'base64'), bytes);
  assert.deepEqual(nodeVerifies(capture, { secret: secretKey }), { v1: true });
});

test('sign --format http writes a raw request that verify reads back', () => {
  const dir = tmpdir();
  const out = path.join(dir, 'req.http');
  const r = run(['sign', '--secret', SECRET, '--format', 'http', '--url', 'http://127.0.0.1:8080/hook', '-H', 'x-epilot-token: eyJ.test', '--out', out]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, '');
  const text = fs.readFileSync(out, 'utf8');
  assert.match(text, /^POST \/hook HTTP\/1\.1\r\nHost: 127\.0\.0\.1:8080\r\n/);
  assert.match(text, /\r\nx-epilot-token: eyJ\.test\r\n/);
  const v = run(['verify', out, '--secret', SECRET]);
  assert.equal(v.status, 0, v.stdout + v.stderr);
  assert.deepEqual(fs.readdirSync(dir), ['req.http'], 'no temporary file left');
});

test('sign refuses what it cannot sign, with exit 2 and a hint', () => {
  const cases = [
    [['sign'], /no signing key/],
    [['sign', '--secret', SECRET, '/nonexistent/payload.json'], /cannot open \/nonexistent\/payload\.json/],
    [['sign', '--secret', SECRET, '--timestamp', '17e8'], /--timestamp/],
    [['sign', '--secret', SECRET, '--id', 'has space'], /--id/],
    [['sign', '--secret', SECRET, '-H', 'webhook-id: x'], /can't set webhook-id/],
    [['sign', '--secret', SECRET, '-H', 'novalue'], /has no ':'/],
    [['sign', '--secret', 'whsec_!!!!'], /not valid base64/],
    [['sign', '--private-key', fixture('keys/rsa-2048.pem')], /RSA/],
    [['sign', '--private-key', fixture('keys/openssl-ed25519.pub.pem')], /got a public key/],
    [['sign', '--secret', SECRET, '--format', 'yaml'], /yaml/],
  ];
  for (const [args, pattern] of cases) {
    const r = run(args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, pattern, args.join(' '));
    assert.equal(r.stdout, '', 'nothing on stdout on error');
    checkStderrGrammar(assert, r.stderr);
    assert.ok(!r.stderr.includes('MfKQ9r8'), 'the secret is never echoed');
  }
});

test('sign uses the default local keypair and warns about a readable private key', () => {
  const config = tmpdir();
  assert.equal(run(['keygen'], { config }).status, 0);
  const keyPath = path.join(config, 'epilot-action', 'private-key.pem');
  fs.chmodSync(keyPath, 0o644);
  const r = run(['sign'], { config });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /warning: private key .* is readable by others \(mode 0644\); run: chmod 600/);
  assert.match(JSON.parse(r.stdout).headers['webhook-signature'], /^v1a,/);
});

test('sign accepts a key made by openssl genpkey', () => {
  const r = run(['sign', '--private-key', fixture('keys/openssl-ed25519.pem')]);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(nodeVerifies(JSON.parse(r.stdout), { pub: fixture('keys/openssl-ed25519.pub.pem') }), { v1a: true });
});

// --- Issue 10: one meaning per file ---

test('sign of a payload with placeholders fills them; other {{...}} text is the payload\'s', () => {
  const { priv, pub } = keypair();
  const r = run(['sign', fixture('payloads/contact-updated.json'), '--private-key', priv]);
  assert.equal(r.status, 0, r.stderr);
  const capture = JSON.parse(r.stdout);
  assert.doesNotMatch(capture.body, /\{\{/);
  assert.match(JSON.parse(capture.body).data.entity._id, /^[0-9a-f]{8}-[0-9a-f]{4}-4/);
  assert.deepEqual(nodeVerifies(capture, { pub }), { v1a: true });
  // A payload without a placeholder is signed as it is, Handlebars and all.
  const dir = tmpdir();
  const email = path.join(dir, 'email.json');
  fs.writeFileSync(email, '{"template":"Hello {{contact.name}}, {{ order.total }}"}\n');
  const e = run(['sign', email, '--private-key', priv]);
  assert.equal(e.status, 0, e.stderr);
  assert.equal(JSON.parse(e.stdout).body, fs.readFileSync(email, 'utf8'));
  assert.equal(e.stderr, '');
});

test('sign --fixture takes a path; a capture given to sign is signed again, keeping its request', () => {
  const { priv, pub } = keypair();
  const dir = tmpdir();
  const mine = path.join(dir, 'my.json');
  fs.writeFileSync(mine, '{"id":"{{uuid}}","n":"{{option.n|1}}"}');
  const f = run(['sign', '--fixture', mine, '--private-key', priv, '--option', 'n=5']);
  assert.equal(f.status, 0, f.stderr);
  const body = JSON.parse(JSON.parse(f.stdout).body);
  assert.match(body.id, /^[0-9a-f-]{36}$/);
  assert.equal(body.n, '5');
  // Relative, as a user types it.
  const rel = run(['sign', '--fixture', './my.json', '--private-key', priv], { cwd: dir });
  assert.equal(rel.status, 0, rel.stderr);

  const old = path.join(dir, 'old.json');
  assert.equal(run(['sign', '--private-key', priv, '--timestamp', '1600000000', '--url', 'http://127.0.0.1:9/hook',
    '-X', 'PUT', '-H', 'x-epilot-token: eyJ.x', '-o', old]).status, 0);
  const again = run(['sign', old, '--private-key', priv]);
  assert.equal(again.status, 0, again.stderr);
  const before = JSON.parse(fs.readFileSync(old, 'utf8'));
  const after = JSON.parse(again.stdout);
  assert.equal(after.body, before.body);
  assert.equal(after.url, 'http://127.0.0.1:9/hook');
  assert.equal(after.method, 'PUT');
  assert.equal(after.headers['x-epilot-token'], 'eyJ.x');
  assert.notEqual(after.headers['webhook-timestamp'], '1600000000');
  assert.equal(after.headers['webhook-signature'].split(' ').length, 1, 'the old signature is replaced, not kept');
  assert.deepEqual(nodeVerifies(after, { pub }), { v1a: true });
  // A file of many requests is for replay.
  const many = run(['sign', fixture('captures/stream.jsonl'), '--private-key', priv]);
  assert.equal(many.status, 2);
  assert.match(many.stderr, /holds 3 requests; sign takes one/);
});

test('a payload on stdin that ends with a newline is signed with it, and a warning says so', () => {
  const r = run(['sign', '-', '--secret', SECRET], { input: '{"a":1}\n' });
  assert.equal(r.status, 0);
  assert.equal(JSON.parse(r.stdout).body, '{"a":1}\n');
  assert.match(r.stderr, /warning: the payload on stdin ends with a newline, which is signed as part of the body/);
  const clean = run(['sign', '-', '--secret', SECRET], { input: '{"a":1}' });
  assert.equal(clean.stderr, '');
});

test('a body that is not JSON is not labelled application/json unless asked', () => {
  const text = run(['sign', '-', '--secret', SECRET], { input: 'plain words' });
  assert.equal(JSON.parse(text.stdout).headers['content-type'], 'text/plain; charset=utf-8');
  const bytes = run(['sign', '-', '--secret', SECRET], { input: Buffer.from([0xff, 0x00]) });
  assert.equal(JSON.parse(bytes.stdout).headers['content-type'], 'application/octet-stream');
  const asked = run(['sign', '-', '--secret', SECRET, '-H', 'content-type: application/json'], { input: 'plain words' });
  assert.equal(JSON.parse(asked.stdout).headers['content-type'], 'application/json');
  const json = run(['sign', '-', '--secret', SECRET], { input: '[1,2]' });
  assert.equal(JSON.parse(json.stdout).headers['content-type'], 'application/json');
});

test('inspect and verify of a payload say it is a payload, not a capture', () => {
  for (const command of ['inspect', 'verify']) {
    const r = run([command, fixture('payloads/custom-action.json'), '--secret', SECRET].slice(0, command === 'inspect' ? 2 : 4));
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /this is a payload, not a capture/);
    // What a capture is, then what to do with the payload instead.
    assert.match(r.stderr, /hint: a capture is a request as received.*\n.*hint: .*epilot-action sign FILE/);
    checkStderrGrammar(assert, r.stderr);
  }
});

test('inspect names a request template and a text payload as what they are', () => {
  const t = run(['inspect', fixture('payloads/custom-headers.request.json')]);
  assert.equal(t.status, 2);
  assert.match(t.stderr, /this is a request template, not a capture/);
  const dir = tmpdir();
  const note = path.join(dir, 'note.txt');
  fs.writeFileSync(note, 'just words');
  const n = run(['inspect', note]);
  assert.equal(n.status, 2);
  assert.match(n.stderr, /this is a payload, not a capture/);
  const spaced = path.join(dir, 'spaced.json');
  fs.writeFileSync(spaced, '{"id":"{{uuid}}","name":"{{ first_name }}"}');
  const w = run(['sign', spaced, '--secret', SECRET]);
  assert.equal(w.status, 0);
  assert.match(w.stderr, /\{\{ first_name \}\} is not a placeholder; it is kept as written/);
});
