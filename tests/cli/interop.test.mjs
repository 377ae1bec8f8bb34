// Both directions against implementations nobody on this project wrote:
// Node's crypto (Ed25519, HMAC), the standardwebhooks npm package (v1) and
// the OpenSSL command line (Ed25519, raw input).
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { run, tmpdir, fixture } from './helpers.mjs';

// Installed by the README's test command (npm ci in tests/cli); a missing
// package is a failure, not a skip.
const { Webhook } = createRequire(import.meta.url)('standardwebhooks');

const payload = fs.readFileSync(fixture('payloads/custom-action.json'));

function capture(headers, body = payload) {
  const file = path.join(tmpdir(), 'capture.json');
  fs.writeFileSync(file, JSON.stringify({ method: 'POST', url: 'http://localhost:3000/', headers, body: body.toString() }));
  return file;
}

test('a v1a request signed by Node crypto verifies; the same request tampered does not', () => {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ed25519');
  const pubFile = path.join(tmpdir(), 'node.pub.pem');
  fs.writeFileSync(pubFile, publicKey.export({ type: 'spki', format: 'pem' }));
  const id = 'msg_' + crypto.randomBytes(16).toString('hex');
  const ts = String(Math.floor(Date.now() / 1000));
  const sig = crypto.sign(null, Buffer.concat([Buffer.from(`${id}.${ts}.`), payload]), privateKey).toString('base64');
  const headers = { 'webhook-id': id, 'webhook-timestamp': ts, 'webhook-signature': `v1a,${sig}` };
  const ok = run(['verify', capture(headers), '--public-key', pubFile]);
  assert.equal(ok.status, 0, ok.stdout + ok.stderr);
  // The whpk_ form of Node's key works too.
  const raw = publicKey.export({ type: 'spki', format: 'der' }).subarray(12).toString('base64');
  assert.equal(run(['verify', capture(headers), '--public-key', `whpk_${raw}`]).status, 0);
  const bad = run(['verify', capture(headers, Buffer.concat([payload, Buffer.from('\n')])), '--public-key', pubFile]);
  assert.equal(bad.status, 1);
});

test('a v1 request signed by the standardwebhooks npm package verifies', () => {
  const secret = 'whsec_' + crypto.randomBytes(32).toString('base64');
  const wh = new Webhook(secret);
  const id = 'msg_' + crypto.randomBytes(16).toString('hex');
  const now = new Date();
  const sig = wh.sign(id, now, payload.toString());
  const headers = { 'webhook-id': id, 'webhook-timestamp': String(Math.floor(now.getTime() / 1000)), 'webhook-signature': sig };
  const secretFile = path.join(tmpdir(), 'secret');
  fs.writeFileSync(secretFile, secret);
  const r = run(['verify', capture(headers), '--secret-file', secretFile]);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const wrong = run(['verify', capture(headers), '--secret', 'whsec_' + crypto.randomBytes(32).toString('base64')]);
  assert.equal(wrong.status, 1);
});

test('requests signed by epilot-action verify with the standardwebhooks package and Node crypto', () => {
  const dir = tmpdir();
  const priv = path.join(dir, 'k.pem');
  const pub = path.join(dir, 'k.pub.pem');
  assert.equal(run(['keygen', '--private-key', priv, '--public-key', pub]).status, 0);
  const secret = run(['keygen', '--hmac']).stdout.trim();
  const r = run(['sign', '--private-key', priv], { env: { EPILOT_ACTION_SECRET: secret } });
  assert.equal(r.status, 0, r.stderr);
  const c = JSON.parse(r.stdout);
  // standardwebhooks reads the v1 entry and ignores v1a, as the spec says.
  const parsed = new Webhook(secret).verify(c.body, c.headers);
  assert.equal(parsed.type, 'external_integration');
  // Node crypto checks the v1a entry.
  const v1a = c.headers['webhook-signature'].split(' ').find((e) => e.startsWith('v1a,')).slice(4);
  const content = Buffer.from(`${c.headers['webhook-id']}.${c.headers['webhook-timestamp']}.${c.body}`);
  assert.equal(crypto.verify(null, content, fs.readFileSync(pub), Buffer.from(v1a, 'base64')), true);
  // And a tampered body fails under standardwebhooks.
  assert.throws(() => new Webhook(secret).verify(c.body + ' ', c.headers), /No matching signature/);
});

test('a v1a signature made by epilot-action verifies with openssl pkeyutl -verify -rawin', () => {
  const dir = tmpdir();
  const priv = path.join(dir, 'k.pem');
  const pub = path.join(dir, 'k.pub.pem');
  assert.equal(run(['keygen', '--private-key', priv, '--public-key', pub]).status, 0);
  const c = JSON.parse(run(['sign', '--private-key', priv]).stdout);
  const content = path.join(dir, 'content');
  fs.writeFileSync(content, `${c.headers['webhook-id']}.${c.headers['webhook-timestamp']}.${c.body}`);
  const sig = path.join(dir, 'sig');
  fs.writeFileSync(sig, Buffer.from(c.headers['webhook-signature'].slice(4), 'base64'));
  const out = execFileSync('openssl', ['pkeyutl', '-verify', '-rawin', '-pubin', '-inkey', pub, '-in', content, '-sigfile', sig]).toString();
  assert.match(out, /Signature Verified Successfully/);
  // openssl rejects it once the content changes: the check above is not vacuous.
  fs.appendFileSync(content, 'x');
  const bad = spawnSync('openssl', ['pkeyutl', '-verify', '-rawin', '-pubin', '-inkey', pub, '-in', content, '-sigfile', sig]);
  assert.notEqual(bad.status, 0);
});

test('a v1a signature made by openssl pkeyutl -sign -rawin verifies with epilot-action', () => {
  const dir = tmpdir();
  const priv = path.join(dir, 'o.pem');
  const pub = path.join(dir, 'o.pub.pem');
  execFileSync('openssl', ['genpkey', '-algorithm', 'ED25519', '-out', priv]);
  execFileSync('openssl', ['pkey', '-in', priv, '-pubout', '-out', pub]);
  const id = 'msg_' + crypto.randomBytes(16).toString('hex');
  const ts = String(Math.floor(Date.now() / 1000));
  const content = path.join(dir, 'content');
  fs.writeFileSync(content, Buffer.concat([Buffer.from(`${id}.${ts}.`), payload]));
  const sig = execFileSync('openssl', ['pkeyutl', '-sign', '-rawin', '-inkey', priv, '-in', content]).toString('base64');
  const headers = { 'webhook-id': id, 'webhook-timestamp': ts, 'webhook-signature': `v1a,${sig}` };
  const r = run(['verify', capture(headers), '--public-key', pub]);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  // epilot-action's own signature with the openssl key is byte-identical (Ed25519 is deterministic).
  const ours = JSON.parse(run(['sign', '-', '--private-key', priv, '--id', id, '--timestamp', ts], { input: payload }).stdout);
  assert.equal(ours.headers['webhook-signature'], `v1a,${sig}`);
});
