// The built-in fixtures through the real binary: listed, shown, filled and
// signed, each checked by Node's crypto.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { run, tmpdir, fixture } from './helpers.mjs';

const files = fs.readdirSync(fixture('payloads')).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).sort();

test('fixtures lists every payload file and shows each byte for byte', () => {
  const r = run(['fixtures']);
  assert.equal(r.status, 0);
  assert.deepEqual(r.stdout.trim().split('\n').map((l) => l.split(/\s+/)[0]), files);
  for (const name of files) {
    const shown = run(['fixtures', 'show', name]).stdout;
    assert.equal(shown, fs.readFileSync(fixture(`payloads/${name}.json`), 'utf8') + '\n', name);
  }
  assert.equal(run(['fixtures', 'show', 'nope']).status, 2);
});

test('every fixture signs, with placeholders filled, and verifies under Node crypto', () => {
  const dir = tmpdir();
  const priv = path.join(dir, 'k.pem');
  const pub = path.join(dir, 'k.pub.pem');
  assert.equal(run(['keygen', '--private-key', priv, '--public-key', pub]).status, 0);
  for (const name of files) {
    const r = run(['sign', '--fixture', name, '--private-key', priv, '--option', 'api_key=k-123']);
    assert.equal(r.status, 0, `${name}: ${r.stderr}`);
    const c = JSON.parse(r.stdout);
    assert.ok(!c.body.includes('{{'), `${name} still has a placeholder`);
    const body = JSON.parse(c.body);
    assert.equal(body.type, 'external_integration', name);
    const h = c.headers;
    const content = Buffer.from(`${h['webhook-id']}.${h['webhook-timestamp']}.${c.body}`);
    assert.ok(crypto.verify(null, content, fs.readFileSync(pub), Buffer.from(h['webhook-signature'].slice(4), 'base64')), name);
    if (name === 'custom-headers.request') assert.equal(h['x-api-key'], 'k-123');
    if (name === 'wait-for-callback') assert.match(body.data.resume_token, /^rt_[0-9a-f-]{36}$/);
    if (name !== 'custom-action') assert.ok(Math.abs(Date.parse(body.timestamp) - Date.now()) < 60000, `${name}: {{now}} is now`);
  }
});

test('--set overrides fields with strings or JSON; a missing option is exit 2', () => {
  const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
  const r = run(['sign', '--fixture', 'contact-updated', '--secret', secret, '--set', 'data.org_id=123', '--set', 'data.retries:=3']);
  assert.equal(r.status, 0, r.stderr);
  const body = JSON.parse(JSON.parse(r.stdout).body);
  assert.equal(body.data.org_id, '123');
  assert.equal(body.data.retries, 3);
  // --set works on the default payload and on files too.
  const d = JSON.parse(JSON.parse(run(['sign', '--secret', secret, '--set', 'data.org_id=9']).stdout).body);
  assert.equal(d.data.org_id, '9');
  const e = run(['sign', '--fixture', 'contact-updated', '--secret', secret, '--set', 'data.n:={bad']);
  assert.equal(e.status, 2);
  assert.match(e.stderr, /not JSON/);
  const env = run(['sign', '--fixture', 'custom-headers.request', '--secret', secret, '--option', 'org_id=77']);
  assert.equal(JSON.parse(env.stdout).headers['x-acme-tenant'], '77');
  const missing = run(['fixtures', 'show', 'custom-action', '--filled', '--option', 'bad']);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /is not NAME=VALUE/);
});

test('a fixtures folder of your own (--fixtures DIR or EPILOT_ACTION_FIXTURES) is listed, shown and signed', () => {
  const dir = tmpdir();
  fs.writeFileSync(path.join(dir, 'team-event.json'), '{"type":"external_integration","data":{"trigger_event":"team.changed","id":"{{uuid}}"}}');
  fs.writeFileSync(path.join(dir, 'custom-action.json'), '{"mine":true}');
  fs.writeFileSync(path.join(dir, 'notes.md'), 'not a fixture');
  const listed = run(['fixtures', '--fixtures', dir]);
  assert.equal(listed.status, 0, listed.stderr);
  const rows = listed.stdout.trim().split('\n');
  const names = rows.map((l) => l.split(/\s+/)[0]);
  assert.deepEqual(names, [...new Set([...files, 'team-event'])].sort());
  assert.match(rows.find((l) => l.startsWith('team-event')), /team\.changed.*\(.*team-event\.json\)/);
  assert.match(rows.find((l) => l.startsWith('custom-action')), /custom-action\.json\)/, 'a name of yours replaces the built-in one');
  const env = { EPILOT_ACTION_FIXTURES: dir };
  assert.equal(run(['fixtures'], { env }).stdout, listed.stdout);
  assert.equal(run(['fixtures', 'show', 'custom-action'], { env }).stdout, '{"mine":true}\n');
  const signed = run(['sign', '--fixture', 'team-event', '--secret', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'], { env });
  assert.equal(signed.status, 0, signed.stderr);
  assert.match(JSON.parse(JSON.parse(signed.stdout).body).data.id, /^[0-9a-f-]{36}$/);
  const missing = run(['fixtures', '--fixtures', path.join(dir, 'absent')]);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /can't read the fixtures folder .*absent/);
  const typo = run(['fixtures', 'show', 'team-evnt', '--fixtures', dir]);
  assert.equal(typo.status, 2);
  assert.match(typo.stderr, /did you mean: team-event\?/);
});
