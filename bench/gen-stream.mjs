// Write N captures as JSON Lines, each with a ~1 KB custom-action body,
// signed v1a (Ed25519) or v1 (HMAC) by Node's crypto.
// Usage: node bench/gen-stream.mjs v1a|v1 N OUT.jsonl KEYDIR
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

const [scheme, count, out, keydir] = [process.argv[2], Number(process.argv[3]), process.argv[4], process.argv[5]];
let sign;
if (scheme === 'v1a') {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ed25519');
  fs.writeFileSync(path.join(keydir, 'pub.pem'), publicKey.export({ type: 'spki', format: 'pem' }));
  sign = (content) => 'v1a,' + crypto.sign(null, Buffer.from(content), privateKey).toString('base64');
} else {
  const secret = crypto.randomBytes(32);
  fs.writeFileSync(path.join(keydir, 'secret'), 'whsec_' + secret.toString('base64') + '\n');
  sign = (content) => 'v1,' + crypto.createHmac('sha256', secret).update(content).digest('base64');
}
const fd = fs.openSync(out, 'w');
const ts = String(Math.floor(Date.now() / 1000));
let buffer = [];
for (let i = 0; i < count; i++) {
  const id = 'msg_' + crypto.randomBytes(16).toString('hex');
  const body = JSON.stringify({
    type: 'external_integration',
    timestamp: new Date().toISOString(),
    data: {
      org_id: '739224',
      entity: { _id: crypto.randomUUID(), _schema: 'opportunity', _org: '739224', _title: `OPP-${i} Wärmepumpe`,
        address: [{ street: 'Hauptstraße', street_number: String(i % 200), postal_code: '50667', city: 'Köln', country: 'DE' }],
        email: [{ email: `customer${i}@example.com` }], notes: 'x'.repeat(420) },
      action_config: { app_id: 'd4e5f6a7-b8c9-4d0e-a1f2-b3c4d5e6f7a8', name: 'Run credit check', wait_for_callback: false },
      app_config: {}, app_options: { client_id: 'acme-client-42' },
      execution_id: crypto.randomUUID(), execution_status: 'in_progress', exection_action_id: 'Jx7kQ2mR',
      trigger_event: 'opportunity.created',
    },
  });
  const headers = { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': ts, 'webhook-signature': sign(`${id}.${ts}.${body}`) };
  buffer.push(JSON.stringify({ method: 'POST', url: 'http://localhost:3000/hook', headers, body }));
  if (buffer.length === 1000) {
    fs.writeSync(fd, buffer.join('\n') + '\n');
    buffer = [];
  }
}
if (buffer.length) fs.writeSync(fd, buffer.join('\n') + '\n');
fs.closeSync(fd);
