// Shared by the CLI suites: run the real binary in an isolated environment.
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const BIN = path.resolve(process.env.EPILOT_ACTION_BIN ?? 'build/epilot-action');
export const FIXTURES = process.env.EPILOT_FIXTURES_DIR ?? path.resolve('fixtures');

// A fresh directory per call; removed when the process exits.
const dirs = [];
process.on('exit', () => { for (const d of dirs) fs.rmSync(d, { recursive: true, force: true }); });
export function tmpdir() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'epilot-cli-'));
  dirs.push(dir);
  return dir;
}

// Every run gets its own config home and no inherited secret, so a
// developer's own keys or environment can never make a test pass.
function environment({ env = {}, config, cache }) {
  const base = { ...process.env };
  // Every variable the tool reads stands in for a flag: none may leak in.
  for (const name of Object.keys(base)) if (name.startsWith('EPILOT_ACTION_') && name !== 'EPILOT_ACTION_BIN') delete base[name];
  delete base.NO_COLOR;
  return { ...base, XDG_CONFIG_HOME: config ?? tmpdir(), XDG_CACHE_HOME: cache ?? tmpdir(), ...env };
}

export function run(args, { input, env, cwd, config, cache } = {}) {
  const r = spawnSync(BIN, args, {
    input,
    cwd,
    env: environment({ env, config, cache }),
    maxBuffer: 256 * 1024 * 1024,
  });
  if (r.error) throw r.error;
  return { status: r.status, signal: r.signal, stdout: r.stdout.toString(), stderr: r.stderr.toString(), raw: r.stdout };
}

// The same, without blocking the event loop: for tests that also serve HTTP.
export function runAsync(args, { input, env, config, cache } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(BIN, args, { env: environment({ env, config, cache }) });
    const out = [];
    const err = [];
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => err.push(d));
    child.on('error', reject);
    // The binary may exit before it reads stdin (most commands never do):
    // writing to the closed pipe then fails with EPIPE, which is not a test failure.
    child.stdin.on('error', (e) => { if (e.code !== 'EPIPE') reject(e); });
    child.on('close', (status, signal) =>
      resolve({ status, signal, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }));
    child.stdin.end(input ?? '');
  });
}

// Start `listen` on a free port with `args`; resolves once it printed its
// ready line, with the URL, the process, its JSON events (and `lines`, the
// same as printed) and its exit.
export function startListenProcess(args) {
  const proc = spawn(BIN, ['listen', '--port', '0', '--format', 'json', ...args], {
    env: { ...process.env, XDG_CONFIG_HOME: tmpdir(), XDG_CACHE_HOME: tmpdir() },
  });
  const events = [];
  const lines = [];
  let buffer = '';
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise((resolve) => proc.on('close', (status, signal) => resolve({ status, signal, stderr })));
  return new Promise((resolve, reject) => {
    proc.stdout.on('data', (d) => {
      buffer += d;
      let nl;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        const event = JSON.parse(line);
        buffer = buffer.slice(nl + 1);
        lines.push(line);
        events.push(event);
        if (event.event === 'ready') resolve({ url: event.url, proc, events, lines, exited });
      }
    });
    exited.then((r) => reject(new Error(`listen exited early: ${r.status} ${r.stderr}`)));
  });
}

// Keys of the test's own, made by Node's crypto (not by the tool under test):
// an Ed25519 pair as PEM files (the private one 0600) and a whsec_ secret with its file.
export function testKeys() {
  const dir = tmpdir();
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ed25519');
  const privFile = path.join(dir, 'key.pem');
  const pubFile = path.join(dir, 'pub.pem');
  fs.writeFileSync(privFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  fs.writeFileSync(pubFile, publicKey.export({ type: 'spki', format: 'pem' }));
  const secret = 'whsec_' + crypto.randomBytes(32).toString('base64');
  const secretFile = path.join(dir, 'secret');
  fs.writeFileSync(secretFile, secret + '\n', { mode: 0o600 });
  return { dir, privateKey, publicKey, privFile, pubFile, secret, secretFile };
}

export function fixture(rel) { return path.join(FIXTURES, rel); }

// Parse a vector file (fixtures/vectors/README.md).
export function readVector(file) {
  const data = fs.readFileSync(file);
  const split = data.indexOf('\n\n');
  const fields = {};
  for (const line of data.subarray(0, split).toString().split('\n')) {
    const colon = line.indexOf(':');
    const key = line.slice(0, colon);
    const value = line.slice(colon + 1).replace(/^ /, '');
    (fields[key] ??= []).push(value);
  }
  return { name: path.basename(file, '.txt'), fields, body: data.subarray(split + 2) };
}

// Assert the diagnostics grammar: every stderr line is prefixed, errors lowercase.
export function checkStderrGrammar(assert, stderr) {
  for (const line of stderr.split('\n').filter(Boolean)) {
    assert.match(line, /^epilot-action: (error|hint|warning|wrote)/, `stderr line: ${line}`);
  }
  const err = stderr.match(/^epilot-action: error: (.*)$/m);
  if (err) {
    assert.doesNotMatch(err[1], /^[A-Z]/, 'error messages start lowercase');
    assert.doesNotMatch(err[1], /\.$/, 'error messages end without a period');
  }
}
