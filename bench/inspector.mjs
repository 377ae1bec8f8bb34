// The web inspector with 100,000 requests kept against the same with 10, in
// one run and one browser: the page loaded to its first rows, a text filter
// that matches nothing (the server reads every request kept), a request's
// detail opened, and listen's memory. Alternating runs; medians.
// Usage: node bench/inspector.mjs BIN RUNS   (bench/inspector runs it)
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';

const [bin, runsText] = process.argv.slice(2);
const runs = Number(runsText ?? 10);
const require = createRequire(path.resolve('tests/cli/package.json'));
const puppeteer = require('puppeteer-core');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-inspector-'));
const env = { ...process.env, XDG_CONFIG_HOME: work, XDG_CACHE_HOME: work };
spawnSync(bin, ['keygen', '--private-key', `${work}/k.pem`, '--public-key', `${work}/k.pub.pem`], { env });

function startListen() {
  const proc = spawn(bin, ['listen', '--port', '0', '--ui', '0', '--public-key', `${work}/k.pub.pem`, '--format', 'json', '-q'],
    { env, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve) => proc.stdout.once('data', (d) => resolve({ proc, ...JSON.parse(String(d).split('\n')[0]) })));
}

function fill(listen, n) {
  const r = spawnSync(bin, ['replay', '--url', `${listen.url}hook`, '--private-key', `${work}/k.pem`, '-n', String(n), '-c', '16', '-q'],
    { env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
}

const rssMb = (pid) => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function measure(browser, listen, rows) {
  const page = await browser.newPage();
  let t = performance.now();
  await page.goto(listen.ui);
  await page.waitForFunction((n) => document.querySelectorAll('#rows tr').length === n, { polling: 'mutation' }, rows);
  const load = performance.now() - t;
  t = performance.now();
  await page.evaluate(() => { const q = document.querySelector('#q'); q.value = 'no request has this'; q.dispatchEvent(new Event('input')); });
  await page.waitForFunction(() => document.querySelectorAll('#rows tr').length === 0, { polling: 'mutation' });
  const filter = performance.now() - t - 200;  // the page waits 200 ms after the last key
  await page.evaluate(() => { const q = document.querySelector('#q'); q.value = ''; q.dispatchEvent(new Event('input')); });
  await page.waitForFunction((n) => document.querySelectorAll('#rows tr').length === n, {}, rows);
  const seq = await page.$eval('#rows tr:last-child', (tr) => tr.dataset.seq);
  t = performance.now();
  await page.click('#rows tr:last-child');
  await page.waitForFunction((s) => document.querySelector('#detail').dataset.seq === s, { polling: 'mutation' }, seq);
  const detail = performance.now() - t;
  await page.close();
  return { load, filter, detail };
}

const small = await startListen();
const large = await startListen();
try {
  fill(small, 10);
  const t = performance.now();
  fill(large, 100000);
  console.log(`filled: 100,000 requests in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  const browser = await puppeteer.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', headless: true,
    args: ['--no-sandbox', '--disable-gpu'] });
  const results = { small: [], large: [] };
  for (let i = 0; i < runs; i++) {
    results.small.push(await measure(browser, small, 10));
    results.large.push(await measure(browser, large, 100));
  }
  await browser.close();
  const row = (name, key) => {
    const a = median(results.small.map((r) => r[key]));
    const b = median(results.large.map((r) => r[key]));
    console.log(`${name.padEnd(34)} ${a.toFixed(1).padStart(8)} ms ${b.toFixed(1).padStart(9)} ms ${(b / a).toFixed(2).padStart(7)}x`);
  };
  console.log(`median of ${runs} alternating runs          10 kept   100,000 kept   ratio`);
  row('page loaded, first rows shown', 'load');
  row('text filter matching nothing', 'filter');
  row('a request opened', 'detail');
  console.log(`listen's resident memory: ${rssMb(small.proc.pid).toFixed(1)} MB with 10, ${rssMb(large.proc.pid).toFixed(1)} MB with 100,000`);
  console.log('target: the page as quick with 100,000 as with 10 (paged from the server: at most 100 rows in the page)');
} finally {
  small.proc.kill();
  large.proc.kill();
  fs.rmSync(work, { recursive: true, force: true });
}
