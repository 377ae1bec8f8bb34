// Webhook receivers for `check` to judge, written with Node's http and
// crypto only: one that does everything right, and the same one with a
// single flaw switched on, each a mistake real endpoints make.
import http from 'node:http';
import https from 'node:https';
import crypto from 'node:crypto';

export const FLAWS = {
  'no-signature-check': 'never verifies webhook-signature (the timestamp is still checked)',
  'stale-accepted': 'accepts any timestamp in the past',
  'future-accepted': 'accepts any timestamp in the future',
  'first-entry-only': 'checks only the first entry of webhook-signature',
  'reserialises': 'verifies JSON.stringify(JSON.parse(body)) instead of the raw body',
  'no-dedupe': 'processes a repeated webhook-id again',
  '500-on-missing-header': 'throws (500) when webhook-id or webhook-timestamp is missing',
  'any-v1': 'takes any entry labelled v1 as valid, without checking it',
  'crash-on-malformed': 'throws (500) on a signature it cannot parse',
  'accepts-ms': 'reads a timestamp in milliseconds as seconds',
  'no-body-limit': 'reads bodies of any size',
  'any-method': 'answers every method, GET included',
  'exact-header-case': 'reads only lower-case header names (from rawHeaders)',
  'tight-tolerance': 'allows 60 s of skew where 300 are meant',
  'ignores-timestamp-in-signature': 'verifies <id>.<body>, leaving the timestamp out',
  'hangs-on-oversized': 'never answers a body over the limit',
  // Not a flaw: deduplicates, but answers a repeat as it answered the first.
  'silent-dedupe': 'answers a repeated webhook-id 200 {"ok":true,"duplicate":true}',
};

const BODY_LIMIT = 1024 * 1024;

function secretBytes(secret) {
  return Buffer.from(secret.startsWith('whsec_') ? secret.slice(6) : secret, 'base64');
}

// Verify like a correct receiver, but for the flaw switched on. Returns an
// HTTP status and a body.
function verify({ req, body, flaw, publicKey, secret, tolerance, seen }) {
  let headers = req.headers;
  if (flaw === 'exact-header-case') {
    headers = {};
    for (let i = 0; i < req.rawHeaders.length; i += 2) headers[req.rawHeaders[i]] = req.rawHeaders[i + 1];
  }
  const id = headers['webhook-id'];
  const ts = headers['webhook-timestamp'];
  const sig = headers['webhook-signature'];
  if (flaw === '500-on-missing-header') {
    id.trim(); // a TypeError when missing: the framework answers 500
    ts.trim();
  }
  if (!id || !ts || (!sig && flaw !== 'no-signature-check')) return [401, { error: 'missing signature headers' }];
  let t = /^\d+$/.test(ts) ? Number(ts) : NaN;
  if (Number.isNaN(t)) return [401, { error: 'bad timestamp' }];
  if (flaw === 'accepts-ms' && t > 1e12) t = Math.floor(t / 1000);
  const now = Math.floor(Date.now() / 1000);
  const allowed = flaw === 'tight-tolerance' ? 60 : tolerance;
  if (now - t > allowed && flaw !== 'stale-accepted') return [401, { error: 'too old' }];
  if (t - now > allowed && flaw !== 'future-accepted') return [401, { error: 'too new' }];

  const payload = flaw === 'reserialises' ? Buffer.from(JSON.stringify(JSON.parse(body.toString()))) : body;
  const content = flaw === 'ignores-timestamp-in-signature'
    ? Buffer.concat([Buffer.from(`${id}.`), payload])
    : Buffer.concat([Buffer.from(`${id}.${ts}.`), payload]);
  let entries = (sig ?? '').split(' ').filter(Boolean);
  if (flaw === 'first-entry-only') entries = entries.slice(0, 1);
  let valid = flaw === 'no-signature-check';
  for (const entry of entries) {
    const comma = entry.indexOf(',');
    if (comma < 0) {
      if (flaw === 'crash-on-malformed') throw new Error('no comma in the signature');
      continue;
    }
    const version = entry.slice(0, comma);
    const b64 = entry.slice(comma + 1);
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) {
      if (flaw === 'crash-on-malformed') throw new Error('bad base64');
      continue;
    }
    const bytes = Buffer.from(b64, 'base64');
    if (version === 'v1a' && publicKey && bytes.length === 64) {
      valid ||= crypto.verify(null, content, publicKey, bytes);
    } else if (version === 'v1' && flaw === 'any-v1') {
      valid = true;
    } else if (version === 'v1' && secret && bytes.length === 32) {
      const mac = crypto.createHmac('sha256', secretBytes(secret)).update(content).digest();
      valid ||= crypto.timingSafeEqual(mac, bytes);
    }
  }
  if (!valid) return [401, { error: 'invalid signature' }];
  if (flaw !== 'no-dedupe') {
    if (seen.has(id)) return flaw === 'silent-dedupe' ? [200, { ok: true, duplicate: true }] : [409, { error: 'duplicate' }];
    seen.add(id);
  }
  return [200, { ok: true }];
}

