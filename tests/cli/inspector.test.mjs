// listen --ui: the web inspector, in a real browser (Debian's chromium,
// driven by puppeteer-core), fed by the real binary's replay; and its API
// and guards over plain HTTP.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import http from 'node:http';
import net from 'node:net';
import crypto from 'node:crypto';
import { spawnSync } from 'node:child_process';
import puppeteer from 'puppeteer-core';
import { tmpdir, run, runAsync, startListenProcess, testKeys } from './helpers.mjs';

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const keys = testKeys();
const otherKeys = testKeys();

function startInspector(extra = []) {
  return startListenProcess(['--ui', '0', '--public-key', keys.pubFile, '--private-key', keys.privFile, ...extra])
    .then((l) => ({ ...l, ui: l.events[0].ui }));
}

function stop(l) {
  l.proc.kill('SIGTERM');
  return l.exited;
}

// One raw HTTP exchange, so that Host and Origin are what the test says.
function request(url, { method = 'GET', headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, setHost: !('Host' in headers) }, (res) => {
      let data = '';
      res.on('data', (d) => { data += d; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: data }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function replay(url, args = []) {
  return runAsync(['replay', '--url', url, '-q', ...args]);
}

async function openPage(ui) {
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run'],
  });
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(ui);
  await page.waitForSelector('#live.on');
  return { browser, page, errors };
}

const rowCount = (page) => page.$$eval('#rows tr', (rows) => rows.length);

// Click the row `selector` and wait until the detail shows that request.
async function openDetail(page, selector) {
  const seq = await page.$eval(selector, (tr) => tr.dataset.seq);
  await page.$eval('#detail', (d) => d.removeAttribute('data-seq'));  // not the detail shown before
  await page.click(selector);
  await page.waitForSelector(`#detail[data-seq="${seq}"]`);
}

test('rows appear live; a forged one shows its reason; script in a request stays text; replay from the page reaches listen', async () => {
  const l = await startInspector();
  const { browser, page, errors } = await openPage(l.ui);
  try {
    assert.equal(await rowCount(page), 0);

    // A genuine request, sent after the page opened: its row comes by itself.
    assert.equal((await replay(`${l.url}hook`, ['--private-key', keys.privFile, '--mock-token'])).status, 0);
    await page.waitForFunction(() => document.querySelectorAll('#rows tr').length === 1);
    assert.equal(await page.$eval('#rows tr td.verdict', (td) => td.textContent), 'verified');

    // A forged one: signed with a key listen does not have.
    await replay(`${l.url}hook`, ['--private-key', otherKeys.privFile]);
    await page.waitForFunction(() => document.querySelectorAll('#rows tr').length === 2);
    const forged = await page.$eval('#rows tr:first-child', (tr) => ({
      verdict: tr.querySelector('td.verdict').textContent,
      reason: tr.querySelector('td.reason').textContent,
    }));
    assert.equal(forged.verdict, 'signature_mismatch');
    assert.match(forged.reason, /^signature_mismatch: no entry of webhook-signature verifies/);

    // Hostile bytes in the body, a header and the path.
    const dir = tmpdir();
    const payload = path.join(dir, 'hostile.json');
    fs.writeFileSync(payload, JSON.stringify({ note: '<script>window.__pwned = 1</script>' }));
    const hostileHeader = '"><img src=x onerror="window.__pwned=2">';
    await replay(`${l.url}hook`, ['--private-key', keys.privFile, '-H', `x-note: ${hostileHeader}`, payload]);
    await page.waitForFunction(() => document.querySelectorAll('#rows tr').length === 3);
    await openDetail(page, '#rows tr:first-child');
    const shown = await page.evaluate(() => ({
      body: document.querySelector('#detail pre.body').textContent,
      detail: document.querySelector('#detail').textContent,
      images: document.querySelectorAll('img').length,
      scripts: document.querySelectorAll('script').length,
      pwned: window.__pwned,
    }));
    assert.match(shown.body, /<script>window.__pwned = 1<\/script>/);
    assert.ok(shown.detail.includes(hostileHeader), 'the header is shown as it came, as text');
    assert.equal(shown.images, 0);
    assert.equal(shown.scripts, 1);
    assert.equal(shown.pwned, undefined);

    // A request line that is markup: refused by listen, and shown as text.
    const line = 'POST /x"><img src=x onerror="window.__pwned=4"><script>window.__pwned=5</script> HTTP/1.1';
    await new Promise((resolve) => {
      const socket = net.connect(Number(new URL(l.url).port), '127.0.0.1', () => socket.end(`${line}\r\nHost: x\r\n\r\n`));
      socket.on('close', resolve).on('error', resolve).resume();
    });
    await page.waitForFunction(() => document.querySelectorAll('#rows tr').length === 4);
    await openDetail(page, '#rows tr:first-child');
    const refused = await page.evaluate(() => ({
      row: document.querySelector('#rows tr:first-child').textContent,
      images: document.querySelectorAll('img').length,
      scripts: document.querySelectorAll('script').length,
      pwned: window.__pwned,
    }));
    assert.match(refused.row, /<img src=x onerror=/);
    assert.match(refused.row, /refused/);
    assert.deepEqual([refused.images, refused.scripts, refused.pwned], [0, 1, undefined]);
    await openDetail(page, '#rows tr:nth-child(2)');
    // The genuine one's detail: its signature verified, its token's claims.
    await openDetail(page, '#rows tr:last-child');
    const genuine = await page.$eval('#detail', (d) => d.textContent);
    assert.match(genuine, /entry 1 \(v1a\)verified/);
    assert.match(genuine, /x-epilot-token \(decoded, not verified\)/);
    assert.match(genuine, /org_id739224/);

    // Re-signed from the page: a new request reaches listen and verifies.
    const before = l.events.filter((e) => e.event === 'request' && e.verdict !== 'refused').length;
    await page.click('button[data-action="resign-listen"]');
    await page.waitForFunction(() => /answered 200/.test(document.querySelector('pre.replay-result').textContent));
    await page.waitForFunction(() => document.querySelectorAll('#rows tr').length === 5);
    const requests = l.events.filter((e) => e.event === 'request' && e.verdict !== 'refused');
    assert.equal(requests.length, before + 1);
    assert.equal(requests.at(-1).verdict, 'valid');
    assert.notEqual(requests.at(-1).webhook_id, requests[0].webhook_id, 're-signed with a fresh id');
    assert.equal(await page.$eval('#rows tr:first-child td.verdict', (td) => td.textContent), 'verified');

    // As captured, the same bytes again: listen calls it a replay.
    await page.click('button[data-action="captured-listen"]');
    await page.waitForFunction(() => /answered 409/.test(document.querySelector('pre.replay-result').textContent));

    // Copy as cURL: the command that sends the same request.
    await page.click('button[data-action="curl"]');
    const curl = await page.$eval('pre.replay-result', (pre) => pre.textContent);
    assert.match(curl, /^curl -X POST 'http:\/\/127\.0\.0\.1:\d+\/hook' -H 'host: 127\.0\.0\.1:\d+'/);
    assert.match(curl, /-H 'webhook-id: msg_[0-9a-f]+'/);
    assert.match(curl, /--data-raw '\{/);
    // The command works: the same request reaches listen (a replay of the id).
    const sent = spawnSync('bash', ['-c', curl + ' -s -o /dev/null -w "%{http_code}"'], { encoding: 'utf8' });
    assert.equal(sent.stdout, '409', sent.stderr);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await stop(l);
  }
});

test('copy as cURL sends the body byte for byte: one that starts with @, one with a quote and a NUL, one not UTF-8', async () => {
  const l = await startInspector();
  const { browser, page, errors } = await openPage(l.ui);
  try {
    const bodies = [Buffer.from('@/etc/hostname'), Buffer.from("it's\0here"), Buffer.from([0x7b, 0xff, 0x00, 0x27, 0x7d])];
    for (const [i, body] of bodies.entries()) {
      const id = `msg_curl${i}`;
      const ts = Math.floor(Date.now() / 1000);
      const content = Buffer.concat([Buffer.from(`${id}.${ts}.`), body]);
      const signature = crypto.sign(null, content, keys.privateKey).toString('base64');
      const headers = { 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': `v1a,${signature}` };
      assert.equal((await request(`${l.url}hook`, { method: 'POST', headers, body })).status, 200);
      await page.waitForFunction((n) => document.querySelectorAll('#rows tr').length === n, {}, 2 * i + 1);  // and the replays before
      await openDetail(page, '#rows tr:first-child');
      await page.click('button[data-action="curl"]');
      const command = await page.$eval('pre.replay-result', (pre) => pre.textContent);
      // Sent again, the same bytes under the same signature: a replay (409),
      // not a signature that no longer matches (401).
      const sent = spawnSync('bash', ['-c', command + ' -s -o /dev/null -w "%{http_code}"'], { encoding: 'utf8' });
      assert.equal(sent.stdout, '409', `${command}\n${sent.stderr}`);
    }
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await stop(l);
  }
});

test('the filter and the verdict pick rows on the server; older requests come in pages', async () => {
  const l = await startInspector();
  try {
    assert.equal((await replay(`${l.url}paged`, ['--private-key', keys.privFile, '-n', '130', '-c', '4'])).status, 0);
    await replay(`${l.url}forged/on/a/path/long/enough/to/be/cut/short`, ['--private-key', otherKeys.privFile, '-n', '3']);
    const { browser, page, errors } = await openPage(l.ui);
    try {
      assert.equal(await rowCount(page), 100);
      assert.match(await page.$eval('#count', (e) => e.textContent), /^100 shown, 133 kept$/);
      await page.click('#more');
      await page.waitForFunction(() => document.querySelectorAll('#rows tr').length === 133);
      assert.match(await page.$eval('#count', (e) => e.textContent), /^133 shown, 133 kept$/);

      await page.select('#verdict', 'failed');
      await page.waitForFunction(() => document.querySelectorAll('#rows tr').length === 3);
      await page.select('#verdict', 'all');
      await page.type('#q', '/FORGED');  // a capital letter: exact case, which no path has
      await page.waitForFunction(() => document.querySelectorAll('#rows tr').length === 0);
      await page.$eval('#q', (input) => { input.value = ''; });
      await page.type('#q', '/forged');
      await page.waitForFunction(() => document.querySelectorAll('#rows tr').length === 3);
      // A laptop's window: every column, the app's last, fits the list's pane.
      await page.setViewport({ width: 1400, height: 900 });
      const widths = await page.$eval('#list', (list) => [list.scrollWidth, list.clientWidth]);
      assert.ok(widths[0] <= widths[1], `the list is ${widths[0]} px wide in a ${widths[1]} px pane`);
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
    }
  } finally {
    await stop(l);
  }
});

test('the API: list, one request, capture download, events; bad parameters are 400', async () => {
  const l = await startInspector();
  try {
    const events = [];
    const stream = http.get(`${l.ui}api/events`, (res) => {
      assert.equal(res.headers['content-type'], 'text/event-stream');
      res.on('data', (d) => events.push(String(d)));
    });
    await new Promise((r) => setTimeout(r, 200));
    await replay(`${l.url}hook`, ['--private-key', keys.privFile]);
    const listed = await request(`${l.ui}api/requests?limit=10`);
    // Each guard once (a default header and the service's own are one).
    assert.equal(listed.headers['x-content-type-options'], 'nosniff');
    assert.equal(listed.headers['cross-origin-resource-policy'], 'same-origin');
    assert.equal(listed.headers['cache-control'], 'no-store');
    // What the server does between requests, not cpp-httplib's defaults (5 s, 5).
    assert.equal(listed.headers['keep-alive'], 'timeout=2, max=20');
    const list = JSON.parse(listed.body);
    assert.equal(list.total, 1);
    assert.equal(list.requests[0].verdict, 'valid');
    assert.equal(list.requests[0].seq, 1);
    const one = JSON.parse((await request(`${l.ui}api/requests/1`)).body);
    assert.deepEqual(one.signatures, [{ version: 'v1a', outcome: 'verified' }]);
    assert.equal(one.matched.version, 'v1a');
    assert.equal(JSON.parse(one.body.pretty).type, JSON.parse(one.body.text).type);
    const file = await request(`${l.ui}api/requests/1/capture`);
    assert.match(file.headers['content-disposition'], /attachment; filename="request-1.json"/);
    assert.ok(file.body.includes(list.requests[0].webhook_id));
    // The capture verifies with the tool, as a file of --out would.
    const dir = tmpdir();
    fs.writeFileSync(path.join(dir, 'c.json'), file.body);
    assert.equal(run(['verify', path.join(dir, 'c.json'), '--public-key', keys.pubFile, '--no-timestamp-check']).status, 0);

    for (let i = 0; i < 50 && !events.join('').includes('event: request'); i++) await new Promise((r) => setTimeout(r, 50));
    assert.match(events.join(''), /id: 1\nevent: request\ndata: \{"seq":1,/);

    // A page of another site may not use it (its browser says so).
    const cross = await request(`${l.ui}api/requests`, { headers: { 'Sec-Fetch-Site': 'cross-site' } });
    assert.equal(cross.status, 403);
    assert.equal(JSON.parse(cross.body).error, 'cross_site');
    // At most 8 streams at once; the page's other requests are still served.
    const streams = [];
    for (let i = 0; i < 8; i++) {
      streams.push(await new Promise((resolve) => {
        const req = http.get(`${l.ui}api/events`, (res) => resolve({ req, status: res.statusCode }));
      }));
    }
    assert.deepEqual(streams.slice(0, 7).map((s) => s.status), Array(7).fill(200));
    assert.equal(streams[7].status, 503);
    assert.equal((await request(`${l.ui}api/requests`)).status, 200);
    for (const s of streams) s.req.destroy();
    stream.destroy();

    for (const bad of ['limit=0', 'limit=501', 'before=x', 'verdict=nope', 'colour=red']) {
      const answer = await request(`${l.ui}api/requests?${bad}`);
      assert.equal(answer.status, 400, bad);
      assert.equal(JSON.parse(answer.body).error, 'bad_request');
    }
    assert.equal((await request(`${l.ui}api/requests/99`)).status, 404);
    assert.equal((await request(`${l.ui}nothing`)).status, 404);
    assert.equal((await request(`${l.ui}api/requests`, { method: 'DELETE' })).status, 405);

    // listen stops promptly, and cleanly, with an event stream open.
    const open = http.get(`${l.ui}api/events`, (res) => res.resume());
    open.on('error', () => {});
    await new Promise((r) => setTimeout(r, 100));
    const started = Date.now();
    l.proc.kill('SIGTERM');
    const exit = await l.exited;
    assert.equal(exit.status, 0, exit.stderr);
    assert.ok(Date.now() - started < 5000, `stopped in ${Date.now() - started} ms`);
  } finally {
    await stop(l);
  }
});

test('guards: the Host must be the inspector, a replay needs the page token and origin', async () => {
  const l = await startInspector();
  try {
    await replay(`${l.url}hook`, ['--private-key', keys.privFile]);
    const port = new URL(l.ui).port;
    // DNS rebinding: a name re-pointed at 127.0.0.1 arrives with its own Host.
    for (const host of [`evil.example:${port}`, 'evil.example', `127.0.0.1:${Number(port) + 1}`]) {
      const answer = await request(`${l.ui}`, { headers: { Host: host } });
      assert.equal(answer.status, 403, host);
      assert.equal(JSON.parse(answer.body).error, 'forbidden_host');
    }
    assert.equal((await request(`${l.ui}`, { headers: { Host: `localhost:${port}` } })).status, 200);

    const page = await request(l.ui);
    assert.match(page.headers['content-security-policy'], /default-src 'none'; script-src 'nonce-[0-9a-f]{32}'/);
    assert.equal(page.headers['x-frame-options'], 'DENY');
    const token = /name="inspector-token" content="([0-9a-f]{32})"/.exec(page.body)[1];
    const replayUrl = `${l.ui}api/requests/1/replay`;
    const body = JSON.stringify({ to: 'listen' });
    for (const headers of [{}, { 'X-Inspector-Token': 'f'.repeat(32) },
      { 'X-Inspector-Token': token, Origin: 'http://evil.example' }]) {
      const answer = await request(replayUrl, { method: 'POST', headers, body });
      assert.equal(answer.status, 403, JSON.stringify(headers));
    }
    const ok = await request(replayUrl, { method: 'POST', headers: { 'X-Inspector-Token': token, Origin: `http://127.0.0.1:${port}` }, body });
    assert.equal(ok.status, 200);
    assert.equal(JSON.parse(ok.body).status, 200);
    const noApp = await request(replayUrl, { method: 'POST', headers: { 'X-Inspector-Token': token }, body: JSON.stringify({ to: 'app' }) });
    assert.equal(noApp.status, 409);
    // Each run has its own token.
    const second = await startInspector();
    try {
      const other = /name="inspector-token" content="([0-9a-f]{32})"/.exec((await request(second.ui)).body)[1];
      assert.notEqual(other, token);
    } finally {
      await stop(second);
    }
  } finally {
    await stop(l);
  }
});

test('a client of the inspector that sends a byte at a time does not hold listen when it stops', { timeout: 20000 }, async () => {
  const l = await startInspector();
  const port = Number(new URL(l.ui).port);
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => {});
  await new Promise((r) => socket.on('connect', r));
  socket.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n`);
  const drip = setInterval(() => socket.write('X'), 300);  // a header that never ends, well within the read timeout
  try {
    await new Promise((r) => setTimeout(r, 500));
    const started = Date.now();
    l.proc.kill('SIGTERM');
    const exit = await l.exited;
    assert.equal(exit.status, 0, exit.stderr);
    assert.ok(Date.now() - started < 3000, `stopped in ${Date.now() - started} ms`);
  } finally {
    clearInterval(drip);
    socket.destroy();
  }
});

// A process's peak resident memory (VmHWM), in bytes.
function peakBytes(pid) {
  return Number(/VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) * 1024;
}

// Send `head`, then `next()`'s bytes for as long as the inspector reads them,
// up to `limit` bytes in all; resolves with what was sent, whether the
// inspector closed the connection within a second, and what it answered.
function flood(port, head, next, limit) {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let sent = 0;
    let closed = false;
    let answer = '';
    socket.on('error', () => {});
    socket.on('data', (d) => { answer += d.toString('latin1'); });
    socket.on('close', () => { closed = true; });
    socket.on('connect', async () => {
      socket.write(head);
      while (sent < limit && !closed) {
        const chunk = next();
        sent += chunk.length;
        if (!socket.write(chunk)) {
          await new Promise((r) => { socket.once('drain', r); socket.once('close', r); });
        }
      }
      await new Promise((r) => setTimeout(r, 1000));  // room for a loaded machine (the dripped request takes 10 s anyway)
      socket.destroy();
      resolve({ sent, cutOff: closed, answer });
    });
  });
}

test('what one client may send the inspector is bounded: an endless header, an endless chunked body, a dripped request, a Range of many parts', { timeout: 30000 }, async () => {
  const l = await startInspector();
  const port = Number(new URL(l.ui).port);
  const host = `Host: 127.0.0.1:${port}\r\n`;
  const mib = 1 << 20;
  const peakAtStart = peakBytes(l.proc.pid);
  try {
    const dripped = new Promise((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      const started = Date.now();
      let drip;
      socket.on('error', () => {});
      socket.on('close', () => { clearInterval(drip); resolve(Date.now() - started); });
      socket.on('connect', () => {
        socket.write(`GET /api/info HTTP/1.1\r\n${host}X-Slow: `);
        drip = setInterval(() => socket.write('x'), 250);  // each byte well within the read timeout
      });
    });
    const header = await flood(port, `GET /api/info HTTP/1.1\r\n${host}X-Long: `, () => 'a'.repeat(mib), 256 * mib);
    const chunked = await flood(port, `POST /api/requests/1/replay HTTP/1.1\r\n${host}Transfer-Encoding: chunked\r\n\r\n`,
      () => `100000\r\n${'a'.repeat(mib)}\r\n`, 256 * mib);
    // Cut off once the request's allowance is spent: what was sent past it is
    // what the sockets' buffers took.
    assert.ok(header.cutOff && header.sent < 32 * mib, `endless header: ${header.sent} sent, cut off: ${header.cutOff}`);
    assert.ok(chunked.cutOff && chunked.sent < 32 * mib, `endless chunked body: ${chunked.sent} sent, cut off: ${chunked.cutOff}`);
    // A compressed body would be inflated past every limit: refused unread,
    // and the connection ends with the answer.
    const gzipped = await flood(port, `POST /api/requests/1/replay HTTP/1.1\r\n${host}Content-Encoding: gzip\r\n` +
      `Content-Length: 20\r\n\r\n${'z'.repeat(20)}GET /api/info HTTP/1.1\r\n${host}\r\n`, () => '', 0);
    assert.match(gzipped.answer, /^HTTP\/1\.1 415 /);
    assert.match(gzipped.answer, /\r\nCross-Origin-Resource-Policy: same-origin\r\n/, 'the guards hold on cpp-httplib\'s own answers');
    assert.match(gzipped.answer, /\r\nX-Content-Type-Options: nosniff\r\n/);
    assert.equal(gzipped.answer.match(/HTTP\/1\.1/g).length, 1, `nothing after the 415: ${gzipped.answer}`);
    assert.ok(gzipped.cutOff, 'the connection ends with the 415');
    // Each range of a Range header would be a copy of the answer (2,600 of
    // the page, tens of megabytes): the header is ignored.
    const whole = await request(l.ui);
    const ranged = await request(l.ui, { headers: { Range: 'bytes=' + Array(2600).fill('0-').join(',') } });
    assert.equal(ranged.status, 200);
    assert.equal(ranged.body.length, whole.body.length);
    // listen's peak memory grew by little (the old module took the header
    // whole: 256 MiB). Growth, not the peak: under ASan listen starts at
    // about 200 MB.
    const grown = peakBytes(l.proc.pid) - peakAtStart;
    assert.ok(grown < 32 * mib, `listen's peak memory grew by ${grown} bytes`);
    // A request has 10 s from its first byte, however its bytes trickle.
    const held = await dripped;
    assert.ok(held >= 9000 && held < 20000, `a dripped request was held ${held} ms`);
    assert.equal((await request(`${l.ui}api/info`)).status, 200, 'the inspector still answers');
  } finally {
    await stop(l);
  }
});

test('a default key that cannot be read costs the v1a re-signing, not the inspector', () => {
  const config = tmpdir();
  fs.mkdirSync(path.join(config, 'epilot-action'), { recursive: true });
  fs.writeFileSync(path.join(config, 'epilot-action', 'private-key.pem'), 'not a key', { mode: 0o600 });
  const r = run(['listen', '--port', '0', '--ui', '0', '--public-key', keys.pubFile, '--duration', '300ms'], { config });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /epilot-action: warning: the inspector re-signs no v1a replay: /);
  assert.match(r.stdout, /inspector on http/);
  // Named on the command line, a bad key is an error.
  const bad = path.join(config, 'bad.pem');
  fs.writeFileSync(bad, 'not a key', { mode: 0o600 });
  const named = run(['listen', '--port', '0', '--ui', '0', '--public-key', keys.pubFile, '--private-key', bad, '--duration', '300ms']);
  assert.equal(named.status, 2);
});

test('without its module, --ui is an error that says so; listen without --ui still runs', () => {
  const dir = tmpdir();
  const bin = path.join(dir, 'epilot-action');
  fs.copyFileSync(process.env.EPILOT_ACTION_BIN ?? 'build/epilot-action', bin);
  fs.chmodSync(bin, 0o755);
  const r = spawnSync(bin, ['listen', '--port', '0', '--ui', '0', '--public-key', keys.pubFile], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /epilot-action: error: the web inspector's module cannot be loaded: no .*epilot-action-ui\.so/);
  assert.match(r.stderr, /listen works without --ui/);
  const plain = spawnSync(bin, ['listen', '--port', '0', '--public-key', keys.pubFile, '--duration', '200ms'], { encoding: 'utf8' });
  assert.equal(plain.status, 0, plain.stderr);
});

test('the text ready lines say where the inspector is', () => {
  const r = run(['listen', '--port', '0', '--ui', '0', '--public-key', keys.pubFile, '--duration', '300ms']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^listening on http:\/\/127\.0\.0\.1:\d+\/\ninspector on http:\/\/127\.0\.0\.1:\d+\/\n/);
});

test('an error after the inspector started ends listen at once (exit 2)', () => {
  const started = Date.now();
  const r = run(['listen', '--port', '0', '--ui', '0', '--public-key', keys.pubFile, '--out', '/nonexistent/dir/x.jsonl']);
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /epilot-action: error: .*\/nonexistent\/dir/);
  assert.ok(Date.now() - started < 5000);
});

test('--private-key without --ui is refused; a taken --ui port is an error', async () => {
  const r = run(['listen', '--private-key', keys.privFile, '--port', '0']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /epilot-action: error: listen's --private-key is what the web inspector \(--ui\) re-signs/);
  const l = await startInspector();
  try {
    const port = new URL(l.ui).port;
    const taken = run(['listen', '--port', '0', '--ui', port, '--public-key', keys.pubFile, '--duration', '1s']);
    assert.equal(taken.status, 2);
    assert.match(taken.stderr, /epilot-action: error: the web inspector cannot listen on 127\.0\.0\.1:\d+/);
  } finally {
    await stop(l);
  }
  const same = run(['listen', '--port', '4777', '--ui', '4777', '--public-key', keys.pubFile, '--duration', '1s']);
  assert.equal(same.status, 2);
  assert.match(same.stderr, /epilot-action: error: --ui and --port are the same port/);
});

test('a re-signing key whose public key listen does not trust is warned of at the start', async () => {
  const untrusted = await startListenProcess(['--ui', '0', '--public-key', keys.pubFile, '--private-key', otherKeys.privFile]);
  const trusted = await startListenProcess(['--ui', '0', '--public-key', keys.pubFile, '--private-key', keys.privFile]);
  const [u, t] = await Promise.all([stop(untrusted), stop(trusted)]);
  assert.match(u.stderr, /epilot-action: warning: the inspector re-signs v1a replays with .*key\.pem, whose public key listen does not trust/);
  assert.doesNotMatch(t.stderr, /does not trust/);
});

test('the tool does not load cpp-httplib: only the inspector module does', () => {
  const bin = process.env.EPILOT_ACTION_BIN ?? 'build/epilot-action';
  const needed = (file) => {
    const r = spawnSync('readelf', ['-d', file], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.includes('libcpp-httplib.so');
  };
  assert.equal(needed(bin), false, 'the binary names libcpp-httplib');
  assert.equal(needed(path.join(path.dirname(bin), 'epilot-action-ui.so')), true, 'the module links libcpp-httplib');
});
