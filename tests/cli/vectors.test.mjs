// The same vector files the unit tests read, run through the real binary.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { run, tmpdir, fixture, readVector } from './helpers.mjs';

const dir = fixture('vectors');
const vectors = fs.readdirSync(dir).filter((f) => f.endsWith('.txt')).map((f) => readVector(path.join(dir, f)));

test('the vector set is there', () => {
  assert.ok(vectors.length >= 40, `only ${vectors.length} vectors`);
});

for (const v of vectors) {
  const expect = v.fields.expect[0];
  test(`${v.name}: ${expect}`, () => {
    const work = tmpdir();
    const keyArgs = [];
    (v.fields.secret ?? []).forEach((s, i) => {
      const file = path.join(work, `secret${i}`);
      fs.writeFileSync(file, s + '\n');
      keyArgs.push('--secret-file', file);
    });
    for (const k of v.fields['public-key'] ?? []) keyArgs.push('--public-key', k);

    if (v.fields['private-key']) {
      // The private key goes through `sign`; a valid vector's signature is reproduced exactly.
      const keyFile = path.join(work, 'private');
      fs.writeFileSync(keyFile, v.fields['private-key'][0] + '\n', { mode: 0o600 });
      const bodyFile = path.join(work, 'payload');
      fs.writeFileSync(bodyFile, v.body);
      const s = run(['sign', bodyFile, '--private-key', keyFile, '--id', v.fields.id[0], '--timestamp', v.fields.timestamp[0]]);
      if (expect === 'bad_key') {
        assert.equal(s.status, 2, s.stderr);
        assert.match(s.stderr, /^epilot-action: error: .*private/);
        return;
      }
      assert.equal(s.status, 0, s.stderr);
      const sig = v.fields.signature[0];
      if (expect === 'valid' && !sig.includes(' ') && sig.startsWith('v1a,')) {
        assert.equal(JSON.parse(s.stdout).headers['webhook-signature'], sig);
      }
    }

    const bodyFile = path.join(work, 'body');
    fs.writeFileSync(bodyFile, v.body);
    const headerArgs = [];
    for (const [field, header] of [['id', 'webhook-id'], ['timestamp', 'webhook-timestamp'], ['signature', 'webhook-signature']]) {
      if (v.fields[field]) headerArgs.push('-H', `${header}: ${v.fields[field][0]}`);
    }
    if (keyArgs.length === 0) return;  // private-key-only vectors were checked through sign
    const r = run(['verify', '--body', bodyFile, ...headerArgs, ...keyArgs, '--now', v.fields.now[0], '--format', 'json']);
    if (expect === 'bad_key') {
      assert.equal(r.status, 2, r.stdout + r.stderr);
      assert.match(r.stderr, /^epilot-action: error: /);
      assert.equal(r.stdout, '');
      return;
    }
    assert.equal(r.status, expect === 'valid' ? 0 : 1, r.stdout + r.stderr);
    const doc = JSON.parse(r.stdout);
    assert.equal(doc.verdict, expect);
    const codes = doc.reasons.map((x) => x.code);
    for (const code of v.fields.reason ?? []) assert.ok(codes.includes(code), `no ${code} among ${codes}`);
  });
}