// Start an endpoint on 127.0.0.1:0 with `flaw` (or none). `publicKey` is a
// PEM, `secret` a whsec_ string; either may be left out; `tls` ({key, cert})
// serves https. Resolves with its URL, counts of what it saw, and close().
// `closeAfterAnswer` drops every connection after its answer without a
// Connection: close (HTTP allows it; clients must cope).
// `limitByLength` answers 413 from Content-Length alone and stops reading,
// keeping the connection open.
export function startEndpoint({ flaw = null, publicKey = null, secret = null, tolerance = 300, tls = null,
  closeAfterAnswer = false, limitByLength = false } = {}) {
  if (flaw !== null && !(flaw in FLAWS)) throw new Error(`no such flaw: ${flaw}`);
  const key = publicKey ? crypto.createPublicKey(publicKey) : null;
  const seen = new Set();
  const state = { accepted: 0, requests: 0, bodies: [] };
  const handler = (req, res) => {
    state.requests += 1;
    const answer = (status, doc) => {
      if (status < 300) state.accepted += 1;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(doc));
      if (closeAfterAnswer) res.on('finish', () => req.socket.destroy());
    };
    if (req.method !== 'POST' && flaw !== 'any-method') {
      res.setHeader('allow', 'POST');
      answer(405, { error: 'method not allowed' });
      req.resume();
      return;
    }
    // What Express's body parsers do: refuse by Content-Length before a
    // byte of the body is read, keep the connection, and stop reading.
    if (limitByLength && Number(req.headers['content-length']) > BODY_LIMIT) {
      answer(413, { error: 'body too large' });
      req.pause();
      return;
    }
    const chunks = [];
    let size = 0;
    let refused = false;
    req.on('data', (d) => {
      size += d.length;
      if (size > BODY_LIMIT && flaw !== 'no-body-limit' && !refused) {
        refused = true;
        if (flaw === 'hangs-on-oversized') return;
        res.setHeader('connection', 'close');
        answer(413, { error: 'body too large' });
        return;
      }
      if (!refused) chunks.push(d);
    });
    req.on('end', () => {
      if (refused) return;
      if (state.bodies.length < 4) state.bodies.push(Buffer.concat(chunks));
      try {
        const [status, doc] = verify({ req, body: Buffer.concat(chunks), flaw, publicKey: key, secret, tolerance, seen });
        answer(status, doc);
      } catch (e) {
        answer(500, { error: String(e.message) });
      }
    });
  };
  const server = tls ? https.createServer(tls, handler) : http.createServer(handler);
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      resolve({
        url: `${tls ? 'https' : 'http'}://127.0.0.1:${port}/hook`,
        state,
        close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }),
      });
    });
  });
}
